//! The one error type of `stratum-connectors`.
//!
//! Invalid *customer data* is not an error: the field is dropped with a
//! [`FieldWarning`](crate::FieldWarning) and the event is still sent (PLATFORMS.md D2).
//! Errors are for invalid configuration and malformed documents. Each has a stable
//! machine-readable [`Error::code`].

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `stratum-connectors`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connector configuration value is missing, out of range or inconsistent.
    #[error("invalid config: `{field}` {message}")]
    InvalidConfig {
        /// Dotted path of the offending field, e.g. `phone_region`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A JSON document could not be parsed into the expected type.
    #[error("invalid JSON for {what}: {message}")]
    InvalidJson {
        /// The type being parsed, e.g. `NormalizerConfig`.
        what: &'static str,
        /// The parser's message, with line and column.
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
            Self::InvalidConfig { .. } => "invalid_config",
            Self::InvalidJson { .. } => "invalid_json",
        }
    }

    /// The offending field's dotted path, where the error is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidConfig { field, .. } => Some(field),
            Self::InvalidJson { .. } => None,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses a JSON document into `T`.
///
/// Validation errors raised while deserialising (e.g. a [`NormalizerConfig`] without
/// a phone region) keep their kind and field: serde turns them into text, and they
/// are recovered here.
///
/// [`NormalizerConfig`]: crate::NormalizerConfig
///
/// # Errors
///
/// [`Error::InvalidConfig`] for a document that parses but fails validation,
/// [`Error::InvalidJson`] for anything else.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        recover_config_error(&message).unwrap_or_else(|| {
            let full = std::any::type_name::<T>();
            Error::InvalidJson {
                what: full.rsplit("::").next().unwrap_or(full),
                message,
            }
        })
    })
}

/// Recovers an [`Error::InvalidConfig`] from its rendered text
/// ("invalid config: `<field>` <message>[ at line L column C]").
fn recover_config_error(message: &str) -> Option<Error> {
    let rest = message.strip_prefix("invalid config: `")?;
    let (field, tail) = rest.split_once("` ")?;
    let tail = match tail.rfind(" at line ") {
        Some(pos) => &tail[..pos],
        None => tail,
    };
    Some(Error::config(field, tail))
}
