"""Attribution and anomaly detection across the boundary."""

from __future__ import annotations

import datetime as dt

import pytest

import stratum

T = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _path(channels, conversions):
    return {"touchpoints": [{"channel": c, "at": (T + dt.timedelta(hours=i)).isoformat()}
                            for i, c in enumerate(channels)], "conversions": conversions}


def test_last_click_credits() -> None:
    paths = [_path(["search", "social"], 2), _path(["search"], 1), _path(["social", "email"], 1)]
    result = stratum.attribute(paths, {"type": "last_click"})
    credits = dict(zip(result["channels"], result["credits"]))
    # Last touches: social ×2, search ×1, email ×1.
    assert credits == {"search": 1.0, "social": 2.0, "email": 1.0}


def test_no_conversions_is_an_invalid_observation() -> None:
    with pytest.raises(stratum.InvalidObservationError):
        stratum.attribute([_path(["search"], 0)], {"type": "linear"})


def test_a_spike_is_detected() -> None:
    series = [{"at": (T + dt.timedelta(days=i)).isoformat(), "value": 100.0 + (i % 3)} for i in range(40)]
    series[35]["value"] = 400.0
    found = stratum.detect_anomalies(series)
    assert 35 in [a["index"] for a in found]
    assert all(a["index"] >= 14 for a in found)
