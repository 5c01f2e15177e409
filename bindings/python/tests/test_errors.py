"""Errors: one subclass per stable code, ``.code`` and ``.field``, panics mapped."""

from __future__ import annotations

import pickle

import pytest

import stratum
from stratum import errors


def test_crate_error_becomes_its_subclass_with_code_and_field() -> None:
    with pytest.raises(errors.InvalidConfigError) as info:
        stratum.HealthConfig({"thresholds": {"healthy": 10, "degraded": 50}})
    e = info.value
    assert e.code == "invalid_config"
    assert e.field == "health.thresholds.degraded"
    assert isinstance(e, stratum.StratumError)
    assert isinstance(e, ValueError)


def test_every_code_has_a_subclass_of_the_base() -> None:
    codes = {
        "invalid_config", "invalid_json", "invalid_observation", "invalid_action",
        "override_refused", "audit_integrity", "audit_io", "audit_locked", "missing_required_field",
        "event_too_old", "event_in_future", "insufficient_customer_info", "invalid_currency",
        "invalid_value", "invalid_message", "missing_identity", "invalid_timestamp",
        "too_large", "invalid_encoding", "invalid_definition", "not_found", "capacity_exceeded",
        "internal", "invalid_time", "stale_health", "health_config_mismatch", "not_permitted",
        "unknown_field", "unknown_platform",
    }
    assert set(errors.ERRORS_BY_CODE) == codes
    for code, cls in errors.ERRORS_BY_CODE.items():
        assert issubclass(cls, errors.StratumError)
        assert cls.code == code


def test_malformed_document_is_invalid_json() -> None:
    with pytest.raises(errors.InvalidJsonError) as info:
        stratum.TrustGate({"no_such_section": 1})
    assert info.value.code == "invalid_json"


def test_panic_surfaces_as_internal_error() -> None:
    with pytest.raises(errors.InternalError) as info:
        stratum._native._panic_for_test()
    assert info.value.code == "internal"
    assert "deliberate panic" in str(info.value)


def test_errors_survive_pickling() -> None:
    e = errors.InvalidConfigError("bad", "invalid_config", "x.y")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is errors.InvalidConfigError
    assert (back.code, back.field, str(back)) == ("invalid_config", "x.y", "bad")
