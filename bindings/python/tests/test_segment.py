"""Segments and audiences: parse / JSON form / validation with typed errors, full
evaluation over pyarrow, polars and pandas frames, incremental audiences through
``Cdp`` with transitions and events, and audience sync payloads."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

import stratum
from stratum import errors

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def test_parse_print_and_json_round_trip() -> None:
    s = stratum.Segment.parse(
        'performed "Order Completed" at least 2 times within 30d where properties.total > 50'
        ' and plan = "pro"'
    )
    assert stratum.Segment.parse(s.to_text()) == s
    assert stratum.Segment.from_json(s.to_json()) == s
    assert stratum.Segment.from_json(s.to_dict()) == s
    d = s.to_dict()
    assert d["and"][1] == {"trait": {"name": "plan", "op": "eq", "value": {"string": "pro"}}}
    assert d["and"][0]["event"]["count"] == {"at_least": 2}
    assert str(s) == s.to_text()


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(errors.SegmentSyntaxError) as info:
        stratum.Segment.parse('plan = "pro" and\n  performed 12')
    e = info.value
    assert (e.line, e.column) == (2, 13)
    assert e.code == "segment_syntax"
    assert "event name" in str(e)
    assert isinstance(e, ValueError)


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ('plan > "pro"', errors.TypeMismatchError),
        ('performed "X" within 0d', errors.SegmentLimitError),
        ("(" * 100 + "a = 1" + ")" * 100, errors.SegmentLimitError),
        ("a = " + "9" * 40, errors.SegmentLimitError),
        ("a = ", errors.SegmentSyntaxError),
    ],
)
def test_bad_input_gets_typed_errors(text: str, cls: type) -> None:
    with pytest.raises(cls):
        stratum.Segment.parse(text)


def test_validation_suggests_the_closest_name() -> None:
    schema = {"traits": {"plan": "string", "age": "number"}, "events": {}, "computed": {}}
    stratum.Segment.parse('plan = "pro" and age > 3').validate(schema)
    with pytest.raises(errors.UnknownNameError) as info:
        stratum.Segment.parse('plna = "pro"').validate(schema)
    assert 'did you mean "plan"' in str(info.value)
    assert info.value.field == "$.trait.name"
    with pytest.raises(errors.TypeMismatchError):
        stratum.Segment.parse('age = "old"').validate(schema)


def test_cycles_are_refused() -> None:
    with pytest.raises(errors.SegmentCycleError):
        stratum.Audiences(
            [{"key": "a", "segment": 'in audience "b"'}, {"key": "b", "segment": 'in audience "a"'}]
        )


AUDIENCES = [
    {"key": "pro_spenders", "segment": 'plan = "pro" and ltv >= 100.5'},
    {"key": "young_or_vip", "segment": "age < 30 or vip = true"},
    {"key": "pro_not_young", "segment": stratum.Segment.parse('in audience "pro_spenders" and not in audience "young_or_vip"')},
    {"key": "ads", "segment": {"consent": "advertising"}},
    {"key": "frequent", "segment": "computed orders_30d >= 3"},
]
ROWS = {
    "plan": ["pro", "free", "pro", None, "pro"],
    "ltv": [150.0, 500.0, 100.5, 999.0, None],
    "age": [45, 20, 31, None, 50],
    "vip": [False, False, True, None, False],
    "consent.advertising": [True, False, None, True, True],
    "orders": [3, 0, 5, 1, 2],
}
WANT = {
    "pro_spenders": [True, False, True, False, False],
    "young_or_vip": [False, True, True, False, False],
    "pro_not_young": [True, False, False, False, False],
    "ads": [True, False, False, True, True],
    "frequent": [True, False, True, False, False],
}


def _audiences() -> stratum.Audiences:
    return stratum.Audiences(AUDIENCES)


def test_full_evaluation_over_pyarrow() -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table(ROWS)
    out = stratum.evaluate_segments(_audiences(), table, computed={"orders_30d": "orders"})
    assert isinstance(out, pa.Table)
    assert {k: out[k].to_pylist() for k in WANT} == WANT
    raw = _audiences().evaluate(table, {"orders_30d": "orders"})
    assert pa.array(raw["ads"]).to_pylist() == WANT["ads"]


def test_full_evaluation_over_polars_and_pandas() -> None:
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    out = stratum.evaluate_segments(_audiences(), pl.DataFrame(ROWS), computed={"orders_30d": "orders"})
    assert isinstance(out, pl.DataFrame)
    assert {k: out[k].to_list() for k in WANT} == WANT
    frame = pd.DataFrame(ROWS, index=[10, 11, 12, 13, 14])
    out = stratum.evaluate_segments(_audiences(), frame, computed={"orders_30d": "orders"})
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert {k: list(out[k]) for k in WANT} == WANT


def test_a_missing_column_is_named() -> None:
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(errors.UnknownNameError) as info:
        _audiences().evaluate(pa.table({"plan": ["pro"]}))
    assert "ltv" in str(info.value)


def _msg(mid: str, body: dict, when: dt.datetime = T0) -> dict:
    return {"messageId": mid, "timestamp": when.isoformat(), **body}


def test_incremental_audiences_through_cdp() -> None:
    cdp = stratum.Cdp()
    cdp.set_audiences([
        {"key": "buyers", "name": "Buyers", "segment": 'performed "Order Completed" within 1d'},
        {"key": "pro", "segment": 'plan = "pro"'},
    ])
    cdp.ingest(_msg("i1", {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}), T0)
    cdp.ingest(_msg("o1", {"type": "track", "userId": "u1", "event": "Order Completed"}), T0)
    [profile] = cdp.profiles()
    assert cdp.audience_members("buyers") == [profile]
    events = cdp.take_transitions(as_events=True)
    assert [e["event"] for e in events] == ["Audience Entered", "Audience Entered"]
    assert {e["properties"]["audience_key"] for e in events} == {"pro", "buyers"}
    assert any(e["properties"]["audience_name"] == "Buyers" for e in events)
    # the window slides past the order only when the clock is advanced
    out = cdp.advance_time(T0 + dt.timedelta(days=1))
    assert [(t["audience"], t["kind"]) for t in out] == [("buyers", "exited")]
    assert cdp.audience_members("buyers") == []
    assert cdp.evaluate_audiences(T0 + dt.timedelta(days=1)) == {"buyers": [], "pro": [profile]}
    assert [t["kind"] for t in cdp.audience_history()] == ["entered", "entered", "exited"]
    with pytest.raises(errors.InvalidTimestampError):
        cdp.advance_time(T0)


def test_audience_sync_payloads() -> None:
    cdp = stratum.Cdp()
    cdp.set_audiences([{"key": "pro", "segment": 'plan = "pro"'}])
    consent = {"consent": {"categoryPreferences": {"advertising": True}}}
    cdp.ingest(_msg("i1", {"type": "identify", "userId": "u1", "context": consent,
                           "traits": {"plan": "pro", "email": " Ann@Example.com"}}), T0)
    cdp.ingest(_msg("i2", {"type": "identify", "userId": "u2",
                           "traits": {"plan": "pro", "email": "bob@example.com"}}), T0)
    normalizer = stratum.Normalizer({"phone_region": {"default": "US"}})
    first = cdp.sync_audience(normalizer, {"audience": "pro", "platform": "meta"})
    ann = hashlib.sha256(b"ann@example.com").hexdigest()
    bob = hashlib.sha256(b"bob@example.com").hexdigest()
    body = str(first["result"]["add"])
    assert ann in body and bob not in body
    assert first["result"]["full"] is True
    assert len(first["result"]["withheld"]) == 1
    again = cdp.sync_audience(normalizer, {"audience": "pro", "platform": "meta"}, first["state"])
    assert again["result"]["add"] is None and again["result"]["remove"] is None
    replay = cdp.sync_audience(normalizer, {"audience": "pro", "platform": "meta"}, None, from_history=True)
    assert replay["result"] == first["result"]
