//! Bytes -> `ProposedAction` JSON. Whatever parses is previewed by a default gate
//! against fixed signals for the action's own scope (healthy, degraded, unhealthy
//! and inconclusive) without panicking; an automated action is never executed when
//! the health score is below 70. The action is then decided for real by a gate with
//! typical guardrails, and the audit chain must verify.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use stratum_core::audit::AuditLog;
use stratum_core::from_json_slice;
use stratum_core::gate::{Outcome, ProposedAction, TrustGate, TrustGateConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(action) = from_json_slice::<ProposedAction>(data) else {
        return;
    };
    let _ = action.validate();
    let _ = action.kind.money_change();
    let now = common::now();
    let scope = action.target.scope.clone();
    let gate = TrustGate::new(TrustGateConfig::default());
    let all = [
        common::healthy(scope.clone(), now),
        common::degraded(scope.clone(), now),
        common::unhealthy(scope.clone(), now),
        common::partial(scope.clone(), now),
    ];
    for signals in &all {
        if let Ok(d) = gate.preview(signals, &action, now) {
            if action.proposer.is_automation() && d.health.score < 70.0 {
                assert_ne!(d.outcome, Outcome::Execute, "{d:?}");
            }
            common::check_invariants(&action, &d, 70.0);
        }
    }

    let Ok(cfg) = TrustGateConfig::builder()
        .guardrails(common::guardrails())
        .build()
    else {
        return;
    };
    let mut gate = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    for (i, signals) in all.iter().enumerate() {
        let at = now + chrono::TimeDelta::seconds(i as i64);
        if let Ok(d) = gate.decide(signals, &action, at, &mut audit) {
            common::check_invariants(&action, &d, 70.0);
        }
    }
    assert!(audit.verify().is_ok());
});
