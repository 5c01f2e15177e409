//! `stratum_core::audit`: the hash-chained audit log, in memory or in a JSONL file.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use napi::Either;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi_derive::napi;
use stratum_bindings::ErrorReport;
use stratum_core::audit as core;

use crate::conv::caught;
use crate::conv::{Job, Json, de, guard, job, lock, ser, time};

fn fsync_policy(fsync: Option<&str>) -> Result<core::FsyncPolicy, ErrorReport> {
    match fsync.unwrap_or("always") {
        "always" => Ok(core::FsyncPolicy::EveryAppend),
        "never" => Ok(core::FsyncPolicy::Never),
        other => Err(ErrorReport::config(
            "fsync",
            format!("invalid config: `fsync` is {other:?}; use \"always\" or \"never\""),
        )),
    }
}

/// The hash-chained audit log. Safe to share between concurrent Promises.
#[napi]
pub struct AuditLog(
    pub(crate) Arc<Mutex<core::AuditLog>>,
    Option<core::TornTail>,
);

/// The torn last line `AuditLog.openRecovering` cut off (a crash in the middle of a
/// write).
#[napi(object, object_from_js = false)]
pub struct TornTail {
    /// Byte offset in the file where the removed line started (the file's new
    /// length).
    pub offset: f64,
    /// The bytes removed, exactly as they were in the file.
    pub bytes: Buffer,
    /// Hex SHA-256 of the removed bytes (recorded in the recovery's audit event).
    pub digest: String,
}

#[napi]
impl AuditLog {
    /// An in-memory log, or one appended to the JSONL file at `path` (created when
    /// missing; an existing chain is verified). `fsync`: `"always"` (default) or
    /// `"never"`.
    #[napi(constructor)]
    pub fn new(
        path: Option<String>,
        #[napi(ts_arg_type = "'always' | 'never'")] fsync: Option<String>,
    ) -> napi::Result<Self> {
        guard(|| {
            let Some(path) = path else {
                return Ok(Self(
                    Arc::new(Mutex::new(core::AuditLog::in_memory())),
                    None,
                ));
            };
            let policy = fsync_policy(fsync.as_deref())?;
            let log = core::AuditLog::open(core::JsonlFileSink::open(path, policy)?)?;
            Ok(Self(Arc::new(Mutex::new(log)), None))
        })
    }

    /// Opens the JSONL log at `path`, cutting off a torn last line (a crash in the
    /// middle of a write) and auditing the recovery as `actor`; the cut-off line is
    /// the log's `tornTail`.
    #[napi(factory)]
    pub fn open_recovering(
        path: String,
        #[napi(ts_arg_type = "Actor")] actor: Json,
        now: Option<Either<DateTime<Utc>, String>>,
        #[napi(ts_arg_type = "'always' | 'never'")] fsync: Option<String>,
    ) -> napi::Result<Self> {
        guard(|| {
            let policy = fsync_policy(fsync.as_deref())?;
            let at = time(now)?;
            let actor = de(&actor)?;
            let sink = core::JsonlFileSink::open(path, policy)?;
            let (log, torn) = core::AuditLog::open_recovering(sink, at, actor)?;
            Ok(Self(Arc::new(Mutex::new(log)), torn))
        })
    }

    /// Appends one record (`actor` did `event` at `now`); resolves to the record.
    #[napi(ts_return_type = "Promise<AuditRecord>")]
    pub fn append(
        &self,
        #[napi(ts_arg_type = "Actor")] actor: Json,
        #[napi(ts_arg_type = "AuditEvent")] event: Json,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<Job> {
        let prepared = caught(|| Ok((time(now)?, de(&actor)?, de(&event)?)));
        let log = Arc::clone(&self.0);
        job(move || {
            let (at, actor, event) = prepared?;
            let r = lock(&log)?.append(at, actor, event, stratum_core::digest::Digest::ZERO)?;
            ser(&r)
        })
    }

    /// Verifies the whole chain; resolves to its anchor, rejects with
    /// `AuditIntegrityError` naming the first bad record.
    #[napi(ts_return_type = "Promise<ChainAnchor>")]
    pub fn verify(&self) -> AsyncTask<Job> {
        let log = Arc::clone(&self.0);
        job(move || ser(&lock(&log)?.verify()?))
    }

    /// Every record, oldest first.
    #[napi(ts_return_type = "Promise<AuditRecord[]>")]
    pub fn records(&self) -> AsyncTask<Job> {
        let log = Arc::clone(&self.0);
        job(move || ser(&lock(&log)?.records()?))
    }

    /// The torn last line `openRecovering` cut off (`null` when there was none or
    /// the log was opened otherwise).
    #[napi(getter)]
    pub fn torn_tail(&self) -> Option<TornTail> {
        self.1.as_ref().map(|t| TornTail {
            offset: t.offset as f64,
            bytes: t.bytes.clone().into(),
            digest: t.digest.to_hex(),
        })
    }

    /// Hex digest of the last record (the chain head).
    #[napi(getter)]
    pub fn head(&self) -> napi::Result<String> {
        guard(|| Ok(lock(&self.0)?.head().to_hex()))
    }

    /// The number of records.
    #[napi(getter)]
    pub fn length(&self) -> napi::Result<f64> {
        guard(|| Ok(lock(&self.0)?.len() as f64))
    }
}

/// Verifies a chain of records (as read from a JSONL log); resolves to its anchor.
#[napi(
    ts_args_type = "records: AuditRecord[]",
    ts_return_type = "Promise<ChainAnchor>"
)]
pub fn verify_chain(records: Json) -> AsyncTask<Job> {
    job(move || {
        let records = core::records_from_json(&records.0)?;
        ser(&core::verify_chain(&records)?)
    })
}
