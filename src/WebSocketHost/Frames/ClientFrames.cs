using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.History;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Messages.Typing;
using Rooms.Application.Membership.Identify;
using Rooms.Application.Membership.QueryRoom;
using Rooms.Application.Sessions;

namespace Rooms.WebSocketHost.Frames;

/// <summary>
/// The client frames of the protocol (docs/protocol.md), one row each: the <c>type</c>, the request the frame asks
/// for, and how the handler's reply is written. The type reader, the translation and the "expected ..." error all
/// come from this table; adding a command is a request, its handler (and validator) and a row here.
/// </summary>
internal static class ClientFrames
{
    public static readonly ClientFrameType[] All =
    [
        // Identify's room reply is queued by the room hub, before the room's traffic: nothing more to write.
        ClientFrameType.Of("identify", (f, s) => new IdentifyCommand(s, f.DeviceId, f.Identity, f.RoomId, f.Token), (RoomAssignedDto _) => null),
        ClientFrameType.Of("message", (f, s) => new SendMessageCommand(s, f.Content, f.TargetDeviceId, f.Timestamp, f.Id), (SendReceiptDto r) => r.Ack is { } ack ? FrameWriter.Ack(ack) : null),
        ClientFrameType.Of("query_room", (_, s) => new QueryRoomQuery(s), FrameWriter.RoomInfo),
        ClientFrameType.Of("history", (f, s) => new HistoryQuery(s, f.AfterMessageId, f.Limit, f.BeforeMessageId, f.Latest), FrameWriter.History),
        ClientFrameType.Of("typing", (_, s) => new TypingCommand(s), FrameWriter.Reply<TypingSentDto>("typing_sent")),
    ];

    private static readonly Dictionary<string, ClientFrameType> ByName = All.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The types an identified client may send, for the errors about a frame without one or with an unknown one.</summary>
    public static readonly string ExpectedTypes =
        "expected " + string.Join(", ", All.Skip(1).SkipLast(1).Select(t => $"\"{t.Name}\"")) + $" or \"{All[^1].Name}\"";

    public static readonly string MissingType = "Missing 'type': " + ExpectedTypes;

    public static ClientFrameType? Find(string type) => ByName.GetValueOrDefault(type);
}

/// <summary>One row of <see cref="ClientFrames"/>.</summary>
internal abstract class ClientFrameType(string name)
{
    public string Name { get; } = name;

    /// <summary>The name in UTF-8, to recognise it in a frame without allocating a string.</summary>
    public byte[] Utf8Name { get; } = System.Text.Encoding.UTF8.GetBytes(name);

    /// <param name="reply">Writes the handler's value as the frame the client gets back; null: nothing to send.</param>
    public static ClientFrameType Of<TValue>(string name, Func<ClientFrame, ClientSession, IRequest<Result<TValue>>> request, Func<TValue, byte[]?> reply) =>
        new Row<TValue>(name, request, reply);

    public Translation Translate(ClientFrame frame, ClientSession session) => new(Create(frame, session), null, this);

    /// <summary>Sends the request through the mediator; its result becomes the reply frame or the error.</summary>
    public abstract Task<Outcome> DispatchAsync(IMediator mediator, IBaseRequest request);

    protected abstract IBaseRequest Create(ClientFrame frame, ClientSession session);

    private sealed class Row<TValue>(string name, Func<ClientFrame, ClientSession, IRequest<Result<TValue>>> request, Func<TValue, byte[]?> reply)
        : ClientFrameType(name)
    {
        public override async Task<Outcome> DispatchAsync(IMediator mediator, IBaseRequest request)
        {
            var result = await mediator.Send((IRequest<Result<TValue>>)request, CancellationToken.None);
            return result.Error is { } error ? new Outcome(error, null) : new Outcome(null, reply(result.Value!));
        }

        protected override IBaseRequest Create(ClientFrame frame, ClientSession session) => request(frame, session);
    }
}
