using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Sessions;

namespace Rooms.Application.Connections.Disconnect;

/// <summary>Sent by the host when a connection ends, however it ends.</summary>
public sealed record DisconnectCommand(ClientSession Session) : IRequest<Result<bool>>;
