"""Times three ways of hashing 1 M emails inside Spark (local[2]) on one cached data
frame, each the best of seven interleaved runs, and checks that the two Meta-rule paths agree.

* `stratum.spark.normalize`: Meta's email rules (trim, lower-case, validity; invalid
  values dropped to null) and SHA-256, in Spark's Python workers over Arrow batches;
* Spark's built-in `sha2(lower(trim(email)), 256)`, in the JVM, without the platform
  rules (no validity check: invalid values are hashed);
* a `pandas_udf` doing `strip().lower()` + `hashlib.sha256` per value;
* `mapInArrow` passing the batches through untouched: the cost of moving the column
  to the Python workers and back, which every Python-side path pays;
* `mapInArrow` returning a ready-made 64-character string per row: the same, plus
  the cost of taking back a column of hex digests, 2.5 times the size of the
  e-mails sent (what any Python-side hashing pays before it hashes anything).

Each run forces every row through with a `count()` of non-null results.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

import pandas as pd  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import stratum  # noqa: E402
import stratum.spark  # noqa: E402

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .config("spark.driver.memory", "4g")
    .config("spark.sql.execution.arrow.maxRecordsPerBatch",
            os.environ.get("ARROW_BATCH", "10000"))
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")

df = (
    spark.range(rows, numPartitions=2)
    .select(
        F.when(F.col("id") % 14 == 0, F.lit("not an email"))
        .otherwise(F.concat(F.lit(" User."), F.col("id").cast("string"), F.lit("@Example.COM ")))
        .alias("email")
    )
    .cache()
)
df.count()

n = stratum.Normalizer({"phone_region": {"default": "US"}})


@F.pandas_udf("string")
def hashlib_udf(s: pd.Series) -> pd.Series:
    return s.map(lambda v: hashlib.sha256(v.strip().lower().encode()).hexdigest())


DIGEST = "0" * 64


def digests_back(batches):
    """Each batch with its e-mail column replaced by a 64-character string per row,
    sliced (without copying) from one column built once per task."""
    import pyarrow as pa

    column = pa.array([DIGEST] * 10_000)
    for batch in batches:
        if batch.num_rows > len(column):
            column = pa.array([DIGEST] * batch.num_rows)
        yield pa.RecordBatch.from_arrays([column.slice(0, batch.num_rows)], schema=batch.schema)


runs = {
    "stratum.spark.normalize (Meta rules)": lambda: stratum.spark.normalize(
        df, n, "meta", ["email"]
    ).filter(F.col("email").isNotNull()).count(),
    "sha2(lower(trim(email)))": lambda: df.select(
        F.sha2(F.lower(F.trim("email")), 256).alias("email")
    ).filter(F.col("email").isNotNull()).count(),
    "mapInArrow, batches passed through": lambda: df.mapInArrow(
        lambda batches: (b for b in batches), df.schema
    ).filter(F.col("email").isNotNull()).count(),
    "mapInArrow, 64-character strings back": lambda: df.mapInArrow(
        digests_back, df.schema
    ).filter(F.col("email").isNotNull()).count(),
    "pandas_udf + hashlib": lambda: df.select(hashlib_udf("email").alias("email"))
    .filter(F.col("email").isNotNull()).count(),
}
for run in runs.values():
    run()  # warm-up: workers started, Arrow paths loaded
# Interleaved (each path once per repetition), so that a drift of the machine's
# speed during the run weighs on every path alike.
best = {name: float("inf") for name in runs}
for _ in range(7):
    for name, run in runs.items():
        t = time.perf_counter()
        run()
        best[name] = min(best[name], time.perf_counter() - t)

ours = stratum.spark.normalize(df, n, "meta", ["email"]).limit(1000).collect()
want, _ = n.normalize_list("meta", "email", [r["email"] for r in df.limit(1000).collect()])
assert [r["email"] for r in ours] == list(want), "digests differ from the single-process path"

base = best["sha2(lower(trim(email)))"]
print(f"{rows:,} emails, local[2], best of 7 interleaved runs")
for name, t in best.items():
    print(f"  {name:40s} {t:6.3f} s  {rows / t / 1e6:5.2f} M/s  {t / base:4.2f}x of sha2")
spark.stop()
