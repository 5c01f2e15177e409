"""Conversions at the boundary (``convert.rs``, ``locks.rs``, ``errors.py``): values
and arguments of unexpected types are typed errors, never their ``str()``, and
never a bare ``TypeError``, ``KeyError``, ``OverflowError`` or
``UnicodeEncodeError``."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import pickle
from typing import Any, Callable, Dict

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import stratum
from conftest import NOW, SCOPE, budget_change, healthy_signals
from stratum import errors

US = {"phone_region": {"default": "US"}}
RECEIVED = "2026-03-01T12:00:00Z"


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def _json_error(call: Callable[[], Any]) -> errors.InvalidJsonError:
    with pytest.raises(errors.InvalidJsonError) as info:
        call()
    assert info.value.code == "invalid_json"
    return info.value


# ---- values inside documents: never their str()

def test_bytes_inside_a_value_dict_is_refused_not_hashed_as_its_repr() -> None:
    n = stratum.Normalizer({})
    e = _json_error(lambda: n.normalize("meta", "email", {"raw": b"ann@example.com"}))
    assert e.field == "raw" and "bytes" in str(e)


@pytest.mark.parametrize("bad", [b"acme", {"a"}, object(), 1 + 2j])
def test_values_of_other_types_in_a_document_name_their_path(bad: Any) -> None:
    doc = healthy_signals()
    doc["scope"]["tenant"] = bad
    e = _json_error(lambda: stratum.Signals(doc))
    assert e.field == "scope.tenant"
    assert type(bad).__name__ in str(e)


def test_bytes_in_payload_events_and_override_actor_are_refused() -> None:
    n = stratum.Normalizer(US)
    event = {"event_name": "Purchase", "event_time": RECEIVED, "event_id": b"o-1",
             "action_source": "website", "event_source_url": "https://shop.example/",
             "user": {"email": {"raw": "ann@example.com"}}}
    e = _json_error(lambda: stratum.build_payloads(n, "meta", [event], NOW))
    assert e.field == "[0].event_id"
    event = dict(event, event_id="o-1", user={"email": {"raw": b"ann@example.com"}})
    assert _json_error(lambda: stratum.build_payloads(n, "meta", [event], NOW)).field == (
        "[0].user.email.raw")
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    request = {"target": {"scope": SCOPE, "id": "c"},
               "granted_by": {"type": "person", "id": b"u_7", "role": "admin"},
               "reason": "r", "expires_at": "2026-03-01T14:00:00Z"}
    assert _json_error(lambda: gate.grant_override(request, log, NOW)).field == "granted_by.id"
    assert len(log) == 0


def test_bytes_user_id_in_a_message_dict_is_refused() -> None:
    msg = {"type": "track", "messageId": "m1", "userId": b"u-1", "event": "x"}
    assert _json_error(lambda: stratum.parse_message(msg, RECEIVED)).field == "userId"


def test_emq_report_rows_refuse_bytes_instead_of_counting_them_valid() -> None:
    n = stratum.Normalizer(US)
    rows = [{"event_id": "o-1", "email": b"ann@example.com"}]
    e = _json_error(lambda: stratum.emq_report(n, "meta", rows))
    assert e.field == "[0].email"
    # ints keep working (as their digits), like an int column of a table
    assert stratum.emq_report(n, "meta", [{"event_id": 17, "email": "ann@example.com"}])["events"] == 1


def test_keys_that_are_not_text_and_circular_documents_are_invalid_json() -> None:
    doc: Dict[Any, Any] = healthy_signals()
    doc["emq"][("a", 1)] = 1
    e = _json_error(lambda: stratum.Signals(doc))
    assert e.field == "emq" and "tuple" in str(e)
    doc = healthy_signals()
    doc["emq"]["self"] = doc
    assert _json_error(lambda: stratum.Signals(doc)).field == "emq.self"


def test_numpy_and_pandas_scalars_are_their_numbers() -> None:
    doc = healthy_signals()
    doc["emq"]["events"] = np.int64(12000)
    doc["emq"]["score"] = np.float32(8.5)
    doc["api"]["total"] = pd.Series([2000]).iloc[0]
    doc["stability"]["error_rates"] = [np.float64(0.004), np.float16(0.005)]
    got = stratum.Signals(doc).to_dict()
    assert got["emq"]["events"] == 12000 and got["emq"]["score"] == 8.5
    assert got["api"]["total"] == 2000
    assert stratum.Signals(healthy_signals()).to_dict()["emq"] == dict(got["emq"], score=8.6)
    # numpy bools are bools; numpy datetimes (whose .item() may be nanoseconds) are refused
    assert errors._json_default(np.bool_(True)) is True
    doc = healthy_signals()
    doc["emq"]["observed_at"] = np.datetime64("2026-03-01T11:00:00.000000000")
    assert _json_error(lambda: stratum.Signals(doc)).field == "emq.observed_at"


def test_the_documented_extra_types_still_convert() -> None:
    doc = healthy_signals()
    doc["emq"]["observed_at"] = dt.datetime(2026, 3, 1, 11, tzinfo=dt.timezone.utc)
    assert stratum.Signals(doc).to_dict()["emq"]["observed_at"].startswith("2026-03-01T11:00:00")
    action = budget_change()
    action["kind"]["from"] = decimal.Decimal("500.10")
    assert stratum.ProposedAction(action).to_dict()["kind"]["from"] == "500.10"


# ---- arguments of the wrong type: InvalidTypeError (also a TypeError)

@pytest.mark.parametrize("call", [
    lambda: stratum.sha256_hex(None),
    lambda: stratum.sha256_hex(b"x"),
    lambda: stratum.Normalizer(US).normalize_list("meta", "email", "ann@example.com"),
    lambda: stratum.Normalizer(US).normalize_list("meta", "email", [1]),
    lambda: stratum.Normalizer(US).normalize("meta", "email", "a@b.co", raw="yes"),
    lambda: stratum.Deduplicator(1.5),
    lambda: stratum.Deduplicator("60"),
    lambda: stratum.Deduplicator(None),
    lambda: stratum.Cdp(dedup_window_seconds=1.5),
    lambda: stratum.build_payloads(stratum.Normalizer(US), "meta", [], NOW, batch_size="2"),
    lambda: stratum.build_audience(stratum.Normalizer(US), "tiktok", [], advertiser_ids="7000"),
    lambda: stratum.IdentityGraph().link("m", [("email", "a@b.co", "x")]),
    lambda: stratum.normalize_batch(stratum.Normalizer(US), "meta", "email", 5),
    lambda: stratum.normalize_batch(stratum.Normalizer(US), "meta", "email", pa.table({"e": ["x"]})),
    lambda: stratum.emq_report(stratum.Normalizer(US), "meta", 5),
    lambda: stratum.resolve_identities(5),
    lambda: stratum.HealthConfig().status_of("50"),
    lambda: stratum.AuditLog(123),
    lambda: stratum.TrustGate().decide(healthy_signals(), budget_change(), None, NOW),
    lambda: stratum.Guardrails().check(budget_change()),
    lambda: stratum.build_audience(stratum.Normalizer(US), "meta", None),
    lambda: stratum.build_audience(stratum.Normalizer(US), "meta", [{1: "a@b.co"}]),
    lambda: stratum.Audiences(None),
    lambda: stratum.Cdp().set_audiences(None),
])
def test_arguments_of_the_wrong_type_are_typed(call: Callable[[], Any]) -> None:
    with pytest.raises(errors.InvalidTypeError) as info:
        call()
    assert isinstance(info.value, errors.InvalidJsonError) and isinstance(info.value, TypeError)
    assert info.value.code == "invalid_json"


@pytest.mark.parametrize("call", [
    lambda: stratum.Deduplicator(True),
    lambda: stratum.Cdp(dedup_window_seconds=True),
    lambda: stratum.build_audience(stratum.Normalizer(US), "meta", [{"email": "a@b.co"}],
                                   batch_size=True),
    lambda: stratum.build_payloads(stratum.Normalizer(US), "meta", [], NOW, batch_size=False),
    lambda: stratum.HealthConfig().status_of(True),
])
def test_a_bool_is_not_a_size_a_window_or_a_score(call: Callable[[], Any]) -> None:
    with pytest.raises(errors.InvalidTypeError, match="bool"):
        call()


def test_integer_like_objects_are_ints() -> None:
    assert stratum.Deduplicator(np.int64(60)).window_seconds == 60


@pytest.mark.parametrize("call", [
    lambda: stratum.sha256_hex("\ud800"),
    lambda: stratum.AuditLog("/tmp/stratum-\ud800.jsonl"),
    lambda: stratum.parse_message(b"{}", content_encoding="\ud800"),
    lambda: stratum.normalize_batch(stratum.Normalizer(US), "meta", "email",
                                    pd.Series(["a@b.co", "\ud800"], dtype=object)),
    lambda: stratum.normalize_batch(stratum.Normalizer(US), "meta", "email",
                                    pa.table({"e": pa.array([b"\xff\xfe"], pa.binary())}),
                                    column="e"),
])
def test_text_that_is_not_unicode_is_invalid_json(call: Callable[[], Any]) -> None:
    _json_error(call)


@pytest.mark.parametrize("threads", [-1, 2**64])
def test_a_thread_count_out_of_range_is_invalid_config(threads: int) -> None:
    n = stratum.Normalizer(US)
    with pytest.raises(errors.InvalidConfigError) as info:
        n.normalize_arrow("meta", "email", [pa.array(["a@b.co"])], threads=threads)
    assert info.value.field == "threads"


def test_a_missing_column_is_invalid_config() -> None:
    n = stratum.Normalizer(US)
    for frame in (pa.table({"email": ["a@b.co"]}), pd.DataFrame({"email": ["a@b.co"]})):
        with pytest.raises(errors.InvalidConfigError) as info:
            stratum.normalize_batch(n, "meta", "email", frame, column="x")
        assert info.value.field == "column"
    with pytest.raises(errors.InvalidConfigError) as info:
        stratum.resolve_identities(pa.table({"left": ["a"], "other": ["b"]}))
    assert info.value.field == "right"


def test_a_negative_batch_size_is_reported_as_given() -> None:
    n = stratum.Normalizer(US)
    with pytest.raises(errors.InvalidConfigError, match="-1") as info:
        stratum.build_payloads(n, "meta", [], NOW, batch_size=-1)
    assert info.value.field == "batch_size"
    with pytest.raises(errors.InvalidConfigError, match="-5"):
        stratum.build_audience(n, "meta", [{"email": "a@b.co"}], batch_size=-5)


# ---- pickling keeps every attribute

def test_audit_integrity_error_keeps_its_index_through_pickling() -> None:
    e = errors.AuditIntegrityError("bad record", "audit_integrity", None)
    e.index = 3  # type: ignore[attr-defined]
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is errors.AuditIntegrityError
    assert (back.index, back.code, back.field, str(back)) == (3, "audit_integrity", None, "bad record")
    t = errors.InvalidTypeError("m", "invalid_json", "x")
    back_t = pickle.loads(pickle.dumps(t))
    assert type(back_t) is errors.InvalidTypeError and back_t.field == "x"


def test_the_fsync_policy_is_checked_for_an_in_memory_log_too() -> None:
    with pytest.raises(errors.InvalidConfigError) as info:
        stratum.AuditLog(None, fsync="bogus")
    assert info.value.field == "fsync"
    assert len(stratum.AuditLog(None, fsync="never")) == 0
