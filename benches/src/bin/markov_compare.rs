//! The Rust side of `benches/compare_channelattribution.sh`: generates the
//! benchmark's 1,000,000 paths over 12 channels (fixed seed), writes them aggregated
//! by distinct path to a CSV for the Python `channelattribution` package, times the
//! exact Markov removal effect on the raw and on the aggregated paths, and prints
//! the credits as JSON.
//!
//! `cargo run --release -p stratum-benches --bin markov_compare -- <out.csv>`
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Instant;

use stratum_benches::analytics::conversion_paths;
use stratum_benches::{Rng, SEED};
use stratum_core::analytics::attribution::{Attribution, Model, PathSet, attribute};

fn best_of(runs: usize, paths: &PathSet) -> stratum_core::Result<(f64, Attribution)> {
    let mut best = f64::INFINITY;
    let mut last = attribute(paths, &Model::Markov)?;
    for _ in 0..runs {
        let t = Instant::now();
        last = attribute(paths, &Model::Markov)?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok((best, last))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: markov_compare <out.csv>")?;
    let mut rng = Rng::new(SEED);
    let paths = conversion_paths(1_000_000, 12, &mut rng)?;
    let mut distinct: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for i in 0..paths.len() {
        let (names, c, u) = paths.get(i).ok_or("path out of range")?;
        let e = distinct.entry(names.join(" > ")).or_default();
        e.0 += c;
        e.1 += u;
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    writeln!(file, "path,total_conversions,total_null")?;
    let mut aggregated = PathSet::new();
    for (path, (c, u)) in &distinct {
        writeln!(file, "{path},{c},{u}")?;
        let names: Vec<&str> = path.split(" > ").collect();
        aggregated.push(&names, *c, *u)?;
    }
    file.flush()?;
    let (raw_s, raw) = best_of(5, &paths)?;
    let (agg_s, agg) = best_of(5, &aggregated)?;
    let credits: BTreeMap<&str, f64> = agg
        .channels
        .iter()
        .map(String::as_str)
        .zip(agg.credits.iter().copied())
        .collect();
    let agree = raw.channels.iter().zip(&raw.credits).all(|(c, v)| {
        credits
            .get(c.as_str())
            .is_some_and(|w| (v - w).abs() < 1e-6 * v.abs().max(1.0))
    });
    println!(
        "{{\"paths\": {}, \"distinct_paths\": {}, \"rust_raw_seconds\": {raw_s:.6}, \"rust_distinct_seconds\": {agg_s:.6}, \"raw_and_distinct_agree\": {agree}, \"credits\": {{{}}}}}",
        paths.len(),
        distinct.len(),
        credits
            .iter()
            .map(|(c, v)| format!("\"{c}\": {v:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
