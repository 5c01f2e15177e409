#!/usr/bin/env bash
# Runs Segment's official Python library (segment-analytics-python, pinned, from
# PyPI, in a venv under .tools/) against the real server binary on a free
# loopback port with a fresh data directory, then schemathesis against its OpenAPI
# document: no 5xx, every status, content type and response body as documented.
# With STRATUM_TEST_POSTGRES set (see postgres.sh), the server runs on a fresh
# PostgreSQL database of that server instead of SQLite.
#
#   examples/server/scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$(pwd)

venv="$root/.tools/server-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check \
  "segment-analytics-python==2.4.0" "pytest==9.0.2" "schemathesis==4.32.5"

cargo build -q -p stratum-server --locked
data=$(mktemp -d)
log="$data/server.out"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
database_url=
if [ -n "${STRATUM_TEST_POSTGRES:-}" ]; then
  name="stratum_client_$$_$(date +%s)"
  psql -q "$STRATUM_TEST_POSTGRES" -c "CREATE DATABASE $name"
  database_url="${STRATUM_TEST_POSTGRES%/*}/$name"
fi
env ${database_url:+DATABASE_URL=$database_url} STRATUM_ADDR=127.0.0.1:0 STRATUM_DATA_DIR="$data" \
  target/debug/stratum-server \
  >"$log" 2>"$data/server.log" &
pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^stratum-server listening on //p' "$log")
[ -n "$url" ] || { cat "$log" "$data/server.log" >&2; exit 1; }
STRATUM_URL="$url" \
STRATUM_WRITE_KEY=$(sed -n 's/^  write key: *//p' "$log") \
STRATUM_API_KEY=$(sed -n 's/^  API key: *//p' "$log") \
  "$venv/bin/python" -m pytest -q examples/server/tests/python

# schemathesis: once as the superadmin (every API route; logout excluded, as it
# would end the session under test), once with the write key (ingest, logout).
password=$(sed -n 's/^  superadmin login: superadmin@demo.local \/ //p' "$log")
token=$(curl -sf -X POST "$url/api/v1/auth/login" \
  -d "{\"email\": \"superadmin@demo.local\", \"password\": \"$password\"}" \
  | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
basic=$(printf '%s:' "$(sed -n 's/^  write key: *//p' "$log")" | base64 -w0)
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# (run from the scratch directory: schemathesis keeps its state in the working one)
cd "$data"
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" -H "Authorization: Bearer $token" \
  --exclude-path /api/v1/auth/logout --checks "$checks" --max-examples 30 --generation-database none
"$venv/bin/schemathesis" run "$url/api/v1/openapi.json" -H "Authorization: Basic $basic" \
  --checks "$checks" --max-examples 30 --generation-database none
cd "$root"

kill -TERM "$pid"
wait "$pid"
