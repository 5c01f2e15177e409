//! Criterion benchmarks of the autopilot and attribution.
//!
//! * `autopilot/run_10k_campaigns_30d`: one [`Autopilot::run`] over 10,000
//!   campaigns × 30 days of metrics with four rules (every match is judged by the
//!   trust gate and queued, up to 100 actions).
//! * `autopilot/preview_10k_campaigns_30d`: the same as a dry run.
//! * `attribution/markov_1m_paths_12_channels`: exact Markov removal effects on
//!   1,000,000 paths over 12 channels (counting the transitions and 13 solves).
//! * `attribution/shapley_exact_12_channels`: exact Shapley values on the same paths.
//! * `attribution/markov_2000_channels`: Markov removal effects over 2,000
//!   channels (the cap) whose transitions form one large cycle set, the slowest
//!   shape to solve (200 channels under `cargo test --benches`).
//! * `anomaly/detect_1m`: every anomaly detector (`detect`) on a 1,000,000-point
//!   series with a weekly pattern, noise, spikes and level shifts (20,000 points
//!   under `cargo test --benches`).
//!
//! Run with `cargo bench -p stratum-benches --bench analytics`.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use stratum_benches::analytics::{account_signals, campaign_metrics, conversion_paths, rules};
use stratum_benches::{Rng, SEED, epoch};
use stratum_core::analytics::anomaly::{AnomalyConfig, Point, detect};
use stratum_core::analytics::attribution::{Model, PathSet, attribute};
use stratum_core::audit::AuditLog;
use stratum_core::autopilot::Autopilot;
use stratum_core::gate::{TrustGate, TrustGateConfig};

fn autopilot(c: &mut Criterion) {
    let now = epoch() + chrono::TimeDelta::hours(9);
    let mut rng = Rng::new(SEED);
    let metrics = campaign_metrics(10_000, 30, now, &mut rng);
    let signals = account_signals(now, &mut rng);
    let pilot = Autopilot::new(rules(100).expect("benchmark rules are valid"));
    let gate = TrustGate::new(TrustGateConfig::default());
    let report = pilot
        .preview(now, &metrics, &signals, &gate)
        .expect("benchmark metrics are valid");
    assert!(report.matched > 0 && !report.proposals.is_empty());

    let mut group = c.benchmark_group("autopilot");
    group.throughput(Throughput::Elements(metrics.len() as u64));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(20);
    group.bench_function("run_10k_campaigns_30d", |b| {
        b.iter_batched(
            || {
                (
                    pilot.clone(),
                    TrustGate::new(TrustGateConfig::default()),
                    AuditLog::in_memory(),
                )
            },
            |(mut p, mut g, mut log)| {
                black_box(
                    p.run(now, &metrics, &signals, &mut g, &mut log)
                        .expect("valid"),
                )
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("preview_10k_campaigns_30d", |b| {
        b.iter(|| {
            black_box(
                pilot
                    .preview(now, &metrics, &signals, &gate)
                    .expect("valid"),
            )
        });
    });
    group.finish();
}

fn attribution(c: &mut Criterion) {
    let mut rng = Rng::new(SEED);
    let paths = conversion_paths(1_000_000, 12, &mut rng).expect("generated paths are valid");
    assert_eq!(paths.channels().len(), 12);
    let mut group = c.benchmark_group("attribution");
    group.throughput(Throughput::Elements(paths.len() as u64));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(20);
    group.bench_function("markov_1m_paths_12_channels", |b| {
        b.iter(|| black_box(attribute(&paths, &Model::Markov).expect("valid")));
    });
    group.bench_function("shapley_exact_12_channels", |b| {
        b.iter(|| {
            black_box(
                attribute(
                    &paths,
                    &Model::Shapley {
                        samples: 2_000,
                        seed: 0,
                    },
                )
                .expect("valid"),
            )
        });
    });
    group.finish();
}

/// Full size under `cargo bench`, `small` when the bench runs as a test.
fn sized(full: usize, small: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        full
    } else {
        small
    }
}

fn markov_many(c: &mut Criterion) {
    let n = sized(2_000, 200);
    let mut paths = PathSet::new();
    for i in 0..n {
        let names = [
            format!("ch{}", i % n),
            format!("ch{}", (i * 7 + 1) % n),
            format!("ch{}", (i * 13 + 5) % n),
        ];
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        paths
            .push(&refs, (i % 3) as u64, 1)
            .expect("generated paths are valid");
    }
    let mut group = c.benchmark_group("attribution");
    group.sample_size(10);
    group.bench_function("markov_2000_channels", |b| {
        b.iter(|| black_box(attribute(&paths, &Model::Markov).expect("valid")));
    });
    group.finish();
}

fn anomaly(c: &mut Criterion) {
    let n = sized(1_000_000, 20_000);
    let mut rng = Rng::new(SEED);
    let t0 = epoch();
    let series: Vec<Point> = (0..n)
        .map(|i| {
            let weekly = [0.0, 4.0, -3.0, 6.0, 2.0, -9.0, -7.0][i % 7];
            let shift = if (i / 50_000) % 2 == 1 { 30.0 } else { 0.0 };
            let spike = if rng.chance(0.001) { 60.0 } else { 0.0 };
            Point {
                at: t0 + chrono::TimeDelta::hours(i as i64),
                value: 200.0 + weekly + shift + spike + rng.range(-5.0, 5.0),
            }
        })
        .collect();
    let config = AnomalyConfig::default();
    let mut group = c.benchmark_group("anomaly");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("detect_1m", |b| {
        b.iter(|| black_box(detect(&series, &config).expect("valid")));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = autopilot, attribution, markov_many, anomaly
}
criterion_main!(benches);
