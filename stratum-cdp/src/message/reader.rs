//! The one-pass reader of messages and batches: the common case, read in place.
//!
//! One scan of the text ([`crate::json_text`]) checks the document as `serde_json`
//! would parse it and finds each field on the way: string fields are borrowed
//! from the input (decoded only when they hold escapes), objects (`context`,
//! `properties`, ...) and unknown fields are kept as their text, and the `context`
//! members `consent` and `traits` are located. Only the times (with `chrono`) and
//! the consent are read further. A batch is read in the same single pass, its
//! elements included.
//!
//! [`read`] builds exactly the [`Message`] that [`super::fields::read`] builds, or
//! gives up (`None`): on every invalid message, whose error that reader reports,
//! and on the rare shapes this one leaves to it (a key given twice, input that is
//! not UTF-8, what the scanner declines to vouch for). [`batch`] likewise gives
//! exactly the results of [`super::split_batch`], or gives up. The tests
//! in `super::tests` compare the readers on generated messages and batches.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::fields::{self, EventTime};
use super::{BatchDefaults, Consent, JsonObject, Message, MessageType, ParseConfig, ReceivedAt};
use crate::error::{Error, Result};
use crate::json_text::{JsonStr, Scanner};

/// Reads the message `json` (an element of a batch with `defaults`, or a message on
/// its own with none) in one pass; `None` when the field-by-field reader must
/// read it.
pub(super) fn read(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
    defaults: &BatchDefaults,
) -> Option<Message> {
    let mut s = Scanner::new(std::str::from_utf8(json).ok()?);
    s.skip_ws();
    let envelope = Envelope::scan(&mut s)?;
    s.skip_ws();
    if !s.at_end() {
        return None;
    }
    envelope.into_message(received_at, config, defaults)
}

/// Reads the batch `json` in one pass: one result per element, as
/// [`super::parse_batch`] gives them. `None` when the document, or one of its
/// elements, is not one the scanner accepts, or when a batch-level field is
/// missing or wrong (an error to report); each element that is valid JSON but not
/// a message this reader builds is read by the field-by-field reader.
pub(super) fn batch(
    json: &[u8],
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Option<Vec<Result<Message>>> {
    let text = std::str::from_utf8(json).ok()?;
    let mut s = Scanner::new(text);
    s.skip_ws();
    let mut items = None;
    let (mut kind, mut sent_at, mut context, mut integrations) = (None, None, None, None);
    s.object(0, |s, key| {
        let slot = match key.value()?.as_ref() {
            "batch" if items.is_none() => {
                items = Some(elements(s)?);
                return Some(());
            }
            "batch" => return None,
            "type" => &mut kind,
            "sentAt" => &mut sent_at,
            "context" => &mut context,
            "integrations" => &mut integrations,
            _ => return s.value(1),
        };
        let start = s.pos();
        s.value(1)?;
        // A repeated key: the splitting keeps the last.
        slot.replace(s.since(start)).is_none().then_some(())
    })?;
    s.skip_ws();
    if !s.at_end() {
        return None;
    }
    // The batch-level fields as `parse_batch` reads them; an error is its to report.
    if let Some(kind) = kind {
        let kind = serde_json::from_str::<Value>(kind).ok()?;
        if kind.as_str() != Some("batch") {
            return None;
        }
    }
    let sent_at = match sent_at.map(|t| (t, t.as_bytes().first())) {
        None | Some((_, Some(b'n'))) => None,
        Some((t, Some(b'"'))) => {
            let t = serde_json::from_str::<String>(t).ok()?;
            Some(DateTime::parse_from_rfc3339(&t).ok()?.with_timezone(&Utc))
        }
        Some(_) => return None,
    };
    let defaults = BatchDefaults {
        sent_at,
        context: batch_object(context)?,
        integrations: batch_object(integrations)?,
    };
    let results = items?
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let parsed = if item.compact_len > config.max_message_bytes {
                Err(Error::TooLarge {
                    field: "$".into(),
                    size: item.compact_len,
                    limit: config.max_message_bytes,
                })
            } else {
                match item
                    .envelope
                    .and_then(|e| e.into_message(received_at, config, &defaults))
                {
                    Some(m) => Ok(m),
                    None => fields::read(item.text.as_bytes(), received_at, config, &defaults),
                }
            };
            parsed.map_err(|e| e.within(&format!("batch[{i}]")))
        })
        .collect();
    Some(results)
}

/// A batch-level `context` or `integrations`: absent or null, or an object;
/// `None` for another value.
fn batch_object(text: Option<&str>) -> Option<Option<Map<String, Value>>> {
    match text.map(|t| (t, t.as_bytes().first())) {
        None | Some((_, Some(b'n'))) => Some(None),
        Some((t, Some(b'{'))) => serde_json::from_str(t).ok().map(Some),
        Some(_) => None,
    }
}

/// An element of a batch: its text, its size written compactly, and its fields
/// when it is an object.
struct Item<'a> {
    text: &'a str,
    compact_len: usize,
    envelope: Option<Envelope<'a>>,
}

/// The elements of the array at the current position (the value of `batch`).
fn elements<'a>(s: &mut Scanner<'a>) -> Option<Vec<Item<'a>>> {
    let mut items = Vec::new();
    s.array(0, |s| {
        let (start, whitespace) = (s.pos(), s.whitespace());
        let envelope = if s.peek()? == b'{' {
            Some(Envelope::scan(s)?)
        } else {
            s.value(0)?;
            None
        };
        let text = s.since(start);
        items.push(Item {
            text,
            compact_len: text.len() - (s.whitespace() - whitespace),
            envelope,
        });
        Some(())
    })?;
    Some(items)
}

/// The top-level fields of a message as found in its text. Strings are `None`
/// when absent or null.
#[derive(Default)]
struct Envelope<'a> {
    kind: Option<Cow<'a, str>>,
    message_id: Option<Cow<'a, str>>,
    user_id: Option<Cow<'a, str>>,
    anonymous_id: Option<Cow<'a, str>>,
    received_at: Option<Cow<'a, str>>,
    timestamp: Option<Cow<'a, str>>,
    original_timestamp: Option<Cow<'a, str>>,
    sent_at: Option<Cow<'a, str>>,
    event: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    category: Option<Cow<'a, str>>,
    channel: Option<Cow<'a, str>>,
    group_id: Option<Cow<'a, str>>,
    previous_id: Option<Cow<'a, str>>,
    context: Context<'a>,
    integrations: Object<'a>,
    traits: Object<'a>,
    properties: Object<'a>,
    metadata: Object<'a>,
    /// Every other field: its key and its text, in document order.
    extra: Vec<(Cow<'a, str>, &'a str)>,
    /// Whether a field is one to leave to the field-by-field reader: a repeated
    /// key (that reader keeps the last), a string field of another type.
    unusual: bool,
}

/// An object field as found: absent or null, an object (its text and whether it
/// is empty), or a value to leave to the field-by-field reader (another type;
/// for `context`, also a repeated `consent` or `traits`).
#[derive(Default, Clone, Copy)]
enum Object<'a> {
    #[default]
    Absent,
    Text(&'a str, bool),
    Other,
}

/// The `context` field, with its consent and the text of its `traits`.
#[derive(Default)]
struct Context<'a> {
    /// `Object::Other` also when `consent` or `traits` repeats or the consent is
    /// not one a message carries.
    object: Object<'a>,
    consent: Consent,
    traits: Option<&'a str>,
}

/// The fields a message reads, by their Segment names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Type,
    MessageId,
    UserId,
    AnonymousId,
    ReceivedAt,
    Timestamp,
    OriginalTimestamp,
    SentAt,
    Event,
    Name,
    Category,
    Channel,
    GroupId,
    PreviousId,
    Context,
    Integrations,
    Traits,
    Properties,
    Metadata,
    Extra,
}

impl Field {
    fn of(key: &str) -> Self {
        match key {
            "type" => Self::Type,
            "messageId" => Self::MessageId,
            "userId" => Self::UserId,
            "anonymousId" => Self::AnonymousId,
            "receivedAt" => Self::ReceivedAt,
            "timestamp" => Self::Timestamp,
            "originalTimestamp" => Self::OriginalTimestamp,
            "sentAt" => Self::SentAt,
            "event" => Self::Event,
            "name" => Self::Name,
            "category" => Self::Category,
            "channel" => Self::Channel,
            "groupId" => Self::GroupId,
            "previousId" => Self::PreviousId,
            "context" => Self::Context,
            "integrations" => Self::Integrations,
            "traits" => Self::Traits,
            "properties" => Self::Properties,
            "_metadata" => Self::Metadata,
            _ => Self::Extra,
        }
    }
}

impl<'a> Envelope<'a> {
    /// The fields of the object at the scanner's position, passed over; `None`
    /// unless the scanner accepts it.
    fn scan(s: &mut Scanner<'a>) -> Option<Self> {
        let mut e = Envelope::default();
        let mut seen = 0u32;
        s.object(0, |s, key| {
            let key = key.value()?;
            let field = Field::of(&key);
            if field == Field::Extra {
                let start = s.pos();
                s.value(1)?;
                e.extra.push((key, s.since(start)));
                return Some(());
            }
            let bit = 1u32 << field as u32;
            if seen & bit != 0 {
                e.unusual = true;
                return s.value(1);
            }
            seen |= bit;
            let text = match field {
                Field::Type => &mut e.kind,
                Field::MessageId => &mut e.message_id,
                Field::UserId => &mut e.user_id,
                Field::AnonymousId => &mut e.anonymous_id,
                Field::ReceivedAt => &mut e.received_at,
                Field::Timestamp => &mut e.timestamp,
                Field::OriginalTimestamp => &mut e.original_timestamp,
                Field::SentAt => &mut e.sent_at,
                Field::Event => &mut e.event,
                Field::Name => &mut e.name,
                Field::Category => &mut e.category,
                Field::Channel => &mut e.channel,
                Field::GroupId => &mut e.group_id,
                Field::PreviousId => &mut e.previous_id,
                Field::Context => {
                    e.context = context(s)?;
                    return Some(());
                }
                Field::Integrations | Field::Traits | Field::Properties | Field::Metadata => {
                    let o = object(s)?;
                    match field {
                        Field::Integrations => e.integrations = o,
                        Field::Traits => e.traits = o,
                        Field::Properties => e.properties = o,
                        _ => e.metadata = o,
                    }
                    return Some(());
                }
                // Read above.
                Field::Extra => return None,
            };
            match s.peek()? {
                b'"' => *text = Some(s.string()?.value()?),
                b'n' => s.value(1)?,
                _ => {
                    e.unusual = true;
                    s.value(1)?;
                }
            }
            Some(())
        })?;
        Some(e)
    }

    /// The message, checked as the field-by-field reader checks it; `None` for
    /// anything that reader would reject or that this one leaves to it.
    fn into_message(
        self,
        received_at: ReceivedAt,
        config: &ParseConfig,
        defaults: &BatchDefaults,
    ) -> Option<Message> {
        if self.unusual {
            return None;
        }
        let kind = MessageType::parse(self.kind.as_deref()?)?;
        let message_id = non_empty(self.message_id)?;
        let user_id = non_empty(self.user_id);
        let anonymous_id = non_empty(self.anonymous_id);
        if user_id.is_none() && anonymous_id.is_none() {
            return None;
        }
        let received_at = match received_at {
            // The document's `receivedAt` is not the server's to trust.
            ReceivedAt::Server(at) => at,
            ReceivedAt::Replay(at) => time(self.received_at.as_deref())?.unwrap_or(at),
        };
        let client_ts = time(self.timestamp.as_deref())?;
        let sent_original = time(self.original_timestamp.as_deref())?;
        let sent_at = time(self.sent_at.as_deref())?.or(defaults.sent_at);
        let times: EventTime =
            fields::event_time(received_at, client_ts, sent_original, sent_at, config).ok()?;

        let mut traits = kept(self.traits)?;
        // A group's `traits` describe the group; `context.traits` are the member's.
        let member_traits = traits.is_empty() && kind != MessageType::Group;
        let (context, consent, context_traits) =
            read_context(self.context, defaults.context.as_ref(), member_traits)?;
        if let Some(t) = context_traits {
            traits = t;
        }
        let integrations = match &defaults.integrations {
            None => kept(self.integrations)?,
            Some(d) => fields::merge_defaults(with_map(self.integrations)?, Some(d)).0,
        };
        let event = non_empty(self.event);
        let group_id = non_empty(self.group_id);
        let previous_id = non_empty(self.previous_id);
        let required_missing = match kind {
            MessageType::Track => event.is_none(),
            MessageType::Group => group_id.is_none(),
            MessageType::Alias => previous_id.is_none(),
            _ => false,
        };
        if required_missing {
            return None;
        }
        Some(Message {
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
            name: non_empty(self.name),
            category: non_empty(self.category),
            channel: non_empty(self.channel),
            group_id,
            previous_id,
            context,
            integrations,
            traits,
            properties: kept(self.properties)?,
            metadata: kept(self.metadata)?,
            extra: extra(self.extra)?,
            consent,
        })
    }
}

/// An object field, passed over.
fn object<'a>(s: &mut Scanner<'a>) -> Option<Object<'a>> {
    let start = s.pos();
    match s.peek()? {
        b'{' => {
            let empty = s.object(1, |s, _| s.value(2))?;
            Some(Object::Text(s.since(start), empty))
        }
        b'n' => s.value(1).map(|()| Object::Absent),
        _ => s.value(1).map(|()| Object::Other),
    }
}

/// The `context` field, passed over.
fn context<'a>(s: &mut Scanner<'a>) -> Option<Context<'a>> {
    if s.peek()? != b'{' {
        return object(s).map(|object| Context {
            object,
            ..Context::default()
        });
    }
    let start = s.pos();
    let (mut consent, mut traits, mut other) = (None, None, false);
    let empty = s.object(1, |s, key: JsonStr<'a>| {
        match key.value()?.as_ref() {
            "consent" => {
                let found = consent_at(s)?;
                other |= found.is_none() || consent.is_some();
                consent = found;
            }
            "traits" => {
                let start = s.pos();
                s.value(2)?;
                other |= traits.replace(s.since(start)).is_some();
            }
            _ => s.value(2)?,
        }
        Some(())
    })?;
    Some(Context {
        object: if other {
            Object::Other
        } else {
            Object::Text(s.since(start), empty)
        },
        consent: consent.unwrap_or_default(),
        traits,
    })
}

/// `context.consent` at the scanner's position, passed over: `null`, or an object
/// whose `categoryPreferences` is absent, `null` or an object of booleans. `None`
/// inside for anything else, or when `categoryPreferences` repeats.
fn consent_at(s: &mut Scanner<'_>) -> Option<Option<Consent>> {
    match s.peek()? {
        b'{' => {}
        b'n' => return s.value(2).map(|()| Some(Consent::default())),
        _ => return s.value(2).map(|()| None),
    }
    let mut consent = Some(Consent::default());
    let mut seen = false;
    s.object(2, |s, key| {
        if key.value()? != "categoryPreferences" {
            return s.value(3);
        }
        if std::mem::replace(&mut seen, true) || !matches!(s.peek()?, b'{' | b'n') {
            consent = None;
        }
        if s.peek()? != b'{' {
            return s.value(3);
        }
        s.object(3, |s, category| {
            let allowed = s.peek()? == b't';
            if !matches!(s.peek()?, b't' | b'f') {
                consent = None;
            }
            s.value(4)?;
            if let Some(c) = &mut consent {
                c.categories.insert(category.value()?.into_owned(), allowed);
            }
            Some(())
        })
        .map(drop)
    })?;
    Some(consent)
}

/// A string field as the message keeps it: `None` for absent, null and `""`.
fn non_empty(s: Option<Cow<'_, str>>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(Cow::into_owned)
}

/// A time field: `Some(None)` when absent or null, `None` when it does not parse.
fn time(s: Option<&str>) -> Option<Option<DateTime<Utc>>> {
    let Some(s) = s else {
        return Some(None);
    };
    match utc_time(s) {
        Some(t) => Some(Some(t)),
        None => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Some(t.with_timezone(&Utc))),
    }
}

/// The time `s` when it has the shape clients send, `YYYY-MM-DDTHH:MM:SSZ` with
/// up to nine digits of fraction: what `DateTime::parse_from_rfc3339` gives for
/// it, without its general machinery. `None` for any other shape, or a value out
/// of range (a leap second included), which `chrono` then reads.
pub(super) fn utc_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
        rest @ ..,
    ] = b
    else {
        return None;
    };
    let fraction = match rest {
        [b'Z'] => &[][..],
        [b'.', digits @ .., b'Z'] if (1..=9).contains(&digits.len()) => digits,
        _ => return None,
    };
    let number = |digits: &[u8]| {
        let mut n = 0u32;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n = n * 10 + u32::from(d);
        }
        Some(n)
    };
    let year = number(&[*y0, *y1, *y2, *y3])?;
    let (month, day) = (number(&[*m0, *m1])?, number(&[*d0, *d1])?);
    let (hour, minute, second) = (
        number(&[*h0, *h1])?,
        number(&[*n0, *n1])?,
        number(&[*s0, *s1])?,
    );
    let nano = number(fraction)? * 10u32.pow(9 - fraction.len() as u32);
    if second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(date.and_hms_nano_opt(hour, minute, second, nano)?.and_utc())
}

/// An object field kept as its text (`{}` when absent or null).
fn kept(o: Object<'_>) -> Option<JsonObject> {
    match o {
        Object::Absent => Some(JsonObject::default()),
        Object::Text(text, empty) => Some(JsonObject::validated(text, empty)),
        Object::Other => None,
    }
}

/// An object field's text with its map, as [`fields::merge_defaults`] takes it.
fn with_map(o: Object<'_>) -> Option<Option<(&str, Map<String, Value>)>> {
    match o {
        Object::Absent => Some(None),
        Object::Text(text, _) => serde_json::from_str(text).ok().map(|m| Some((text, m))),
        Object::Other => None,
    }
}

/// The `context` (with the batch's keys filled in), its consent and, when
/// `member_traits`, its `traits` as an object (`None` when it has none).
fn read_context(
    c: Context<'_>,
    defaults: Option<&Map<String, Value>>,
    member_traits: bool,
) -> Option<(JsonObject, Consent, Option<JsonObject>)> {
    if let Some(d) = defaults {
        // As the field-by-field reader does: through the map.
        let (context, map) = fields::merge_defaults(with_map(c.object)?, Some(d));
        let consent = fields::consent(&map).ok()?;
        let traits = match map.get("traits") {
            _ if !member_traits => None,
            None | Some(Value::Null) => None,
            Some(Value::Object(t)) => Some(t.clone().into()),
            Some(_) => return None,
        };
        return Some((context, consent, traits));
    }
    let traits = match c.traits {
        Some(text) if member_traits => match text.as_bytes().first() {
            Some(b'n') => None,
            Some(b'{') => Some(
                serde_json::from_str::<Map<String, Value>>(text)
                    .ok()?
                    .into(),
            ),
            _ => return None,
        },
        _ => None,
    };
    Some((kept(c.object)?, c.consent, traits))
}

/// The unknown fields as one object, keys sorted, each value's text as sent;
/// `None` when a key repeats.
fn extra(mut fields: Vec<(Cow<'_, str>, &str)>) -> Option<JsonObject> {
    if fields.is_empty() {
        return Some(JsonObject::default());
    }
    fields.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if fields.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let len = fields.iter().map(|(k, v)| k.len() + v.len() + 4);
    let mut text = String::with_capacity(len.sum::<usize>() + 1);
    text.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        match k {
            // Read without an escape, a key needs none.
            Cow::Borrowed(k) => {
                text.push('"');
                text.push_str(k);
                text.push('"');
            }
            Cow::Owned(k) => text.push_str(&serde_json::to_string(k).ok()?),
        }
        text.push(':');
        text.push_str(v);
    }
    text.push('}');
    Some(JsonObject::validated_owned(text.into_boxed_str(), false))
}
