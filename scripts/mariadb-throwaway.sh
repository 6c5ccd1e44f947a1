#!/usr/bin/env bash
# A throwaway MariaDB (Debian's mariadb-server) in a temp folder, on a free loopback port, with
# MariaDB's default (durable) settings. Creates the database and user of the README's
# "Running on MySQL" section.
#   eval "$(scripts/mariadb-throwaway.sh start)"   # sets ROOMS_MARIADB_DIR and ROOMS_MARIADB_CS
#   scripts/mariadb-throwaway.sh stop "$ROOMS_MARIADB_DIR"
set -euo pipefail

case "${1:-}" in
start)
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  dir=$(mktemp -d /tmp/rooms-mariadb-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 33061)
  user=$(id -un)
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; exit 1; }
  "$mariadbd" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" --port="$port" --bind-address=127.0.0.1 \
    --user="$user" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" --skip-name-resolve --max-connections=500 \
    </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 150); do
    mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot >&2 <<'SQL'
CREATE DATABASE websocketdata CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'websocketdata'@'%' IDENTIFIED BY 'throwaway-password';
GRANT ALL PRIVILEGES ON websocketdata.* TO 'websocketdata'@'%';
SQL
  echo "export ROOMS_MARIADB_DIR='$dir'"
  echo "export ROOMS_MARIADB_CS='Server=127.0.0.1;Port=$port;Database=websocketdata;User=websocketdata;Password=throwaway-password'"
  ;;
stop)
  dir=$2
  # Wait for the server process itself, not its socket: mariadbd removes the socket before it has
  # finished writing its files, and removing the folder under it then fails ("Directory not empty").
  pid=$(cat "$dir/mysqld.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
sql)
  # scripts/mariadb-throwaway.sh sql "$ROOMS_MARIADB_DIR" "SELECT ..."
  mariadb --no-defaults --socket="$2/mysqld.sock" -uroot -N websocketdata -e "$3"
  ;;
*)
  echo "usage: $0 start | stop DIR | sql DIR QUERY" >&2
  exit 2
  ;;
esac
