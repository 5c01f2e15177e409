//! EMQ (`stratum-emq-1`, our own heuristic — not a platform's score): per event, and
//! batch reports with ranked fix suggestions, from customer fields as the caller has
//! them.

use std::collections::HashMap;

use arrow_array::ArrayRef;
use pyo3::prelude::*;
use stratum_connectors::{Field, FieldValue, Platform, emq};
use stratum_core::emq::{EmqEvent, ReportOptions};

use crate::arrow::{Chunked, import_chunks};
use crate::convert::{core_from, to_py};
use crate::errors::{core_err, guard, input_err};
use crate::locks::{Arg, Text};
use crate::normalize::{Normalizer, field, platform, value};

fn event_of(
    n: &stratum_connectors::Normalizer,
    p: Platform,
    fields: &[(Field, FieldValue)],
    event_id: Option<&str>,
) -> EmqEvent {
    let outcomes: Vec<_> = fields.iter().map(|(f, v)| n.normalize(p, *f, v)).collect();
    emq::event(&outcomes, event_id)
}

fn options(obj: Option<&Bound<'_, PyAny>>) -> PyResult<ReportOptions> {
    obj.map_or_else(|| Ok(ReportOptions::default()), core_from)
}

/// Scores one event's customer fields (`{"email": ..., "phone": ...}`) for `platform`;
/// returns the score with each key's contribution as a dict.
#[pyfunction]
#[pyo3(signature = (normalizer, platform, user, event_id = None))]
pub(crate) fn emq_score<'py>(
    py: Python<'py>,
    normalizer: Arg<Bound<'py, Normalizer>>,
    platform: Text,
    user: HashMap<Text, Bound<'py, PyAny>>,
    event_id: Option<Text>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let p = self::platform(&platform)?;
        let mut fields = Vec::with_capacity(user.len());
        for (k, v) in &user {
            fields.push((field(k)?, value(v, false)?));
        }
        let event = event_of(&normalizer.get().0, p, &fields, event_id.as_deref());
        to_py(py, &emq::model(p).score(&event))
    })
}

/// A batch report over rows given as dicts of field name → `str | None` (plus an
/// optional `"event_id"`); `options` may carry a `roas` model. Returns coverage per
/// key, the score distribution and ranked fixes as a dict.
#[pyfunction]
#[pyo3(signature = (normalizer, platform, rows, options = None))]
pub(crate) fn emq_report_rows<'py>(
    py: Python<'py>,
    normalizer: Arg<Bound<'py, Normalizer>>,
    platform: Text,
    rows: Vec<HashMap<Text, Option<Text>>>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let p = self::platform(&platform)?;
        let opts = self::options(options)?;
        let n = &normalizer.get().0;
        let report = py.detach(|| {
            let mut events = Vec::with_capacity(rows.len());
            let mut fields = Vec::new();
            for row in &rows {
                fields.clear();
                let mut event_id = None;
                for (k, v) in row {
                    match (&**k, v) {
                        ("event_id", v) => event_id = v.as_deref(),
                        (_, None) => {}
                        (k, Some(v)) => fields.push((field(k)?, FieldValue::Auto(v.0.clone()))),
                    }
                }
                events.push(event_of(n, p, &fields, event_id));
            }
            emq::model(p).report(&events, &opts).map_err(core_err)
        })?;
        to_py(py, &report)
    })
}

/// A batch report over Arrow string columns: `columns` maps field names to columns
/// (objects with `__arrow_c_array__` or `__arrow_c_stream__`, all of the same
/// length); `event_id` is an optional column of event ids.
#[pyfunction]
#[pyo3(signature = (normalizer, platform, columns, event_id = None, options = None))]
pub(crate) fn emq_report_arrow<'py>(
    py: Python<'py>,
    normalizer: Arg<Bound<'py, Normalizer>>,
    platform: Text,
    columns: Vec<(Text, Bound<'py, PyAny>)>,
    event_id: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let p = self::platform(&platform)?;
        let opts = self::options(options)?;
        let n = &normalizer.get().0;
        let mut arrays: Vec<(Field, Vec<ArrayRef>)> = Vec::with_capacity(columns.len());
        for (name, obj) in &columns {
            arrays.push((field(name)?, import_chunks(obj)?));
        }
        let ids = event_id.map(import_chunks).transpose()?;
        let report = py.detach(|| {
            let cols = arrays
                .iter()
                .map(|(f, a)| Ok((*f, Chunked::of(a)?)))
                .collect::<PyResult<Vec<_>>>()?;
            let ids = ids.as_deref().map(Chunked::of).transpose()?;
            let rows = cols
                .first()
                .map(|(_, c)| c.len())
                .or_else(|| ids.as_ref().map(Chunked::len))
                .unwrap_or(0);
            if cols.iter().any(|(_, c)| c.len() != rows)
                || ids.as_ref().is_some_and(|c| c.len() != rows)
            {
                return Err(input_err(
                    "columns",
                    "all columns must have the same length",
                ));
            }
            let mut iters: Vec<_> = cols.iter().map(|(f, c)| (*f, c.iter())).collect();
            let mut id_iter = ids.as_ref().map(Chunked::iter);
            let mut events = Vec::with_capacity(rows);
            let mut fields = Vec::with_capacity(cols.len());
            for _ in 0..rows {
                fields.clear();
                for (f, it) in &mut iters {
                    if let Some(Some(v)) = it.next() {
                        fields.push((*f, FieldValue::Auto(v.to_owned())));
                    }
                }
                let id = id_iter.as_mut().and_then(|it| it.next().flatten());
                events.push(event_of(n, p, &fields, id));
            }
            emq::model(p).report(&events, &opts).map_err(core_err)
        })?;
        to_py(py, &report)
    })
}
