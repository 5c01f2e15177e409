//! Segment-spec messages: the typed model, the JSON parser with size limits and
//! clock-skew correction, batches with per-message results, and consent.
//!
//! The wire format is Segment's (camelCase: `messageId`, `anonymousId`, `userId`,
//! `originalTimestamp`, `sentAt`, `receivedAt`, ...). The parsed [`Message`]
//! serialises with snake_case names like every other Stratum type.
//!
//! ## Timestamps
//! `receivedAt` is the time the server received the message: the caller passes it
//! to the parser (a `receivedAt` in the document, e.g. when replaying an archive,
//! takes precedence). When the client did not set `timestamp`, it is derived as
//! Segment does:
//!
//! * `timestamp = receivedAt − (sentAt − originalTimestamp)` when both `sentAt` and
//!   `originalTimestamp` are present (the client's clock skew is cancelled out);
//! * `originalTimestamp` when `sentAt` is missing;
//! * `receivedAt` when `originalTimestamp` is missing.
//!
//! The resulting timestamp must lie between [`ParseConfig::min_timestamp`] and
//! `receivedAt +` [`ParseConfig::max_future`]; anything else is absurd and rejected.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

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
    /// The client set `timestamp` explicitly.
    Client,
    /// `receivedAt − (sentAt − originalTimestamp)`.
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
    /// The client's clock at the time of the event, if sent.
    pub original_timestamp: Option<DateTime<Utc>>,
    /// The client's clock when the message was sent, if sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the server received the message.
    pub received_at: DateTime<Utc>,
    /// The event name (`track`).
    pub event: Option<String>,
    /// The page or screen name (`page`, `screen`).
    pub name: Option<String>,
    /// The group id (`group`).
    pub group_id: Option<String>,
    /// The previous id (`alias`).
    pub previous_id: Option<String>,
    /// The Segment `context` object.
    pub context: Map<String, Value>,
    /// The Segment `integrations` object.
    pub integrations: Map<String, Value>,
    /// The `traits` (`identify`, `group`), or `context.traits` for other types.
    pub traits: Map<String, Value>,
    /// The `properties` (`track`, `page`, `screen`).
    pub properties: Map<String, Value>,
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
/// Segment's limit on one batch: 500 KB.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
const TEN_YEARS: TimeDelta = TimeDelta::days(3650);

impl Default for ParseConfig {
    /// 32 KB per message, 500 KB per batch, timestamps from 2000-01-01 up to one
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
    /// Largest accepted batch, in bytes (default 500 KB).
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

    /// Sets the message size limit.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `1 ≤ bytes ≤ max_batch_bytes`.
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes == 0 || bytes > self.max_batch_bytes {
            return Err(Error::config(
                "max_message_bytes",
                format!(
                    "must be between 1 and max_batch_bytes ({}), got {bytes}",
                    self.max_batch_bytes
                ),
            ));
        }
        self.max_message_bytes = bytes;
        Ok(self)
    }

    /// Sets the batch size limit.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `max_message_bytes ≤ bytes ≤ 64 MiB`.
    pub fn with_max_batch_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < self.max_message_bytes || bytes > 64 << 20 {
            return Err(Error::config(
                "max_batch_bytes",
                format!(
                    "must be between max_message_bytes ({}) and 67108864 (64 MiB), got {bytes}",
                    self.max_message_bytes
                ),
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
    let value: Value = serde_json::from_slice(json).map_err(|e| Error::InvalidJson {
        what: "message",
        field: Some("$".into()),
        message: e.to_string(),
    })?;
    let Value::Object(obj) = value else {
        return Err(not_object("$", &value));
    };
    from_object(obj, received_at, config, &BatchDefaults::default())
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

/// Parses a Segment batch `{"batch": [...], "sentAt": ..., "context": ...}`.
///
/// The batch-level `sentAt` applies to elements without one; batch-level `context`
/// and `integrations` keys apply where an element does not set the same key. Each
/// element is checked against [`ParseConfig::max_message_bytes`] as compact JSON.
///
/// # Errors
/// Only problems with the batch as a whole: [`Error::TooLarge`] over
/// [`ParseConfig::max_batch_bytes`], [`Error::InvalidJson`] when the document is not
/// a JSON object, [`Error::InvalidMessage`] when `batch` is missing or not an array
/// or a batch-level field has the wrong type. Per-element errors are in
/// [`Batch::results`].
pub fn parse_batch(json: &[u8], received_at: DateTime<Utc>, config: &ParseConfig) -> Result<Batch> {
    if json.len() > config.max_batch_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: config.max_batch_bytes,
        });
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| Error::InvalidJson {
        what: "batch",
        field: Some("$".into()),
        message: e.to_string(),
    })?;
    let Value::Object(mut obj) = value else {
        return Err(not_object("$", &value));
    };
    match obj.get("type") {
        None => {}
        Some(Value::String(s)) if s == "batch" => {}
        Some(other) => {
            return Err(Error::message(
                "type",
                format!("must be \"batch\" (or absent) in a batch, got {other}"),
            ));
        }
    }
    let items = match obj.remove("batch") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Error::message(
                "batch",
                format!("must be an array of messages, got {}", type_name(&other)),
            ));
        }
        None => return Err(Error::message("batch", "is required in a batch")),
    };
    let defaults = BatchDefaults {
        sent_at: obj.remove("sentAt").filter(|v| !v.is_null()),
        context: optional_object(&mut obj, "context")?,
        integrations: optional_object(&mut obj, "integrations")?,
    };
    if let Some(v) = &defaults.sent_at {
        timestamp_value("sentAt", v)?;
    }
    let results = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("batch[{i}]");
            let size = serde_json::to_vec(&item).map_or(usize::MAX, |v| v.len());
            if size > config.max_message_bytes {
                return Err(Error::TooLarge {
                    field: prefix,
                    size,
                    limit: config.max_message_bytes,
                });
            }
            match item {
                Value::Object(o) => {
                    from_object(o, received_at, config, &defaults).map_err(|e| e.within(&prefix))
                }
                other => Err(not_object(&prefix, &other)),
            }
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

fn optional_object(obj: &mut Map<String, Value>, key: &str) -> Result<Option<Map<String, Value>>> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(Error::message(
            key,
            format!("must be an object, got {}", type_name(&other)),
        )),
    }
}

/// A string field: absent, null and `""` are `None`; other types are errors.
fn optional_string(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.remove(key) {
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

fn optional_timestamp(obj: &mut Map<String, Value>, key: &str) -> Result<Option<DateTime<Utc>>> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => timestamp_value(key, &v).map(Some),
    }
}

fn from_object(
    mut obj: Map<String, Value>,
    received_at: DateTime<Utc>,
    config: &ParseConfig,
    defaults: &BatchDefaults,
) -> Result<Message> {
    let kind = match obj.remove("type") {
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
    let original_timestamp = optional_timestamp(&mut obj, "originalTimestamp")?;
    let sent_at = match optional_timestamp(&mut obj, "sentAt")? {
        Some(t) => Some(t),
        None => match &defaults.sent_at {
            Some(v) => Some(timestamp_value("sentAt", v)?),
            None => None,
        },
    };
    let (timestamp, source, field) = match (client_ts, original_timestamp, sent_at) {
        (Some(t), _, _) => (Some(t), TimestampSource::Client, "timestamp"),
        (None, Some(o), Some(s)) => (
            received_at.checked_sub_signed(s.signed_duration_since(o)),
            TimestampSource::SkewCorrected,
            "originalTimestamp",
        ),
        (None, Some(o), None) => (
            Some(o),
            TimestampSource::OriginalTimestamp,
            "originalTimestamp",
        ),
        (None, None, _) => (Some(received_at), TimestampSource::ReceivedAt, "receivedAt"),
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

    let mut context = optional_object(&mut obj, "context")?.unwrap_or_default();
    if let Some(d) = &defaults.context {
        for (k, v) in d {
            context.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut integrations = optional_object(&mut obj, "integrations")?.unwrap_or_default();
    if let Some(d) = &defaults.integrations {
        for (k, v) in d {
            integrations.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut traits = optional_object(&mut obj, "traits")?.unwrap_or_default();
    if traits.is_empty() {
        match context.get("traits") {
            None | Some(Value::Null) => {}
            Some(Value::Object(t)) => traits = t.clone(),
            Some(other) => {
                return Err(Error::message(
                    "context.traits",
                    format!("must be an object, got {}", type_name(other)),
                ));
            }
        }
    }
    let properties = optional_object(&mut obj, "properties")?.unwrap_or_default();
    let event = optional_string(&mut obj, "event")?;
    let name = optional_string(&mut obj, "name")?;
    let group_id = optional_string(&mut obj, "groupId")?;
    let previous_id = optional_string(&mut obj, "previousId")?;
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
    let consent = consent(&context)?;
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
        group_id,
        previous_id,
        context,
        integrations,
        traits,
        properties,
        consent,
    })
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
