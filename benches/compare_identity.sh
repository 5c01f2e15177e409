#!/usr/bin/env bash
# Side-by-side bulk identity resolution on one generated link table (default
# 10,000,000 links, ~12 M identifiers, ~5 M profiles, a few hubs): Stratum (the
# Rust binary and the Python package from a Polars DataFrame) vs pandas factorize +
# scipy connected_components, python-igraph and networkx, end
# to end from the same TSV file, partitions checked identical. Makes its own
# virtual environment and input under benches/.compare/ (ignored by git). Not run
# by scripts/test.
#
#   benches/compare_identity.sh [LINKS] [TOOLS]
#   benches/compare_identity.sh 1000000 stratum,scipy,igraph
set -euo pipefail
cd "$(dirname "$0")/.."
links=${1:-10000000}
tools=${2:-stratum,stratum-python,scipy,igraph,networkx}
dir=benches/.compare
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install -q numpy pandas scipy networkx igraph polars
cargo build -q --release -p stratum-benches --bin bulk_links --bin resolve_tsv
target=${CARGO_TARGET_DIR:-target}
if [[ ",$tools," == *",stratum-python,"* ]]; then
  # The wheel, built the way bindings/python/scripts/test.sh builds it.
  if ! .tools/python-build/bin/maturin --version >/dev/null 2>&1; then
    python3 -m venv .tools/python-build
    .tools/python-build/bin/pip install -q "maturin==1.16.0"
  fi
  rm -rf "$dir/wheels"
  (cd bindings/python && ../../.tools/python-build/bin/maturin build --release --quiet --out "../../$dir/wheels")
  "$dir/venv/bin/pip" install -q --force-reinstall --no-deps "$dir"/wheels/stratum-*.whl
fi
input="$dir/links_$links.tsv"
if [ ! -s "$input" ]; then
  "$target/release/bulk_links" --links "$links" --tsv "$input" >/dev/null
fi
"$dir/venv/bin/python" benches/compare_identity.py "$input" \
  --stratum "$target/release/resolve_tsv" --work "$dir" --tools "$tools"
