using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Persistence;

public sealed class RoomsDbContext(DbContextOptions<RoomsDbContext> options) : DbContext(options)
{
    public DbSet<RoomRow> Rooms => Set<RoomRow>();

    public DbSet<DeviceRow> Devices => Set<DeviceRow>();

    public DbSet<ConnectionRow> Connections => Set<ConnectionRow>();

    public DbSet<MessageRow> Messages => Set<MessageRow>();

    public DbSet<RoomQueryRow> RoomQueries => Set<RoomQueryRow>();

    public DbSet<NodeRow> Nodes => Set<NodeRow>();

    public DbSet<MessageSequenceRow> MessageSequence => Set<MessageSequenceRow>();

    public DbSet<ClientMessageIdRow> ClientMessageIds => Set<ClientMessageIdRow>();

    internal bool IsMySql => Database.ProviderName == "Pomelo.EntityFrameworkCore.MySql";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var columns = new ColumnTypes(IsMySql);
        modelBuilder.ApplyConfiguration(new Configurations.RoomConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.DeviceConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.ConnectionConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.MessageConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.RoomQueryConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.NodeConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.MessageSequenceConfiguration(columns));
        modelBuilder.ApplyConfiguration(new Configurations.ClientMessageIdConfiguration(columns));
    }
}
