#!/usr/bin/env bash
# Ingest load, side by side in one run: the reference server (release build, on
# SQLite, then on PostgreSQL) and a minimal FastAPI + async SQLAlchemy equivalent
# (benches/server/fastapi_ingest.py, the hosted platform's stack), both driven by
# autocannon (npm) with /v1/batch requests of 100 unique track events, each
# committed and synced before its 200.
#
#   benches/server/compare.sh [SECONDS=60] [CONNECTIONS=16]
#
# For each server: events/s at CONNECTIONS, then p50/p99 latency at half that
# rate; the server's resident memory before and after; the pipeline lag after.
# PostgreSQL is a throwaway local server (examples/server/scripts/postgres.sh);
# set STRATUM_BENCH_SKIP_POSTGRES=1 to skip it.
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

stratum() { # name [database_url]
  local name=$1 url=${2:-} out="$work/stratum-$RANDOM"
  mkdir -p "$out"
  # Rate limits out of the way: this measures what the server can ingest.
  env ${url:+DATABASE_URL=$url} STRATUM_ADDR=127.0.0.1:0 STRATUM_DATA_DIR="$out" STRATUM_LOG=warn \
    STRATUM_RATE_PER_KEY=1000000 STRATUM_RATE_PER_TENANT=1000000 \
    "$root/target/release/stratum-server" >"$out/stdout" 2>"$out/log" &
  local spid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$out/stdout" 2>/dev/null && break; sleep 0.1; done
  local surl skey
  surl=$(sed -n 's/^stratum-server listening on //p' "$out/stdout")
  skey=$(sed -n 's/^  write key: *//p' "$out/stdout")
  measure "$name" "$surl" "$skey" "$spid"
  echo "  pipeline lag right after the load: $(curl -s "$surl/metrics" | sed -n 's/^stratum_pipeline_lag_events //p') events"
  sleep 1
  echo "  pipeline lag one second later: $(curl -s "$surl/metrics" | sed -n 's/^stratum_pipeline_lag_events //p') events"
  kill -TERM "$spid"; wait "$spid" || true
}

# The reference server.
stratum "stratum-server (SQLite)"
if [ "${STRATUM_BENCH_SKIP_POSTGRES:-0}" != 1 ]; then
  eval "$("$root/examples/server/scripts/postgres.sh" start)"
  psql -q "$STRATUM_TEST_POSTGRES" -c "CREATE DATABASE stratum_bench"
  stratum "stratum-server (PostgreSQL)" "${STRATUM_TEST_POSTGRES%/*}/stratum_bench"
  "$root/examples/server/scripts/postgres.sh" stop "$STRATUM_PG_DATA"
fi

# FastAPI + async SQLAlchemy on SQLite.
fkey="wk_fastapi_load_test_key"
(cd "$here" && STRATUM_FASTAPI_DB="$work/fastapi.db" STRATUM_WRITE_KEY="$fkey" \
  "$venv/bin/uvicorn" fastapi_ingest:app --host 127.0.0.1 --port 8765 --log-level warning \
  >"$work/fastapi.log" 2>&1) &
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:8765/docs && break; sleep 0.1; done
fpid=$(pgrep -f "uvicorn fastapi_ingest:app" | head -n 1)
measure "FastAPI + async SQLAlchemy (SQLite)" "http://127.0.0.1:8765" "$fkey" "$fpid"
kill -TERM "$fpid" 2>/dev/null || true
