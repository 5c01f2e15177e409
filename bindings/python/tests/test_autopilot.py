"""Autopilot runs: proposals through the gate; never executed on unhealthy signals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
SCOPE = {"tenant": "acme", "platform": "meta", "ad_account": "act_1"}
RULES = {
    "max_actions_per_run": 10,
    "rules": [{
        "id": "cut_losers",
        "conditions": [
            {"metric": "roas", "window_days": 3, "op": "lt", "value": 1.5},
            {"metric": "spend", "window_days": 3, "op": "gt", "value": 200},
        ],
        "action": {"type": "change_budget_pct", "pct": "-20"},
        "safety": {"min_conversions": 5, "cooldown_hours": 24},
    }],
}


def _metrics() -> List[Dict[str, Any]]:
    days = [{"date": (dt.date(2026, 2, 23) + dt.timedelta(days=i)).isoformat(), "spend": "100",
             "impressions": 10000, "clicks": 200, "conversions": 3, "revenue": "120"} for i in range(7)]
    return [{"target": {"scope": SCOPE, "id": "cmp_1"}, "budget": "100", "days": days}]


def _signals(emq: float = 9.0, succeeded: int = 1000) -> List[Dict[str, Any]]:
    at = NOW.isoformat()
    return [{
        "scope": SCOPE,
        "emq": {"observed_at": at, "score": emq, "events": 5000},
        "api": {"observed_at": at, "total": 1000, "succeeded": succeeded, "p95_latency_ms": 200.0,
                "rate_limited": 0, "server_errors": 1000 - succeeded, "bursts": 0},
        "events": {"observed_at": at, "sent": 5000, "confirmed": 5000, "duplicates": 0},
        "stability": {"observed_at": at, "incidents": 0, "error_rates": [0.01, 0.01]},
        "data_quality": {"observed_at": at, "total": 5000, "valid": 5000, "stale": 0},
    }]


def test_guide_example() -> None:
    pilot, gate, audit = stratum.Autopilot(RULES), stratum.TrustGate(), stratum.AuditLog()
    preview = pilot.preview(_metrics(), _signals(), gate, NOW)
    # ROAS 360 / 300 = 1.2 < 1.5 and spend 300 > 200: budget 100 cut by 20 % to 80.
    kind = preview["proposals"][0]["action"]["kind"]
    assert kind["type"] == "budget_change"
    assert (Decimal(kind["from"]), Decimal(kind["to"])) == (Decimal(100), Decimal(80))
    assert len(audit) == 0
    report = pilot.run(_metrics(), _signals(), gate, audit, NOW)
    assert report["proposals"][0]["state"] == "approved"
    assert len(audit) == 3


@settings(max_examples=40, deadline=None)
@given(emq=st.floats(0, 10), success=st.floats(0, 1), healthy=st.floats(30, 95))
def test_never_executed_below_the_healthy_threshold(emq: float, success: float, healthy: float) -> None:
    gate = stratum.TrustGate({"health": {"thresholds": {"healthy": healthy, "degraded": healthy - 10}}})
    audit = stratum.AuditLog()
    report = stratum.Autopilot(RULES).run(_metrics(), _signals(emq, int(1000 * success)), gate, audit, NOW)
    for p in report["proposals"]:
        if p["decision"]["outcome"] == "execute":
            assert p["decision"]["health"]["score"] >= healthy
        else:
            assert p["state"] != "approved"


def test_two_signal_entries_for_one_scope_are_refused() -> None:
    pilot, gate, audit = stratum.Autopilot(RULES), stratum.TrustGate(), stratum.AuditLog()
    older_healthy = _signals()[0]
    for part in ("emq", "api", "events", "stability", "data_quality"):
        older_healthy[part]["observed_at"] = (NOW - dt.timedelta(hours=2)).isoformat()
    newer_unhealthy = _signals(emq=0.5, succeeded=100)[0]
    with pytest.raises(stratum.InvalidObservationError) as info:
        pilot.run(_metrics(), [older_healthy, newer_unhealthy], gate, audit, NOW)
    assert info.value.field == "signals[1].scope"
    assert len(audit) == 0


def test_nan_time_is_refused_by_a_run() -> None:
    pilot, gate, audit = stratum.Autopilot(RULES), stratum.TrustGate(), stratum.AuditLog()
    with pytest.raises(stratum.errors.InvalidTimeError):
        pilot.run(_metrics(), _signals(), gate, audit, float("nan"))
    assert len(audit) == 0
