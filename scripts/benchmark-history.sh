#!/usr/bin/env bash
# History page cost against table size: a throwaway MariaDB, the schema from the server's
# `migrate`, ROWS messages spread over 100 rooms (the read room, R01, holds 1 in 100), then the
# load tool asks for pages of 100 from random cursors through the real server. Cursors stop
# 10 000 ids short of the end, so every page is full (100 messages) whatever the table's size:
#   scripts/benchmark-history.sh 20000       # 20 thousand rows
#   scripts/benchmark-history.sh 10000000    # ten million rows
set -euo pipefail
cd "$(dirname "$0")/.."
rows=$1; shift

dotnet build src/WebSocketHost -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet build tests/Rooms.LoadTest -c Release -nologo -clp:ErrorsOnly >/dev/null
host=src/WebSocketHost/bin/Release/net10.0/Rooms.WebSocketHost.dll
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "${ROOMS_MARIADB_DIR:-}" ] && scripts/mariadb-throwaway.sh stop "$ROOMS_MARIADB_DIR"
}
trap cleanup EXIT

eval "$(scripts/mariadb-throwaway.sh start)"
export Database__Provider=MySql Database__MySqlServerVersion=10.11.0-mariadb ConnectionStrings__Rooms="$ROOMS_MARIADB_CS"
dotnet "$host" migrate >/dev/null

# MariaDB's Sequence engine (seq_1_to_N) makes the rows in one statement.
sql() { scripts/mariadb-throwaway.sh sql "$ROOMS_MARIADB_DIR" "$1"; }
started=$(date +%s)
sql "INSERT INTO rooms (room_id, created_at) SELECT CONCAT('R', LPAD(seq, 2, '0')), UTC_TIMESTAMP(6) FROM seq_0_to_99;
     INSERT INTO devices (device_id, identity, last_connected_at, last_room_id) VALUES ('writer', 'w', UTC_TIMESTAMP(6), 'R01');
     INSERT INTO messages (id, room_id, from_device_id, to_device_id, message_type, message_content, sent_at)
       SELECT seq, CONCAT('R', LPAD(seq % 100, 2, '0')), 'writer', NULL, 'broadcast', CONCAT('message ', seq), UTC_TIMESTAMP(6) FROM seq_1_to_$rows;
     UPDATE message_sequence SET last_id = $rows WHERE name = 'messages';"
echo "filled $(sql 'SELECT COUNT(*) FROM messages') rows in $(( $(date +%s) - started )) s"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet "$host" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
dotnet tests/Rooms.LoadTest/bin/Release/net10.0/Rooms.LoadTest.dll history --url "ws://127.0.0.1:$port/" --room R01 --max-id $(( rows > 10000 ? rows - 10000 : 0 )) "$@"
