//! `stratum_core::autopilot`: rules over campaign metrics whose proposals go through
//! the trust gate into an audited action queue.

use pyo3::prelude::*;
use stratum_core::autopilot as core;

use crate::audit::AuditLog;
use crate::convert::{core_from, time, to_py};
use crate::errors::{core_err, guard};
use crate::gate::TrustGate;
use crate::locks::{Arg, lock};

/// The autopilot (`stratum_core::autopilot::Autopilot`): a validated rule set and
/// its action queue.
/// Safe to share between threads: calls wait for each other.
#[pyclass(name = "Autopilot", module = "stratum._native", frozen)]
pub(crate) struct Autopilot(std::sync::Mutex<core::Autopilot>);

#[pymethods]
impl Autopilot {
    /// `rules` as a dict (`{"max_actions_per_run", "rules": [...]}`, see
    /// docs/autopilot.md).
    #[new]
    fn new(rules: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(|| {
            Ok(Self(std::sync::Mutex::new(core::Autopilot::new(
                core_from(rules)?,
            ))))
        })
    }

    /// Runs every rule on `metrics` (a list of campaign-metrics dicts) with the
    /// `signals` of their scopes (a list of signals dicts); each proposal is decided
    /// by `gate`, audited in `audit` and queued. Returns the run report as a dict.
    #[pyo3(signature = (metrics, signals, gate, audit, now = None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        metrics: &Bound<'py, PyAny>,
        signals: &Bound<'py, PyAny>,
        gate: Arg<Bound<'py, TrustGate>>,
        audit: Arg<Bound<'py, AuditLog>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time(now)?;
            let metrics: Vec<core::CampaignMetrics> = core_from(metrics)?;
            let signals: Vec<stratum_core::health::Signals> = core_from(signals)?;
            // Lock order: autopilot, gate, audit log.
            // Lock order: autopilot, gate, audit log; all released before the report
            // becomes Python objects (a finalizer may call these objects again).
            let report = {
                let mut autopilot = lock(py, &self.0)?;
                let mut gate = lock(py, &gate.get().0)?;
                autopilot.run(
                    now,
                    &metrics,
                    &signals,
                    &mut gate,
                    &mut *lock(py, &audit.get().0)?,
                )
            };
            to_py(py, &report.map_err(core_err)?)
        })
    }

    /// What `run` would propose and what the gate would decide, without writing
    /// anything or changing any state (a dry run).
    #[pyo3(signature = (metrics, signals, gate, now = None))]
    fn preview<'py>(
        &self,
        py: Python<'py>,
        metrics: &Bound<'py, PyAny>,
        signals: &Bound<'py, PyAny>,
        gate: Arg<Bound<'py, TrustGate>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time(now)?;
            let metrics: Vec<core::CampaignMetrics> = core_from(metrics)?;
            let signals: Vec<stratum_core::health::Signals> = core_from(signals)?;
            let report =
                lock(py, &self.0)?.preview(now, &metrics, &signals, &*lock(py, &gate.get().0)?);
            to_py(py, &report.map_err(core_err)?)
        })
    }
}
