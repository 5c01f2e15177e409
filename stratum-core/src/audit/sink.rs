//! Where audit records are kept.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::AuditRecord;
use crate::digest::{Digest, sha256};
use crate::error::{Error, IntegrityProblem, Result};

/// Storage for audit records. Implementations only append; they never rewrite.
pub trait AuditSink: Send {
    /// Stores one record after the others.
    ///
    /// # Errors
    /// [`Error::AuditIo`] when the record cannot be stored; the sink must then hold
    /// exactly what it held before the call.
    fn append(&mut self, record: AuditRecord) -> Result<()>;

    /// Reads every record, in order.
    ///
    /// # Errors
    /// [`Error::AuditIo`] when storage cannot be read; [`Error::AuditIntegrity`]
    /// with [`IntegrityProblem::Unreadable`] at the index of a record that cannot
    /// be decoded.
    fn read_all(&self) -> Result<Vec<AuditRecord>>;
}

/// Records kept in memory.
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    records: Vec<AuditRecord>,
}

impl MemorySink {
    /// A sink holding `records` (e.g. loaded from elsewhere); [`super::AuditLog::open`]
    /// verifies them.
    #[must_use]
    pub fn from_records(records: Vec<AuditRecord>) -> Self {
        MemorySink { records }
    }
}

impl AuditSink for MemorySink {
    fn append(&mut self, record: AuditRecord) -> Result<()> {
        self.records.push(record);
        Ok(())
    }

    fn read_all(&self) -> Result<Vec<AuditRecord>> {
        Ok(self.records.clone())
    }
}

/// When the file sink forces data to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fsync` (data) after every append: a record acknowledged is on disk.
    #[default]
    EveryAppend,
    /// Leave flushing to the operating system (faster; a crash may lose the last
    /// records, never corrupt earlier ones).
    Never,
}

/// An unacknowledged, incomplete last line removed by
/// [`super::AuditLog::open_recovering`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Byte offset in the file where the removed line started (the file's new
    /// length).
    pub offset: u64,
    /// The bytes removed, exactly as they were in the file.
    pub bytes: Vec<u8>,
    /// SHA-256 of the removed bytes (recorded in the recovery's audit event).
    pub digest: Digest,
}

/// What a scan of the file found.
pub(super) struct Scan {
    pub(super) records: Vec<AuditRecord>,
    /// An incomplete final line (no newline, does not decode): offset and bytes.
    pub(super) torn: Option<(u64, Vec<u8>)>,
}

/// How long [`JsonlFileSink::open`] waits for a lock held by someone else.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
/// How often it tries again meanwhile.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

/// An append-only JSON-lines file: one record per line.
///
/// The file is locked (an advisory, `flock`-style exclusive lock) for as long as
/// the sink is open: a second sink on the same file, in this process or another,
/// gets [`Error::AuditLocked`] (after waiting up to 250 ms for the lock, which a
/// child process being started holds for an instant after the sink that had it
/// is closed). Blank lines, a UTF-8 byte order mark and a missing
/// newline after the last complete record are accepted. A crash in the middle of a
/// write leaves an incomplete last line; opening the log then reports it as
/// unreadable at that index rather than guessing, and
/// [`super::AuditLog::open_recovering`] removes it explicitly and audits that.
#[derive(Debug)]
pub struct JsonlFileSink {
    path: PathBuf,
    file: File,
    len: u64,
    fsync: FsyncPolicy,
    /// The file does not end with a newline: the next append starts with one.
    needs_newline: bool,
    line: Vec<u8>,
}

impl JsonlFileSink {
    /// Opens (creating if needed) the file at `path` for appending and takes its
    /// exclusive lock.
    ///
    /// # Errors
    /// [`Error::AuditLocked`] when another sink (in this or another process) holds
    /// the file for longer than 250 ms; [`Error::AuditIo`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, fsync: FsyncPolicy) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::AuditIo {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        // A lock held for an instant is waited for: a child process that this
        // process is starting holds a copy of every descriptor (and so of the
        // lock of a sink just closed) until it runs its program.
        let mut waited = std::time::Duration::ZERO;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if waited < LOCK_WAIT => {
                    std::thread::sleep(LOCK_RETRY);
                    waited += LOCK_RETRY;
                }
                Err(TryLockError::WouldBlock) => return Err(Error::AuditLocked { path }),
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let len = file.metadata().map_err(io)?.len();
        let mut needs_newline = false;
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
            file.read_exact(&mut last).map_err(io)?;
            needs_newline = last[0] != b'\n';
        }
        Ok(JsonlFileSink {
            path,
            file,
            len,
            fsync,
            needs_newline,
            line: Vec::with_capacity(1024),
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> Error {
        Error::AuditIo {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads and decodes the whole file; an incomplete final line is returned
    /// apart, any other undecodable line is an error at its record index.
    pub(super) fn scan(&self) -> Result<Scan> {
        let mut f = &self.file;
        let mut data = Vec::new();
        f.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        f.read_to_end(&mut data).map_err(|e| self.io(e))?;
        scan_bytes(&data)
    }

    /// Cuts the file back to `offset` (the start of a torn last line).
    pub(super) fn truncate_to(&mut self, offset: u64) -> Result<()> {
        self.file.set_len(offset).map_err(|e| self.io(e))?;
        self.file.sync_all().map_err(|e| self.io(e))?;
        self.len = offset;
        // A torn line starts at the beginning of the file, after a byte order
        // mark, or after a newline.
        self.needs_newline = false;
        Ok(())
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes JSON-lines bytes (see [`JsonlFileSink`] for what is accepted).
pub(super) fn scan_bytes(data: &[u8]) -> Result<Scan> {
    let mut start = if data.starts_with(BOM) { BOM.len() } else { 0 };
    let mut records = Vec::new();
    let mut line_no = 0u64;
    while start < data.len() {
        line_no += 1;
        let rest = &data[start..];
        let (line, next, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], start + end + 1, true),
            None => (rest, data.len(), false),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            start = next;
            continue;
        }
        match super::decode_record(line) {
            Ok(record) => records.push(record),
            Err(_) if !complete => {
                return Ok(Scan {
                    records,
                    torn: Some((start as u64, line.to_vec())),
                });
            }
            Err(message) => {
                return Err(Error::AuditIntegrity {
                    index: records.len() as u64,
                    problem: IntegrityProblem::Unreadable {
                        message: format!("line {line_no}: {message}"),
                    },
                });
            }
        }
        start = next;
    }
    Ok(Scan {
        records,
        torn: None,
    })
}

/// The error for an incomplete last line at record `index`.
pub(super) fn torn_error(index: usize) -> Error {
    Error::AuditIntegrity {
        index: index as u64,
        problem: IntegrityProblem::Unreadable {
            message:
                "incomplete last line (interrupted write); the record was never acknowledged; \
                      open the log with AuditLog::open_recovering to remove it"
                    .to_owned(),
        },
    }
}

impl TornTail {
    pub(super) fn new(offset: u64, bytes: Vec<u8>) -> Self {
        let digest = sha256(&bytes);
        TornTail {
            offset,
            bytes,
            digest,
        }
    }
}

impl AuditSink for JsonlFileSink {
    fn append(&mut self, record: AuditRecord) -> Result<()> {
        self.line.clear();
        if self.needs_newline {
            self.line.push(b'\n');
        }
        serde_json::to_writer(&mut self.line, &record).map_err(|e| Error::InvalidJson {
            what: "AuditRecord",
            field: None,
            message: e.to_string(),
        })?;
        self.line.push(b'\n');
        let written = self
            .file
            .write_all(&self.line)
            .and_then(|()| match self.fsync {
                FsyncPolicy::EveryAppend => self.file.sync_data(),
                FsyncPolicy::Never => Ok(()),
            });
        if let Err(e) = written {
            // Leave the file as it was: cut off any partial line.
            let _ = self.file.set_len(self.len);
            return Err(self.io(e));
        }
        self.len += self.line.len() as u64;
        self.needs_newline = false;
        Ok(())
    }

    fn read_all(&self) -> Result<Vec<AuditRecord>> {
        let scan = self.scan()?;
        if scan.torn.is_some() {
            return Err(torn_error(scan.records.len()));
        }
        Ok(scan.records)
    }
}
