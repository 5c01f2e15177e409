#!/usr/bin/env python3
"""Measures the binding's per-call overhead of `TrustGate.evaluate` and the batch
normalisation rates, against an installed `stratum` wheel (release build).

    python bindings/python/scripts/measure.py [--rows 1000000]

Overhead = time of one Python-level `evaluate` (prebuilt `Signals` and
`ProposedAction`, `now` as POSIX seconds) minus the engine time of the same
evaluation measured inside the native code (`TrustGate._engine_seconds`), both
the minimum over five repeats.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
import timeit

import stratum

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
SEEN = "2026-03-01T11:55:00Z"
SCOPE = {"tenant": "acme", "platform": "meta", "ad_account": "act_1"}
SIGNALS = {
    "scope": SCOPE,
    "emq": {"observed_at": SEEN, "score": 8.6, "events": 12000},
    "api": {"observed_at": SEEN, "total": 2000, "succeeded": 1990, "p95_latency_ms": 420.0,
            "rate_limited": 6, "server_errors": 4, "bursts": 0},
    "events": {"observed_at": SEEN, "sent": 12000, "confirmed": 11820, "duplicates": 0},
    "stability": {"observed_at": SEEN, "incidents": 0, "error_rates": [0.004, 0.006, 0.005]},
    "data_quality": {"observed_at": SEEN, "total": 12000, "valid": 11900, "stale": 40},
}
ACTION = {"kind": {"type": "budget_change", "from": "500", "to": "550"},
          "target": {"scope": SCOPE, "id": "cmp_42"}, "proposer": {"type": "autopilot"}}


def per_call(f, number: int) -> float:
    return min(timeit.repeat(f, number=number, repeat=5)) / number


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()

    gate, s, a = stratum.TrustGate(), stratum.Signals(SIGNALS), stratum.ProposedAction(ACTION)
    epoch = NOW.timestamp()
    engine = min(gate._engine_seconds(s, a, epoch, 20_000) for _ in range(5))
    for label, now in [("now=float", epoch), ("now=datetime", NOW)]:
        total = per_call(lambda: gate.evaluate(s, a, now), 50_000)
        print(f"evaluate ({label}): {total * 1e6:.2f} µs per call, engine {engine * 1e6:.2f} µs, "
              f"binding overhead {(total - engine) * 1e6:.2f} µs")
    dicts = per_call(lambda: gate.evaluate(SIGNALS, ACTION, epoch), 2_000)
    print(f"evaluate (dicts, converted on every call): {dicts * 1e6:.1f} µs per call")

    rng = random.Random(1)
    emails = [f"User{rng.randrange(10**9)}@Example.com" for _ in range(args.rows)]
    phones = [f"+1 (650) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}" for _ in range(args.rows)]
    n = stratum.Normalizer({"phone_region": {"default": "US"}})
    try:
        import pyarrow as pa
    except ImportError:
        pa = None
    for field, values in [("email", emails), ("phone", phones)]:
        t = time.perf_counter()
        stratum.normalize_batch(n, "meta", field, values)
        lst = time.perf_counter() - t
        line = f"{field}: list {args.rows / lst / 1e6:.2f} M rows/s"
        if pa is not None:
            arr = pa.array(values)
            t = time.perf_counter()
            stratum.normalize_batch(n, "meta", field, arr)
            arw = time.perf_counter() - t
            line += f", pyarrow array {args.rows / arw / 1e6:.2f} M rows/s"
        print(line)


if __name__ == "__main__":
    main()
