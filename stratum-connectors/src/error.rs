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
    #[error("invalid JSON for {what}{}: {message}", at(field.as_deref()))]
    InvalidJson {
        /// The type being parsed, e.g. `NormalizerConfig`.
        what: &'static str,
        /// JSON path of the offending value (`user.email`, `contents[2].quantity`),
        /// or `None` when the problem is the document as a whole.
        field: Option<String>,
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

fn at(field: Option<&str>) -> String {
    field.map(|f| format!(" at `{f}`")).unwrap_or_default()
}

impl Error {
    /// Every code [`Error::code`] can return, in declaration order.
    ///
    /// Bindings map each to a native error class and test that they map all of them.
    pub const CODES: &'static [&'static str] = &[
        "invalid_config",
        "invalid_json",
        "missing_required_field",
        "event_too_old",
        "event_in_future",
        "insufficient_customer_info",
        "invalid_currency",
        "invalid_value",
        "unknown_field",
        "unknown_platform",
    ];

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
            Self::InvalidJson { field, .. } => field.as_deref(),
            Self::InsufficientCustomerInfo { .. } => None,
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses a JSON document into `T`: serde reads the document (tracking the JSON
/// path), then each validated type validates (see [`stratum_core::json`]).
///
/// A validation error (e.g. a [`NormalizerConfig`] without a phone region) keeps its
/// kind and field.
///
/// [`NormalizerConfig`]: crate::NormalizerConfig
///
/// # Errors
///
/// [`Error::InvalidConfig`] for a document that parses but fails validation,
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
        f.validation::<Error>()
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
            Error::config(f(), m()),
            Error::InvalidJson {
                what: "X",
                field: None,
                message: m(),
            },
            Error::MissingRequiredField {
                platform: "meta",
                field: f(),
                message: m(),
            },
            Error::EventTooOld {
                platform: "meta",
                event_time: "t".into(),
                age_hours: 200,
                max_days: 7,
            },
            Error::EventInFuture {
                platform: "meta",
                event_time: "t".into(),
                ahead_seconds: 100,
            },
            Error::InsufficientCustomerInfo {
                platform: "meta",
                present: String::new(),
                message: m(),
            },
            Error::InvalidCurrency {
                value: "ZZZ".into(),
            },
            Error::InvalidValue {
                field: f(),
                value: "-1".into(),
                message: m(),
            },
            Error::UnknownField {
                name: m(),
                expected: m(),
            },
            Error::UnknownPlatform {
                name: m(),
                message: m(),
            },
        ];
        for e in &all {
            match e {
                Error::InvalidConfig { .. }
                | Error::InvalidJson { .. }
                | Error::MissingRequiredField { .. }
                | Error::EventTooOld { .. }
                | Error::EventInFuture { .. }
                | Error::InsufficientCustomerInfo { .. }
                | Error::InvalidCurrency { .. }
                | Error::InvalidValue { .. }
                | Error::UnknownField { .. }
                | Error::UnknownPlatform { .. } => {}
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
