using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Rooms.Domain;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Persistence.Configurations;

// Table and column names are the original server's (docs/protocol.md, "Storage"), spelled out so that the monitoring queries
// of the original server run unchanged.

internal sealed class RoomConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<RoomRow>
{
    public void Configure(EntityTypeBuilder<RoomRow> builder)
    {
        builder.ToTable("rooms");
        builder.HasKey(r => r.RoomId);
        columns.AsciiId(builder.Property(r => r.RoomId).HasColumnName("room_id"), RoomId.MaxLength);
        columns.UtcTime(builder.Property(r => r.CreatedAt).HasColumnName("created_at"));
    }
}

internal sealed class DeviceConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<DeviceRow>
{
    public void Configure(EntityTypeBuilder<DeviceRow> builder)
    {
        builder.ToTable("devices");
        builder.HasKey(d => d.DeviceId);
        columns.AsciiId(builder.Property(d => d.DeviceId).HasColumnName("device_id"), DeviceId.MaxLength);
        builder.Property(d => d.Identity).HasColumnName("identity").HasMaxLength(ProtocolLimits.IdentityMaxLength);
        columns.UtcTime(builder.Property(d => d.LastConnectedAt).HasColumnName("last_connected_at"));
        columns.AsciiId(builder.Property(d => d.LastRoomId).HasColumnName("last_room_id"), RoomId.MaxLength);
        builder.HasOne<RoomRow>().WithMany().HasForeignKey(d => d.LastRoomId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ConnectionConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<ConnectionRow>
{
    public void Configure(EntityTypeBuilder<ConnectionRow> builder)
    {
        builder.ToTable("connections");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).HasColumnName("id");
        columns.AsciiId(builder.Property(c => c.DeviceId).HasColumnName("device_id"), DeviceId.MaxLength);
        columns.AsciiId(builder.Property(c => c.RoomId).HasColumnName("room_id"), RoomId.MaxLength);
        builder.Property(c => c.ClientIp).HasColumnName("client_ip").HasMaxLength(ProtocolLimits.ClientIpMaxLength).IsUnicode(false);
        columns.AsciiId(builder.Property(c => c.NodeId).HasColumnName("node_id").HasDefaultValue(string.Empty), NodeId.MaxLength);
        columns.UtcTime(builder.Property(c => c.ConnectedAt).HasColumnName("connected_at"));
        columns.UtcTime(builder.Property(c => c.DisconnectedAt).HasColumnName("disconnected_at"));
        builder.HasOne<DeviceRow>().WithMany().HasForeignKey(c => c.DeviceId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<RoomRow>().WithMany().HasForeignKey(c => c.RoomId).OnDelete(DeleteBehavior.Restrict);

        // "Active connections" (disconnected_at IS NULL), and a node's open rows (its start-up, the janitor).
        builder.HasIndex(c => c.DisconnectedAt).HasDatabaseName("ix_connections_disconnected_at");
        builder.HasIndex(c => new { c.NodeId, c.DisconnectedAt }).HasDatabaseName("ix_connections_node_id_disconnected_at");
    }
}

internal sealed class MessageConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<MessageRow>
{
    public void Configure(EntityTypeBuilder<MessageRow> builder)
    {
        builder.ToTable("messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasColumnName("id");
        columns.AsciiId(builder.Property(m => m.RoomId).HasColumnName("room_id"), RoomId.MaxLength);
        columns.AsciiId(builder.Property(m => m.FromDeviceId).HasColumnName("from_device_id"), DeviceId.MaxLength);
        columns.AsciiId(builder.Property(m => m.ToDeviceId).HasColumnName("to_device_id"), DeviceId.MaxLength);
        columns.MessageType(builder.Property(m => m.MessageType).HasColumnName("message_type"));
        columns.LongText(builder.Property(m => m.MessageContent).HasColumnName("message_content"));
        columns.UtcTime(builder.Property(m => m.SentAt).HasColumnName("sent_at"));
        builder.HasOne<RoomRow>().WithMany().HasForeignKey(m => m.RoomId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<DeviceRow>().WithMany().HasForeignKey(m => m.FromDeviceId).OnDelete(DeleteBehavior.Restrict);

        // A room's messages in id order (catch-up of gaps), and the monitoring queries by time and by type.
        builder.HasIndex(m => new { m.RoomId, m.Id }).HasDatabaseName("ix_messages_room_id_id");

        // History seeks only what the asker may see: broadcasts (to NULL) and directs to it, then directs from it
        // (this one also serves the foreign key). A page never reads other devices' directs.
        builder.HasIndex(m => new { m.RoomId, m.ToDeviceId, m.Id }).HasDatabaseName("ix_messages_room_id_to_device_id_id");
        builder.HasIndex(m => new { m.FromDeviceId, m.RoomId, m.Id }).HasDatabaseName("ix_messages_from_device_id_room_id_id");
        builder.HasIndex(m => new { m.SentAt, m.RoomId }).HasDatabaseName("ix_messages_sent_at_room_id");
        builder.HasIndex(m => m.MessageType).HasDatabaseName("ix_messages_message_type");
    }
}

internal sealed class RoomQueryConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<RoomQueryRow>
{
    public void Configure(EntityTypeBuilder<RoomQueryRow> builder)
    {
        builder.ToTable("room_queries");
        builder.HasKey(q => q.Id);
        builder.Property(q => q.Id).HasColumnName("id");
        columns.AsciiId(builder.Property(q => q.DeviceId).HasColumnName("device_id"), DeviceId.MaxLength);
        columns.AsciiId(builder.Property(q => q.RoomId).HasColumnName("room_id"), RoomId.MaxLength);
        columns.UtcTime(builder.Property(q => q.QueriedAt).HasColumnName("queried_at"));
        builder.HasOne<DeviceRow>().WithMany().HasForeignKey(q => q.DeviceId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<RoomRow>().WithMany().HasForeignKey(q => q.RoomId).OnDelete(DeleteBehavior.Restrict);

        // Retention deletes the oldest queries by this index (Database:RetainRoomQueries).
        builder.HasIndex(q => q.QueriedAt).HasDatabaseName("ix_room_queries_queried_at");
    }
}

internal sealed class NodeConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<NodeRow>
{
    public void Configure(EntityTypeBuilder<NodeRow> builder)
    {
        builder.ToTable("nodes");
        builder.HasKey(n => n.NodeId);
        columns.AsciiId(builder.Property(n => n.NodeId).HasColumnName("node_id"), NodeId.MaxLength);
        columns.AsciiId(builder.Property(n => n.Incarnation).HasColumnName("incarnation"), 32);
        columns.AsciiId(builder.Property(n => n.Cluster).HasColumnName("cluster").HasDefaultValue(string.Empty), Nodes.ClusterSettings.MaxKeyPrefixLength + 6);
        columns.UtcTime(builder.Property(n => n.StartedAt).HasColumnName("started_at"));
        columns.UtcTime(builder.Property(n => n.LastSeenAt).HasColumnName("last_seen_at"));
        builder.Property(n => n.LeaseMilliseconds).HasColumnName("lease_ms").HasDefaultValue(0);
    }
}

internal sealed class ClientMessageIdConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<ClientMessageIdRow>
{
    public void Configure(EntityTypeBuilder<ClientMessageIdRow> builder)
    {
        builder.ToTable("client_message_ids");
        builder.HasKey(c => new { c.DeviceId, c.ClientMessageId });
        columns.AsciiId(builder.Property(c => c.DeviceId).HasColumnName("device_id"), DeviceId.MaxLength);
        columns.BinaryText(builder.Property(c => c.ClientMessageId).HasColumnName("client_message_id"), ProtocolLimits.ClientMessageIdMaxLength);
        builder.Property(c => c.MessageId).HasColumnName("message_id");
        builder.Property(c => c.Recipients).HasColumnName("recipients");
        columns.UtcTime(builder.Property(c => c.SentAt).HasColumnName("sent_at"));
        builder.HasOne<MessageRow>().WithMany().HasForeignKey(c => c.MessageId).OnDelete(DeleteBehavior.Cascade);

        // The janitor forgets ids older than the window by this index.
        builder.HasIndex(c => c.SentAt).HasDatabaseName("ix_client_message_ids_sent_at");
    }
}

internal sealed class MessageSequenceConfiguration(ColumnTypes columns) : IEntityTypeConfiguration<MessageSequenceRow>
{
    public void Configure(EntityTypeBuilder<MessageSequenceRow> builder)
    {
        builder.ToTable("message_sequence");
        builder.HasKey(s => s.Name);
        columns.AsciiId(builder.Property(s => s.Name).HasColumnName("name"), 32);
        builder.Property(s => s.LastId).HasColumnName("last_id");
    }
}
