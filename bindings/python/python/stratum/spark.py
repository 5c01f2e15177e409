"""Normalisation inside Apache Spark: ``DataFrame.mapInArrow`` with the right schema.

``pyspark`` is imported only when a function here is called; it is never a
dependency of ``stratum``. The work runs in Spark's Python workers, one Arrow batch
at a time, with the same native code as :func:`stratum.normalize_batch`, so the
digests equal the single-process ones.

Spark trusts the schema it is given: a column declared ``NOT NULL`` that receives
a null (a value the platform rules drop) makes ``count()``, ``collect()`` and writes
fail inside the JVM, and ``filter(isNull)`` silently counts nothing. The schema
built here declares every normalised column nullable, whatever the input's.

>>> import stratum, stratum.spark                      # doctest: +SKIP
>>> n = stratum.Normalizer({"phone_region": {"default": "US"}})
>>> hashed = stratum.spark.normalize(df, n, "meta", {"email": "email", "phone": "phone"})
"""

from __future__ import annotations

from typing import Any, Iterator, List, Mapping, Sequence, Tuple, Union

from ._native import FIELDS, PLATFORMS, Normalizer
from .errors import InvalidConfigError

Columns = Union[Mapping[str, str], Sequence[str]]
"""Column name → field name (``{"mail": "email"}``), or column names that are field
names (``["email", "phone"]``)."""

WARNING_SUFFIX = "_warning"
"""Suffix of the warning column added per normalised column with ``with_warnings``."""


def _pairs(columns: Columns) -> List[Tuple[str, str]]:
    if isinstance(columns, str):
        raise InvalidConfigError(
            "columns must be a list of column names or a mapping of column to field, "
            f"not the string {columns!r}",
            field="columns",
        )
    pairs = list(columns.items()) if isinstance(columns, Mapping) else [(c, c) for c in columns]
    if not pairs:
        raise InvalidConfigError("columns is empty: name at least one column to normalise", field="columns")
    for _, field in pairs:
        if field not in FIELDS:
            raise InvalidConfigError(f"unknown field {field!r}; one of {', '.join(FIELDS)}", field="columns")
    return pairs


def normalized_schema(schema: Any, columns: Columns, *, with_warnings: bool = False) -> Any:
    """The Spark ``StructType`` of :func:`normalize`'s result for an input ``schema``.

    Every normalised column is a nullable string (a dropped value is null, even
    where the input column is ``NOT NULL``); other columns keep their type and
    nullability. With ``with_warnings`` a nullable string column
    ``<column>_warning`` per normalised column follows, holding the warning code
    of a dropped value.
    """
    from pyspark.sql.types import StringType, StructField, StructType

    pairs = _pairs(columns)
    by_name = {f.name: f for f in schema.fields}
    for column, _ in pairs:
        f = by_name.get(column)
        if f is None:
            raise InvalidConfigError(
                f"no column {column!r} in the data frame; it has {', '.join(schema.names)}",
                field="columns",
            )
        if not isinstance(f.dataType, StringType):
            raise InvalidConfigError(
                f"column {column!r} is {f.dataType.simpleString()}, not string: cast it "
                "first (platform rules read text)",
                field="columns",
            )
    normalized = {c for c, _ in pairs}
    fields = [
        StructField(f.name, StringType(), True) if f.name in normalized else f
        for f in schema.fields
    ]
    if with_warnings:
        taken = set(schema.names)
        for column, _ in pairs:
            name = column + WARNING_SUFFIX
            if name in taken:
                raise InvalidConfigError(
                    f"the warning column {name!r} would replace an existing column",
                    field="columns",
                )
            fields.append(StructField(name, StringType(), True))
    return StructType(fields)


def normalize(
    df: Any,
    normalizer: Normalizer,
    platform: str,
    columns: Columns,
    *,
    raw: bool = False,
    with_warnings: bool = False,
) -> Any:
    """``df`` with each of ``columns`` normalised (and hashed where ``platform``
    hashes that field), computed in Spark's Python workers with ``mapInArrow``.

    ``normalizer`` is built once on the driver and pickled to the workers (it is
    rebuilt from its config there). ``raw=True`` treats every value as raw text,
    never as an already-hashed digest. The schema is :func:`normalized_schema`.
    """
    if platform not in PLATFORMS:
        raise InvalidConfigError(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}", field="platform")
    if not isinstance(normalizer, Normalizer):
        raise InvalidConfigError(
            f"normalizer must be a stratum.Normalizer, not {type(normalizer).__name__}",
            field="normalizer",
        )
    pairs = _pairs(columns)
    out_schema = normalized_schema(df.schema, columns, with_warnings=with_warnings)
    index = {name: i for i, name in enumerate(df.schema.names)}
    targets = [(index[c], f) for c, f in pairs]

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        arrow_schema = None
        for batch in batches:
            if arrow_schema is None:
                arrow_schema = _arrow_schema(pa, batch.schema, targets, with_warnings, pairs)
            arrays = list(batch.columns)
            extra = []
            for i, field in targets:
                # Spark runs a task per core already: one thread each.
                values, warnings = normalizer.normalize_arrow(
                    platform, field, [batch.column(i)], raw=raw, threads=1
                )
                arrays[i] = pa.array(values)
                if with_warnings:
                    extra.append(pa.array(warnings))
            yield pa.RecordBatch.from_arrays(arrays + extra, schema=arrow_schema)

    return df.mapInArrow(run, out_schema)


def _arrow_schema(
    pa: Any, schema: Any, targets: List[Tuple[int, str]], with_warnings: bool,
    pairs: List[Tuple[str, str]],
) -> Any:
    """The Arrow schema of an output batch: the input's, with each normalised column
    a nullable string, and the warning columns."""
    normalized = {i for i, _ in targets}
    fields = [
        pa.field(f.name, pa.string(), nullable=True) if i in normalized else f
        for i, f in enumerate(schema)
    ]
    if with_warnings:
        fields += [pa.field(c + WARNING_SUFFIX, pa.string(), nullable=True) for c, _ in pairs]
    return pa.schema(fields)


def resolve_identities(
    df: Any,
    *,
    left: str = "left",
    right: str = "right",
    blocklist: bool = True,
    max_iterations: int = 64,
    checkpoint: bool = True,
) -> Any:
    """Connected components of a link table too large for one machine.

    ``df`` has string columns ``left`` and ``right``; a row is a link between two
    identifiers, or one identifier alone when the other end is null. The result has
    one row per distinct identifier: ``identifier`` and ``component``, the smallest
    identifier of its component (a label that does not depend on partitioning or
    order), null for blocked values such as ``"undefined"``.

    Three steps, all on Spark:

    1. each partition is resolved by the Rust bulk resolver (the same one as
       :func:`stratum.resolve_identities`), which leaves one edge per identifier, to
       the smallest identifier of its component within the partition;
    2. those edges are merged across partitions with the large-star / small-star
       alternation of Kiveris et al., "Connected Components in MapReduce and
       Beyond" (SoCC 2014), in DataFrame operations, until a round changes nothing.
       With ``checkpoint`` each round's edges are checkpointed (the session's
       checkpoint directory when set, a local checkpoint otherwise), so the plan
       does not grow with the rounds;
    3. each identifier's label is the smallest of its local roots and its final
       edge, taken per partition by an Arrow hash aggregation.

    The partition equals the single-machine resolver's: blocking is a rule on
    values, the same in every partition, and the rest is plain connectivity, which
    the merge preserves exactly. The identity graph's per-type limits and
    priorities are rules about the order links arrive in; they are not applied
    here (use :class:`stratum.IdentityGraph` where they must hold).
    """
    out, _ = _resolve(df, left, right, blocklist, max_iterations, checkpoint, native=True)
    return out


def _resolve(df: Any, left: str, right: str, blocklist: bool, max_iterations: int,
             checkpoint: bool, native: bool) -> Tuple[Any, int]:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    for name in (left, right):
        if name not in df.schema.names:
            raise InvalidConfigError(
                f"no column {name!r} in the link table; it has {', '.join(df.schema.names)}",
                field=name,
            )
        if not isinstance(df.schema[name].dataType, StringType):
            raise InvalidConfigError(
                f"column {name!r} is {df.schema[name].dataType.simpleString()}, not string",
                field=name,
            )
    if max_iterations < 1:
        raise InvalidConfigError("max_iterations must be at least 1", field="max_iterations")
    links = df.select(F.col(left).alias("l"), F.col(right).alias("r"))
    star_schema = StructType([
        StructField("u", StringType(), False),
        StructField("v", StringType(), True),
    ])
    if native:
        def local(batches: Iterator[Any]) -> Iterator[Any]:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

            from ._native import resolve_links_arrow

            lefts: List[Any] = []
            rights: List[Any] = []
            for batch in batches:
                lefts.append(batch.column(0))
                rights.append(batch.column(1))
            if not lefts:
                return
            ids, roots = resolve_links_arrow(
                pa.chunked_array(lefts, pa.string()), pa.chunked_array(rights, pa.string()),
                blocklist=blocklist, smallest=True,
            )
            yield pa.RecordBatch.from_arrays(
                [pa.array(ids), pa.array(roots)],
                schema=pa.schema([pa.field("u", pa.string(), False),
                                  pa.field("v", pa.string(), True)]),
            )

        stars = links.mapInArrow(local, star_schema)
    else:
        ends = links.select(F.col("l").alias("u"), F.col("r").alias("v")).filter(
            F.col("u").isNotNull()
        ).unionByName(
            links.select(F.col("r").alias("u"), F.col("l").alias("v")).filter(
                F.col("u").isNotNull()
            )
        )
        stars = ends.select("u", F.coalesce("v", "u").alias("v"))
    # Its lineage is short (the links and one pass): kept, not checkpointed.
    stars = stars.persist(StorageLevel.MEMORY_AND_DISK)
    edges = stars.filter(F.col("v").isNotNull() & (F.col("u") != F.col("v"))).select(
        F.least("u", "v").alias("u"), F.greatest("u", "v").alias("v")
    )
    if not native:
        edges = _persist(edges.distinct(), checkpoint)
    iterations = 0
    while True:
        iterations += 1
        if iterations > max_iterations:
            raise InvalidConfigError(
                f"connected components did not converge in {max_iterations} rounds",
                field="max_iterations",
            )
        if native:
            nxt = _persist(_star_round(edges), checkpoint)
            changed = nxt.filter(F.col("changed")).limit(1).count()
            nxt = nxt.select("u", "v")
        else:
            nxt = _persist(_small_star(_large_star(edges)), checkpoint)
            changed = nxt.exceptAll(edges).limit(1).count() + edges.exceptAll(nxt).limit(1).count()
        edges = nxt
        if changed == 0:
            break
    # Converged: every edge is (component minimum, member). An identifier's
    # component is the smallest of its rows' second ends: its star rows hold
    # identifiers of its component (none smaller than the minimum; a local root,
    # the minimum among them, has itself), its edge the minimum. A blocked
    # identifier has only a null there, and no edge.
    rows = stars.unionByName(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    if native:
        out = rows.repartition("u").mapInArrow(_smallest, StructType([
            StructField("identifier", StringType(), False),
            StructField("component", StringType(), True),
        ]))
    else:
        # Raw links: a component's minimum has no row with itself yet. Spark
        # aggregates the minimum of a string by sorting (`SortAggregate`).
        rows = rows.unionByName(stars.select("u", F.col("u").alias("v")))
        out = rows.groupBy("u").agg(F.min("v").alias("component")).withColumnRenamed(
            "u", "identifier"
        )
    return out, iterations


def _smallest(batches: Iterator[Any]) -> Iterator[Any]:
    """The ``mapInArrow`` function of the final labels: a partition's rows
    ``(identifier, candidate)``, every row of an identifier in the partition, to
    one row per identifier with its smallest candidate (byte order, as Spark and
    Rust compare strings; null when every candidate is null). Arrow aggregates by
    hashing; Spark's own ``min`` of a string sorts the rows first, and took about
    a fifth of the whole resolution's time."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    parts = [b for b in batches if b.num_rows]
    if not parts:
        return
    schema = pa.schema([pa.field("identifier", pa.string(), False),
                        pa.field("component", pa.string(), True)])
    out = pa.Table.from_batches(parts).group_by("u").aggregate([("v", "min")])
    for batch in out.select(["u", "v_min"]).to_batches():
        yield pa.RecordBatch.from_arrays(
            [column.cast(pa.string()) for column in batch.columns], schema=schema
        )


def _star_round(edges: Any) -> Any:
    """One round of the alternation, each operation one repartition by node and one
    pass of :func:`stratum._native.star_arrow` per partition: large-star over every
    edge under both ends, then small-star over its result under the larger end.
    The result's ``changed`` column marks edges the round changed."""
    from pyspark.sql import functions as F

    both = edges.select("u", "v", F.lit(False).alias("changed")).unionByName(
        edges.select(F.col("v").alias("u"), F.col("u").alias("v"), F.lit(False).alias("changed"))
    )
    large = both.repartition("u").mapInArrow(_star("large"), _edge_schema())
    under_larger = large.select(F.col("v").alias("u"), F.col("u").alias("v"), "changed")
    return under_larger.repartition("u").mapInArrow(_star("small"), _edge_schema())


def _edge_schema() -> Any:
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    return StructType([
        StructField("u", StringType(), False),
        StructField("v", StringType(), False),
        StructField("changed", BooleanType(), False),
    ])


def _star(kind: str) -> Any:
    """The ``mapInArrow`` function of one star operation: a partition's rows
    ``(node, neighbour, changed)`` in, its edges ``(u, v, changed)`` out."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        from ._native import star_arrow

        columns: List[List[Any]] = [[], [], []]
        for batch in batches:
            for i in range(3):
                columns[i].append(batch.column(i))
        if not columns[0]:
            return
        u, v, changed = star_arrow(kind, *(pa.chunked_array(c) for c in columns))
        yield pa.RecordBatch.from_arrays(
            [pa.array(u), pa.array(v), pa.array(changed)],
            schema=pa.schema([pa.field("u", pa.string(), False),
                              pa.field("v", pa.string(), False),
                              pa.field("changed", pa.bool_(), False)]),
        )

    return run


def _large_star(edges: Any) -> Any:
    """Large-star: every node links its larger neighbours to the smallest node of its
    neighbourhood (itself included). Edges are ``(u, v)`` with ``u < v``."""
    from pyspark.sql import functions as F

    both = edges.select("u", "v").unionByName(edges.select(F.col("v").alias("u"),
                                                           F.col("u").alias("v")))
    m = both.groupBy("u").agg(F.min("v").alias("m"))
    return (
        both.join(m, "u")
        .filter(F.col("v") > F.col("u"))
        .select(F.least("m", "u").alias("u"), F.col("v"))
        .filter(F.col("u") != F.col("v"))
        .distinct()
    )


def _small_star(edges: Any) -> Any:
    """Small-star: every node links itself and its smaller neighbours to the smallest
    of them. Edges are ``(u, v)`` with ``u < v``; the node is ``v``."""
    from pyspark.sql import functions as F

    m = edges.groupBy("v").agg(F.min("u").alias("m"))
    members = edges.select(F.col("v").alias("node"), F.col("u").alias("x")).unionByName(
        m.select(F.col("v").alias("node"), F.col("v").alias("x"))
    )
    return (
        members.join(m.withColumnRenamed("v", "node"), "node")
        .filter(F.col("x") != F.col("m"))
        .select(F.col("m").alias("u"), F.col("x").alias("v"))
        .distinct()
    )


def _persist(df: Any, checkpoint: bool) -> Any:
    if not checkpoint:
        return df
    spark = df.sparkSession
    if spark.sparkContext.getCheckpointDir():
        return df.checkpoint(eager=True)
    return df.localCheckpoint(eager=True)
