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

    /// <summary>
    /// Client-chosen text compared exactly, byte for byte: <c>a</c> and <c>A</c> are two ids, and so are <c>p</c> and
    /// <c>p </c>. On MySQL that takes <c>varbinary</c> (its UTF-8 bytes): every MariaDB collation, <c>utf8mb4_bin</c>
    /// included, is PAD SPACE (<c>'p' = 'p '</c>), and MySQL 8's NO PAD collations have other names.
    /// </summary>
    public void BinaryText(PropertyBuilder<string> property, int maxLength)
    {
        property.HasMaxLength(maxLength);
        if (isMySql)
        {
            property.HasColumnType($"varbinary({maxLength * 4})")
                .HasConversion(text => System.Text.Encoding.UTF8.GetBytes(text), bytes => System.Text.Encoding.UTF8.GetString(bytes));
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
