//! Segment-spec messages: the typed model, the JSON parser with size limits and
//! clock-skew correction, batches with per-message results, and consent.
//!
//! The wire format is Segment's (camelCase: `messageId`, `anonymousId`, `userId`,
//! `originalTimestamp`, `sentAt`, `receivedAt`, ...). The parsed [`Message`]
//! serialises with snake_case names like every other Stratum type.
//!
//! ## Timestamps
//! Segment's semantics: `originalTimestamp` is the device time of the event,
//! `sentAt` the device time of sending, `receivedAt` the server time of receipt.
//! The caller passes the receive time, and says with [`ReceivedAt`] whose it is:
//! [`ReceivedAt::Server`] for messages received live (the caller's clock is
//! authoritative and a `receivedAt` in the document is ignored, as Segment's servers
//! overwrite it), [`ReceivedAt::Replay`] for messages received earlier (an archive
//! replayed: a `receivedAt` in the document is kept). [`parse_message`] and
//! [`parse_batch`] replay; [`parse_message_at`], [`parse_batch_at`] and the
//! [`http`](crate::http) functions take the policy explicitly. Segment's libraries send the device
//! time of the event as `timestamp`: without an `originalTimestamp`, a client
//! `timestamp` *is* the `originalTimestamp` ([`Message::original_timestamp`]).
//! Then:
//!
//! * `timestamp = receivedAt − (sentAt − originalTimestamp)` when both `sentAt`
//!   (the message's or the batch's) and `originalTimestamp` are present: the
//!   client's clock skew cancels out;
//! * the client's `timestamp` as it is when there is no `sentAt` (a historical
//!   import through the HTTP API);
//! * `originalTimestamp` when `sentAt` is missing;
//! * `receivedAt` when the client sent no time at all.
//!
//! The resulting timestamp must lie between [`ParseConfig::min_timestamp`] and
//! `receivedAt +` [`ParseConfig::max_future`]; anything else is absurd and rejected.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::envelope;
use crate::error::{Error, Result};
pub use crate::json_object::JsonObject;
use fields::{Fields, optional_object, scan_error, timestamp_value};

mod fields;
mod reader;
#[cfg(test)]
mod tests;

/// The Segment message types (a `batch` is parsed by [`parse_batch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// Who the user is, with traits.
    Identify,
    /// An action the user performed (`event` names it).
    Track,
    /// A web page view.
    Page,
    /// A mobile screen view.
    Screen,
    /// Membership of a group (account, company).
    Group,
    /// Links `previousId` to `userId`.
    Alias,
}

impl MessageType {
    /// The Segment spelling, e.g. `identify`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identify => "identify",
            Self::Track => "track",
            Self::Page => "page",
            Self::Screen => "screen",
            Self::Group => "group",
            Self::Alias => "alias",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "identify" => Self::Identify,
            "track" => Self::Track,
            "page" => Self::Page,
            "screen" => Self::Screen,
            "group" => Self::Group,
            "alias" => Self::Alias,
            _ => return None,
        })
    }
}

/// Where a message's [`Message::timestamp`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampSource {
    /// The client set `timestamp` and sent no `sentAt` to correct it with: used as
    /// it is (a historical import through the HTTP API).
    Client,
    /// `receivedAt − (sentAt − originalTimestamp)`, where `originalTimestamp` is the
    /// client's `timestamp` when it sent no `originalTimestamp`.
    SkewCorrected,
    /// `originalTimestamp` as sent (no `sentAt` to correct with).
    OriginalTimestamp,
    /// `receivedAt` (the client sent no time at all).
    ReceivedAt,
}

/// The consent a message carries: per category, allowed (`true`) or denied
/// (`false`), from Segment's `context.consent.categoryPreferences`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Category name → allowed.
    pub categories: BTreeMap<String, bool>,
}

impl Consent {
    /// Whether `category` may be used: the recorded preference, or `when_unknown`
    /// when the message says nothing about it.
    #[must_use]
    pub fn allows(&self, category: &str, when_unknown: bool) -> bool {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(when_unknown)
    }
}

/// One parsed, validated Segment message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message type.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The client-generated unique id, used for de-duplication.
    pub message_id: String,
    /// The anonymous (device / cookie) id, if any.
    pub anonymous_id: Option<String>,
    /// The known user id, if any.
    pub user_id: Option<String>,
    /// When the event happened, corrected for client clock skew.
    pub timestamp: DateTime<Utc>,
    /// How [`Message::timestamp`] was obtained.
    pub timestamp_source: TimestampSource,
    /// The client's clock at the time of the event: `originalTimestamp`, or the
    /// client's `timestamp` when it sent no `originalTimestamp`.
    pub original_timestamp: Option<DateTime<Utc>>,
    /// The client's clock when the message was sent, if sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the server received the message.
    pub received_at: DateTime<Utc>,
    /// The event name (`track`).
    pub event: Option<String>,
    /// The page or screen name (`page`, `screen`).
    pub name: Option<String>,
    /// The page or screen category (`page`, `screen`), if sent.
    pub category: Option<String>,
    /// The channel the client reports (`web`, `mobile`, `server`; RudderStack and
    /// Segment's mobile libraries send it), if sent.
    pub channel: Option<String>,
    /// The group id (`group`).
    pub group_id: Option<String>,
    /// The previous id (`alias`).
    pub previous_id: Option<String>,
    /// The Segment `context` object (with the batch's `context` keys the message
    /// does not set).
    pub context: JsonObject,
    /// The Segment `integrations` object (with the batch's keys the message does
    /// not set).
    pub integrations: JsonObject,
    /// The `traits`: the person's for `identify` (and `context.traits` for types
    /// other than `group` that have no `traits` of their own); the group's (company,
    /// account) for `group`, never the member's.
    pub traits: JsonObject,
    /// The `properties` (`track`, `page`, `screen`), exactly as sent: every digit
    /// of every number is in [`JsonObject::json`].
    pub properties: JsonObject,
    /// The client library's `_metadata` object (bundled / unbundled destinations),
    /// if sent.
    pub metadata: JsonObject,
    /// Every other top-level field the client sent (e.g. `version`, `rudderId`,
    /// `request_ip`), exactly as sent.
    pub extra: JsonObject,
    /// The consent the message carries.
    pub consent: Consent,
}

/// Limits and time bounds of the parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "RawParseConfig")]
pub struct ParseConfig {
    max_message_bytes: usize,
    max_batch_bytes: usize,
    max_future: TimeDelta,
    min_timestamp: DateTime<Utc>,
}

stratum_core::validated_deserialize!(ParseConfig, RawParseConfig);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawParseConfig {
    max_message_bytes: usize,
    max_batch_bytes: usize,
    max_future_seconds: i64,
    min_timestamp: DateTime<Utc>,
}

impl Default for RawParseConfig {
    fn default() -> Self {
        ParseConfig::default().into()
    }
}

impl From<ParseConfig> for RawParseConfig {
    fn from(c: ParseConfig) -> Self {
        RawParseConfig {
            max_message_bytes: c.max_message_bytes,
            max_batch_bytes: c.max_batch_bytes,
            max_future_seconds: c.max_future.num_seconds(),
            min_timestamp: c.min_timestamp,
        }
    }
}

impl TryFrom<RawParseConfig> for ParseConfig {
    type Error = Error;
    fn try_from(r: RawParseConfig) -> Result<Self> {
        ParseConfig::default()
            .with_max_message_bytes(r.max_message_bytes)?
            .with_max_batch_bytes(r.max_batch_bytes)?
            .with_max_future(
                TimeDelta::try_seconds(r.max_future_seconds).unwrap_or(TimeDelta::MAX),
            )?
            .with_min_timestamp(r.min_timestamp)
    }
}

/// Segment's limit on one message: 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The default limit on one batch: 4 MB, the largest batch that Segment-compatible
/// clients send (RudderStack's documented limit; Segment's own is 500 KB).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// The largest configurable limit on one message or one batch: 64 MiB.
pub const MAX_CONFIGURABLE_BYTES: usize = 64 << 20;
const TEN_YEARS: TimeDelta = TimeDelta::days(3650);

impl Default for ParseConfig {
    /// 32 KB per message, 4 MB per batch, timestamps from 2000-01-01 up to one
    /// day after `receivedAt`.
    fn default() -> Self {
        ParseConfig {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_batch_bytes: MAX_BATCH_BYTES,
            max_future: TimeDelta::days(1),
            min_timestamp: Utc
                .timestamp_opt(946_684_800, 0)
                .single()
                .unwrap_or_default(),
        }
    }
}

impl ParseConfig {
    /// Largest accepted message, in bytes (default 32 KB).
    #[must_use]
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }
    /// Largest accepted batch, in bytes (default 4 MB).
    #[must_use]
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }
    /// How far after `receivedAt` a timestamp may lie (default one day).
    #[must_use]
    pub fn max_future(&self) -> TimeDelta {
        self.max_future
    }
    /// The earliest accepted timestamp (default 2000-01-01T00:00:00Z).
    #[must_use]
    pub fn min_timestamp(&self) -> DateTime<Utc> {
        self.min_timestamp
    }

    /// Sets the message size limit. It is independent of the batch limit: a batch
    /// element larger than the batch limit cannot occur, so a message limit above it
    /// only matters for [`parse_message`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `1 ≤ bytes ≤ 64 MiB`.
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes == 0 || bytes > MAX_CONFIGURABLE_BYTES {
            return Err(Error::config(
                "max_message_bytes",
                format!("must be between 1 and {MAX_CONFIGURABLE_BYTES} (64 MiB), got {bytes}"),
            ));
        }
        self.max_message_bytes = bytes;
        Ok(self)
    }

    /// Sets the batch size limit, independently of the message limit.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `1 ≤ bytes ≤ 64 MiB`.
    pub fn with_max_batch_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes == 0 || bytes > MAX_CONFIGURABLE_BYTES {
            return Err(Error::config(
                "max_batch_bytes",
                format!("must be between 1 and {MAX_CONFIGURABLE_BYTES} (64 MiB), got {bytes}"),
            ));
        }
        self.max_batch_bytes = bytes;
        Ok(self)
    }

    /// Sets how far after `receivedAt` a timestamp may lie.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless zero ≤ `d` ≤ ten years.
    pub fn with_max_future(mut self, d: TimeDelta) -> Result<Self> {
        if d < TimeDelta::zero() || d > TEN_YEARS {
            return Err(Error::config(
                "max_future_seconds",
                format!(
                    "must be between 0 and {} seconds (ten years), got {}",
                    TEN_YEARS.num_seconds(),
                    d.num_seconds()
                ),
            ));
        }
        self.max_future = d;
        Ok(self)
    }

    /// Sets the earliest accepted timestamp.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `t` is before 1970-01-01.
    pub fn with_min_timestamp(mut self, t: DateTime<Utc>) -> Result<Self> {
        if t.timestamp() < 0 {
            return Err(Error::config(
                "min_timestamp",
                format!(
                    "must be 1970-01-01T00:00:00Z or later, got {}",
                    t.to_rfc3339()
                ),
            ));
        }
        self.min_timestamp = t;
        Ok(self)
    }
}

/// When the messages of a document were received, and whether the document may
/// say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedAt {
    /// Received now, at this time, by the caller: a `receivedAt` in the document is
    /// ignored (dropped unread). What an endpoint receiving messages from clients
    /// passes: the receive time is the server's, and it bounds how far in the future
    /// an event time may lie ([`ParseConfig::max_future`]), so a client must not set
    /// it.
    Server(DateTime<Utc>),
    /// Received earlier and replayed (an archive of messages the caller trusts): a
    /// `receivedAt` in the document is kept; this time applies to the messages
    /// without one.
    Replay(DateTime<Utc>),
}

impl ReceivedAt {
    /// The time passed in (the receive time of a message without its own).
    #[must_use]
    pub fn time(self) -> DateTime<Utc> {
        match self {
            ReceivedAt::Server(t) | ReceivedAt::Replay(t) => t,
        }
    }
}

/// Parses one Segment message (not a batch) from JSON bytes.
///
/// `received_at` is the receive time of a message replayed: a `receivedAt` field in
/// the document wins ([`ReceivedAt::Replay`]). For messages received live, use
/// [`parse_message_at`] with [`ReceivedAt::Server`].
///
/// # Errors
/// [`Error::TooLarge`] over [`ParseConfig::max_message_bytes`]; [`Error::InvalidJson`]
/// for malformed JSON or a non-object; [`Error::InvalidMessage`] for wrong types,
/// unknown `type`, missing required fields; [`Error::MissingIdentity`] without
/// `userId` and `anonymousId`; [`Error::InvalidTimestamp`] for unparsable or absurd
/// times.
pub fn parse_message(
    json: &[u8],
    received_at: DateTime<Utc>,
    config: &ParseConfig,
) -> Result<Message> {
    parse_message_at(json, ReceivedAt::Replay(received_at), config)
}

/// [`parse_message`] with the receive-time policy given: [`ReceivedAt::Server`]
/// ignores a `receivedAt` in the document, [`ReceivedAt::Replay`] keeps it.
///
/// # Errors
/// Those of [`parse_message`].
pub fn parse_message_at(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Result<Message> {
    if json.len() > config.max_message_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: config.max_message_bytes,
        });
    }
    read_message(json, received_at, config)
}

/// [`parse_message_at`] without the size check, for a caller that has checked the
/// size of what was sent (and may have added to it, as [`crate::http`] adds a
/// `type`).
pub(crate) fn read_message(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Result<Message> {
    read(json, received_at, config, &BatchDefaults::default())
}

/// Reads one message (on its own, or an element of a batch with `defaults`).
///
/// The one-pass [`reader`] takes the common case; whatever it does not take —
/// every invalid message, and the rare shapes it leaves alone — is read field by
/// field ([`fields::read`]), whose result and errors are the parser's.
fn read(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
    defaults: &BatchDefaults,
) -> Result<Message> {
    match reader::read(json, received_at, config, defaults) {
        Some(m) => Ok(m),
        None => fields::read(json, received_at, config, defaults),
    }
}

/// The outcome of parsing a batch: one result per element, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// One entry per element of `batch`, in the same order; an invalid element
    /// never affects its neighbours.
    pub results: Vec<Result<Message>>,
}

impl Batch {
    /// The valid messages, in order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.results.iter().filter_map(|r| r.as_ref().ok())
    }

    /// The invalid elements: (index in `batch`, error).
    pub fn errors(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
    }
}

/// What a batch gives its elements: its `sentAt` (parsed), and its `context` and
/// `integrations` keys.
#[derive(Debug, Default)]
struct BatchDefaults {
    sent_at: Option<DateTime<Utc>>,
    context: Option<Map<String, Value>>,
    integrations: Option<Map<String, Value>>,
}

/// Parses a Segment batch `{"batch": [...], "sentAt": ..., "context": ...}`.
///
/// `received_at` is the receive time of messages replayed, as in
/// [`parse_message`]: an element's own `receivedAt` wins. For messages received
/// live, use [`parse_batch_at`] with [`ReceivedAt::Server`].
///
/// Each element is parsed on its own, so an element that is not valid JSON (a lone
/// surrogate escape, `NaN`) gets its own [`Error::InvalidJson`] and costs no
/// neighbour: a document that is valid JSON is read in one pass, any other is
/// first split into its members and `batch` into its elements by structure alone.
/// The batch-level `sentAt` applies to elements without one; batch-level `context`
/// and `integrations` keys apply where an element does not set the same key. Each
/// element is checked against [`ParseConfig::max_message_bytes`] without
/// insignificant whitespace.
///
/// Memory: the input is not copied and no tree of the whole document is built;
/// the peak is the input plus the parsed messages.
///
/// # Errors
/// Only problems with the batch as a whole: [`Error::TooLarge`] over
/// [`ParseConfig::max_batch_bytes`], [`Error::InvalidJson`] when the document is not
/// a JSON object or its structure is broken (unbalanced brackets, an unterminated
/// string) or a batch-level field is not valid JSON, [`Error::InvalidMessage`] when
/// `batch` is missing or not an array or a batch-level field has the wrong type.
/// Per-element errors are in [`Batch::results`].
pub fn parse_batch(json: &[u8], received_at: DateTime<Utc>, config: &ParseConfig) -> Result<Batch> {
    parse_batch_at(json, ReceivedAt::Replay(received_at), config)
}

/// [`parse_batch`] with the receive-time policy given: [`ReceivedAt::Server`]
/// ignores a `receivedAt` in every element, [`ReceivedAt::Replay`] keeps it.
///
/// # Errors
/// Those of [`parse_batch`].
pub fn parse_batch_at(json: &[u8], received_at: ReceivedAt, config: &ParseConfig) -> Result<Batch> {
    if json.len() > config.max_batch_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: config.max_batch_bytes,
        });
    }
    match reader::batch(json, received_at, config) {
        Some(results) => Ok(Batch { results }),
        None => split_batch(json, received_at, config),
    }
}

/// Reads a batch by splitting it first ([`parse_batch`] describes how): this
/// takes every document, and its results and errors are the parser's.
fn split_batch(json: &[u8], received_at: ReceivedAt, config: &ParseConfig) -> Result<Batch> {
    let members = envelope::object_members(json).map_err(scan_error)?;
    let mut batch = None;
    let mut map = BTreeMap::new();
    for (k, v) in members {
        let key: String =
            serde_json::from_slice(&json[k.start..k.end]).map_err(|e| Error::InvalidJson {
                what: "batch",
                field: Some("$".into()),
                message: format!("a key of the batch: {e}"),
            })?;
        if key == "batch" {
            batch = Some(v);
            continue;
        }
        let raw: &RawValue =
            serde_json::from_slice(&json[v.start..v.end]).map_err(|e| Error::InvalidJson {
                what: "batch",
                field: Some(key.clone()),
                message: e.to_string(),
            })?;
        map.insert(key, raw);
    }
    let mut fields = Fields { map };
    match fields.value("type")? {
        None => {}
        Some(Value::String(s)) if s == "batch" => {}
        Some(other) => {
            return Err(Error::message(
                "type",
                format!("must be \"batch\" (or absent) in a batch, got {other}"),
            ));
        }
    }
    let Some(items) = batch else {
        return Err(Error::message("batch", "is required in a batch"));
    };
    if json[items.start] != b'[' {
        let got = match json[items.start] {
            b'{' => "an object",
            b'"' => "a string",
            b'n' => "null",
            b't' | b'f' => "a boolean",
            _ => "a number",
        };
        return Err(Error::message(
            "batch",
            format!("must be an array of messages, got {got}"),
        ));
    }
    let items = envelope::array_elements(json, items).map_err(scan_error)?;
    let sent_at = fields.value("sentAt")?.filter(|v| !v.is_null());
    let context = optional_object(&mut fields, "context")?;
    let integrations = optional_object(&mut fields, "integrations")?;
    let defaults = BatchDefaults {
        sent_at: sent_at.map(|v| timestamp_value("sentAt", &v)).transpose()?,
        context,
        integrations,
    };
    let results = items
        .into_iter()
        .enumerate()
        .map(|(i, span)| {
            let parsed = if span.compact_len > config.max_message_bytes {
                Err(Error::TooLarge {
                    field: "$".into(),
                    size: span.compact_len,
                    limit: config.max_message_bytes,
                })
            } else {
                read(&json[span.start..span.end], received_at, config, &defaults)
            };
            parsed.map_err(|e| e.within(&format!("batch[{i}]")))
        })
        .collect();
    Ok(Batch { results })
}
