//! `stratum_core::gate`: the trust gate, proposed actions and decisions.

use pyo3::prelude::*;
use stratum_core::gate as core;

use crate::audit::AuditLog;
use crate::convert::{core_from, from_json_text, json_of, reduce, tag, time, to_py};
use crate::errors::{core_err, guard};
use crate::health::{HealthReport, Signals};
use crate::locks::{Arg, Text, detached, lock};

/// A proposed change (`stratum_core::gate::ProposedAction`), built once from a dict.
#[pyclass(name = "ProposedAction", module = "stratum._native", frozen)]
pub(crate) struct ProposedAction(pub(crate) core::ProposedAction);

#[pymethods]
impl ProposedAction {
    #[new]
    fn new(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(|| {
            let action: core::ProposedAction = core_from(data)?;
            action.validate().map_err(core_err)?;
            Ok(Self(action))
        })
    }

    /// `budget_change`, `bid_change`, `pause`, `resume` or `custom`.
    #[getter]
    fn kind(&self) -> String {
        tag(&self.0.kind.tag())
    }

    /// The action as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    /// Pickling support: rebuilt from its dict form by the constructor.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        reduce(slf.as_any(), &slf.get().0)
    }

    fn __repr__(&self) -> String {
        format!("ProposedAction({} on {})", self.0.kind, self.0.target)
    }
}

/// The gate's verdict on one action (`stratum_core::gate::Decision`).
#[pyclass(name = "Decision", module = "stratum._native", frozen)]
pub(crate) struct Decision(pub(crate) core::Decision);

#[pymethods]
impl Decision {
    /// `execute`, `alert_only` or `manual_required`.
    #[getter]
    fn outcome(&self) -> String {
        tag(&self.0.outcome)
    }

    /// Whether the action may be carried out now.
    #[getter]
    fn executes(&self) -> bool {
        self.0.outcome == core::Outcome::Execute
    }

    /// The gate result before enforcement (`pass`, `hold`, `block`, `inconclusive`).
    #[getter]
    fn gate(&self) -> String {
        tag(&self.0.gate)
    }

    /// The enforcement mode applied.
    #[getter]
    fn enforcement(&self) -> String {
        tag(&self.0.enforcement)
    }

    /// The health score the decision was made on.
    #[getter]
    fn health_score(&self) -> f64 {
        self.0.health.score
    }

    /// The health status the decision was made on.
    #[getter]
    fn health_status(&self) -> String {
        tag(&self.0.health.status)
    }

    /// Human-readable reasons, most severe first.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.0.reasons.iter().map(ToString::to_string).collect()
    }

    /// Whether a guardrail stopped the action.
    #[getter]
    fn stopped_by_policy(&self) -> bool {
        self.0.stopped_by_policy()
    }

    /// Hex SHA-256 of the config the decision was made under.
    #[getter]
    fn config_hash(&self) -> String {
        self.0.config_hash.to_hex()
    }

    /// Sequence number of the audit record, when the decision was recorded.
    #[getter]
    fn audit_seq(&self) -> Option<u64> {
        self.0.audit_seq
    }

    /// A multi-line, human-readable explanation.
    fn explain(&self) -> String {
        self.0.explain()
    }

    /// The whole decision as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(outcome={:?}, gate={:?}, health_score={:.1})",
            tag(&self.0.outcome),
            tag(&self.0.gate),
            self.0.health.score
        )
    }
}

/// The trust gate (`stratum_core::gate::TrustGate`): config plus state (hysteresis,
/// guardrail ledger, overrides).
/// Safe to share between threads: calls wait for each other.
#[pyclass(name = "TrustGate", module = "stratum._native", frozen)]
pub(crate) struct TrustGate(pub(crate) std::sync::Mutex<core::TrustGate>);

fn signals_of<'a>(
    obj: &'a Bound<'_, PyAny>,
    slot: &'a mut Option<stratum_core::health::Signals>,
) -> PyResult<SignalsRef<'a>> {
    match obj.cast::<Signals>() {
        Ok(s) => Ok(SignalsRef::Bound(s.clone())),
        Err(_) => Ok(SignalsRef::Owned(slot.insert(core_from(obj)?))),
    }
}

enum SignalsRef<'a> {
    Bound(Bound<'a, Signals>),
    Owned(&'a stratum_core::health::Signals),
}

impl SignalsRef<'_> {
    fn get(&self) -> &stratum_core::health::Signals {
        match self {
            Self::Bound(b) => &b.get().0,
            Self::Owned(s) => s,
        }
    }
}

fn action_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, ProposedAction>> {
    match obj.cast::<ProposedAction>() {
        Ok(a) => Ok(a.clone()),
        Err(_) => Bound::new(obj.py(), ProposedAction::new(obj)?),
    }
}

#[pymethods]
impl TrustGate {
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            let config = match config {
                Some(c) => core_from(c)?,
                None => core::TrustGateConfig::default(),
            };
            Ok(Self(std::sync::Mutex::new(core::TrustGate::new(config))))
        })
    }

    /// What the gate would decide for `action` on `signals` at `now`, without
    /// recording anything or changing state (a dry run). `signals` and `action` may
    /// be dicts; pass prebuilt `Signals` / `ProposedAction` on hot paths.
    #[pyo3(signature = (signals, action, now = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        signals: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        guard(|| {
            let now = time(now)?;
            let mut slot = None;
            let signals = signals_of(signals, &mut slot)?;
            let action = action_of(action)?;
            let decision = lock(py, &self.0)?.preview(signals.get(), &action.get().0, now);
            decision.map(Decision).map_err(core_err)
        })
    }

    /// Scores `signals`, judges `action`, updates the gate's state and writes one
    /// record to `audit`.
    #[pyo3(signature = (signals, action, audit, now = None))]
    fn decide(
        &self,
        py: Python<'_>,
        signals: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        audit: Arg<Bound<'_, AuditLog>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        guard(|| {
            let now = time(now)?;
            let mut slot = None;
            let signals = signals_of(signals, &mut slot)?;
            let action = action_of(action)?;
            // Lock order: gate, audit log; both released before any Python object
            // (an exception included) is made.
            let decision = lock(py, &self.0)?.decide(
                signals.get(),
                &action.get().0,
                now,
                &mut *lock(py, &audit.get().0)?,
            );
            decision.map(Decision).map_err(core_err)
        })
    }

    /// Like `decide`, on an already computed `HealthReport`.
    #[pyo3(signature = (health, action, audit, now = None))]
    fn decide_with_health(
        &self,
        py: Python<'_>,
        health: Arg<Bound<'_, HealthReport>>,
        action: &Bound<'_, PyAny>,
        audit: Arg<Bound<'_, AuditLog>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        guard(|| {
            let now = time(now)?;
            let action = action_of(action)?;
            let decision = lock(py, &self.0)?.decide_with_health(
                &health.get().0,
                &action.get().0,
                now,
                &mut *lock(py, &audit.get().0)?,
            );
            decision.map(Decision).map_err(core_err)
        })
    }

    /// Grants a soft-block override (`request` as a dict) and audits it; returns
    /// the override as a dict.
    #[pyo3(signature = (request, audit, now = None))]
    fn grant_override<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        audit: Arg<Bound<'py, AuditLog>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time(now)?;
            let request: core::OverrideRequest = core_from(request)?;
            let granted =
                lock(py, &self.0)?.grant_override(request, now, &mut *lock(py, &audit.get().0)?);
            to_py(py, &granted.map_err(core_err)?)
        })
    }

    /// Revokes live override `id` before it expires (`by`: a person with an allowed
    /// role, as a dict) and audits it.
    #[pyo3(signature = (id, by, reason, audit, now = None))]
    fn revoke_override(
        &self,
        py: Python<'_>,
        id: Text,
        by: &Bound<'_, PyAny>,
        reason: Text,
        audit: Arg<Bound<'_, AuditLog>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let now = time(now)?;
            let by = core_from(by)?;
            let done = lock(py, &self.0)?.revoke_override(
                &id.0,
                by,
                &reason.0,
                now,
                &mut *lock(py, &audit.get().0)?,
            );
            done.map_err(core_err)
        })
    }

    /// Live overrides, as dicts, by grant time.
    fn overrides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let overrides = lock(py, &self.0)?.overrides();
        to_py(py, &overrides)
    }

    /// The gate's state (hysteresis per scope, executed-action ledger, live
    /// overrides) as a dict, to persist between processes; `TrustGate.from_state`
    /// restores it, so a restart cannot un-trip a gate.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = lock(py, &self.0)?.state();
        to_py(py, &state)
    }

    /// A gate with `config` (a dict, `None`: defaults) resuming from `state` (a dict
    /// or JSON text from `state()`).
    #[staticmethod]
    #[pyo3(signature = (state, config = None))]
    fn from_state(state: &Bound<'_, PyAny>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            let config = match config {
                Some(c) => core_from(c)?,
                None => core::TrustGateConfig::default(),
            };
            let state: core::GateState = core_from(state)?;
            Ok(Self(std::sync::Mutex::new(core::TrustGate::with_state(
                config, state,
            ))))
        })
    }

    /// Replaces the config (a dict), keeping the state, and audits the change with
    /// the hashes before and after. `by` must be a person whose role is in the
    /// current config's `config_roles`; automation gets `NotPermittedError`.
    #[pyo3(signature = (config, by, audit, now = None))]
    fn set_config(
        &self,
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        by: &Bound<'_, PyAny>,
        audit: Arg<Bound<'_, AuditLog>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let now = time(now)?;
            let config = core_from(config)?;
            let by = core_from(by)?;
            let done =
                lock(py, &self.0)?.set_config(config, by, now, &mut *lock(py, &audit.get().0)?);
            done.map_err(core_err)
        })
    }

    /// Engine time of one `evaluate`, in seconds, averaged over `n` runs inside
    /// the native code (no conversion at the boundary). Subtract it from the time of
    /// a Python-level `evaluate` call to get the binding's overhead.
    #[pyo3(signature = (signals, action, now, n = 10_000))]
    fn _engine_seconds(
        &self,
        py: Python<'_>,
        signals: Arg<Bound<'_, Signals>>,
        action: Arg<Bound<'_, ProposedAction>>,
        now: &Bound<'_, PyAny>,
        n: u32,
    ) -> PyResult<f64> {
        guard(|| {
            let now = time(Some(now))?;
            let (s, a) = (&signals.get().0, &action.get().0);
            detached(py, &self.0, |gate| {
                let start = std::time::Instant::now();
                for _ in 0..n {
                    std::hint::black_box(gate.preview(s, a, now).map_err(core_err)?);
                }
                Ok(start.elapsed().as_secs_f64() / f64::from(n.max(1)))
            })?
        })
    }

    /// Hex SHA-256 of the current config.
    #[getter]
    fn config_hash(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| Ok(lock(py, &self.0)?.config().hash().to_hex()))
    }

    /// The current config as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            // Converted once the lock is released: a finalizer run by an allocation
            // may call this gate again.
            let text = json_of(lock(py, &self.0)?.config());
            from_json_text(py, text)
        })
    }
}
