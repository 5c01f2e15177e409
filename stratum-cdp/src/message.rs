//! Segment-spec messages: the typed model, the JSON parser with size limits and
//! clock-skew correction, batches with per-message results, and consent.
//!
//! The wire format is Segment's (camelCase: `messageId`, `anonymousId`, `userId`,
//! `originalTimestamp`, `sentAt`, `receivedAt`, ...). The parsed [`Message`]
//! serialises with snake_case names like every other Stratum type.
//!
//! ## Timestamps
//! Segment's semantics: `originalTimestamp` is the device time of the event,
//! `sentAt` the device time of sending, `receivedAt` the server time of receipt
//! (the caller passes it to the parser; a `receivedAt` in the document, e.g. when
//! replaying an archive, takes precedence). Segment's libraries send the device
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

/// Parses one Segment message (not a batch) from JSON bytes.
///
/// `received_at` is the server's receive time (a `receivedAt` field in the document
/// wins).
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
    if json.len() > config.max_message_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: config.max_message_bytes,
        });
    }
    let fields = Fields::parse(json)?;
    from_fields(fields, received_at, config, &BatchDefaults::default())
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

#[derive(Default)]
struct BatchDefaults {
    sent_at: Option<Value>,
    context: Option<Map<String, Value>>,
    integrations: Option<Map<String, Value>>,
}

/// The top-level fields of one JSON object, each kept as its JSON text until it is
/// read, so that a field is parsed once, into the type it is read as.
struct Fields<'a> {
    map: BTreeMap<String, &'a RawValue>,
}

impl<'a> Fields<'a> {
    /// The fields of the JSON object `json`.
    fn parse(json: &'a [u8]) -> Result<Self> {
        match serde_json::from_slice::<BTreeMap<String, &RawValue>>(json) {
            Ok(map) => Ok(Fields { map }),
            Err(e) => Err(match serde_json::from_slice::<Value>(json) {
                Ok(v) if !v.is_object() => not_object("$", &v),
                _ => Error::InvalidJson {
                    what: "message",
                    field: Some("$".into()),
                    message: e.to_string(),
                },
            }),
        }
    }

    fn raw(&mut self, key: &str) -> Option<&'a RawValue> {
        self.map.remove(key)
    }

    fn value(&mut self, key: &str) -> Result<Option<Value>> {
        self.raw(key).map(|r| parse_raw(key, r)).transpose()
    }

    /// The fields not read, as one object in their exact text (keys sorted).
    fn rest(self) -> Result<JsonObject> {
        if self.map.is_empty() {
            return Ok(JsonObject::default());
        }
        let mut text = String::from("{");
        for (i, (k, v)) in self.map.iter().enumerate() {
            // Each value on its own, so that an invalid one names its field.
            parse_raw::<Value>(k, v)?;
            if i > 0 {
                text.push(',');
            }
            text.push_str(&Value::String(k.clone()).to_string());
            text.push(':');
            text.push_str(v.get());
        }
        text.push('}');
        JsonObject::from_json(&text).map_err(|e| Error::InvalidJson {
            what: "message",
            field: Some("$".into()),
            message: e.to_string(),
        })
    }
}

fn parse_raw<T: serde::de::DeserializeOwned>(field: &str, raw: &RawValue) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|e| Error::InvalidJson {
        what: "message",
        field: Some(field.into()),
        message: e.to_string(),
    })
}

fn scan_error(e: envelope::ScanError) -> Error {
    Error::InvalidJson {
        what: "message",
        field: Some("$".into()),
        message: e.message,
    }
}

/// Parses a Segment batch `{"batch": [...], "sentAt": ..., "context": ...}`.
///
/// The document is first split into its members and `batch` into its elements by
/// structure alone; each element is then parsed on its own, so an element that is
/// not valid JSON (a lone surrogate escape, `NaN`) gets its own
/// [`Error::InvalidJson`] and costs no neighbour. The batch-level `sentAt` applies
/// to elements without one; batch-level `context` and `integrations` keys apply
/// where an element does not set the same key. Each element is checked against
/// [`ParseConfig::max_message_bytes`] without insignificant whitespace.
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
    if json.len() > config.max_batch_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: config.max_batch_bytes,
        });
    }
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
    let defaults = BatchDefaults {
        sent_at: fields.value("sentAt")?.filter(|v| !v.is_null()),
        context: optional_object(&mut fields, "context")?,
        integrations: optional_object(&mut fields, "integrations")?,
    };
    if let Some(v) = &defaults.sent_at {
        timestamp_value("sentAt", v)?;
    }
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
                Fields::parse(&json[span.start..span.end])
                    .and_then(|f| from_fields(f, received_at, config, &defaults))
            };
            parsed.map_err(|e| e.within(&format!("batch[{i}]")))
        })
        .collect();
    Ok(Batch { results })
}

fn not_object(field: &str, v: &Value) -> Error {
    Error::InvalidJson {
        what: "message",
        field: Some(field.into()),
        message: format!("expected a JSON object, got {}", type_name(v)),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn optional_object(obj: &mut Fields<'_>, key: &str) -> Result<Option<Map<String, Value>>> {
    match obj.value(key)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(Error::message(
            key,
            format!("must be an object, got {}", type_name(&other)),
        )),
    }
}

/// A string field: absent, null and `""` are `None`; other types are errors.
fn optional_string(obj: &mut Fields<'_>, key: &str) -> Result<Option<String>> {
    match obj.value(key)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::message(
            key,
            format!("must be a string, got {}", type_name(&other)),
        )),
    }
}

fn timestamp_value(field: &str, v: &Value) -> Result<DateTime<Utc>> {
    let Value::String(s) = v else {
        return Err(Error::InvalidTimestamp {
            field: field.into(),
            value: v.to_string(),
            message: "must be an ISO-8601 / RFC 3339 string such as 2026-03-01T12:00:00.000Z"
                .into(),
        });
    };
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::InvalidTimestamp {
            field: field.into(),
            value: s.clone(),
            message: format!(
                "{e}; expected an ISO-8601 / RFC 3339 time with a zone such as 2026-03-01T12:00:00.000Z"
            ),
        })
}

fn optional_timestamp(obj: &mut Fields<'_>, key: &str) -> Result<Option<DateTime<Utc>>> {
    match obj.value(key)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => timestamp_value(key, &v).map(Some),
    }
}

fn from_fields(
    mut obj: Fields<'_>,
    received_at: DateTime<Utc>,
    config: &ParseConfig,
    defaults: &BatchDefaults,
) -> Result<Message> {
    let kind = match obj.value("type")? {
        Some(Value::String(s)) => MessageType::parse(&s).ok_or_else(|| {
            Error::message(
                "type",
                format!("must be one of identify, track, page, screen, group, alias; got {s:?}"),
            )
        })?,
        Some(other) => {
            return Err(Error::message(
                "type",
                format!("must be a string, got {}", type_name(&other)),
            ));
        }
        None => {
            return Err(Error::message(
                "type",
                "is required (identify, track, page, screen, group or alias)",
            ));
        }
    };
    let message_id = optional_string(&mut obj, "messageId")?
        .ok_or_else(|| Error::message("messageId", "is required and must be a non-empty string"))?;
    let user_id = optional_string(&mut obj, "userId")?;
    let anonymous_id = optional_string(&mut obj, "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(Error::MissingIdentity {
            field: "userId".into(),
            kind: kind.as_str().into(),
        });
    }
    let received_at = optional_timestamp(&mut obj, "receivedAt")?.unwrap_or(received_at);
    let client_ts = optional_timestamp(&mut obj, "timestamp")?;
    let sent_original = optional_timestamp(&mut obj, "originalTimestamp")?;
    let sent_at = match optional_timestamp(&mut obj, "sentAt")? {
        Some(t) => Some(t),
        None => match &defaults.sent_at {
            Some(v) => Some(timestamp_value("sentAt", v)?),
            None => None,
        },
    };
    // Segment's libraries send the device time of the event as `timestamp`;
    // Segment records it as `originalTimestamp` and computes `timestamp` itself.
    let (original_timestamp, original_field) = match (sent_original, client_ts) {
        (Some(o), _) => (Some(o), "originalTimestamp"),
        (None, Some(t)) => (Some(t), "timestamp"),
        (None, None) => (None, "originalTimestamp"),
    };
    let (timestamp, source, field) = match (original_timestamp, sent_at, client_ts) {
        (Some(o), Some(s), _) => (
            received_at.checked_sub_signed(s.signed_duration_since(o)),
            TimestampSource::SkewCorrected,
            original_field,
        ),
        (_, None, Some(t)) => (Some(t), TimestampSource::Client, "timestamp"),
        (Some(o), None, None) => (
            Some(o),
            TimestampSource::OriginalTimestamp,
            "originalTimestamp",
        ),
        (None, _, _) => (Some(received_at), TimestampSource::ReceivedAt, "receivedAt"),
    };
    let latest = received_at.checked_add_signed(config.max_future);
    let timestamp = match (timestamp, latest) {
        (Some(t), Some(latest)) if t >= config.min_timestamp && t <= latest => t,
        (t, _) => {
            return Err(Error::InvalidTimestamp {
                field: field.into(),
                value: t.map_or_else(|| "out of range".into(), |t| t.to_rfc3339()),
                message: format!(
                    "the event time must lie between {} and receivedAt + {} s ({})",
                    config.min_timestamp.to_rfc3339(),
                    config.max_future.num_seconds(),
                    received_at.to_rfc3339()
                ),
            });
        }
    };

    let (context, context_map) = with_defaults(&mut obj, "context", defaults.context.as_ref())?;
    let consent = consent(&context_map)?;
    let (integrations, _) =
        with_defaults(&mut obj, "integrations", defaults.integrations.as_ref())?;
    let mut traits = json_object(&mut obj, "traits")?.unwrap_or_default();
    // A group's `traits` describe the group; `context.traits` are the member's and
    // never stand in for them.
    if traits.is_empty() && kind != MessageType::Group {
        match context_map.get("traits") {
            None | Some(Value::Null) => {}
            Some(Value::Object(t)) => traits = t.clone().into(),
            Some(other) => {
                return Err(Error::message(
                    "context.traits",
                    format!("must be an object, got {}", type_name(other)),
                ));
            }
        }
    }
    drop(context_map);
    let properties = json_object(&mut obj, "properties")?.unwrap_or_default();
    let event = optional_string(&mut obj, "event")?;
    let name = optional_string(&mut obj, "name")?;
    let category = optional_string(&mut obj, "category")?;
    let channel = optional_string(&mut obj, "channel")?;
    let group_id = optional_string(&mut obj, "groupId")?;
    let previous_id = optional_string(&mut obj, "previousId")?;
    let metadata = json_object(&mut obj, "_metadata")?.unwrap_or_default();
    match kind {
        MessageType::Track if event.is_none() => {
            return Err(Error::message("event", "is required in a track message"));
        }
        MessageType::Group if group_id.is_none() => {
            return Err(Error::message("groupId", "is required in a group message"));
        }
        MessageType::Alias if previous_id.is_none() => {
            return Err(Error::message(
                "previousId",
                "is required in an alias message",
            ));
        }
        _ => {}
    }
    let extra = obj.rest()?;
    Ok(Message {
        kind,
        message_id,
        anonymous_id,
        user_id,
        timestamp,
        timestamp_source: source,
        original_timestamp,
        sent_at,
        received_at,
        event,
        name,
        category,
        channel,
        group_id,
        previous_id,
        context,
        integrations,
        traits,
        properties,
        metadata,
        extra,
        consent,
    })
}

/// An object field, kept as the client wrote it; `None` when absent or null.
fn json_object(obj: &mut Fields<'_>, key: &str) -> Result<Option<JsonObject>> {
    object_and_map(obj, key).map(|o| o.map(|(raw, map)| JsonObject::validated(raw, map.is_empty())))
}

/// An object field: its text and its parsed map.
fn object_and_map<'a>(
    obj: &mut Fields<'a>,
    key: &str,
) -> Result<Option<(&'a RawValue, Map<String, Value>)>> {
    let Some(raw) = obj.raw(key) else {
        return Ok(None);
    };
    match parse_raw::<Value>(key, raw)? {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some((raw, m))),
        other => Err(Error::message(
            key,
            format!("must be an object, got {}", type_name(&other)),
        )),
    }
}

/// An object field with the batch-level defaults filled in where the element does
/// not set a key: kept as the client wrote it when there is nothing to fill in.
fn with_defaults(
    obj: &mut Fields<'_>,
    key: &str,
    defaults: Option<&Map<String, Value>>,
) -> Result<(JsonObject, Map<String, Value>)> {
    let found = object_and_map(obj, key)?;
    let missing =
        |m: &Map<String, Value>| defaults.is_some_and(|d| d.keys().any(|k| !m.contains_key(k)));
    match found {
        Some((raw, map)) if !missing(&map) => Ok((JsonObject::validated(raw, map.is_empty()), map)),
        found => {
            let mut map = found.map(|(_, m)| m).unwrap_or_default();
            if let Some(d) = defaults {
                for (k, v) in d {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            Ok((map.clone().into(), map))
        }
    }
}

fn consent(context: &Map<String, Value>) -> Result<Consent> {
    let prefs = match context.get("consent") {
        None | Some(Value::Null) => return Ok(Consent::default()),
        Some(Value::Object(c)) => match c.get("categoryPreferences") {
            None | Some(Value::Null) => return Ok(Consent::default()),
            Some(Value::Object(p)) => p,
            Some(other) => {
                return Err(Error::message(
                    "context.consent.categoryPreferences",
                    format!(
                        "must be an object of category → true/false, got {}",
                        type_name(other)
                    ),
                ));
            }
        },
        Some(other) => {
            return Err(Error::message(
                "context.consent",
                format!("must be an object, got {}", type_name(other)),
            ));
        }
    };
    let mut categories = BTreeMap::new();
    for (k, v) in prefs {
        let Value::Bool(b) = v else {
            return Err(Error::message(
                format!("context.consent.categoryPreferences.{k}"),
                format!("must be true or false, got {}", type_name(v)),
            ));
        };
        categories.insert(k.clone(), *b);
    }
    Ok(Consent { categories })
}
