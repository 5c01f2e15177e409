"""Full segment evaluation over a table or frame, returned as the caller's kind.

``Audiences.evaluate`` (native) reads Arrow columns and returns one boolean Arrow
column per audience; :func:`evaluate_segments` wraps it so that a polars
``DataFrame`` gives a polars ``DataFrame``, a pandas ``DataFrame`` a pandas
``DataFrame`` (same index) and anything else a pyarrow ``Table``. pyarrow is
needed for the conversion back.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ._native import Audiences

__all__ = ["evaluate_segments"]


def evaluate_segments(
    audiences: Audiences,
    table: Any,
    computed: Optional[Mapping[str, str]] = None,
    consent: Optional[Mapping[str, str]] = None,
) -> Any:
    """One boolean column per audience key, as a frame of the kind of ``table``.

    ``computed`` maps a computed-trait name to its column (default: the same
    name); ``consent`` maps a consent category to its boolean column (default:
    ``consent.<category>``).
    """
    import pyarrow as pa

    cols = audiences.evaluate(
        table,
        dict(computed) if computed is not None else None,
        dict(consent) if consent is not None else None,
    )
    arrays = {k: pa.array(v) for k, v in cols.items()}
    module = type(table).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        return pl.DataFrame({k: pl.from_arrow(v) for k, v in arrays.items()})
    if module == "pandas":
        out = pa.table(arrays).to_pandas()
        out.index = table.index
        return out
    return pa.table(arrays)
