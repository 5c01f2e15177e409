//! Full evaluation of 50 generated segments over generated profiles (default
//! 1,000,000), with the entered / exited transitions against the previous
//! evaluation. Prints one JSON line with the median time and per-segment member
//! counts; with `--export DIR`, writes the profiles as `profiles.csv` and the
//! segments (text and Polars expression) as `segments.json` for the Polars side of
//! `benches/compare_segments.sh`.
//!
//! `segments_compare [--rows N] [--runs K] [--export DIR]`
#![allow(clippy::print_stdout, clippy::expect_used)]

use std::time::Instant;

use serde_json::json;
use stratum_benches::segments::{Profiles, definitions, segments};
use stratum_benches::{Rng, SEED};
use stratum_cdp::segment::AudienceSet;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let rows: usize = arg("--rows").map_or(1_000_000, |v| v.parse().expect("--rows N"));
    let runs: usize = arg("--runs").map_or(7, |v| v.parse().expect("--runs K"));
    let mut rng = Rng::new(SEED);
    let profiles = Profiles::generate(&mut rng, rows);
    let segs = segments(&mut rng, 50);
    if let Some(dir) = arg("--export") {
        std::fs::create_dir_all(&dir).expect("export directory");
        std::fs::write(format!("{dir}/profiles.csv"), profiles.csv()).expect("write CSV");
        let list: Vec<_> = segs
            .iter()
            .map(|s| json!({"key": s.key, "text": s.text, "polars": s.polars}))
            .collect();
        std::fs::write(format!("{dir}/segments.json"), json!(list).to_string())
            .expect("write JSON");
    }
    let table = profiles.table();
    let set = AudienceSet::new(definitions(&segs), None).expect("segments compile");
    let mut previous: Vec<Vec<u64>> = vec![vec![0; rows.div_ceil(64)]; segs.len()];
    let mut times = Vec::with_capacity(runs);
    let mut counts = Vec::new();
    let (mut entered, mut exited) = (0usize, 0usize);
    for _ in 0..runs {
        let t = Instant::now();
        let bits = set.evaluate(&table).expect("every column is present");
        // transitions against the previous membership
        let (mut e, mut x) = (0usize, 0usize);
        for (prev, now) in previous.iter_mut().zip(&bits) {
            for (p, n) in prev.iter_mut().zip(now.words()) {
                e += (!*p & n).count_ones() as usize;
                x += (*p & !n).count_ones() as usize;
                *p = *n;
            }
        }
        times.push(t.elapsed().as_secs_f64());
        counts = bits
            .iter()
            .map(stratum_cdp::segment::Bitmap::count_ones)
            .collect();
        if entered == 0 {
            (entered, exited) = (e, x);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}",
        json!({
            "tool": "stratum",
            "rows": rows,
            "segments": segs.len(),
            "seconds_median": median,
            "seconds_min": times[0],
            "first_run_entered": entered,
            "first_run_exited": exited,
            "membership_bytes_per_profile": segs.len().div_ceil(8),
            "counts": counts,
        })
    );
}
