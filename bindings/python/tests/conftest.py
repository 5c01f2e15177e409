"""Shared fixtures: a healthy scope's signals and a budget change, as dicts."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any, Dict

import pytest

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
OBSERVED = "2026-03-01T11:00:00Z"
SCOPE = {"tenant": "acme", "platform": "meta", "ad_account": "act_1"}
REPO = Path(__file__).resolve().parents[3]


def healthy_signals() -> Dict[str, Any]:
    return {
        "scope": dict(SCOPE),
        "emq": {"observed_at": OBSERVED, "score": 8.6, "events": 12000},
        "api": {
            "observed_at": OBSERVED, "total": 2000, "succeeded": 1990, "p95_latency_ms": 420.0,
            "rate_limited": 6, "server_errors": 4, "bursts": 0,
        },
        "events": {"observed_at": OBSERVED, "sent": 12000, "confirmed": 11820, "duplicates": 0},
        "stability": {"observed_at": OBSERVED, "incidents": 0, "error_rates": [0.004, 0.006, 0.005]},
        "data_quality": {"observed_at": OBSERVED, "total": 12000, "valid": 11900, "stale": 40},
    }


def budget_change(frm: str = "500", to: str = "550", proposer: Any = None) -> Dict[str, Any]:
    return {
        "kind": {"type": "budget_change", "from": frm, "to": to},
        "target": {"scope": dict(SCOPE), "id": "cmp_42"},
        "proposer": proposer or {"type": "autopilot"},
    }


@pytest.fixture
def signals() -> Dict[str, Any]:
    return copy.deepcopy(healthy_signals())


@pytest.fixture
def action() -> Dict[str, Any]:
    return budget_change()
