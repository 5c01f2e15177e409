//! Bytes -> `Signals` JSON. Whatever parses must score without panicking under the
//! default config (and with missing components re-normalised); a score is always
//! within 0..=100, and a gate previewing an automated action on these signals never
//! executes it below the healthy threshold.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use stratum_core::from_json_slice;
use stratum_core::gate::{ActionKind, Actor, ProposedAction, Target, TrustGate, TrustGateConfig};
use stratum_core::health::{HealthConfig, MAX_FUTURE_SKEW, MissingPolicy, Signals};

fuzz_target!(|data: &[u8]| {
    let Ok(signals) = from_json_slice::<Signals>(data) else {
        return;
    };
    let now = common::now();
    // Valid signals stamped no later than the allowed clock skew always score.
    let valid = signals.validate().is_ok()
        && signals
            .latest_observation()
            .is_none_or(|t| t <= now + MAX_FUTURE_SKEW);
    let report = HealthConfig::default().score(&signals, now);
    assert!(
        report.is_ok() || !valid,
        "valid signals failed to score: {report:?}"
    );
    if let Ok(r) = &report {
        assert!(
            (0.0..=100.0).contains(&r.score),
            "score {} out of range",
            r.score
        );
        assert!(
            (0.0..=1.0 + 1e-9).contains(&r.present_weight),
            "present weight {}",
            r.present_weight
        );
        assert_eq!(r.components.len(), 5);
        let _ = r.explain();
        let _ = serde_json::to_string(r).expect("a report serialises");
    }
    if let Ok(renorm) = HealthConfig::builder()
        .missing(MissingPolicy::Renormalize)
        .build()
        && let Ok(r) = renorm.score(&signals, now)
    {
        assert!(
            (0.0..=100.0).contains(&r.score),
            "renormalised score {} out of range",
            r.score
        );
    }

    let gate = TrustGate::new(TrustGateConfig::default());
    let action = ProposedAction::new(
        ActionKind::BudgetChange {
            from: Decimal::new(500, 0),
            to: Decimal::new(550, 0),
        },
        Target::new(signals.scope.clone(), "cmp_1"),
        Actor::autopilot(),
    );
    if let Ok(d) = gate.preview(&signals, &action, now) {
        common::check_invariants(&action, &d, 70.0);
        if let Ok(r) = &report {
            assert!((d.health.score - r.score).abs() < 1e-9);
        }
    }
});
