using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;
using static Rooms.Infrastructure.Persistence.RawSql;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Writes a batch of messages in one transaction of three round trips: one command for the reads (reserve the batch's
/// ids, find resends, find each room's previous message), one for the writes (a multi-row INSERT for the messages and
/// one for their client ids), and the COMMIT: one fsync for the whole batch, where EF Core's SaveChanges would send a
/// statement per row.
/// </summary>
/// <remarks>
/// Ids come from the <c>message_sequence</c> row, not from auto-increment: the UPDATE that reserves
/// them locks the row until the commit, so writers on several nodes take turns. Under that lock
/// nobody else writes messages, which makes ids increase in commit order (a reader never sees a
/// higher id before a lower one commits), makes "the room's previous message" exact, and makes
/// the resend check race-free; the primary key of <c>client_message_ids</c> backs it up. Table and
/// column names are read from the EF Core model, so a rename in a configuration changes this SQL too.
/// </remarks>
internal sealed partial class MultiRowMessageInsert
{
    private readonly Dictionary<(string Statement, int Rows, string Provider), string> _sql = [];

    public async Task<StoredMessage[]> InsertAsync(RoomsDbContext db, IReadOnlyList<NewMessage> messages)
    {
        // EF Core's transaction (not the connection's own), so its interceptors and diagnostics see the commit.
        await using var efTransaction = await db.Database.BeginTransactionAsync();
        var transaction = efTransaction.GetDbTransaction();

        // Two round trips before the COMMIT (each one's completion wakes a thread-pool worker, which then spins):
        // one for every read, one for every write.
        var (firstId, firstSends, lastInRoom) = await ReadAsync(db, transaction, messages);
        var results = new StoredMessage[messages.Count];
        var stored = new List<(long Id, NewMessage Message)>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.ClientMessageId is { } clientId && firstSends.TryGetValue((message.FromDeviceId.Value, clientId), out var first))
            {
                results[i] = first.Repeats(message)
                    ? new StoredMessage(new MessageId(first.Id), MessageId.None, Duplicate: true, first.Recipients)
                    : new StoredMessage(new MessageId(first.Id), MessageId.None, Conflict: true);
                continue;
            }

            var id = firstId + i;
            var room = message.RoomId.Value;
            results[i] = new StoredMessage(new MessageId(id), new MessageId(lastInRoom.GetValueOrDefault(room)));
            lastInRoom[room] = id;
            stored.Add((id, message));
            if (message.ClientMessageId is { } newClientId)
            {
                // A resend within this very batch is a duplicate of this one.
                firstSends[(message.FromDeviceId.Value, newClientId)] = new FirstSend(id, message.Recipients, room, message.ToDeviceId?.Value, message.Content);
            }
        }

        await WriteAsync(db, transaction, stored);
        try
        {
            await efTransaction.CommitAsync();
        }
        catch (Exception ex) when (stored.Count > 0)
        {
            // The COMMIT may have been carried out although its answer was lost (the server died, the
            // connection broke): only the database can tell.
            throw new CommitOutcomeUnknownException(
                new CommitProbe([.. stored.Select(s => new CommitProbe.Row(s.Id, s.Message.RoomId.Value, s.Message.FromDeviceId.Value, s.Message.Content))]), results, ex);
        }

        return results;
    }

    /// <summary>
    /// Whether the batch that <paramref name="probe"/> describes was committed: every one of its new rows is there, exactly
    /// (id, room, sender and content). After a rollback another writer may reuse the ids, and may even store one of
    /// these very messages with one of them (its sender resent it through another node), so one row proves nothing
    /// about the others: the probe once acked a whole batch on its first row, other senders' messages included.
    /// </summary>
    public async Task<bool> WasCommittedAsync(RoomsDbContext db, CommitProbe probe, CancellationToken cancellationToken)
    {
        var sql = Sql(db, "probe", probe.Rows.Count, () =>
        {
            var table = Table<MessageRow>(db);
            var (id, room, from, content) = (Column(table, nameof(MessageRow.Id)), Column(table, nameof(MessageRow.RoomId)),
                Column(table, nameof(MessageRow.FromDeviceId)), Column(table, nameof(MessageRow.MessageContent)));
            var rows = Enumerable.Range(0, probe.Rows.Count)
                .Select(i => $"({id} = @p{4 * i} AND {room} = @p{(4 * i) + 1} AND {from} = @p{(4 * i) + 2} AND {content} = @p{(4 * i) + 3})");
            return $"SELECT COUNT(*) FROM {table.Name} WHERE {string.Join(" OR ", rows)};";
        });
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = Command(db.Database.GetDbConnection(), sql,
            [.. probe.Rows.SelectMany(r => new object[] { r.MessageId, r.RoomId, r.FromDeviceId, r.Content })]);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == probe.Rows.Count;
    }

    /// <summary>
    /// The batch's reads, in one command: reserve its ids (the UPDATE takes the sequence row's lock first), find the earlier
    /// sends of its client ids, and read each room's previous message id.
    /// </summary>
    private async Task<(long FirstId, Dictionary<(string DeviceId, string ClientId), FirstSend> FirstSends, Dictionary<string, long> LastInRoom)> ReadAsync(
        RoomsDbContext db, DbTransaction transaction, IReadOnlyList<NewMessage> messages)
    {
        var keys = messages.Where(m => m.ClientMessageId is not null).Select(m => (m.FromDeviceId.Value, m.ClientMessageId!)).Distinct().ToList();
        var rooms = messages.Select(m => m.RoomId.Value).Distinct(StringComparer.Ordinal).ToList();
        var sql = Sql(db, $"reads:{keys.Count}", rooms.Count, () => Combine(
            (ReserveSql(db), 1),
            keys.Count > 0 ? (FirstSendsSql(db, keys.Count), 2 * keys.Count) : (null, 0),
            (LastIdsSql(db, rooms.Count), rooms.Count)));
        await using var command = Command(transaction, sql,
            [messages.Count, .. keys.SelectMany(k => new object[] { k.Item1, k.Item2 }), .. rooms]);
        await using var reader = await command.ExecuteReaderAsync();

        await reader.ReadAsync();
        var firstId = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) - messages.Count + 1;

        var firstSends = new Dictionary<(string, string), FirstSend>();
        if (keys.Count > 0)
        {
            await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                firstSends[keys[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)]] = new FirstSend(
                    reader.GetInt64(1), reader.GetInt32(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5));
            }
        }

        await reader.NextResultAsync();
        await reader.ReadAsync();
        var lastInRoom = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var r = 0; r < rooms.Count; r++)
        {
            lastInRoom[rooms[r]] = reader.GetInt64(r);
        }

        return (firstId, firstSends, lastInRoom);
    }

    /// <summary>The UPDATE comes first: it takes the row lock (InnoDB) or the write lock (SQLite) before the read.</summary>
    private static string ReserveSql(RoomsDbContext db)
    {
        var sequence = Table<MessageSequenceRow>(db);
        var name = Column(sequence, nameof(MessageSequenceRow.Name));
        var lastId = Column(sequence, nameof(MessageSequenceRow.LastId));
        var where = $" WHERE {name} = '{MessageSequenceRow.MessagesName}'";
        return $"UPDATE {sequence.Name} SET {lastId} = {lastId} + @p0{where}; SELECT {lastId} FROM {sequence.Name}{where}";
    }

    /// <summary>
    /// The earlier sends of the batch's (device, client id) pairs, with what they said, so that a resend is told from
    /// another message reusing the id. The matching key is named by its position (a CASE), not read back: the id
    /// column is bytes on MySQL, and the database's own spelling of a key must never decide a match.
    /// </summary>
    private static string FirstSendsSql(RoomsDbContext db, int keys)
    {
        var ids = Table<ClientMessageIdRow>(db);
        var device = "c." + Column(ids, nameof(ClientMessageIdRow.DeviceId));
        var clientId = "c." + Column(ids, nameof(ClientMessageIdRow.ClientMessageId));
        var matches = Enumerable.Range(0, keys).Select(k => $"({device} = @p{2 * k} AND {clientId} = @p{(2 * k) + 1})").ToList();
        var messagesTable = Table<MessageRow>(db);
        string M(string property) => "m." + Column(messagesTable, property);
        return $"SELECT CASE {string.Concat(matches.Select((m, k) => $"WHEN {m} THEN {k} "))}END, "
            + $"c.{Column(ids, nameof(ClientMessageIdRow.MessageId))}, c.{Column(ids, nameof(ClientMessageIdRow.Recipients))}, "
            + $"{M(nameof(MessageRow.RoomId))}, {M(nameof(MessageRow.ToDeviceId))}, {M(nameof(MessageRow.MessageContent))} "
            + $"FROM {ids.Name} c JOIN {messagesTable.Name} m ON m.{Column(messagesTable, nameof(MessageRow.Id))} = c.{Column(ids, nameof(ClientMessageIdRow.MessageId))} "
            + $"WHERE {string.Join(" OR ", matches)}";
    }

    /// <summary>
    /// Each room's last message id, one scalar subquery per room: MAX on an index prefix is a single
    /// index lookup, where a GROUP BY over the rooms would range-scan all their messages (measured: the
    /// send path slowed down as the table grew).
    /// </summary>
    private static string LastIdsSql(RoomsDbContext db, int rooms)
    {
        var table = Table<MessageRow>(db);
        var (room, id) = (Column(table, nameof(MessageRow.RoomId)), Column(table, nameof(MessageRow.Id)));
        return "SELECT " + string.Join(", ", Enumerable.Range(0, rooms).Select(r =>
            $"COALESCE((SELECT MAX({id}) FROM {table.Name} WHERE {room} = @p{r}), 0)"));
    }

    /// <summary>A message stored with a client id: a later send with that id repeats it only if it says the same.</summary>
    private sealed record FirstSend(long Id, int Recipients, string RoomId, string? ToDeviceId, string Content)
    {
        public bool Repeats(NewMessage message) =>
            message.RoomId.Value == RoomId && message.ToDeviceId?.Value == ToDeviceId && message.Content == Content;
    }

    /// <summary>The batch's rows and their client ids, in one command.</summary>
    private async Task WriteAsync(RoomsDbContext db, DbTransaction transaction, List<(long Id, NewMessage Message)> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var withClientId = rows.Where(r => r.Message.ClientMessageId is not null).ToList();
        var sql = Sql(db, $"writes:{withClientId.Count}", rows.Count, () => Combine(
            (RawSql.Insert(Table<MessageRow>(db), rows.Count,
                nameof(MessageRow.Id), nameof(MessageRow.RoomId), nameof(MessageRow.FromDeviceId), nameof(MessageRow.ToDeviceId),
                nameof(MessageRow.MessageType), nameof(MessageRow.MessageContent), nameof(MessageRow.SentAt)), 7 * rows.Count),
            withClientId.Count > 0
                ? (RawSql.Insert(Table<ClientMessageIdRow>(db), withClientId.Count,
                    nameof(ClientMessageIdRow.DeviceId), nameof(ClientMessageIdRow.ClientMessageId), nameof(ClientMessageIdRow.MessageId),
                    nameof(ClientMessageIdRow.Recipients), nameof(ClientMessageIdRow.SentAt)), 5 * withClientId.Count)
                : (null, 0)));
        await using var command = Command(transaction, sql,
        [
            .. rows.SelectMany(r => new object?[]
            {
                r.Id, r.Message.RoomId.Value, r.Message.FromDeviceId.Value, r.Message.ToDeviceId?.Value, r.Message.Type.ToName(), r.Message.Content, r.Message.SentAt,
            }),
            .. withClientId.SelectMany(r => new object?[] { r.Message.FromDeviceId.Value, r.Message.ClientMessageId, r.Id, r.Message.Recipients, r.Message.SentAt }),
        ]);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Statements joined into one command text (one round trip; both providers run them in order and return their result
    /// sets in order). Each statement numbers its parameters from <c>@p0</c>; here they are shifted to follow the ones before.
    /// </summary>
    private static string Combine(params (string? Sql, int Parameters)[] statements)
    {
        var text = new System.Text.StringBuilder();
        var offset = 0;
        foreach (var (sql, parameters) in statements)
        {
            if (sql is null)
            {
                continue;
            }

            var shift = offset;
            text.Append(ParameterName().Replace(sql.TrimEnd(';'), m => "@p" + (int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) + shift))).Append(";\n");
            offset += parameters;
        }

        return text.ToString();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"@p(\d+)\b")]
    private static partial System.Text.RegularExpressions.Regex ParameterName();

    /// <summary>Statement texts depend only on the statement, the row count and the provider: built once each.</summary>
    private string Sql(RoomsDbContext db, string statement, int rows, Func<string> build)
    {
        var key = (statement, rows, db.Database.ProviderName!);
        lock (_sql)
        {
            if (!_sql.TryGetValue(key, out var sql))
            {
                sql = build();
                _sql[key] = sql;
            }

            return sql;
        }
    }
}

/// <summary>The new rows of a batch whose COMMIT failed: only that batch can have written all of them.</summary>
internal sealed record CommitProbe(IReadOnlyList<CommitProbe.Row> Rows)
{
    public sealed record Row(long MessageId, string RoomId, string FromDeviceId, string Content);
}

/// <summary>The COMMIT of a batch failed in a way that does not say whether it was carried out.</summary>
internal sealed class CommitOutcomeUnknownException(CommitProbe probe, StoredMessage[] results, Exception inner)
    : Exception("The commit of a message batch failed; whether it was carried out is unknown.", inner)
{
    public CommitProbe Probe { get; } = probe;

    /// <summary>What the batch's senders are told if it was committed.</summary>
    public StoredMessage[] Results { get; } = results;
}
