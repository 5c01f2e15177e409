//! Bytes -> `TrustGateConfig`, `HealthConfig` and `GuardrailConfig` JSON. Parsing
//! must never panic; a config that parses must round-trip through JSON unchanged
//! (same hash) and must drive a gate through a scripted day (healthy, incident,
//! recovery, telemetry gap) without panicking or breaking the gate's promise.
#![no_main]

mod common;

use chrono::TimeDelta;
use libfuzzer_sys::fuzz_target;
use stratum_core::audit::AuditLog;
use stratum_core::from_json_slice;
use stratum_core::gate::{
    ActionKind, Actor, OverrideRequest, ProposedAction, Target, TrustGate, TrustGateConfig,
};
use stratum_core::guardrails::GuardrailConfig;
use stratum_core::health::{HealthConfig, Scope, Signals};

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = from_json_slice::<HealthConfig>(data) {
        let scope = Scope::tenant("acme");
        for s in [
            common::healthy(scope.clone(), common::now()),
            common::degraded(scope.clone(), common::now()),
            common::partial(scope.clone(), common::now()),
        ] {
            if let Ok(r) = h.score(&s, common::now()) {
                assert!((0.0..=100.0).contains(&r.score), "score {}", r.score);
                let _ = r.explain();
            }
        }
    }
    if let Ok(g) = from_json_slice::<GuardrailConfig>(data) {
        let json = serde_json::to_vec(&g).expect("guardrails serialise");
        let back = from_json_slice::<GuardrailConfig>(&json);
        assert_eq!(
            back.as_ref().ok(),
            Some(&g),
            "{}",
            String::from_utf8_lossy(&json)
        );
    }
    let Ok(cfg) = from_json_slice::<TrustGateConfig>(data) else {
        return;
    };
    let json = serde_json::to_vec(&cfg).expect("a config serialises");
    let back = from_json_slice::<TrustGateConfig>(&json);
    assert_eq!(
        back.as_ref().ok(),
        Some(&cfg),
        "{}",
        String::from_utf8_lossy(&json)
    );
    assert_eq!(back.map(|c| c.hash()).ok(), Some(cfg.hash()));
    scripted_day(cfg);
});

/// Three actions every 20 minutes over a scripted sequence of readings.
fn scripted_day(cfg: TrustGateConfig) {
    let healthy_threshold = cfg.health().thresholds().healthy;
    let role = cfg.overrides().allowed_roles.first().cloned();
    let mut gate = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    let scope = Scope::tenant("acme").platform("meta").ad_account("act_1");
    let t0 = common::now();
    type Make = fn(Scope, chrono::DateTime<chrono::Utc>) -> Signals;
    let plan: [Make; 12] = [
        common::healthy,
        common::healthy,
        common::unhealthy,
        common::unhealthy,
        common::unhealthy,
        common::healthy,
        common::healthy,
        common::healthy,
        common::healthy,
        common::degraded,
        common::partial,
        common::healthy,
    ];
    let actions = [
        common::budget(&scope, 500, 550, Actor::autopilot()),
        common::budget(
            &scope,
            550,
            900,
            Actor::System {
                name: "scheduler".into(),
            },
        ),
        ProposedAction::new(
            ActionKind::Pause,
            Target::new(scope.clone(), "cmp_2"),
            Actor::person("u_1", "media_buyer"),
        ),
    ];
    for (i, make) in plan.iter().enumerate() {
        let at = t0 + TimeDelta::minutes(20 * i as i64);
        let signals = make(scope.clone(), at);
        if i == 6
            && let Some(role) = &role
        {
            let request = OverrideRequest {
                target: Target::new(scope.clone(), "cmp_1"),
                action_kind: None,
                granted_by: Actor::person("u_admin", role.clone()),
                reason: "launch week: budget ramp approved by finance".into(),
                expires_at: at + TimeDelta::hours(1),
            };
            let _ = gate.grant_override(request, at, &mut audit);
        }
        for a in &actions {
            if let Ok(d) = gate.decide(&signals, a, at, &mut audit) {
                common::check_invariants(a, &d, healthy_threshold);
            }
        }
    }
    let _ = gate.state();
    assert!(audit.verify().is_ok());
}
