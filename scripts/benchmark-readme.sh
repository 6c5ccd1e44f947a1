#!/usr/bin/env bash
# Reproduces the README's Performance figures: each scenario three times through
# scripts/benchmark.sh (fresh database and server each run), printing the median.
# Takes about 45 minutes on a 2-core machine. Raw JSON goes to docs/perf/runs/.
# Only some scenarios: scripts/benchmark-readme.sh cluster  (or single)
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

held() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); print(max([s["target_rate"] for s in d["steps"] if s["held"]] or [0]))' "$1"; }

only=${1:-all}
ramp=(ramp --from 1000 --step 1000 --to 12000 --step-duration 10 --warmup 5)

if [ "$only" != cluster ]; then
run mariadb-5000 mariadb run --rate 5000 --duration 30 --warmup 5
run sqlite-3000 sqlite run --rate 3000 --duration 30 --warmup 5
run mariadb-room1000 mariadb run --rooms 1 --devices 1000 --rate 50 --duration 30 --warmup 5 --p99-target 100
run mariadb-ramp mariadb "${ramp[@]}" --svg docs/perf/ramp-mariadb.svg
run sqlite-ramp sqlite "${ramp[@]}" --svg docs/perf/ramp-sqlite.svg
run mariadb-idle mariadb connections -n 10000 --settle 10
run sqlite-idle sqlite connections -n 10000 --settle 10
fi

if [ "$only" != cluster ]; then
for s in mariadb-5000 sqlite-3000 mariadb-room1000; do
  echo "$s p99 ms: $(median steps.0.p99_ms $out/$s-[123].json)  lost: $(median steps.0.lost $out/$s-[123].json)  deliveries/s: $(median steps.0.deliveries_per_second $out/$s-[123].json)"
done
for s in mariadb-idle sqlite-idle; do
  echo "$s bytes/connection: $(median server_bytes_per_connection $out/$s-[123].json)"
done
grep -h "messages table" "$out"/*.json.log | sort | uniq -c
fi

if [ "$only" != single ]; then
  # One node and two nodes (every room split across both, one Redis) back to back in each run.
  for i in 1 2 3; do
    for nodes in 1 2; do
      name=cluster-ramp-${nodes}node
      NODES=$nodes scripts/benchmark.sh mariadb "${ramp[@]}" --json > "$out/$name-$i.json.log" 2>&1 || true
      sed -n '/^{/,/^}/p' "$out/$name-$i.json.log" > "$out/$name-$i.json"
    done
    one=$(held "$out/cluster-ramp-1node-$i.json"); two=$(held "$out/cluster-ramp-2node-$i.json")
    echo "cluster run $i: 1 node held $one sent/s, 2 nodes held $two sent/s, ratio $(python3 -c "print(round($two/$one, 2) if $one else 0)")"
  done
fi

