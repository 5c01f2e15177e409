//! The one error type of `stratum-cdp`.
//!
//! Every fallible public function returns [`Result`]. Each [`Error`] has a stable
//! machine-readable [`Error::code`] that the bindings expose unchanged, and a message
//! that names the offending field, the value and what is allowed.

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `stratum-cdp`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not JSON, or not a JSON object where one is required, or a
    /// document does not have the shape of the expected type.
    #[error("invalid JSON for {what}{}: {message}", at(field.as_deref()))]
    InvalidJson {
        /// What was being parsed: `message`, `batch`, or a type such as
        /// `IdentityConfig`.
        what: &'static str,
        /// Where the problem is: the JSON path of the offending value (`rules[2].limit`);
        /// for messages `$` for the whole document and `batch[3]` for an element;
        /// `None` for a whole document of another type.
        field: Option<String>,
        /// The parser's message, with line and column where known.
        message: String,
    },
    /// A field has the wrong type or an invalid value (an unknown message `type`, a
    /// number where a string is required, an empty `messageId`).
    #[error("invalid message: `{field}` {message}")]
    InvalidMessage {
        /// The offending field, in the Segment spelling, e.g. `userId` or `context.consent`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A message has neither `userId` nor `anonymousId` (the Segment spec requires one).
    #[error(
        "missing identity at `{field}`: a `{kind}` message needs a non-empty `userId` or `anonymousId`"
    )]
    MissingIdentity {
        /// `userId`, prefixed with the element's position inside a batch
        /// (`batch[3].userId`).
        field: String,
        /// The message type, e.g. `track`.
        kind: String,
    },
    /// A timestamp cannot be parsed or is absurd (before 2000 or too far in the future).
    #[error("invalid timestamp: `{field}` = {value:?}: {message}")]
    InvalidTimestamp {
        /// The offending field, e.g. `originalTimestamp`.
        field: String,
        /// The value as received (JSON text for non-strings).
        value: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A message or a batch is larger than the configured limit.
    #[error("too large: `{field}` is {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        /// `$` for a single message or a whole batch, `batch[3]` for one element.
        field: String,
        /// Size found, in bytes.
        size: usize,
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// A body's `Content-Encoding` is not supported, or the body is not valid data
    /// of that encoding (a corrupt or truncated gzip stream).
    #[error("invalid encoding at `{field}`: {message}")]
    InvalidEncoding {
        /// `Content-Encoding` for an unsupported encoding, `$` for a corrupt body.
        field: String,
        /// What is wrong and what is supported.
        message: String,
    },
    /// A configuration value is out of range or inconsistent with another one.
    #[error("invalid config: `{field}` {message}")]
    InvalidConfig {
        /// Dotted path of the offending field, e.g. `identity.rules[2].limit`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A computed-trait definition is invalid (an empty name or property path, a
    /// window out of range, a duplicate name).
    #[error("invalid computed-trait definition: `{field}` {message}")]
    InvalidDefinition {
        /// The offending field, e.g. `window_seconds` or `filters[1].property`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An identifier, link or profile named in a request is not known.
    #[error("not found: {what} {id:?}")]
    NotFound {
        /// What was looked up: `profile`, `identifier` or `link`.
        what: &'static str,
        /// The id or value that was not found.
        id: String,
    },
    /// A bulk link table is larger than the resolver can index (more than
    /// `u32::MAX - 1` distinct identifiers or 4 GiB of identifier text).
    #[error("capacity exceeded: {message}")]
    Capacity {
        /// Which limit was reached.
        message: String,
    },
    /// Segment text does not parse: where, and what the parser expected there.
    #[error(
        "segment syntax error at line {line}, column {column}: expected {expected}, found {found}"
    )]
    SegmentSyntax {
        /// `line:column` of the offending token (as [`Error::field`]).
        field: String,
        /// 1-based line of the offending token.
        line: u32,
        /// 1-based column (in characters) of the offending token.
        column: u32,
        /// What the parser expected there.
        expected: String,
        /// What it found (the token text, or `end of input`).
        found: String,
    },
    /// A segment names a trait, event, property, computed trait or audience that the
    /// schema or the audience set does not declare.
    #[error("unknown {kind} {name:?} at `{field}`{}", suggest(suggestion.as_deref()))]
    UnknownName {
        /// Where in the segment (JSON path of the condition, e.g. `and[1].trait.name`).
        field: String,
        /// `trait`, `event`, `property`, `computed trait`, `audience` or `column`.
        kind: &'static str,
        /// The unknown name.
        name: String,
        /// The closest declared name, when one is close.
        suggestion: Option<String>,
    },
    /// An operator and a value (or a declared type) do not fit together
    /// (`plan > "pro"`, `age starts_with 3`, a number compared with a string trait).
    #[error("type mismatch at `{field}`: {message}")]
    TypeMismatch {
        /// Where in the segment.
        field: String,
        /// What does not fit, and what would.
        message: String,
    },
    /// Audiences reference each other in a cycle.
    #[error("audience cycle: {}; an audience cannot depend on itself", cycle.join(" -> "))]
    SegmentCycle {
        /// The audience keys around the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A segment exceeds a limit: nesting depth, text or literal size, a window of
    /// zero or more than ten years, an absurd count.
    #[error("segment limit at `{field}`: {message}")]
    SegmentLimit {
        /// Where in the segment (or `text` for the whole text).
        field: String,
        /// Which limit, and the allowed range.
        message: String,
    },
}

fn suggest(s: Option<&str>) -> String {
    s.map(|s| format!("; did you mean {s:?}?"))
        .unwrap_or_default()
}

fn at(field: Option<&str>) -> String {
    field.map(|f| format!(" at `{f}`")).unwrap_or_default()
}

impl Error {
    /// Every code [`Error::code`] can return, in declaration order.
    ///
    /// Bindings map each to a native error class and test that they map all of them.
    pub const CODES: &'static [&'static str] = &[
        "invalid_json",
        "invalid_message",
        "missing_identity",
        "invalid_timestamp",
        "too_large",
        "invalid_encoding",
        "invalid_config",
        "invalid_definition",
        "not_found",
        "capacity_exceeded",
        "segment_syntax",
        "unknown_name",
        "type_mismatch",
        "segment_cycle",
        "segment_limit",
    ];

    /// The stable, machine-readable code of this error's kind.
    ///
    /// Codes never change once released; bindings expose them as `.code`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidMessage { .. } => "invalid_message",
            Self::MissingIdentity { .. } => "missing_identity",
            Self::InvalidTimestamp { .. } => "invalid_timestamp",
            Self::TooLarge { .. } => "too_large",
            Self::InvalidEncoding { .. } => "invalid_encoding",
            Self::InvalidConfig { .. } => "invalid_config",
            Self::InvalidDefinition { .. } => "invalid_definition",
            Self::NotFound { .. } => "not_found",
            Self::Capacity { .. } => "capacity_exceeded",
            Self::SegmentSyntax { .. } => "segment_syntax",
            Self::UnknownName { .. } => "unknown_name",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::SegmentCycle { .. } => "segment_cycle",
            Self::SegmentLimit { .. } => "segment_limit",
        }
    }

    /// The offending field's path, where the error is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidJson { field, .. } => field.as_deref(),
            Self::InvalidMessage { field, .. }
            | Self::InvalidTimestamp { field, .. }
            | Self::TooLarge { field, .. }
            | Self::InvalidEncoding { field, .. }
            | Self::InvalidConfig { field, .. }
            | Self::InvalidDefinition { field, .. }
            | Self::MissingIdentity { field, .. }
            | Self::UnknownName { field, .. }
            | Self::SegmentSyntax { field, .. }
            | Self::TypeMismatch { field, .. }
            | Self::SegmentLimit { field, .. } => Some(field),
            Self::NotFound { .. } | Self::Capacity { .. } | Self::SegmentCycle { .. } => None,
        }
    }

    pub(crate) fn message(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidMessage {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path with `prefix` (used for batch elements and for values
    /// validated inside a larger document).
    pub(crate) fn within(self, prefix: &str) -> Self {
        let join = |f: String| {
            if f == "$" {
                prefix.to_owned()
            } else {
                format!("{prefix}.{f}")
            }
        };
        match self {
            Self::InvalidJson {
                what,
                field,
                message,
            } => Self::InvalidJson {
                what,
                field: Some(join(field.unwrap_or_else(|| "$".to_owned()))),
                message,
            },
            Self::InvalidMessage { field, message } => Self::InvalidMessage {
                field: join(field),
                message,
            },
            Self::InvalidTimestamp {
                field,
                value,
                message,
            } => Self::InvalidTimestamp {
                field: join(field),
                value,
                message,
            },
            Self::TooLarge { field, size, limit } => Self::TooLarge {
                field: join(field),
                size,
                limit,
            },
            Self::MissingIdentity { field, kind } => Self::MissingIdentity {
                field: join(field),
                kind,
            },
            Self::InvalidConfig { field, message } => Self::InvalidConfig {
                field: join(field),
                message,
            },
            Self::InvalidDefinition { field, message } => Self::InvalidDefinition {
                field: join(field),
                message,
            },
            Self::UnknownName {
                field,
                kind,
                name,
                suggestion,
            } => Self::UnknownName {
                field: join(field.trim_start_matches("$.").to_owned()),
                kind,
                name,
                suggestion,
            },
            Self::TypeMismatch { field, message } => Self::TypeMismatch {
                field: join(field.trim_start_matches("$.").to_owned()),
                message,
            },
            Self::SegmentLimit { field, message } => Self::SegmentLimit {
                field: join(field.trim_start_matches("$.").to_owned()),
                message,
            },
            other => other,
        }
    }
}

/// Parses a JSON document into `T`: serde reads the document (tracking the JSON
/// path), then each validated type validates (see [`stratum_core::json`]).
///
/// ```
/// use stratum_cdp::identity::IdentityConfig;
/// let e = stratum_cdp::from_json::<IdentityConfig>(r#"{"rules": 5}"#).unwrap_err();
/// assert_eq!((e.code(), e.field()), ("invalid_json", Some("rules")));
/// ```
///
/// # Errors
/// The validation's own kind and field ([`Error::InvalidConfig`],
/// [`Error::InvalidDefinition`]) for a document that parses but fails validation;
/// [`Error::InvalidJson`] with the JSON path of the offending value for a document of
/// the wrong shape.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    from_json_slice(text.as_bytes())
}

/// Like [`from_json`], from bytes.
///
/// # Errors
/// As [`from_json`].
pub fn from_json_slice<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    stratum_core::json::parse(json).map_err(|f| {
        let path = f.path.clone();
        f.validation::<Error>()
            // A validated value inside a document (a definition in a list): its
            // fields are named from where it sits.
            .map(|e| match &path {
                Some(p) => e.within(p),
                None => e,
            })
            .unwrap_or_else(|f| Error::InvalidJson {
                what: stratum_core::json::type_name::<T>(),
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
            Error::InvalidJson {
                what: "X",
                field: None,
                message: m(),
            },
            Error::message(f(), m()),
            Error::MissingIdentity {
                field: f(),
                kind: "track".into(),
            },
            Error::InvalidTimestamp {
                field: f(),
                value: "v".into(),
                message: m(),
            },
            Error::TooLarge {
                field: f(),
                size: 2,
                limit: 1,
            },
            Error::InvalidEncoding {
                field: f(),
                message: m(),
            },
            Error::config(f(), m()),
            Error::InvalidDefinition {
                field: f(),
                message: m(),
            },
            Error::NotFound {
                what: "profile",
                id: "p".into(),
            },
            Error::Capacity { message: m() },
            Error::SegmentSyntax {
                field: "1:1".into(),
                line: 1,
                column: 1,
                expected: m(),
                found: m(),
            },
            Error::UnknownName {
                field: f(),
                kind: "trait",
                name: "n".into(),
                suggestion: None,
            },
            Error::TypeMismatch {
                field: f(),
                message: m(),
            },
            Error::SegmentCycle {
                cycle: vec!["a".into(), "a".into()],
            },
            Error::SegmentLimit {
                field: f(),
                message: m(),
            },
        ];
        for e in &all {
            match e {
                Error::InvalidJson { .. }
                | Error::InvalidMessage { .. }
                | Error::MissingIdentity { .. }
                | Error::InvalidTimestamp { .. }
                | Error::TooLarge { .. }
                | Error::InvalidEncoding { .. }
                | Error::InvalidConfig { .. }
                | Error::InvalidDefinition { .. }
                | Error::NotFound { .. }
                | Error::Capacity { .. }
                | Error::SegmentSyntax { .. }
                | Error::UnknownName { .. }
                | Error::TypeMismatch { .. }
                | Error::SegmentCycle { .. }
                | Error::SegmentLimit { .. } => {}
            }
        }
        all
    }

    #[test]
    fn codes_lists_every_code_once() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }

    #[test]
    fn a_batch_element_prefixes_the_path_of_invalid_json() {
        let e = Error::InvalidJson {
            what: "message",
            field: Some("$".into()),
            message: "m".into(),
        };
        assert_eq!(e.within("batch[3]").field(), Some("batch[3]"));
        let e = Error::InvalidJson {
            what: "message",
            field: Some("context".into()),
            message: "m".into(),
        };
        assert_eq!(e.within("batch[3]").field(), Some("batch[3].context"));
    }
}
