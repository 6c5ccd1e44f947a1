namespace Rooms.WebSocketHost;

/// <summary>
/// Closed while the node starts (listening already, database not yet prepared): devices are turned away
/// with 503 and a Retry-After, so nothing is stored before the start-up sweep has run.
/// </summary>
public sealed class ReadinessGate
{
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsOpen => _opened.Task.IsCompleted;

    /// <summary>Completes when the node is ready: background work that needs the prepared database waits for it.</summary>
    public Task WhenOpen => _opened.Task;

    public void Open() => _opened.TrySetResult();

    public static Task RefuseAsync(HttpContext context) =>
        Connections.Admission.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Rooms is starting; try again in a moment.", retryAfterSeconds: 1);
}
