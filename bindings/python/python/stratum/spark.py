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
                values, warnings = normalizer.normalize_arrow(
                    platform, field, [batch.column(i)], raw=raw
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
