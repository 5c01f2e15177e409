"""Payload builders: the shared golden payloads of testdata/payloads, unchanged."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict

import pytest
from conftest import REPO

import stratum

PAYLOADS = REPO / "testdata" / "payloads"


def _normalizer() -> stratum.Normalizer:
    return stratum.Normalizer({"phone_region": {"default": "US"}, "today": "2026-03-01"})


def _load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


@pytest.mark.parametrize("platform", ["meta", "google", "tiktok", "snapchat"])
def test_golden_payloads(platform: str) -> None:
    inp, want = _load(f"{platform}.input.json"), _load(f"{platform}.expected.json")
    kwargs: Dict[str, Any] = {}
    if "batch_size" in inp:
        kwargs["batch_size"] = inp["batch_size"]
    if "destinations" in inp:
        kwargs["destinations"] = inp["destinations"]
    if "event_source_ids" in inp:
        kwargs["event_source_ids"] = {k: v for k, v in inp["event_source_ids"].items() if v}
    got = stratum.build_payloads(_normalizer(), platform, inp["events"], inp["now"], **kwargs)
    assert got["rejected"] == []
    assert got["requests"] == want["requests"]
    assert [[w["index"], w["code"]] for w in got["warnings"]] == want["warnings"]


def test_json_output_and_rejections() -> None:
    events = [
        {
            "event_name": "Purchase", "event_time": "2026-03-01T12:00:00Z", "event_id": "o-1",
            "action_source": "website", "event_source_url": "https://shop.example/",
            "user": {"email": {"raw": "Ann@Example.com"}, "client_ip": {"raw": "203.0.113.7"},
                     "user_agent": {"raw": "Mozilla/5.0"}},
            "value": "10", "currency": "USD",
        },
        {
            "event_name": "Purchase", "event_time": "2026-01-01T12:00:00Z", "event_id": "o-2",
            "action_source": "website", "event_source_url": "https://shop.example/",
            "user": {"email": {"raw": "bob@example.com"}},
        },
    ]
    out = stratum.build_payloads(_normalizer(), "meta", events, "2026-03-01T12:05:00Z", as_json=True)
    assert len(out["requests"]) == 1
    body = json.loads(out["requests"][0])
    assert body["data"][0]["user_data"]["em"] == [hashlib.sha256(b"ann@example.com").hexdigest()]
    assert [(r["index"], r["code"], r["field"]) for r in out["rejected"]] == [
        (1, "event_too_old", "event_time")
    ]


def test_google_needs_a_destination() -> None:
    with pytest.raises(stratum.InvalidConfigError):
        stratum.build_payloads(_normalizer(), "google", [], "2026-03-01T12:05:00Z")
