//! A year-long backtest at full scale: 1,000 ad accounts observed hourly for 8,760
//! hours, one proposed action per account and hour (8.76 M evaluations), replayed
//! through the streaming API `Backtest::new` + `Backtest::step` from a history that
//! is generated lazily (never materialised).
//!
//! ```text
//! cargo run --release -p stratum-benches --bin backtest_year [-- --accounts N --hours H --compare]
//! ```
//!
//! Prints wall time, evaluations per second, nanoseconds per evaluation (with and
//! without the cost of generating the history) and the totals. `--compare` also
//! times `stratum_core::backtest::compare` against a stricter config.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use stratum_benches::{History, SEED, gate_config, strict_config};
use stratum_core::backtest::{self, Backtest, Tally};
use stratum_core::gate::Outcome;

const USAGE: &str = "usage: backtest_year [--accounts N] [--hours H] [--compare]";

struct Args {
    accounts: u32,
    hours: u32,
    compare: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        accounts: 1_000,
        hours: 8_760,
        compare: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--accounts" | "--hours" => {
                let value = it.next().ok_or_else(|| format!("{arg} needs a number"))?;
                let n: u32 = value.parse().map_err(|e| format!("{arg} {value:?}: {e}"))?;
                if n == 0 {
                    return Err(format!("{arg} must be at least 1"));
                }
                if arg == "--accounts" {
                    args.accounts = n;
                } else {
                    args.hours = n;
                }
            }
            "--compare" => args.compare = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn per_eval(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e9 / n.max(1) as f64
}

fn print_tally(label: &str, t: &Tally) {
    println!(
        "{label}: readings {} decisions {} executed {} held {} (inconclusive {}) blocked {} (policy-stopped {})",
        t.readings, t.decisions, t.executed, t.held, t.inconclusive, t.blocked, t.policy_stopped
    );
}

fn run(args: &Args) -> stratum_core::Result<()> {
    let cfg = gate_config()?;
    let evaluations = History::new(args.accounts, args.hours, SEED).remaining();
    println!(
        "backtest: {} accounts x {} hourly steps, one action per step = {} evaluations (seed {SEED:#x})",
        args.accounts, args.hours, evaluations
    );

    // 1. Generating the history alone, to separate its cost from the engine's.
    let start = Instant::now();
    let mut checksum = 0u64;
    for step in History::new(args.accounts, args.hours, SEED) {
        checksum = checksum.wrapping_add(
            black_box(&step)
                .signals
                .emq
                .as_ref()
                .map_or(0, |e| e.events),
        );
    }
    let generation = start.elapsed();
    black_box(checksum);
    println!(
        "history generation only: {:.3} s ({:.1} ns/step)",
        generation.as_secs_f64(),
        per_eval(generation, evaluations)
    );

    // 2. The streaming backtest.
    let start = Instant::now();
    let mut bt = Backtest::new(&cfg);
    let mut outcomes = [0u64; 3];
    for step in History::new(args.accounts, args.hours, SEED) {
        bt.step_with(&step, |_, o| {
            outcomes[match o {
                Outcome::Execute => 0,
                Outcome::AlertOnly => 1,
                Outcome::ManualRequired => 2,
            }] += 1;
        })?;
    }
    let report = bt.finish();
    let wall = start.elapsed();
    let engine = wall.saturating_sub(generation);
    println!(
        "backtest (Backtest::step, incl. generation): {:.3} s wall, {:.0} evaluations/s, {:.1} ns/evaluation",
        wall.as_secs_f64(),
        evaluations as f64 / wall.as_secs_f64(),
        per_eval(wall, evaluations)
    );
    println!(
        "backtest engine only (wall minus generation): {:.3} s, {:.0} evaluations/s, {:.1} ns/evaluation",
        engine.as_secs_f64(),
        evaluations as f64 / engine.as_secs_f64().max(1e-9),
        per_eval(engine, evaluations)
    );
    print_tally("totals", &report.totals);
    println!(
        "outcomes: execute {} alert_only {} manual_required {}; {} days, config {}",
        outcomes[0],
        outcomes[1],
        outcomes[2],
        report.days.len(),
        report.config_hash
    );

    if args.compare {
        let strict = strict_config()?;
        let start = Instant::now();
        let cmp = backtest::compare(&cfg, &strict, History::new(args.accounts, args.hours, SEED))?;
        let wall = start.elapsed();
        println!(
            "compare (baseline vs strict, incl. generation): {:.3} s wall, {:.0} evaluations/s per config, {:.1} ns/evaluation per config",
            wall.as_secs_f64(),
            evaluations as f64 / wall.as_secs_f64(),
            per_eval(wall, evaluations * 2)
        );
        print_tally("baseline", &cmp.baseline.totals);
        print_tally("strict", &cmp.candidate.totals);
        println!("changed outcomes: {}", cmp.changed());
        for t in &cmp.transitions {
            println!("  {} -> {}: {}", t.baseline, t.candidate, t.count);
        }
    }
    Ok(())
}
