#!/usr/bin/env bash
# Builds the `stratum` wheel and tests it as a user would get it: a release wheel
# installed into a fresh virtual environment, checked with mypy.stubtest, pytest
# (including the shared test vectors) and the walkthrough example.
#
#   bindings/python/scripts/test.sh
#
# maturin lives in a cached tools venv under .tools/; the test venv is recreated on
# every run (pip's cache keeps that fast). CARGO_TARGET_DIR is honoured.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "${CARGO_TARGET_DIR:-$root/target}"
target=$(cd "${CARGO_TARGET_DIR:-$root/target}" && pwd)
python=${PYTHON:-python3}
maturin_version=1.16.0

tools="$root/.tools/python-build"
if ! "$tools/bin/maturin" --version 2>/dev/null | grep -q "$maturin_version"; then
  rm -rf "$tools"
  "$python" -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "maturin==$maturin_version"
fi

wheels="$target/python-wheels"
rm -rf "$wheels"
(cd "$here" && CARGO_TARGET_DIR="$target" "$tools/bin/maturin" build --release --quiet --out "$wheels")
wheel=$(ls "$wheels"/stratum-*.whl)

venv="$target/python-test-venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "$wheel" pytest hypothesis mypy pyarrow polars pandas matplotlib tqdm \
  segment-analytics-python pyspark "dask[dataframe]"

cd "$here"
echo "stubtest"
"$venv/bin/python" -m mypy.stubtest stratum._native --allowlist "$here/stubtest-allowlist.txt"
# pytest in the environment $1 on the paths that follow. Every optional
# dependency is installed: a skipped test is a failure.
pytest_without_skips() {
  local env=$1 log
  shift
  log=$(mktemp)
  "$env/bin/python" -m pytest -q -p no:cacheprovider -rs "$@" | tee "$log"
  if grep -qi "skipped" "$log"; then
    echo "pytest skipped tests; every dependency is installed, so none may skip" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}
echo "pytest"
pytest_without_skips "$venv" tests
# Many clusters still run Spark 3.5: the Spark helpers are tested on that line
# too, in a second environment (pyspark 3.5 needs pandas 2 and NumPy 1).
echo "pytest: Spark 3.5"
venv35="$target/python-test-venv-spark35"
rm -rf "$venv35"
"$python" -m venv "$venv35"
"$venv35/bin/pip" install --quiet --disable-pip-version-check \
  "$wheel" pytest hypothesis "pyspark>=3.5,<3.6" "pyarrow<20" "pandas<2.3" "numpy<2" \
  "dask[dataframe]"
pytest_without_skips "$venv35" tests/test_spark.py
"$venv35/bin/python" -c "import pyspark; print('pyspark', pyspark.__version__)"
echo "walkthrough example"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
MPLBACKEND=Agg "$venv/bin/python" "$root/examples/python/walkthrough.py" "$out" --rows 2000 > /dev/null
ls "$out"/*.png > /dev/null
