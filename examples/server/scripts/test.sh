#!/usr/bin/env bash
# Runs Segment's official Python library (segment-analytics-python, pinned, from
# PyPI, in a venv under .tools/) against the real server binary on a free
# loopback port with a fresh data directory.
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
  "segment-analytics-python==2.4.0" "pytest==8.3.5"

cargo build -q -p stratum-server --locked
data=$(mktemp -d)
log="$data/server.out"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
STRATUM_ADDR=127.0.0.1:0 STRATUM_DATA_DIR="$data" target/debug/stratum-server \
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
kill -TERM "$pid"
wait "$pid"
