#!/usr/bin/env python3
"""Normalise + SHA-256 1 M emails and 1 M phone numbers for Meta: `stratum`'s Arrow
batch API against Meta's `facebook-business` SDK on the same values. Prints the
rate of each (the best of `--runs` timed runs, 3 by default), the ratio, and how
many digests agree.

The SDK's `Normalize.normalize_field(field, value)` already returns the SHA-256 hex
digest (it is `Normalize.normalize(field, value, True)`, hashing with `hashlib`), so
it is timed alone; hashing its result again would double-hash.

Run through `benches/python/compare_normalize.sh`, which builds the wheel and
installs both into a virtual environment under benches/.compare/. Not run by
scripts/test.
"""

from __future__ import annotations

import argparse
import random
import time

import pyarrow as pa
from facebook_business.adobjects.serverside.normalize import Normalize

import stratum


def sdk(field: str, values: list) -> list:
    out = []
    for v in values:
        try:
            n = Normalize.normalize_field(field, v)
        except Exception:  # the SDK raises on invalid values
            out.append(None)
            continue
        out.append(n or None)
    return out


def best(runs: int, f):
    """The fastest of `runs` timed calls of `f` (as `timeit` reports), and its result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool; the best counts")
    args = ap.parse_args()
    rng = random.Random(42)
    emails = [f" User.{rng.randrange(10**9)}@Example.COM " for _ in range(args.rows)]
    # International form: the SDK only strips non-digits, it knows no regions.
    phones = [f"+1 (650) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}" for _ in range(args.rows)]
    n = stratum.Normalizer({"phone_region": {"default": "US"}})
    for name, field, sdk_field, values in [("email", "email", "em", emails), ("phone", "phone", "ph", phones)]:
        arr = pa.array(values)
        # The Arrow API returns an Arrow array (kept in Arrow by a pipeline); the
        # conversion to Python strings for the comparison below is not timed.
        t_ours, result = best(args.runs, lambda: stratum.normalize_batch(n, "meta", field, arr))
        ours = result.to_pylist()
        t_list, _ = best(args.runs, lambda: stratum.normalize_batch(n, "meta", field, values))
        t_sdk, theirs = best(args.runs, lambda: sdk(sdk_field, values))
        agree = sum(a == b for a, b in zip(ours, theirs))
        print(f"{name}: stratum {args.rows / t_ours / 1e6:.2f} M/s (Arrow in and out; "
              f"{args.rows / t_list / 1e6:.2f} M/s from and to a Python list), facebook-business "
              f"{args.rows / t_sdk / 1e6:.2f} M/s, ratio {t_sdk / t_ours:.1f}x "
              f"({t_sdk / t_list:.1f}x for lists), digests agree on {agree} of {args.rows}")


if __name__ == "__main__":
    main()
