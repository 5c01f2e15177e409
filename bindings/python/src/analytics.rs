//! `stratum_core::analytics`: attribution and anomaly detection.

use pyo3::prelude::*;
use stratum_core::analytics::{anomaly, attribution};

use crate::convert::{core_from, to_py};
use crate::errors::{core_err, guard};

/// Attributes the conversions of `paths` (a list of `{"touchpoints": [{"channel",
/// "at"}], "conversions", "non_conversions", "converted_at"}` dicts) with `model`
/// (`{"type": "last_click" | "first_click" | "linear" | "time_decay" |
/// "position_based" | "markov" | "shapley", ...}`); returns the credits per channel.
#[pyfunction]
pub(crate) fn attribute<'py>(
    py: Python<'py>,
    paths: &Bound<'py, PyAny>,
    model: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let paths: Vec<attribution::ConversionPath> = core_from(paths)?;
        let model: attribution::Model = core_from(model)?;
        let result = py.detach(|| {
            let set = attribution::PathSet::from_paths(&paths)?;
            attribution::attribute(&set, &model)
        });
        to_py(py, &result.map_err(core_err)?)
    })
}

/// Detects anomalies in a series of `{"at", "value"}` points (time order) with
/// `config` (a dict, defaults when omitted); returns the anomalies as dicts.
#[pyfunction]
#[pyo3(signature = (series, config = None))]
pub(crate) fn detect_anomalies<'py>(
    py: Python<'py>,
    series: &Bound<'py, PyAny>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let series: Vec<anomaly::Point> = core_from(series)?;
        let config: anomaly::AnomalyConfig = match config {
            Some(c) => core_from(c)?,
            None => anomaly::AnomalyConfig::default(),
        };
        let found = py
            .detach(|| anomaly::detect(&series, &config))
            .map_err(core_err)?;
        to_py(py, &found)
    })
}
