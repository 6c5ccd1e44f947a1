using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.MySql
{
    /// <inheritdoc />
    public partial class ClusterNodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "node_id",
                table: "connections",
                type: "varchar(64)",
                unicode: false,
                maxLength: 64,
                nullable: false,
                defaultValue: "",
                collation: "ascii_bin")
                .Annotation("MySql:CharSet", "ascii");

            migrationBuilder.CreateTable(
                name: "message_sequence",
                columns: table => new
                {
                    name = table.Column<string>(type: "varchar(32)", unicode: false, maxLength: 32, nullable: false, collation: "ascii_bin")
                        .Annotation("MySql:CharSet", "ascii"),
                    last_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_message_sequence", x => x.name);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "nodes",
                columns: table => new
                {
                    node_id = table.Column<string>(type: "varchar(64)", unicode: false, maxLength: 64, nullable: false, collation: "ascii_bin")
                        .Annotation("MySql:CharSet", "ascii"),
                    incarnation = table.Column<string>(type: "varchar(32)", unicode: false, maxLength: 32, nullable: false, collation: "ascii_bin")
                        .Annotation("MySql:CharSet", "ascii"),
                    started_at = table.Column<DateTime>(type: "datetime(6)", nullable: false),
                    last_seen_at = table.Column<DateTime>(type: "datetime(6)", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_nodes", x => x.node_id);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            // Message ids continue after the highest one already stored (hand-written: EF does not seed from data).
            migrationBuilder.Sql("INSERT INTO message_sequence (name, last_id) SELECT 'messages', COALESCE(MAX(id), 0) FROM messages;");

            migrationBuilder.CreateIndex(
                name: "ix_connections_node_id_disconnected_at",
                table: "connections",
                columns: new[] { "node_id", "disconnected_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "message_sequence");

            migrationBuilder.DropTable(
                name: "nodes");

            migrationBuilder.DropIndex(
                name: "ix_connections_node_id_disconnected_at",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "node_id",
                table: "connections");
        }
    }
}
