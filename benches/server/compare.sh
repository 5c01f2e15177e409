#!/usr/bin/env bash
# Ingest load, side by side in one run: the reference server (release build,
# SQLite) and a minimal FastAPI + async SQLAlchemy equivalent
# (benches/server/fastapi_ingest.py, the hosted platform's stack), both driven by
# autocannon (npm) with /v1/batch requests of 100 unique track events, each
# committed and synced before its 200.
#
#   benches/server/compare.sh [SECONDS=60] [CONNECTIONS=16]
#
# For each server: events/s at CONNECTIONS, then p50/p99 latency at half that
# rate; the server's resident memory before and after; the pipeline lag after.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
seconds=${1:-60}
connections=${2:-16}

npm ci --no-audit --no-fund --loglevel=error >/dev/null
venv="$root/.tools/fastapi-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
  "fastapi==0.115.12" "uvicorn==0.34.2" "sqlalchemy==2.0.40" "aiosqlite==0.21.0"
(cd "$root" && cargo build -q --release -p stratum-server --locked)

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
rss() { ps -o rss= -p "$1" | tr -d ' '; }
json_field() { node -e "const r=JSON.parse(process.argv[1]); console.log(eval('r.'+process.argv[2]))" "$1" "$2"; }

measure() { # name url key pid
  local name=$1 url=$2 key=$3 pid=$4 full half rate
  local before; before=$(rss "$pid")
  full=$(node load.mjs "$url" "$key" "$connections" "$seconds" 100)
  rate=$(( $(json_field "$full" requests_per_s) / 2 ))
  half=$(node load.mjs "$url" "$key" "$connections" "$seconds" 100 "$rate")
  local after; after=$(rss "$pid")
  echo "$name"
  echo "  full load, $connections connections: $(json_field "$full" events_per_s) events/s, p50 $(json_field "$full" latency_ms.p50) ms, p99 $(json_field "$full" latency_ms.p99) ms, errors $(json_field "$full" errors)"
  echo "  half that rate ($((rate * 100)) events/s): p50 $(json_field "$half" latency_ms.p50) ms, p99 $(json_field "$half" latency_ms.p99) ms, errors $(json_field "$half" errors)"
  echo "  resident memory: $((before / 1024)) MiB before, $((after / 1024)) MiB after"
}

# The reference server.
STRATUM_ADDR=127.0.0.1:0 STRATUM_DATA_DIR="$work/stratum" STRATUM_LOG=warn \
  "$root/target/release/stratum-server" >"$work/stratum.out" 2>"$work/stratum.log" &
spid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$work/stratum.out" 2>/dev/null && break; sleep 0.1; done
surl=$(sed -n 's/^stratum-server listening on //p' "$work/stratum.out")
skey=$(sed -n 's/^  write key: *//p' "$work/stratum.out")
measure "stratum-server (SQLite)" "$surl" "$skey" "$spid"
echo "  pipeline lag right after the load: $(curl -s "$surl/metrics" | sed -n 's/^stratum_pipeline_lag_events //p') events"
sleep 1
echo "  pipeline lag one second later: $(curl -s "$surl/metrics" | sed -n 's/^stratum_pipeline_lag_events //p') events"
kill -TERM "$spid"; wait "$spid" || true

# FastAPI + async SQLAlchemy on SQLite.
fkey="wk_fastapi_load_test_key"
(cd "$here" && STRATUM_FASTAPI_DB="$work/fastapi.db" STRATUM_WRITE_KEY="$fkey" \
  "$venv/bin/uvicorn" fastapi_ingest:app --host 127.0.0.1 --port 8765 --log-level warning \
  >"$work/fastapi.log" 2>&1) &
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:8765/docs && break; sleep 0.1; done
fpid=$(pgrep -f "uvicorn fastapi_ingest:app" | head -n 1)
measure "FastAPI + async SQLAlchemy (SQLite)" "http://127.0.0.1:8765" "$fkey" "$fpid"
