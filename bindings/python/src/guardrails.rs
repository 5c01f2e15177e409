//! `stratum_core::guardrails`: policy limits on actions, checked against a ledger of
//! what was executed.

use pyo3::prelude::*;
use stratum_core::guardrails as core;

use crate::convert::{core_from, time, to_py};
use crate::errors::guard;
use crate::gate::ProposedAction;
use crate::locks::{Arg, lock};

/// Guardrail limits plus the ledger of executed actions they are checked against.
/// Safe to share between threads: calls wait for each other.
#[pyclass(name = "Guardrails", module = "stratum._native", frozen)]
pub(crate) struct Guardrails {
    config: core::GuardrailConfig,
    ledger: std::sync::Mutex<core::Ledger>,
}

#[pymethods]
impl Guardrails {
    /// Limits from a dict (the `guardrails` section of a gate config).
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            Ok(Self {
                config: match config {
                    Some(c) => core_from(c)?,
                    None => core::GuardrailConfig::default(),
                },
                ledger: std::sync::Mutex::new(core::Ledger::default()),
            })
        })
    }

    /// The violations `action` would cause at `now`, as dicts (empty when allowed).
    #[pyo3(signature = (action, now = None))]
    fn check<'py>(
        &self,
        py: Python<'py>,
        action: Arg<Bound<'py, ProposedAction>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time(now)?;
            let v = lock(py, &self.ledger)?.check(&self.config, &action.get().0, now);
            to_py(py, &v)
        })
    }

    /// Records `action` as executed at `now`.
    #[pyo3(signature = (action, now = None))]
    fn record(
        &self,
        py: Python<'_>,
        action: Arg<Bound<'_, ProposedAction>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        guard(|| {
            let now = time(now)?;
            lock(py, &self.ledger)?.record(&action.get().0, now);
            Ok(())
        })
    }
}
