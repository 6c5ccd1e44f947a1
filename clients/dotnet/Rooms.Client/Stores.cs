using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rooms.Client;

/// <summary>What must survive a restart: unacknowledged messages, the last message id, the room.</summary>
public sealed record SavedState(string? RoomId, string LastMessageId, IReadOnlyList<SavedMessage> Outbox);

/// <summary>An unacknowledged message.</summary>
public sealed record SavedMessage(string Id, string Content, string? To);

/// <summary>Where a client keeps its <see cref="SavedState"/>. One store belongs to one device.</summary>
public interface IRoomsStore
{
    SavedState? Load();

    void Save(SavedState state);
}

/// <summary>Keeps the state for the life of the object.</summary>
public sealed class MemoryStore : IRoomsStore
{
    private SavedState? _state;

    public SavedState? Load() => _state;

    public void Save(SavedState state) => _state = state;
}

/// <summary>Keeps the state in a JSON file, written atomically (a rename), across process restarts.</summary>
public sealed class FileStore(string path) : IRoomsStore
{
    public SavedState? Load() => File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), ClientJson.Default.SavedState) : null;

    public void Save(SavedState state)
    {
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(state, ClientJson.Default.SavedState));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

/// <summary>System.Text.Json source generation: the frames the client writes and the state it saves.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SavedState))]
[JsonSerializable(typeof(IdentifyFrame))]
[JsonSerializable(typeof(MessageFrame))]
[JsonSerializable(typeof(HistoryFrame))]
[JsonSerializable(typeof(TypeOnlyFrame))]
internal sealed partial class ClientJson : JsonSerializerContext;

internal sealed record IdentifyFrame(string Type, string DeviceId, string Identity, string? RoomId, string? Token);

internal sealed record MessageFrame(string Type, string Content, string Id, string? TargetDeviceId);

internal sealed record HistoryFrame(string Type, int Limit, string? AfterMessageId, string? BeforeMessageId, bool? Latest);

internal sealed record TypeOnlyFrame(string Type);
