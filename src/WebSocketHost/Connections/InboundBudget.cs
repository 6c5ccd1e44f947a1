namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// What one connection may send: frames per second and bytes per second, each a token bucket refilled by the clock
/// (no timer). The client is charged by its own clock, not the server's: while the server is busy with this
/// connection's frame (a database stall, a slow commit), the client's next frames wait unread in the socket, so the
/// refill earned meanwhile may exceed the burst (<see cref="ServerBusy"/>); once the connection has nothing waiting
/// (<see cref="CaughtUp"/>) that allowance lapses. A client within the limit on its own clock is never refused because
/// the server fell behind, and one over it still gets no more than the rate.
/// </summary>
internal sealed class InboundBudget(int framesPerSecond, int frameBurst, int bytesPerSecond, int byteBurst)
{
    private Bucket _frames = new(frameBurst, frameBurst);
    private Bucket _bytes = new(byteBurst, byteBurst);
    private long _refilledAt = Environment.TickCount64;

    /// <summary>Takes one frame of <paramref name="bytes"/>; false (nothing taken) when either bucket is short.</summary>
    public bool TryTake(int bytes)
    {
        Refill();
        if (_frames.Tokens < 1 || _bytes.Tokens < bytes)
        {
            return false;
        }

        _frames.Tokens--;
        _bytes.Tokens -= bytes;
        return true;
    }

    /// <summary>The server spent <paramref name="elapsed"/> on this connection's frame: what refills meanwhile is the client's.</summary>
    public void ServerBusy(TimeSpan elapsed)
    {
        // The cap first: the refill that follows covers the busy time, and must not be cut to the burst.
        _frames.Cap += framesPerSecond * elapsed.TotalSeconds;
        _bytes.Cap += bytesPerSecond * elapsed.TotalSeconds;
        Refill();
    }

    /// <summary>The connection has no frame waiting: its backlog is read, and the allowance for it lapses.</summary>
    public void CaughtUp()
    {
        Refill();
        _frames = _frames.Reset(frameBurst);
        _bytes = _bytes.Reset(byteBurst);
    }

    private void Refill()
    {
        var now = Environment.TickCount64;
        var seconds = (now - _refilledAt) / 1000.0;
        _refilledAt = now;
        _frames.Tokens = Math.Min(_frames.Cap, _frames.Tokens + (framesPerSecond * seconds));
        _bytes.Tokens = Math.Min(_bytes.Cap, _bytes.Tokens + (bytesPerSecond * seconds));
    }

    private record struct Bucket(double Tokens, double Cap)
    {
        public readonly Bucket Reset(int burst) => new(Math.Min(Tokens, burst), burst);
    }
}
