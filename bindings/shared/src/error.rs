//! One error report for every crate's errors.

use serde::{Deserialize, Serialize};

/// The code of a failure that is a bug (a panic caught at the boundary, a value
/// that cannot be serialised); not a code of any crate.
pub const INTERNAL: &str = "internal";

/// An error as every host sees it: the stable code, the offending field where the
/// error is about one field, and the message.
///
/// ```
/// use stratum_bindings::ErrorReport;
/// let e = stratum_core::from_json::<stratum_core::health::HealthConfig>(
///     r#"{"thresholds": {"healthy": 10, "degraded": 50}}"#,
/// )
/// .err()
/// .map(ErrorReport::from);
/// let e = e.as_ref();
/// assert_eq!(e.map(|e| e.code.as_str()), Some("invalid_config"));
/// assert_eq!(e.and_then(|e| e.field.as_deref()), Some("health.thresholds.degraded"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// The stable snake_case code (one of [`codes`]).
    pub code: String,
    /// The offending field's path, when the error is about one field.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ErrorReport {
    /// A report from its parts.
    #[must_use]
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// An `invalid_config` report about `field`.
    #[must_use]
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        Self::new("invalid_config", Some(field), message)
    }

    /// An [`INTERNAL`] report.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL, None, message)
    }

    /// The 1-based `(line, column)` of a `segment_syntax` report, read from its
    /// field `line:column`; `None` for any other report.
    ///
    /// ```
    /// use stratum_bindings::ErrorReport;
    /// let e = stratum_cdp::segment::Segment::parse("plan = \"pro\" and\n  performed 12")
    ///     .err()
    ///     .map(ErrorReport::from);
    /// assert_eq!(e.and_then(|e| e.position()), Some((2, 13)));
    /// assert_eq!(ErrorReport::config("x", "m").position(), None);
    /// ```
    #[must_use]
    pub fn position(&self) -> Option<(u32, u32)> {
        if self.code != "segment_syntax" {
            return None;
        }
        let (line, column) = self.field.as_deref()?.split_once(':')?;
        Some((line.parse().ok()?, column.parse().ok()?))
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorReport {}

impl From<stratum_core::Error> for ErrorReport {
    fn from(e: stratum_core::Error) -> Self {
        Self::new(e.code(), e.field(), e.to_string())
    }
}

impl From<stratum_cdp::Error> for ErrorReport {
    fn from(e: stratum_cdp::Error) -> Self {
        Self::new(e.code(), e.field(), e.to_string())
    }
}

impl From<stratum_connectors::Error> for ErrorReport {
    fn from(e: stratum_connectors::Error) -> Self {
        Self::new(e.code(), e.field(), e.to_string())
    }
}

/// Every code an [`ErrorReport`] can carry: the codes of `stratum-core`,
/// `stratum-cdp` and `stratum-connectors` (each crate's `Error::CODES`), then
/// [`INTERNAL`], each once, in that order.
///
/// A binding maps each to a native error class and tests that it maps all of them,
/// so a code added to a crate cannot silently fall back to the base class.
#[must_use]
pub fn codes() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for code in stratum_core::Error::CODES
        .iter()
        .chain(stratum_cdp::Error::CODES)
        .chain(stratum_connectors::Error::CODES)
        .chain(std::iter::once(&INTERNAL))
    {
        if !out.contains(code) {
            out.push(code);
        }
    }
    out
}

/// Reads a request (or any type of the crates) from JSON text: serde with the JSON
/// path of every value, then each validated type's validation, as in the crates'
/// own `from_json`.
///
/// ```
/// use stratum_bindings::{emq::EmqReportRequest, from_json};
/// let e = from_json::<EmqReportRequest>(
///     r#"{"platform": "meta", "events": [], "options": {"roas": {"attributed_revenue": "100", "spend": "-1"}}}"#,
/// )
/// .err();
/// assert_eq!(e.as_ref().map(|e| e.code.as_str()), Some("invalid_config"));
/// assert_eq!(e.and_then(|e| e.field), Some("roas.spend".to_owned()));
/// let e = from_json::<EmqReportRequest>(r#"{"platform": "meta", "events": 3}"#).err();
/// assert_eq!(e.and_then(|e| e.field), Some("events".to_owned()));
/// ```
///
/// # Errors
/// `invalid_json` with `field` the JSON path of the offending value for a document of
/// the wrong shape; a validated type's own code and field when it fails validation.
pub fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ErrorReport> {
    stratum_core::json::parse(json.as_bytes()).map_err(|f| {
        f.validation::<stratum_core::Error>()
            .map(ErrorReport::from)
            .or_else(|f| f.validation::<stratum_cdp::Error>().map(ErrorReport::from))
            .or_else(|f| {
                f.validation::<stratum_connectors::Error>()
                    .map(ErrorReport::from)
            })
            .unwrap_or_else(|f| ErrorReport {
                code: "invalid_json".to_owned(),
                field: f.path,
                message: format!(
                    "invalid JSON for {}: {}",
                    stratum_core::json::type_name::<T>(),
                    f.message
                ),
            })
    })
}
