using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Writes a batch of messages in one transaction: one statement reserves the batch's ids, one
/// multi-row INSERT writes the rows (one commit, one fsync, for the whole batch, where EF Core's
/// SaveChanges would send a statement per row). Returns the first row's id; the batch's ids follow it.
/// </summary>
/// <remarks>
/// Ids come from the <c>message_sequence</c> row, not from auto-increment: the UPDATE that reserves
/// them locks the row until the commit, so writers on several nodes take turns, each batch's ids are
/// contiguous, and ids are committed in increasing order (a reader never sees a higher id before a
/// lower one commits). Table and column names are read from the EF Core model, so a rename in a
/// configuration changes this SQL too.
/// </remarks>
internal sealed class MultiRowMessageInsert
{
    private readonly Dictionary<(int Rows, string Provider), string> _insertByShape = [];
    private readonly Dictionary<string, string> _reserveByProvider = [];

    public async Task<long> InsertAsync(RoomsDbContext db, IReadOnlyList<NewMessage> messages)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        long lastId;
        await using (var reserve = connection.CreateCommand())
        {
            reserve.Transaction = transaction;
            reserve.CommandText = ReserveSql(db);
            Add(reserve, messages.Count);
            lastId = Convert.ToInt64(await reserve.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }

        var firstId = lastId - messages.Count + 1;
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = InsertSql(db, messages.Count);
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                Add(insert, firstId + i);
                Add(insert, message.RoomId);
                Add(insert, message.FromDeviceId);
                Add(insert, message.ToDeviceId);
                Add(insert, message.Type.ToName());
                Add(insert, message.Content);
                Add(insert, message.SentAt);
            }

            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return firstId;
    }

    private static void Add(DbCommand command, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@p" + command.Parameters.Count;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private string ReserveSql(RoomsDbContext db)
    {
        var provider = db.Database.ProviderName!;
        lock (_reserveByProvider)
        {
            if (!_reserveByProvider.TryGetValue(provider, out var sql))
            {
                var sequence = Table<MessageSequenceRow>(db);
                var name = Column(sequence, nameof(MessageSequenceRow.Name));
                var lastId = Column(sequence, nameof(MessageSequenceRow.LastId));
                var where = $" WHERE {name} = '{MessageSequenceRow.MessagesName}'";

                // The UPDATE comes first: it takes the row lock (InnoDB) or the write lock (SQLite) before the read.
                sql = $"UPDATE {sequence.Name} SET {lastId} = {lastId} + @p0{where}; SELECT {lastId} FROM {sequence.Name}{where};";
                _reserveByProvider[provider] = sql;
            }

            return sql;
        }
    }

    private string InsertSql(RoomsDbContext db, int rows)
    {
        var provider = db.Database.ProviderName!;
        lock (_insertByShape)
        {
            if (!_insertByShape.TryGetValue((rows, provider), out var sql))
            {
                var table = Table<MessageRow>(db);
                string[] columns =
                [
                    Column(table, nameof(MessageRow.Id)),
                    Column(table, nameof(MessageRow.RoomId)),
                    Column(table, nameof(MessageRow.FromDeviceId)),
                    Column(table, nameof(MessageRow.ToDeviceId)),
                    Column(table, nameof(MessageRow.MessageType)),
                    Column(table, nameof(MessageRow.MessageContent)),
                    Column(table, nameof(MessageRow.SentAt)),
                ];
                var values = string.Join(",", Enumerable.Range(0, rows).Select(r =>
                    "(" + string.Join(",", Enumerable.Range(r * columns.Length, columns.Length).Select(p => "@p" + p)) + ")"));
                sql = $"INSERT INTO {table.Name} ({string.Join(", ", columns)}) VALUES {values};";
                _insertByShape[(rows, provider)] = sql;
            }

            return sql;
        }
    }

    private static (IEntityType Entity, string Name) Table<TRow>(RoomsDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(TRow))!;
        return (entity, entity.GetTableName()!);
    }

    private static string Column((IEntityType Entity, string Name) table, string property) =>
        table.Entity.FindProperty(property)!.GetColumnName(StoreObjectIdentifier.Table(table.Name, table.Entity.GetSchema()))!;
}
