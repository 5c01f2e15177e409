//! `stratum_core::audit`: the hash-chained audit log.

use pyo3::prelude::*;
use stratum_core::audit as core;

use crate::convert::{core_from, time, to_py};
use crate::errors::{core_err, guard};

/// The append-only, hash-chained audit log, in memory or in a JSON Lines file.
#[pyclass(name = "AuditLog", module = "stratum._native", unsendable)]
pub(crate) struct AuditLog(pub(crate) core::AuditLog);

#[pymethods]
impl AuditLog {
    /// An in-memory log, or with `path` a JSON Lines file (opened, verified and
    /// appended to; `fsync` is `"always"` or `"never"`).
    #[new]
    #[pyo3(signature = (path = None, fsync = "always"))]
    fn new(path: Option<std::path::PathBuf>, fsync: &str) -> PyResult<Self> {
        guard(|| {
            let Some(path) = path else {
                return Ok(Self(core::AuditLog::in_memory()));
            };
            let policy = match fsync {
                "always" => core::FsyncPolicy::EveryAppend,
                "never" => core::FsyncPolicy::Never,
                other => {
                    return Err(crate::errors::stratum_err(
                        "invalid_config",
                        format!(
                            "invalid config: `fsync` is {other:?}; use \"always\" or \"never\""
                        ),
                        Some("fsync"),
                    ));
                }
            };
            let sink = core::JsonlFileSink::open(path, policy).map_err(core_err)?;
            core::AuditLog::open(sink).map(Self).map_err(core_err)
        })
    }

    /// Appends one record; `actor` and `event` are dicts in the JSON form. Returns
    /// the record's `{"seq", "hash"}`.
    #[pyo3(signature = (actor, event, now = None))]
    fn append<'py>(
        &mut self,
        py: Python<'py>,
        actor: &Bound<'py, PyAny>,
        event: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let at = time(now)?;
            let r = self
                .0
                .append(
                    at,
                    core_from(actor)?,
                    core_from(event)?,
                    stratum_core::digest::Digest::ZERO,
                )
                .map_err(core_err)?;
            to_py(py, &r)
        })
    }

    /// Re-reads and verifies the whole chain; returns the anchor `{"len", "head"}`.
    /// Raises `AuditIntegrityError` (with `.index`) at the first bad record.
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_py(py, &self.0.verify().map_err(core_err)?))
    }

    /// All records as dicts.
    fn records<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_py(py, &self.0.records().map_err(core_err)?))
    }

    /// Hex hash of the newest record (64 zeros when empty).
    #[getter]
    fn head(&self) -> String {
        self.0.head().to_hex()
    }

    fn __len__(&self) -> usize {
        self.0.len() as usize
    }
}

/// Verifies a chain of records (dicts, e.g. read from a file) from its first record;
/// returns the anchor `{"len", "head"}` or raises `AuditIntegrityError`.
#[pyfunction]
pub(crate) fn verify_chain<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let records: Vec<core::AuditRecord> = core_from(records)?;
        to_py(py, &core::verify_chain(&records).map_err(core_err)?)
    })
}
