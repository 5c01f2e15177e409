//! Bad input: every invalid config, observation and action is a typed error with a
//! stable code and the offending field; nothing panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeDelta;
use common::*;
use rust_decimal::Decimal;
use stratum_core::gate::*;
use stratum_core::guardrails::GuardrailConfig;
use stratum_core::health::*;
use stratum_core::{Error, from_json};

fn expect(err: &Error, code: &str, field: &str) {
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(err.field(), Some(field), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(field), "message must name the field: {msg}");
}

fn weights(emq: f64) -> Weights {
    Weights {
        emq,
        ..Weights::default()
    }
}

#[test]
fn invalid_health_configs() {
    let cases: Vec<(HealthConfigBuilder, &str)> = vec![
        (
            HealthConfig::builder().weights(weights(-0.1)),
            "health.weights.emq",
        ),
        (
            HealthConfig::builder().weights(weights(0.40)),
            "health.weights",
        ),
        (
            HealthConfig::builder().weights(weights(f64::NAN)),
            "health.weights.emq",
        ),
        (
            HealthConfig::builder().weights(weights(f64::INFINITY)),
            "health.weights.emq",
        ),
        (
            HealthConfig::builder().thresholds(Thresholds {
                healthy: 40.0,
                degraded: 70.0,
            }),
            "health.thresholds.degraded",
        ),
        (
            HealthConfig::builder().thresholds(Thresholds {
                healthy: 50.0,
                degraded: 50.0,
            }),
            "health.thresholds.degraded",
        ),
        (
            HealthConfig::builder().thresholds(Thresholds {
                healthy: 101.0,
                degraded: 40.0,
            }),
            "health.thresholds.healthy",
        ),
        (
            HealthConfig::builder().thresholds(Thresholds {
                healthy: 70.0,
                degraded: -1.0,
            }),
            "health.thresholds.degraded",
        ),
        (
            HealthConfig::builder().max_signal_age(TimeDelta::zero()),
            "health.max_signal_age_secs",
        ),
        (
            HealthConfig::builder().api(ApiScoring {
                latency_slo_ms: 0.0,
                ..ApiScoring::default()
            }),
            "health.api.latency_slo_ms",
        ),
        (
            HealthConfig::builder().stability(StabilityScoring {
                incident_penalty: f64::NAN,
                ..StabilityScoring::default()
            }),
            "health.stability.incident_penalty",
        ),
    ];
    for (b, field) in cases {
        expect(&b.build().unwrap_err(), "invalid_config", field);
    }
}

#[test]
fn invalid_gate_configs() {
    let cases: Vec<(TrustGateConfigBuilder, &str)> = vec![
        (
            TrustGateConfig::builder().evidence(EvidenceConfig {
                min_present_weight: 0.0,
            }),
            "evidence.min_present_weight",
        ),
        (
            TrustGateConfig::builder().hysteresis(HysteresisConfig {
                window: 0,
                ..HysteresisConfig::default()
            }),
            "hysteresis.window",
        ),
        (
            TrustGateConfig::builder().hysteresis(HysteresisConfig {
                window: 3,
                trip_after: 4,
                ..HysteresisConfig::default()
            }),
            "hysteresis.trip_after",
        ),
        (
            TrustGateConfig::builder().hysteresis(HysteresisConfig {
                recovery_readings: 0,
                ..HysteresisConfig::default()
            }),
            "hysteresis.recovery_readings",
        ),
        (
            TrustGateConfig::builder().guardrails(GuardrailConfig {
                min_budget: Some(Decimal::from(-1)),
                ..GuardrailConfig::default()
            }),
            "guardrails.min_budget",
        ),
        (
            TrustGateConfig::builder().guardrails(GuardrailConfig {
                min_budget: Some(Decimal::from(500)),
                max_budget: Some(Decimal::from(100)),
                ..GuardrailConfig::default()
            }),
            "guardrails.min_budget",
        ),
        (
            TrustGateConfig::builder().guardrails(GuardrailConfig {
                max_change_pct: Some(Decimal::ZERO),
                ..GuardrailConfig::default()
            }),
            "guardrails.max_change_pct",
        ),
        (
            TrustGateConfig::builder().guardrails(GuardrailConfig {
                target_cooldown: Some(TimeDelta::zero()),
                ..GuardrailConfig::default()
            }),
            "guardrails.target_cooldown_secs",
        ),
        (
            TrustGateConfig::builder().guardrails(GuardrailConfig {
                max_actions_per_day: Some(0),
                ..GuardrailConfig::default()
            }),
            "guardrails.max_actions_per_day",
        ),
        (
            TrustGateConfig::builder().overrides(OverridePolicy {
                max_duration: TimeDelta::zero(),
                ..OverridePolicy::default()
            }),
            "overrides.max_duration_secs",
        ),
        (
            TrustGateConfig::builder().overrides(OverridePolicy {
                allowed_roles: vec!["admin".into(), " ".into()],
                ..OverridePolicy::default()
            }),
            "overrides.allowed_roles[1]",
        ),
    ];
    for (b, field) in cases {
        expect(&b.build().unwrap_err(), "invalid_config", field);
    }
}

#[test]
fn json_configs_validate_and_keep_the_error_kind() {
    let err = from_json::<TrustGateConfig>(
        r#"{"health": {"weights": {"emq": 0.5, "api_health": 0.25, "event_loss": 0.2, "platform_stability": 0.1, "data_quality": 0.1}}}"#,
    )
    .unwrap_err();
    expect(&err, "invalid_config", "health.weights");
    let err = from_json::<TrustGateConfig>(r#"{"hysteresis": {"window": 0}}"#).unwrap_err();
    expect(&err, "invalid_config", "hysteresis.window");
    let err = from_json::<TrustGateConfig>(r#"{"guardrails": {"min_budget": "-5"}}"#).unwrap_err();
    expect(&err, "invalid_config", "guardrails.min_budget");
    // Shape errors: unknown field, wrong type, malformed JSON, out-of-range duration.
    for bad in [
        r#"{"enforcment": "advisory"}"#,
        r#"{"enforcement": "sometimes"}"#,
        r#"{"health": {"thresholds": {"healthy": "high"}}}"#,
        r#"{"hysteresis": {"cooldown_secs": 9223372036854775807}}"#,
        r#"{"health": "#,
        "",
        "42",
    ] {
        let err = from_json::<TrustGateConfig>(bad).unwrap_err();
        assert_eq!(err.code(), "invalid_json", "{bad}: {err}");
        assert!(err.to_string().contains("TrustGateConfig"), "{err}");
    }
    // Empty object = defaults.
    let cfg: TrustGateConfig = from_json("{}").unwrap_or_default();
    assert_eq!(cfg, TrustGateConfig::default());
}

#[test]
fn invalid_observations() {
    let now = t0();
    let cfg = HealthConfig::default();
    let mut cases: Vec<(Signals, &str)> = Vec::new();
    let mut s = healthy(now);
    if let Some(a) = &mut s.api {
        a.succeeded = a.total + 1;
    }
    cases.push((s, "api.succeeded"));
    let mut s = healthy(now);
    if let Some(a) = &mut s.api {
        a.succeeded = 900;
        a.rate_limited = 80;
        a.server_errors = 30;
    }
    cases.push((s, "api.rate_limited + api.server_errors"));
    let mut s = healthy(now);
    if let Some(a) = &mut s.api {
        a.p95_latency_ms = -1.0;
    }
    cases.push((s, "api.p95_latency_ms"));
    let mut s = healthy(now);
    if let Some(e) = &mut s.emq {
        e.score = 10.5;
    }
    cases.push((s, "emq.score"));
    let mut s = healthy(now);
    if let Some(e) = &mut s.emq {
        e.score = f64::NAN;
    }
    cases.push((s, "emq.score"));
    let mut s = healthy(now);
    if let Some(e) = &mut s.events {
        e.duplicates = e.sent + 1;
    }
    cases.push((s, "events.duplicates"));
    let mut s = healthy(now);
    if let Some(st) = &mut s.stability {
        st.error_rates[1] = 1.5;
    }
    cases.push((s, "stability.error_rates[1]"));
    let mut s = healthy(now);
    if let Some(d) = &mut s.data_quality {
        d.valid = d.total + 1;
    }
    cases.push((s, "data_quality.valid"));
    let mut s = healthy(now);
    if let Some(d) = &mut s.data_quality {
        d.valid = 10;
        d.stale = 11;
    }
    cases.push((s, "data_quality.stale"));
    let s = healthy(now + TimeDelta::minutes(6));
    cases.push((s, "emq.observed_at"));
    let mut s = healthy(now);
    s.scope.tenant = String::new();
    cases.push((s, "scope.tenant"));
    let mut s = healthy(now);
    s.scope.platform = None;
    cases.push((s, "scope.ad_account"));
    for (s, field) in cases {
        expect(
            &cfg.score(&s, now).unwrap_err(),
            "invalid_observation",
            field,
        );
    }
    // Clock skew within five minutes is tolerated.
    assert!(
        cfg.score(&healthy(now + TimeDelta::minutes(4)), now)
            .is_ok()
    );
}

#[test]
fn invalid_json_observations_and_actions() {
    let err = from_json::<Signals>(r#"{"scope": {"tenant": "a"}, "emq": {"observed_at": "yesterday", "score": 5, "events": 1}}"#).unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    assert!(err.to_string().contains("RFC 3339"), "{err}");
    let err = from_json::<ProposedAction>(r#"{"kind": {"type": "budget_change", "from": "abc", "to": 5}, "target": {"scope": {"tenant": "a"}, "id": "c"}, "proposer": {"type": "autopilot"}}"#).unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    let err = from_json::<ProposedAction>(r#"{"kind": {"type": "nuke"}, "target": {"scope": {"tenant": "a"}, "id": "c"}, "proposer": {"type": "autopilot"}}"#).unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    let ok: ProposedAction = from_json(r#"{"kind": {"type": "budget_change", "from": 100, "to": "120.50"}, "target": {"scope": {"tenant": "a"}, "id": "c"}, "proposer": {"type": "person", "id": "u_1", "role": "admin"}}"#).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok.kind,
        ActionKind::BudgetChange {
            from: Decimal::from(100),
            to: Decimal::new(12050, 2)
        }
    );
    let mut person = ok;
    person.proposer = Actor::person("", "admin");
    expect(
        &person.validate().unwrap_err(),
        "invalid_action",
        "proposer.id",
    );
}

#[test]
fn backtest_errors_name_the_step() {
    use stratum_core::backtest::{BacktestStep, run};
    let good = BacktestStep {
        at: t0(),
        signals: healthy(t0()),
        actions: vec![pause(Actor::autopilot())],
    };
    let mut bad = good.clone();
    if let Some(e) = &mut bad.signals.emq {
        e.score = 11.0;
    }
    let err = run(
        &TrustGateConfig::default(),
        [good.clone(), good.clone(), bad],
    )
    .unwrap_err();
    assert!(matches!(err, Error::Backtest { step: 2, .. }), "{err}");
    assert_eq!(err.code(), "invalid_observation");
    assert_eq!(err.field(), Some("emq.score"));
    let mut early = good.clone();
    early.at = t0() - TimeDelta::hours(1);
    let err = run(&TrustGateConfig::default(), [good, early]).unwrap_err();
    assert!(matches!(err, Error::Backtest { step: 1, .. }), "{err}");
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (
            Error::InvalidConfig {
                field: "f".into(),
                message: "m".into(),
            },
            "invalid_config",
        ),
        (
            Error::InvalidObservation {
                field: "f".into(),
                message: "m".into(),
            },
            "invalid_observation",
        ),
        (
            Error::InvalidAction {
                field: "f".into(),
                message: "m".into(),
            },
            "invalid_action",
        ),
        (
            Error::OverrideRefused {
                field: "f".into(),
                message: "m".into(),
            },
            "override_refused",
        ),
        (
            Error::InvalidJson {
                what: "X",
                field: None,
                message: "m".into(),
            },
            "invalid_json",
        ),
    ];
    for (e, code) in all {
        assert_eq!(e.code(), code);
    }
}

/// Regression: durations long enough to overflow date arithmetic were accepted and
/// panicked later (found by the `config_json` fuzz target).
#[test]
fn absurd_durations_are_rejected_not_panicked_on() {
    for json in [
        r#"{"guardrails":{"target_cooldown_secs":8300000000000}}"#,
        r#"{"hysteresis":{"cooldown_secs":8300000000000}}"#,
        r#"{"health":{"max_signal_age_secs":8300000000000}}"#,
        r#"{"overrides":{"max_duration_secs":8300000000000}}"#,
    ] {
        let err = from_json::<TrustGateConfig>(json).unwrap_err();
        assert_eq!(err.code(), "invalid_config", "{json}: {err}");
        assert!(err.to_string().contains("ten years"), "{err}");
    }
    // The longest accepted cooldowns work end to end.
    let ten_years = TimeDelta::days(3650);
    let cfg = TrustGateConfig::builder()
        .guardrails(GuardrailConfig {
            target_cooldown: Some(ten_years),
            ..GuardrailConfig::default()
        })
        .hysteresis(HysteresisConfig {
            window: 1,
            trip_after: 1,
            cooldown: ten_years,
            recovery_readings: 1,
        })
        .build()
        .unwrap();
    let mut gate = TrustGate::new(cfg);
    let mut audit = stratum_core::audit::AuditLog::in_memory();
    let d = gate
        .decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)
        .unwrap();
    assert_eq!(d.outcome, Outcome::Execute);
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate
        .decide(&unhealthy(t1), &pause(Actor::autopilot()), t1, &mut audit)
        .unwrap();
    assert_eq!(d.gate, GateResult::Block);
    let t2 = t0() + TimeDelta::hours(2);
    let d = gate
        .decide(&healthy(t2), &pause(Actor::autopilot()), t2, &mut audit)
        .unwrap();
    assert_eq!(d.gate, GateResult::Hold, "recovering for ten years");
    assert!(
        d.explain().contains("cooldown until 2036"),
        "{}",
        d.explain()
    );
}
