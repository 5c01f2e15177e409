//! The gate's verdict on one proposed action.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::gate::{Actor, AppliedOverride, EnforcementMode, ProposedAction};
use crate::guardrails::Violation;
use crate::health::{Component, HealthStatus, MissingReason};

/// The gate's reading of signal health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateResult {
    /// Healthy and not recovering: automation may act.
    Pass,
    /// Degraded, recovering, or a debounced bad reading: alert, do not act.
    Hold,
    /// Unhealthy and confirmed by hysteresis: a person must decide.
    Block,
    /// Too little evidence to judge (e.g. a telemetry outage): holds, never allows.
    Inconclusive,
}

impl std::fmt::Display for GateResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GateResult::Pass => "PASS",
            GateResult::Hold => "HOLD",
            GateResult::Block => "BLOCK",
            GateResult::Inconclusive => "INCONCLUSIVE",
        })
    }
}

/// What happens to the action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Carry it out.
    Execute,
    /// Do not carry it out; alert the team.
    AlertOnly,
    /// Do not carry it out; a person must review (and possibly override).
    ManualRequired,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Execute => "EXECUTE",
            Outcome::AlertOnly => "ALERT_ONLY",
            Outcome::ManualRequired => "MANUAL_REQUIRED",
        })
    }
}

/// How much a reason weighs on the outcome; reasons are ranked by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Context (why it passed, where points were lost).
    Info,
    /// Does not stop the action but deserves attention.
    Warning,
    /// Holds the action.
    Hold,
    /// Blocks the action.
    Block,
}

/// What a guardrail violation did under the enforcement mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationEffect {
    /// Stopped the action (`SoftBlock` without override, `HardBlock`).
    Stops,
    /// Reported only (`Advisory`): would have blocked under `SoftBlock`.
    WouldBlock,
    /// Waived by an override.
    Waived,
}

/// One explained reason behind a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Rank key.
    pub severity: Severity,
    /// What it is.
    pub detail: ReasonDetail,
}

/// The facts of a [`Reason`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReasonDetail {
    /// Health is at or above the healthy threshold.
    Healthy {
        /// Score.
        score: f64,
        /// Healthy threshold.
        threshold: f64,
    },
    /// Health is degraded.
    Degraded {
        /// Score.
        score: f64,
        /// Healthy threshold.
        healthy_threshold: f64,
    },
    /// Health is unhealthy.
    Unhealthy {
        /// Score.
        score: f64,
        /// Degraded threshold.
        degraded_threshold: f64,
    },
    /// Not enough of the signal weight was observed.
    InsufficientEvidence {
        /// Weight of the components present.
        present_weight: f64,
        /// Weight required.
        required: f64,
        /// Components missing.
        missing: Vec<Component>,
    },
    /// An unhealthy reading that hysteresis has not confirmed yet: held, not
    /// blocked.
    Debounced {
        /// Bad readings in the window.
        bad_readings: u32,
        /// Window size.
        window: u32,
        /// Bad readings that confirm.
        trip_after: u32,
    },
    /// Healthy again, but still recovering from a confirmed bad period.
    Recovering {
        /// Consecutive healthy readings so far.
        healthy_readings: u32,
        /// Required.
        required: u32,
        /// End of the cooldown since the last bad reading.
        #[serde(default, with = "crate::digest::ts::option")]
        cooldown_until: Option<DateTime<Utc>>,
    },
    /// A component that cost points.
    WeakComponent {
        /// Component.
        component: Component,
        /// Its score (`None`: missing).
        score: Option<f64>,
        /// Points lost against a perfect score.
        points_lost: f64,
        /// Why it is missing, if it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<MissingReason>,
    },
    /// A guardrail violation.
    Violation {
        /// The violation.
        violation: Violation,
        /// What it did.
        effect: ViolationEffect,
        /// Mode it was judged under.
        mode: EnforcementMode,
    },
    /// An override waived violations.
    OverrideApplied {
        /// Override id.
        id: String,
        /// Who granted it.
        granted_by: Actor,
    },
    /// An override exists but `HardBlock` ignores overrides.
    OverrideIgnored {
        /// Override id.
        id: String,
    },
    /// A person's action is not held for health; the health problem is recorded.
    PersonActsDespiteHealth {
        /// Health status.
        status: HealthStatus,
        /// Score.
        score: f64,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.detail, f)
    }
}

impl std::fmt::Display for ReasonDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReasonDetail::Healthy { score, threshold } => write!(
                f,
                "signal health {score:.1} is at or above the healthy threshold {threshold}"
            ),
            ReasonDetail::Degraded {
                score,
                healthy_threshold,
            } => write!(
                f,
                "signal health {score:.1} is below the healthy threshold {healthy_threshold} (Degraded): automation holds"
            ),
            ReasonDetail::Unhealthy {
                score,
                degraded_threshold,
            } => write!(
                f,
                "signal health {score:.1} is below the degraded threshold {degraded_threshold} (Unhealthy): a person must decide"
            ),
            ReasonDetail::InsufficientEvidence {
                present_weight,
                required,
                missing,
            } => {
                let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
                write!(
                    f,
                    "only {:.0}% of signal weight observed ({:.0}% required; missing: {}): result inconclusive, automation holds",
                    present_weight * 100.0,
                    required * 100.0,
                    names.join(", ")
                )
            }
            ReasonDetail::Debounced {
                bad_readings,
                window,
                trip_after,
            } => write!(
                f,
                "{bad_readings} of the last {window} readings unhealthy; blocking needs {trip_after}: holding meanwhile"
            ),
            ReasonDetail::Recovering {
                healthy_readings,
                required,
                cooldown_until,
            } => {
                write!(
                    f,
                    "recovering: {healthy_readings} of {required} consecutive healthy readings"
                )?;
                if let Some(t) = cooldown_until {
                    write!(f, ", cooldown until {t}")?;
                }
                Ok(())
            }
            ReasonDetail::WeakComponent {
                component,
                score,
                points_lost,
                missing,
            } => match (score, missing) {
                (_, Some(why)) => write!(
                    f,
                    "{component} missing ({why}): {points_lost:.1} points lost"
                ),
                (Some(s), None) => write!(
                    f,
                    "{component} scores {s:.1}/100: {points_lost:.1} points lost"
                ),
                (None, None) => write!(f, "{component}: {points_lost:.1} points lost"),
            },
            ReasonDetail::Violation {
                violation,
                effect,
                mode,
            } => {
                let code = violation.code();
                match effect {
                    ViolationEffect::Stops => {
                        write!(f, "guardrail {code} stops the action ({mode}): {violation}")
                    }
                    ViolationEffect::WouldBlock => write!(
                        f,
                        "guardrail {code} would have blocked under soft_block (advisory): {violation}"
                    ),
                    ViolationEffect::Waived => {
                        write!(f, "guardrail {code} waived by override: {violation}")
                    }
                }
            }
            ReasonDetail::OverrideApplied { id, granted_by } => {
                write!(f, "override {id} granted by {granted_by} applied")
            }
            ReasonDetail::OverrideIgnored { id } => {
                write!(f, "override {id} ignored: hard_block allows no override")
            }
            ReasonDetail::PersonActsDespiteHealth { status, score } => write!(
                f,
                "signal health is {status} ({score:.1}); a person's action is not held, but this is recorded"
            ),
        }
    }
}

/// The health facts a decision was made on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// Score 0..=100.
    pub score: f64,
    /// Status under the gate's thresholds.
    pub status: HealthStatus,
    /// Share of weight observed.
    pub present_weight: f64,
    /// Components missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Component>,
}

/// The gate's verdict on one proposed action. Every decision made through
/// [`crate::gate::TrustGate::decide`] is written to the audit log as one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// When it was decided.
    #[serde(with = "crate::digest::ts")]
    pub decided_at: DateTime<Utc>,
    /// The action judged.
    pub action: ProposedAction,
    /// Gate result.
    pub gate: GateResult,
    /// What happens.
    pub outcome: Outcome,
    /// Health facts.
    pub health: HealthSummary,
    /// Enforcement mode applied to this action's kind.
    pub enforcement: EnforcementMode,
    /// Guardrail violations, whatever their effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// Override used, with the violations it waived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_applied: Option<AppliedOverride>,
    /// Reasons, most severe first.
    pub reasons: Vec<Reason>,
    /// Hash of the config decided under.
    pub config_hash: Digest,
    /// SHA-256 of the canonical encoding of the inputs (health report, action,
    /// time, config hash).
    pub inputs_digest: Digest,
    /// Sequence number of the audit record holding this decision (`None` for
    /// previews and backtests, which are not audited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_seq: Option<u64>,
}

impl Decision {
    /// Reasons that do not change the outcome but deserve attention.
    pub fn warnings(&self) -> impl Iterator<Item = &Reason> {
        self.reasons
            .iter()
            .filter(|r| r.severity == Severity::Warning)
    }

    /// Whether guardrails stopped the action.
    #[must_use]
    pub fn stopped_by_policy(&self) -> bool {
        self.reasons.iter().any(|r| {
            matches!(
                r.detail,
                ReasonDetail::Violation {
                    effect: ViolationEffect::Stops,
                    ..
                }
            )
        })
    }

    /// A multi-line, human-readable explanation, reasons ranked.
    #[must_use]
    pub fn explain(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} -> {} for {} on {} proposed by {}",
            self.gate, self.outcome, self.action.kind, self.action.target, self.action.proposer
        );
        let _ = writeln!(
            s,
            "signal health {:.1}/100 ({}), enforcement {}",
            self.health.score, self.health.status, self.enforcement
        );
        for (i, r) in self.reasons.iter().enumerate() {
            let tag = match r.severity {
                Severity::Block => "block",
                Severity::Hold => "hold",
                Severity::Warning => "warn",
                Severity::Info => "info",
            };
            let _ = writeln!(s, "  {}. [{tag}] {r}", i + 1);
        }
        let _ = write!(s, "config {}", self.config_hash);
        if let Some(seq) = self.audit_seq {
            let _ = write!(s, ", audit record #{seq}");
        }
        s
    }
}
