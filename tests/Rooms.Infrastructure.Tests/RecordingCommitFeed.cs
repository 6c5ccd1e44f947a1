using Rooms.Application.Ports;

namespace Rooms.Infrastructure.Tests;

/// <summary>The store's commit feed in tests: remembers the ids handed over, in the order they came.</summary>
internal sealed class RecordingCommitFeed : ICommitFeed
{
    private readonly List<long> _ids = [];

    public IReadOnlyList<long> Ids
    {
        get
        {
            lock (_ids)
            {
                return [.. _ids];
            }
        }
    }

    public void Committed(NewMessage message, StoredMessage stored)
    {
        lock (_ids)
        {
            _ids.Add(stored.Id.Value);
        }
    }

    public bool Contains(long id)
    {
        lock (_ids)
        {
            return _ids.Contains(id);
        }
    }

    public void Clear()
    {
        lock (_ids)
        {
            _ids.Clear();
        }
    }
}
