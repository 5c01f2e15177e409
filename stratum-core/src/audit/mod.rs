//! The tamper-evident audit log.
//!
//! Append-only and hash-chained: each [`AuditRecord`] holds the SHA-256 of the
//! record before it, and its own hash over its canonical encoding (see
//! [`crate::digest`] and `docs/audit.md`). [`verify_chain`] recomputes every hash
//! and pinpoints the first record that was edited, removed, inserted or moved.
//! Removing records from the *end* leaves a valid shorter chain; publish the
//! [`Anchor`] (length and head hash) somewhere the writer cannot rewrite and check
//! against it with [`verify_anchored`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use stratum_core::audit::{verify_chain, AuditEvent, AuditLog};
//! use stratum_core::digest::Digest;
//! use stratum_core::gate::Actor;
//!
//! let mut log = AuditLog::in_memory();
//! let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let event = AuditEvent::ConfigChanged { config_hash: Digest::of_bytes(b"cfg"), previous: None };
//! log.append(at, Actor::person("u_42", "admin"), event, Digest::ZERO)?;
//! let mut records = log.records()?;
//! assert_eq!(verify_chain(&records)?, log.anchor());
//! records[0].at = at + chrono::TimeDelta::seconds(1); // tamper
//! assert_eq!(verify_chain(&records).unwrap_err().code(), "audit_integrity");
//! # Ok::<(), stratum_core::Error>(())
//! ```

mod sink;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use sink::{AuditSink, FsyncPolicy, JsonlFileSink, MemorySink, TornTail};

use crate::digest::{Digest, Ts, encode_into, sha256};
use crate::error::{Error, IntegrityProblem, Result};
use crate::gate::{Actor, Decision, Override};

/// Version of the record format and canonical encoding.
pub const RECORD_VERSION: u32 = 1;

/// What a record is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// A trust-gate decision.
    Decision(Box<Decision>),
    /// An override was granted.
    OverrideGranted(Override),
    /// An override was revoked before it expired.
    OverrideRevoked {
        /// Override id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The gate's configuration changed.
    ConfigChanged {
        /// New config hash.
        config_hash: Digest,
        /// Previous config hash.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<Digest>,
    },
    /// An action in the autopilot's queue changed state.
    ActionTransition {
        /// Queue id.
        id: u64,
        /// The action's target.
        target: crate::gate::Target,
        /// The action.
        kind: crate::gate::ActionKind,
        /// State before (`None` when it entered the queue).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<crate::autopilot::ActionState>,
        /// State after.
        to: crate::autopilot::ActionState,
        /// Why, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An incident opened or closed on a monitored metric.
    Incident(crate::analytics::incidents::IncidentEvent),
    /// [`AuditLog::open_recovering`] removed an incomplete, never acknowledged last
    /// line left by an interrupted write.
    TornTailRemoved {
        /// Byte offset where the removed line started (the file's length after).
        offset: u64,
        /// Number of bytes removed.
        removed_bytes: u64,
        /// SHA-256 of the removed bytes.
        removed_digest: Digest,
    },
}

/// One record of the chain.
///
/// Deserialising a record (from JSON) refuses any field the format does not have,
/// at any depth: the hash covers the record as decoded, so a field the decoder
/// would drop must not pass as part of a verified record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Record format version ([`RECORD_VERSION`]).
    pub v: u32,
    /// Position in the log, from 0.
    pub seq: u64,
    /// When the event happened (UTC).
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub event: AuditEvent,
    /// Digest of the inputs the event was computed from ([`Digest::ZERO`] if none).
    pub inputs_digest: Digest,
    /// Hash of the previous record ([`Digest::ZERO`] for the first).
    pub prev_hash: Digest,
    /// SHA-256 of this record's canonical encoding, all fields but this one.
    pub hash: Digest,
}

/// The stored form of a record, decoded field by field before the check that
/// nothing was dropped (see [`decode_value`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRecord {
    v: u32,
    seq: u64,
    #[serde(with = "crate::digest::ts")]
    at: DateTime<Utc>,
    actor: Actor,
    event: AuditEvent,
    inputs_digest: Digest,
    prev_hash: Digest,
    hash: Digest,
}

impl<'de> Deserialize<'de> for AuditRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let stored = serde_json::Value::deserialize(d)?;
        decode_value(&stored).map_err(serde::de::Error::custom)
    }
}

/// The fields a record's hash covers, in order.
#[derive(Serialize)]
struct Body<'a> {
    v: u32,
    seq: u64,
    at: Ts,
    actor: &'a Actor,
    event: &'a AuditEvent,
    inputs_digest: &'a Digest,
    prev_hash: &'a Digest,
}

impl AuditRecord {
    /// Recomputes this record's hash from its contents.
    ///
    /// # Errors
    /// Only if encoding fails, which the types of this crate never do.
    pub fn compute_hash(&self) -> Result<Digest> {
        let mut buf = Vec::with_capacity(512);
        self.hash_into(&mut buf)
    }

    fn hash_into(&self, buf: &mut Vec<u8>) -> Result<Digest> {
        buf.clear();
        encode_into(
            &Body {
                v: self.v,
                seq: self.seq,
                at: Ts(self.at),
                actor: &self.actor,
                event: &self.event,
                inputs_digest: &self.inputs_digest,
                prev_hash: &self.prev_hash,
            },
            buf,
        )?;
        Ok(sha256(buf))
    }
}

/// Length and head hash of a log: publish it elsewhere to detect truncation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Number of records.
    pub len: u64,
    /// Hash of the last record ([`Digest::ZERO`] when empty).
    pub head: Digest,
}

/// Where a record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRef {
    /// Sequence number.
    pub seq: u64,
    /// Record hash.
    pub hash: Digest,
}

/// An append-only, hash-chained log over a sink.
pub struct AuditLog {
    sink: Box<dyn AuditSink>,
    anchor: Anchor,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("anchor", &self.anchor)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// An empty log kept in memory.
    #[must_use]
    pub fn in_memory() -> Self {
        AuditLog {
            sink: Box::new(MemorySink::default()),
            anchor: Anchor {
                len: 0,
                head: Digest::ZERO,
            },
            scratch: Vec::with_capacity(512),
        }
    }

    /// Opens a log over `sink`, reading and verifying what it already holds.
    ///
    /// # Errors
    /// [`Error::AuditIntegrity`] if the existing records do not verify;
    /// [`Error::AuditIo`] if they cannot be read.
    pub fn open(sink: impl AuditSink + 'static) -> Result<Self> {
        let records = sink.read_all()?;
        let anchor = verify_chain(&records)?;
        Ok(AuditLog {
            sink: Box::new(sink),
            anchor,
            scratch: Vec::with_capacity(512),
        })
    }

    /// Opens a file log like [`AuditLog::open`], first removing an incomplete last
    /// line left by an interrupted write, and records the removal.
    ///
    /// Only an *unacknowledged torn tail* is removed: a final line with no newline
    /// that does not decode (an append is acknowledged only once its newline is
    /// written). Everything before it must verify first; nothing is changed
    /// otherwise. When a tail is removed, an [`AuditEvent::TornTailRemoved`] record
    /// (by `actor`, at `at`) is appended, and the removed bytes are returned so
    /// that they can be kept elsewhere.
    ///
    /// # Errors
    /// As [`AuditLog::open`]: [`Error::AuditIntegrity`] when the records before the
    /// tail do not verify or a line other than the last cannot be decoded (the file
    /// is then left untouched); [`Error::AuditIo`] when the file cannot be read,
    /// cut or appended to.
    pub fn open_recovering(
        sink: JsonlFileSink,
        at: DateTime<Utc>,
        actor: Actor,
    ) -> Result<(Self, Option<TornTail>)> {
        let mut sink = sink;
        let scan = sink.scan()?;
        let anchor = verify_chain(&scan.records)?;
        let torn = match scan.torn {
            Some((offset, bytes)) => {
                sink.truncate_to(offset)?;
                Some(TornTail::new(offset, bytes))
            }
            None => None,
        };
        let mut log = AuditLog {
            sink: Box::new(sink),
            anchor,
            scratch: Vec::with_capacity(512),
        };
        if let Some(t) = &torn {
            let event = AuditEvent::TornTailRemoved {
                offset: t.offset,
                removed_bytes: t.bytes.len() as u64,
                removed_digest: t.digest,
            };
            log.append(at, actor, event, Digest::ZERO)?;
        }
        Ok((log, torn))
    }

    /// Length and head hash, for external anchoring.
    #[must_use]
    pub fn anchor(&self) -> Anchor {
        self.anchor
    }

    /// Hash of the last record.
    #[must_use]
    pub fn head(&self) -> Digest {
        self.anchor.head
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.anchor.len
    }

    /// Whether the log is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.anchor.len == 0
    }

    /// Appends one record and returns where it landed.
    ///
    /// # Errors
    /// [`Error::AuditIo`] when the sink cannot write; the log is unchanged.
    pub fn append(
        &mut self,
        at: DateTime<Utc>,
        actor: Actor,
        event: AuditEvent,
        inputs_digest: Digest,
    ) -> Result<AuditRef> {
        let mut record = AuditRecord {
            v: RECORD_VERSION,
            seq: self.anchor.len,
            at,
            actor,
            event,
            inputs_digest,
            prev_hash: self.anchor.head,
            hash: Digest::ZERO,
        };
        record.hash = record.hash_into(&mut self.scratch)?;
        let r = AuditRef {
            seq: record.seq,
            hash: record.hash,
        };
        self.sink.append(record)?;
        self.anchor = Anchor {
            len: r.seq + 1,
            head: r.hash,
        };
        Ok(r)
    }

    /// All records, read back from the sink.
    ///
    /// # Errors
    /// As [`AuditSink::read_all`].
    pub fn records(&self) -> Result<Vec<AuditRecord>> {
        self.sink.read_all()
    }

    /// Re-reads the sink and verifies the whole chain against this log's anchor.
    ///
    /// # Errors
    /// [`Error::AuditIntegrity`] pinpointing the first bad record.
    pub fn verify(&self) -> Result<Anchor> {
        let records = self.sink.read_all()?;
        verify_anchored(&records, &self.anchor)?;
        Ok(self.anchor)
    }
}

/// Decodes one stored record (JSON), refusing any field the record format does
/// not have, at any depth: a record's hash covers its decoded contents, so a field
/// the decoder would drop (e.g. an `approved_by` added inside a decision) must not
/// pass as part of a verified record.
pub(crate) fn decode_record(bytes: &[u8]) -> std::result::Result<AuditRecord, String> {
    let stored: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    decode_value(&stored)
}

fn decode_value(stored: &serde_json::Value) -> std::result::Result<AuditRecord, String> {
    let StoredRecord {
        v,
        seq,
        at,
        actor,
        event,
        inputs_digest,
        prev_hash,
        hash,
    } = StoredRecord::deserialize(stored).map_err(|e| e.to_string())?;
    let record = AuditRecord {
        v,
        seq,
        at,
        actor,
        event,
        inputs_digest,
        prev_hash,
        hash,
    };
    let decoded = serde_json::to_value(&record).map_err(|e| e.to_string())?;
    let mut path = String::new();
    if uncovered(stored, &decoded, &mut path) {
        return Err(format!(
            "`{path}` is not part of the record format (an added field would not be covered by the record's hash)"
        ));
    }
    Ok(record)
}

/// Whether `stored` holds a key or an item that `decoded` (the record as decoded
/// and written back) does not; `path` is left at the first one.
fn uncovered(stored: &serde_json::Value, decoded: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    match (stored, decoded) {
        (Value::Object(s), Value::Object(d)) => {
            for (key, value) in s {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match d.get(key) {
                    Some(known) if !uncovered(value, known, path) => path.truncate(len),
                    _ => return true,
                }
            }
            false
        }
        (Value::Array(s), Value::Array(d)) if s.len() == d.len() => {
            for (i, (value, known)) in s.iter().zip(d).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if uncovered(value, known, path) {
                    return true;
                }
                path.truncate(len);
            }
            false
        }
        (Value::Object(_) | Value::Array(_), _) => true,
        _ => false,
    }
}

/// Decodes records from a JSON array (e.g. a log exported as JSON), with the same
/// strictness as the file sink: no field outside the record format, at any depth.
///
/// # Errors
/// [`Error::InvalidJson`] when `json` is not an array;
/// [`Error::AuditIntegrity`] with [`IntegrityProblem::Unreadable`] at the index of
/// the first record that cannot be decoded.
pub fn records_from_json(json: &str) -> Result<Vec<AuditRecord>> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| Error::InvalidJson {
            what: "audit records (a JSON array of records)",
            field: None,
            message: e.to_string(),
        })?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            decode_value(v).map_err(|message| Error::AuditIntegrity {
                index: i as u64,
                problem: IntegrityProblem::Unreadable { message },
            })
        })
        .collect()
}

/// Decodes records from JSON-lines bytes (the file sink's format: a UTF-8 byte order
/// mark, blank lines and a missing final newline are accepted), e.g. a log copied
/// elsewhere to be verified without opening it for writing.
///
/// # Errors
/// [`Error::AuditIntegrity`] with [`IntegrityProblem::Unreadable`] at the index of
/// the first record that cannot be decoded, an incomplete last line included.
pub fn records_from_jsonl(bytes: &[u8]) -> Result<Vec<AuditRecord>> {
    let scan = sink::scan_bytes(bytes)?;
    if scan.torn.is_some() {
        return Err(sink::torn_error(scan.records.len()));
    }
    Ok(scan.records)
}

/// Verifies a chain from its first record and returns its anchor.
///
/// # Errors
/// [`Error::AuditIntegrity`] with the index of the first record that fails.
pub fn verify_chain(records: &[AuditRecord]) -> Result<Anchor> {
    let mut prev = Digest::ZERO;
    let mut buf = Vec::with_capacity(512);
    for (i, r) in records.iter().enumerate() {
        let index = i as u64;
        let fail = |problem| Error::AuditIntegrity { index, problem };
        if r.seq != index {
            return Err(fail(IntegrityProblem::SequenceGap {
                expected: index,
                found: r.seq,
            }));
        }
        if r.prev_hash != prev {
            return Err(fail(IntegrityProblem::BrokenLink {
                expected: prev,
                found: r.prev_hash,
            }));
        }
        if r.v != RECORD_VERSION {
            return Err(fail(IntegrityProblem::Unreadable {
                message: format!("unsupported record version {}", r.v),
            }));
        }
        let computed = r.hash_into(&mut buf)?;
        if computed != r.hash {
            return Err(fail(IntegrityProblem::HashMismatch {
                stored: r.hash,
                computed,
            }));
        }
        prev = r.hash;
    }
    Ok(Anchor {
        len: records.len() as u64,
        head: prev,
    })
}

/// Verifies a chain and checks that it ends exactly where `anchor` says.
///
/// # Errors
/// [`Error::AuditIntegrity`]: the first bad record, or
/// [`IntegrityProblem::AnchorMismatch`] at the anchor's length when records were
/// removed from or added to the end.
pub fn verify_anchored(records: &[AuditRecord], anchor: &Anchor) -> Result<()> {
    let found = verify_chain(records)?;
    if found != *anchor {
        return Err(Error::AuditIntegrity {
            index: found.len.min(anchor.len),
            problem: IntegrityProblem::AnchorMismatch {
                expected_len: anchor.len,
                expected_head: anchor.head,
                found_len: found.len,
                found_head: found.head,
            },
        });
    }
    Ok(())
}
