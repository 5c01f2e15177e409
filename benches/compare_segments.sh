#!/usr/bin/env bash
# Side-by-side full evaluation of 50 segments over generated profiles (default
# 1,000,000 rows of 20 traits and 10 event counters): Stratum (the compiled,
# columnar plan, with the entered / exited transitions against the previous
# evaluation) and the same 50 predicates as Polars expressions, on the same
# machine in one run, member counts checked identical. Makes its own virtual
# environment and input under benches/.compare/ (ignored by git). Not run by
# scripts/test.
#
#   benches/compare_segments.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
dir=benches/.compare/segments_$rows
mkdir -p "$dir"
venv=benches/.compare/venv-seg
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q polars
cargo build -q --release -p stratum-benches --bin segments_compare
target=${CARGO_TARGET_DIR:-target}
if [ ! -s "$dir/profiles.csv" ]; then
  "$target/release/segments_compare" --rows "$rows" --runs 1 --export "$dir" >/dev/null
fi
"$target/release/segments_compare" --rows "$rows" --runs 7 >"$dir/stratum.json"
"$venv/bin/python" benches/compare_segments.py "$dir" --stratum "$dir/stratum.json"
