#!/usr/bin/env python3
"""A walkthrough of the `stratum` Python package on generated data.

1. Writes raw conversion events to a CSV (and Parquet when pyarrow is installed).
2. Loads them with polars (or pandas), hashes emails for Meta in one batch call and
   builds a batch EMQ report (`stratum-emq-1`, our own heuristic) with ranked fixes.
3. Resolves identities in bulk from (anonymous id, email) pairs.
4. Scores signal health over a week of hourly metrics and backtests two gate
   configs over it.
5. Saves two PNG plots (EMQ coverage per key; health over time with the gate
   bands) into the output directory.

    python examples/python/walkthrough.py OUTPUT_DIR [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any, Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import stratum  # noqa: E402

START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
SCOPE = {"tenant": "acme", "platform": "meta", "ad_account": "act_1"}


def generate_events(path: Path, rows: int, rng: random.Random) -> None:
    """Raw events as a shop would export them: some fields missing or malformed."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "anonymous_id", "email", "phone", "client_ip", "user_agent", "click_id"])
        for i in range(rows):
            person = rng.randrange(max(rows // 3, 1))
            email = f" Customer{person}@Example.com" if rng.random() < 0.8 else ""
            if rng.random() < 0.05:
                email = f"customer{person}-at-example.com"
            phone = f"(650) 555-{person % 10000:04d}" if rng.random() < 0.4 else ""
            ip = f"203.0.113.{person % 250}" if rng.random() < 0.9 else ""
            ua = "Mozilla/5.0 (X11; Linux x86_64)" if ip else ""
            click = f"fb.1.1772366400000.click{i}" if rng.random() < 0.3 else ""
            event_id = f"order-{i}" if rng.random() < 0.95 else ""
            device = f"anon-{person}-{rng.randrange(3)}"  # up to three devices per person
            w.writerow([event_id, device, email, phone, ip, ua, click])


def load(path: Path) -> Any:
    try:
        import polars as pl

        return pl.read_csv(path, infer_schema_length=0)  # every column as text
    except ImportError:
        import pandas as pd

        return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)


def column(df: Any, name: str) -> List[Any]:
    return df[name].to_list() if hasattr(df[name], "to_list") else list(df[name])


def signals_at(at: dt.datetime, quality: float) -> Dict[str, Any]:
    """Observations of one hour; `quality` 1.0 is a good hour, lower is worse."""
    stamp = (at - dt.timedelta(minutes=5)).isoformat()
    outage = quality < 0.5
    succeeded = int(2000 * min(0.995, 0.4 + 0.6 * quality))
    return {
        "scope": SCOPE,
        "emq": {"observed_at": stamp, "score": round(8.6 * quality, 2), "events": 12000},
        "api": {"observed_at": stamp, "total": 2000, "succeeded": succeeded, "p95_latency_ms": 450.0,
                "rate_limited": 0, "server_errors": 2000 - succeeded, "bursts": 0},
        "events": {"observed_at": stamp, "sent": 12000, "confirmed": 11800, "duplicates": 0},
        "stability": {"observed_at": stamp, "incidents": 1 if outage else 0,
                      "error_rates": [0.004, 0.006, 0.005]},
        "data_quality": {"observed_at": stamp, "total": 12000, "valid": 11900, "stale": 40},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output directory for the data and the plots")
    ap.add_argument("--rows", type=int, default=20_000, help="number of generated events")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)

    # 1. Raw events.
    csv_path = out / "events.csv"
    generate_events(csv_path, args.rows, rng)
    df = load(csv_path)
    try:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pq.write_table(pacsv.read_csv(csv_path), out / "events.parquet")
    except ImportError:
        pass

    # 2. Hashing and EMQ.
    normalizer = stratum.Normalizer({"phone_region": {"default": "US"}})
    hashed = stratum.normalize_batch(normalizer, "meta", "email", df, column="email")
    keys = [k for k in column(hashed, "email") if k is not None]
    print(f"hashed {len(keys)} of {len(hashed)} emails for Meta, e.g. {keys[0]}")
    report = stratum.emq_report(normalizer, "meta", df)
    print(f"EMQ (stratum-emq-1) over {report['events']} events: {report['emq']}/10")
    for fix in report["fixes"][:3]:
        print(f"  +{fix['estimated_emq_gain']:.2f}: {fix['remediation']}")

    # 3. Identity resolution in bulk.
    pairs = [(a, e.strip().lower()) for a, e in zip(column(df, "anonymous_id"), column(df, "email")) if e]
    labels = stratum.resolve_identities(pairs)
    profiles = len({v for v in labels.values() if v is not None})
    print(f"{len(labels)} identifiers resolve into {profiles} profiles")

    # 4. Health over a week, and a backtest of two gate configs.
    health = stratum.HealthConfig()
    hours = [START + dt.timedelta(hours=h) for h in range(7 * 24)]
    def quality(h: int) -> float:
        if 60 <= h < 72:
            return 0.1  # a tracking outage
        if 110 <= h < 130:
            return 0.75 + 0.1 * rng.random()  # a wobbly day
        return 0.95 + 0.05 * rng.random()

    history = [signals_at(at, quality(h)) for h, at in enumerate(hours)]
    scores = [health.score(s, at).score for s, at in zip(history, hours)]
    action = {"kind": {"type": "budget_change", "from": "500", "to": "550"},
              "target": {"scope": SCOPE, "id": "cmp_42"}, "proposer": {"type": "autopilot"}}
    steps = [{"at": at.isoformat(), "signals": s, "actions": [action]} for s, at in zip(history, hours)]
    default_cfg: Dict[str, Any] = {}
    strict_cfg = {"health": {"thresholds": {"healthy": 85.0, "degraded": 60.0}}}
    for name, cfg in [("default", default_cfg), ("strict", strict_cfg)]:
        totals = stratum.backtest(cfg, steps)["totals"]
        print(f"backtest {name}: executed {totals['executed']}, held {totals['held']}, "
              f"blocked {totals['blocked']} of {totals['decisions']}")

    # 5. Plots.
    keys = [c["key"] for c in report["coverage"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(keys, [c["coverage"] for c in report["coverage"]])
    ax.set_xlabel("share of events with a valid key")
    ax.set_title("EMQ key coverage (stratum-emq-1)")
    fig.tight_layout()
    fig.savefig(out / "emq_coverage.png", dpi=100)
    plt.close(fig)

    thresholds = stratum.TrustGate(default_cfg).config()["health"]["thresholds"]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.axhspan(thresholds["healthy"], 100, color="tab:green", alpha=0.15, label="healthy")
    ax.axhspan(thresholds["degraded"], thresholds["healthy"], color="tab:orange", alpha=0.15, label="degraded")
    ax.axhspan(0, thresholds["degraded"], color="tab:red", alpha=0.15, label="unhealthy")
    ax.plot(hours, scores, color="black", linewidth=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel("signal health")
    ax.set_title("Signal health over time with the trust gate's bands")
    ax.legend(loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out / "health_over_time.png", dpi=100)
    plt.close(fig)
    print(f"plots written to {out}")


if __name__ == "__main__":
    main()
