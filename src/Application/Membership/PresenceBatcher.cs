using System.Collections.Concurrent;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Membership;

/// <summary>
/// Coalesces each room's presence changes (<see cref="ProtocolSettings.PresenceWindow"/>): a change in a quiet room
/// goes out at once, in the single-event form clients have always had (<c>"event":"joined"</c>), and opens a window;
/// the changes that follow within the window go out together when it ends, as one frame per member, so a room of
/// n that n devices join (or rejoin after a reconnect storm) costs n frames per window instead of n per join. Only
/// the net change of each device counts: one that joins and leaves (or leaves and comes back) within a window
/// appears in neither list, and a window that holds one net change sends it in the single-event form. The window
/// stays open while changes keep coming and closes after one without any. A big room's window is longer: one
/// window per <see cref="MembersPerWindow"/> members here (at most <see cref="MaxWindows"/>), so a room sends at most
/// about <see cref="MembersPerWindow"/> presence frames per window whatever its size (measured: with 100 ms for every
/// room, 10 000 devices joining one room took 121 s, its members receiving 7 million frames). Each node batches the
/// changes it makes, so every change still goes out once, also on a cluster. A window of zero sends every change at once.
/// </summary>
public sealed class PresenceBatcher : IDisposable
{
    public const int MembersPerWindow = 1000;
    public const int MaxWindows = 20;

    private readonly IRoomHub _hub;
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly ConcurrentDictionary<RoomId, RoomWindow> _windows = new();
    private readonly ITimer? _timer;
    private int _flushing;

    public PresenceBatcher(IRoomHub hub, ProtocolSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        _hub = hub;
        _time = time;
        _window = settings.PresenceWindow;
        if (settings.PresenceWindow > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(_ => Flush(), null, settings.PresenceWindow, settings.PresenceWindow);
        }
    }

    /// <summary>A device joined or left the room.</summary>
    public void Add(PresenceChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (_timer is null)
        {
            _hub.SendPresence(change.RoomId, change.Member.DeviceId, change.ToDto());
            return;
        }

        while (true)
        {
            var window = _windows.GetOrAdd(change.RoomId, static _ => new RoomWindow());
            lock (window)
            {
                if (window.Closed)
                {
                    continue; // The flush just closed it: open a new one.
                }

                if (window.Opened)
                {
                    window.Add(change);
                }
                else
                {
                    // Sent under the window's lock, so the window's later changes cannot overtake it.
                    window.Opened = true;
                    _hub.SendPresence(change.RoomId, change.Member.DeviceId, change.ToDto());
                    window.NextSendAt = NextSendAt(change.RoomId);
                }

                return;
            }
        }
    }

    /// <summary>
    /// Sends what the room's window holds now (before a message of the room is stored, so a device's <c>joined</c>
    /// reaches the room before its messages do).
    /// </summary>
    public void FlushRoom(RoomId roomId)
    {
        if (_windows.TryGetValue(roomId, out var window))
        {
            lock (window)
            {
                if (Send(roomId, window))
                {
                    window.NextSendAt = NextSendAt(roomId);
                }
            }
        }
    }

    /// <summary>Ends every room's window: sends its changes, and closes the windows that had none.</summary>
    public void Flush()
    {
        // A slow flush (thousands of rooms) is not overlapped by the next tick; that tick's changes wait one window.
        if (Interlocked.Exchange(ref _flushing, 1) == 1)
        {
            return;
        }

        try
        {
            var now = _time.GetTimestamp();
            foreach (var (roomId, window) in _windows)
            {
                lock (window)
                {
                    if (now < window.NextSendAt && !_disposing)
                    {
                        continue; // A big room's longer window.
                    }

                    if (window.Changes.Count == 0)
                    {
                        window.Closed = true;
                        _windows.TryRemove(new KeyValuePair<RoomId, RoomWindow>(roomId, window));
                    }
                    else
                    {
                        Send(roomId, window);
                        window.NextSendAt = NextSendAt(roomId);
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    /// <summary>Stops the windows and sends what they hold (a node stopping still tells the rooms who left).</summary>
    public void Dispose()
    {
        _timer?.Dispose();
        _disposing = true;
        Flush();
    }

    private bool _disposing;

    /// <summary>When the room's next frame may go: one window, or one per <see cref="MembersPerWindow"/> members here.</summary>
    private long NextSendAt(RoomId roomId)
    {
        var windows = Math.Clamp(_hub.Members(roomId).Count / MembersPerWindow, 1, MaxWindows);

        // Half a tick early, so the tick that ends the window sends it (ticks are exactly one window apart).
        var wait = (_window * windows) - (_window / 2);
        return _time.GetTimestamp() + (long)(wait.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>The window's net changes, as one frame; called under the window's lock.</summary>
    /// <returns>Whether there were changes to send.</returns>
    private bool Send(RoomId roomId, RoomWindow window)
    {
        if (window.Changes.Count == 0)
        {
            return false;
        }

        var joins = new List<ClientInfoDto>();
        var leaves = new List<ClientInfoDto>();
        PresenceChange? single = null;
        foreach (var (first, last) in window.Changes.Values)
        {
            var wasThere = !first.Joined;
            var isThere = last.Joined;
            if (wasThere != isThere)
            {
                single = last;
                (isThere ? joins : leaves).Add(new ClientInfoDto(last.Member.DeviceId.Value, last.Member.Identity));
            }
        }

        window.Changes.Clear();
        if (joins.Count + leaves.Count == 1)
        {
            _hub.SendPresence(roomId, single!.Member.DeviceId, single.ToDto());
        }
        else
        {
            // A big room's storm can change thousands of members in one window: the diff goes in frames of at most
            // MaxDiffEntries devices, each well under the 1 MiB frame bound (an entry is at most ~450 bytes).
            for (var (j, l) = (0, 0); j < joins.Count || l < leaves.Count;)
            {
                var joinsHere = Math.Min(joins.Count - j, MaxDiffEntries);
                var leavesHere = Math.Min(leaves.Count - l, MaxDiffEntries - joinsHere);
                _hub.SendPresenceDiff(roomId, new PresenceDiffDto(roomId.Value, joins.GetRange(j, joinsHere), leaves.GetRange(l, leavesHere)));
                (j, l) = (j + joinsHere, l + leavesHere);
            }
        }

        return true;
    }

    /// <summary>Devices (joins and leaves together) in one presence diff frame.</summary>
    public const int MaxDiffEntries = 1000;

    /// <summary>A room's open window: per device, its first and its last change since the window's last send.</summary>
    private sealed class RoomWindow
    {
        public Dictionary<DeviceId, (PresenceChange First, PresenceChange Last)> Changes { get; } = new();

        /// <summary>The change that opened the window went out at once.</summary>
        public bool Opened { get; set; }

        /// <summary>Removed by a flush; a change finding it makes a new window.</summary>
        public bool Closed { get; set; }

        /// <summary>The <see cref="TimeProvider"/> timestamp before which the window holds its changes.</summary>
        public long NextSendAt { get; set; }

        public void Add(PresenceChange change) =>
            Changes[change.Member.DeviceId] = Changes.TryGetValue(change.Member.DeviceId, out var known) ? (known.First, change) : (change, change);
    }
}

/// <summary>A device joined (<paramref name="Joined"/>) or left the room.</summary>
public sealed record PresenceChange(RoomId RoomId, RoomMember Member, bool Joined)
{
    /// <summary>The single-event <c>presence</c> frame of the change.</summary>
    public PresenceEventDto ToDto() =>
        new(Joined ? PresenceEventDto.Joined : PresenceEventDto.Left, RoomId.Value, Member.DeviceId.Value, Member.Identity);
}
