using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rooms.Domain.Messages;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// The few places where MySQL gets a column type of its own. Ids are ASCII with a binary
/// collation there, so <c>abc123</c> and <c>ABC123</c> stay two rooms as on the wire
/// (MySQL's default collation would fold them together).
/// </summary>
internal sealed class ColumnTypes(bool isMySql)
{
    public void AsciiId(PropertyBuilder property, int maxLength)
    {
        property.HasMaxLength(maxLength).IsUnicode(false);
        if (isMySql)
        {
            property.HasCharSet("ascii").UseCollation("ascii_bin");
        }
    }

    /// <summary>Client-chosen text compared exactly: <c>a</c> and <c>A</c> are two ids (MySQL's default collation would fold them).</summary>
    public void BinaryText(PropertyBuilder property, int maxLength)
    {
        property.HasMaxLength(maxLength);
        if (isMySql)
        {
            property.HasCharSet("utf8mb4").UseCollation("utf8mb4_bin");
        }
    }

    public void MessageType(PropertyBuilder<string> property)
    {
        property.HasMaxLength(9).IsUnicode(false);
        if (isMySql)
        {
            property.HasColumnType($"enum('{MessageTypeNames.Broadcast}','{MessageTypeNames.Direct}')");
        }
    }

    public void LongText(PropertyBuilder<string> property)
    {
        if (isMySql)
        {
            property.HasColumnType("text");
        }
    }

    public void UtcTime(PropertyBuilder property)
    {
        if (isMySql)
        {
            property.HasColumnType("datetime(6)");
        }
    }
}
