//! Interior locking for the classes with mutable state, and checked conversions of
//! plain arguments.
//!
//! Every class with mutable state is `#[pyclass(frozen)]` around a
//! [`std::sync::Mutex`]: calls from several threads on one object wait for each
//! other instead of failing with pyo3's `Already borrowed`. A thread waits for a lock
//! without the GIL ([`MutexExt::lock_py_attached`]), so a holder that needs the GIL
//! can always finish. Objects are locked in one order: `Autopilot`, then
//! `TrustGate`, then `AuditLog`.

use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyInt, PyString};

use crate::errors::stratum_err;

fn poisoned() -> PyErr {
    stratum_err(
        "internal",
        "internal error: an earlier call on this object failed inside the native code and \
         may have left it inconsistent; create a new object (please report it with the input)"
            .to_owned(),
        None,
    )
}

/// Locks `m`, waiting without the GIL when another thread holds it.
pub(crate) fn lock<'a, T>(py: Python<'_>, m: &'a Mutex<T>) -> PyResult<MutexGuard<'a, T>> {
    m.lock_py_attached(py).map_err(|_| poisoned())
}

/// Runs `f` on the locked value without the GIL (for slow work: file I/O, chain
/// verification).
pub(crate) fn detached<T: Send, R: Send>(
    py: Python<'_>,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> PyResult<R> {
    py.detach(|| m.lock().map(|mut g| f(&mut g)).map_err(|_| ()))
        .map_err(|()| poisoned())
}

/// A `str` argument, refused with `InvalidJsonError` (not `UnicodeEncodeError`) when
/// it holds a lone surrogate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Text(pub(crate) String);

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = obj.cast::<PyString>()?;
        match s.to_cow() {
            Ok(t) => Ok(Text(t.into_owned())),
            Err(_) => Err(text_err()),
        }
    }
}

/// The error for a `str` that is not valid Unicode (a lone surrogate).
pub(crate) fn text_err() -> PyErr {
    stratum_err(
        "invalid_json",
        "invalid text: a str argument holds a lone surrogate (e.g. '\\ud800'), which is not \
         valid Unicode; decode the source with errors='replace' or remove it"
            .to_owned(),
        None,
    )
}

/// A float argument (a Python `float` or `int`): an `int` too large for a float
/// becomes the infinity of its sign, which the crates' own range checks refuse,
/// instead of Python raising `OverflowError`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Float(pub(crate) f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Float {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<f64>() {
            Ok(v) => Ok(Float(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(Float(if obj.gt(0)? {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            })),
            Err(e) => Err(e),
        }
    }
}

/// An integer argument kept whole: `Int::Small` when it fits an `i64`, otherwise
/// its sign, so the caller applies its own range rule instead of Python raising
/// `OverflowError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Int {
    /// Fits an `i64`.
    Small(i64),
    /// Above `i64::MAX`.
    Huge,
    /// Below `i64::MIN`.
    HugeNegative,
}

impl Int {
    /// `i64`, saturating at its bounds.
    pub(crate) fn saturating(self) -> i64 {
        match self {
            Int::Small(v) => v,
            Int::Huge => i64::MAX,
            Int::HugeNegative => i64::MIN,
        }
    }

    /// A size as `usize`, clamped to `0..=usize::MAX`: a negative size becomes 0
    /// and a huge one `usize::MAX`, which the crates' own range checks refuse.
    pub(crate) fn clamped_usize(self) -> usize {
        match self {
            Int::Small(v) => usize::try_from(v.max(0)).unwrap_or(usize::MAX),
            Int::Huge => usize::MAX,
            Int::HugeNegative => 0,
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let int = obj.cast::<PyInt>()?;
        if let Ok(v) = int.extract::<i64>() {
            return Ok(Int::Small(v));
        }
        // Not an i64 though an int: out of range one way or the other.
        Ok(if int.gt(0)? {
            Int::Huge
        } else {
            Int::HugeNegative
        })
    }
}
