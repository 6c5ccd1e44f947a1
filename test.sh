#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (Debian's mariadb-server),
# checks the migrations, migrates an empty MariaDB database with the server's `migrate`
# command (what CI and deploys do), then runs the whole suite on SQLite and MariaDB.
set -euo pipefail
cd "$(dirname "$0")"
configuration=Release
log_dir=$(mktemp -d /tmp/rooms-test-XXXXXX)

step() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_mariadbd() { command -v mariadbd || { [ -x /usr/sbin/mariadbd ] && echo /usr/sbin/mariadbd; } || true; }

if [ -z "${ROOMS_TEST_MYSQL:-}" ] && [ -z "$(find_mariadbd)" ]; then
  step "Installing mariadb-server (the MySQL tests start throwaway servers from it)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends mariadb-server >"$log_dir/apt.log" 2>&1 \
    || { cat "$log_dir/apt.log"; exit 1; }
fi

step "Restoring tools and building ($configuration)"
dotnet tool restore >/dev/null
dotnet build Rooms.sln -c "$configuration" -nologo -clp:ErrorsOnly

step "Checking that every model change has a migration"
for provider in Sqlite MySql; do
  dotnet ef migrations has-pending-model-changes --project "migrations/$provider" --configuration "$configuration" --no-build
done

step "CI migration run: 'migrate' on an empty MariaDB database"
./scripts/ci-migrate-mariadb.sh "src/WebSocketHost/bin/$configuration/net10.0/Rooms.WebSocketHost.dll"

step "Running the test suite (SQLite and MariaDB)"
set +e
dotnet test Rooms.sln -c "$configuration" --no-build -nologo 2>&1 | tee "$log_dir/test.log"
status=${PIPESTATUS[0]}
set -e

# Throwaway MariaDB servers are removed by the tests; this catches any a crashed run left behind.
pkill -f 'rooms-mariadb-' 2>/dev/null || true
rm -rf /tmp/rooms-mariadb-* 2>/dev/null || true

passed=$(grep -oE 'Passed: +[0-9]+' "$log_dir/test.log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log_dir/test.log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
