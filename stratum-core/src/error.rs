//! The one error type of `stratum-core`.
//!
//! Every fallible public function returns [`Result`]. Each [`Error`] has a stable
//! machine-readable [`Error::code`] that the bindings expose unchanged, and a message
//! that names the offending field, the value and what is allowed.

use std::path::PathBuf;

use crate::digest::Digest;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `stratum-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range or inconsistent with another one.
    #[error("invalid config: `{field}` {message}")]
    InvalidConfig {
        /// Dotted path of the offending field, e.g. `health.weights.emq`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A signal observation is malformed (a share above 1, a NaN, counts that
    /// contradict each other).
    #[error("invalid observation: `{field}` {message}")]
    InvalidObservation {
        /// Dotted path of the offending field, e.g. `api.succeeded`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A proposed action is malformed (negative budget, empty target id, a health
    /// report for another scope).
    #[error("invalid action: `{field}` {message}")]
    InvalidAction {
        /// Dotted path of the offending field, e.g. `kind.to`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An override request was refused (role not allowed, no reason, bad expiry).
    #[error("override refused: `{field}` {message}")]
    OverrideRefused {
        /// The field that caused the refusal, e.g. `granted_by.role`.
        field: String,
        /// Why the override was refused.
        message: String,
    },
    /// The audit chain does not verify: a record was edited, removed, inserted or
    /// reordered, or cannot be read.
    #[error("audit log integrity failure at record index {index}: {problem}")]
    AuditIntegrity {
        /// Zero-based position of the first bad record in the log.
        index: u64,
        /// What exactly is wrong with it.
        problem: IntegrityProblem,
    },
    /// Reading or writing the audit log failed at the operating-system level.
    #[error("audit log I/O error on {path}: {source}")]
    AuditIo {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another writer holds the audit log file's lock: one writer per log.
    #[error(
        "audit log {path} is locked by another writer; only one AuditLog may append to a file at a time (close the other one, or wait for it to finish)"
    )]
    AuditLocked {
        /// The locked file.
        path: PathBuf,
    },
    /// A JSON document could not be parsed into the expected type.
    #[error("invalid JSON for {what}{}: {message}", at(field.as_deref()))]
    InvalidJson {
        /// The type being parsed, e.g. `TrustGateConfig`.
        what: &'static str,
        /// JSON path of the offending value (`hysteresis.window`, `rules[2].id`), or
        /// `None` when the problem is the document as a whole.
        field: Option<String>,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A time argument is not a usable point in time (NaN, infinite, out of range,
    /// a boolean, a naive or date-only value, unparseable text).
    #[error("invalid time: `{field}` {message}")]
    InvalidTime {
        /// The time argument, e.g. `now`.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A precomputed health report cannot be judged at this time: it was scored
    /// after `now`, or it (or one of its observations) is older than the gate's
    /// `max_signal_age`. Score fresh signals instead.
    #[error("stale health: `{field}` {message}")]
    StaleHealth {
        /// The report field, e.g. `health.computed_at`.
        field: String,
        /// How old (or how far ahead) it is and what is allowed.
        message: String,
    },
    /// A precomputed health report was scored under another health configuration
    /// than the gate's own (its `config_hash` differs).
    #[error("health config mismatch: `{field}` {message}")]
    HealthConfigMismatch {
        /// Always `health.config_hash`.
        field: String,
        /// The two hashes.
        message: String,
    },
    /// The actor may not do this: automation changing the gate's configuration, or
    /// a person whose role is not permitted.
    #[error("not permitted: `{field}` {message}")]
    NotPermitted {
        /// The field naming the actor, e.g. `by.role`.
        field: String,
        /// Who may do it instead.
        message: String,
    },
    /// A backtest input step is invalid; `step` is its zero-based position.
    #[error("backtest step {step}: {source}")]
    Backtest {
        /// Zero-based index of the offending step.
        step: u64,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
}

/// What is wrong with an audit record found by verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum IntegrityProblem {
    /// The record's stored hash does not match its contents: it was edited.
    HashMismatch {
        /// Hash stored in the record.
        stored: Digest,
        /// Hash recomputed from the record's contents.
        computed: Digest,
    },
    /// The record does not point at the record before it: a record was removed,
    /// inserted or moved.
    BrokenLink {
        /// Hash of the previous record as verified.
        expected: Digest,
        /// `prev_hash` stored in this record.
        found: Digest,
    },
    /// The sequence number is not the next one.
    SequenceGap {
        /// Sequence number expected at this position.
        expected: u64,
        /// Sequence number found.
        found: u64,
    },
    /// The record could not be decoded.
    Unreadable {
        /// Decoder message.
        message: String,
    },
    /// The log does not end where an external anchor says it should: records were
    /// removed from (or added to) the end.
    AnchorMismatch {
        /// Number of records the anchor expects.
        expected_len: u64,
        /// Head hash the anchor expects.
        expected_head: Digest,
        /// Number of records found.
        found_len: u64,
        /// Head hash found.
        found_head: Digest,
    },
}

impl std::fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HashMismatch { stored, computed } => write!(
                f,
                "stored hash {stored} does not match contents (computed {computed}); the record was modified"
            ),
            Self::BrokenLink { expected, found } => write!(
                f,
                "prev_hash {found} does not match the previous record's hash {expected}; a record was removed, inserted or reordered"
            ),
            Self::SequenceGap { expected, found } => write!(
                f,
                "sequence number {found} where {expected} was expected; a record was removed, inserted or reordered"
            ),
            Self::Unreadable { message } => write!(f, "record cannot be decoded: {message}"),
            Self::AnchorMismatch {
                expected_len,
                expected_head,
                found_len,
                found_head,
            } => write!(
                f,
                "anchor expects {expected_len} records ending in {expected_head}, found {found_len} ending in {found_head}"
            ),
        }
    }
}

/// ` at `path`` for an error about one value of a document, nothing for the whole.
pub(crate) fn at(field: Option<&str>) -> String {
    field.map(|f| format!(" at `{f}`")).unwrap_or_default()
}

impl Error {
    /// Every code [`Error::code`] can return, in declaration order.
    ///
    /// Bindings map each to a native error class and test that they map all of them.
    pub const CODES: &'static [&'static str] = &[
        "invalid_config",
        "invalid_observation",
        "invalid_action",
        "override_refused",
        "audit_integrity",
        "audit_io",
        "audit_locked",
        "invalid_json",
        "invalid_time",
        "stale_health",
        "health_config_mismatch",
        "not_permitted",
    ];

    /// The stable, machine-readable code of this error's kind.
    ///
    /// Codes never change once released; bindings expose them as `.code`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidConfig { .. } => "invalid_config",
            Self::InvalidObservation { .. } => "invalid_observation",
            Self::InvalidAction { .. } => "invalid_action",
            Self::OverrideRefused { .. } => "override_refused",
            Self::AuditIntegrity { .. } => "audit_integrity",
            Self::AuditIo { .. } => "audit_io",
            Self::AuditLocked { .. } => "audit_locked",
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidTime { .. } => "invalid_time",
            Self::StaleHealth { .. } => "stale_health",
            Self::HealthConfigMismatch { .. } => "health_config_mismatch",
            Self::NotPermitted { .. } => "not_permitted",
            Self::Backtest { source, .. } => source.code(),
        }
    }

    /// The offending field's dotted path, where the error is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidConfig { field, .. }
            | Self::InvalidObservation { field, .. }
            | Self::InvalidAction { field, .. }
            | Self::OverrideRefused { field, .. }
            | Self::InvalidTime { field, .. }
            | Self::StaleHealth { field, .. }
            | Self::HealthConfigMismatch { field, .. }
            | Self::NotPermitted { field, .. } => Some(field),
            Self::InvalidJson { field, .. } => field.as_deref(),
            Self::Backtest { source, .. } => source.field(),
            Self::AuditIntegrity { .. } | Self::AuditIo { .. } | Self::AuditLocked { .. } => None,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn observation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidObservation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn action(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidAction {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn time(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidTime {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn stale(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::StaleHealth {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_permitted(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::NotPermitted {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn refused(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::OverrideRefused {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses any public type from JSON: serde reads the document (tracking the JSON
/// path), then each validated type validates (see [`crate::json`]).
///
/// # Errors
/// [`Error::InvalidJson`] with the JSON path of the offending value when the document
/// is not valid JSON of the expected shape; [`Error::InvalidConfig`] (and the other
/// validation kinds) with the validation's own field when a value is out of range.
pub fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    from_json_slice(json.as_bytes())
}

/// Like [`from_json`], from bytes.
///
/// # Errors
/// As [`from_json`].
pub fn from_json_slice<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    crate::json::parse(json).map_err(|f| {
        f.validation::<Error>()
            .unwrap_or_else(|f| Error::InvalidJson {
                what: crate::json::type_name::<T>(),
                field: f.path,
                message: f.message,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each kind; the match below has no wildcard, so a new variant
    /// does not compile until it is added here (and its code to [`Error::CODES`]).
    fn one_of_each() -> Vec<Error> {
        let f = || "f".to_owned();
        let m = || "m".to_owned();
        let all = vec![
            Error::InvalidConfig {
                field: f(),
                message: m(),
            },
            Error::InvalidObservation {
                field: f(),
                message: m(),
            },
            Error::InvalidAction {
                field: f(),
                message: m(),
            },
            Error::OverrideRefused {
                field: f(),
                message: m(),
            },
            Error::AuditIntegrity {
                index: 0,
                problem: IntegrityProblem::Unreadable { message: m() },
            },
            Error::AuditIo {
                path: PathBuf::from("x"),
                source: std::io::Error::other("m"),
            },
            Error::AuditLocked {
                path: PathBuf::from("x"),
            },
            Error::InvalidJson {
                what: "X",
                field: None,
                message: m(),
            },
            Error::InvalidTime {
                field: f(),
                message: m(),
            },
            Error::StaleHealth {
                field: f(),
                message: m(),
            },
            Error::HealthConfigMismatch {
                field: f(),
                message: m(),
            },
            Error::NotPermitted {
                field: f(),
                message: m(),
            },
        ];
        for e in &all {
            match e {
                Error::InvalidConfig { .. }
                | Error::InvalidObservation { .. }
                | Error::InvalidAction { .. }
                | Error::OverrideRefused { .. }
                | Error::AuditIntegrity { .. }
                | Error::AuditIo { .. }
                | Error::AuditLocked { .. }
                | Error::InvalidJson { .. }
                | Error::InvalidTime { .. }
                | Error::StaleHealth { .. }
                | Error::HealthConfigMismatch { .. }
                | Error::NotPermitted { .. }
                // Backtest carries another error's code.
                | Error::Backtest { .. } => {}
            }
        }
        all
    }

    #[test]
    fn codes_lists_every_code_once() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }
}
