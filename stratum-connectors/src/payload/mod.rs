//! Request payloads of the conversion APIs (PLATFORMS.md §3), built from
//! [`ConversionEvent`]s.
//!
//! Every builder works the same way: each event is validated for the platform
//! (required fields, time window, currency, value range, customer information) and
//! its customer fields are normalised and hashed by the [`Normalizer`]; events that
//! fail are returned as [`Rejected`] with a typed [`Error`], the rest are split into
//! as many requests as the platform's batch limit needs ([`Built`]). Dropped fields
//! and other non-fatal findings are [`EventWarning`]s.
//!
//! Event ids are never generated (D20): an id the Pixel does not know cannot
//! deduplicate anything, so a missing id is an [`EventWarning::MissingEventId`].

pub mod audience;
mod currency;
#[cfg(feature = "google")]
pub mod google;
#[cfg(feature = "meta")]
pub mod meta;
#[cfg(feature = "snapchat")]
pub mod snapchat;
#[cfg(feature = "tiktok")]
pub mod tiktok;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::event::ConversionEvent;
use crate::normalize::{Context, FieldWarning, Normalized, Normalizer};
use crate::platform::{Field, Platform};

pub use currency::is_iso_4217;

/// The largest conversion value or item price accepted: 10^12 in any currency
/// (our bound; no platform publishes one, and larger values are data errors).
pub const MAX_VALUE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Events more than this far ahead of `now` are rejected (D19).
pub const FUTURE_TOLERANCE_SECONDS: i64 = 60;

/// The outcome of building requests from a list of events.
///
/// Serialises as `{"requests", "rejected", "warnings", "event_indices"}`, with each
/// rejected event and each warning as `{"index", "code", "field", "message"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Built<R> {
    /// The requests to send, each within the platform's batch limit.
    pub requests: Vec<R>,
    /// Events that cannot be sent, by their index in the input.
    pub rejected: Vec<Rejected>,
    /// Non-fatal findings, by event index.
    pub warnings: Vec<EventWarning>,
    /// For each request, the input index of each of its events, in order: a
    /// platform's per-request outcome maps back to the caller's events through it.
    pub event_indices: Vec<Vec<usize>>,
}

impl<R> Built<R> {
    fn new() -> Self {
        Self {
            requests: Vec::new(),
            rejected: Vec::new(),
            warnings: Vec::new(),
            event_indices: Vec::new(),
        }
    }

    /// Splits `items` (input index, event) into requests of at most `size`
    /// events and appends them with their indices.
    fn push_chunks<T>(
        &mut self,
        items: Vec<(usize, T)>,
        size: usize,
        mut make: impl FnMut(Vec<T>) -> R,
    ) {
        let size = size.max(1);
        let mut it = items.into_iter().peekable();
        while it.peek().is_some() {
            let (indices, chunk): (Vec<usize>, Vec<T>) = it.by_ref().take(size).unzip();
            self.requests.push(make(chunk));
            self.event_indices.push(indices);
        }
    }
}

/// An event that failed validation.
///
/// Serialises as `{"index", "code", "field", "message"}` (the error's stable code,
/// field and text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in the input list.
    pub index: usize,
    /// Why.
    pub error: Error,
}

impl Serialize for Rejected {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Rejected", 4)?;
        out.serialize_field("index", &self.index)?;
        out.serialize_field("code", self.error.code())?;
        out.serialize_field("field", &self.error.field())?;
        out.serialize_field("message", &self.error.to_string())?;
        out.end()
    }
}

/// A non-fatal finding about one event; the event is still sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventWarning {
    /// A customer field was dropped (D2).
    Field {
        /// Index of the event in the input.
        index: usize,
        /// The dropped field and why.
        warning: FieldWarning,
    },
    /// The event has no `event_id`, so the platform cannot deduplicate it against
    /// the browser tag (D20).
    MissingEventId {
        /// Index of the event in the input.
        index: usize,
    },
    /// Older than the platform's usual attribution window (Google: 90 days).
    OldEvent {
        /// Index of the event in the input.
        index: usize,
        /// The event's age in whole days.
        age_days: i64,
    },
}

impl EventWarning {
    /// The index of the event in the input.
    #[must_use]
    pub fn index(&self) -> usize {
        match self {
            Self::Field { index, .. }
            | Self::MissingEventId { index }
            | Self::OldEvent { index, .. } => *index,
        }
    }

    /// The stable code: the [`FieldWarning`] code, `missing_event_id` or `old_event`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Field { warning, .. } => warning.code.as_str(),
            Self::MissingEventId { .. } => "missing_event_id",
            Self::OldEvent { .. } => "old_event",
        }
    }

    /// The neutral name of the dropped field, for [`EventWarning::Field`].
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Field { warning, .. } => Some(warning.field.as_str()),
            Self::MissingEventId { .. } | Self::OldEvent { .. } => None,
        }
    }
}

/// The explanation shown to people: the field warning's text, or what the finding
/// means for the event.
///
/// ```
/// use stratum_connectors::payload::EventWarning;
/// let w = EventWarning::OldEvent { index: 0, age_days: 95 };
/// assert_eq!(w.to_string(), "the event is 95 days old");
/// ```
impl std::fmt::Display for EventWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Field { warning, .. } => warning.fmt(f),
            Self::MissingEventId { .. } => f.write_str(
                "no event_id: the platform cannot deduplicate this event against the Pixel",
            ),
            Self::OldEvent { age_days, .. } => write!(f, "the event is {age_days} days old"),
        }
    }
}

/// Serialises as `{"index", "code", "field", "message"}` (`field` is `null` for
/// findings about the whole event).
impl Serialize for EventWarning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("EventWarning", 4)?;
        out.serialize_field("index", &self.index())?;
        out.serialize_field("code", self.code())?;
        out.serialize_field("field", &self.field())?;
        out.serialize_field("message", &self.to_string())?;
        out.end()
    }
}

/// Checks a configured batch size against the platform's maximum.
pub(crate) fn check_batch_size(size: usize, max: usize) -> Result<usize> {
    if size == 0 || size > max {
        return Err(Error::config(
            "batch_size",
            format!("is {size}; it must be between 1 and {max}"),
        ));
    }
    Ok(size)
}

/// An event whose common checks passed, with its customer keys for one platform.
#[allow(dead_code)]
pub(crate) struct Prepared<'e> {
    pub(crate) event_name: &'e str,
    pub(crate) keys: Vec<Normalized>,
    pub(crate) currency: Option<String>,
}

// Not every platform feature uses every accessor.
#[allow(dead_code)]
impl Prepared<'_> {
    /// The value of the key for `field`, if it survived normalisation.
    pub(crate) fn get(&self, field: Field) -> Option<&str> {
        self.keys
            .iter()
            .find(|k| k.field == field)
            .map(|k| k.value.as_str())
    }

    /// Whether `field` survived normalisation.
    pub(crate) fn has(&self, field: Field) -> bool {
        self.keys.iter().any(|k| k.field == field)
    }

    /// The neutral names of the keys present, comma-separated (for errors).
    pub(crate) fn present(&self) -> String {
        let names: Vec<&str> = self.keys.iter().map(|k| k.field.as_str()).collect();
        names.join(", ")
    }
}

/// The common validation and normalisation of one event for one platform.
///
/// `max_age` is the platform's hard window for this event (too old → error);
/// `warn_age` a soft one (→ [`EventWarning::OldEvent`]).
pub(crate) fn prepare<'e>(
    normalizer: &Normalizer,
    platform: Platform,
    event: &'e ConversionEvent,
    index: usize,
    now: DateTime<Utc>,
    max_age: Option<TimeDelta>,
    warnings: &mut Vec<EventWarning>,
) -> Result<Prepared<'e>> {
    let event_name = event.event_name.trim();
    if event_name.is_empty() {
        return Err(missing(platform, "event_name", "every event needs a name"));
    }
    check_time(platform, event.event_time, now, max_age)?;
    let currency = check_money(event)?;

    let country = event.user.get(&Field::Country).and_then(|v| match v {
        crate::FieldValue::Raw(s) | crate::FieldValue::Auto(s) => Some(s.trim()),
        _ => None,
    });
    let country = country.and_then(crate::normalize::country_code);
    let ctx = Context {
        country,
        today: Some(now.date_naive()),
    };
    let mut keys = Vec::with_capacity(event.user.len());
    for (field, value) in &event.user {
        if platform.spec(*field).is_none() {
            // Fields a platform does not take are left out silently: one neutral
            // event feeds every platform.
            continue;
        }
        match normalizer.normalize_in(platform, *field, value, ctx) {
            Ok(k) => keys.push(k),
            Err(warning) => warnings.push(EventWarning::Field { index, warning }),
        }
    }
    if event
        .event_id
        .as_deref()
        .is_none_or(|id| id.trim().is_empty())
    {
        warnings.push(EventWarning::MissingEventId { index });
    }
    Ok(Prepared {
        event_name,
        keys,
        currency,
    })
}

pub(crate) fn missing(platform: Platform, field: &str, message: &str) -> Error {
    Error::MissingRequiredField {
        platform: platform.as_str(),
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn check_time(
    platform: Platform,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_age: Option<TimeDelta>,
) -> Result<()> {
    let age = now.signed_duration_since(at);
    if age < TimeDelta::seconds(-FUTURE_TOLERANCE_SECONDS) {
        return Err(Error::EventInFuture {
            platform: platform.as_str(),
            event_time: at.to_rfc3339(),
            ahead_seconds: -age.num_seconds(),
        });
    }
    if let Some(max) = max_age
        && age > max
    {
        return Err(Error::EventTooOld {
            platform: platform.as_str(),
            event_time: at.to_rfc3339(),
            age_hours: age.num_hours(),
            max_days: max.num_days(),
        });
    }
    Ok(())
}

/// Currency (upper-cased) and the value and item ranges.
fn check_money(event: &ConversionEvent) -> Result<Option<String>> {
    let currency = match event.currency.as_deref().map(str::trim) {
        None => None,
        Some(c) => {
            let upper = c.to_ascii_uppercase();
            if !is_iso_4217(&upper) {
                return Err(Error::InvalidCurrency {
                    value: c.to_owned(),
                });
            }
            Some(upper)
        }
    };
    let priced = event.contents.iter().any(|c| c.item_price.is_some());
    if (event.value.is_some() || priced) && currency.is_none() {
        return Err(Error::MissingRequiredField {
            platform: "all",
            field: "currency".into(),
            message: "a value or item price needs its ISO 4217 currency".into(),
        });
    }
    if let Some(v) = event.value {
        check_amount("value", v)?;
    }
    for (i, c) in event.contents.iter().enumerate() {
        if c.id.trim().is_empty() {
            return Err(Error::MissingRequiredField {
                platform: "all",
                field: format!("contents[{i}].id"),
                message: "every item needs a product id".into(),
            });
        }
        if let Some(p) = c.item_price {
            check_amount(&format!("contents[{i}].item_price"), p)?;
        }
        if c.quantity == Some(0) {
            return Err(Error::InvalidValue {
                field: format!("contents[{i}].quantity"),
                value: "0".into(),
                message: "a quantity is at least 1".into(),
            });
        }
    }
    Ok(currency)
}

fn check_amount(field: &str, v: Decimal) -> Result<()> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(Error::InvalidValue {
            field: field.to_owned(),
            value: v.to_string(),
            message: "it must be 0 or more (send refunds as their own events)".into(),
        });
    }
    if v > MAX_VALUE {
        return Err(Error::InvalidValue {
            field: field.to_owned(),
            value: v.to_string(),
            message: format!("it must be at most {MAX_VALUE}"),
        });
    }
    Ok(())
}

/// Serialises a [`Decimal`] as a JSON number (platforms want numbers; amounts up
/// to 10^12 with cents are exact in an `f64`'s shortest representation).
pub(crate) fn decimal_number<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    v.normalize().to_f64().unwrap_or_default().serialize(s)
}

/// [`decimal_number`] for an optional value (skipped when `None`).
pub(crate) fn opt_decimal_number<S: Serializer>(
    v: &Option<Decimal>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => decimal_number(d, s),
        None => s.serialize_none(),
    }
}

/// Splits `items` into requests of at most `size` (audience uploads).
#[cfg(any(
    feature = "meta",
    feature = "google",
    feature = "tiktok",
    feature = "snapchat"
))]
pub(crate) fn chunked<T, R>(
    items: Vec<T>,
    size: usize,
    mut make: impl FnMut(Vec<T>) -> R,
) -> Vec<R> {
    let mut out = Vec::with_capacity(items.len().div_ceil(size.max(1)));
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<T> = it.by_ref().take(size.max(1)).collect();
        out.push(make(chunk));
    }
    out
}
