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
    /// A field a platform requires is absent or empty.
    #[error("{platform}: missing required field `{field}`: {message}")]
    MissingRequiredField {
        /// The platform whose rule failed (`meta`, `google`, `tiktok`, `snapchat`).
        platform: &'static str,
        /// The neutral field name, e.g. `event_source_url`.
        field: String,
        /// Why it is required.
        message: String,
    },
    /// The event is older than the platform accepts.
    #[error(
        "{platform}: `event_time` {event_time} is {age_hours} h old; at most {max_days} days are accepted"
    )]
    EventTooOld {
        /// The platform whose window was exceeded.
        platform: &'static str,
        /// The event time (RFC 3339).
        event_time: String,
        /// Age of the event in whole hours.
        age_hours: i64,
        /// The platform's limit in days.
        max_days: i64,
    },
    /// The event lies more than 60 s in the future (D19).
    #[error(
        "{platform}: `event_time` {event_time} is {ahead_seconds} s in the future; at most 60 s are tolerated"
    )]
    EventInFuture {
        /// The platform the event was built for.
        platform: &'static str,
        /// The event time (RFC 3339).
        event_time: String,
        /// How far ahead of `now` the event is, in seconds.
        ahead_seconds: i64,
    },
    /// After normalisation the event has too little customer information to match.
    #[error("{platform}: insufficient customer information: keys present [{present}]; {message}")]
    InsufficientCustomerInfo {
        /// The platform whose rule failed.
        platform: &'static str,
        /// The neutral names of the fields left after normalisation, comma-separated.
        present: String,
        /// What at least must be sent.
        message: String,
    },
    /// A currency that is not an active ISO 4217 code.
    #[error(
        "invalid currency: `currency` is {value:?}; an active ISO 4217 code such as \"USD\" is required"
    )]
    InvalidCurrency {
        /// The value given.
        value: String,
    },
    /// A customer-information field name that is neither one of ours nor a
    /// platform's own key for one (see `Field`'s `FromStr`).
    #[error(
        "unknown field {name:?}; expected one of {expected}, or a platform's own key such as `em` or `hashedEmail`"
    )]
    UnknownField {
        /// The name given.
        name: String,
        /// Our field names, comma-separated.
        expected: String,
    },
    /// A platform name that is not known, or whose cargo feature is not enabled.
    #[error("unknown platform {name:?}; {message}")]
    UnknownPlatform {
        /// The name given.
        name: String,
        /// What is accepted in this build.
        message: String,
    },
    /// A monetary value or quantity outside its allowed range.
    #[error("invalid value: `{field}` is {value}; {message}")]
    InvalidValue {
        /// Dotted path of the field, e.g. `value` or `contents[2].quantity`.
        field: String,
        /// The value given.
        value: String,
        /// What is allowed.
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
            Self::MissingRequiredField { .. } => "missing_required_field",
            Self::EventTooOld { .. } => "event_too_old",
            Self::EventInFuture { .. } => "event_in_future",
            Self::InsufficientCustomerInfo { .. } => "insufficient_customer_info",
            Self::InvalidCurrency { .. } => "invalid_currency",
            Self::InvalidValue { .. } => "invalid_value",
            Self::UnknownField { .. } => "unknown_field",
            Self::UnknownPlatform { .. } => "unknown_platform",
        }
    }

    /// The offending field's dotted path, where the error is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidConfig { field, .. }
            | Self::MissingRequiredField { field, .. }
            | Self::InvalidValue { field, .. } => Some(field),
            Self::EventTooOld { .. } | Self::EventInFuture { .. } => Some("event_time"),
            Self::InvalidCurrency { .. } => Some("currency"),
            Self::UnknownField { .. } => Some("field"),
            Self::UnknownPlatform { .. } => Some("platform"),
            Self::InvalidJson { .. } | Self::InsufficientCustomerInfo { .. } => None,
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
