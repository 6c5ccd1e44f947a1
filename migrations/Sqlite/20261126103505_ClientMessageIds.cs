using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.Sqlite
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
                    device_id = table.Column<string>(type: "TEXT", unicode: false, maxLength: 64, nullable: false),
                    client_message_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    message_id = table.Column<long>(type: "INTEGER", nullable: false),
                    recipients = table.Column<int>(type: "INTEGER", nullable: false),
                    sent_at = table.Column<DateTime>(type: "TEXT", nullable: false)
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
                });

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
