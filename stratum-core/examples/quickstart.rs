//! Quickstart: score signal health, ask the trust gate about two budget changes, and
//! verify the audit log. Run with `cargo run -p stratum-core --example quickstart`.
#![allow(clippy::print_stdout)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use stratum_core::audit::AuditLog;
use stratum_core::gate::{
    ActionKind, Actor, EnforcementMode, ProposedAction, Target, TrustGate, TrustGateConfig,
};
use stratum_core::guardrails::GuardrailConfig;
use stratum_core::health::{
    ApiObservation, DataQualityObservation, EmqObservation, EventObservation, Scope, Signals,
    StabilityObservation,
};

fn signals(scope: &Scope, at: DateTime<Utc>, emq: f64, confirmed: u64) -> Signals {
    let mut s = Signals::new(scope.clone());
    s.emq = Some(EmqObservation {
        observed_at: at,
        score: emq,
        events: 12_000,
    });
    s.api = Some(ApiObservation {
        observed_at: at,
        total: 2_000,
        succeeded: 1_990,
        p95_latency_ms: 420.0,
        rate_limited: 6,
        server_errors: 4,
        bursts: 0,
    });
    s.events = Some(EventObservation {
        observed_at: at,
        sent: 12_000,
        confirmed,
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
        valid: 11_900,
        stale: 40,
    });
    s
}

fn main() -> Result<(), stratum_core::Error> {
    let scope = Scope::tenant("acme")
        .platform("meta")
        .ad_account("act_1001");
    let config = TrustGateConfig::builder()
        .enforcement(EnforcementMode::SoftBlock)
        .guardrails(GuardrailConfig {
            max_change_pct: Some(Decimal::new(25, 0)),
            ..GuardrailConfig::default()
        })
        .build()?;
    let mut gate = TrustGate::new(config);
    let mut audit = AuditLog::in_memory();
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default();

    // 1. Healthy signals, a +10% budget change proposed by the autopilot.
    let healthy = signals(&scope, t0, 8.6, 11_820);
    let report = gate.config().health().score(&healthy, t0)?;
    println!("{}", report.explain());
    let raise = ProposedAction::new(
        ActionKind::BudgetChange {
            from: Decimal::new(500, 0),
            to: Decimal::new(550, 0),
        },
        Target::new(scope.clone(), "cmp_spring_sale"),
        Actor::Autopilot {
            rule: Some("roas_above_target".into()),
        },
    );
    let d = gate.decide(&healthy, &raise, t0, &mut audit)?;
    println!("{}\n", d.explain());

    // 2. An hour later EMQ has collapsed and a fifth of events are lost.
    let t1 = t0 + TimeDelta::hours(1);
    let degraded = signals(&scope, t1, 2.4, 8_200);
    let bigger = ProposedAction::new(
        ActionKind::BudgetChange {
            from: Decimal::new(550, 0),
            to: Decimal::new(800, 0),
        },
        Target::new(scope, "cmp_brand"),
        Actor::autopilot(),
    );
    let d = gate.decide(&degraded, &bigger, t1, &mut audit)?;
    println!("{}\n", d.explain());

    // 3. Every decision is one record of a hash chain.
    let anchor = audit.verify()?;
    println!(
        "audit log verified: {} records, head {}",
        anchor.len, anchor.head
    );
    Ok(())
}
