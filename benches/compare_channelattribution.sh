#!/usr/bin/env bash
# Side-by-side of the exact Markov removal effect with the simulation-based
# `markov_model` of the PyPI `channelattribution` package, on the same 1,000,000
# paths over 12 channels. Makes its own virtual environment under benches/.compare/
# (ignored by git). Not run by scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=benches/.compare
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install -q channelattribution pandas matplotlib
cargo build -q --release -p stratum-benches --bin markov_compare
target=${CARGO_TARGET_DIR:-target}
rust_json=$("$target/release/markov_compare" "$dir/paths.csv")
"$dir/venv/bin/python" benches/compare_channelattribution.py "$dir/paths.csv" "$rust_json"
