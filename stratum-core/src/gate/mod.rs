//! The trust gate: judges a proposed action on signal health, hysteresis, evidence
//! and guardrails, and writes every decision to the audit log.
//!
//! | health | gate | outcome for automation |
//! |---|---|---|
//! | Healthy (and not recovering) | `Pass` | `Execute` |
//! | Degraded, recovering, or unconfirmed Unhealthy | `Hold` | `AlertOnly` |
//! | Unhealthy, confirmed by hysteresis | `Block` | `ManualRequired` |
//! | too little evidence | `Inconclusive` | `AlertOnly` |
//!
//! Guardrail violations stop an action under `SoftBlock` (unless overridden) and
//! `HardBlock` (always), turning the outcome into `ManualRequired`; under
//! `Advisory` they are reported only. Nothing ever turns a non-`Pass` gate result
//! into `Execute` for automation: **an automated action is never executed when the
//! health score is below the healthy threshold.** A person's action is not held
//! for health (the gate protects automation), but guardrails apply and every
//! health problem is recorded.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use rust_decimal::Decimal;
//! use stratum_core::audit::AuditLog;
//! use stratum_core::gate::*;
//! use stratum_core::health::*;
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let scope = Scope::tenant("acme").platform("meta").ad_account("act_1");
//! let mut signals = Signals::new(scope.clone());
//! signals.emq = Some(EmqObservation { observed_at: now, score: 4.0, events: 5_000 });
//! signals.api = Some(ApiObservation {
//!     observed_at: now, total: 1_000, succeeded: 990, p95_latency_ms: 300.0,
//!     rate_limited: 4, server_errors: 6, bursts: 0,
//! });
//! signals.events = Some(EventObservation { observed_at: now, sent: 5_000, confirmed: 4_900, duplicates: 0 });
//!
//! let mut gate = TrustGate::new(TrustGateConfig::default());
//! let mut audit = AuditLog::in_memory();
//! let action = ProposedAction::new(
//!     ActionKind::BudgetChange { from: Decimal::new(100_00, 2), to: Decimal::new(120_00, 2) },
//!     Target::new(scope, "cmp_9"),
//!     Actor::autopilot(),
//! );
//! let decision = gate.decide(&signals, &action, now, &mut audit)?;
//! // EMQ 4/10 and two missing components: 14 + 24.75 + 19.6 = 58.35 -> Degraded.
//! assert_eq!(decision.gate, GateResult::Hold);
//! assert_eq!(decision.outcome, Outcome::AlertOnly);
//! assert_eq!(audit.len(), 1);
//! println!("{}", decision.explain());
//! # Ok::<(), stratum_core::Error>(())
//! ```

mod action;
mod config;
mod decision;
mod hysteresis;
mod overrides;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use action::{ActionKind, ActionKindTag, Actor, DataVolume, ProposedAction, Target};
pub use config::{
    EnforcementMode, EvidenceConfig, HysteresisConfig, OverridePolicy, TrustGateConfig,
    TrustGateConfigBuilder,
};
pub use decision::{
    Decision, GateResult, HealthSummary, Outcome, Reason, ReasonDetail, Severity, ViolationEffect,
};
pub use hysteresis::HysteresisState;
use overrides::OverrideIndex;
pub use overrides::{AppliedOverride, Override, OverrideRequest};

use crate::audit::{AuditEvent, AuditLog};
use crate::digest::{Digest, Ts};
use crate::error::{Error, Result};
use crate::guardrails::Ledger;
use crate::health::{Component, HealthReport, HealthStatus, MissingPolicy, Scope, Signals};
use crate::validate::{finite_in, observation_err};
use hysteresis::Reading;

/// Components listed as "weak" in a decision's reasons, at most.
const WEAK_COMPONENTS_LISTED: usize = 2;
/// Points lost below which a component is not worth listing.
const WEAK_COMPONENT_MIN_POINTS: f64 = 0.5;

/// The gate's memory: hysteresis per scope, executed actions, live overrides.
/// Serialisable so a host can persist it between processes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GateState {
    /// Hysteresis per scope.
    pub hysteresis: Vec<(Scope, HysteresisState)>,
    /// Executed actions, for guardrails.
    pub ledger: Ledger,
    /// Overrides granted and not yet expired or revoked.
    pub overrides: Vec<Override>,
}

/// A trust gate for one tenant's configuration.
#[derive(Clone, Debug)]
pub struct TrustGate {
    config: TrustGateConfig,
    hysteresis: HashMap<Scope, HysteresisState, foldhash::fast::RandomState>,
    ledger: Ledger,
    overrides: OverrideIndex,
}

/// The health facts the gate judges on.
pub(crate) struct HealthView<'a> {
    pub(crate) scope: &'a Scope,
    pub(crate) score: f64,
    pub(crate) present_weight: f64,
    pub(crate) as_of: Option<DateTime<Utc>>,
}

impl<'a> HealthView<'a> {
    fn of_report(r: &'a HealthReport) -> Self {
        HealthView {
            scope: &r.scope,
            score: r.score,
            present_weight: r.present_weight,
            as_of: r.as_of,
        }
    }
}

/// A verdict without its explanation, as backtests tally it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Judgement {
    pub(crate) gate: GateResult,
    pub(crate) outcome: Outcome,
    pub(crate) policy_stop: bool,
}

/// A verdict and the state change it implies (applied only once recorded).
struct Judged {
    status: HealthStatus,
    state: HysteresisState,
    scope_state: Option<HysteresisState>,
    gate: GateResult,
    outcome: Outcome,
    automated: bool,
    violations: Vec<crate::guardrails::Violation>,
    mode: EnforcementMode,
    effect: Option<ViolationEffect>,
    /// The override that applies, if any.
    live: Option<Override>,
    policy_stop: bool,
}

/// What the inputs digest covers.
#[derive(Serialize)]
struct Inputs<'a> {
    config_hash: Digest,
    at: Ts,
    action: &'a ProposedAction,
    basis: Basis<'a>,
}

#[derive(Serialize)]
enum Basis<'a> {
    Signals(&'a Signals),
    Health(&'a HealthReport),
}

impl TrustGate {
    /// A gate with no history.
    #[must_use]
    pub fn new(config: TrustGateConfig) -> Self {
        TrustGate {
            config,
            hysteresis: HashMap::default(),
            ledger: Ledger::default(),
            overrides: OverrideIndex::default(),
        }
    }

    /// A gate resuming from saved state (see [`TrustGate::state`]): a tripped
    /// scope stays tripped across a restart.
    #[must_use]
    pub fn with_state(config: TrustGateConfig, state: GateState) -> Self {
        TrustGate {
            config,
            hysteresis: state.hysteresis.into_iter().collect(),
            ledger: state.ledger,
            overrides: OverrideIndex::of(state.overrides),
        }
    }

    /// A snapshot of the gate's state (sorted, so equal states serialise equally).
    #[must_use]
    pub fn state(&self) -> GateState {
        let mut hysteresis: Vec<(Scope, HysteresisState)> = self
            .hysteresis
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        hysteresis.sort_by(|a, b| a.0.cmp(&b.0));
        GateState {
            hysteresis,
            ledger: self.ledger.clone(),
            overrides: self.overrides.to_vec(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TrustGateConfig {
        &self.config
    }

    /// Hysteresis state of one scope.
    #[must_use]
    pub fn hysteresis(&self, scope: &Scope) -> Option<&HysteresisState> {
        self.hysteresis.get(scope)
    }

    /// The ledger of executed actions.
    #[must_use]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Overrides currently held, by grant time (some may have expired; they are
    /// pruned lazily).
    #[must_use]
    pub fn overrides(&self) -> Vec<Override> {
        self.overrides.to_vec()
    }

    /// Number of overrides currently held.
    #[must_use]
    pub fn override_count(&self) -> usize {
        self.overrides.len()
    }

    /// Replaces the configuration, keeping the state, and audits the change with
    /// the hashes of the config before and after.
    ///
    /// Only a person whose role is in the *current* config's `config_roles` may
    /// change it; automation (autopilot or system) never may.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] on `by` for automation, on `by.role` for a role not
    /// in `config_roles` (nothing is recorded); [`Error::AuditIo`] if the change
    /// cannot be recorded. Either way the config is then unchanged.
    pub fn set_config(
        &mut self,
        config: TrustGateConfig,
        by: Actor,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<()> {
        match &by {
            Actor::Person { id, role } => {
                if id.trim().is_empty() {
                    return Err(Error::not_permitted("by.id", "must name the person"));
                }
                if !self.config.config_roles().iter().any(|r| r == role) {
                    return Err(Error::not_permitted(
                        "by.role",
                        format!(
                            "role {role:?} may not change the trust gate config; allowed roles: {:?}",
                            self.config.config_roles()
                        ),
                    ));
                }
            }
            _ => {
                return Err(Error::not_permitted(
                    "by",
                    format!(
                        "{by} is automation; only a person with one of the roles {:?} may change the trust gate config",
                        self.config.config_roles()
                    ),
                ));
            }
        }
        audit.append(
            now,
            by,
            AuditEvent::ConfigChanged {
                config_hash: config.hash(),
                previous: Some(self.config.hash()),
            },
            Digest::ZERO,
        )?;
        self.config = config;
        Ok(())
    }

    /// Scores `signals`, judges `action` and writes one audit record.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] / [`Error::InvalidAction`] for bad input (no
    /// record is written); [`Error::AuditIo`] if the record cannot be written (the
    /// gate's state is then unchanged and the action must not be carried out).
    pub fn decide(
        &mut self,
        signals: &Signals,
        action: &ProposedAction,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<Decision> {
        let report = self.config.health().score_unexplained(signals, now)?;
        let inputs = self.inputs_digest(action, now, Basis::Signals(signals))?;
        self.decide_inner(&report, action, now, inputs, audit)
    }

    /// Judges `action` on an already computed health report and writes one audit
    /// record.
    ///
    /// The report is judged as this gate's own scoring would judge it: it must have
    /// been scored under this gate's health config (same
    /// [`HealthConfig::hash`](crate::health::HealthConfig::hash)), not after `now`
    /// and not longer than `max_signal_age` before it, and every observation that
    /// counted must still be fresh at `now`. The score, present weight and status are
    /// re-derived from the report's components with this gate's weights, missing
    /// policy and thresholds, so a report can smuggle in neither a status nor a
    /// score.
    ///
    /// # Errors
    /// As [`TrustGate::decide`]; also [`Error::HealthConfigMismatch`] for a report
    /// scored under another config, [`Error::StaleHealth`] for a stale or future
    /// report, [`Error::InvalidObservation`] on `health.score` (or
    /// `health.components`) when the score does not follow from its components, and
    /// [`Error::InvalidAction`] when the report's scope is not the action's target
    /// scope. Nothing is recorded on error.
    pub fn decide_with_health(
        &mut self,
        health: &HealthReport,
        action: &ProposedAction,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<Decision> {
        let checked = self.checked_report(health, now)?;
        let inputs = self.inputs_digest(action, now, Basis::Health(health))?;
        self.decide_inner(&checked, action, now, inputs, audit)
    }

    /// `health` with its score, present weight, reading time, missing list and
    /// status re-derived under this gate's config, after checking that the report
    /// may be judged at `now`.
    fn checked_report(&self, health: &HealthReport, now: DateTime<Utc>) -> Result<HealthReport> {
        let hcfg = self.config.health();
        if health.config_hash != hcfg.hash() {
            return Err(Error::HealthConfigMismatch {
                field: "health.config_hash".to_owned(),
                message: format!(
                    "the report was scored under health config {} but this gate scores with {}; score the signals with the gate's own config",
                    health.config_hash,
                    hcfg.hash()
                ),
            });
        }
        let max_age = hcfg.max_signal_age();
        if health.computed_at > now {
            return Err(Error::stale(
                "health.computed_at",
                format!(
                    "the report was scored at {}, after the decision time {now}",
                    health.computed_at
                ),
            ));
        }
        if now - health.computed_at > max_age {
            return Err(Error::stale(
                "health.computed_at",
                format!(
                    "the report was scored at {}, {}s before the decision time {now}; at most {}s (max_signal_age) is allowed",
                    health.computed_at,
                    (now - health.computed_at).num_seconds(),
                    max_age.num_seconds()
                ),
            ));
        }
        if health.components.len() != Component::ALL.len()
            || health
                .components
                .iter()
                .zip(Component::ALL)
                .any(|(c, want)| c.component != want)
        {
            return Err(Error::observation(
                "health.components",
                format!(
                    "must list the {} components once each, in the order {:?}",
                    Component::ALL.len(),
                    Component::ALL.map(Component::as_str)
                ),
            ));
        }
        let weights = hcfg.weights();
        let mut present_weight = 0.0;
        let mut as_of: Option<DateTime<Utc>> = None;
        let mut missing = Vec::new();
        for (i, c) in health.components.iter().enumerate() {
            let Some(score) = c.score else {
                missing.push(c.component);
                continue;
            };
            finite_in(
                observation_err,
                &format!("health.components[{i}].score"),
                score,
                0.0,
                100.0,
            )?;
            let Some(at) = c.observed_at else {
                return Err(Error::observation(
                    format!("health.components[{i}].observed_at"),
                    "a component that counted must say when it was observed",
                ));
            };
            if now - at > max_age {
                return Err(Error::stale(
                    format!("health.components[{i}].observed_at"),
                    format!(
                        "{} was observed at {at}, {}s before the decision time {now}; at most {}s (max_signal_age) is allowed",
                        c.component,
                        (now - at).num_seconds(),
                        max_age.num_seconds()
                    ),
                ));
            }
            present_weight += weights.get(c.component);
            as_of = as_of.max(Some(at));
        }
        let scale = match hcfg.missing() {
            MissingPolicy::ScoreZero => 1.0,
            MissingPolicy::Renormalize if present_weight > 0.0 => 1.0 / present_weight,
            MissingPolicy::Renormalize => 0.0,
        };
        let mut total = 0.0;
        for c in &health.components {
            if let Some(score) = c.score {
                total += weights.get(c.component) * scale * score;
            }
        }
        let score = total.clamp(0.0, 100.0);
        if !health.score.is_finite() || (health.score - score).abs() > 1e-9 {
            return Err(Error::observation(
                "health.score",
                format!(
                    "is {} but its components score {score} under this gate's health config; a report's score must follow from its components",
                    health.score
                ),
            ));
        }
        let mut checked = health.clone();
        checked.score = score;
        checked.status = hcfg.status_of(score);
        checked.present_weight = present_weight;
        checked.as_of = as_of;
        checked.missing = missing;
        checked.policy = hcfg.missing();
        Ok(checked)
    }

    /// What [`TrustGate::decide`] would decide, without recording anything or
    /// changing state (a dry run).
    ///
    /// # Errors
    /// As [`TrustGate::decide`], minus the audit errors.
    pub fn preview(
        &self,
        signals: &Signals,
        action: &ProposedAction,
        now: DateTime<Utc>,
    ) -> Result<Decision> {
        let report = self.config.health().score_unexplained(signals, now)?;
        let inputs = self.inputs_digest(action, now, Basis::Signals(signals))?;
        Ok(self.evaluate(&report, action, now, inputs)?.0)
    }

    /// Grants a `SoftBlock` override and audits it.
    ///
    /// # Errors
    /// [`Error::OverrideRefused`] when the policy does not allow it;
    /// [`Error::AuditIo`] when it cannot be recorded (it is then not granted).
    pub fn grant_override(
        &mut self,
        request: OverrideRequest,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<Override> {
        let granted = Override::grant(self.config.overrides(), request, now)?;
        audit.append(
            now,
            granted.request.granted_by.clone(),
            AuditEvent::OverrideGranted(granted.clone()),
            Digest::ZERO,
        )?;
        self.overrides.insert(granted.clone());
        Ok(granted)
    }

    /// Revokes an override before it expires, and audits it.
    ///
    /// # Errors
    /// [`Error::OverrideRefused`] when no live override has this id, or `by` is not
    /// a person with an allowed role; [`Error::AuditIo`] when it cannot be recorded.
    pub fn revoke_override(
        &mut self,
        id: &str,
        by: Actor,
        reason: &str,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<()> {
        if !self.overrides.contains(id) {
            return Err(Error::refused("id", format!("no live override {id:?}")));
        }
        match &by {
            Actor::Person { role, .. } if self.config.overrides().allowed_roles.contains(role) => {}
            _ => {
                return Err(Error::refused(
                    "by",
                    "only a person with an allowed role may revoke an override",
                ));
            }
        }
        audit.append(
            now,
            by,
            AuditEvent::OverrideRevoked {
                id: id.to_owned(),
                reason: reason.to_owned(),
            },
            Digest::ZERO,
        )?;
        self.overrides.remove(id);
        Ok(())
    }

    fn inputs_digest(
        &self,
        action: &ProposedAction,
        now: DateTime<Utc>,
        basis: Basis<'_>,
    ) -> Result<Digest> {
        Digest::of(&Inputs {
            config_hash: self.config.hash(),
            at: Ts(now),
            action,
            basis,
        })
    }

    fn decide_inner(
        &mut self,
        health: &HealthReport,
        action: &ProposedAction,
        now: DateTime<Utc>,
        inputs: Digest,
        audit: &mut AuditLog,
    ) -> Result<Decision> {
        let (mut decision, j) = self.evaluate(health, action, now, inputs)?;
        decision.audit_seq = Some(audit.len());
        audit.append(
            now,
            action.proposer.clone(),
            AuditEvent::Decision(Box::new(decision.clone())),
            inputs,
        )?;
        self.apply(&health.scope, action, now, &j);
        Ok(decision)
    }

    /// Judges an action on lean health facts and applies the state change, without
    /// auditing and without building an explanation (backtests). The caller has
    /// validated `action`.
    pub(crate) fn judge_and_apply(
        &mut self,
        view: &HealthView<'_>,
        action: &ProposedAction,
        now: DateTime<Utc>,
    ) -> Result<Judgement> {
        let j = self.judge_validated(view, action, now)?;
        self.apply(view.scope, action, now, &j);
        Ok(Judgement {
            gate: j.gate,
            outcome: j.outcome,
            policy_stop: j.policy_stop,
        })
    }

    /// Takes a health reading into the hysteresis state without judging an action
    /// (backtests feed hours with no proposed action this way).
    pub(crate) fn observe(&mut self, view: &HealthView<'_>) {
        let status = self.config.health().status_of(view.score);
        let conclusive = self.conclusive(view);
        if let Some(at) = view.as_of {
            let cfg = *self.config.hysteresis();
            let reading = Reading::of(status, conclusive);
            match self.hysteresis.get_mut(view.scope) {
                Some(s) => s.observe(&cfg, reading, at),
                None => {
                    let mut s = HysteresisState::default();
                    s.observe(&cfg, reading, at);
                    self.hysteresis.insert(view.scope.clone(), s);
                }
            }
        }
    }

    fn apply(&mut self, scope: &Scope, action: &ProposedAction, now: DateTime<Utc>, j: &Judged) {
        if let Some(s) = &j.scope_state {
            match self.hysteresis.get_mut(scope) {
                Some(slot) => *slot = *s,
                None => {
                    self.hysteresis.insert(scope.clone(), *s);
                }
            }
        }
        if j.outcome == Outcome::Execute {
            self.ledger.record(action, now);
        }
        self.overrides.prune(now);
    }

    fn conclusive(&self, view: &HealthView<'_>) -> bool {
        view.as_of.is_some()
            && view.present_weight + 1e-12 >= self.config.evidence().min_present_weight
    }

    /// The verdict, without the explanation.
    fn judge(
        &self,
        view: &HealthView<'_>,
        action: &ProposedAction,
        now: DateTime<Utc>,
    ) -> Result<Judged> {
        action.validate()?;
        self.judge_validated(view, action, now)
    }

    /// [`TrustGate::judge`] for an action already validated (backtests validate
    /// every action of a step before judging any).
    fn judge_validated(
        &self,
        view: &HealthView<'_>,
        action: &ProposedAction,
        now: DateTime<Utc>,
    ) -> Result<Judged> {
        finite_in(observation_err, "health.score", view.score, 0.0, 100.0)?;
        finite_in(
            observation_err,
            "health.present_weight",
            view.present_weight,
            0.0,
            1.0 + 1e-9,
        )?;
        if view.scope != &action.target.scope {
            return Err(Error::action(
                "target.scope",
                format!(
                    "health was scored for {} but the action targets {}; an action is judged only on signals of its own target scope",
                    view.scope, action.target.scope
                ),
            ));
        }
        let cfg = &self.config;
        let hcfg = cfg.hysteresis();
        let status = cfg.health().status_of(view.score);
        let conclusive = self.conclusive(view);

        // Hysteresis: take this reading (if new) on a copy of the scope's state.
        let mut state = self.hysteresis.get(view.scope).copied().unwrap_or_default();
        let scope_state = match view.as_of {
            Some(at) => {
                state.observe(hcfg, Reading::of(status, conclusive), at);
                Some(state)
            }
            None => None,
        };
        let gate = match (conclusive, status) {
            (false, _) => GateResult::Inconclusive,
            (true, HealthStatus::Healthy) if state.tripped => GateResult::Hold,
            (true, HealthStatus::Healthy) => GateResult::Pass,
            (true, HealthStatus::Degraded) => GateResult::Hold,
            (true, HealthStatus::Unhealthy) if state.tripped => GateResult::Block,
            (true, HealthStatus::Unhealthy) => GateResult::Hold,
        };
        let automated = action.proposer.is_automation();
        let health_outcome = match (automated, gate) {
            (true, GateResult::Pass) | (false, _) => Outcome::Execute,
            (true, GateResult::Hold | GateResult::Inconclusive) => Outcome::AlertOnly,
            (true, GateResult::Block) => Outcome::ManualRequired,
        };

        // Guardrails under the enforcement mode.
        let violations = self.ledger.check(cfg.guardrails(), action, now);
        let mode = cfg.enforcement_for(action.kind.tag());
        let live = if violations.is_empty() {
            None
        } else {
            self.overrides
                .find(&action.target, action.kind.tag(), now)
                .cloned()
        };
        let effect = (!violations.is_empty()).then_some(match (mode, &live) {
            (EnforcementMode::Advisory, _) => ViolationEffect::WouldBlock,
            (EnforcementMode::SoftBlock, Some(_)) => ViolationEffect::Waived,
            (EnforcementMode::SoftBlock, None) | (EnforcementMode::HardBlock, _) => {
                ViolationEffect::Stops
            }
        });
        let policy_stop = effect == Some(ViolationEffect::Stops);
        let outcome = if policy_stop {
            Outcome::ManualRequired
        } else {
            health_outcome
        };
        Ok(Judged {
            status,
            state,
            scope_state,
            gate,
            outcome,
            automated,
            violations,
            mode,
            effect,
            live,
            policy_stop,
        })
    }

    fn evaluate(
        &self,
        health: &HealthReport,
        action: &ProposedAction,
        now: DateTime<Utc>,
        inputs_digest: Digest,
    ) -> Result<(Decision, Judged)> {
        let view = HealthView::of_report(health);
        let j = self.judge(&view, action, now)?;
        let decision = self.explain(health, action, now, inputs_digest, &j);
        Ok((decision, j))
    }

    /// Builds the decision and its ranked reasons from a verdict.
    fn explain(
        &self,
        health: &HealthReport,
        action: &ProposedAction,
        now: DateTime<Utc>,
        inputs_digest: Digest,
        j: &Judged,
    ) -> Decision {
        let cfg = &self.config;
        let hcfg = cfg.hysteresis();
        let thresholds = cfg.health().thresholds();
        let mut reasons: Vec<Reason> = Vec::with_capacity(6);
        let mut push = |severity, detail| reasons.push(Reason { severity, detail });
        match (j.gate, j.status) {
            (GateResult::Inconclusive, _) => push(
                Severity::Hold,
                ReasonDetail::InsufficientEvidence {
                    present_weight: health.present_weight,
                    required: cfg.evidence().min_present_weight,
                    missing: health.missing.clone(),
                },
            ),
            (GateResult::Pass, _) => push(
                Severity::Info,
                ReasonDetail::Healthy {
                    score: health.score,
                    threshold: thresholds.healthy,
                },
            ),
            (_, HealthStatus::Healthy) => push(
                Severity::Hold,
                ReasonDetail::Recovering {
                    healthy_readings: j.state.healthy_streak,
                    required: hcfg.recovery_readings,
                    cooldown_until: j.state.cooldown_until(hcfg),
                },
            ),
            (_, HealthStatus::Degraded) => push(
                Severity::Hold,
                ReasonDetail::Degraded {
                    score: health.score,
                    healthy_threshold: thresholds.healthy,
                },
            ),
            (GateResult::Block, HealthStatus::Unhealthy) => push(
                Severity::Block,
                ReasonDetail::Unhealthy {
                    score: health.score,
                    degraded_threshold: thresholds.degraded,
                },
            ),
            (_, HealthStatus::Unhealthy) => {
                push(
                    Severity::Hold,
                    ReasonDetail::Unhealthy {
                        score: health.score,
                        degraded_threshold: thresholds.degraded,
                    },
                );
                push(
                    Severity::Hold,
                    ReasonDetail::Debounced {
                        bad_readings: j.state.bad_in_window(hcfg),
                        window: hcfg.window,
                        trip_after: hcfg.trip_after,
                    },
                );
            }
        }
        if !j.automated && j.gate != GateResult::Pass {
            push(
                Severity::Warning,
                ReasonDetail::PersonActsDespiteHealth {
                    status: j.status,
                    score: health.score,
                },
            );
        }
        if j.gate != GateResult::Pass {
            self.weak_components(health, &mut reasons);
        }
        let mut override_applied = None;
        if let Some(effect) = j.effect {
            match (effect, j.live.as_ref()) {
                (ViolationEffect::Waived, Some(o)) => {
                    reasons.push(Reason {
                        severity: Severity::Warning,
                        detail: ReasonDetail::OverrideApplied {
                            id: o.id.clone(),
                            granted_by: o.request.granted_by.clone(),
                        },
                    });
                    override_applied = Some(AppliedOverride {
                        id: o.id.clone(),
                        granted_by: o.request.granted_by.clone(),
                        reason: o.request.reason.clone(),
                        expires_at: o.request.expires_at,
                        waived: j.violations.clone(),
                    });
                }
                (ViolationEffect::Stops, Some(o)) if j.mode == EnforcementMode::HardBlock => {
                    reasons.push(Reason {
                        severity: Severity::Warning,
                        detail: ReasonDetail::OverrideIgnored { id: o.id.clone() },
                    });
                }
                _ => {}
            }
            let severity = match effect {
                ViolationEffect::Stops => Severity::Block,
                ViolationEffect::WouldBlock => Severity::Warning,
                ViolationEffect::Waived => Severity::Info,
            };
            for v in &j.violations {
                reasons.push(Reason {
                    severity,
                    detail: ReasonDetail::Violation {
                        violation: v.clone(),
                        effect,
                        mode: j.mode,
                    },
                });
            }
        }
        // Stable sort: most severe first, insertion order within a severity.
        reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));

        Decision {
            decided_at: now,
            action: action.clone(),
            gate: j.gate,
            outcome: j.outcome,
            health: HealthSummary {
                score: health.score,
                status: j.status,
                present_weight: health.present_weight,
                missing: health.missing.clone(),
            },
            enforcement: j.mode,
            violations: j.violations.clone(),
            override_applied,
            reasons,
            config_hash: cfg.hash(),
            inputs_digest,
            audit_seq: None,
        }
    }

    fn weak_components(&self, health: &HealthReport, reasons: &mut Vec<Reason>) {
        let mut weak: Vec<(f64, Component, usize)> = health
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let lost = match (c.score, health.policy) {
                    (Some(_), _) => c.points_lost(),
                    (None, MissingPolicy::ScoreZero) => c.weight * 100.0,
                    (None, MissingPolicy::Renormalize) => 0.0,
                };
                (lost, c.component, i)
            })
            .filter(|(lost, _, i)| {
                *lost >= WEAK_COMPONENT_MIN_POINTS || health.components[*i].missing.is_some()
            })
            .collect();
        weak.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (lost, component, i) in weak.into_iter().take(WEAK_COMPONENTS_LISTED) {
            let c = &health.components[i];
            reasons.push(Reason {
                severity: if c.missing.is_some() {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                detail: ReasonDetail::WeakComponent {
                    component,
                    score: c.score,
                    points_lost: lost,
                    missing: c.missing,
                },
            });
        }
    }
}
