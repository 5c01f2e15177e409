#!/usr/bin/env bash
# Side-by-side bulk identity resolution on one generated link table (default
# 10,000,000 links, ~12 M identifiers, ~5 M profiles, a few hubs): Stratum vs
# pandas factorize + scipy connected_components, python-igraph and networkx, end
# to end from the same TSV file, partitions checked identical. Makes its own
# virtual environment and input under benches/.compare/ (ignored by git). Not run
# by scripts/test.
#
#   benches/compare_identity.sh [LINKS] [TOOLS]
#   benches/compare_identity.sh 1000000 stratum,scipy,igraph
set -euo pipefail
cd "$(dirname "$0")/.."
links=${1:-10000000}
tools=${2:-stratum,scipy,igraph,networkx}
dir=benches/.compare
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install -q numpy pandas scipy networkx igraph
cargo build -q --release -p stratum-benches --bin bulk_links --bin resolve_tsv
target=${CARGO_TARGET_DIR:-target}
input="$dir/links_$links.tsv"
if [ ! -s "$input" ]; then
  "$target/release/bulk_links" --links "$links" --tsv "$input" >/dev/null
fi
"$dir/venv/bin/python" benches/compare_identity.py "$input" \
  --stratum "$target/release/resolve_tsv" --work "$dir" --tools "$tools"
