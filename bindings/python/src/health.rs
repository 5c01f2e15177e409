//! `stratum_core::health`: signals, the health config and its reports.

use pyo3::prelude::*;
use stratum_core::health as core;

use crate::convert::{core_from, reduce, tag, time, to_py};
use crate::errors::{core_err, guard};
use crate::locks::Float;

/// Observations of one scope (`stratum_core::health::Signals`), built once from a dict.
#[pyclass(name = "Signals", module = "stratum._native", frozen)]
pub(crate) struct Signals(pub(crate) core::Signals);

#[pymethods]
impl Signals {
    #[new]
    fn new(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(|| {
            let signals: core::Signals = core_from(data)?;
            signals.validate().map_err(core_err)?;
            Ok(Self(signals))
        })
    }

    /// The signals as a dict (the JSON form).
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
        format!("Signals(scope={})", self.0.scope)
    }
}

/// Scoring weights and thresholds (`stratum_core::health::HealthConfig`).
#[pyclass(name = "HealthConfig", module = "stratum._native", frozen)]
pub(crate) struct HealthConfig(pub(crate) core::HealthConfig);

#[pymethods]
impl HealthConfig {
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            Ok(Self(match config {
                Some(c) => core_from(c)?,
                None => core::HealthConfig::default(),
            }))
        })
    }

    /// Scores `signals` (a `Signals` or a dict) as of `now` (default: the current time).
    #[pyo3(signature = (signals, now = None))]
    fn score(
        &self,
        signals: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<HealthReport> {
        guard(|| {
            let now = time(now)?;
            let report = match signals.cast::<Signals>() {
                Ok(s) => self.0.score(&s.get().0, now),
                Err(_) => self.0.score(&core_from(signals)?, now),
            };
            report.map(HealthReport).map_err(core_err)
        })
    }

    /// Hex SHA-256 of the config; reports scored under it carry the same hash.
    #[getter]
    fn config_hash(&self) -> String {
        self.0.hash().to_hex()
    }

    /// The status (`healthy`, `degraded`, `unhealthy`) this config gives a score.
    fn status_of(&self, score: Float) -> String {
        tag(&self.0.status_of(score.0))
    }

    /// The config as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    /// Pickling support: rebuilt from its dict form by the constructor.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        reduce(slf.as_any(), &slf.get().0)
    }
}

/// The result of scoring one scope (`stratum_core::health::HealthReport`).
#[pyclass(name = "HealthReport", module = "stratum._native", frozen)]
pub(crate) struct HealthReport(pub(crate) core::HealthReport);

#[pymethods]
impl HealthReport {
    /// Weighted score, 0..=100.
    #[getter]
    fn score(&self) -> f64 {
        self.0.score
    }

    /// `healthy`, `degraded` or `unhealthy`.
    #[getter]
    fn status(&self) -> String {
        tag(&self.0.status)
    }

    /// Hex SHA-256 of the health config the report was scored under; a trust gate
    /// judges only reports of its own health config.
    #[getter]
    fn config_hash(&self) -> String {
        self.0.config_hash.to_hex()
    }

    /// Sum of the configured weights of the components that counted.
    #[getter]
    fn present_weight(&self) -> f64 {
        self.0.present_weight
    }

    /// Names of the components that did not count.
    #[getter]
    fn missing(&self) -> Vec<String> {
        self.0.missing.iter().map(tag).collect()
    }

    /// Every component with its score, weight, contribution and notes, as dicts.
    #[getter]
    fn components<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.components)
    }

    /// One line per finding behind the score.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.0
            .components
            .iter()
            .flat_map(|c| c.notes.iter().map(move |n| format!("{}: {n}", c.component)))
            .collect()
    }

    /// A multi-line, human-readable explanation.
    fn explain(&self) -> String {
        self.0.explain()
    }

    /// The whole report as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "HealthReport(score={:.1}, status={:?})",
            self.0.score,
            tag(&self.0.status)
        )
    }
}
