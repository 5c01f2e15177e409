//! `stratum_core::backtest`: replaying a metric history through gate configs.

use pyo3::prelude::*;
use stratum_core::backtest as core;

use crate::convert::{core_from, to_py};
use crate::errors::{core_err, guard};

/// Replays `steps` (a list of `{"at", "signals", "actions"}` dicts, oldest first)
/// through `config` (a dict); returns the report as a dict (`totals`, `days`).
#[pyfunction]
pub(crate) fn backtest<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    steps: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let config: stratum_core::gate::TrustGateConfig = core_from(config)?;
        let steps: Vec<core::BacktestStep> = core_from(steps)?;
        let report = py.detach(|| core::run(&config, &steps)).map_err(core_err)?;
        to_py(py, &report)
    })
}

/// Replays `steps` through a baseline and a candidate config and reports where
/// their outcomes differ, as a dict.
#[pyfunction]
pub(crate) fn compare_configs<'py>(
    py: Python<'py>,
    baseline: &Bound<'py, PyAny>,
    candidate: &Bound<'py, PyAny>,
    steps: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let baseline: stratum_core::gate::TrustGateConfig = core_from(baseline)?;
        let candidate: stratum_core::gate::TrustGateConfig = core_from(candidate)?;
        let steps: Vec<core::BacktestStep> = core_from(steps)?;
        let cmp = py
            .detach(|| core::compare(&baseline, &candidate, &steps))
            .map_err(core_err)?;
        to_py(py, &cmp)
    })
}
