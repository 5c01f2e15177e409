"""EMQ (``stratum-emq-1``) per event and per batch, from lists and tables."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

import stratum

US = {"phone_region": {"default": "US"}}

# docs/emq.md: Meta has every key, Σ_R w = 14; email (3) + IP+UA (2) scores
# 10 · 5 / 14 = 3.6.
DOC_EVENT = {"email": "alice@example.com", "phone": "call me", "client_ip": "203.0.113.7",
             "user_agent": "Mozilla/5.0"}


def test_event_score_matches_the_documented_example() -> None:
    score = stratum.emq_score(stratum.Normalizer(US), "meta", DOC_EVENT, "order-1")
    assert score["score"] == 3.6


def _rows() -> List[Dict[str, Any]]:
    return [
        {**DOC_EVENT, "event_id": "order-1"},
        {"email": "bob@example.com", "event_id": "order-2"},
        {"email": "not an email", "event_id": None},
    ]


def test_batch_report_from_rows() -> None:
    report = stratum.emq_report(stratum.Normalizer(US), "meta", _rows())
    assert report["events"] == 3
    assert report["without_event_id"] == 1
    email = next(c for c in report["coverage"] if c["key"] == "email")
    assert (email["valid"], email["invalid"], email["missing"]) == (2, 1, 0)
    assert report["fixes"][0]["key"] == "click_id"
    assert report["fixes"][0]["remediation"].startswith("send `fbc`")


@pytest.mark.parametrize("kind", ["pyarrow", "polars", "pandas"])
def test_tables_give_the_same_report_as_rows(kind: str) -> None:
    mod = pytest.importorskip(kind)
    cols = {k: [r.get(k) for r in _rows()] for k in ["email", "phone", "client_ip", "user_agent", "event_id"]}
    cols["ignored"] = [1, 2, 3]
    table = mod.table(cols) if kind == "pyarrow" else mod.DataFrame(cols)
    n = stratum.Normalizer(US)
    assert stratum.emq_report(n, "meta", table) == stratum.emq_report(n, "meta", _rows())


def test_multi_chunk_polars_frame() -> None:
    pl = pytest.importorskip("polars")
    cols = {k: [r.get(k) for r in _rows()] for k in ["email", "phone", "client_ip", "user_agent", "event_id"]}
    df = pl.DataFrame(cols)
    chunked = pl.concat([df[:1], df[1:]], rechunk=False)
    assert chunked.n_chunks() == 2
    n = stratum.Normalizer(US)
    assert stratum.emq_report(n, "meta", chunked) == stratum.emq_report(n, "meta", _rows())
