#!/usr/bin/env bash
# The CI migration run: the server's `migrate` command against an empty MariaDB database must
# exit 0 and create every table. With ROOMS_TEST_MYSQL set, that server is migrated instead.
set -euo pipefail
host_dll=$1
here=$(dirname "$0")

run_migrate() {
  Database__Provider=MySql Database__MySqlServerVersion=10.11.0-mariadb ConnectionStrings__Rooms="$1" dotnet "$host_dll" migrate
}

if [ -n "${ROOMS_TEST_MYSQL:-}" ]; then
  run_migrate "$ROOMS_TEST_MYSQL"
  exit 0
fi

eval "$("$here/mariadb-throwaway.sh" start)"
trap '"$here/mariadb-throwaway.sh" stop "$ROOMS_MARIADB_DIR"' EXIT

run_migrate "$ROOMS_MARIADB_CS"

tables=$("$here/mariadb-throwaway.sh" sql "$ROOMS_MARIADB_DIR" \
  "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='websocketdata' AND table_name IN ('rooms','devices','connections','messages','room_queries','nodes','message_sequence')")
[ "$tables" = 7 ] || { echo "migrate left $tables of 7 tables"; exit 1; }
echo "migrate: all 7 tables created on an empty MariaDB database"
