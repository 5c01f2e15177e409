//! Segment-spec messages: one document as received, parsed and validated with
//! clock-skew correction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stratum_cdp::message::{self as cdp, Message, ParseConfig};

use crate::ErrorReport;

/// Parse one message document as it was received.
///
/// JSON: `{"body": "{\"type\": \"track\", ...}", "received_at": "...", "config":
/// {"max_message_bytes": 32768}}`. The body is the text as received (size limits
/// count its bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message document, as received.
    pub body: String,
    /// When the server received it (the reference for clock-skew correction).
    pub received_at: DateTime<Utc>,
    /// Parser limits (the defaults when absent).
    #[serde(default)]
    pub config: ParseConfig,
}

/// The parsed message, its `timestamp` corrected for client clock skew.
///
/// # Errors
/// `invalid_json`, `invalid_message`, `missing_identity`, `invalid_timestamp` or
/// `too_large`, with the offending field.
pub fn parse_message(request: &MessageRequest) -> Result<Message, ErrorReport> {
    Ok(cdp::parse_message(
        request.body.as_bytes(),
        request.received_at,
        &request.config,
    )?)
}
