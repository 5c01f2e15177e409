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
    /// the gate re-derives the status from the score.
    #[test]
    fn hand_built_reports_cannot_claim_healthy(
        cfg in arb_gate_config(),
        score in 0.0f64..100.0,
        action in arb_action(),
    ) {
        let mut report = HealthConfig::default().score(&healthy(t0()), t0()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        report.score = score;
        report.status = HealthStatus::Healthy; // a lie
        let mut gate = TrustGate::new(cfg.clone());
        let mut audit = AuditLog::in_memory();
        let d = gate.decide_with_health(&report, &action, t0(), &mut audit).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if action.proposer.is_automation() && score < cfg.health().thresholds().healthy {
            prop_assert_ne!(d.outcome, Outcome::Execute);
        }
        prop_assert_eq!(audit.len(), 1);
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
