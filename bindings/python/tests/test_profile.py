"""The composed CDP: ingestion, profiles and computed traits."""

from __future__ import annotations

import datetime as dt

import pytest

import stratum

NOW = dt.datetime(2026, 3, 31, 12, tzinfo=dt.timezone.utc)
TRAITS = [
    {"name": "orders", "kind": "count", "event": "Order Completed"},
    {"name": "eur_revenue_30d", "kind": "sum", "property": "total", "event": "Order Completed",
     "filters": [{"op": "equals", "property": "currency", "value": "EUR"}],
     "window_seconds": 2_592_000},
    {"name": "top_category", "kind": "most_frequent", "property": "category"},
]


def _order(mid: str, day: str, total: float, currency: str, category: str) -> dict:
    return {"type": "track", "messageId": mid, "userId": "u1", "event": "Order Completed",
            "timestamp": f"{day}T10:00:00Z",
            "properties": {"total": total, "currency": currency, "category": category}}


def test_computed_traits_match_the_guide() -> None:
    cdp = stratum.Cdp(TRAITS)
    for args in [("o1", "2026-02-10", 20.10, "EUR", "shoes"), ("o2", "2026-03-20", 35.50, "EUR", "bags"),
                 ("o3", "2026-03-25", 12.00, "USD", "bags"), ("o4", "2026-03-30", 4.45, "EUR", "hats")]:
        cdp.ingest(_order(*args), NOW)
    assert cdp.ingest(_order("o4", "2026-03-30", 4.45, "EUR", "hats"), NOW)["outcome"] == "duplicate"
    [profile] = cdp.profiles()
    assert cdp.profile_of("user_id", "u1") == profile
    v = cdp.computed_values(profile, NOW)
    assert v["orders"] == {"type": "count", "value": 4}
    # EUR orders since 2026-03-01T12:00: 35.50 + 4.45 = 39.95 (exact decimals).
    assert str(v["eur_revenue_30d"]["value"]) == "39.95"
    assert v["top_category"]["value"] == "bags"
    assert cdp.profile(profile)["id"] == profile


def test_invalid_definition() -> None:
    with pytest.raises(stratum.errors.InvalidDefinitionError):
        stratum.Cdp([{"name": "", "kind": "count"}])
