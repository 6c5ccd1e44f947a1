using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Rooms.Application.Connections.Disconnect;
using Rooms.Application.Ports;

namespace Rooms.Application.Tests;

public sealed class DisconnectHandlerTests
{
    private readonly Mock<IRoomRepository> _repository = new();
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IClock> _clock = new();

    public DisconnectHandlerTests() => _clock.Setup(c => c.UtcNow).Returns(TestData.Now);

    private DisconnectHandler Handler() => new(_repository.Object, _presence.Object, _clock.Object, NullLogger<DisconnectHandler>.Instance);

    [Fact]
    public async Task Handle_IdentifiedSession_LeavesRoomAndClosesRow()
    {
        var session = TestData.IdentifiedSession("alice", connectionRowId: 77);

        var result = await Handler().Handle(new DisconnectCommand(session), CancellationToken.None);

        Assert.True(result.Value);
        _presence.Verify(p => p.LeaveAsync("ABC123", session.Member!, It.IsAny<CancellationToken>()));
        _repository.Verify(r => r.CloseConnectionAsync(77, TestData.Now, It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Handle_UnidentifiedSession_TouchesNothing()
    {
        var result = await Handler().Handle(new DisconnectCommand(TestData.NewSession()), CancellationToken.None);

        Assert.False(result.Value);
        _presence.VerifyNoOtherCalls();
        _repository.VerifyNoOtherCalls();
    }
}
