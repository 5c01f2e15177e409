//! The field-by-field reader of a message: each top-level field is kept as its JSON
//! text, then parsed on its own into the type it is read as, in a fixed order.
//!
//! It takes every document, and its errors are the parser's errors: the first
//! problem in that order, named by its field, with `serde_json`'s message for text
//! that is not valid JSON. [`super::reader`] takes the common case in one pass and
//! hands everything else here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{
    BatchDefaults, Consent, JsonObject, Message, MessageType, ParseConfig, ReceivedAt,
    TimestampSource,
};
use crate::envelope;
use crate::error::{Error, Result};
/// The top-level fields of one JSON object, each kept as its JSON text until it is
/// read, so that a field is parsed once, into the type it is read as.
pub(super) struct Fields<'a> {
    pub(super) map: BTreeMap<String, &'a RawValue>,
}

impl<'a> Fields<'a> {
    /// The fields of the JSON object `json`.
    pub(super) fn parse(json: &'a [u8]) -> Result<Self> {
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

    pub(super) fn value(&mut self, key: &str) -> Result<Option<Value>> {
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

pub(super) fn scan_error(e: envelope::ScanError) -> Error {
    Error::InvalidJson {
        what: "message",
        field: Some("$".into()),
        message: e.message,
    }
}

fn not_object(field: &str, v: &Value) -> Error {
    Error::InvalidJson {
        what: "message",
        field: Some(field.into()),
        message: format!("expected a JSON object, got {}", type_name(v)),
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn optional_object(
    obj: &mut Fields<'_>,
    key: &str,
) -> Result<Option<Map<String, Value>>> {
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

pub(super) fn timestamp_value(field: &str, v: &Value) -> Result<DateTime<Utc>> {
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

/// Reads the message `json` (an element of a batch with `defaults`, or a message on
/// its own with none), field by field.
pub(super) fn read(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
    defaults: &BatchDefaults,
) -> Result<Message> {
    let mut obj = Fields::parse(json)?;
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
    let received_at = match received_at {
        // The document's `receivedAt` is not the server's to trust: dropped unread.
        ReceivedAt::Server(at) => {
            obj.map.remove("receivedAt");
            at
        }
        ReceivedAt::Replay(at) => optional_timestamp(&mut obj, "receivedAt")?.unwrap_or(at),
    };
    let client_ts = optional_timestamp(&mut obj, "timestamp")?;
    let sent_original = optional_timestamp(&mut obj, "originalTimestamp")?;
    let sent_at = optional_timestamp(&mut obj, "sentAt")?.or(defaults.sent_at);
    let times = event_time(received_at, client_ts, sent_original, sent_at, config)?;

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
        timestamp: times.timestamp,
        timestamp_source: times.source,
        original_timestamp: times.original_timestamp,
        sent_at: times.sent_at,
        received_at: times.received_at,
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

/// A message's times, as [`event_time`] derives them.
pub(super) struct EventTime {
    pub(super) timestamp: DateTime<Utc>,
    pub(super) source: TimestampSource,
    pub(super) original_timestamp: Option<DateTime<Utc>>,
    pub(super) sent_at: Option<DateTime<Utc>>,
    pub(super) received_at: DateTime<Utc>,
}

/// The event time of a message from the times it carries (each already parsed;
/// `sent_at` is the message's or the batch's), as the module documentation
/// describes, checked against the configured bounds.
pub(super) fn event_time(
    received_at: DateTime<Utc>,
    client_ts: Option<DateTime<Utc>>,
    sent_original: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    config: &ParseConfig,
) -> Result<EventTime> {
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
    match (timestamp, latest) {
        (Some(t), Some(latest)) if t >= config.min_timestamp && t <= latest => Ok(EventTime {
            timestamp: t,
            source,
            original_timestamp,
            sent_at,
            received_at,
        }),
        (t, _) => Err(Error::InvalidTimestamp {
            field: field.into(),
            value: t.map_or_else(|| "out of range".into(), |t| t.to_rfc3339()),
            message: format!(
                "the event time must lie between {} and receivedAt + {} s ({})",
                config.min_timestamp.to_rfc3339(),
                config.max_future.num_seconds(),
                received_at.to_rfc3339()
            ),
        }),
    }
}

/// An object field, kept as the client wrote it; `None` when absent or null.
fn json_object(obj: &mut Fields<'_>, key: &str) -> Result<Option<JsonObject>> {
    object_and_map(obj, key)
        .map(|o| o.map(|(raw, map)| JsonObject::validated(raw.get(), map.is_empty())))
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
    Ok(merge_defaults(
        found.map(|(raw, map)| (raw.get(), map)),
        defaults,
    ))
}

/// An object field (its text and its map, `None` when absent or null) with the
/// batch-level `defaults` filled in where it does not set a key: its text is kept
/// when there is nothing to fill in. Also returns the map.
pub(super) fn merge_defaults(
    found: Option<(&str, Map<String, Value>)>,
    defaults: Option<&Map<String, Value>>,
) -> (JsonObject, Map<String, Value>) {
    let missing =
        |m: &Map<String, Value>| defaults.is_some_and(|d| d.keys().any(|k| !m.contains_key(k)));
    match found {
        Some((text, map)) if !missing(&map) => (JsonObject::validated(text, map.is_empty()), map),
        found => {
            let mut map = found.map(|(_, m)| m).unwrap_or_default();
            if let Some(d) = defaults {
                for (k, v) in d {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            (map.clone().into(), map)
        }
    }
}

pub(super) fn consent(context: &Map<String, Value>) -> Result<Consent> {
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
