//! Conversions at the boundary: Python objects ⇄ serde types through JSON (for
//! configuration and single documents), and time values.

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors::{core_err, input_err};

static DUMPS: PyOnceLock<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static EPOCH: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

/// JSON text of a Python object: a `str` is taken as JSON already, anything else is
/// dumped with `json.dumps` (dates as ISO 8601, decimals as strings, numpy scalars
/// as numbers; any other type is `InvalidJsonError`, never its `str()`).
pub(crate) fn json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    let py = obj.py();
    let (dumps, default, error) = DUMPS.get_or_try_init(py, || -> PyResult<_> {
        let errors = py.import("stratum.errors")?;
        Ok((
            py.import("json")?.getattr("dumps")?.unbind(),
            errors.getattr("_json_default")?.unbind(),
            errors.getattr("_json_error")?.unbind(),
        ))
    })?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("default", default.bind(py))?;
    match dumps.bind(py).call((obj,), Some(&kwargs)) {
        Ok(text) => text.extract::<String>(),
        // A value or key that is not JSON (`bytes`, a set, a tuple key, an object)
        // or a circular reference: `InvalidJsonError` naming the path.
        Err(e) if e.is_instance_of::<PyTypeError>(py) || e.is_instance_of::<PyValueError>(py) => {
            let typed = PyErr::from_value(error.bind(py).call1((obj, e.value(py)))?);
            typed.set_cause(py, Some(e));
            Err(typed)
        }
        Err(e) => Err(e),
    }
}

/// JSON bytes of a Python object: `bytes` as they are (no copy into a `str`), a
/// `str` as its UTF-8, anything else through [`json_text`].
pub(crate) fn json_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    json_text(obj).map(String::into_bytes)
}

/// A point in time as a timezone-aware (UTC) `datetime`, to the microsecond
/// (Python's resolution; finer digits are truncated).
pub(crate) fn py_time<'py>(py: Python<'py>, t: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    let (epoch, delta) = EPOCH.get_or_try_init(py, || -> PyResult<_> {
        let m = py.import("datetime")?;
        let utc = m.getattr("timezone")?.getattr("utc")?;
        let epoch = m
            .getattr("datetime")?
            .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
        Ok((epoch.unbind(), m.getattr("timedelta")?.unbind()))
    })?;
    // Whole microseconds as an integer: exact for every `DateTime` Python can hold.
    let micros = t
        .timestamp()
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.timestamp_subsec_micros()));
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item(intern!(py, "microseconds"), micros)?;
    let delta = delta.bind(py).call((), Some(&kwargs))?;
    epoch.bind(py).add(delta)
}

/// A core type from a dict (or JSON text), with the core's own error kinds.
pub(crate) fn core_from<T: DeserializeOwned>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    stratum_core::from_json(&json_text(obj)?).map_err(crate::errors::core_err)
}

/// A connectors type from a dict (or JSON text).
pub(crate) fn connectors_from<T: DeserializeOwned>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    stratum_connectors::from_json(&json_text(obj)?).map_err(crate::errors::connectors_err)
}

/// Plain serde from a dict (or JSON text), for types without a crate `from_json`.
pub(crate) fn serde_from<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    serde_json::from_str(&json_text(obj)?).map_err(|e| input_err(what, e))
}

/// A serialisable value as Python objects (dicts, lists, str, float, int, None).
pub(crate) fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    from_json_text(py, json_of(value))
}

/// The JSON text of a value, in Rust only: what a method computes while it holds an
/// object's lock, converted by [`from_json_text`] once the lock is released (any
/// Python allocation may run a finalizer that calls the same object).
pub(crate) fn json_of<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}

/// Python objects from the text of [`json_of`].
pub(crate) fn from_json_text(
    py: Python<'_>,
    text: Result<String, serde_json::Error>,
) -> PyResult<Bound<'_, PyAny>> {
    let text = text.map_err(|e| crate::errors::stratum_err("internal", e.to_string(), None))?;
    let loads = LOADS.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

/// What `__reduce__` returns for an object rebuilt by calling its class with its JSON
/// form: `(type(obj), (value as Python objects,))`. Pickling then ships the config
/// (to Spark, Dask or Ray workers, or `multiprocessing`), and the worker's
/// constructor validates it again.
pub(crate) fn reduce<'py, T: Serialize>(
    obj: &Bound<'py, PyAny>,
    value: &T,
) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
    Ok((obj.get_type().into_any(), (to_py(obj.py(), value)?,)))
}

/// The snake_case name serde gives a unit enum variant (e.g. `Outcome::AlertOnly` →
/// `"alert_only"`).
pub(crate) fn tag<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

/// A point in time from a timezone-aware `datetime`, an RFC 3339 string or POSIX
/// seconds (`int` or `float`); `None` means now. The argument is named `now` in
/// errors.
pub(crate) fn time(obj: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    time_arg(obj, "now")
}

/// [`time`] for an argument named `field`. The validation rule lives in
/// `stratum_core::time`; this only takes the Python value apart. Anything that is
/// not a usable time (NaN, infinities, out-of-range numbers, `bool`, a `date`
/// without a time, a naive `datetime` or one whose `tzinfo` gives no offset, any
/// other object) is `InvalidTimeError` (`invalid_time`).
pub(crate) fn time_arg(obj: Option<&Bound<'_, PyAny>>, field: &str) -> PyResult<DateTime<Utc>> {
    let Some(obj) = obj else {
        return Ok(Utc::now());
    };
    let py = obj.py();
    let invalid = |message: String| {
        core_err(stratum_core::Error::InvalidTime {
            field: field.to_owned(),
            message,
        })
    };
    if obj.is_instance_of::<PyBool>() {
        return Err(invalid(format!(
            "{} is a bool, not a time; {EXPECTED}",
            if obj.is_truthy()? { "True" } else { "False" }
        )));
    }
    if obj.is_instance_of::<PyInt>() {
        let Ok(secs) = obj.extract::<i64>() else {
            return Err(invalid(format!(
                "{} s since the Unix epoch is out of range",
                short(&obj.str()?.to_cow()?)
            )));
        };
        return stratum_core::time::from_unix_parts(field, secs, 0).map_err(core_err);
    }
    if obj.is_instance_of::<PyFloat>() {
        let secs: f64 = obj.extract()?;
        return stratum_core::time::from_unix_seconds(field, secs).map_err(core_err);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return stratum_core::time::parse_rfc3339(field, &s.to_cow()?).map_err(core_err);
    }
    let (datetime, date) = DATE_TYPES.get_or_try_init(py, || -> PyResult<_> {
        let m = py.import("datetime")?;
        Ok((m.getattr("datetime")?.unbind(), m.getattr("date")?.unbind()))
    })?;
    if !obj.is_instance(datetime.bind(py))? {
        let kind = if obj.is_instance(date.bind(py))? {
            "a date has no time of day"
        } else {
            "not a time"
        };
        let type_name = obj.get_type().name()?;
        return Err(invalid(format!("{type_name} is {kind}; {EXPECTED}")));
    }
    // The offset decides the instant: a naive datetime, or a tzinfo whose
    // `utcoffset` returns None, would silently be read as local time.
    let offset = obj
        .call_method0(intern!(py, "utcoffset"))
        .map_err(|e| invalid(format!("its tzinfo failed to give a UTC offset: {e}")))?;
    if offset.is_none() {
        return Err(invalid(
            "is a naive datetime (or its tzinfo gives no UTC offset), which is ambiguous; pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)"
                .to_owned(),
        ));
    }
    // One call instead of pyo3's field-by-field conversion (slow under the stable
    // ABI); a datetime has microsecond resolution, which an f64 of POSIX seconds
    // holds exactly (rounded to µs) for dates within about 285 years of 1970.
    let secs: f64 = obj
        .call_method0(intern!(py, "timestamp"))
        .and_then(|t| t.extract())
        .map_err(|e| invalid(format!("cannot be converted to POSIX seconds: {e}")))?;
    if !secs.is_finite() {
        return stratum_core::time::from_unix_seconds(field, secs).map_err(core_err);
    }
    let micros = (secs * 1e6).round();
    if micros.abs() >= 9.0e18 {
        return stratum_core::time::from_unix_seconds(field, secs).map_err(core_err);
    }
    let micros = micros as i64;
    let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1_000).unwrap_or(0);
    stratum_core::time::from_unix_parts(field, micros.div_euclid(1_000_000), nanos)
        .map_err(core_err)
}

const EXPECTED: &str = "expected a timezone-aware datetime, RFC 3339 text with an offset (e.g. 2026-01-31T12:00:00Z) or POSIX seconds";

static DATE_TYPES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
