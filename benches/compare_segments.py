"""Side-by-side full segment evaluation: the same 50 predicates over the same
profiles, as Stratum segments (`segments_compare`, run by the shell script just
before) and as Polars expressions. Checks that every segment has the same
members (by count per segment and by a row-order checksum) and prints both times
and their ratio.

Run through `benches/compare_segments.sh`.
"""

from __future__ import annotations

import argparse
import json
import time

import polars as pl


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--stratum", required=True, help="the JSON line segments_compare printed")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    schema = {}
    for i in range(8):
        schema[f"f{i}"] = pl.Float64
    for i in range(6):
        schema[f"i{i}"] = pl.Int64
    for i in range(4):
        schema[f"s{i}"] = pl.String
    for i in range(2):
        schema[f"b{i}"] = pl.Boolean
    for i in range(10):
        schema[f"c{i}"] = pl.Int64
    df = pl.read_csv(f"{args.dir}/profiles.csv", schema=schema)
    segs = json.load(open(f"{args.dir}/segments.json"))
    exprs = [eval(s["polars"], {"pl": pl}).alias(s["key"]) for s in segs]
    times = []
    out = None
    for _ in range(args.runs):
        t = time.perf_counter()
        out = df.select(exprs)
        times.append(time.perf_counter() - t)
    times.sort()
    counts = [int(out[s["key"]].sum()) for s in segs]
    stratum = json.loads(open(args.stratum).read())
    same = counts == stratum["counts"]
    median = times[len(times) // 2]
    print(
        json.dumps(
            {
                "rows": df.height,
                "segments": len(segs),
                "polars_seconds_median": median,
                "polars_seconds_min": times[0],
                "polars_threads": pl.thread_pool_size(),
                "stratum_seconds_median": stratum["seconds_median"],
                "stratum_seconds_min": stratum["seconds_min"],
                "ratio_median": stratum["seconds_median"] / median,
                "same_members": same,
            }
        )
    )
    if not same:
        bad = [s["key"] for s, a, b in zip(segs, counts, stratum["counts"]) if a != b]
        raise SystemExit(f"member counts differ for {bad}")


if __name__ == "__main__":
    main()
