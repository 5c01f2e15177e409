//! One error type for every route, answered in one JSON shape:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}` with the crates'
//! stable codes. A server-side failure answers `500` with code `internal` and a
//! generic message; its detail goes to the log only.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::{HeaderValue, WWW_AUTHENTICATE};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use stratum_bindings::ErrorReport;

/// An error answered to the client.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    report: ErrorReport,
    retry_after: Option<i64>,
    /// More members of the error object (`pipeline_lag_events`).
    details: serde_json::Map<String, serde_json::Value>,
}

impl AppError {
    /// An error with `status` and a report.
    #[must_use]
    pub fn new(
        status: StatusCode,
        code: &str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            report: ErrorReport::new(code, field, message),
            retry_after: None,
            details: serde_json::Map::new(),
        }
    }

    /// The same error with a `Retry-After` header (seconds).
    #[must_use]
    pub fn with_retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The same error with one more member of its error object (next to `code`,
    /// `message` and `field`).
    #[must_use]
    pub fn with_detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// `400`: client input the crates rejected, with their code and field.
    #[must_use]
    pub fn bad_request(report: ErrorReport) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            report,
            retry_after: None,
            details: serde_json::Map::new(),
        }
    }

    /// `401`: no credentials, or credentials that do not open this route.
    #[must_use]
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", None, message)
    }

    /// `404`: no such object for this tenant (another tenant's objects included).
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", None, message)
    }

    /// `503`: the service cannot take the request now (shutting down, database
    /// unreachable).
    #[must_use]
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            None,
            message,
        )
    }

    /// `500`: a server-side failure. `detail` is logged, never returned.
    #[must_use]
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(detail = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            stratum_bindings::INTERNAL,
            None,
            "the server failed to handle the request; it has been logged",
        )
    }

    /// `400`: text holding U+0000, which the server never stores (PostgreSQL
    /// cannot), refused the same way on every database.
    #[must_use]
    pub fn nul_refused(field: Option<&str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            field,
            "text must not contain the NUL character (U+0000)",
        )
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The report (code, field, message).
    #[must_use]
    pub fn report(&self) -> &ErrorReport {
        &self.report
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                Self::unavailable("the database is not available; retry later")
            }
            // A NUL the checks at the edge did not catch (a path segment, say):
            // PostgreSQL refuses it as "invalid byte sequence".
            sqlx::Error::Database(d) if d.code().as_deref() == Some(PG_BAD_CHARACTER) => {
                Self::nul_refused(None)
            }
            e => Self::internal(&e),
        }
    }
}

/// PostgreSQL's SQLSTATE for a character the database encoding cannot hold
/// (`character_not_in_repertoire`), which is how it refuses U+0000 in text.
const PG_BAD_CHARACTER: &str = "22021";

/// Whether a JSON text holds a string with U+0000 (the escape `\u0000`; raw
/// control characters are not valid JSON). A backslash that is itself escaped
/// (`\\u0000`) does not count.
#[must_use]
pub(crate) fn escapes_nul(json: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"\\u0000";
    let mut from = 0;
    while let Some(at) = json[from..]
        .windows(ESCAPE.len())
        .position(|w| w == ESCAPE)
        .map(|i| from + i)
    {
        let backslashes = json[..=at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 1 {
            return true;
        }
        from = at + 1;
    }
    false
}

impl From<stratum_cdp::Error> for AppError {
    fn from(e: stratum_cdp::Error) -> Self {
        Self::bad_request(e.into())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.report.code,
            self.report.message
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "code": self.report.code,
            "message": self.report.message,
        });
        if let Some(field) = &self.report.field {
            error["field"] = json!(field);
        }
        for (name, value) in self.details {
            error[name] = value;
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"stratum\""),
            );
        }
        response
    }
}

/// The result of a handler.
pub type AppResult<T> = Result<T, AppError>;
