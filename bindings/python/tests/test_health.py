"""Health scoring across the boundary."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from conftest import NOW, healthy_signals
from hypothesis import given, settings
from hypothesis import strategies as st

import stratum


def test_score_components_and_reasons(signals: Dict[str, Any]) -> None:
    report = stratum.HealthConfig().score(signals, NOW)
    assert 0 <= report.score <= 100
    assert report.status == "healthy"
    assert report.missing == []
    names = [c["component"] for c in report.components]
    assert names == ["emq", "api_health", "event_loss", "platform_stability", "data_quality"]
    assert sum(c["contribution"] for c in report.components) == pytest.approx(report.score, abs=0.05)
    assert any("1990 of 2000 API calls succeeded" in r for r in report.reasons)
    assert "signal health for" in report.explain()
    assert report.to_dict()["score"] == report.score


def test_missing_component_is_reported(signals: Dict[str, Any]) -> None:
    del signals["emq"]
    report = stratum.HealthConfig().score(stratum.Signals(signals), NOW)
    assert report.missing == ["emq"]


def test_time_forms_agree(signals: Dict[str, Any]) -> None:
    cfg = stratum.HealthConfig()
    a = cfg.score(signals, NOW).to_dict()
    b = cfg.score(signals, "2026-03-01T12:00:00Z").to_dict()
    c = cfg.score(signals, NOW.timestamp()).to_dict()
    assert a == b == c


def test_offsets_and_microseconds_are_kept(signals: Dict[str, Any]) -> None:
    import datetime as dt

    cfg = stratum.HealthConfig()
    plus2 = dt.timezone(dt.timedelta(hours=2))
    local = NOW.astimezone(plus2).replace(microsecond=123456)
    report = cfg.score(signals, local).to_dict()
    assert report["computed_at"] == "2026-03-01T12:00:00.123456Z"


def test_naive_datetime_is_refused(signals: Dict[str, Any]) -> None:
    with pytest.raises(stratum.errors.InvalidTimeError) as info:
        stratum.HealthConfig().score(signals, NOW.replace(tzinfo=None))
    assert (info.value.code, info.value.field) == ("invalid_time", "now")


def test_reports_carry_the_hash_of_their_config(signals: Dict[str, Any]) -> None:
    cfg = stratum.HealthConfig({"thresholds": {"healthy": 75.0, "degraded": 45.0}})
    report = cfg.score(signals, NOW)
    assert report.config_hash == cfg.config_hash
    assert report.to_dict()["config_hash"] == cfg.config_hash
    assert stratum.HealthConfig().config_hash != cfg.config_hash


def test_invalid_observation(signals: Dict[str, Any]) -> None:
    signals["api"]["succeeded"] = 5000
    with pytest.raises(stratum.InvalidObservationError) as info:
        stratum.Signals(signals)
    assert info.value.field == "api.succeeded"


def test_status_of_uses_thresholds() -> None:
    cfg = stratum.HealthConfig({"thresholds": {"healthy": 80.0, "degraded": 40.0}})
    assert [cfg.status_of(s) for s in (90, 50, 10)] == ["healthy", "degraded", "unhealthy"]


@settings(max_examples=50, deadline=None)
@given(
    emq=st.floats(0, 10),
    succeeded=st.integers(0, 2000),
    confirmed=st.integers(0, 12000),
)
def test_signals_round_trip(emq: float, succeeded: int, confirmed: int) -> None:
    d = healthy_signals()
    d["emq"]["score"] = emq
    d["api"]["succeeded"] = succeeded
    d["api"]["rate_limited"] = 0
    d["api"]["server_errors"] = 0
    d["events"]["confirmed"] = confirmed
    s = stratum.Signals(d)
    assert stratum.Signals(s.to_dict()).to_dict() == s.to_dict()
    report = stratum.HealthConfig().score(s, NOW)
    assert 0.0 <= report.score <= 100.0
