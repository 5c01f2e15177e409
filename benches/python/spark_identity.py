"""Identity resolution on Spark (local[2]): `stratum.spark.resolve_identities`
(per-partition Rust resolution, then large-star / small-star across partitions with
each operation one repartition and one Rust pass) against the same large-star /
small-star alternation written with Spark's own DataFrame operators (group-by, join,
distinct) on the raw links, on one Parquet link table per size, in one run. Checks
that both give the same partition, and the single-machine resolver's.

    python benches/python/spark_identity.py [links ...]     (default: 1000000)

Both sides first run once on a small table (JVM code compiled, Python workers
started), then each size runs both sides alternately (`SPARK_IDENTITY_REPS` times,
default 3); the line reports each side's median and the ratio of the medians.

The link table: people with 8 identifiers each (e-mail, device, user id, ...), a
link between two of one person's identifiers per row, and one row in 97 linking a
person to the next one, so components span people and partitions; rows shuffled.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

import pyarrow.compute as pc  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import stratum  # noqa: E402
import stratum.spark  # noqa: E402

sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.sql.shuffle.partitions", "8")
    .config("spark.driver.memory", "6g")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
tmp = tempfile.mkdtemp(prefix="stratum-spark-identity-")
spark.sparkContext.setCheckpointDir(os.path.join(tmp, "checkpoints"))

reps = int(os.environ.get("SPARK_IDENTITY_REPS", "3"))


def table(n: int) -> str:
    """The link table of `n` rows, written once as Parquet."""
    people = max(n // 4, 1)
    path = os.path.join(tmp, f"links-{n}.parquet")
    if os.path.exists(path):
        return path
    person = (F.col("id") * F.lit(2654435761)) % F.lit(people)
    (
        spark.range(n, numPartitions=8)
        .select(
            F.concat(F.lit("id"), person.cast("string"), F.lit(":"), (F.col("id") % 8).cast("string"))
            .alias("left"),
            F.when(F.col("id") % 97 == 0,
                   F.concat(F.lit("id"), ((person + 1) % people).cast("string"), F.lit(":0")))
            .otherwise(F.concat(F.lit("id"), person.cast("string"), F.lit(":"),
                                ((F.col("id") + 3) % 8).cast("string")))
            .alias("right"),
        )
        .orderBy(F.rand(7))
        .write.parquet(path)
    )
    return path


def resolve(links, native: bool):
    """One timed resolution: seconds, rounds, and the cached result."""
    t = time.perf_counter()
    out, rounds = stratum.spark._resolve(links, "left", "right", True, 64, True, native)
    out = out.cache()
    out.count()
    return time.perf_counter() - t, rounds, out


warm = spark.read.parquet(table(20_000))
for native in (True, False):
    resolve(warm, native)[2].unpersist()

for n in sizes:
    links = spark.read.parquet(table(n))
    times = {"stratum": [], "plain": []}
    rounds = {}
    kept = {}
    for rep in range(reps):
        for name, native in (("stratum", True), ("plain", False)):
            seconds, rounds[name], out = resolve(links, native)
            times[name].append(seconds)
            if rep == 0:
                kept[name] = out
            else:
                out.unpersist()
    a, b = kept["stratum"], kept["plain"]
    rows = a.count()
    differ = a.exceptAll(b).limit(1).count() + b.exceptAll(a).limit(1).count()
    components = a.select("component").distinct().count()
    med = {k: statistics.median(v) for k, v in times.items()}
    spread = {k: f"{min(v):.1f}-{max(v):.1f}" for k, v in times.items()}
    line = (f"{n:>11,} links  {rows:,} identifiers  {components:,} components | "
            f"stratum {med['stratum']:6.1f} s ({spread['stratum']}, {rounds['stratum']} rounds) | "
            f"plain {med['plain']:6.1f} s ({spread['plain']}, {rounds['plain']} rounds) | "
            f"{med['plain'] / med['stratum']:4.2f}x (medians of {reps}) | "
            f"same partition: {differ == 0}")
    # The single machine's labels (numbers) as the smallest identifier of each
    # component, compared with Spark's result column by column in Arrow.
    single = stratum.resolve_identities(links.toArrow())
    smallest = (single.filter(pc.is_valid(single["component"]))
                .group_by("component").aggregate([("identifier", "min")]))
    want = single.join(smallest, "component", join_type="left outer")
    got = a.toArrow().join(want.select(["identifier", "identifier_min"]), "identifier",
                           join_type="full outer")
    same = (got.num_rows == single.num_rows
            and got["identifier_min"].equals(got["component"]))
    line += f" | equals single machine: {same}"
    print(line, flush=True)
    for r in kept.values():
        r.unpersist()
spark.stop()
shutil.rmtree(tmp, ignore_errors=True)
