namespace Rooms.Application.Ports;

public interface IClock
{
    DateTime UtcNow { get; }
}
