//! Behaviour of the trust gate: evidence, hysteresis, people, guardrails, modes,
//! overrides, state and audit coupling.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeDelta;
use common::*;
use rust_decimal::Decimal;
use stratum_core::audit::{AuditEvent, AuditLog, AuditRecord, AuditSink, MemorySink};
use stratum_core::gate::*;
use stratum_core::guardrails::{GuardrailConfig, MinDataVolume, Violation};
use stratum_core::health::*;
use stratum_core::{Error, Result};

fn gate_with(g: GuardrailConfig, mode: EnforcementMode) -> Result<TrustGate> {
    Ok(TrustGate::new(
        TrustGateConfig::builder()
            .guardrails(g)
            .enforcement(mode)
            .build()?,
    ))
}

fn codes(d: &Decision) -> Vec<&'static str> {
    d.violations.iter().map(Violation::code).collect()
}

#[test]
fn healthy_passes_degraded_holds_for_automation() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let d = gate.decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)?;
    assert_eq!((d.gate, d.outcome), (GateResult::Pass, Outcome::Execute));
    assert_eq!(d.health.status, HealthStatus::Healthy);

    // EMQ 1.0 → 3.5 + 65 = 68.5: Degraded.
    let t1 = t0() + TimeDelta::hours(1);
    let degraded = full_signals(&scope(), t1, 1.0);
    let d = gate.decide(&degraded, &pause(Actor::autopilot()), t1, &mut audit)?;
    assert!((d.health.score - 68.5).abs() < 1e-9);
    assert_eq!((d.gate, d.outcome), (GateResult::Hold, Outcome::AlertOnly));
    assert_eq!(d.reasons[0].severity, Severity::Hold);
    assert!(
        d.reasons.iter().any(|r| matches!(
            r.detail,
            ReasonDetail::WeakComponent {
                component: Component::Emq,
                ..
            }
        )),
        "{}",
        d.explain()
    );
    assert_eq!(audit.len(), 2);
    Ok(())
}

#[test]
fn telemetry_outage_is_inconclusive_even_when_renormalising() -> Result<()> {
    let cfg = TrustGateConfig::builder()
        .health(
            HealthConfig::builder()
                .missing(MissingPolicy::Renormalize)
                .build()?,
        )
        .build()?;
    let mut gate = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    // Nothing observed at all.
    let none = Signals::new(scope());
    let d = gate.decide(&none, &pause(Actor::autopilot()), t0(), &mut audit)?;
    assert_eq!(
        (d.gate, d.outcome),
        (GateResult::Inconclusive, Outcome::AlertOnly)
    );
    // Only EMQ, perfect: renormalised score 100, but 35% of the weight < 60%.
    let mut only_emq = Signals::new(scope());
    only_emq.emq = Some(EmqObservation {
        observed_at: t0(),
        score: 10.0,
        events: 10_000,
    });
    let d = gate.decide(&only_emq, &pause(Actor::autopilot()), t0(), &mut audit)?;
    assert!((d.health.score - 100.0).abs() < 1e-9);
    assert_eq!(d.gate, GateResult::Inconclusive);
    assert_ne!(d.outcome, Outcome::Execute);
    // Everything stale: same.
    let stale = healthy(t0() - TimeDelta::hours(25));
    let d = gate.decide(&stale, &pause(Actor::autopilot()), t0(), &mut audit)?;
    assert_eq!(d.gate, GateResult::Inconclusive);
    assert_eq!(d.health.missing.len(), 5);
    Ok(())
}

#[test]
fn repeated_readings_do_not_trip_hysteresis() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let bad = unhealthy(t0());
    // The same observations judged five times are one reading: held, never blocked.
    for k in 0..5 {
        let d = gate.decide(
            &bad,
            &pause(Actor::autopilot()),
            t0() + TimeDelta::minutes(k),
            &mut audit,
        )?;
        assert_eq!(d.gate, GateResult::Hold, "{}", d.explain());
        assert!(d.reasons.iter().any(|r| matches!(
            r.detail,
            ReasonDetail::Debounced {
                bad_readings: 1,
                ..
            }
        )));
    }
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate.decide(&unhealthy(t1), &pause(Actor::autopilot()), t1, &mut audit)?;
    assert_eq!(
        (d.gate, d.outcome),
        (GateResult::Block, Outcome::ManualRequired)
    );
    Ok(())
}

#[test]
fn cooldown_delays_recovery() -> Result<()> {
    let cfg = TrustGateConfig::builder()
        .hysteresis(HysteresisConfig {
            window: 3,
            trip_after: 1,
            cooldown: TimeDelta::hours(2),
            recovery_readings: 1,
        })
        .build()?;
    let mut gate = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    let d = gate.decide(
        &unhealthy(t0()),
        &pause(Actor::autopilot()),
        t0(),
        &mut audit,
    )?;
    assert_eq!(d.gate, GateResult::Block);
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate.decide(&healthy(t1), &pause(Actor::autopilot()), t1, &mut audit)?;
    assert_eq!(d.gate, GateResult::Hold);
    match &d.reasons[0].detail {
        ReasonDetail::Recovering { cooldown_until, .. } => {
            assert_eq!(*cooldown_until, Some(t0() + TimeDelta::hours(2)));
        }
        other => panic!("expected recovering, got {other:?}"),
    }
    let t2 = t0() + TimeDelta::hours(2);
    let d = gate.decide(&healthy(t2), &pause(Actor::autopilot()), t2, &mut audit)?;
    assert_eq!(d.gate, GateResult::Pass);
    Ok(())
}

#[test]
fn people_are_not_held_for_health_but_it_is_recorded() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let person = Actor::person("u_9", "media_buyer");
    let d = gate.decide(&unhealthy(t0()), &pause(person.clone()), t0(), &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    assert!(d.warnings().any(|r| matches!(
        r.detail,
        ReasonDetail::PersonActsDespiteHealth {
            status: HealthStatus::Unhealthy,
            ..
        }
    )));
    // The audit record names the person.
    let records = audit.records()?;
    assert_eq!(records[0].actor, person);
    // Guardrails still apply to people.
    let mut gate = gate_with(
        GuardrailConfig {
            max_budget: Some(Decimal::from(1_000)),
            ..GuardrailConfig::default()
        },
        EnforcementMode::HardBlock,
    )?;
    let d = gate.decide(
        &healthy(t0()),
        &budget(900, 1_500, person),
        t0(),
        &mut audit,
    )?;
    assert_eq!(d.outcome, Outcome::ManualRequired);
    assert_eq!(codes(&d), vec!["max_budget"]);
    Ok(())
}

#[test]
fn each_guardrail_fires_with_its_code() -> Result<()> {
    let cases: Vec<(GuardrailConfig, ProposedAction, &str)> = vec![
        (
            GuardrailConfig {
                max_change_pct: Some(Decimal::from(20)),
                ..Default::default()
            },
            budget(100, 121, Actor::autopilot()),
            "max_change_pct",
        ),
        (
            GuardrailConfig {
                max_change_abs: Some(Decimal::from(50)),
                ..Default::default()
            },
            budget(100, 151, Actor::autopilot()),
            "max_change_abs",
        ),
        (
            GuardrailConfig {
                min_budget: Some(Decimal::from(10)),
                ..Default::default()
            },
            budget(100, 9, Actor::autopilot()),
            "min_budget",
        ),
        (
            GuardrailConfig {
                max_budget: Some(Decimal::from(1_000)),
                ..Default::default()
            },
            budget(900, 1_001, Actor::autopilot()),
            "max_budget",
        ),
        (
            GuardrailConfig {
                min_data_volume: Some(MinDataVolume {
                    conversions: 30,
                    spend: Decimal::from(100),
                }),
                ..Default::default()
            },
            budget(100, 110, Actor::autopilot()).with_data_volume(29, Decimal::from(500)),
            "min_data_volume",
        ),
        (
            GuardrailConfig {
                min_data_volume: Some(MinDataVolume {
                    conversions: 30,
                    spend: Decimal::from(100),
                }),
                ..Default::default()
            },
            budget(100, 110, Actor::autopilot()),
            "min_data_volume",
        ),
    ];
    for (g, action, code) in cases {
        let mut gate = gate_with(g, EnforcementMode::SoftBlock)?;
        let d = gate.decide(&healthy(t0()), &action, t0(), &mut AuditLog::in_memory())?;
        assert_eq!(codes(&d), vec![code], "{}", d.explain());
        assert_eq!(d.outcome, Outcome::ManualRequired);
        assert!(d.stopped_by_policy());
    }
    // Within every limit: executes.
    let mut gate = gate_with(
        GuardrailConfig {
            max_change_pct: Some(Decimal::from(20)),
            max_change_abs: Some(Decimal::from(50)),
            min_budget: Some(Decimal::from(10)),
            max_budget: Some(Decimal::from(1_000)),
            ..Default::default()
        },
        EnforcementMode::HardBlock,
    )?;
    let d = gate.decide(
        &healthy(t0()),
        &budget(100, 120, Actor::autopilot()),
        t0(),
        &mut AuditLog::in_memory(),
    )?;
    assert_eq!(d.outcome, Outcome::Execute);
    assert!(d.violations.is_empty());
    Ok(())
}

#[test]
fn daily_limits_cooldowns_and_action_counts_use_executed_history() -> Result<()> {
    let mut gate = gate_with(
        GuardrailConfig {
            max_daily_change_pct: Some(Decimal::from(50)),
            target_cooldown: Some(TimeDelta::hours(1)),
            max_actions_per_day: Some(3),
            ..Default::default()
        },
        EnforcementMode::SoftBlock,
    )?;
    let mut audit = AuditLog::in_memory();
    let at = |h: i64| t0() + TimeDelta::hours(h);
    // 09:00 100 → 130 (+30%): fine.
    let d = gate.decide(
        &healthy(at(0)),
        &budget(100, 130, Actor::autopilot()),
        at(0),
        &mut audit,
    )?;
    assert_eq!(d.outcome, Outcome::Execute);
    // 09:30 same target: cooldown.
    let half = t0() + TimeDelta::minutes(30);
    let d = gate.decide(
        &healthy(half),
        &budget(130, 140, Actor::autopilot()),
        half,
        &mut audit,
    )?;
    assert_eq!(codes(&d), vec!["target_cooldown"]);
    // 10:00 130 → 160: net +60% of the day's 100 > 50%.
    let d = gate.decide(
        &healthy(at(1)),
        &budget(130, 160, Actor::autopilot()),
        at(1),
        &mut audit,
    )?;
    assert_eq!(codes(&d), vec!["max_daily_change_pct"]);
    match &d.violations[0] {
        Violation::DailyChangePct {
            change_pct,
            day_start,
            ..
        } => {
            assert_eq!(*change_pct, Some(Decimal::from(60)));
            assert_eq!(*day_start, Decimal::from(100));
        }
        other => panic!("{other:?}"),
    }
    // 10:00 130 → 145 (+45% net): fine. Then two pauses on other campaigns fill the day.
    let d = gate.decide(
        &healthy(at(1)),
        &budget(130, 145, Actor::autopilot()),
        at(1),
        &mut audit,
    )?;
    assert_eq!(d.outcome, Outcome::Execute);
    let other = |id: &str| {
        ProposedAction::new(
            ActionKind::Pause,
            Target::new(scope(), id),
            Actor::autopilot(),
        )
    };
    let d = gate.decide(&healthy(at(2)), &other("cmp_2"), at(2), &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    let d = gate.decide(&healthy(at(2)), &other("cmp_3"), at(2), &mut audit)?;
    assert_eq!(codes(&d), vec!["max_actions_per_day"]);
    // Blocked actions do not count: still 3 executed. Next UTC day resets.
    assert_eq!(gate.ledger().executed_today("acme", at(2).date_naive()), 3);
    let tomorrow = t0() + TimeDelta::days(1);
    let d = gate.decide(&healthy(tomorrow), &other("cmp_3"), tomorrow, &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    Ok(())
}

#[test]
fn enforcement_modes_and_per_kind_overrides() -> Result<()> {
    let g = GuardrailConfig {
        max_change_pct: Some(Decimal::from(10)),
        ..Default::default()
    };
    let cfg = TrustGateConfig::builder()
        .guardrails(g)
        .enforcement(EnforcementMode::HardBlock)
        .enforcement_for(ActionKindTag::BidChange, EnforcementMode::Advisory)
        .build()?;
    let mut gate = TrustGate::new(cfg);
    let mut audit = AuditLog::in_memory();
    let bid = ProposedAction::new(
        ActionKind::BidChange {
            from: Decimal::new(100, 2),
            to: Decimal::new(150, 2),
        },
        Target::new(scope(), "cmp_1"),
        Actor::autopilot(),
    );
    let d = gate.decide(&healthy(t0()), &bid, t0(), &mut audit)?;
    assert_eq!(d.enforcement, EnforcementMode::Advisory);
    assert_eq!(d.outcome, Outcome::Execute);
    assert_eq!(codes(&d), vec!["max_change_pct"]);
    assert!(d.warnings().any(|r| matches!(
        r.detail,
        ReasonDetail::Violation {
            effect: ViolationEffect::WouldBlock,
            ..
        }
    )));
    let d = gate.decide(
        &healthy(t0()),
        &budget(100, 150, Actor::autopilot()),
        t0(),
        &mut audit,
    )?;
    assert_eq!(d.enforcement, EnforcementMode::HardBlock);
    assert_eq!(d.outcome, Outcome::ManualRequired);
    // Advisory violations never lift a health hold.
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate.decide(&full_signals(&scope(), t1, 1.0), &bid, t1, &mut audit)?;
    assert_eq!(d.outcome, Outcome::AlertOnly);
    Ok(())
}

fn request(by: Actor, reason: &str, hours: i64) -> OverrideRequest {
    OverrideRequest {
        target: Target::new(scope(), "cmp_1"),
        action_kind: None,
        granted_by: by,
        reason: reason.into(),
        expires_at: t0() + TimeDelta::hours(hours),
    }
}

#[test]
fn overrides_are_validated_audited_expire_and_are_ignored_by_hard_block() -> Result<()> {
    let g = GuardrailConfig {
        max_change_pct: Some(Decimal::from(10)),
        ..Default::default()
    };
    let mut gate = gate_with(g.clone(), EnforcementMode::SoftBlock)?;
    let mut audit = AuditLog::in_memory();
    let reason = "approved in the weekly budget review";

    for (req, field) in [
        (
            request(Actor::person("u_1", "viewer"), reason, 1),
            "granted_by.role",
        ),
        (request(Actor::autopilot(), reason, 1), "granted_by"),
        (request(Actor::person("u_1", "admin"), "ok", 1), "reason"),
        (
            request(Actor::person("u_1", "admin"), reason, 0),
            "expires_at",
        ),
        (
            request(Actor::person("u_1", "admin"), reason, 25),
            "expires_at",
        ),
    ] {
        let err = gate.grant_override(req, t0(), &mut audit).unwrap_err();
        assert_eq!(err.code(), "override_refused");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(audit.len(), 0, "refused overrides are not recorded");

    let granted = gate.grant_override(
        request(Actor::person("u_1", "admin"), reason, 2),
        t0(),
        &mut audit,
    )?;
    assert!(granted.id.starts_with("ovr_"));
    assert!(matches!(
        audit.records()?[0].event,
        AuditEvent::OverrideGranted(_)
    ));
    let raise = budget(100, 150, Actor::autopilot());
    let d = gate.decide(&healthy(t0()), &raise, t0(), &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    assert_eq!(
        d.override_applied.as_ref().map(|o| o.id.as_str()),
        Some(granted.id.as_str())
    );
    // An override never lifts a health hold.
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate.decide(
        &full_signals(&scope(), t1, 1.0),
        &budget(100, 150, Actor::autopilot()),
        t1,
        &mut audit,
    )?;
    assert_eq!(d.outcome, Outcome::AlertOnly);
    // Expired after two hours.
    let t3 = t0() + TimeDelta::hours(3);
    let d = gate.decide(&healthy(t3), &raise, t3, &mut audit)?;
    assert_eq!(d.outcome, Outcome::ManualRequired);
    assert!(d.override_applied.is_none());
    assert!(gate.overrides().is_empty(), "expired overrides are pruned");

    // Hard block ignores a live override, and says so.
    let mut hard = gate_with(g, EnforcementMode::HardBlock)?;
    hard.grant_override(
        request(Actor::person("u_1", "admin"), reason, 2),
        t0(),
        &mut audit,
    )?;
    let d = hard.decide(&healthy(t0()), &raise, t0(), &mut audit)?;
    assert_eq!(d.outcome, Outcome::ManualRequired);
    assert!(
        d.warnings()
            .any(|r| matches!(r.detail, ReasonDetail::OverrideIgnored { .. }))
    );
    Ok(())
}

#[test]
fn revoking_an_override() -> Result<()> {
    let mut gate = gate_with(
        GuardrailConfig {
            max_change_pct: Some(Decimal::from(10)),
            ..Default::default()
        },
        EnforcementMode::SoftBlock,
    )?;
    let mut audit = AuditLog::in_memory();
    let o = gate.grant_override(
        request(Actor::person("u_1", "admin"), "campaign launch approved", 4),
        t0(),
        &mut audit,
    )?;
    let err = gate
        .revoke_override(&o.id, Actor::autopilot(), "no", t0(), &mut audit)
        .unwrap_err();
    assert_eq!(err.code(), "override_refused");
    gate.revoke_override(
        &o.id,
        Actor::person("u_2", "admin"),
        "launch postponed",
        t0(),
        &mut audit,
    )?;
    assert!(gate.overrides().is_empty());
    assert_eq!(audit.len(), 2);
    let d = gate.decide(
        &healthy(t0()),
        &budget(100, 150, Actor::autopilot()),
        t0(),
        &mut audit,
    )?;
    assert_eq!(d.outcome, Outcome::ManualRequired);
    Ok(())
}

#[test]
fn preview_changes_nothing_and_state_round_trips() -> Result<()> {
    let g = GuardrailConfig {
        target_cooldown: Some(TimeDelta::hours(1)),
        ..Default::default()
    };
    let mut gate = gate_with(g, EnforcementMode::SoftBlock)?;
    let mut audit = AuditLog::in_memory();
    let p = gate.preview(&healthy(t0()), &pause(Actor::autopilot()), t0())?;
    assert_eq!(p.outcome, Outcome::Execute);
    assert_eq!(p.audit_seq, None);
    assert_eq!(gate.state(), GateState::default());
    gate.decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)?;
    // Persist and restore: the cooldown survives.
    let saved = serde_json::to_string(&gate.state()).map_err(|e| Error::InvalidJson {
        what: "GateState",
        field: None,
        message: e.to_string(),
    })?;
    let restored: GateState = stratum_core::from_json(&saved)?;
    let mut again = TrustGate::with_state(gate.config().clone(), restored);
    let later = t0() + TimeDelta::minutes(10);
    let d = again.decide(
        &healthy(later),
        &pause(Actor::autopilot()),
        later,
        &mut audit,
    )?;
    assert_eq!(codes(&d), vec!["target_cooldown"]);
    Ok(())
}

#[test]
fn decisions_and_reasons_are_consistent_with_the_audit_record() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let d = gate.decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)?;
    let rec = &audit.records()?[0];
    assert_eq!(d.audit_seq, Some(0));
    assert_eq!(rec.inputs_digest, d.inputs_digest);
    assert_ne!(d.inputs_digest, stratum_core::digest::Digest::ZERO);
    assert_eq!(d.config_hash, gate.config().hash());
    match &rec.event {
        AuditEvent::Decision(stored) => assert_eq!(**stored, d),
        other => panic!("{other:?}"),
    }
    // Reasons are ranked by severity.
    let mut gate = gate_with(
        GuardrailConfig {
            max_change_pct: Some(Decimal::from(10)),
            ..Default::default()
        },
        EnforcementMode::SoftBlock,
    )?;
    let t1 = t0() + TimeDelta::hours(1);
    let d = gate.decide(
        &full_signals(&scope(), t1, 1.0),
        &budget(100, 200, Actor::autopilot()),
        t1,
        &mut audit,
    )?;
    let sev: Vec<Severity> = d.reasons.iter().map(|r| r.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sev, sorted);
    assert_eq!(sev[0], Severity::Block);
    Ok(())
}

#[test]
fn scope_mismatch_and_invalid_actions_are_typed_errors_and_not_audited() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let elsewhere = ProposedAction::new(
        ActionKind::Pause,
        Target::new(Scope::tenant("acme").platform("google"), "cmp_1"),
        Actor::autopilot(),
    );
    let err = gate
        .decide(&healthy(t0()), &elsewhere, t0(), &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_action", Some("target.scope"))
    );
    let err = gate
        .decide(
            &healthy(t0()),
            &budget(-5, 10, Actor::autopilot()),
            t0(),
            &mut audit,
        )
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_action", Some("kind.from"))
    );
    let mut empty = pause(Actor::autopilot());
    empty.target.id = " ".into();
    let err = gate
        .decide(&healthy(t0()), &empty, t0(), &mut audit)
        .unwrap_err();
    assert_eq!(err.field(), Some("target.id"));
    assert_eq!(audit.len(), 0);
    Ok(())
}

/// A sink whose disk is full.
struct FullDisk;

impl AuditSink for FullDisk {
    fn append(&mut self, _record: AuditRecord) -> Result<()> {
        Err(Error::AuditIo {
            path: "/full".into(),
            source: std::io::Error::other("no space left on device"),
        })
    }
    fn read_all(&self) -> Result<Vec<AuditRecord>> {
        Ok(Vec::new())
    }
}

#[test]
fn a_decision_that_cannot_be_audited_changes_no_state() -> Result<()> {
    let mut gate = gate_with(
        GuardrailConfig {
            target_cooldown: Some(TimeDelta::hours(1)),
            ..Default::default()
        },
        EnforcementMode::SoftBlock,
    )?;
    let mut broken = AuditLog::open(FullDisk)?;
    let err = gate
        .decide(
            &healthy(t0()),
            &pause(Actor::autopilot()),
            t0(),
            &mut broken,
        )
        .unwrap_err();
    assert_eq!(err.code(), "audit_io");
    assert_eq!(gate.state(), GateState::default());
    assert_eq!(broken.len(), 0);
    // With a working log the same action executes (no phantom cooldown).
    let mut audit = AuditLog::open(MemorySink::default())?;
    let d = gate.decide(&healthy(t0()), &pause(Actor::autopilot()), t0(), &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    Ok(())
}

// ------------------------------------------------ the one rule on every path

/// Signals whose EMQ is excellent but whose API and event delivery are failing:
/// healthy only to a config that weighs EMQ alone.
fn emq_only_healthy(at: chrono::DateTime<chrono::Utc>) -> Signals {
    let mut s = full_signals(&scope(), at, 9.5);
    if let Some(a) = &mut s.api {
        a.succeeded = 50;
        a.server_errors = 950;
    }
    if let Some(e) = &mut s.events {
        e.confirmed = 50;
    }
    s
}

#[test]
fn stale_and_future_reports_are_refused() -> Result<()> {
    let cfg = TrustGateConfig::default();
    let mut gate = TrustGate::new(cfg.clone());
    let mut audit = AuditLog::in_memory();
    let now = t0();
    let action = budget(100, 110, Actor::autopilot());

    // Scored 30 days ago on (then) healthy signals.
    let month_ago = now - TimeDelta::days(30);
    let old = cfg.health().score(&healthy(month_ago), month_ago)?;
    assert_eq!(old.status, HealthStatus::Healthy);
    let err = gate
        .decide_with_health(&old, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("stale_health", Some("health.computed_at"))
    );

    // Scored after the decision time.
    let later = now + TimeDelta::minutes(1);
    let future = cfg.health().score(&healthy(later), later)?;
    let err = gate
        .decide_with_health(&future, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("stale_health", Some("health.computed_at"))
    );

    // Scored 20 h ago (within the 24 h limit) on observations that were 23 h old
    // then, so 43 h old now.
    let scored = now - TimeDelta::hours(20);
    let aged = cfg
        .health()
        .score(&healthy(scored - TimeDelta::hours(23)), scored)?;
    assert_eq!(aged.status, HealthStatus::Healthy);
    let err = gate
        .decide_with_health(&aged, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("stale_health", Some("health.components[0].observed_at"))
    );
    assert_eq!(audit.len(), 0, "refused reports are not decisions");

    // A fresh report of the gate's own config is judged like `decide`.
    let fresh = cfg.health().score(&healthy(now), now)?;
    let d = gate.decide_with_health(&fresh, &action, now, &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    Ok(())
}

#[test]
fn reports_scored_under_another_health_config_are_refused() -> Result<()> {
    let cfg = TrustGateConfig::default();
    let lenient = HealthConfig::builder()
        .weights(Weights {
            emq: 1.0,
            api_health: 0.0,
            event_loss: 0.0,
            platform_stability: 0.0,
            data_quality: 0.0,
        })
        .build()?;
    let now = t0();
    let signals = emq_only_healthy(now);
    let own = cfg.health().score(&signals, now)?;
    assert!(own.score < 70.0, "{}", own.score);
    let smuggled = lenient.score(&signals, now)?;
    assert!(smuggled.score >= 90.0, "{}", smuggled.score);
    assert_ne!(smuggled.config_hash, own.config_hash);

    let mut gate = TrustGate::new(cfg.clone());
    let mut audit = AuditLog::in_memory();
    let action = budget(100, 110, Actor::autopilot());
    let err = gate
        .decide_with_health(&smuggled, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("health_config_mismatch", Some("health.config_hash"))
    );

    // Relabelling the lenient report with the gate's hash does not help: the
    // score is re-derived from the components with the gate's weights.
    let mut relabelled = smuggled.clone();
    relabelled.config_hash = cfg.health().hash();
    let err = gate
        .decide_with_health(&relabelled, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_observation", Some("health.score"))
    );

    // Nor does editing the score or the status of the gate's own report.
    let mut edited = own.clone();
    edited.score = 99.0;
    edited.status = HealthStatus::Healthy;
    let err = gate
        .decide_with_health(&edited, &action, now, &mut audit)
        .unwrap_err();
    assert_eq!(err.field(), Some("health.score"));
    let mut relabelled_status = own;
    relabelled_status.status = HealthStatus::Healthy;
    relabelled_status.present_weight = 1.0;
    let d = gate.decide_with_health(&relabelled_status, &action, now, &mut audit)?;
    assert_ne!(d.outcome, Outcome::Execute);
    assert_eq!(d.health.status, HealthStatus::Degraded);
    assert_eq!(audit.len(), 1);
    Ok(())
}

#[test]
fn only_permitted_people_change_the_config() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let before = gate.config().hash();
    let mut audit = AuditLog::in_memory();
    let now = t0();
    let lax = TrustGateConfig::builder()
        .health(
            HealthConfig::builder()
                .thresholds(Thresholds {
                    healthy: 0.01,
                    degraded: 0.0,
                })
                .build()?,
        )
        .build()?;
    for (by, field) in [
        (Actor::autopilot(), "by"),
        (
            Actor::System {
                name: "scheduler".into(),
            },
            "by",
        ),
        (Actor::person("u_2", "viewer"), "by.role"),
    ] {
        let err = gate
            .set_config(lax.clone(), by, now, &mut audit)
            .unwrap_err();
        assert_eq!((err.code(), err.field()), ("not_permitted", Some(field)));
    }
    assert_eq!(gate.config().hash(), before);
    assert_eq!(audit.len(), 0);
    // Bad signals still do not execute.
    let d = gate.decide(&unhealthy(now), &pause(Actor::autopilot()), now, &mut audit)?;
    assert_ne!(d.outcome, Outcome::Execute);

    // An admin may, and the change is audited with both hashes.
    let owners_only = TrustGateConfig::builder()
        .config_roles(vec!["owner".into()])
        .build()?;
    gate.set_config(
        owners_only.clone(),
        Actor::person("u_1", "admin"),
        now,
        &mut audit,
    )?;
    let records = audit.records()?;
    match &records[1].event {
        AuditEvent::ConfigChanged {
            config_hash,
            previous,
        } => {
            assert_eq!(*config_hash, owners_only.hash());
            assert_eq!(*previous, Some(before));
        }
        other => panic!("expected a config change, got {other:?}"),
    }
    // The new config's roles govern the next change.
    let err = gate
        .set_config(lax, Actor::person("u_1", "admin"), now, &mut audit)
        .unwrap_err();
    assert_eq!(err.field(), Some("by.role"));
    let err = TrustGateConfig::builder()
        .config_roles(Vec::new())
        .build()
        .unwrap_err();
    assert_eq!(err.field(), Some("config_roles"));
    Ok(())
}

#[test]
fn actions_are_judged_on_their_own_scope_only() -> Result<()> {
    let mut gate = TrustGate::new(TrustGateConfig::default());
    let mut audit = AuditLog::in_memory();
    let account = scope();
    let tenant = Scope::tenant("acme");
    let act = budget(100, 110, Actor::autopilot());
    // Two bad readings trip the account.
    for m in [0, 10] {
        let at = t0() + TimeDelta::minutes(m);
        gate.decide(&unhealthy(at), &act, at, &mut audit)?;
    }
    assert!(gate.hysteresis(&account).is_some_and(|h| h.tripped));
    let n = audit.len();

    // Healthy tenant-wide signals do not stand in for the tripped account.
    let at = t0() + TimeDelta::minutes(20);
    let err = gate
        .decide(&full_signals(&tenant, at, 9.5), &act, at, &mut audit)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_action", Some("target.scope"))
    );
    let tenant_report = gate
        .config()
        .health()
        .score(&full_signals(&tenant, at, 9.5), at)?;
    let err = gate
        .decide_with_health(&tenant_report, &act, at, &mut audit)
        .unwrap_err();
    assert_eq!(err.field(), Some("target.scope"));
    assert_eq!(audit.len(), n);
    assert!(gate.hysteresis(&tenant).is_none());

    // The account recovers only by its own rule: k healthy readings and cooldown.
    let d = gate.decide(&healthy(at), &act, at, &mut audit)?;
    assert_eq!(d.gate, GateResult::Hold);
    assert_ne!(d.outcome, Outcome::Execute);
    Ok(())
}

#[test]
fn overrides_are_found_by_target_among_many() -> Result<()> {
    let mut gate = gate_with(
        GuardrailConfig {
            max_change_pct: Some(Decimal::from(10)),
            ..Default::default()
        },
        EnforcementMode::SoftBlock,
    )?;
    let mut audit = AuditLog::in_memory();
    let now = t0();
    let admin = Actor::person("u_1", "admin");
    for i in 0..200 {
        gate.grant_override(
            OverrideRequest {
                target: Target::new(scope(), format!("cmp_other_{i}")),
                action_kind: None,
                granted_by: admin.clone(),
                reason: "seasonal push approved".into(),
                expires_at: now + TimeDelta::minutes(30 + i),
            },
            now,
            &mut audit,
        )?;
    }
    let big = budget(100, 200, Actor::autopilot());
    let d = gate.decide(&healthy(now), &big, now, &mut audit)?;
    assert_eq!(d.outcome, Outcome::ManualRequired, "no override for cmp_1");
    let mine = gate.grant_override(
        request(admin.clone(), "launch week, approved", 1),
        now,
        &mut audit,
    )?;
    let d = gate.decide(&healthy(now), &big, now, &mut audit)?;
    assert_eq!(d.outcome, Outcome::Execute);
    assert_eq!(d.override_applied.map(|o| o.id), Some(mine.id.clone()));
    assert_eq!(gate.override_count(), 201);
    // Expiry prunes in order; revoking removes exactly one.
    let later = now + TimeDelta::minutes(40);
    gate.decide(
        &healthy(later),
        &pause(Actor::autopilot()),
        later,
        &mut audit,
    )?;
    assert_eq!(gate.override_count(), 201 - 11);
    gate.revoke_override(&mine.id, admin, "no longer needed", later, &mut audit)?;
    assert_eq!(gate.override_count(), 189);
    assert!(gate.overrides().iter().all(|o| o.id != mine.id));
    // State round-trips with the index rebuilt.
    let again = TrustGate::with_state(gate.config().clone(), gate.state());
    assert_eq!(again.state(), gate.state());
    Ok(())
}
