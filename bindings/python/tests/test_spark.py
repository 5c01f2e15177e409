"""`stratum.spark` on a real local Spark (`local[2]`), and the Dask recipe with a
process scheduler (so the normaliser really is pickled to the workers)."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Iterator, List, Optional

import pyarrow as pa
import pytest

import stratum
import stratum.spark

US = {"phone_region": {"default": "US"}}

EMAILS: List[Optional[str]] = [
    " Jane.Doe@Example.COM ",
    "not an email",
    "bob@example.org",
    "",
    "x@y.co",
    "@@",
    "MIXED@Case.Net",
    "  ",
] * 25
PHONES: List[Optional[str]] = [
    "(650) 253-0000",
    "12",
    "+44 20 7031 3000",
    "n/a",
    "+1 650 253 0000",
    "",
    "650.253.0000",
    "0",
] * 25


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("stratum-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "37")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _single(n: stratum.Normalizer, platform: str, field: str,
            values: List[Optional[str]]) -> List[Optional[str]]:
    out, _ = n.normalize_list(platform, field, values)
    return list(out)


def test_a_not_null_column_keeps_every_row_and_its_nulls(spark: Any) -> None:
    from pyspark.sql import functions as F

    n = stratum.Normalizer(US)
    rows = [(i, e) for i, e in enumerate(EMAILS)]
    df = spark.createDataFrame(rows, "id long not null, email string not null").repartition(3)
    assert not df.schema["email"].nullable
    hashed = stratum.spark.normalize(df, n, "meta", ["email"])
    assert hashed.schema["email"].nullable
    assert not hashed.schema["id"].nullable
    want = _single(n, "meta", "email", EMAILS)
    dropped = sum(v is None for v in want)
    assert dropped > 0
    assert hashed.count() == len(EMAILS)
    assert hashed.filter(F.col("email").isNull()).count() == dropped
    got = {r["id"]: r["email"] for r in hashed.collect()}
    assert [got[i] for i in range(len(EMAILS))] == want


def test_digests_and_warnings_equal_the_single_process_path(spark: Any) -> None:
    n = stratum.Normalizer(US)
    rows = [(i, e, p) for i, (e, p) in enumerate(zip(EMAILS, PHONES))]
    df = spark.createDataFrame(rows, "id long, mail string, phone string").repartition(4)
    out = stratum.spark.normalize(
        df, n, "google", {"mail": "email", "phone": "phone"}, with_warnings=True
    )
    assert out.columns == ["id", "mail", "phone", "mail_warning", "phone_warning"]
    got = sorted(out.collect(), key=lambda r: r["id"])
    for column, field, values in (("mail", "email", EMAILS), ("phone", "phone", PHONES)):
        want, warnings = n.normalize_list("google", field, values)
        assert [r[column] for r in got] == list(want)
        assert [r[column + "_warning"] for r in got] == list(warnings)


def test_empty_and_all_null_partitions(spark: Any, tmp_path: Any) -> None:
    n = stratum.Normalizer(US)
    empty = spark.createDataFrame([], "email string")
    assert stratum.spark.normalize(empty, n, "meta", ["email"]).collect() == []
    nulls = spark.createDataFrame([(None,)] * 50, "email string").repartition(3)
    out = stratum.spark.normalize(nulls, n, "meta", ["email"], with_warnings=True)
    assert [tuple(r) for r in out.collect()] == [(None, None)] * 50
    # More partitions than rows: some are empty; a write and a read back keep them all.
    few = spark.createDataFrame([("a@b.co",), (None,)], "email string").repartition(5)
    path = str(tmp_path / "hashed.parquet")
    stratum.spark.normalize(few, n, "meta", ["email"]).write.parquet(path)
    back = sorted((r["email"] or "") for r in spark.read.parquet(path).collect())
    assert back == sorted(["", _single(n, "meta", "email", ["a@b.co"])[0] or ""])


def test_bad_arguments_are_typed_errors_raised_on_the_driver(spark: Any) -> None:
    n = stratum.Normalizer(US)
    df = spark.createDataFrame([(1, "a@b.co")], "id long, email string")
    with pytest.raises(stratum.InvalidConfigError, match="not string"):
        stratum.spark.normalize(df, n, "meta", {"id": "external_id"})
    with pytest.raises(stratum.InvalidConfigError, match="no column"):
        stratum.spark.normalize(df, n, "meta", {"mail": "email"})
    with pytest.raises(stratum.InvalidConfigError, match="unknown field"):
        stratum.spark.normalize(df, n, "meta", {"email": "e-mail"})
    with pytest.raises(stratum.InvalidConfigError, match="unknown platform"):
        stratum.spark.normalize(df, n, "metaa", ["email"])
    with pytest.raises(stratum.InvalidConfigError, match="string"):
        stratum.spark.normalize(df, n, "meta", "email")
    taken = spark.createDataFrame([("a@b.co", "x")], "email string, email_warning string")
    with pytest.raises(stratum.InvalidConfigError, match="replace"):
        stratum.spark.normalize(taken, n, "meta", ["email"], with_warnings=True)


def test_dask_partitions_with_a_normaliser_built_once(tmp_path: Any) -> None:
    import dask
    import dask.dataframe as dd
    import pandas as pd

    n = stratum.Normalizer(US)
    frame = pd.DataFrame({"email": EMAILS, "id": range(len(EMAILS))})
    ddf = dd.from_pandas(frame, npartitions=4)
    out = ddf.map_partitions(
        lambda p: stratum.normalize_batch(n, "meta", "email", p, column="email")
    )
    with dask.config.set(scheduler="processes", num_workers=2):
        got = out.compute()
    got = got.sort_values("id")
    want = _single(n, "meta", "email", EMAILS)
    assert [None if pd.isna(v) else v for v in got["email"]] == want


def _canonical(pairs: Dict[str, Optional[int]]) -> Dict[str, Optional[str]]:
    """Single-machine labels → the smallest identifier of each component."""
    smallest: Dict[int, str] = {}
    for ident, label in pairs.items():
        if label is not None and (label not in smallest or ident < smallest[label]):
            smallest[label] = ident
    return {i: (None if lab is None else smallest[lab]) for i, lab in pairs.items()}


def _single_machine(links: List[Any]) -> Dict[str, Optional[str]]:
    """The single-machine resolver's labels of ``links``, as smallest identifiers."""
    table = pa.table({"left": [a for a, _ in links], "right": [b for _, b in links]})
    single = stratum.resolve_identities(table)
    return _canonical(dict(zip(single["identifier"].to_pylist(),
                               single["component"].to_pylist())))


def _random_links(seed: int, n: int, ids: int) -> List[Any]:
    import random

    rng = random.Random(seed)
    pool = [f"u{i}" for i in range(ids)] + ["undefined", "null", "0"]
    links: List[Any] = []
    for _ in range(n):
        a, b = rng.choice(pool), rng.choice(pool)
        roll = rng.random()
        links.append((a, None) if roll < 0.05 else (None, b) if roll < 0.08 else (a, b))
    return links


@pytest.mark.parametrize("seed,partitions", [(1, 1), (2, 3), (3, 8)])
def test_identity_resolution_on_spark_is_the_single_machine_partition(
    spark: Any, seed: int, partitions: int
) -> None:
    links = _random_links(seed, 3000, 2500)
    df = spark.createDataFrame(links, "left string, right string").repartition(partitions)
    got = {r["identifier"]: r["component"]
           for r in stratum.spark.resolve_identities(df).collect()}
    want = _single_machine(links)
    assert got == want
    assert got["undefined"] is None
    assert len({c for c in got.values() if c is not None}) > 10


def test_component_labels_are_the_smallest_identifier_in_code_point_order(spark: Any) -> None:
    # Labels are compared as UTF-8 bytes (code point order) at every step: in
    # the stars, in the final labels, and in Python's `min` of the expected ones.
    import random

    rng = random.Random(11)
    pool = ["z", "é", "ｚ", "😀", "\ufffd", "a\u0301", "Z", "ß", "日本", "~"]
    pool += [p + str(i) for p in pool for i in range(20)]
    links = [(rng.choice(pool), rng.choice(pool)) for _ in range(120)]
    df = spark.createDataFrame(links, "left string, right string").repartition(5)
    got = {r["identifier"]: r["component"]
           for r in stratum.spark.resolve_identities(df).collect()}
    want = _single_machine(links)
    assert got == want
    assert len(set(got.values())) > 20


def test_a_long_chain_across_partitions_converges(spark: Any) -> None:
    # A path u0 - u1 - ... - u399 spread over 7 partitions in shuffled order: the
    # worst case for label propagation, a few rounds for the star alternation.
    import random

    links = [(f"c{i:04d}", f"c{i + 1:04d}") for i in range(399)]
    random.Random(7).shuffle(links)
    df = spark.createDataFrame(links, "left string, right string").repartition(7)
    out, rounds = stratum.spark._resolve(df, "left", "right", True, 64, True, native=True)
    rows = out.collect()
    assert len(rows) == 400
    assert {r["component"] for r in rows} == {"c0000"}
    assert rounds < 20
    plain, _ = stratum.spark._resolve(df, "left", "right", True, 64, True, native=False)
    assert {r["component"] for r in plain.collect()} == {"c0000"}


def test_identity_resolution_arguments(spark: Any) -> None:
    df = spark.createDataFrame([("a", "b")], "a string, b string")
    with pytest.raises(stratum.InvalidConfigError, match="no column"):
        stratum.spark.resolve_identities(df)
    ints = spark.createDataFrame([(1, 2)], "left long, right long")
    with pytest.raises(stratum.InvalidConfigError, match="not string"):
        stratum.spark.resolve_identities(ints)
    empty = spark.createDataFrame([], "left string, right string")
    assert stratum.spark.resolve_identities(empty).collect() == []
