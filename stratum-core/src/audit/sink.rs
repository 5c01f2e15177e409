//! Where audit records are kept.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::AuditRecord;
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

/// An append-only JSON-lines file: one record per line.
///
/// A crash in the middle of a write leaves an incomplete last line; opening the log
/// then reports it as unreadable at that index rather than guessing.
#[derive(Debug)]
pub struct JsonlFileSink {
    path: PathBuf,
    file: File,
    len: u64,
    fsync: FsyncPolicy,
    line: Vec<u8>,
}

impl JsonlFileSink {
    /// Opens (creating if needed) the file at `path` for appending.
    ///
    /// # Errors
    /// [`Error::AuditIo`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, fsync: FsyncPolicy) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::AuditIo {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(JsonlFileSink {
            path,
            file,
            len,
            fsync,
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
}

impl AuditSink for JsonlFileSink {
    fn append(&mut self, record: AuditRecord) -> Result<()> {
        self.line.clear();
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
        Ok(())
    }

    fn read_all(&self) -> Result<Vec<AuditRecord>> {
        let mut f = &self.file;
        let mut data = Vec::new();
        f.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        f.read_to_end(&mut data).map_err(|e| self.io(e))?;
        let mut out = Vec::new();
        let mut rest: &[u8] = &data;
        while !rest.is_empty() {
            let index = out.len() as u64;
            let unreadable = |message: String| Error::AuditIntegrity {
                index,
                problem: IntegrityProblem::Unreadable { message },
            };
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                return Err(unreadable(
                    "incomplete last line (interrupted write); the record was never acknowledged"
                        .to_owned(),
                ));
            };
            let line = &rest[..end];
            rest = &rest[end + 1..];
            let record: AuditRecord = serde_json::from_slice(line)
                .map_err(|e| unreadable(format!("line {}: {e}", index + 1)))?;
            out.push(record);
        }
        Ok(out)
    }
}
