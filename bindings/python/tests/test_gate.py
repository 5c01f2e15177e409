"""The trust gate across the boundary."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, Optional

import pytest
from conftest import NOW, budget_change, healthy_signals
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum


def test_healthy_budget_change_executes(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    d = stratum.TrustGate().evaluate(stratum.Signals(signals), stratum.ProposedAction(action), NOW)
    assert d.outcome == "execute"
    assert d.executes
    assert d.gate == "pass"
    assert d.health_status == "healthy"
    assert d.audit_seq is None
    assert len(d.config_hash) == 64
    assert d.to_dict()["action"]["target"]["id"] == "cmp_42"
    assert "execute" in d.explain().lower()


def test_dicts_and_objects_give_the_same_decision(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate = stratum.TrustGate()
    a = gate.evaluate(signals, action, NOW).to_dict()
    b = gate.evaluate(stratum.Signals(signals), stratum.ProposedAction(action), NOW).to_dict()
    assert a == b


def test_unhealthy_signals_hold_automation(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    signals["api"].update(succeeded=200, rate_limited=0, server_errors=1800)
    signals["emq"]["score"] = 1.0
    d = stratum.TrustGate().evaluate(signals, action, NOW)
    assert d.outcome != "execute"
    assert d.health_status != "healthy"


def test_decide_writes_one_audit_record(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    d = gate.decide(signals, action, log, NOW)
    assert d.audit_seq == 0
    assert len(log) == 1
    assert log.verify()["len"] == 1
    record = log.records()[0]
    assert record["event"]["decision"]["outcome"] == "execute"


def test_guardrail_stops_a_large_change(signals: Dict[str, Any]) -> None:
    cfg = {"guardrails": {"max_change_pct": "30"}}
    d = stratum.TrustGate(cfg).evaluate(signals, budget_change("500", "900"), NOW)
    assert d.outcome != "execute"
    assert d.stopped_by_policy


def test_invalid_action(signals: Dict[str, Any]) -> None:
    with pytest.raises(stratum.InvalidActionError):
        stratum.ProposedAction(budget_change("500", "-1"))


def test_config_round_trip() -> None:
    cfg = {"health": {"thresholds": {"healthy": 75.0, "degraded": 45.0}}, "enforcement": "hard_block"}
    gate = stratum.TrustGate(cfg)
    again = stratum.TrustGate(gate.config())
    assert again.config_hash == gate.config_hash
    assert again.config() == gate.config()


@settings(max_examples=60, deadline=None)
@given(
    emq=st.floats(0, 10),
    success=st.floats(0, 1),
    loss=st.floats(0, 1),
    valid=st.floats(0, 1),
    healthy=st.floats(20, 95),
    gap=st.floats(1, 19),
    enforcement=st.sampled_from(["advisory", "soft_block", "hard_block"]),
    proposer=st.sampled_from([{"type": "autopilot"}, {"type": "system", "name": "sync"}]),
    readings=st.integers(1, 4),
)
def test_automation_never_executes_below_the_healthy_threshold(
    emq: float, success: float, loss: float, valid: float, healthy: float, gap: float,
    enforcement: str, proposer: Dict[str, Any], readings: int,
) -> None:
    cfg = {
        "health": {"thresholds": {"healthy": healthy, "degraded": healthy - gap}},
        "enforcement": enforcement,
    }
    gate, log = stratum.TrustGate(cfg), stratum.AuditLog()
    action = stratum.ProposedAction(budget_change(proposer=proposer))
    for i in range(readings):
        at = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i)
        stamp = (at - dt.timedelta(minutes=5)).isoformat()
        s = healthy_signals()
        for part in ("emq", "api", "events", "stability", "data_quality"):
            s[part]["observed_at"] = stamp
        s["emq"]["score"] = emq
        s["api"].update(succeeded=int(2000 * success), rate_limited=0, server_errors=0)
        s["events"]["confirmed"] = int(12000 * (1 - loss))
        s["data_quality"].update(valid=int(12000 * valid), stale=0)
        d = gate.decide(s, action, log, at)
        if d.outcome == "execute":
            assert d.health_score >= healthy
    log.verify()


class _NoOffset(dt.tzinfo):
    """A tzinfo that cannot say its UTC offset."""

    def utcoffset(self, _: Optional[dt.datetime]) -> Optional[dt.timedelta]:
        return None

    def dst(self, _: Optional[dt.datetime]) -> Optional[dt.timedelta]:
        return None


BAD_TIMES = [
    float("nan"), float("inf"), -float("inf"), 1e300, True, False, 10**400,
    dt.date(2026, 3, 1), object(), NOW.replace(tzinfo=None), NOW.replace(tzinfo=_NoOffset()),
    "yesterday", "2026-03-01T12:00:00",
]


@pytest.mark.parametrize("now", BAD_TIMES, ids=repr)
def test_every_bad_time_is_invalid_time(now: Any, signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    for call in (lambda: gate.evaluate(signals, action, now), lambda: gate.decide(signals, action, log, now)):
        with pytest.raises(stratum.errors.InvalidTimeError) as info:
            call()
        assert (info.value.code, info.value.field) == ("invalid_time", "now")
        assert isinstance(info.value, ValueError)
    assert len(log) == 0


def test_nan_cannot_bypass_the_daily_action_limit(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate({"guardrails": {"max_actions_per_day": 1}}), stratum.AuditLog()
    assert gate.decide(signals, action, log, NOW).executes
    with pytest.raises(stratum.errors.InvalidTimeError):
        gate.decide(signals, action, log, float("nan"))
    assert not gate.decide(signals, action, log, NOW + dt.timedelta(minutes=1)).executes


def test_integer_and_aware_times_are_exact(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate = stratum.TrustGate()
    seconds = int(NOW.timestamp())
    by_int = gate.evaluate(signals, action, seconds).to_dict()["decided_at"]
    by_text = gate.evaluate(signals, action, NOW.isoformat()).to_dict()["decided_at"]
    plus2 = NOW.astimezone(dt.timezone(dt.timedelta(hours=2)))
    by_datetime = gate.evaluate(signals, action, plus2).to_dict()["decided_at"]
    assert by_int == by_text == by_datetime == "2026-03-01T12:00:00Z"


def _unhealthy(at: dt.datetime) -> Dict[str, Any]:
    s = healthy_signals()
    for part in ("emq", "api", "events", "stability", "data_quality"):
        s[part]["observed_at"] = at.isoformat()
    s["emq"]["score"] = 0.0
    s["api"].update(succeeded=100, rate_limited=0, server_errors=1900)
    s["events"]["confirmed"] = 1000
    return s


def _healthy_at(at: dt.datetime) -> Dict[str, Any]:
    s = healthy_signals()
    for part in ("emq", "api", "events", "stability", "data_quality"):
        s[part]["observed_at"] = at.isoformat()
    return s


def test_saved_state_keeps_a_tripped_gate_tripped(action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    for minutes in (0, 10):
        at = NOW + dt.timedelta(minutes=minutes)
        gate.decide(_unhealthy(at), action, log, at)
    saved = json.dumps(gate.state())
    later = NOW + dt.timedelta(minutes=20)
    restored = stratum.TrustGate.from_state(saved, gate.config())
    d = restored.decide(_healthy_at(later), action, log, later)
    assert d.gate == "hold" and not d.executes, d.explain()
    # Without the saved state the same healthy reading would execute.
    assert stratum.TrustGate().decide(_healthy_at(later), action, log, later).executes
    # And a bad reading on the restored gate blocks at once (it is still tripped),
    # where a fresh gate only debounces it.
    again = stratum.TrustGate.from_state(saved, gate.config())
    assert again.decide(_unhealthy(later), action, log, later).gate == "block"
    assert stratum.TrustGate().decide(_unhealthy(later), action, log, later).gate == "hold"


def test_overrides_can_be_revoked_early(action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    granted = gate.grant_override(
        {"target": action["target"], "granted_by": {"type": "person", "id": "u_1", "role": "admin"},
         "reason": "launch week, approved", "expires_at": (NOW + dt.timedelta(hours=2)).isoformat()},
        log, NOW,
    )
    assert [o["id"] for o in gate.overrides()] == [granted["id"]]
    with pytest.raises(stratum.errors.OverrideRefusedError):
        gate.revoke_override(granted["id"], {"type": "autopilot"}, "cleanup", log, NOW)
    gate.revoke_override(granted["id"], {"type": "person", "id": "u_1", "role": "admin"}, "not needed", log, NOW)
    assert gate.overrides() == []
    assert gate.state()["overrides"] == []
    assert log.records()[-1]["event"]["override_revoked"]["id"] == granted["id"]


def test_automation_cannot_change_the_config(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    before = gate.config_hash
    lax = {"health": {"thresholds": {"healthy": 0.01, "degraded": 0.0}}}
    with pytest.raises(stratum.errors.NotPermittedError) as info:
        gate.set_config(lax, {"type": "autopilot"}, log, NOW)
    assert (info.value.code, info.value.field) == ("not_permitted", "by")
    assert gate.config_hash == before and len(log) == 0
    gate.set_config(lax, {"type": "person", "id": "u_1", "role": "admin"}, log, NOW)
    assert gate.config_hash != before
    change = log.records()[-1]["event"]["config_changed"]
    assert (change["previous"], change["config_hash"]) == (before, gate.config_hash)


def test_reports_of_another_config_or_time_are_refused(signals: Dict[str, Any], action: Dict[str, Any]) -> None:
    gate, log = stratum.TrustGate(), stratum.AuditLog()
    lenient = stratum.HealthConfig({"weights": {"emq": 1.0, "api_health": 0.0, "event_loss": 0.0,
                                                "platform_stability": 0.0, "data_quality": 0.0}})
    with pytest.raises(stratum.errors.HealthConfigMismatchError):
        gate.decide_with_health(lenient.score(signals, NOW), action, log, NOW)
    report = stratum.HealthConfig().score(signals, NOW)
    with pytest.raises(stratum.errors.StaleHealthError) as info:
        gate.decide_with_health(report, action, log, NOW + dt.timedelta(days=30))
    assert info.value.field == "health.computed_at"
    with pytest.raises(stratum.errors.StaleHealthError):
        gate.decide_with_health(report, action, log, NOW - dt.timedelta(minutes=1))
    assert len(log) == 0
    assert gate.decide_with_health(report, action, log, NOW).executes
