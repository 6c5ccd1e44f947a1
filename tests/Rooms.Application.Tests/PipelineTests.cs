using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership.QueryRoom;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;

namespace Rooms.Application.Tests;

/// <summary>The hand-wired MediatR 5 pipeline: requests reach their handlers through the validation behavior.</summary>
public sealed class PipelineTests
{
    private readonly Mock<IMessageStore> _store = new();
    private readonly Mock<IRoomRepository> _repository = new();
    private readonly Mock<IPresence> _presence = new();

    private IMediator Mediator()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddApplication(new ProtocolSettings());
        services.AddSingleton(_store.Object);
        services.AddSingleton(_repository.Object);
        services.AddSingleton(_presence.Object);
        services.AddSingleton(Mock.Of<IRoomHub>());
        services.AddSingleton(Mock.Of<IMessageHistory>());
        services.AddSingleton(TestData.Node);
        services.AddSingleton<TimeProvider>(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestData.Now));
        services.AddSingleton(Mock.Of<IConnectionCloseRetries>());
        services.AddSingleton(Mock.Of<IClientLimits>());
        services.AddSingleton(Mock.Of<IDeviceAuthenticator>());
        services.AddSingleton<System.Diagnostics.Metrics.IMeterFactory, TestData.TestMeterFactory>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }).GetRequiredService<IMediator>();
    }

    [Fact]
    public async Task Send_InvalidMessage_StopsAtValidationWithFieldError()
    {
        var result = await Mediator().Send(new SendMessageCommand(TestData.IdentifiedSession("a"), "", null, null));

        Assert.StartsWith("'content'", result.Error);
        _store.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Send_ValidMessage_ReachesHandler()
    {
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>())).ReturnsAsync(new StoredMessage(new MessageId(5), new MessageId(4)));

        var result = await Mediator().Send(new SendMessageCommand(TestData.IdentifiedSession("a"), "hello", null, null));

        Assert.Equal(5, result.Value!.MessageId);
    }

    [Fact]
    public async Task Send_QueryBeforeIdentify_IdentifyFirst()
    {
        var result = await Mediator().Send(new QueryRoomQuery(TestData.NewSession()));

        Assert.Equal(FieldRules.IdentifyFirst, result.Error);
        _repository.VerifyNoOtherCalls();
    }

    [Fact]
    public void MappingConfiguration_IsValid() => MappingConfiguration.Create().AssertConfigurationIsValid();
}
