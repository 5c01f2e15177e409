//! Signal health and the trust gate: score signals, preview a decision (a dry run on
//! a fresh gate), or decide with a gate and audit log the host keeps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stratum_core::audit::AuditLog;
use stratum_core::gate::{Decision, ProposedAction, TrustGate, TrustGateConfig};
use stratum_core::health::{HealthConfig, HealthReport, Signals};

use crate::ErrorReport;

/// Score `signals` with `config` as of `now`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthRequest {
    /// The health configuration (the defaults when absent).
    #[serde(default)]
    pub config: HealthConfig,
    /// What was observed for one scope.
    pub signals: Signals,
    /// The time the signals are judged at (observations older than
    /// `max_signal_age` count as missing).
    pub now: DateTime<Utc>,
}

/// Judge `action` on `signals` as of `now`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRequest {
    /// The tenant's gate configuration (the defaults when absent; ignored by
    /// [`gate_decide`], which uses its gate's own).
    #[serde(default)]
    pub config: TrustGateConfig,
    /// What was observed for the action's scope.
    pub signals: Signals,
    /// The proposed action.
    pub action: ProposedAction,
    /// The time of the decision.
    pub now: DateTime<Utc>,
}

/// The health report: score, status, components with their contributions, missing
/// components and reasons.
///
/// # Errors
/// `invalid_observation` naming the malformed observation.
pub fn health_score(request: &HealthRequest) -> Result<HealthReport, ErrorReport> {
    Ok(request.config.score(&request.signals, request.now)?)
}

/// What a fresh gate with `request.config` would decide (a dry run: no audit record,
/// no state). The hysteresis and guardrail history of a running gate are not
/// known here; use [`gate_decide`] with the gate the host keeps.
///
/// # Errors
/// `invalid_observation` / `invalid_action` for bad input.
pub fn gate_preview(request: &GateRequest) -> Result<Decision, ErrorReport> {
    let gate = TrustGate::new(request.config.clone());
    Ok(gate.preview(&request.signals, &request.action, request.now)?)
}

/// Decides with the host's gate (its own configuration and state) and writes one
/// record to the host's audit log; `request.config` is not used (automation never
/// changes a gate's configuration).
///
/// # Errors
/// As [`TrustGate::decide`]: bad input, or `audit_io` when the record cannot be
/// written (the action must then not be carried out).
pub fn gate_decide(
    gate: &mut TrustGate,
    audit: &mut AuditLog,
    request: &GateRequest,
) -> Result<Decision, ErrorReport> {
    Ok(gate.decide(&request.signals, &request.action, request.now, audit)?)
}
