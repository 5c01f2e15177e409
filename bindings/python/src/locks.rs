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
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyBool, PyInt, PyString};

use crate::errors::{stratum_err, type_err};

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
        let s = obj
            .cast::<PyString>()
            .map_err(|_| wrong_type("a str", &obj))?;
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

/// A float argument (a Python `float` or `int`, not a `bool`): an `int` too large
/// for a float becomes the infinity of its sign, which the crates' own range checks
/// refuse, instead of Python raising `OverflowError`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Float(pub(crate) f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Float {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() {
            return Err(wrong_type("a float or an int", &obj));
        }
        match obj.extract::<f64>() {
            Ok(v) => Ok(Float(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(Float(if obj.gt(0)? {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            })),
            Err(_) => Err(wrong_type("a float or an int", &obj)),
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

    /// A size or a count as `usize` for argument `field`; the crates check its range.
    /// A negative or huge value, which no `usize` holds, is `InvalidConfigError`
    /// naming the value given (not a clamped one).
    pub(crate) fn size(self, field: &str) -> PyResult<usize> {
        let out_of_range = |given: String| {
            stratum_err(
                "invalid_config",
                format!("invalid config: `{field}` is {given}; expected a positive whole number"),
                Some(field),
            )
        };
        match self {
            Int::Small(v) => usize::try_from(v).map_err(|_| out_of_range(v.to_string())),
            Int::Huge => Err(out_of_range(format!("larger than {}", i64::MAX))),
            Int::HugeNegative => Err(out_of_range(format!("smaller than {}", i64::MIN))),
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // `bool` is an `int` subclass, but `True` is not a size or a window.
        if obj.is_instance_of::<PyBool>() {
            return Err(wrong_type("an int, not a bool", &obj));
        }
        // An integer-like object (a numpy or pandas integer) through `__index__`.
        let int: Bound<'py, PyInt> = match obj.cast::<PyInt>() {
            Ok(int) => int.to_owned(),
            Err(_) => obj
                .call_method0(intern!(obj.py(), "__index__"))
                .map_err(|_| wrong_type("an int", &obj))?
                .cast_into::<PyInt>()
                .map_err(|_| wrong_type("an int", &obj))?,
        };
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

/// The error for an argument of the wrong type: `InvalidTypeError` (an
/// `InvalidJsonError` and a `TypeError`), naming what was expected and what was given.
pub(crate) fn wrong_type(expected: &str, obj: &Borrowed<'_, '_, PyAny>) -> PyErr {
    let given = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    type_err(format!(
        "invalid argument: expected {expected}, got {given}"
    ))
}

/// Any argument type `T`, with pyo3's own conversion errors (a `str` where a list
/// is expected, a tuple of the wrong length, `None` for a bool) turned into
/// `InvalidTypeError`; the package's typed errors pass unchanged.
#[derive(Clone, Debug)]
pub(crate) struct Arg<T>(pub(crate) T);

impl<T> std::ops::Deref for Arg<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'a, 'py, T> FromPyObject<'a, 'py> for Arg<T>
where
    T: FromPyObject<'a, 'py>,
    T::Error: Into<PyErr>,
{
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        T::extract(obj).map(Arg).map_err(|e| {
            let e: PyErr = e.into();
            crate::errors::retyped(obj.py(), e)
        })
    }
}

/// A callable argument (a `progress` callback), checked when the call starts:
/// anything else is `InvalidTypeError` before any work is done.
#[derive(Debug)]
pub(crate) struct Callback(pub(crate) Py<PyAny>);

impl<'a, 'py> FromPyObject<'a, 'py> for Callback {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_callable() {
            Ok(Self(obj.to_owned().unbind()))
        } else {
            Err(wrong_type("a callable", &obj))
        }
    }
}
