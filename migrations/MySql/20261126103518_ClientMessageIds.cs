using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.MySql
{
    /// <inheritdoc />
    public partial class ClientMessageIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "client_message_ids",
                columns: table => new
                {
                    device_id = table.Column<string>(type: "varchar(64)", unicode: false, maxLength: 64, nullable: false, collation: "ascii_bin")
                        .Annotation("MySql:CharSet", "ascii"),
                    client_message_id = table.Column<string>(type: "varchar(64)", maxLength: 64, nullable: false, collation: "utf8mb4_bin")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    message_id = table.Column<long>(type: "bigint", nullable: false),
                    recipients = table.Column<int>(type: "int", nullable: false),
                    sent_at = table.Column<DateTime>(type: "datetime(6)", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_client_message_ids", x => new { x.device_id, x.client_message_id });
                    table.ForeignKey(
                        name: "FK_client_message_ids_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_client_message_ids_message_id",
                table: "client_message_ids",
                column: "message_id");

            migrationBuilder.CreateIndex(
                name: "ix_client_message_ids_sent_at",
                table: "client_message_ids",
                column: "sent_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "client_message_ids");
        }
    }
}
