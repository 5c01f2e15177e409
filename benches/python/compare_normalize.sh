#!/usr/bin/env bash
# Normalisation + hashing of 1 M emails and 1 M phones: the `stratum` wheel's Arrow
# batch API against Meta's `facebook-business` SDK. Builds the wheel and makes its
# own virtual environment under benches/.compare/ (ignored by git). Not run by
# scripts/test.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=benches/.compare
mkdir -p "$dir" "${CARGO_TARGET_DIR:-target}"
target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
if [ ! -x "$dir/py-normalize/bin/python" ]; then
  python3 -m venv "$dir/py-normalize"
fi
"$dir/py-normalize/bin/pip" install -q maturin==1.16.0 facebook-business pyarrow
rm -rf "$target/compare-wheels"
(cd bindings/python && CARGO_TARGET_DIR="$target" "../../$dir/py-normalize/bin/maturin" build --release --quiet --out "$target/compare-wheels")
"$dir/py-normalize/bin/pip" install -q --force-reinstall "$target"/compare-wheels/stratum-*.whl
"$dir/py-normalize/bin/python" benches/python/compare_normalize.py "$@"
