//! `stratum_core::gate`: the trust gate, proposed actions and decisions.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use napi::Either;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::Value;
use stratum_bindings::ErrorReport;
use stratum_core::gate as core;

use crate::audit::AuditLog;
use crate::conv::{Job, Json, de, de_or_default, guard, job, lock, ser, time};
use crate::conv::{caught, null};
use crate::health::Signals;

/// A proposed change, checked once and kept native.
#[napi]
pub struct ProposedAction(pub(crate) core::ProposedAction);

#[napi]
impl ProposedAction {
    /// An action from its JSON form.
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "ProposedActionData")] data: Json) -> napi::Result<Self> {
        guard(|| action_of(&data).map(Self))
    }

    /// `budget_change`, `bid_change`, `pause`, `resume` or `custom`.
    #[napi(getter, ts_return_type = "ActionKind")]
    pub fn kind(&self) -> napi::Result<Json> {
        guard(|| ser(&self.0.kind.tag()))
    }

    /// The action as a plain object.
    #[napi(js_name = "toJSON", ts_return_type = "ProposedActionData")]
    pub fn to_json(&self) -> napi::Result<Json> {
        guard(|| ser(&self.0))
    }
}

fn action_of(data: &Json) -> Result<core::ProposedAction, stratum_bindings::ErrorReport> {
    let action: core::ProposedAction = de(data)?;
    action.validate()?;
    Ok(action)
}

type SignalsArg<'a> = Either<&'a Signals, Json>;
type ActionArg<'a> = Either<&'a ProposedAction, Json>;

fn owned_signals(
    s: SignalsArg<'_>,
) -> Result<stratum_core::health::Signals, stratum_bindings::ErrorReport> {
    match s {
        Either::A(s) => Ok(s.0.clone()),
        Either::B(v) => de(&v),
    }
}

fn owned_action(a: ActionArg<'_>) -> Result<core::ProposedAction, stratum_bindings::ErrorReport> {
    match a {
        Either::A(a) => Ok(a.0.clone()),
        Either::B(v) => action_of(&v),
    }
}

/// The snake_case name serde gives a unit enum variant (`Outcome::AlertOnly` →
/// `"alert_only"`).
fn tag<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

/// The gate's verdict on one action, kept native: the getters read it, `toJSON()`
/// gives the whole document (`JSON.stringify` calls it).
#[napi]
pub struct Decision(pub(crate) core::Decision);

#[napi]
impl Decision {
    /// `execute`, `alert_only` or `manual_required`.
    #[napi(getter, ts_return_type = "Outcome")]
    pub fn outcome(&self) -> String {
        tag(&self.0.outcome)
    }

    /// Whether the action may be carried out now.
    #[napi(getter)]
    pub fn executes(&self) -> bool {
        self.0.outcome == core::Outcome::Execute
    }

    /// The gate result before enforcement (`pass`, `hold`, `block`, `inconclusive`).
    #[napi(getter, ts_return_type = "GateResult")]
    pub fn gate(&self) -> String {
        tag(&self.0.gate)
    }

    /// The enforcement mode applied.
    #[napi(getter, ts_return_type = "Enforcement")]
    pub fn enforcement(&self) -> String {
        tag(&self.0.enforcement)
    }

    /// The health score the decision was made on.
    #[napi(getter)]
    pub fn health_score(&self) -> f64 {
        self.0.health.score
    }

    /// The health status the decision was made on.
    #[napi(getter, ts_return_type = "HealthStatus")]
    pub fn health_status(&self) -> String {
        tag(&self.0.health.status)
    }

    /// Human-readable reasons, most severe first.
    #[napi(getter)]
    pub fn reasons(&self) -> Vec<String> {
        self.0.reasons.iter().map(ToString::to_string).collect()
    }

    /// Whether a guardrail stopped the action.
    #[napi(getter)]
    pub fn stopped_by_policy(&self) -> bool {
        self.0.stopped_by_policy()
    }

    /// Hex SHA-256 of the config the decision was made under.
    #[napi(getter)]
    pub fn config_hash(&self) -> String {
        self.0.config_hash.to_hex()
    }

    /// Sequence number of the audit record, when the decision was recorded.
    #[napi(getter)]
    pub fn audit_seq(&self) -> Option<f64> {
        self.0.audit_seq.map(|s| s as f64)
    }

    /// A multi-line, human-readable explanation.
    #[napi]
    pub fn explain(&self) -> String {
        self.0.explain()
    }

    /// The whole decision as a plain object (the JSON form).
    #[napi(js_name = "toJSON", ts_return_type = "DecisionData")]
    pub fn to_json(&self) -> napi::Result<Json> {
        guard(|| ser(&self.0))
    }
}

/// A decision computed off the event loop.
pub struct DecisionJob(Option<Box<dyn FnOnce() -> Result<core::Decision, ErrorReport> + Send>>);

impl Task for DecisionJob {
    type Output = core::Decision;
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<core::Decision> {
        match self.0.take() {
            Some(f) => guard(f),
            None => guard(|| Err(ErrorReport::internal("a task ran twice"))),
        }
    }

    fn resolve(&mut self, _env: Env, output: core::Decision) -> napi::Result<Decision> {
        Ok(Decision(output))
    }
}

fn decision_job(
    f: impl FnOnce() -> Result<core::Decision, ErrorReport> + Send + 'static,
) -> AsyncTask<DecisionJob> {
    AsyncTask::new(DecisionJob(Some(Box::new(f))))
}

/// The trust gate: config plus state (hysteresis, guardrail ledger, overrides).
/// Safe to share between concurrent Promises: calls wait for each other.
#[napi]
pub struct TrustGate(pub(crate) Arc<Mutex<core::TrustGate>>);

#[napi]
impl TrustGate {
    /// A gate with `config` (its JSON form; the defaults when absent).
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "TrustGateConfig")] config: Option<Json>,
    ) -> napi::Result<Self> {
        guard(|| {
            let config: core::TrustGateConfig = de_or_default(config.as_ref())?;
            Ok(Self(Arc::new(Mutex::new(core::TrustGate::new(config)))))
        })
    }

    /// What the gate would decide for `action` on `signals` at `now`, without
    /// recording anything or changing state (a dry run). Pass prebuilt `Signals` /
    /// `ProposedAction` on hot paths.
    #[napi]
    pub fn evaluate(
        &self,
        #[napi(ts_arg_type = "Signals | SignalsData")] signals: SignalsArg<'_>,
        #[napi(ts_arg_type = "ProposedAction | ProposedActionData")] action: ActionArg<'_>,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Decision> {
        guard(|| {
            let now = time(now)?;
            let decision = match (&signals, &action) {
                (Either::A(s), Either::A(a)) => lock(&self.0)?.preview(&s.0, &a.0, now)?,
                _ => {
                    let (s, a) = (owned_signals(signals)?, owned_action(action)?);
                    lock(&self.0)?.preview(&s, &a, now)?
                }
            };
            Ok(Decision(decision))
        })
    }

    /// Scores `signals`, judges `action`, updates the gate's state and writes one
    /// audit record (off the event loop: the record may be synced to disk).
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn decide(
        &self,
        #[napi(ts_arg_type = "Signals | SignalsData")] signals: SignalsArg<'_>,
        #[napi(ts_arg_type = "ProposedAction | ProposedActionData")] action: ActionArg<'_>,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<DecisionJob> {
        let prepared = caught(|| Ok((owned_signals(signals)?, owned_action(action)?, time(now)?)));
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        decision_job(move || {
            let (signals, action, now) = prepared?;
            let mut gate = lock(&gate)?;
            Ok(gate.decide(&signals, &action, now, &mut *lock(&audit)?)?)
        })
    }

    /// Like `decide`, on an already computed health report.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn decide_with_health(
        &self,
        #[napi(ts_arg_type = "HealthReport")] health: Json,
        #[napi(ts_arg_type = "ProposedAction | ProposedActionData")] action: ActionArg<'_>,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<DecisionJob> {
        let prepared = caught(|| {
            let health: stratum_core::health::HealthReport = de(&health)?;
            Ok((health, owned_action(action)?, time(now)?))
        });
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        decision_job(move || {
            let (health, action, now) = prepared?;
            let mut gate = lock(&gate)?;
            Ok(gate.decide_with_health(&health, &action, now, &mut *lock(&audit)?)?)
        })
    }

    /// Grants a soft-block override and audits it; resolves to the override.
    #[napi(ts_return_type = "Promise<Override>")]
    pub fn grant_override(
        &self,
        #[napi(ts_arg_type = "OverrideRequest")] request: Json,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<Job> {
        let prepared = caught(|| Ok((de::<core::OverrideRequest>(&request)?, time(now)?)));
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        job(move || {
            let (request, now) = prepared?;
            let granted = lock(&gate)?.grant_override(request, now, &mut *lock(&audit)?)?;
            ser(&granted)
        })
    }

    /// Revokes live override `id` before it expires (`by`: a person with an allowed
    /// role) and audits it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn revoke_override(
        &self,
        id: String,
        #[napi(ts_arg_type = "Actor")] by: Json,
        reason: String,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<Job> {
        let prepared = caught(|| Ok((de(&by)?, time(now)?)));
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        job(move || {
            let (by, now) = prepared?;
            lock(&gate)?.revoke_override(&id, by, &reason, now, &mut *lock(&audit)?)?;
            Ok(null())
        })
    }

    /// Live overrides, by grant time.
    #[napi(ts_return_type = "Override[]")]
    pub fn overrides(&self) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.0)?.overrides()))
    }

    /// The gate's state (hysteresis per scope, executed-action ledger, live
    /// overrides), to persist between processes; `TrustGate.fromState` restores it.
    #[napi(ts_return_type = "GateState")]
    pub fn state(&self) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.0)?.state()))
    }

    /// A gate with `config` (the defaults when absent) resuming from `state`.
    #[napi(factory)]
    pub fn from_state(
        #[napi(ts_arg_type = "GateState")] state: Json,
        #[napi(ts_arg_type = "TrustGateConfig")] config: Option<Json>,
    ) -> napi::Result<Self> {
        guard(|| {
            let config: core::TrustGateConfig = de_or_default(config.as_ref())?;
            let state: core::GateState = de(&state)?;
            Ok(Self(Arc::new(Mutex::new(core::TrustGate::with_state(
                config, state,
            )))))
        })
    }

    /// Replaces the config, keeping the state, and audits the change with the
    /// hashes before and after. `by` must be a person whose role is in the current
    /// config's `config_roles`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_config(
        &self,
        #[napi(ts_arg_type = "TrustGateConfig")] config: Json,
        #[napi(ts_arg_type = "Actor")] by: Json,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<Job> {
        let prepared = caught(|| {
            let config: core::TrustGateConfig = de(&config)?;
            Ok((config, de(&by)?, time(now)?))
        });
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        job(move || {
            let (config, by, now) = prepared?;
            lock(&gate)?.set_config(config, by, now, &mut *lock(&audit)?)?;
            Ok(null())
        })
    }

    /// Engine time of one `evaluate`, in seconds, averaged over `n` runs inside the
    /// native code (no conversion at the boundary): subtract it from the time of a
    /// JS-level `evaluate` call to get the binding's overhead.
    #[napi]
    pub fn engine_seconds(
        &self,
        signals: &Signals,
        action: &ProposedAction,
        now: Option<Either<DateTime<Utc>, String>>,
        n: Option<u32>,
    ) -> napi::Result<f64> {
        guard(|| {
            let now = time(now)?;
            let n = n.unwrap_or(10_000).max(1);
            let gate = lock(&self.0)?;
            let start = std::time::Instant::now();
            for _ in 0..n {
                std::hint::black_box(gate.preview(&signals.0, &action.0, now)?);
            }
            Ok(start.elapsed().as_secs_f64() / f64::from(n))
        })
    }

    /// Hex SHA-256 of the current config.
    #[napi(getter)]
    pub fn config_hash(&self) -> napi::Result<String> {
        guard(|| Ok(lock(&self.0)?.config().hash().to_hex()))
    }

    /// The current config as a plain object.
    #[napi(ts_return_type = "TrustGateConfig")]
    pub fn config(&self) -> napi::Result<Json> {
        guard(|| ser(lock(&self.0)?.config()))
    }
}

/// Policy limits on actions, checked against a ledger of what was executed.
#[napi]
pub struct Guardrails {
    config: stratum_core::guardrails::GuardrailConfig,
    ledger: Mutex<stratum_core::guardrails::Ledger>,
}

#[napi]
impl Guardrails {
    /// Guardrails with `config` (the defaults when absent).
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "GuardrailConfig")] config: Option<Json>,
    ) -> napi::Result<Self> {
        guard(|| {
            Ok(Self {
                config: de_or_default(config.as_ref())?,
                ledger: Mutex::new(stratum_core::guardrails::Ledger::default()),
            })
        })
    }

    /// The violations `action` would cause at `now` (empty: allowed).
    #[napi(ts_return_type = "GuardrailViolation[]")]
    pub fn check(
        &self,
        action: &ProposedAction,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let now = time(now)?;
            ser(&lock(&self.ledger)?.check(&self.config, &action.0, now))
        })
    }

    /// Records `action` as executed at `now`.
    #[napi]
    pub fn record(
        &self,
        action: &ProposedAction,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<()> {
        guard(|| {
            let now = time(now)?;
            lock(&self.ledger)?.record(&action.0, now);
            Ok(())
        })
    }
}
