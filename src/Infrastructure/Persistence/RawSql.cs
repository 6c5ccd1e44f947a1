using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// What the hand-written batch statements share: table and column names read from the EF model (so a rename
/// in a configuration renames them too), multi-row VALUES lists, and commands with positional parameters.
/// </summary>
internal static class RawSql
{
    public static (IEntityType Entity, string Name) Table<TRow>(RoomsDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(TRow))!;
        return (entity, entity.GetTableName()!);
    }

    public static string Column((IEntityType Entity, string Name) table, string property) =>
        table.Entity.FindProperty(property)!.GetColumnName(StoreObjectIdentifier.Table(table.Name, table.Entity.GetSchema()))!;

    /// <summary><c>INSERT INTO t (a, b) VALUES (@p0,@p1),(@p2,@p3)...</c>, without the final semicolon.</summary>
    public static string Insert((IEntityType Entity, string Name) table, int rows, params string[] properties)
    {
        var columns = properties.Select(p => Column(table, p)).ToArray();
        var values = string.Join(",", Enumerable.Range(0, rows).Select(r =>
            "(" + string.Join(",", Enumerable.Range(r * columns.Length, columns.Length).Select(p => "@p" + p)) + ")"));
        return $"INSERT INTO {table.Name} ({string.Join(", ", columns)}) VALUES {values}";
    }

    public static DbCommand Command(DbTransaction transaction, string sql, params object?[] values)
    {
        var command = Command(transaction.Connection!, sql, values);
        command.Transaction = transaction;
        return command;
    }

    /// <summary>A command whose values are bound, in order, to <c>@p0</c>, <c>@p1</c>, ...</summary>
    public static DbCommand Command(DbConnection connection, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var value in values)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + command.Parameters.Count;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
