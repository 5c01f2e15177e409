"""Normalisation and hashing: the shared vectors, and batches of every kind."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum

VECTORS = json.loads((REPO / "testdata" / "normalization.json").read_text())
US = {"phone_region": {"default": "US"}}


def _normalizer(overrides: Optional[Dict[str, Any]] = None) -> stratum.Normalizer:
    return stratum.Normalizer({**VECTORS["defaults"], **(overrides or {})})


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["id"] for c in VECTORS["cases"]])
def test_shared_vector(case: Dict[str, Any]) -> None:
    n = _normalizer(case.get("config"))
    country = case.get("context", {}).get("country")
    got = n.normalize(case["platform"], case["field"], case["input"], country=country)
    want = case["expected"]
    if "warning" in want:
        assert got["warning"] == want["warning"]
        assert got["value"] is None
        return
    assert got["warning"] is None
    assert got["note"] == want.get("note")
    assert got["origin"] == want["origin"]
    assert got["value"] == want["value"]
    if want["origin"] == "hashed":
        assert got["normalized"] == want["normalized"]
        assert stratum.sha256_hex(got["normalized"]) == want["sha256"]
    elif want["origin"] == "raw":
        assert got["value"] == want["normalized"]
    else:
        assert got["normalized"] is None


@pytest.mark.parametrize("case", VECTORS["config_errors"], ids=[c["id"] for c in VECTORS["config_errors"]])
def test_shared_config_error(case: Dict[str, Any]) -> None:
    with pytest.raises(stratum.StratumError) as info:
        stratum.Normalizer(case["config"])
    assert info.value.code == case["code"]
    assert info.value.field == case["field"]


EMAILS = ["Alice@Example.com ", None, "not an email", "bob@example.org"]
EXPECTED = [_sha("alice@example.com"), None, None, _sha("bob@example.org")]


def test_list_batch_matches_single_values() -> None:
    n = stratum.Normalizer(US)
    values, warnings = stratum.normalize_batch(n, "meta", "email", EMAILS, with_warnings=True)
    assert values == EXPECTED
    assert warnings == [None, None, "invalid_email", None]


def test_pyarrow_array_and_chunked_array() -> None:
    import pyarrow as pa
    n = stratum.Normalizer(US)
    out = stratum.normalize_batch(n, "meta", "email", pa.array(EMAILS))
    assert isinstance(out, pa.Array)
    assert out.to_pylist() == EXPECTED
    chunked = pa.chunked_array([EMAILS[:2], EMAILS[2:]])
    out = stratum.normalize_batch(n, "meta", "email", chunked)
    assert isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == EXPECTED
    large = pa.array(EMAILS, type=pa.large_string())
    assert stratum.normalize_batch(n, "meta", "email", large).to_pylist() == EXPECTED


def test_pyarrow_table_replaces_the_column() -> None:
    import pyarrow as pa
    n = stratum.Normalizer(US)
    table = pa.table({"id": [1, 2, 3, 4], "email": EMAILS})
    out = stratum.normalize_batch(n, "meta", "email", table, column="email")
    assert isinstance(out, pa.Table)
    assert out.column_names == ["id", "email"]
    assert out.column("email").to_pylist() == EXPECTED
    assert out.column("id").to_pylist() == [1, 2, 3, 4]


def test_polars_in_polars_out() -> None:
    pl = pytest.importorskip("polars")
    n = stratum.Normalizer(US)
    out = stratum.normalize_batch(n, "meta", "email", pl.Series("em", EMAILS))
    assert isinstance(out, pl.Series)
    assert out.name == "em"
    assert out.to_list() == EXPECTED
    df = pl.DataFrame({"email": EMAILS, "n": [1, 2, 3, 4]})
    out = stratum.normalize_batch(n, "meta", "email", df, column="email")
    assert isinstance(out, pl.DataFrame)
    assert out["email"].to_list() == EXPECTED
    assert out["n"].to_list() == [1, 2, 3, 4]


def test_pandas_in_pandas_out() -> None:
    pd = pytest.importorskip("pandas")
    n = stratum.Normalizer(US)
    s = pd.Series(EMAILS, name="em", index=[10, 11, 12, 13])
    out = stratum.normalize_batch(n, "meta", "email", s)
    assert isinstance(out, pd.Series)
    assert out.name == "em"
    assert list(out.index) == [10, 11, 12, 13]
    assert [None if pd.isna(v) else v for v in out] == EXPECTED
    df = pd.DataFrame({"email": EMAILS})
    out = stratum.normalize_batch(n, "meta", "email", df, column="email")
    assert isinstance(out, pd.DataFrame)
    assert [None if pd.isna(v) else v for v in out["email"]] == EXPECTED


def test_progress_callback_reaches_the_total() -> None:
    n = stratum.Normalizer(US)
    seen: List[tuple] = []
    values = ["a@example.com"] * 70_000
    stratum.normalize_batch(n, "meta", "email", values, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (70_000, 70_000)
    assert all(t == 70_000 for _, t in seen)


def test_progress_true_does_not_fail() -> None:
    n = stratum.Normalizer(US)
    assert stratum.normalize_batch(n, "meta", "email", ["a@example.com"], progress=True) == [
        _sha("a@example.com")
    ]


def test_progress_that_is_not_callable_is_refused_before_any_work() -> None:
    n = stratum.Normalizer(US)
    for bad in (5, "yes", [1]):
        with pytest.raises(stratum.errors.InvalidTypeError) as e:
            stratum.normalize_batch(n, "meta", "email", ["a@example.com"] * 70_000, progress=bad)
        assert isinstance(e.value, TypeError)
        assert "callable" in str(e.value)
        with pytest.raises(stratum.errors.InvalidTypeError):
            n.normalize_list("meta", "email", ["a@example.com"], progress=bad)


def test_progress_callback_error_stops_the_batch() -> None:
    n = stratum.Normalizer(US)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stratum.normalize_batch(n, "meta", "email", ["a@example.com"] * 100_000, progress=stop)


def test_non_string_column_is_refused_natively() -> None:
    import pyarrow as pa
    n = stratum.Normalizer(US)
    with pytest.raises(stratum.InvalidJsonError):
        n.normalize_arrow("meta", "email", [pa.array([1, 2])])


def test_unknown_platform_and_field() -> None:
    n = stratum.Normalizer(US)
    with pytest.raises(stratum.errors.UnknownPlatformError) as p:
        n.normalize("myspace", "email", "a@b.com")
    assert (p.value.code, p.value.field) == ("unknown_platform", "platform")
    with pytest.raises(stratum.errors.UnknownFieldError) as f:
        n.normalize("meta", "shoe_size", "42")
    assert (f.value.code, f.value.field) == ("unknown_field", "field")
    assert isinstance(f.value, ValueError)


def test_platform_keys_and_aliases_name_fields_and_platforms() -> None:
    n = stratum.Normalizer(US)
    want = n.normalize("snapchat", "email", "Ann@Example.com")["value"]
    assert want == _sha("ann@example.com")
    assert n.normalize("snap", "em", "Ann@Example.com")["value"] == want
    assert n.normalize("google", "hashedEmail", "Ann@Example.com")["value"] == want
    assert n.normalize("meta", "zp", "94105-1234")["normalized"] == "94105"


def test_a_normalizer_without_phone_region_reads_all_but_national_phones() -> None:
    n = stratum.Normalizer({})
    assert n.normalize("meta", "email", "ann@example.com")["value"] == _sha("ann@example.com")
    assert n.normalize("meta", "phone", "+1 650 555 1212")["normalized"] == "16505551212"
    assert n.normalize("meta", "phone", "(650) 555-1212")["warning"] == "phone_region_required"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30))
def test_batch_equals_single_values(values: List[Optional[str]]) -> None:
    n = stratum.Normalizer(US)
    batch = stratum.normalize_batch(n, "meta", "email", values)
    single = [None if v is None else n.normalize("meta", "email", v)["value"] for v in values]
    assert batch == single


@settings(max_examples=200, deadline=None)
@given(st.emails())
def test_hashed_value_passes_through_unchanged(email: str) -> None:
    n = stratum.Normalizer(US)
    first = n.normalize("meta", "email", email)
    if first["value"] is not None:
        again = n.normalize("meta", "email", first["value"])
        assert again["value"] == first["value"]
        assert again["origin"] == "pre_hashed"


def test_record_batch_replaces_the_column() -> None:
    import pyarrow as pa
    n = stratum.Normalizer(US)
    batch = pa.RecordBatch.from_pydict({"email": EMAILS, "n": [1, 2, 3, 4]})
    out = stratum.normalize_batch(n, "meta", "email", batch, column="email")
    assert isinstance(out, pa.RecordBatch)
    assert out.column(0).to_pylist() == EXPECTED
    assert out.schema.names == ["email", "n"]


def test_native_arrow_result_is_an_arrow_pycapsule_producer() -> None:
    import pyarrow as pa
    pl = pytest.importorskip("polars")
    n = stratum.Normalizer(US)
    values, warnings = n.normalize_arrow("meta", "email", [pa.array(EMAILS[:2]), pa.array(EMAILS[2:])])
    assert len(values) == 4
    assert pl.Series(values).to_list() == EXPECTED
    assert pa.array(warnings).to_pylist() == [None, None, "invalid_email", None]


@pytest.mark.parametrize("field", ["email", "first_name"])
def test_the_thread_count_changes_nothing_but_speed(field: str) -> None:
    import pyarrow as pa
    n = stratum.Normalizer(US)
    values = pa.array((EMAILS + ["  Ann ", None]) * 5000)
    want = [pa.array(x).to_pylist() for x in n.normalize_arrow("meta", field, [values])]
    for threads in (0, 1, 3):
        got = n.normalize_arrow("meta", field, [values], threads=threads)
        assert [pa.array(x).to_pylist() for x in got] == want


def test_table_without_column_is_a_type_error() -> None:
    import pyarrow as pa
    with pytest.raises(TypeError):
        stratum.normalize_batch(stratum.Normalizer(US), "meta", "email", pa.table({"email": EMAILS}))


def test_polars_series_goes_through_the_arrow_stream_interface() -> None:
    pl = pytest.importorskip("polars")
    n = stratum.Normalizer(US)
    s = pl.Series("em", EMAILS)
    assert hasattr(s, "__arrow_c_stream__")
    values, warnings = n.normalize_arrow("meta", "email", [s])
    assert pl.Series(values).to_list() == EXPECTED
    chunked = pl.concat([pl.Series("em", EMAILS[:2]), pl.Series("em", EMAILS[2:])], rechunk=False)
    assert stratum.normalize_batch(n, "meta", "email", chunked).to_list() == EXPECTED
    ints = pl.Series("zip", [94105, None])
    assert stratum.normalize_batch(n, "meta", "zip", ints).to_list() == [_sha("94105"), None]


def _check_rows_aligned(field: str, valid, expected, bad_warning) -> None:
    """Normalises 150,000 values (more than one block of 65,536), a seventh null
    and a fifth invalid ("bad"), through a list and through Arrow: every row's
    result must be that row's own, and both paths must agree."""
    import pyarrow as pa
    n = stratum.Normalizer({"phone_region": {"default": "US"}})
    values = [None if i % 7 == 0 else (valid(i) if i % 5 else "bad") for i in range(150_000)]
    out, warnings = stratum.normalize_batch(n, "meta", field, values, with_warnings=True)
    for v, o, w in zip(values, out, warnings):
        if v is None:
            assert o is None and w is None
        elif v == "bad":
            assert o is None and bad_warning(w)
        else:
            assert o == expected(v) and w is None
    arrow, arrow_warnings = stratum.normalize_batch(
        n, "meta", field, pa.array(values), with_warnings=True)
    assert arrow.to_pylist() == out
    assert arrow_warnings.to_pylist() == warnings


def test_large_batches_keep_rows_aligned_across_blocks_and_threads() -> None:
    # A hashed field: every thread writes digests into fixed-width slots.
    _check_rows_aligned(
        "email",
        lambda i: f"User{i}@Example.com",
        lambda v: hashlib.sha256(v.lower().encode()).hexdigest(),
        lambda w: w == "invalid_email",
    )


def test_unhashed_fields_keep_rows_aligned_across_blocks_and_threads() -> None:
    # Meta takes IP addresses raw: the Arrow result is joined from per-thread
    # builders rather than written into fixed-width slots.
    _check_rows_aligned(
        "client_ip",
        lambda i: f"10.0.{i // 256 % 256}.{i % 256}",
        lambda v: v,
        lambda w: w is not None,
    )
