"""Times `ChannelAttribution.markov_model` (PyPI `channelattribution`) on the paths
written by the `markov_compare` binary and prints its credits next to ours.

Run through `benches/compare_channelattribution.sh`; not part of `scripts/test`.
"""

import json
import statistics
import sys
import time

import pandas as pd
from ChannelAttribution import markov_model

SEEDS = 8


def main() -> None:
    csv, rust_json = sys.argv[1], sys.argv[2]
    rust = json.loads(rust_json)
    data = pd.read_csv(csv)
    timings = []
    runs = []
    for seed in range(SEEDS):
        start = time.perf_counter()
        result = markov_model(
            data,
            var_path="path",
            var_conv="total_conversions",
            var_null="total_null",
            order=1,
            sep=">",
            seed=seed,
            verbose=False,
            flg_pro=False,
        )
        timings.append(time.perf_counter() - start)
        runs.append({row.channel_name.strip(): float(row.total_conversions) for row in result.itertuples()})
    channels = sorted(rust["credits"])
    mean = {c: statistics.fmean(r.get(c, float("nan")) for r in runs) for c in channels}
    sd = {c: statistics.stdev(r.get(c, float("nan")) for r in runs) for c in channels}
    best = min(timings)
    print(f"paths: {rust['paths']:,} ({rust['distinct_paths']:,} distinct), 12 channels")
    print(f"channelattribution markov_model (distinct paths): best of {SEEDS} {best:.3f} s")
    print(f"stratum exact, the same distinct paths:            {rust['rust_distinct_seconds']:.4f} s ({best / rust['rust_distinct_seconds']:.0f}x)")
    print(f"stratum exact, all 1,000,000 raw paths:            {rust['rust_raw_seconds']:.4f} s ({best / rust['rust_raw_seconds']:.0f}x)")
    print(f"channelattribution: mean and sd over seeds 0..{SEEDS - 1}")
    print(f"{'channel':<12} {'stratum':>10} {'ca mean':>10} {'ca sd':>8} {'diff/sd':>8}")
    for c in channels:
        ours = rust["credits"][c]
        z = (ours - mean[c]) / sd[c] if sd[c] > 0 else float("inf")
        print(f"{c:<12} {ours:>10.1f} {mean[c]:>10.1f} {sd[c]:>8.1f} {z:>8.2f}")
    worst = max(abs(rust["credits"][c] - mean[c]) / sd[c] for c in channels if sd[c] > 0)
    print(f"largest |stratum − mean| / sd of one simulation run: {worst:.2f}")


if __name__ == "__main__":
    main()
