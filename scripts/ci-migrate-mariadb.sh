#!/usr/bin/env bash
# Starts a throwaway MariaDB, creates the database and user the README tells operators to create,
# runs the server's `migrate` command against it (exit code 0 expected), checks the five tables
# exist, and removes the server. With ROOMS_TEST_MYSQL set, that server is used instead.
set -euo pipefail
host_dll=$1

run_migrate() {
  Database__Provider=MySql ConnectionStrings__Rooms="$1" dotnet "$host_dll" migrate
}

if [ -n "${ROOMS_TEST_MYSQL:-}" ]; then
  run_migrate "$ROOMS_TEST_MYSQL"
  exit 0
fi

mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
dir=$(mktemp -d /tmp/rooms-mariadb-ci-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 33061)
cleanup() {
  [ -f "$dir/mysqld.pid" ] && kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$dir"
}
trap cleanup EXIT

mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
  || { cat "$dir/install.log"; exit 1; }
"$mariadbd" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" --port="$port" --bind-address=127.0.0.1 \
  --user="$(id -un)" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" --skip-name-resolve </dev/null >/dev/null 2>&1 &

for _ in $(seq 1 100); do
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done

# The database and user of the README's "Running on MySQL" section.
mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot <<'SQL'
CREATE DATABASE websocketdata CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'websocketdata'@'%' IDENTIFIED BY 'ci-password';
GRANT ALL PRIVILEGES ON websocketdata.* TO 'websocketdata'@'%';
SQL

run_migrate "Server=127.0.0.1;Port=$port;Database=websocketdata;User=websocketdata;Password=ci-password"

tables=$(mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -N -e \
  "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='websocketdata' AND table_name IN ('rooms','devices','connections','messages','room_queries')")
[ "$tables" = 5 ] || { echo "migrate left $tables of 5 tables"; exit 1; }
echo "migrate: all 5 tables created on an empty MariaDB database"
