#!/usr/bin/env bash
# Reproducible benchmark: builds Release, starts a fresh database (sqlite: a temp file;
# mariadb: a throwaway MariaDB with default durable settings), starts the server on a free
# port, runs the load tool with the arguments given, then checks that the messages table holds
# every message the tool sent. Usage:
#   scripts/benchmark.sh mariadb ramp --from 1000 --step 1000 --to 9000 --svg docs/perf/ramp-mariadb.svg
#   scripts/benchmark.sh sqlite run --rate 3000 --duration 30
#   scripts/benchmark.sh sqlite connections -n 10000        (the server's pid is passed for you)
#   scripts/benchmark.sh mariadb storm -n 10000               (all devices reconnect at once)
# With NODES=2 (mariadb only) it also starts a throwaway Redis and runs that many nodes of one
# cluster; the load tool spreads every room's devices over all of them:
#   NODES=2 scripts/benchmark.sh mariadb ramp --from 1000 --step 1000 --to 9000
# Baselines, with the same load tool: `bare` serves the frames over Kestrel with nothing else (no
# storage; the load tool's bare-server), and SERVER_DLL runs another build of Rooms (an A/B):
#   scripts/benchmark.sh bare ramp --from 2000 --step 2000 --to 14000 --warmup 10 --duration 6
#   SERVER_DLL=/tmp/other-checkout/src/WebSocketHost/bin/Release/net10.0/Rooms.WebSocketHost.dll scripts/benchmark.sh mariadb run --rate 2000
set -euo pipefail
cd "$(dirname "$0")/.."
provider=$1; shift
mode=$1; shift

dotnet build src/WebSocketHost -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet build tests/Rooms.LoadTest -c Release -nologo -clp:ErrorsOnly >/dev/null
work=$(mktemp -d /tmp/rooms-bench-XXXXXX)
nodes=${NODES:-1}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_pids=()
redis_pid=""

cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  [ -n "${ROOMS_MARIADB_DIR:-}" ] && scripts/mariadb-throwaway.sh stop "$ROOMS_MARIADB_DIR"
  rm -rf "$work"
}
trap cleanup EXIT

case "$provider" in
mariadb)
  eval "$(scripts/mariadb-throwaway.sh start)"
  export Database__Provider=MySql Database__MySqlServerVersion=10.11.0-mariadb ConnectionStrings__Rooms="$ROOMS_MARIADB_CS"
  count_messages() { scripts/mariadb-throwaway.sh sql "$ROOMS_MARIADB_DIR" "SELECT COUNT(*) FROM messages"; }
  ;;
bare)
  count_messages() { :; }
  ;;
sqlite)
  export Database__Provider=Sqlite ConnectionStrings__Rooms="Data Source=$work/rooms.db"
  count_messages() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM messages').fetchone()[0])" "$work/rooms.db"; }
  ;;
*) echo "provider: sqlite, mariadb or bare" >&2; exit 2 ;;
esac

if [ "$nodes" -gt 1 ]; then
  [ "$provider" = mariadb ] || { echo "NODES>1 needs mariadb (nodes share one database)" >&2; exit 2; }
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  export Cluster__Redis="127.0.0.1:$redis_port"
fi

urls=()
for i in $(seq 1 "$nodes"); do
  port=$(free_port)
  if [ "$provider" = bare ]; then
    server_command=(dotnet tests/Rooms.LoadTest/bin/Release/net10.0/Rooms.LoadTest.dll bare-server --port "$port")
  else
    # SERVER_ENV: runtime settings for the server only (not the load tool), e.g. SERVER_ENV="DOTNET_TieredPGO=0".
    server_command=(env ${SERVER_ENV:-} dotnet "${SERVER_DLL:-src/WebSocketHost/bin/Release/net10.0/Rooms.WebSocketHost.dll}")
  fi
  # Information logs each connect; Warning keeps the console out of the measurement. Every simulated
  # device connects from 127.0.0.1, so the per-IP and per-device limits are lifted (to the machine's ceiling for connections).
  Rooms__MaxConnectionsPerIp=20000 Rooms__MaxConnections=20000 Rooms__MaxUnidentifiedConnections=20000 Rooms__MaxUnidentifiedConnectionsPerIp=20000 Rooms__UpgradesPerMinutePerIp=1000000 Rooms__IdentifiesPerMinutePerDevice=1000000 Rooms__RoomsCreatedPerMinutePerIp=1000000 Rooms__InboundBytesPerSecond=1000000000 Rooms__InboundBurstBytes=1000000000 Rooms__InboundBytesPerSecondPerAddress=1000000000 Rooms__InboundBurstBytesPerAddress=1000000000 Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" Cluster__NodeId="bench-$i" \
    ${server_command[@]+"${server_command[@]}"} >"$work/server-$i.log" 2>&1 &
  server_pids+=($!)
  # A build from before /health/ready existed answers it 404: its /healthz says it is up.
  for _ in $(seq 1 100); do
    ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" || true)
    [ "$ready" = 200 ] && break
    [ "$ready" = 404 ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.2
  done
  urls+=("ws://127.0.0.1:$port/")
done

extra=()
# One node: the tool also reports the server's CPU per message (run, ramp) or memory per connection (connections).
if [ "$nodes" -eq 1 ] && [ "$mode" != storm ] && [ "$mode" != history ]; then extra=(--server-pid "${server_pids[0]}"); fi
set +e
dotnet tests/Rooms.LoadTest/bin/Release/net10.0/Rooms.LoadTest.dll "$mode" --url "$(IFS=,; echo "${urls[*]}")" "${extra[@]}" "$@" | tee "$work/load.log"
status=${PIPESTATUS[0]}
set -e

if [ "$mode" != connections ] && [ "$mode" != storm ] && [ "$provider" != bare ]; then
  sent=$(grep -oE 'total sent \(warm-up included\): [0-9]+|"total_sent": [0-9]+' "$work/load.log" | grep -oE '[0-9]+$' | tail -1)
  stored=$(count_messages)
  echo "messages table: $stored rows for $sent messages sent"
  [ "$stored" = "$sent" ] || { echo "MISMATCH: not every sent message is stored"; status=1; }
fi
grep -hE 'WRN|ERR|FTL' "$work"/server-*.log | head -20 || true
exit "$status"
