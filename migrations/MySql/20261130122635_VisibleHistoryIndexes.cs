using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rooms.Migrations.MySql
{
    /// <inheritdoc />
    public partial class VisibleHistoryIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Created before the old index is dropped: MySQL keeps an index a foreign key needs until another serves it.
            migrationBuilder.CreateIndex(
                name: "ix_messages_from_device_id_room_id_id",
                table: "messages",
                columns: new[] { "from_device_id", "room_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_messages_room_id_to_device_id_id",
                table: "messages",
                columns: new[] { "room_id", "to_device_id", "id" });

            migrationBuilder.DropIndex(
                name: "IX_messages_from_device_id",
                table: "messages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_messages_from_device_id",
                table: "messages",
                column: "from_device_id");

            migrationBuilder.DropIndex(
                name: "ix_messages_from_device_id_room_id_id",
                table: "messages");

            migrationBuilder.DropIndex(
                name: "ix_messages_room_id_to_device_id_id",
                table: "messages");
        }
    }
}
