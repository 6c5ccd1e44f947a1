using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class NodeLeasesAndRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "cluster",
                table: "nodes",
                type: "TEXT",
                unicode: false,
                maxLength: 106,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<int>(
                name: "lease_ms",
                table: "nodes",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_room_queries_queried_at",
                table: "room_queries",
                column: "queried_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_room_queries_queried_at",
                table: "room_queries");

            migrationBuilder.DropColumn(
                name: "cluster",
                table: "nodes");

            migrationBuilder.DropColumn(
                name: "lease_ms",
                table: "nodes");
        }
    }
}
