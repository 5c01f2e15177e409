//! Crate errors → Python exceptions of `stratum.errors`.
//!
//! Every crate error becomes the `StratumError` subclass of its stable code, with
//! `.code` and `.field` set; a panic becomes `InternalError` instead of pyo3's
//! `PanicException`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static MAKE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Builds the `stratum.errors` exception of `code`.
pub(crate) fn stratum_err(code: &str, message: String, field: Option<&str>) -> PyErr {
    Python::attach(|py| {
        let make = MAKE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("stratum.errors")?.getattr("_make")?.unbind())
        });
        match make.and_then(|m| m.bind(py).call1((code, message, field))) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

static TYPE_ERR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `stratum.errors.InvalidTypeError` (code `invalid_json`, also a `TypeError`): an
/// argument or value of the wrong type.
pub(crate) fn type_err(message: String) -> PyErr {
    Python::attach(|py| {
        let class = TYPE_ERR.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py
                .import("stratum.errors")?
                .getattr("InvalidTypeError")?
                .unbind())
        });
        match class.and_then(|c| c.bind(py).call1((message, "invalid_json"))) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

/// Python's own error converting an argument → `InvalidTypeError` with it as
/// `__cause__` (the package's typed errors, and `RecursionError`, unchanged: see
/// `guard`).
pub(crate) fn retyped(py: Python<'_>, e: PyErr) -> PyErr {
    use pyo3::exceptions::{PyOverflowError, PyTypeError, PyUnicodeEncodeError, PyValueError};
    if is_stratum(py, &e) {
        return e;
    }
    if e.is_instance_of::<PyUnicodeEncodeError>(py) {
        return crate::locks::text_err().tap_cause(py, e);
    }
    if e.is_instance_of::<PyOverflowError>(py) {
        return typed(e);
    }
    if e.is_instance_of::<PyTypeError>(py) || e.is_instance_of::<PyValueError>(py) {
        return type_err(format!("invalid argument: {}", e.value(py))).tap_cause(py, e);
    }
    e
}

static BASE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn is_stratum(py: Python<'_>, e: &PyErr) -> bool {
    BASE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("stratum.errors")?
            .getattr("StratumError")?
            .unbind())
    })
    .and_then(|base| e.value(py).is_instance(base.bind(py)))
    .unwrap_or(false)
}

/// `stratum_core::Error` → Python.
pub(crate) fn core_err(e: stratum_core::Error) -> PyErr {
    let err = stratum_err(e.code(), e.to_string(), e.field());
    if let stratum_core::Error::AuditIntegrity { index, .. } = &e {
        Python::attach(|py| {
            // Best effort: the exception is already complete without `index`.
            let _ = err.value(py).setattr("index", *index);
        });
    }
    err
}

/// `stratum_connectors::Error` → Python.
pub(crate) fn connectors_err(e: stratum_connectors::Error) -> PyErr {
    stratum_err(e.code(), e.to_string(), e.field())
}

/// `stratum_cdp::Error` → Python.
pub(crate) fn cdp_err(e: stratum_cdp::Error) -> PyErr {
    stratum_err(e.code(), e.to_string(), e.field())
}

/// A surface [`ErrorReport`](stratum_bindings::ErrorReport) → Python.
pub(crate) fn report_err(e: stratum_bindings::ErrorReport) -> PyErr {
    stratum_err(&e.code, e.message, e.field.as_deref())
}

/// An input that cannot be converted at the boundary (`invalid_json`).
pub(crate) fn input_err(what: &str, message: impl std::fmt::Display) -> PyErr {
    stratum_err("invalid_json", format!("invalid {what}: {message}"), None)
}

/// Python's own conversion errors raised while converting arguments inside a call
/// (`UnicodeEncodeError` for a lone surrogate in a `str`, `OverflowError` for an
/// integer or float out of range, `RecursionError` for a too deeply nested
/// structure) → the typed `InvalidJsonError`, with the original as `__cause__`.
fn typed(e: PyErr) -> PyErr {
    use pyo3::exceptions::{PyOverflowError, PyRecursionError, PyUnicodeEncodeError};
    Python::attach(|py| {
        let message = if e.is_instance_of::<PyUnicodeEncodeError>(py) {
            return crate::locks::text_err().tap_cause(py, e);
        } else if e.is_instance_of::<PyOverflowError>(py) {
            format!("invalid input: a number is out of range ({})", e.value(py))
        } else if e.is_instance_of::<PyRecursionError>(py) {
            "invalid input: the structure is nested too deeply to convert (more levels than \
             Python's recursion limit); flatten it"
                .to_owned()
        } else {
            return e;
        };
        stratum_err("invalid_json", message, None).tap_cause(py, e)
    })
}

trait TapCause {
    fn tap_cause(self, py: Python<'_>, cause: PyErr) -> PyErr;
}

impl TapCause for PyErr {
    fn tap_cause(self, py: Python<'_>, cause: PyErr) -> PyErr {
        self.set_cause(py, Some(cause));
        self
    }
}

/// Runs `f`, turning a panic into `InternalError` and Python's conversion errors
/// into typed ones (see `typed`).
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    let result = catch_unwind(AssertUnwindSafe(f));
    if let Ok(r) = result {
        return r.map_err(typed);
    }
    result.unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(stratum_err(
            "internal",
            format!("internal error (please report it with the input): {detail}"),
            None,
        ))
    })
}

/// Raises a panic inside the native code; lets tests check that panics surface as
/// `InternalError`.
#[pyfunction]
#[pyo3(name = "_panic_for_test")]
pub(crate) fn panic_for_test() -> PyResult<()> {
    guard(|| {
        #[allow(clippy::panic)]
        {
            panic!("deliberate panic")
        }
    })
}
