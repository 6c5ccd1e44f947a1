#!/usr/bin/env bash
# Reproduces the README's Performance figures: each scenario three times through
# scripts/benchmark.sh (fresh database and server each run), printing the median.
# Takes about 25 minutes on a 2-core machine. Raw JSON goes to docs/perf/runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/perf/runs
mkdir -p "$out"

median() { python3 -c 'import json,sys,statistics
vals=[]
for f in sys.argv[2:]:
    d=json.load(open(f)); v=d
    for k in sys.argv[1].split("."):
        v=v[int(k)] if k.isdigit() else v[k]
    vals.append(v)
print(statistics.median(vals), vals)' "$@"; }

run() { # name provider args...
  local name=$1; shift
  for i in 1 2 3; do
    scripts/benchmark.sh "$@" --json > "$out/$name-$i.json.log" 2>&1 || echo "($name run $i did not hold or failed)"
    # The JSON document is the tool's output between the first '{' line and the closing '}' line.
    sed -n '/^{/,/^}/p' "$out/$name-$i.json.log" > "$out/$name-$i.json"
  done
}

run mariadb-5000 mariadb run --rate 5000 --duration 30 --warmup 5
run sqlite-3000 sqlite run --rate 3000 --duration 30 --warmup 5
run mariadb-room1000 mariadb run --rooms 1 --devices 1000 --rate 50 --duration 30 --warmup 5 --p99-target 100
run mariadb-ramp mariadb ramp --from 1000 --step 1000 --to 12000 --step-duration 10 --warmup 5 --svg docs/perf/ramp-mariadb.svg
run sqlite-ramp sqlite ramp --from 1000 --step 1000 --to 12000 --step-duration 10 --warmup 5 --svg docs/perf/ramp-sqlite.svg
run mariadb-idle mariadb connections -n 10000 --settle 10
run sqlite-idle sqlite connections -n 10000 --settle 10

for s in mariadb-5000 sqlite-3000 mariadb-room1000; do
  echo "$s p99 ms: $(median steps.0.p99_ms $out/$s-[123].json)  lost: $(median steps.0.lost $out/$s-[123].json)  deliveries/s: $(median steps.0.deliveries_per_second $out/$s-[123].json)"
done
for s in mariadb-idle sqlite-idle; do
  echo "$s bytes/connection: $(median server_bytes_per_connection $out/$s-[123].json)"
done
grep -h "messages table" "$out"/*.json.log | sort | uniq -c
