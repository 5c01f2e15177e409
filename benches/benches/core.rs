//! Criterion benchmarks of the trust engine.
//!
//! * `decision/full`: one `TrustGate::decide` (health scoring, gate, guardrails,
//!   one SHA-256-chained audit record in memory).
//! * `decision/preview`: the same judgement without audit or state change.
//! * `overrides/evaluate/{0,100000}`: `preview` (the bindings' `evaluate`) on a
//!   gate holding no overrides and 100,000 live overrides on other targets; the
//!   pool's guardrail violations make every such evaluation look one up.
//! * `health/score`: health scoring alone.
//! * `audit/append`: appending one decision record alone.
//! * `backtest/month_100_accounts`: 100 accounts × 720 hourly steps, one action
//!   per step (72,000 evaluations per iteration).
//!
//! Run with `cargo bench -p stratum-benches` (add `-- --quick` for a short run).
// Generated data is checked before measuring; a failure aborts the benchmark.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratum_benches::{History, Rng, SEED, action, epoch, gate_config, restamp, scope, signals};
use stratum_core::audit::{AuditEvent, AuditLog};
use stratum_core::backtest::{self, BacktestStep};
use stratum_core::gate::{
    Actor, Decision, OverrideRequest, ProposedAction, Target, TrustGate, TrustGateConfig,
};
use stratum_core::health::Signals;

/// Distinct (signals, action) pairs cycled through.
const POOL: usize = 512;
/// Accounts the pool is spread over.
const POOL_ACCOUNTS: u32 = 64;
/// Most audit records kept in memory before the log is replaced (outside the
/// timed region).
const AUDIT_CHUNK: u64 = 4_096;

struct Pool {
    signals: Vec<Signals>,
    actions: Vec<ProposedAction>,
}

fn pool(now: DateTime<Utc>) -> Pool {
    let mut rng = Rng::new(SEED);
    let mut signals_pool = Vec::with_capacity(POOL);
    let mut actions = Vec::with_capacity(POOL);
    for i in 0..POOL {
        let s = scope(i as u32 % POOL_ACCOUNTS);
        signals_pool.push(signals(&s, now, &mut rng));
        actions.push(action(&s, &mut rng));
    }
    Pool {
        signals: signals_pool,
        actions,
    }
}

fn config() -> TrustGateConfig {
    gate_config().expect("the benchmark gate config is valid")
}

fn decisions(c: &mut Criterion) {
    let cfg = config();
    let t0 = epoch();
    let mut pool = pool(t0);
    // Every pair must decide cleanly, or the numbers would measure error paths.
    {
        let mut gate = TrustGate::new(cfg.clone());
        let mut audit = AuditLog::in_memory();
        for (i, (s, a)) in pool.signals.iter().zip(&pool.actions).enumerate() {
            let now = t0 + TimeDelta::seconds(i as i64);
            gate.decide(s, a, now, &mut audit)
                .expect("generated inputs decide");
        }
    }

    let mut group = c.benchmark_group("decision");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));

    // One long-lived gate: hysteresis, ledger and overrides evolve as in service.
    // Time advances 1 s per decision and every observation is re-stamped, so each
    // decision is a new hysteresis reading.
    let mut gate = TrustGate::new(cfg.clone());
    let mut now = t0 + TimeDelta::days(1);
    let mut i = 0usize;
    group.bench_function("full", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let chunk = left.min(AUDIT_CHUNK);
                let mut audit = AuditLog::in_memory();
                let start = Instant::now();
                for _ in 0..chunk {
                    now += TimeDelta::seconds(1);
                    let k = i % POOL;
                    i = i.wrapping_add(1);
                    let s = &mut pool.signals[k];
                    restamp(s, now);
                    let d = gate.decide(black_box(s), black_box(&pool.actions[k]), now, &mut audit);
                    black_box(d).ok();
                }
                timed += start.elapsed();
                left -= chunk;
                // The full log is dropped outside the timed region.
                drop(black_box(audit));
            }
            timed
        });
    });

    let gate = TrustGate::new(cfg.clone());
    let now = t0;
    for s in &mut pool.signals {
        restamp(s, now);
    }
    let mut i = 0usize;
    group.bench_function("preview", |b| {
        b.iter(|| {
            let k = i % POOL;
            i = i.wrapping_add(1);
            gate.preview(
                black_box(&pool.signals[k]),
                black_box(&pool.actions[k]),
                now,
            )
        });
    });
    group.finish();

    let mut group = c.benchmark_group("health");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    let health = cfg.health().clone();
    let mut i = 0usize;
    group.bench_function("score", |b| {
        b.iter(|| {
            let k = i % POOL;
            i = i.wrapping_add(1);
            health.score(black_box(&pool.signals[k]), now)
        });
    });
    group.finish();

    // The records `decide` would append: one decision each.
    let gate = TrustGate::new(cfg);
    let previews: Vec<Decision> = pool
        .signals
        .iter()
        .zip(&pool.actions)
        .map(|(s, a)| gate.preview(s, a, now).expect("generated inputs decide"))
        .collect();
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    let mut i = 0usize;
    group.bench_function("append", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let chunk = left.min(AUDIT_CHUNK);
                let mut audit = AuditLog::in_memory();
                let start = Instant::now();
                for _ in 0..chunk {
                    let d = &previews[i % POOL];
                    i = i.wrapping_add(1);
                    // `decide` clones its decision into the record the same way.
                    let r = audit.append(
                        d.decided_at,
                        d.action.proposer.clone(),
                        AuditEvent::Decision(Box::new(d.clone())),
                        d.inputs_digest,
                    );
                    black_box(r).ok();
                }
                timed += start.elapsed();
                left -= chunk;
                drop(black_box(audit));
            }
            timed
        });
    });
    group.finish();
}

/// `preview` with 0 and with 100,000 live overrides.
fn overrides(c: &mut Criterion) {
    const LIVE: u32 = 100_000;
    let cfg = config();
    let now = epoch();
    let pool = pool(now);
    let empty = TrustGate::new(cfg.clone());
    let mut loaded = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    for i in 0..LIVE {
        loaded
            .grant_override(
                OverrideRequest {
                    target: Target::new(scope(i % POOL_ACCOUNTS), format!("other_{i}")),
                    action_kind: None,
                    granted_by: Actor::person("u_1", "admin"),
                    reason: "seasonal push approved".to_owned(),
                    expires_at: now + TimeDelta::hours(12),
                },
                now,
                &mut audit,
            )
            .expect("the override policy allows it");
    }
    drop(audit);
    assert_eq!(loaded.override_count(), LIVE as usize);
    let violating = pool
        .signals
        .iter()
        .zip(&pool.actions)
        .filter(|(s, a)| {
            empty
                .preview(s, a, now)
                .is_ok_and(|d| !d.violations.is_empty())
        })
        .count();
    assert!(violating > 0, "no evaluation would look an override up");

    let mut group = c.benchmark_group("overrides");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    for (live, gate) in [(0, &empty), (LIVE, &loaded)] {
        let mut i = 0usize;
        group.bench_function(format!("evaluate/{live}"), |b| {
            b.iter(|| {
                let k = i % POOL;
                i = i.wrapping_add(1);
                gate.preview(
                    black_box(&pool.signals[k]),
                    black_box(&pool.actions[k]),
                    now,
                )
            });
        });
    }
    group.finish();
}

fn backtests(c: &mut Criterion) {
    const ACCOUNTS: u32 = 100;
    const HOURS: u32 = 720;
    let cfg = config();
    let steps: Vec<BacktestStep> = History::new(ACCOUNTS, HOURS, SEED).materialise();
    let evaluations: u64 = steps.iter().map(|s| s.actions.len() as u64).sum();
    let report = backtest::run(&cfg, &steps).expect("generated history replays");
    assert_eq!(report.totals.decisions, evaluations);

    let mut group = c.benchmark_group("backtest");
    group.throughput(Throughput::Elements(evaluations));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("month_100_accounts", |b| {
        b.iter(|| backtest::run(black_box(&cfg), black_box(&steps)));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1));
    targets = decisions, overrides, backtests
}
criterion_main!(benches);
