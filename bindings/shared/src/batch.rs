//! Segment batch documents (`{"batch": [...]}`) as received over HTTP: every
//! message parsed, the invalid ones reported as rows instead of failing the batch.

use chrono::{DateTime, Utc};
use serde::Serialize;
use stratum_cdp::http;
use stratum_cdp::message::{Message, ParseConfig, ReceivedAt};

use crate::ErrorReport;

/// One message of a batch that could not be used: `{"index", "code", "field",
/// "message"}`, `index` its position in the batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchError {
    /// The message's position in the batch.
    pub index: usize,
    /// The stable error code (`missing_identity`, `invalid_message`, ...).
    pub code: String,
    /// The offending field, when the error is about one field.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A parsed batch: `{"messages": [...], "errors": [...]}`, the valid messages in
/// batch order and one row per invalid one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParsedBatch {
    /// The valid messages, their timestamps corrected for clock skew.
    pub messages: Vec<Message>,
    /// One row per message that failed.
    pub errors: Vec<BatchError>,
}

/// Parses a batch body as received (`content_encoding`: `gzip`, `deflate`,
/// `identity` or none) at `received_at`.
///
/// ```
/// use stratum_bindings::batch::parse_batch;
/// let body = br#"{"batch": [
///     {"type": "track", "messageId": "m-1", "userId": "u-1", "event": "A"},
///     {"type": "track", "messageId": "m-2", "event": "B"}]}"#;
/// let at = "2026-03-01T12:00:00Z".parse()?;
/// let out = parse_batch(body, None, at, &Default::default()).map_err(|e| e.message)?;
/// assert_eq!(out.messages.len(), 1);
/// assert_eq!(out.errors[0].index, 1);
/// assert_eq!(out.errors[0].code, "missing_identity");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An error about the whole body (`invalid_json`, `invalid_encoding`,
/// `too_large`, ...): a batch that is not a batch at all.
pub fn parse_batch(
    body: &[u8],
    content_encoding: Option<&str>,
    received_at: DateTime<Utc>,
    config: &ParseConfig,
) -> Result<ParsedBatch, ErrorReport> {
    let parsed = http::parse_batch_body(
        body,
        content_encoding,
        ReceivedAt::Replay(received_at),
        config,
    )?;
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    for (index, result) in parsed.results.into_iter().enumerate() {
        match result {
            Ok(m) => messages.push(m),
            Err(e) => {
                let r = ErrorReport::from(e);
                errors.push(BatchError {
                    index,
                    code: r.code,
                    field: r.field,
                    message: r.message,
                });
            }
        }
    }
    Ok(ParsedBatch { messages, errors })
}
