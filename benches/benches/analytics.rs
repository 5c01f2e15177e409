//! Criterion benchmarks of the autopilot and attribution.
//!
//! * `autopilot/run_10k_campaigns_30d`: one [`Autopilot::run`] over 10,000
//!   campaigns × 30 days of metrics with four rules (every match is judged by the
//!   trust gate and queued, up to 100 actions).
//! * `autopilot/preview_10k_campaigns_30d`: the same as a dry run.
//! * `attribution/markov_1m_paths_12_channels`: exact Markov removal effects on
//!   1,000,000 paths over 12 channels (counting the transitions and 13 solves).
//! * `attribution/shapley_exact_12_channels`: exact Shapley values on the same paths.
//!
//! Run with `cargo bench -p stratum-benches --bench analytics`.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use stratum_benches::analytics::{account_signals, campaign_metrics, conversion_paths, rules};
use stratum_benches::{Rng, SEED, epoch};
use stratum_core::analytics::attribution::{Model, attribute};
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

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = autopilot, attribution
}
criterion_main!(benches);
