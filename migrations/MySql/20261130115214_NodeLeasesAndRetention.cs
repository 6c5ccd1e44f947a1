using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.MySql
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
                type: "varchar(106)",
                unicode: false,
                maxLength: 106,
                nullable: false,
                defaultValue: "",
                collation: "ascii_bin")
                .Annotation("MySql:CharSet", "ascii");

            migrationBuilder.AddColumn<int>(
                name: "lease_ms",
                table: "nodes",
                type: "int",
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
