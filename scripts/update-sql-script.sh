#!/usr/bin/env bash
# Regenerates the idempotent MySQL script for DBAs from the migrations (run after adding a migration).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
dotnet ef migrations script --idempotent --project migrations/MySql --output migrations/MySql/rooms-mysql.sql
