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
    /// The input is not JSON, or not a JSON object where one is required.
    #[error("invalid JSON at `{field}`: {message}")]
    InvalidJson {
        /// Where the problem is: `$` for the whole document, `batch[3]` for an element.
        field: String,
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
}

impl Error {
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
        }
    }

    /// The offending field's path, where the error is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidJson { field, .. }
            | Self::InvalidMessage { field, .. }
            | Self::InvalidTimestamp { field, .. }
            | Self::TooLarge { field, .. }
            | Self::InvalidEncoding { field, .. }
            | Self::InvalidConfig { field, .. }
            | Self::InvalidDefinition { field, .. }
            | Self::MissingIdentity { field, .. } => Some(field),
            Self::NotFound { .. } | Self::Capacity { .. } => None,
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

    /// Prefixes the field path with `prefix` (used for batch elements).
    pub(crate) fn within(self, prefix: &str) -> Self {
        let join = |f: String| {
            if f == "$" {
                prefix.to_owned()
            } else {
                format!("{prefix}.{f}")
            }
        };
        match self {
            Self::InvalidJson { field, message } => Self::InvalidJson {
                field: join(field),
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
            other => other,
        }
    }
}
