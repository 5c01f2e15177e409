"""Backtests and guardrails across the boundary."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

import pytest
from conftest import NOW, budget_change, healthy_signals

import stratum


def _history(bad_hours: List[int]) -> List[Dict[str, Any]]:
    steps = []
    for h in range(6):
        at = NOW + dt.timedelta(hours=h)
        s = healthy_signals()
        for part in ("emq", "api", "events", "stability", "data_quality"):
            s[part]["observed_at"] = (at - dt.timedelta(minutes=5)).isoformat()
        if h in bad_hours:
            s["emq"]["score"] = 0.5
            s["api"].update(succeeded=100, rate_limited=0, server_errors=1900)
        steps.append({"at": at.isoformat(), "signals": s, "actions": [budget_change()]})
    return steps


def test_backtest_counts_outcomes() -> None:
    report = stratum.backtest({}, _history(bad_hours=[2, 3]))
    totals = report["totals"]
    assert totals["readings"] == 6
    assert totals["decisions"] == 6
    assert totals["executed"] + totals["held"] + totals["blocked"] == 6
    assert totals["executed"] < 6
    assert [d["date"] for d in report["days"]] == ["2026-03-01"]


def test_compare_reports_differences() -> None:
    strict = {"health": {"thresholds": {"healthy": 99.9, "degraded": 50.0}}}
    cmp = stratum.compare_configs({}, strict, _history(bad_hours=[]))
    assert isinstance(cmp, dict)
    report_base = stratum.backtest({}, _history(bad_hours=[]))
    report_strict = stratum.backtest(strict, _history(bad_hours=[]))
    assert report_base["totals"]["executed"] == 6
    assert report_strict["totals"]["executed"] == 0


def test_invalid_step_names_its_index() -> None:
    steps = _history(bad_hours=[])
    steps[3]["signals"]["api"]["succeeded"] = 10**9
    with pytest.raises(stratum.InvalidObservationError) as info:
        stratum.backtest({}, steps)
    assert "step 3" in str(info.value)


def test_guardrails_check_and_record() -> None:
    g = stratum.Guardrails({"max_change_pct": "30", "target_cooldown_secs": 3600})
    small = stratum.ProposedAction(budget_change("500", "550"))
    big = stratum.ProposedAction(budget_change("500", "900"))
    assert g.check(small, NOW) == []
    assert len(g.check(big, NOW)) == 1
    g.record(small, NOW)
    later = NOW + dt.timedelta(minutes=10)
    assert g.check(small, later) != []
    assert g.check(small, NOW + dt.timedelta(hours=2)) == []
