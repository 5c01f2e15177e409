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
