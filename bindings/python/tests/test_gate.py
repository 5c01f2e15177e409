"""The trust gate across the boundary."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict

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
