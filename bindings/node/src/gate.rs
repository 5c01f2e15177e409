//! `stratum_core::gate`: the trust gate, proposed actions and decisions.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use napi::Either;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use serde_json::Value;
use stratum_core::gate as core;

use crate::audit::AuditLog;
use crate::conv::{Job, Json, de, de_or_default, guard, job, lock, ser, time};
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
    #[napi(ts_return_type = "Decision")]
    pub fn evaluate(
        &self,
        #[napi(ts_arg_type = "Signals | SignalsData")] signals: SignalsArg<'_>,
        #[napi(ts_arg_type = "ProposedAction | ProposedActionData")] action: ActionArg<'_>,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let now = time(now)?;
            let gate = lock(&self.0)?;
            let decision = match (&signals, &action) {
                (Either::A(s), Either::A(a)) => gate.preview(&s.0, &a.0, now)?,
                _ => {
                    drop(gate);
                    let (s, a) = (owned_signals(signals)?, owned_action(action)?);
                    lock(&self.0)?.preview(&s, &a, now)?
                }
            };
            ser(&decision)
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
    ) -> napi::Result<AsyncTask<Job>> {
        let (signals, action, now) =
            guard(|| Ok((owned_signals(signals)?, owned_action(action)?, time(now)?)))?;
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        Ok(job(move || {
            let mut gate = lock(&gate)?;
            let d = gate.decide(&signals, &action, now, &mut *lock(&audit)?)?;
            ser(&d)
        }))
    }

    /// Like `decide`, on an already computed health report.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn decide_with_health(
        &self,
        #[napi(ts_arg_type = "HealthReport")] health: Json,
        #[napi(ts_arg_type = "ProposedAction | ProposedActionData")] action: ActionArg<'_>,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<AsyncTask<Job>> {
        let (health, action, now) = guard(|| {
            let health: stratum_core::health::HealthReport = de(&health)?;
            Ok((health, owned_action(action)?, time(now)?))
        })?;
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        Ok(job(move || {
            let mut gate = lock(&gate)?;
            let d = gate.decide_with_health(&health, &action, now, &mut *lock(&audit)?)?;
            ser(&d)
        }))
    }

    /// Grants a soft-block override and audits it; resolves to the override.
    #[napi(ts_return_type = "Promise<Override>")]
    pub fn grant_override(
        &self,
        #[napi(ts_arg_type = "OverrideRequest")] request: Json,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<AsyncTask<Job>> {
        let (request, now) = guard(|| Ok((de::<core::OverrideRequest>(&request)?, time(now)?)))?;
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        Ok(job(move || {
            let granted = lock(&gate)?.grant_override(request, now, &mut *lock(&audit)?)?;
            ser(&granted)
        }))
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
    ) -> napi::Result<AsyncTask<Job>> {
        let (by, now) = guard(|| Ok((de(&by)?, time(now)?)))?;
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        Ok(job(move || {
            lock(&gate)?.revoke_override(&id, by, &reason, now, &mut *lock(&audit)?)?;
            Ok(Json(Value::Null))
        }))
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
    ) -> napi::Result<AsyncTask<Job>> {
        let (config, by, now) = guard(|| {
            let config: core::TrustGateConfig = de(&config)?;
            Ok((config, de(&by)?, time(now)?))
        })?;
        let (gate, audit) = (Arc::clone(&self.0), Arc::clone(&audit.0));
        Ok(job(move || {
            lock(&gate)?.set_config(config, by, now, &mut *lock(&audit)?)?;
            Ok(Json(Value::Null))
        }))
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

/// Explains a decision (as returned by `TrustGate.evaluate`) in a few
/// human-readable lines.
#[napi(ts_args_type = "decision: Decision")]
pub fn explain_decision(decision: Json) -> napi::Result<String> {
    guard(|| Ok(de::<core::Decision>(&decision)?.explain()))
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
