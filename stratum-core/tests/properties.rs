//! Property tests of the invariants the trust engine promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use proptest::prelude::*;
use stratum_core::audit::{AuditEvent, AuditLog, AuditRecord, verify_anchored, verify_chain};
use stratum_core::backtest::{BacktestStep, run};
use stratum_core::digest::Digest;
use stratum_core::gate::*;
use stratum_core::health::*;

fn shift(mut s: Signals, d: TimeDelta) -> Signals {
    if let Some(o) = &mut s.emq {
        o.observed_at += d;
    }
    if let Some(o) = &mut s.api {
        o.observed_at += d;
    }
    if let Some(o) = &mut s.events {
        o.observed_at += d;
    }
    if let Some(o) = &mut s.stability {
        o.observed_at += d;
    }
    if let Some(o) = &mut s.data_quality {
        o.observed_at += d;
    }
    s
}

type History = Vec<(i64, Signals, ProposedAction, bool)>;

/// Replays a history through a gate, calling `check` on each decision.
fn replay(
    cfg: &TrustGateConfig,
    history: &History,
    mut check: impl FnMut(&TrustGate, &Signals, &Decision, DateTime<Utc>) -> Result<(), TestCaseError>,
) -> Result<AuditLog, TestCaseError> {
    let mut gate = TrustGate::new(cfg.clone());
    let mut audit = AuditLog::in_memory();
    let mut now = t0();
    let mut elapsed = TimeDelta::zero();
    for (minutes, signals, action, grant) in history {
        now += TimeDelta::minutes(*minutes);
        elapsed += TimeDelta::minutes(*minutes);
        let signals = shift(signals.clone(), elapsed);
        if *grant {
            let granted = gate.grant_override(
                OverrideRequest {
                    target: action.target.clone(),
                    action_kind: None,
                    granted_by: Actor::person("u_1", "admin"),
                    reason: "approved by the growth lead".into(),
                    expires_at: now + TimeDelta::hours(3),
                },
                now,
                &mut audit,
            );
            prop_assert!(granted.is_ok(), "{granted:?}");
        }
        let d = gate
            .decide(&signals, action, now, &mut audit)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check(&gate, &signals, &d, now)?;
    }
    Ok(audit)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) An automated action is never `Execute` when the health score is below the
    /// healthy threshold: any config, mode, hysteresis state, guardrail or override.
    #[test]
    fn automation_never_executes_below_healthy_threshold(
        cfg in arb_gate_config(),
        history in arb_history(40),
    ) {
        let threshold = cfg.health().thresholds().healthy;
        replay(&cfg, &history, |_, signals, d, now| {
            let score = cfg.health().score(signals, now).map_err(|e| TestCaseError::fail(e.to_string()))?.score;
            prop_assert!((d.health.score - score).abs() < 1e-12);
            if d.action.proposer.is_automation() && score < threshold {
                prop_assert_ne!(d.outcome, Outcome::Execute, "score {} < {}: {}", score, threshold, d.explain());
            }
            if d.gate != GateResult::Pass && d.action.proposer.is_automation() {
                prop_assert_ne!(d.outcome, Outcome::Execute);
            }
            Ok(())
        })?;
    }

    /// (a) also holds for reports built by hand and judged with `decide_with_health`:
    /// the gate re-derives the score and the status from the components, and
    /// refuses a score that does not follow from them.
    #[test]
    fn hand_built_reports_cannot_claim_healthy(
        cfg in arb_gate_config(),
        signals in arb_signals(t0()),
        forged in prop::option::of(0.0f64..100.0),
        action in arb_action(),
    ) {
        let mut report = cfg.health().score(&signals, t0()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let real = report.score;
        if let Some(f) = forged {
            report.score = f;
        }
        report.status = HealthStatus::Healthy; // a lie
        let mut gate = TrustGate::new(cfg.clone());
        let mut audit = AuditLog::in_memory();
        match gate.decide_with_health(&report, &action, t0(), &mut audit) {
            Ok(d) => {
                prop_assert!((report.score - real).abs() <= 1e-9);
                prop_assert_eq!(d.health.status, cfg.health().status_of(real));
                if action.proposer.is_automation() && real < cfg.health().thresholds().healthy {
                    prop_assert_ne!(d.outcome, Outcome::Execute);
                }
                prop_assert_eq!(audit.len(), 1);
            }
            Err(e) => {
                prop_assert_eq!((e.code(), e.field()), ("invalid_observation", Some("health.score")));
                prop_assert!((report.score - real).abs() > 1e-9);
                prop_assert_eq!(audit.len(), 0);
            }
        }
    }

    /// Backtests judge exactly like the live gate.
    #[test]
    fn backtest_matches_live_decisions(cfg in arb_gate_config(), history in arb_history(30)) {
        let mut live = Vec::new();
        replay(&cfg, &history.iter().map(|(m, s, a, _)| (*m, s.clone(), a.clone(), false)).collect(), |_, _, d, _| {
            live.push(d.outcome);
            Ok(())
        })?;
        let mut now = t0();
        let mut elapsed = TimeDelta::zero();
        let steps: Vec<BacktestStep> = history.iter().map(|(m, s, a, _)| {
            now += TimeDelta::minutes(*m);
            elapsed += TimeDelta::minutes(*m);
            BacktestStep { at: now, signals: shift(s.clone(), elapsed), actions: vec![a.clone()] }
        }).collect();
        let report = run(&cfg, &steps).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let executed = live.iter().filter(|o| **o == Outcome::Execute).count() as u64;
        let held = live.iter().filter(|o| **o == Outcome::AlertOnly).count() as u64;
        prop_assert_eq!(report.totals.executed, executed);
        prop_assert_eq!(report.totals.held, held);
        prop_assert_eq!(report.totals.decisions, live.len() as u64);
    }

    /// (b) The score is always within 0..=100 (and contributions add up to it).
    #[test]
    fn score_is_bounded(cfg in arb_health_config(), signals in arb_signals(t0())) {
        let r = cfg.score(&signals, t0()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!((0.0..=100.0).contains(&r.score), "{}", r.score);
        let sum: f64 = r.components.iter().map(|c| c.contribution).sum();
        prop_assert!((sum.clamp(0.0, 100.0) - r.score).abs() < 1e-9);
        for c in &r.components {
            if let Some(s) = c.score {
                prop_assert!((0.0..=100.0).contains(&s));
            }
        }
        prop_assert_eq!(r.status, cfg.status_of(r.score));
    }

    /// (c) Improving any one component never lowers the score.
    #[test]
    fn improving_a_component_never_lowers_the_score(
        cfg in arb_health_config(),
        signals in arb_signals(t0()),
        which in 0usize..8,
        amount in 0.0f64..1.0,
    ) {
        let before = cfg.score(&signals, t0()).map_err(|e| TestCaseError::fail(e.to_string()))?.score;
        let mut better = signals;
        match which {
            0 => if let Some(o) = &mut better.emq { o.score += (10.0 - o.score) * amount },
            1 => if let Some(o) = &mut better.api {
                let add = ((o.total - o.succeeded) as f64 * amount) as u64;
                o.succeeded += add;
                let fewer = add.min(o.server_errors);
                o.server_errors -= fewer;
                o.rate_limited -= (add - fewer).min(o.rate_limited);
            },
            2 => if let Some(o) = &mut better.api { o.p95_latency_ms *= 1.0 - amount; o.bursts = (f64::from(o.bursts) * (1.0 - amount)) as u32 },
            3 => if let Some(o) = &mut better.events {
                let unique = o.sent - o.duplicates;
                o.confirmed += (unique.saturating_sub(o.confirmed) as f64 * amount) as u64;
            },
            4 => if let Some(o) = &mut better.stability { o.incidents = (f64::from(o.incidents) * (1.0 - amount)) as u32 },
            5 => if let Some(o) = &mut better.stability {
                let n = o.error_rates.len().max(1) as f64;
                let mean = o.error_rates.iter().sum::<f64>() / n;
                for r in &mut o.error_rates { *r = mean + (*r - mean) * (1.0 - amount) }
            },
            6 => if let Some(o) = &mut better.data_quality { o.stale = (o.stale as f64 * (1.0 - amount)) as u64 },
            _ => if let Some(o) = &mut better.data_quality {
                let add = ((o.total - o.valid) as f64 * amount) as u64;
                o.valid += add;
            },
        }
        let after = cfg.score(&better, t0()).map_err(|e| TestCaseError::fail(e.to_string()))?.score;
        prop_assert!(after >= before - 1e-9, "{} -> {}", before, after);
    }

    /// (d) Any edit, deletion, insertion or reordering of records fails verification.
    #[test]
    fn tampering_is_detected(
        cfg in arb_gate_config(),
        history in arb_history(12),
        op in 0usize..6,
        i in any::<prop::sample::Index>(),
        j in any::<prop::sample::Index>(),
        rehash in any::<bool>(),
    ) {
        let audit = replay(&cfg, &history, |_, _, _, _| Ok(()))?;
        let anchor = audit.anchor();
        let records = audit.records().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(verify_chain(&records).ok(), Some(anchor));
        let n = records.len();
        let a = i.index(n);
        let b = j.index(n);
        let mut t: Vec<AuditRecord> = records;
        let edit = |r: &mut AuditRecord| match op {
            0 => r.at += TimeDelta::nanoseconds(1),
            1 => r.actor = Actor::person("mallory", "admin"),
            2 => r.inputs_digest = Digest::of_bytes(b"forged"),
            _ => {
                if let AuditEvent::Decision(d) = &mut r.event {
                    d.outcome = if d.outcome == Outcome::Execute { Outcome::AlertOnly } else { Outcome::Execute };
                } else {
                    r.seq += 1;
                }
            }
        };
        match op {
            0..=3 => {
                edit(&mut t[a]);
                if rehash {
                    // A forger recomputing the edited record's hash still breaks the link
                    // (or, for the last record, the anchor).
                    t[a].hash = t[a].compute_hash().map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
            4 => {
                t.remove(a);
            }
            _ => {
                if a == b {
                    // Insertion of a copy.
                    let copy = t[a].clone();
                    t.insert(a, copy);
                } else {
                    t.swap(a, b);
                }
            }
        }
        prop_assert!(verify_anchored(&t, &anchor).is_err());
        let tail_only = (op == 4 && a == n - 1) || (op <= 3 && rehash && a == n - 1);
        if !tail_only {
            prop_assert!(verify_chain(&t).is_err());
        }
    }

    /// (e) Every public type round-trips through JSON.
    #[test]
    fn public_types_round_trip_through_json(cfg in arb_gate_config(), history in arb_history(10)) {
        fn rt<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> Result<(), TestCaseError> {
            let json = serde_json::to_string(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: T = stratum_core::from_json(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
            prop_assert_eq!(&back, v);
            Ok(())
        }
        rt(&cfg)?;
        rt(cfg.health())?;
        rt(cfg.guardrails())?;
        let mut last_gate_state = None;
        let audit = replay(&cfg, &history, |gate, signals, d, now| {
            rt(signals)?;
            rt(&d.action)?;
            rt(d)?;
            let report = cfg.health().score(signals, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
            rt(&report)?;
            last_gate_state = Some(gate.state());
            Ok(())
        })?;
        if let Some(state) = last_gate_state {
            rt(&state)?;
        }
        for r in audit.records().map_err(|e| TestCaseError::fail(e.to_string()))? {
            rt(&r)?;
        }
        rt(&audit.anchor())?;
        let steps: Vec<BacktestStep> = history.iter().take(3).map(|(_, s, a, _)| BacktestStep { at: t0(), signals: s.clone(), actions: vec![a.clone()] }).collect();
        for s in &steps {
            rt(s)?;
        }
        let report = run(&cfg, &steps).map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt(&report)?;
        let cmp = stratum_core::backtest::compare(&cfg, &TrustGateConfig::default(), &steps).map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt(&cmp)?;
    }

    /// The canonical encoding is deterministic and the config hash tracks content.
    #[test]
    fn config_hash_tracks_content(a in arb_gate_config(), b in arb_gate_config()) {
        prop_assert_eq!(a.hash() == b.hash(), a == b);
        let again: TrustGateConfig = stratum_core::from_json(&serde_json::to_string(&a).map_err(|e| TestCaseError::fail(e.to_string()))?).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.hash(), a.hash());
    }
}

// ------------------------------------------------------------ every public path

use stratum_core::autopilot::{
    ActionState, Autopilot, CampaignMetrics, DailyMetrics, DeliveryStatus, RuleSet,
};

/// Scopes a generated step may use: two ad accounts and the tenant covering them.
fn scope_of(i: u8) -> Scope {
    match i % 3 {
        0 => scope(),
        1 => Scope::tenant("acme").platform("meta").ad_account("act_2"),
        _ => Scope::tenant("acme"),
    }
}

/// How a precomputed report handed to `decide_with_health` was made.
#[derive(Clone, Copy, Debug)]
enum ReportKind {
    /// Scored now under the gate's own config.
    Own,
    /// Scored now under a lenient config (all weight on EMQ).
    Lenient,
    /// Scored longer ago than `max_signal_age`.
    Stale,
    /// Scored after the decision time.
    Future,
    /// The gate's own report with the score edited to 100.
    Edited,
}

#[derive(Clone, Debug)]
enum Op {
    Decide {
        scope: u8,
        signals: Signals,
        action: ProposedAction,
    },
    WithHealth {
        scope: u8,
        signals: Signals,
        action: ProposedAction,
        kind: ReportKind,
    },
    /// An autopilot run over one campaign in `target`, with signal entries that may
    /// repeat a scope or be stale.
    Run {
        target: u8,
        entries: Vec<(u8, i64, Signals)>,
    },
    Approve {
        pick: prop::sample::Index,
        by: Actor,
    },
    Undo {
        pick: prop::sample::Index,
        by: Actor,
    },
    Grant {
        target: u8,
        by: Actor,
    },
    Revoke {
        pick: prop::sample::Index,
        by: Actor,
    },
    SetConfig {
        by: Actor,
        config: TrustGateConfig,
    },
}

fn arb_report_kind() -> impl Strategy<Value = ReportKind> {
    prop_oneof![
        3 => Just(ReportKind::Own),
        1 => Just(ReportKind::Lenient),
        1 => Just(ReportKind::Stale),
        1 => Just(ReportKind::Future),
        1 => Just(ReportKind::Edited),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    // Random signals, or healthy ones often enough that execution happens.
    let sig = || prop_oneof![2 => arb_signals(t0()), 1 => Just(healthy(t0()))];
    prop_oneof![
        4 => (0u8..3, sig(), arb_action()).prop_map(|(scope, signals, action)| Op::Decide { scope, signals, action }),
        3 => (0u8..3, sig(), arb_action(), arb_report_kind())
            .prop_map(|(scope, signals, action, kind)| Op::WithHealth { scope, signals, action, kind }),
        3 => (0u8..3, prop::collection::vec((0u8..3, prop_oneof![3 => Just(0i64), 1 => 1i64..72], sig()), 0..4))
            .prop_map(|(target, entries)| Op::Run { target, entries }),
        2 => (any::<prop::sample::Index>(), arb_actor()).prop_map(|(pick, by)| Op::Approve { pick, by }),
        1 => (any::<prop::sample::Index>(), arb_actor()).prop_map(|(pick, by)| Op::Undo { pick, by }),
        1 => (0u8..3, arb_actor()).prop_map(|(target, by)| Op::Grant { target, by }),
        1 => (any::<prop::sample::Index>(), arb_actor()).prop_map(|(pick, by)| Op::Revoke { pick, by }),
        1 => (arb_actor(), arb_gate_config()).prop_map(|(by, config)| Op::SetConfig { by, config }),
    ]
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Always matches (spend on the previous day), no cooldown, no data minimum.
fn eager_rules() -> RuleSet {
    stratum_core::from_json(
        r#"{"max_actions_per_run": 5, "rules": [{
            "id": "nudge",
            "conditions": [{"metric": "spend", "window_days": 1, "op": "gt", "value": 0}],
            "action": {"type": "change_budget_pct", "pct": "10"},
            "safety": {"min_conversions": 0, "cooldown_hours": 0}
        }]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn campaign_in(target: &Scope, now: DateTime<Utc>) -> CampaignMetrics {
    let today = now.date_naive();
    CampaignMetrics {
        target: Target::new(target.clone(), "cmp_1"),
        budget: Some(rust_decimal::Decimal::from(100)),
        bid: None,
        status: DeliveryStatus::Active,
        days: (1..=3)
            .rev()
            .map(|i| DailyMetrics {
                date: today - TimeDelta::days(i),
                spend: rust_decimal::Decimal::from(50),
                impressions: 1_000,
                clicks: 10,
                conversions: 2,
                revenue: rust_decimal::Decimal::from(60),
            })
            .collect(),
    }
}

/// The invariant, judged independently of the gate: an automated `Execute` needs
/// signals of the action's own scope that the gate's own config scores at or above
/// its healthy threshold at the decision time.
fn executes_only_when_healthy(
    gate: &TrustGate,
    signals: &Signals,
    d: &Decision,
    now: DateTime<Utc>,
) -> Result<bool, TestCaseError> {
    if !(d.action.proposer.is_automation() && d.outcome == Outcome::Execute) {
        return Ok(false);
    }
    prop_assert_eq!(
        &signals.scope,
        &d.action.target.scope,
        "judged on another scope"
    );
    let cfg = gate.config().health();
    let fresh = cfg.score(signals, now).map_err(fail)?;
    prop_assert!(
        fresh.score >= cfg.thresholds().healthy,
        "executed at {} < {}: {}",
        fresh.score,
        cfg.thresholds().healthy,
        d.explain()
    );
    prop_assert_eq!(d.config_hash, gate.config().hash());
    Ok(true)
}

/// Replays generated operations through every public entry point; returns the number
/// of automated `Execute` outcomes.
fn every_path(cfg: &TrustGateConfig, ops: &[(i64, Op)]) -> Result<u64, TestCaseError> {
    let lenient = HealthConfig::builder()
        .weights(Weights {
            emq: 1.0,
            api_health: 0.0,
            event_loss: 0.0,
            platform_stability: 0.0,
            data_quality: 0.0,
        })
        .build()
        .map_err(fail)?;
    let mut gate = TrustGate::new(cfg.clone());
    let mut autopilot = Autopilot::new(eager_rules());
    let mut audit = AuditLog::in_memory();
    let mut now = t0();
    let mut elapsed = TimeDelta::zero();
    let mut executed = 0u64;
    for (minutes, op) in ops {
        now += TimeDelta::minutes(*minutes);
        elapsed += TimeDelta::minutes(*minutes);
        let at_scope = |i: u8, s: &Signals| {
            let mut s = shift(s.clone(), elapsed);
            s.scope = scope_of(i);
            s
        };
        match op {
            Op::Decide {
                scope,
                signals,
                action,
            } => {
                let signals = at_scope(*scope, signals);
                let mut action = action.clone();
                action.target.scope = scope_of(*scope + u8::from(action.target.id == "cmp_3"));
                if let Ok(d) = gate.decide(&signals, &action, now, &mut audit) {
                    executed += u64::from(executes_only_when_healthy(&gate, &signals, &d, now)?);
                }
            }
            Op::WithHealth {
                scope,
                signals,
                action,
                kind,
            } => {
                let mut signals = at_scope(*scope, signals);
                let mut action = action.clone();
                action.target.scope = scope_of(*scope + u8::from(action.target.id == "cmp_3"));
                let own = gate.config().health().clone();
                let report = match kind {
                    ReportKind::Own => own.score(&signals, now),
                    ReportKind::Lenient => lenient.score(&signals, now),
                    ReportKind::Stale => {
                        let back = own.max_signal_age() + TimeDelta::hours(1);
                        signals = shift(signals, -back);
                        own.score(&signals, now - back)
                    }
                    ReportKind::Future => own.score(&signals, now + TimeDelta::minutes(1)),
                    ReportKind::Edited => own.score(&signals, now).map(|mut r| {
                        r.score = 100.0;
                        r.status = HealthStatus::Healthy;
                        r
                    }),
                }
                .map_err(fail)?;
                match gate.decide_with_health(&report, &action, now, &mut audit) {
                    Ok(d) => {
                        prop_assert!(matches!(
                            kind,
                            ReportKind::Own | ReportKind::Edited | ReportKind::Lenient
                        ));
                        executed +=
                            u64::from(executes_only_when_healthy(&gate, &signals, &d, now)?);
                    }
                    Err(e) => {
                        let expected = match kind {
                            ReportKind::Stale | ReportKind::Future => "stale_health",
                            ReportKind::Lenient => "health_config_mismatch",
                            ReportKind::Own | ReportKind::Edited => e.code(),
                        };
                        prop_assert_eq!(e.code(), expected);
                    }
                }
            }
            Op::Run { target, entries } => {
                let entries: Vec<Signals> = entries
                    .iter()
                    .map(|(i, hours_old, s)| shift(at_scope(*i, s), -TimeDelta::hours(*hours_old)))
                    .collect();
                let metrics = [campaign_in(&scope_of(*target), now)];
                let duplicated = entries
                    .iter()
                    .enumerate()
                    .any(|(i, a)| entries[..i].iter().any(|b| b.scope == a.scope));
                match autopilot.run(now, &metrics, &entries, &mut gate, &mut audit) {
                    Ok(report) => {
                        prop_assert!(!duplicated, "duplicate scopes were accepted");
                        for p in &report.proposals {
                            let own: Vec<&Signals> = entries
                                .iter()
                                .filter(|s| s.scope == p.action.target.scope)
                                .collect();
                            prop_assert_eq!(own.len(), 1);
                            executed += u64::from(executes_only_when_healthy(
                                &gate,
                                own[0],
                                &p.decision,
                                now,
                            )?);
                            prop_assert_eq!(
                                p.state == ActionState::Approved,
                                p.decision.outcome == Outcome::Execute
                            );
                        }
                    }
                    Err(e) => {
                        prop_assert!(duplicated, "{e}");
                        prop_assert_eq!(e.code(), "invalid_observation");
                    }
                }
            }
            Op::Approve { pick, by } | Op::Undo { pick, by } => {
                let q = autopilot.queue_mut();
                if q.actions().is_empty() {
                    continue;
                }
                let id = q.actions()[pick.index(q.actions().len())].id;
                let r = match op {
                    Op::Approve { .. } => q.transition(
                        id,
                        ActionState::Approved,
                        by.clone(),
                        Some("looked at it"),
                        now,
                        &mut audit,
                    ),
                    _ => q
                        .undo(id, by.clone(), Some("rolled back"), now, &mut audit)
                        .map(|_| ()),
                };
                if r.is_ok() {
                    prop_assert!(
                        !by.is_automation(),
                        "automation moved action {} ({:?})",
                        id,
                        op
                    );
                }
            }
            Op::Grant { target, by } => {
                let r = gate.grant_override(
                    OverrideRequest {
                        target: Target::new(scope_of(*target), "cmp_1"),
                        action_kind: None,
                        granted_by: by.clone(),
                        reason: "approved by the growth lead".into(),
                        expires_at: now + TimeDelta::hours(2),
                    },
                    now,
                    &mut audit,
                );
                if r.is_ok() {
                    let permitted = matches!(by, Actor::Person { role, .. } if gate.config().overrides().allowed_roles.contains(role));
                    prop_assert!(permitted, "override granted by {}", by);
                }
            }
            Op::Revoke { pick, by } => {
                let live = gate.overrides();
                if live.is_empty() {
                    continue;
                }
                let id = live[pick.index(live.len())].id.clone();
                if gate
                    .revoke_override(&id, by.clone(), "no longer needed", now, &mut audit)
                    .is_ok()
                {
                    prop_assert!(!by.is_automation());
                }
            }
            Op::SetConfig { by, config } => {
                let allowed = matches!(by, Actor::Person { role, .. } if gate.config().config_roles().contains(role));
                let before = gate.config().hash();
                let r = gate.set_config(config.clone(), by.clone(), now, &mut audit);
                prop_assert_eq!(r.is_ok(), allowed, "{:?}", r);
                if r.is_err() {
                    prop_assert_eq!(gate.config().hash(), before);
                    prop_assert_eq!(r.err().map(|e| e.code()), Some("not_permitted"));
                }
            }
        }
    }
    audit.verify().map_err(fail)?;
    Ok(executed)
}

/// The one rule on every public path (decide, decide with a precomputed report,
/// autopilot runs, queue approvals and undo, overrides, config changes), over three
/// scopes, with duplicate and stale signals. Not vacuous: automated `Execute`
/// outcomes are counted over all cases and must occur.
#[test]
#[allow(clippy::print_stdout)]
fn nothing_executes_below_the_gates_own_threshold_on_any_path() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 192,
        ..Config::default()
    });
    let executed = std::cell::Cell::new(0u64);
    let ops = prop::collection::vec((0i64..180, arb_op()), 1..30);
    let result = runner.run(&(arb_gate_config(), ops), |(cfg, ops)| {
        executed.set(executed.get() + every_path(&cfg, &ops)?);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "automated Execute outcomes over all cases: {}",
        executed.get()
    );
    assert!(
        executed.get() > 0,
        "no case executed: the property is vacuous"
    );
}
