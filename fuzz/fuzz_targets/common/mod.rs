//! Fixtures shared by the fuzz targets: a fixed evaluation time and signal sets of
//! known health for any scope.
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use stratum_core::gate::{
    ActionKind, Actor, Decision, GateResult, Outcome, ProposedAction, Target,
};
use stratum_core::guardrails::{GuardrailConfig, MinDataVolume};
use stratum_core::health::{
    ApiObservation, DataQualityObservation, EmqObservation, EventObservation, HealthStatus, Scope,
    Signals, StabilityObservation,
};

/// The evaluation time of every target: 2026-03-01T12:00:00Z.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_366_400, 0).unwrap_or_default()
}

/// All five components observed at `at`, with the given EMQ (0..10) and share of
/// events confirmed / API calls succeeded.
pub fn full(scope: Scope, at: DateTime<Utc>, emq: f64, share: f64) -> Signals {
    let part = |n: u64| (n as f64 * share) as u64;
    let mut s = Signals::new(scope);
    s.emq = Some(EmqObservation {
        observed_at: at,
        score: emq,
        events: 12_000,
    });
    s.api = Some(ApiObservation {
        observed_at: at,
        total: 2_000,
        succeeded: part(2_000),
        p95_latency_ms: 420.0,
        rate_limited: 0,
        server_errors: 0,
        bursts: 0,
    });
    s.events = Some(EventObservation {
        observed_at: at,
        sent: 12_000,
        confirmed: part(12_000),
        duplicates: 0,
    });
    s.stability = Some(StabilityObservation {
        observed_at: at,
        incidents: 0,
        error_rates: vec![0.004, 0.006, 0.005, 0.005],
    });
    s.data_quality = Some(DataQualityObservation {
        observed_at: at,
        total: 12_000,
        valid: part(12_000),
        stale: 0,
    });
    s
}

/// Score about 94: healthy.
pub fn healthy(scope: Scope, at: DateTime<Utc>) -> Signals {
    full(scope, at, 8.6, 0.99)
}

/// Score about 59: degraded.
pub fn degraded(scope: Scope, at: DateTime<Utc>) -> Signals {
    full(scope, at, 4.0, 0.7)
}

/// Score about 25: unhealthy.
pub fn unhealthy(scope: Scope, at: DateTime<Utc>) -> Signals {
    full(scope, at, 1.0, 0.3)
}

/// Only EMQ observed: too little evidence (inconclusive).
pub fn partial(scope: Scope, at: DateTime<Utc>) -> Signals {
    let mut s = healthy(scope, at);
    s.api = None;
    s.events = None;
    s.stability = None;
    s.data_quality = None;
    s
}

/// The guardrails of a typical tenant.
pub fn guardrails() -> GuardrailConfig {
    GuardrailConfig {
        max_change_pct: Some(Decimal::new(30, 0)),
        max_change_abs: Some(Decimal::new(2_000, 0)),
        max_daily_change_pct: Some(Decimal::new(50, 0)),
        max_daily_change_abs: Some(Decimal::new(5_000, 0)),
        min_budget: Some(Decimal::new(10, 0)),
        max_budget: Some(Decimal::new(50_000, 0)),
        target_cooldown: Some(TimeDelta::hours(2)),
        max_actions_per_day: Some(100),
        min_data_volume: Some(MinDataVolume {
            conversions: 20,
            spend: Decimal::new(100, 0),
        }),
    }
}

/// A budget change of `from` -> `to` on `cmp_1` of `scope`.
pub fn budget(scope: &Scope, from: i64, to: i64, by: Actor) -> ProposedAction {
    ProposedAction::new(
        ActionKind::BudgetChange {
            from: Decimal::new(from, 0),
            to: Decimal::new(to, 0),
        },
        Target::new(scope.clone(), "cmp_1"),
        by,
    )
    .with_data_volume(120, Decimal::new(2_500, 0))
}

/// The gate's promise: an automated action executes only when health passes, so
/// never below the healthy threshold.
pub fn check_invariants(action: &ProposedAction, d: &Decision, healthy_threshold: f64) {
    assert!(
        (0.0..=100.0).contains(&d.health.score),
        "score {}",
        d.health.score
    );
    if action.proposer.is_automation() && d.outcome == Outcome::Execute {
        assert_eq!(
            d.gate,
            GateResult::Pass,
            "automation executed on {:?}: {d:?}",
            d.gate
        );
        assert_eq!(d.health.status, HealthStatus::Healthy, "{d:?}");
        assert!(
            d.health.score >= healthy_threshold,
            "automation executed at health {} below {healthy_threshold}: {d:?}",
            d.health.score
        );
    }
    assert_eq!(d.action, *action);
    let _ = d.explain();
}
