"""Batch entry points: lists and Arrow-compatible columns and tables in, the same
kind out.

The native functions take lists, or Arrow arrays through the Arrow PyCapsule
interface (``__arrow_c_array__``), read without copying. This module only turns the
caller's container (pyarrow, polars, pandas) into Arrow arrays and the results back
into the caller's kind; pyarrow is needed for polars and pandas input.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native, errors

Progress = Union[bool, Callable[[int, int], Any], None]

__all__ = ["normalize_batch", "emq_report", "resolve_identities"]


def _kind(obj: object) -> str:
    module = type(obj).__module__.split(".")[0]
    name = type(obj).__name__
    if module == "pyarrow":
        return "pyarrow." + name
    if module == "polars":
        return "polars." + name
    if module == "pandas":
        return "pandas." + name
    return name


def _progress(progress: Progress, desc: str) -> Tuple[Optional[Callable[[int, int], Any]], Any]:
    """A ``(done, total)`` callback, and a tqdm bar to close (``progress=True``)."""
    if progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            return None, None
        bar = tqdm(desc=desc, unit="rows")

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return update, bar
    if progress is False or progress is None:
        return None, None
    return progress, None


def _pa() -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - exercised only without pyarrow
        raise ImportError("pyarrow is required for this input type (pip install pyarrow)") from e
    return pyarrow


def _string_chunks(pa: Any, column: Any) -> List[Any]:
    """A pyarrow Array or ChunkedArray as string chunks."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = []
    for c in chunks:
        t = c.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
                or str(t) == "string_view"):
            c = c.cast(pa.string())
        out.append(c)
    return out


def _polars_strings(pl: Any, series: Any) -> Any:
    return series if series.dtype == pl.String else series.cast(pl.String)


def _column(obj: Any, column: Optional[str]) -> Tuple[List[Any], Callable[[Any], Any]]:
    """``(chunks, rebuild)`` for an Arrow-compatible input: the chunks go to the
    native code (objects with ``__arrow_c_array__`` or ``__arrow_c_stream__``), and
    ``rebuild`` turns the native result (an ``ArrowArray``) into the caller's kind."""
    kind = _kind(obj)
    if kind == "polars.Series" and hasattr(obj, "__arrow_c_stream__"):
        import polars as pl

        return [_polars_strings(pl, obj)], lambda r: pl.Series(r).alias(obj.name)
    if kind == "polars.DataFrame" and hasattr(obj, "__arrow_c_stream__"):
        import polars as pl

        name = _has_column(obj.columns, _require_column(column), "column")
        col = _polars_strings(pl, obj.get_column(name))
        return [col], lambda r: obj.with_columns(pl.Series(r).alias(name))
    pa = _pa()
    if isinstance(obj, pa.Array):
        return _string_chunks(pa, obj), lambda r: pa.array(r)
    if isinstance(obj, pa.ChunkedArray):
        return _string_chunks(pa, obj), lambda r: pa.chunked_array([pa.array(r)])
    if isinstance(obj, (pa.Table, pa.RecordBatch)):
        name = _has_column(obj.schema.names, _require_column(column), "column")
        idx = obj.schema.get_field_index(name)
        if isinstance(obj, pa.Table):
            return _string_chunks(pa, obj.column(name)), lambda r: obj.set_column(idx, name, pa.array(r))
        return _string_chunks(pa, obj.column(name)), lambda r: pa.RecordBatch.from_arrays(
            [pa.array(r) if i == idx else obj.column(i) for i in range(obj.num_columns)],
            names=obj.schema.names)
    if kind == "polars.Series":  # polars without the Arrow PyCapsule interface
        import polars as pl

        return _string_chunks(pa, obj.to_arrow()), lambda r: pl.Series(obj.name, pa.array(r))
    if kind == "polars.DataFrame":
        import polars as pl

        name = _has_column(obj.columns, _require_column(column), "column")
        return _string_chunks(pa, obj.get_column(name).to_arrow()), lambda r: obj.with_columns(
            pl.Series(name, pa.array(r)))
    if kind == "pandas.Series":
        return _string_chunks(pa, pa.array(obj, from_pandas=True)), lambda r: pa.array(
            r).to_pandas().set_axis(obj.index).rename(obj.name)
    if kind == "pandas.DataFrame":
        name = _has_column(list(obj.columns), _require_column(column), "column")

        def rebuild(r: Any) -> Any:
            out = obj.copy()
            out[name] = pa.array(r).to_pandas().set_axis(obj.index)
            return out

        return _string_chunks(pa, pa.array(obj[name], from_pandas=True)), rebuild
    if hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__"):
        return [obj], lambda r: r
    raise errors.InvalidTypeError(
        f"unsupported input {type(obj).__name__}: pass a list of str, a pyarrow Array/"
        "ChunkedArray/Table/RecordBatch, a polars Series/DataFrame or a pandas Series/DataFrame",
        "invalid_json", "values")


def _like_arrow(arr: Any) -> Any:
    """A native warnings column as a pyarrow array when pyarrow is installed."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return arr
    return pa.array(arr)


def _require_column(column: Optional[str]) -> str:
    if column is None:
        raise errors.InvalidTypeError(
            "a table or data frame needs column=<name of the column to hash>", "invalid_json",
            "column")
    return column


def _has_column(names: Sequence[str], name: str, arg: str) -> str:
    """``name`` when the table has that column, else ``InvalidConfigError`` naming ``arg``."""
    if name not in list(names):
        raise errors.InvalidConfigError(
            f"invalid config: `{arg}` is {name!r}, which is not a column of the input "
            f"(columns: {', '.join(map(str, names))})", "invalid_config", arg)
    return name


@contextlib.contextmanager
def _converting(what: str) -> Iterator[None]:
    """Errors of pyarrow, polars or pandas while converting the caller's input
    (a value that is not valid UTF-8 or holds a lone surrogate, a column that cannot
    be cast to strings) → ``InvalidJsonError`` with the original as ``__cause__``."""
    try:
        yield
    except errors.StratumError:
        raise
    except (UnicodeError, ValueError, TypeError, LookupError) as e:
        raise errors.InvalidJsonError(
            f"invalid input: `{what}` cannot be read as strings: {e}", "invalid_json", what
        ) from e


def normalize_batch(
    normalizer: _native.Normalizer,
    platform: str,
    field: str,
    values: Any,
    *,
    column: Optional[str] = None,
    raw: bool = False,
    with_warnings: bool = False,
    progress: Progress = None,
) -> Any:
    """Normalises and hashes a batch of one field for one platform.

    ``values`` is a list of ``str | None`` (→ list), a pyarrow Array or ChunkedArray
    (→ the same), a polars or pandas Series (→ a Series, same name and index), or a
    table / data frame with ``column`` naming the column to hash (→ the same table
    with that column replaced). Dropped values (invalid data) become null. With
    ``with_warnings=True`` the result is ``(result, warnings)``, the warning codes as
    a list, or a pyarrow array (the native ``ArrowArray`` without pyarrow).
    ``progress`` is a ``(done, total)`` callback, or ``True`` for a tqdm bar when
    tqdm is installed. Polars input needs no pyarrow (Arrow PyCapsule stream).
    """
    callback, bar = _progress(progress, f"{platform} {field}")
    try:
        if isinstance(values, (list, tuple)):
            out, warnings = normalizer.normalize_list(
                platform, field, list(values), raw=raw, progress=callback)
            return (out, warnings) if with_warnings else out
        with _converting("column" if column is not None else "values"):
            chunks, rebuild = _column(values, column)
        out_arr, warn_arr = normalizer.normalize_arrow(
            platform, field, chunks, raw=raw, progress=callback)
        result = rebuild(out_arr)
        return (result, _like_arrow(warn_arr)) if with_warnings else result
    finally:
        if bar is not None:
            bar.close()


def _table(pa: Any, data: Any) -> Any:
    kind = _kind(data)
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return data
    if kind == "polars.DataFrame":
        return data.to_arrow()
    if kind == "pandas.DataFrame":
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise errors.InvalidTypeError(
        f"unsupported input {type(data).__name__}: pass a list of dicts, a pyarrow Table/"
        "RecordBatch or a polars/pandas DataFrame", "invalid_json", None)


def _single_array(pa: Any, column: Any) -> Any:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    t = column.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
            or str(t) == "string_view"):
        column = column.cast(pa.string())
    return column


def _cell(value: Any, index: int, key: str) -> Optional[str]:
    """One value of an ``emq_report`` row: a ``str``, an ``int`` (as its digits) or
    ``None``; anything else (``bytes``, floats, objects) is ``InvalidJsonError``
    rather than its ``str()``, which would be normalised and counted as valid."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    path = f"[{index}].{key}"
    raise errors.InvalidJsonError(
        f"invalid input at `{path}`: a value of type {errors._type_name(value)}; expected a "
        "str (or an int) or None (decode bytes first)", "invalid_json", path)


def emq_report(
    normalizer: _native.Normalizer,
    platform: str,
    events: Any,
    *,
    event_id: str = "event_id",
    options: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """A batch EMQ report (``stratum-emq-1``, our own heuristic, not a platform's
    score) with per-key coverage, the score distribution and ranked fix suggestions.

    ``events`` is a list of dicts (field name → value, plus ``event_id``) or a table
    / data frame whose columns named after fields (``email``, ``phone``,
    ``client_ip``, ...; see ``stratum.FIELDS``) hold the customer information;
    other columns are ignored.
    """
    if isinstance(events, (list, tuple)):
        rows = [
            {k: _cell(v, i, k) for k, v in row.items() if k == event_id or k in _native.FIELDS}
            for i, row in enumerate(events)
        ]
        if event_id != "event_id":
            for row in rows:
                if event_id in row:
                    row["event_id"] = row.pop(event_id)
        return _native.emq_report_rows(normalizer, platform, rows, options)
    if _kind(events) == "polars.DataFrame" and hasattr(events, "__arrow_c_stream__"):
        import polars as pl

        pcols = [(name, _polars_strings(pl, events.get_column(name)))
                 for name in events.columns if name in _native.FIELDS]
        pids = (_polars_strings(pl, events.get_column(event_id))
                if event_id in events.columns else None)
        return _native.emq_report_arrow(normalizer, platform, pcols, pids, options)
    pa = _pa()
    with _converting("events"):
        table = _table(pa, events)
        columns = [(name, _single_array(pa, table.column(name)))
                   for name in table.schema.names if name in _native.FIELDS]
        ids = (_single_array(pa, table.column(event_id))
               if event_id in table.schema.names else None)
    return _native.emq_report_arrow(normalizer, platform, columns, ids, options)


def resolve_identities(
    links: Any,
    *,
    left: str = "left",
    right: str = "right",
    blocklist: bool = True,
) -> Any:
    """Bulk identity resolution of a link table.

    ``links`` is a list of ``(a, b)`` pairs (→ dict identifier → component label),
    or a table / data frame with string columns ``left`` and ``right`` (→ a table of
    the same kind with columns ``identifier`` and ``component``; blocked values such
    as ``"undefined"`` get a null component).
    """
    if isinstance(links, (list, tuple)):
        return dict(_native.resolve_links(list(links), blocklist=blocklist))
    kind = _kind(links)
    if kind == "polars.DataFrame" and hasattr(links, "__arrow_c_stream__"):
        import polars as pl

        _has_column(links.columns, left, "left"), _has_column(links.columns, right, "right")
        with _converting("links"):
            lcol = _polars_strings(pl, links.get_column(left))
            rcol = _polars_strings(pl, links.get_column(right))
        ids, labels = _native.resolve_links_arrow(lcol, rcol, blocklist=blocklist)
        return pl.DataFrame([pl.Series(ids).alias("identifier"), pl.Series(labels).alias("component")])
    pa = _pa()
    with _converting("links"):
        table = _table(pa, links)
    _has_column(table.schema.names, left, "left"), _has_column(table.schema.names, right, "right")
    with _converting("links"):
        lcol, rcol = _single_array(pa, table.column(left)), _single_array(pa, table.column(right))
    ids, labels = _native.resolve_links_arrow(lcol, rcol, blocklist=blocklist)
    out = pa.table({"identifier": pa.array(ids), "component": pa.array(labels)})
    if kind == "pandas.DataFrame":
        return out.to_pandas()
    return out
