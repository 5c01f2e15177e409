//! `stratum_core::audit`: the hash-chained audit log.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use stratum_core::audit as core;

use crate::convert::{core_from, json_text, time, to_py};
use crate::errors::{core_err, guard};
use crate::locks::{Text, detached, lock};

/// The append-only, hash-chained audit log, in memory or in a JSON Lines file.
/// Safe to share between threads: appends are serialised.
#[pyclass(name = "AuditLog", module = "stratum._native", frozen)]
pub(crate) struct AuditLog(pub(crate) Mutex<core::AuditLog>);

fn fsync_policy(fsync: &str) -> PyResult<core::FsyncPolicy> {
    match fsync {
        "always" => Ok(core::FsyncPolicy::EveryAppend),
        "never" => Ok(core::FsyncPolicy::Never),
        other => Err(crate::errors::stratum_err(
            "invalid_config",
            format!("invalid config: `fsync` is {other:?}; use \"always\" or \"never\""),
            Some("fsync"),
        )),
    }
}

/// A file path from a `str`, `bytes` or `os.PathLike`, through `os.fsencode`: a
/// path of another type is `InvalidTypeError`, a `str` that no file name can hold
/// (a lone surrogate) `InvalidJsonError`, never a bare `TypeError` or
/// `UnicodeEncodeError`.
fn file_path(obj: &Bound<'_, PyAny>) -> PyResult<std::path::PathBuf> {
    let py = obj.py();
    let os = py.import("os")?;
    let fspath = os.call_method1("fspath", (obj,)).map_err(|_| {
        crate::locks::wrong_type("a path (str, bytes or os.PathLike)", &obj.as_borrowed())
    })?;
    let bytes = os
        .call_method1("fsencode", (fspath,))
        .map_err(|_| crate::locks::text_err())?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes().to_vec();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Ok(std::path::PathBuf::from(std::ffi::OsString::from_vec(
            bytes,
        )))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes)
            .map(std::path::PathBuf::from)
            .map_err(|_| crate::locks::text_err())
    }
}

#[pymethods]
impl AuditLog {
    /// An in-memory log, or with `path` a JSON Lines file (opened, verified and
    /// appended to; `fsync` is `"always"` or `"never"`). The file is locked while the
    /// log is open: a second writer gets `AuditLockedError`.
    #[new]
    #[pyo3(
        signature = (path = None, fsync = Text("always".to_owned())),
        text_signature = "(path=None, fsync='always')"
    )]
    fn new(py: Python<'_>, path: Option<&Bound<'_, PyAny>>, fsync: Text) -> PyResult<Self> {
        guard(|| {
            // Checked even for an in-memory log: a typo is an error, not a no-op.
            let policy = fsync_policy(&fsync)?;
            let Some(path) = path.filter(|p| !p.is_none()) else {
                return Ok(Self(Mutex::new(core::AuditLog::in_memory())));
            };
            let path = file_path(path)?;
            py.detach(|| core::AuditLog::open(core::JsonlFileSink::open(path, policy)?))
                .map(|log| Self(Mutex::new(log)))
                .map_err(core_err)
        })
    }

    /// Opens a file log, first removing an incomplete last line left by an
    /// interrupted write (a record never acknowledged) and recording the removal as
    /// a `torn_tail_removed` event by `actor` at `now`. Returns the log and `None`,
    /// or what was removed: `{"offset", "bytes", "digest"}`.
    #[staticmethod]
    #[pyo3(
        signature = (path, actor, now = None, fsync = Text("always".to_owned())),
        text_signature = "(path, actor, now=None, fsync='always')"
    )]
    fn open_recovering<'py>(
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        actor: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        fsync: Text,
    ) -> PyResult<(Self, Option<Bound<'py, PyDict>>)> {
        guard(|| {
            let policy = fsync_policy(&fsync)?;
            let path = file_path(path)?;
            let at = time(now)?;
            let actor = core_from(actor)?;
            let (log, torn) = py
                .detach(|| {
                    let sink = core::JsonlFileSink::open(path, policy)?;
                    core::AuditLog::open_recovering(sink, at, actor)
                })
                .map_err(core_err)?;
            let torn = match torn {
                None => None,
                Some(t) => {
                    let d = PyDict::new(py);
                    d.set_item("offset", t.offset)?;
                    d.set_item("bytes", PyBytes::new(py, &t.bytes))?;
                    d.set_item("digest", t.digest.to_hex())?;
                    Some(d)
                }
            };
            Ok((Self(Mutex::new(log)), torn))
        })
    }

    /// Appends one record; `actor` and `event` are dicts in the JSON form. Returns
    /// the record's `{"seq", "hash"}`.
    #[pyo3(signature = (actor, event, now = None))]
    fn append<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        event: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let at = time(now)?;
            let (actor, event) = (core_from(actor)?, core_from(event)?);
            let r = lock(py, &self.0)?.append(at, actor, event, stratum_core::digest::Digest::ZERO);
            to_py(py, &r.map_err(core_err)?)
        })
    }

    /// Re-reads and verifies the whole chain; returns the anchor `{"len", "head"}`.
    /// Raises `AuditIntegrityError` (with `.index`) at the first bad record.
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let anchor = detached(py, &self.0, |log| log.verify())?.map_err(core_err)?;
            to_py(py, &anchor)
        })
    }

    /// All records as dicts.
    fn records<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let records = detached(py, &self.0, |log| log.records())?.map_err(core_err)?;
            to_py(py, &records)
        })
    }

    /// Hex hash of the newest record (64 zeros when empty).
    #[getter]
    fn head(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| Ok(lock(py, &self.0)?.head().to_hex()))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        guard(|| Ok(lock(py, &self.0)?.len() as usize))
    }
}

/// Verifies a chain of records (dicts, e.g. read from a file) from its first record;
/// returns the anchor `{"len", "head"}` or raises `AuditIntegrityError` (with
/// `.index`), also for a record that cannot be decoded.
#[pyfunction]
pub(crate) fn verify_chain<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let text = json_text(records)?;
        let anchor = py
            .detach(|| core::verify_chain(&core::records_from_json(&text)?))
            .map_err(core_err)?;
        to_py(py, &anchor)
    })
}
