"""Segment messages (one or a batch, clock-skew correction, per-element errors) and
de-duplication by ``messageId``.

Expected times are computed here with ``datetime`` arithmetic from Segment's
documented rule ``timestamp = receivedAt - (sentAt - originalTimestamp)``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum

UTC = dt.timezone.utc
RECEIVED = dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)


def track(**extra: Any) -> Dict[str, Any]:
    msg: Dict[str, Any] = {"type": "track", "messageId": "m1", "userId": "u1", "event": "Order"}
    msg.update(extra)
    return msg


def test_dict_str_and_bytes_give_the_same_message() -> None:
    doc = track(properties={"total": 12.5, "items": [1, 2]})
    text = json.dumps(doc)
    a = stratum.parse_message(doc, RECEIVED)
    b = stratum.parse_message(text, RECEIVED)
    c = stratum.parse_message(text.encode(), RECEIVED)
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert a.type == "track" and a.message_id == "m1" and a.user_id == "u1"
    assert a.anonymous_id is None and a.event == "Order"
    assert a.properties == {"total": 12.5, "items": [1, 2]}
    assert a.received_at == RECEIVED


def test_clock_skew_correction() -> None:
    original = dt.datetime(2026, 3, 1, 11, 58, 0, 250_000, tzinfo=UTC)
    sent = dt.datetime(2026, 3, 1, 13, 0, 0, tzinfo=UTC)  # the client clock runs an hour fast
    m = stratum.parse_message(
        track(originalTimestamp=original.isoformat(), sentAt=sent.isoformat()), RECEIVED
    )
    assert m.timestamp == RECEIVED - (sent - original)
    assert m.timestamp_source == "skew_corrected"
    assert m.original_timestamp == original and m.sent_at == sent
    assert m.timestamp.tzinfo is not None and m.timestamp.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("extra", "source", "expected"),
    [
        ({"timestamp": "2026-03-01T10:00:00Z"}, "client", dt.datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ({"originalTimestamp": "2026-03-01T11:00:00+01:00"}, "original_timestamp",
         dt.datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ({}, "received_at", RECEIVED),
        ({"receivedAt": "2026-02-01T00:00:00Z"}, "received_at", dt.datetime(2026, 2, 1, tzinfo=UTC)),
    ],
)
def test_timestamp_sources(extra: Dict[str, Any], source: str, expected: dt.datetime) -> None:
    m = stratum.parse_message(track(**extra), RECEIVED)
    assert (m.timestamp_source, m.timestamp) == (source, expected)


def test_identify_traits_context_and_consent() -> None:
    m = stratum.parse_message({
        "type": "identify", "messageId": "m2", "anonymousId": "a-1",
        "traits": {"email": "ann@example.com", "plan": "pro"},
        "context": {"ip": "203.0.113.7",
                    "consent": {"categoryPreferences": {"marketing": True, "ads": False}}},
        "integrations": {"All": True},
    }, RECEIVED)
    assert m.type == "identify" and m.anonymous_id == "a-1" and m.user_id is None
    assert m.traits == {"email": "ann@example.com", "plan": "pro"}
    assert m.context["ip"] == "203.0.113.7"
    assert m.consent == {"marketing": True, "ads": False}
    assert m.integrations == {"All": True}
    assert m.properties == {} and m.event is None and m.name is None
    page = stratum.parse_message(
        {"type": "page", "messageId": "m3", "anonymousId": "a-1", "name": "Home",
         "context": {"traits": {"plan": "free"}}}, RECEIVED)
    assert page.name == "Home" and page.traits == {"plan": "free"}
    grp = stratum.parse_message({"type": "group", "messageId": "m4", "userId": "u", "groupId": "g"})
    alias = stratum.parse_message({"type": "alias", "messageId": "m5", "userId": "u", "previousId": "a"})
    assert grp.group_id == "g" and alias.previous_id == "a"
    assert "m2" in repr(m)


@pytest.mark.parametrize(
    ("doc", "error", "code", "field"),
    [
        ({"type": "track", "messageId": "m1", "event": "x"},
         stratum.errors.MissingIdentityError, "missing_identity", "userId"),
        ({"type": "purchase", "messageId": "m1", "userId": "u"},
         stratum.errors.InvalidMessageError, "invalid_message", "type"),
        ("{not json", stratum.InvalidJsonError, "invalid_json", "$"),
        (b"[1, 2]", stratum.InvalidJsonError, "invalid_json", "$"),
        (track(timestamp="yesterday"), stratum.errors.InvalidTimestampError, "invalid_timestamp",
         "timestamp"),
        (track(timestamp="2026-03-03T12:00:06Z"), stratum.errors.InvalidTimestampError,
         "invalid_timestamp", "timestamp"),
    ],
)
def test_invalid_messages(doc: Any, error: type, code: str, field: str) -> None:
    with pytest.raises(error) as e:
        stratum.parse_message(doc, RECEIVED)
    assert isinstance(e.value, stratum.StratumError) and isinstance(e.value, ValueError)
    assert (e.value.code, e.value.field) == (code, field)


def test_parser_config() -> None:
    doc = track(properties={"note": "x" * 200})
    with pytest.raises(stratum.errors.TooLargeError) as e:
        stratum.parse_message(doc, RECEIVED, config={"max_message_bytes": 100})
    assert e.value.field == "$"
    # Two days ahead: rejected by default (one day), accepted with a wider window.
    ahead = track(timestamp="2026-03-03T12:00:00Z")
    m = stratum.parse_message(ahead, RECEIVED, config={"max_future_seconds": 3 * 86_400})
    assert m.timestamp == dt.datetime(2026, 3, 3, 12, tzinfo=UTC)
    with pytest.raises(stratum.errors.InvalidTimestampError):
        stratum.parse_message(track(timestamp="2001-01-01T00:00:00Z"), RECEIVED,
                              config={"min_timestamp": "2020-01-01T00:00:00Z"})
    with pytest.raises(stratum.InvalidConfigError) as c:
        stratum.parse_message(doc, RECEIVED, config={"max_message_bytes": 0})
    assert c.value.field == "max_message_bytes"
    with pytest.raises(stratum.InvalidConfigError) as c:
        stratum.parse_message(doc, RECEIVED, config={"max_future_seconds": -1})
    assert c.value.field == "max_future_seconds"
    with pytest.raises(stratum.InvalidJsonError):
        stratum.parse_message(doc, RECEIVED, config={"max_bytes": 10})


def test_batch_keeps_valid_and_reports_invalid() -> None:
    sent = "2026-03-01T13:00:00Z"
    out = stratum.parse_batch({
        "sentAt": sent,
        "context": {"library": {"name": "analytics.js"}},
        "batch": [
            {"type": "track", "messageId": "b1", "userId": "u", "event": "A",
             "originalTimestamp": "2026-03-01T12:59:00Z"},
            {"type": "track", "messageId": "b2", "event": "B"},
            {"type": "page", "messageId": "b3", "anonymousId": "a", "context": {"ip": "1.2.3.4"}},
            "not an object",
        ],
    }, RECEIVED)
    assert [m.message_id for m in out["messages"]] == ["b1", "b3"]
    first, third = out["messages"]
    # The batch-level sentAt corrects the element's clock: one minute before receipt.
    assert first.timestamp == RECEIVED - dt.timedelta(minutes=1)
    assert first.context == {"library": {"name": "analytics.js"}}
    assert third.context == {"library": {"name": "analytics.js"}, "ip": "1.2.3.4"}
    errors = [(e["index"], e["code"], e["field"]) for e in out["errors"]]
    assert errors == [(1, "missing_identity", "batch[1].userId"),
                      (3, "invalid_json", "batch[3]")]
    assert all(isinstance(e["message"], str) and e["message"] for e in out["errors"])


def test_batch_level_errors_raise() -> None:
    with pytest.raises(stratum.errors.InvalidMessageError) as e:
        stratum.parse_batch({"messages": []}, RECEIVED)
    assert e.value.field == "batch"
    with pytest.raises(stratum.errors.TooLargeError):
        stratum.parse_batch(json.dumps({"batch": [track()] * 50}).encode(), RECEIVED,
                            config={"max_message_bytes": 200, "max_batch_bytes": 1000})


def test_parsed_messages_feed_the_identity_graph_and_cdp() -> None:
    m = stratum.parse_message(
        {"type": "identify", "messageId": "m1", "anonymousId": "a-1", "userId": "u-1"}, RECEIVED)
    graph = stratum.IdentityGraph()
    graph.identify(m)
    assert graph.profile_of("anonymous_id", "a-1") == graph.profile_of("user_id", "u-1")
    cdp = stratum.Cdp()
    assert cdp.ingest(m)["outcome"] == "resolved"
    assert cdp.ingest(m)["outcome"] == "duplicate"
    raw = b'{"type": "page", "messageId": "m9", "anonymousId": "a-9"}'
    assert graph.identify(raw, RECEIVED)["profile"] is not None


# --- de-duplication --------------------------------------------------------------

def test_deduplicator_window() -> None:
    d = stratum.Deduplicator(window_seconds=60)
    assert d.window_seconds == 60 and len(d) == 0
    t0 = dt.datetime(2026, 3, 1, tzinfo=UTC)
    sec = dt.timedelta(seconds=1)
    assert d.check("m1", t0) is True
    assert d.check("m1", t0 + 60 * sec) is False       # |t - t'| <= window: duplicate
    assert d.check("m2", t0 + 61 * sec) is True        # m1 is now older than the window
    assert d.check("m1", t0 + 61 * sec) is True
    assert len(d) == 2
    assert stratum.Deduplicator().window_seconds == 86_400


def test_deduplicator_with_messages() -> None:
    docs = [track(messageId=i) for i in ("a", "b", "a", "c", "b")]
    msgs = [stratum.parse_message(doc, RECEIVED) for doc in docs]
    assert stratum.Deduplicator().check_messages(msgs) == [True, True, False, True, False]
    d = stratum.Deduplicator(window_seconds=10)
    assert d.check(msgs[0]) is True                    # at its received_at
    assert d.check(msgs[2]) is False
    assert d.check(msgs[2], RECEIVED + dt.timedelta(seconds=11)) is True


def test_deduplicator_rejects_bad_windows_and_ids() -> None:
    for bad in (0, -5, 10 * 366 * 86_400, 2**62):
        with pytest.raises(stratum.InvalidConfigError) as e:
            stratum.Deduplicator(window_seconds=bad)
        assert e.value.field == "dedup_window_seconds"
    with pytest.raises(stratum.InvalidJsonError):
        stratum.Deduplicator().check(42)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 50)), max_size=60),
       st.integers(1, 20))
def test_deduplicator_matches_a_reference_model(
    seen: List[Tuple[str, int]], window: int
) -> None:
    # With non-decreasing times, an id is a duplicate exactly when it was accepted at
    # most `window` seconds before.
    events = sorted(seen, key=lambda e: e[1])
    d = stratum.Deduplicator(window_seconds=window)
    accepted: Dict[str, int] = {}
    for mid, t in events:
        expect = not (mid in accepted and t - accepted[mid] <= window)
        if expect:
            accepted[mid] = t
        assert d.check(mid, t) is expect


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), max_size=30))
def test_batch_results_follow_the_input(valid: List[bool]) -> None:
    batch = [
        {"type": "track", "messageId": f"m{i}", "event": "E", **({"userId": "u"} if ok else {})}
        for i, ok in enumerate(valid)
    ]
    out = stratum.parse_batch({"batch": batch}, RECEIVED)
    assert [m.message_id for m in out["messages"]] == [f"m{i}" for i, ok in enumerate(valid) if ok]
    assert [e["index"] for e in out["errors"]] == [i for i, ok in enumerate(valid) if not ok]
