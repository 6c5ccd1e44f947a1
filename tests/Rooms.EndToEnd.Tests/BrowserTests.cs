using Microsoft.Playwright;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The browser client and the dashboard in a real headless Chromium (Debian's, which test.sh installs;
/// Playwright drives it through ExecutablePath, nothing is downloaded). Screenshots land in
/// TestResults/screenshots as artifacts.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(RepositoryRoot.Path, "TestResults", "screenshots");

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await RoomsServer.StartAsync(_database);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task TwoClientPagesChat_BroadcastAndDirect_DashboardShowsTheRoomAndTheCount()
    {
        var alice = await OpenClientAsync("/client", "alice");
        await Assertions.Expect(alice.Locator("#status")).ToHaveTextAsync("created_new");
        var roomId = await alice.Locator("#roomId").InputValueAsync();
        var bob = await OpenClientAsync($"/client?room={roomId}", "bob");
        await Assertions.Expect(bob.Locator("#status")).ToHaveTextAsync("joined_existing");

        await alice.FillAsync("#broadcastText", "hello from alice");
        await alice.ClickAsync("#broadcast button");
        await Assertions.Expect(bob.Locator("#messages")).ToContainTextAsync("alice: hello from alice");

        await Assertions.Expect(bob.Locator("#target option")).ToHaveCountAsync(1);
        await bob.SelectOptionAsync("#target", "alice");
        await bob.FillAsync("#directText", "just for you");
        await bob.ClickAsync("#direct button");
        await Assertions.Expect(alice.Locator("#messages")).ToContainTextAsync("bob (direct): just for you");
        await Assertions.Expect(alice.Locator("#log")).ToContainTextAsync("\"type\":\"ack\"");
        await Assertions.Expect(alice.Locator("#messages .sent")).ToContainTextAsync("me: hello from alice (stored as #");

        // Rejected by the server: the error carries the message's id, and the page marks that message as not sent.
        await alice.FillAsync("#broadcastText", new string('x', 17_000));
        await alice.ClickAsync("#broadcast button");
        await Assertions.Expect(alice.Locator("#messages .failed")).ToContainTextAsync("… (17000 characters) — not sent: 'content' must be at most 16384 characters");
        Assert.True((await alice.Locator("#messages .failed").InnerTextAsync()).Length < 400, "a rejected long message is shown cut, not whole");

        // Room ids up to the protocol's 32 characters fit the field (Rooms:RoomIdLength may make them longer than 6).
        Assert.Equal("32", await alice.Locator("#roomId").GetAttributeAsync("maxlength"));

        // Latest history shows what this page has not seen yet, newest messages, no repeats.
        await bob.ClickAsync("#history");
        await Assertions.Expect(bob.Locator("#messages .history")).ToContainTextAsync("nothing you have not seen");
        await alice.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "client-alice.png") });
        await bob.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "client-bob.png") });

        var admin = await _browser.NewPageAsync();
        await admin.GotoAsync(new Uri(_server.BaseUri, "/admin").ToString());
        await Assertions.Expect(admin.Locator("#rooms")).ToContainTextAsync(roomId);
        await Assertions.Expect(admin.Locator("#rooms tr")).ToHaveCountAsync(2);
        await Assertions.Expect(admin.Locator("#stored")).ToHaveTextAsync("2");

        await alice.FillAsync("#broadcastText", "one more");
        await alice.ClickAsync("#broadcast button");
        await Assertions.Expect(admin.Locator("#stored")).ToHaveTextAsync("3", new LocatorAssertionsToHaveTextOptions { Timeout = 10_000 });
        await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "admin.png") });
    }

    private async Task<IPage> OpenClientAsync(string path, string deviceId)
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseUri, path).ToString());
        await page.FillAsync("#deviceId", deviceId);
        await page.ClickAsync("#connect");
        return page;
    }
}
