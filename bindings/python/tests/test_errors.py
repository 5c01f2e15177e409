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
    # The codes come from the crates (`stratum_bindings::codes()`): a code added to a
    # crate fails here until it has its exception class.
    assert set(errors.ERRORS_BY_CODE) == set(stratum._native.ERROR_CODES)
    assert len(stratum._native.ERROR_CODES) == len(set(stratum._native.ERROR_CODES))
    for code, cls in errors.ERRORS_BY_CODE.items():
        assert issubclass(cls, errors.StratumError)
        assert cls.code == code


def test_a_code_without_a_class_falls_back_to_the_base() -> None:
    e = errors._make("no_such_code", "m", None)
    assert type(e) is errors.StratumError
    assert e.code == "no_such_code"


def test_invalid_json_names_the_path() -> None:
    with pytest.raises(errors.InvalidJsonError) as info:
        stratum.TrustGate({"hysteresis": {"window": "five"}})
    assert info.value.field == "hysteresis.window"


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


def test_parser_config_errors_name_the_field() -> None:
    doc = '{"type": "track", "event": "x", "userId": "u"}'
    with pytest.raises(errors.InvalidJsonError) as info:
        stratum.parse_message(doc, "2026-03-01T12:00:00Z", config={"max_message_bytes": "big"})
    assert info.value.field == "max_message_bytes"
    with pytest.raises(errors.InvalidConfigError) as c:
        stratum.parse_message(doc, "2026-03-01T12:00:00Z", config={"max_batch_bytes": 0})
    assert c.value.field == "max_batch_bytes"


def test_identity_config_errors_keep_their_kind_and_field() -> None:
    with pytest.raises(errors.InvalidConfigError) as c:
        stratum.IdentityGraph({"rules": [{"kind": "email", "priority": 0, "limit": 5}]})
    assert c.value.field == "rules[0].priority"
    with pytest.raises(errors.InvalidJsonError) as j:
        stratum.IdentityGraph({"rules": 5})
    assert j.value.field == "rules"


def test_trait_definition_errors_name_the_definition() -> None:
    defs = [
        {"name": "orders", "kind": "count", "event": "Order Completed"},
        {"name": "", "kind": "count", "event": "Order Completed"},
    ]
    with pytest.raises(errors.InvalidDefinitionError) as d:
        stratum.Cdp(computed_traits=defs)
    assert d.value.field == "[1].name"


def test_identifier_kinds_are_parsed_by_the_crate() -> None:
    g = stratum.IdentityGraph()
    assert g.profile_of("external:crm", "c-1") is None
    with pytest.raises(errors.InvalidConfigError) as k:
        g.profile_of("fax", "x")
    assert k.value.field == "kind"
