using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Writes a batch of messages as one multi-row INSERT in one transaction: one statement to parse
/// and one commit (one fsync) for the whole batch, where EF Core's SaveChanges would send a
/// statement per row. Returns the first row's id; the batch's ids follow it consecutively.
/// </summary>
/// <remarks>
/// Consecutive ids hold because the store is the only writer of <c>messages</c> in a database
/// (one server per database, see README): SQLite takes its write lock for the statement, and
/// InnoDB hands a multi-row insert of known size a consecutive range unless other statements
/// insert into the same table at the same time.
/// </remarks>
internal sealed class MultiRowMessageInsert
{
    private const int ColumnsPerRow = 6;
    private readonly Dictionary<(int Rows, bool IsMySql), string> _sqlByShape = [];

    public async Task<long> InsertAsync(RoomsDbContext db, IReadOnlyList<NewMessage> messages)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Sql(messages.Count, db.IsMySql);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            Add(command, message.RoomId);
            Add(command, message.FromDeviceId);
            Add(command, message.ToDeviceId);
            Add(command, message.Type.ToName());
            Add(command, message.Content);
            Add(command, message.SentAt);
        }

        var id = Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        await transaction.CommitAsync();

        // MySQL reports the first id of a multi-row insert, SQLite the last.
        return db.IsMySql ? id : id - messages.Count + 1;
    }

    private static void Add(DbCommand command, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@p" + command.Parameters.Count;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private string Sql(int rows, bool isMySql)
    {
        lock (_sqlByShape)
        {
            if (!_sqlByShape.TryGetValue((rows, isMySql), out var sql))
            {
                var values = string.Join(",", Enumerable.Range(0, rows).Select(r =>
                    "(" + string.Join(",", Enumerable.Range(r * ColumnsPerRow, ColumnsPerRow).Select(p => "@p" + p)) + ")"));
                sql = "INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, message_content, sent_at) VALUES "
                    + values + ";" + (isMySql ? "SELECT LAST_INSERT_ID();" : "SELECT last_insert_rowid();");
                _sqlByShape[(rows, isMySql)] = sql;
            }

            return sql;
        }
    }
}
