#!/usr/bin/env bash
# Normalisation + SHA-256 of 1 M emails inside Spark (local[2]): `stratum.spark` with
# Meta's full rules against Spark's built-in `sha2(lower(trim(email)), 256)` and a
# `pandas_udf` doing strip + lower + hashlib, on the same cached data frame in one run.
# Builds the wheel into its own virtual environment under benches/.compare/ (ignored
# by git). Needs Java 17. Not run by scripts/test.
#
#   benches/python/compare_spark.sh [rows]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=benches/.compare
mkdir -p "$dir" "${CARGO_TARGET_DIR:-target}"
target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
if [ ! -x "$dir/py-spark/bin/python" ]; then
  python3 -m venv "$dir/py-spark"
fi
"$dir/py-spark/bin/pip" install -q maturin==1.16.0 pyspark pyarrow pandas
rm -rf "$target/compare-wheels"
(cd bindings/python && CARGO_TARGET_DIR="$target" "../../$dir/py-spark/bin/maturin" build --release --quiet --out "$target/compare-wheels")
"$dir/py-spark/bin/pip" install -q --force-reinstall "$target"/compare-wheels/stratum-*.whl
"$dir/py-spark/bin/python" benches/python/compare_spark.py "$@"
