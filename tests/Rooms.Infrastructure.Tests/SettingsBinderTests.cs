using Microsoft.Extensions.Configuration;
using Rooms.Infrastructure.Configuration;

namespace Rooms.Infrastructure.Tests;

public sealed class SettingsBinderTests
{
    [Fact]
    public void AListGivenAsOneCommaSeparatedValue_BindsEveryItem()
    {
        // Rooms__TrustedProxies=10.0.0.5, 10.0.0.0/24 in the environment; the binder alone ignored it and kept the default.
        var settings = Bind(new() { ["S:Items"] = "10.0.0.5, 10.0.0.0/24" });

        Assert.Equal(["10.0.0.5", "10.0.0.0/24"], settings.Items);
    }

    [Fact]
    public void AListGivenIndexed_StillBinds_AndUnsetKeepsTheDefault()
    {
        Assert.Equal(["a", "b"], Bind(new() { ["S:Items:0"] = "a", ["S:Items:1"] = "b" }).Items);
        Assert.Empty(Bind([]).Items);
    }

    [Fact]
    public void ALongThatIsNotANumber_RefusedWithOneLineNamingIt()
    {
        var refused = Assert.Throws<InvalidSettingException>(() => Bind(new() { ["S:Bytes"] = "lots" }));

        Assert.Equal("S:Bytes must be a whole number (got 'lots')", refused.Message);
    }

    private static Sample Bind(Dictionary<string, string?> values) =>
        SettingsBinder.Bind<Sample>(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), "S");

    public sealed class Sample
    {
        public string[] Items { get; set; } = [];

        public long Bytes { get; set; }
    }
}
