//! Computed traits: aggregates over a profile's events, defined as JSON data.
//!
//! A [`TraitDefinition`] names an aggregate ([`TraitKind`]: event counter, sum /
//! avg / min / max of a numeric property, first and last value, most frequent
//! value, unique list and unique count), an optional event-name match, property
//! filters ([`PropertyFilter`]) and an optional rolling window. A [`TraitState`]
//! holds one trait's state for one profile: [`TraitState::apply`] folds in one
//! event, [`TraitState::value`] reads the value at an evaluation time, and
//! [`TraitState::merge`] combines the states of two profiles that merge.
//!
//! ## Semantics
//! * Definitions apply to `track` (event name = `event`), `page` and `screen`
//!   (event name = `name`) messages; filters and properties read `properties`, with
//!   dotted paths (`order.total`) for nested objects.
//! * A property-based kind skips an event whose property is missing or `null`.
//!   Numeric kinds read JSON numbers only (no string coercion) as [`Decimal`]:
//!   sums are exact while they fit in 28 significant digits; a number outside
//!   ±7.9·10²⁸ is not numeric, and a sum that overflows reads as `null`.
//!   `avg` is the exact sum divided by the count, rounded to 28 digits.
//! * First / last are by event timestamp, ties by message id; most frequent is by
//!   count, ties by the smallest canonical JSON text; unique lists are sorted by
//!   canonical JSON text. So every value is independent of arrival order.
//! * **All-time** traits keep an O(1) aggregate (O(distinct values) for most
//!   frequent and unique kinds) and ignore the evaluation time.
//! * **Windowed** traits (`window_seconds`) count events with
//!   `now − window < timestamp ≤ now`. They keep each matching event's
//!   contribution (timestamp, message id, value: about 72 bytes plus the message
//!   id's and the value's heap text) so that the window can slide exactly to any
//!   evaluation time, and a read is linear in the contributions kept.
//!   [`TraitState::prune`]`(before)` drops what cannot count at any
//!   `now ≥ before` (values stay exact for those times), so memory is bounded by
//!   the matching events after `before − window`; without pruning, every matching
//!   event is kept. With `allowed_lateness_seconds` a windowed trait prunes
//!   itself (amortised O(1) per event): it stays exact for every
//!   `now ≥ latest event − lateness`, and its memory is bounded by the matching
//!   events of the last `window + lateness`.
//! * Merging two states is exact for every kind (events belong to one profile
//!   only, so counts and sums add, extremes and first / last compare, frequencies
//!   add and unique sets unite); no kind needs a recomputation on merge.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::message::{Message, MessageType};

/// Longest allowed window: ten years, in seconds.
pub const MAX_WINDOW_SECONDS: i64 = 10 * 366 * 86_400;
/// Most definitions in one [`ComputedTraits`] set.
pub const MAX_DEFINITIONS: usize = 256;
/// Longest trait name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// What a computed trait aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TraitKind {
    /// The number of matching events.
    Count,
    /// The exact sum of a numeric property.
    Sum {
        /// The property path.
        property: String,
    },
    /// The mean of a numeric property (exact sum / count, 28 digits).
    Avg {
        /// The property path.
        property: String,
    },
    /// The smallest value of a numeric property.
    Min {
        /// The property path.
        property: String,
    },
    /// The largest value of a numeric property.
    Max {
        /// The property path.
        property: String,
    },
    /// The property's value on the earliest event (timestamp, then message id).
    First {
        /// The property path.
        property: String,
    },
    /// The property's value on the latest event (timestamp, then message id).
    Last {
        /// The property path.
        property: String,
    },
    /// The most frequent value (ties: smallest canonical JSON text).
    MostFrequent {
        /// The property path.
        property: String,
    },
    /// The distinct values, sorted by canonical JSON text.
    UniqueList {
        /// The property path.
        property: String,
    },
    /// The number of distinct values.
    UniqueCount {
        /// The property path.
        property: String,
    },
}

impl TraitKind {
    fn property(&self) -> Option<&str> {
        match self {
            Self::Count => None,
            Self::Sum { property }
            | Self::Avg { property }
            | Self::Min { property }
            | Self::Max { property }
            | Self::First { property }
            | Self::Last { property }
            | Self::MostFrequent { property }
            | Self::UniqueList { property }
            | Self::UniqueCount { property } => Some(property),
        }
    }

    /// The kind from its aggregate and property.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`] (field `property`) when `count` is given a
    /// property or another kind is not.
    pub fn from_parts(op: Op, property: Option<String>) -> Result<Self> {
        match (op, property) {
            (Op::Count, None) => Ok(Self::Count),
            (Op::Count, Some(p)) => Err(definition_error(
                "property",
                format!("is {p:?}: `count` takes no property"),
            )),
            (op, None) => Err(definition_error(
                "property",
                format!(
                    "is missing: `{}` needs the property to aggregate",
                    op.as_str()
                ),
            )),
            (Op::Sum, Some(property)) => Ok(Self::Sum { property }),
            (Op::Avg, Some(property)) => Ok(Self::Avg { property }),
            (Op::Min, Some(property)) => Ok(Self::Min { property }),
            (Op::Max, Some(property)) => Ok(Self::Max { property }),
            (Op::First, Some(property)) => Ok(Self::First { property }),
            (Op::Last, Some(property)) => Ok(Self::Last { property }),
            (Op::MostFrequent, Some(property)) => Ok(Self::MostFrequent { property }),
            (Op::UniqueList, Some(property)) => Ok(Self::UniqueList { property }),
            (Op::UniqueCount, Some(property)) => Ok(Self::UniqueCount { property }),
        }
    }

    /// The aggregate, without the property.
    #[must_use]
    pub fn op(&self) -> Op {
        match self {
            Self::Count => Op::Count,
            Self::Sum { .. } => Op::Sum,
            Self::Avg { .. } => Op::Avg,
            Self::Min { .. } => Op::Min,
            Self::Max { .. } => Op::Max,
            Self::First { .. } => Op::First,
            Self::Last { .. } => Op::Last,
            Self::MostFrequent { .. } => Op::MostFrequent,
            Self::UniqueList { .. } => Op::UniqueList,
            Self::UniqueCount { .. } => Op::UniqueCount,
        }
    }
}

/// The aggregate a [`TraitState`] computes (the kind without its property).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// See [`TraitKind::Count`].
    Count,
    /// See [`TraitKind::Sum`].
    Sum,
    /// See [`TraitKind::Avg`].
    Avg,
    /// See [`TraitKind::Min`].
    Min,
    /// See [`TraitKind::Max`].
    Max,
    /// See [`TraitKind::First`].
    First,
    /// See [`TraitKind::Last`].
    Last,
    /// See [`TraitKind::MostFrequent`].
    MostFrequent,
    /// See [`TraitKind::UniqueList`].
    UniqueList,
    /// See [`TraitKind::UniqueCount`].
    UniqueCount,
}

impl Op {
    /// The snake_case name used in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Count => "count",
            Op::Sum => "sum",
            Op::Avg => "avg",
            Op::Min => "min",
            Op::Max => "max",
            Op::First => "first",
            Op::Last => "last",
            Op::MostFrequent => "most_frequent",
            Op::UniqueList => "unique_list",
            Op::UniqueCount => "unique_count",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Op::Sum | Op::Avg | Op::Min | Op::Max)
    }
}

/// A condition on an event property. `property` is a dotted path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op", deny_unknown_fields)]
pub enum PropertyFilter {
    /// The property equals `value` (JSON equality; numbers compare numerically).
    Equals {
        /// The property path.
        property: String,
        /// The value.
        value: Value,
    },
    /// The property is missing or differs from `value`.
    NotEquals {
        /// The property path.
        property: String,
        /// The value.
        value: Value,
    },
    /// The property is present and not `null`.
    Exists {
        /// The property path.
        property: String,
    },
    /// The property is a number greater than `value`.
    Gt {
        /// The property path.
        property: String,
        /// The bound.
        value: Decimal,
    },
    /// The property is a number greater than or equal to `value`.
    Gte {
        /// The property path.
        property: String,
        /// The bound.
        value: Decimal,
    },
    /// The property is a number less than `value`.
    Lt {
        /// The property path.
        property: String,
        /// The bound.
        value: Decimal,
    },
    /// The property is a number less than or equal to `value`.
    Lte {
        /// The property path.
        property: String,
        /// The bound.
        value: Decimal,
    },
}

impl PropertyFilter {
    fn property(&self) -> &str {
        match self {
            Self::Equals { property, .. }
            | Self::NotEquals { property, .. }
            | Self::Exists { property }
            | Self::Gt { property, .. }
            | Self::Gte { property, .. }
            | Self::Lt { property, .. }
            | Self::Lte { property, .. } => property,
        }
    }

    /// Whether `properties` pass this filter.
    #[must_use]
    pub fn passes(&self, properties: &Map<String, Value>) -> bool {
        let v = lookup(properties, self.property());
        match self {
            Self::Equals { value, .. } => v.is_some_and(|v| json_eq(v, value)),
            Self::NotEquals { value, .. } => !v.is_some_and(|v| json_eq(v, value)),
            Self::Exists { .. } => v.is_some(),
            Self::Gt { value, .. } => v.and_then(number).is_some_and(|n| n > *value),
            Self::Gte { value, .. } => v.and_then(number).is_some_and(|n| n >= *value),
            Self::Lt { value, .. } => v.and_then(number).is_some_and(|n| n < *value),
            Self::Lte { value, .. } => v.and_then(number).is_some_and(|n| n <= *value),
        }
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The property at a dotted path; `null` counts as missing.
fn lookup<'a>(properties: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = properties.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// A JSON number as an exact [`Decimal`] (its shortest decimal text).
#[must_use]
pub fn number(v: &Value) -> Option<Decimal> {
    use std::fmt::Write as _;
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    let mut buf = StackText::default();
    write!(buf, "{n}").ok()?;
    let s = buf.as_str()?;
    if s.contains(['e', 'E']) {
        Decimal::from_scientific(s).ok()
    } else {
        s.parse().ok()
    }
}

/// A short text buffer on the stack (a formatted JSON number is at most 24 bytes;
/// longer text fails the write).
struct StackText {
    buf: [u8; 40],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            buf: [0; 40],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A validated computed-trait definition; deserialise it from JSON or build it
/// with [`TraitDefinition::new`].
///
/// ```json
/// {"name": "orders_30d", "kind": "sum", "property": "total",
///  "event": "Order Completed",
///  "filters": [{"op": "equals", "property": "currency", "value": "EUR"}],
///  "window_seconds": 2592000}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "RawDefinition")]
pub struct TraitDefinition {
    name: String,
    kind: TraitKind,
    event: Option<String>,
    filters: Vec<PropertyFilter>,
    window: Option<TimeDelta>,
    allowed_lateness: Option<i64>,
}

stratum_core::validated_deserialize!(TraitDefinition, RawDefinition);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    name: String,
    kind: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    filters: Vec<PropertyFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allowed_lateness_seconds: Option<i64>,
}

impl TryFrom<RawDefinition> for TraitDefinition {
    type Error = Error;
    fn try_from(r: RawDefinition) -> Result<Self> {
        let kind = TraitKind::from_parts(r.kind, r.property)?;
        TraitDefinition::new(r.name, kind, r.event, r.filters, r.window_seconds)?
            .with_allowed_lateness(r.allowed_lateness_seconds)
    }
}

impl From<TraitDefinition> for RawDefinition {
    fn from(d: TraitDefinition) -> Self {
        RawDefinition {
            name: d.name,
            kind: d.kind.op(),
            property: d.kind.property().map(str::to_owned),
            event: d.event,
            filters: d.filters,
            window_seconds: d.window.map(|w| w.num_seconds()),
            allowed_lateness_seconds: d.allowed_lateness,
        }
    }
}

fn definition_error(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidDefinition {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn check_path(field: &str, path: &str) -> Result<()> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(definition_error(
            field,
            format!("is {path:?}: a property path must be non-empty names joined by `.`"),
        ));
    }
    Ok(())
}

impl TraitDefinition {
    /// A validated definition.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`] for an empty or over-long name (more than
    /// [`MAX_NAME_BYTES`]), an empty event name, an empty property path (or one with
    /// an empty segment) in the kind or a filter, or a window that is not between
    /// 1 second and [`MAX_WINDOW_SECONDS`].
    pub fn new(
        name: impl Into<String>,
        kind: TraitKind,
        event: Option<String>,
        filters: Vec<PropertyFilter>,
        window_seconds: Option<i64>,
    ) -> Result<Self> {
        let name = name.into();
        if name.is_empty() || name.len() > MAX_NAME_BYTES {
            return Err(definition_error(
                "name",
                format!(
                    "is {name:?} ({} bytes): 1 to {MAX_NAME_BYTES} bytes are allowed",
                    name.len()
                ),
            ));
        }
        if let Some(p) = kind.property() {
            check_path("property", p)?;
        }
        if event.as_deref() == Some("") {
            return Err(definition_error(
                "event",
                "is \"\": give a non-empty event name or leave it out to match every event",
            ));
        }
        for (i, f) in filters.iter().enumerate() {
            check_path(&format!("filters[{i}].property"), f.property())?;
        }
        let window = match window_seconds {
            None => None,
            Some(s) if (1..=MAX_WINDOW_SECONDS).contains(&s) => Some(TimeDelta::seconds(s)),
            Some(s) => {
                return Err(definition_error(
                    "window_seconds",
                    format!("is {s}: 1 to {MAX_WINDOW_SECONDS} seconds (ten years) are allowed"),
                ));
            }
        };
        Ok(TraitDefinition {
            name,
            kind,
            event,
            filters,
            window,
            allowed_lateness: None,
        })
    }

    /// Prunes a windowed trait's state automatically, keeping what can count at
    /// any evaluation time `now ≥ latest event − allowed_lateness_seconds` (values
    /// are exact there; earlier `now` may miss pruned events). Memory is then
    /// bounded by the matching events in the last `window + lateness`, instead of
    /// every matching event. `None` (the default) never prunes.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`] for a lateness on an all-time trait, or one
    /// outside 0 to [`MAX_WINDOW_SECONDS`].
    pub fn with_allowed_lateness(mut self, seconds: Option<i64>) -> Result<Self> {
        if let Some(s) = seconds {
            if self.window.is_none() {
                return Err(definition_error(
                    "allowed_lateness_seconds",
                    "applies to windowed traits only: set `window_seconds` or leave it out",
                ));
            }
            if !(0..=MAX_WINDOW_SECONDS).contains(&s) {
                return Err(definition_error(
                    "allowed_lateness_seconds",
                    format!("is {s}: 0 to {MAX_WINDOW_SECONDS} seconds (ten years) are allowed"),
                ));
            }
        }
        self.allowed_lateness = seconds;
        Ok(self)
    }

    /// The allowed lateness of automatic pruning, in seconds (see
    /// [`TraitDefinition::with_allowed_lateness`]).
    #[must_use]
    pub fn allowed_lateness_seconds(&self) -> Option<i64> {
        self.allowed_lateness
    }

    /// The trait's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The aggregate.
    #[must_use]
    pub fn kind(&self) -> &TraitKind {
        &self.kind
    }

    /// The rolling window, or `None` for all-time.
    #[must_use]
    pub fn window(&self) -> Option<TimeDelta> {
        self.window
    }

    /// An empty state for this trait.
    #[must_use]
    pub fn new_state(&self) -> TraitState {
        let mut state = TraitState::new(self.kind.op(), self.window);
        state.allowed_lateness = self.allowed_lateness;
        state
    }

    /// What `event` contributes to this trait, if it matches (event name, filters
    /// and, for property kinds, a usable property value).
    #[must_use]
    pub fn contribution(&self, event: &TraitEvent) -> Option<Contribution> {
        let value = self.matched(event)?;
        Some(Contribution {
            timestamp: event.timestamp,
            message_id: event.message_id.clone(),
            value: value.cloned(),
        })
    }

    /// `Some(value)` when `event` matches (`value` is `None` for counters).
    fn matched<'a>(&self, event: &'a TraitEvent) -> Option<Option<&'a Value>> {
        if let Some(name) = &self.event
            && event.name.as_deref() != Some(name.as_str())
        {
            return None;
        }
        if !self.filters.iter().all(|f| f.passes(&event.properties)) {
            return None;
        }
        match self.kind.property() {
            None => Some(None),
            Some(p) => {
                let v = lookup(&event.properties, p)?;
                if self.kind.op().numeric() {
                    number(v)?;
                }
                Some(Some(v))
            }
        }
    }

    /// Applies `event` to `state` if it matches; returns whether it did. All-time
    /// states copy only what they keep.
    pub fn apply(&self, state: &mut TraitState, event: &TraitEvent) -> bool {
        let Some(value) = self.matched(event) else {
            return false;
        };
        state.apply_view(View {
            timestamp: event.timestamp,
            message_id: &event.message_id,
            value,
        });
        true
    }
}

/// A validated set of definitions with distinct names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(into = "Vec<TraitDefinition>")]
pub struct ComputedTraits {
    defs: Vec<TraitDefinition>,
}

stratum_core::validated_deserialize!(ComputedTraits, Vec<TraitDefinition>);

impl TryFrom<Vec<TraitDefinition>> for ComputedTraits {
    type Error = Error;
    fn try_from(defs: Vec<TraitDefinition>) -> Result<Self> {
        ComputedTraits::new(defs)
    }
}

impl From<ComputedTraits> for Vec<TraitDefinition> {
    fn from(c: ComputedTraits) -> Self {
        c.defs
    }
}

impl ComputedTraits {
    /// A set of definitions.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`] for two definitions with the same name or more
    /// than [`MAX_DEFINITIONS`] definitions.
    pub fn new(defs: Vec<TraitDefinition>) -> Result<Self> {
        if defs.len() > MAX_DEFINITIONS {
            return Err(definition_error(
                "$",
                format!(
                    "has {} definitions: at most {MAX_DEFINITIONS} are allowed",
                    defs.len()
                ),
            ));
        }
        for (i, d) in defs.iter().enumerate() {
            if defs[..i].iter().any(|e| e.name == d.name) {
                return Err(definition_error(
                    &format!("[{i}].name"),
                    format!("is {:?}, already used by another definition", d.name),
                ));
            }
        }
        Ok(ComputedTraits { defs })
    }

    /// The definitions, in the order given.
    #[must_use]
    pub fn definitions(&self) -> &[TraitDefinition] {
        &self.defs
    }

    /// Whether there are no definitions.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Whether any definition matches `event`.
    #[must_use]
    pub fn matches(&self, event: &TraitEvent) -> bool {
        self.defs.iter().any(|d| d.contribution(event).is_some())
    }
}

/// The part of an event computed traits read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitEvent {
    /// The event name (`track` `event`, `page` / `screen` `name`).
    pub name: Option<String>,
    /// The event timestamp.
    pub timestamp: DateTime<Utc>,
    /// The message id.
    pub message_id: String,
    /// The event properties.
    pub properties: Map<String, Value>,
}

impl TraitEvent {
    /// The view of a `track`, `page` or `screen` message; `None` for other types.
    #[must_use]
    pub fn from_message(m: &Message) -> Option<Self> {
        let name = match m.kind {
            MessageType::Track => m.event.clone(),
            MessageType::Page | MessageType::Screen => m.name.clone(),
            _ => return None,
        };
        Some(TraitEvent {
            name,
            timestamp: m.timestamp,
            message_id: m.message_id.clone(),
            properties: m.properties.map().clone(),
        })
    }
}

/// What one matching event contributes: its time, id and property value (`None`
/// for counters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The event timestamp.
    pub timestamp: DateTime<Utc>,
    /// The message id (breaks timestamp ties).
    pub message_id: String,
    /// The property value, for property kinds.
    pub value: Option<Value>,
}

/// A computed trait's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum ComputedValue {
    /// A count (`count`, `unique_count`).
    Count(u64),
    /// A number (`sum`, `avg`, `min`, `max`), serialised as a decimal string.
    Number(Decimal),
    /// A property value (`first`, `last`, `most_frequent`).
    Value(Value),
    /// Distinct values (`unique_list`).
    List(Vec<Value>),
    /// No matching event yet (or, for `sum` / `avg`, an overflowing sum).
    Null,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Picked {
    timestamp: DateTime<Utc>,
    message_id: String,
    value: Value,
}

/// The O(1) (or O(distinct values)) aggregate of a set of contributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Agg {
    Count(u64),
    Sum { sum: Option<Decimal>, count: u64 },
    Extreme(Option<Decimal>),
    Pick(Option<Picked>),
    Freq(BTreeMap<String, (u64, Value)>),
    Unique(BTreeMap<String, Value>),
}

impl Agg {
    fn new(op: Op) -> Self {
        match op {
            Op::Count => Agg::Count(0),
            Op::Sum | Op::Avg => Agg::Sum {
                sum: Some(Decimal::ZERO),
                count: 0,
            },
            Op::Min | Op::Max => Agg::Extreme(None),
            Op::First | Op::Last => Agg::Pick(None),
            Op::MostFrequent => Agg::Freq(BTreeMap::new()),
            Op::UniqueList | Op::UniqueCount => Agg::Unique(BTreeMap::new()),
        }
    }

    fn apply(&mut self, op: Op, c: View<'_>) {
        let value = c.value;
        match self {
            Agg::Count(n) => *n = n.saturating_add(1),
            Agg::Sum { sum, count } => {
                if let Some(x) = value.and_then(number) {
                    *sum = sum.and_then(|s| s.checked_add(x));
                    *count = count.saturating_add(1);
                }
            }
            Agg::Extreme(cur) => {
                if let Some(x) = value.and_then(number) {
                    *cur = Some(match *cur {
                        None => x,
                        Some(y) if op == Op::Min => x.min(y),
                        Some(y) => x.max(y),
                    });
                }
            }
            Agg::Pick(cur) => {
                if let Some(v) = value
                    && replaces(cur.as_ref(), c.timestamp, c.message_id, op)
                {
                    *cur = Some(Picked {
                        timestamp: c.timestamp,
                        message_id: c.message_id.to_owned(),
                        value: v.clone(),
                    });
                }
            }
            Agg::Freq(map) => {
                if let Some(v) = value {
                    let key = canonical(v);
                    match map.get_mut(&key) {
                        Some(e) => e.0 = e.0.saturating_add(1),
                        None => {
                            map.insert(key, (1, v.clone()));
                        }
                    }
                }
            }
            Agg::Unique(set) => {
                if let Some(v) = value {
                    set.entry(canonical(v)).or_insert_with(|| v.clone());
                }
            }
        }
    }

    fn merge(&mut self, op: Op, other: Agg) {
        match (self, other) {
            (Agg::Count(a), Agg::Count(b)) => *a = a.saturating_add(b),
            (Agg::Sum { sum, count }, Agg::Sum { sum: s2, count: c2 }) => {
                *sum = match (*sum, s2) {
                    (Some(a), Some(b)) => a.checked_add(b),
                    _ => None,
                };
                *count = count.saturating_add(c2);
            }
            (Agg::Extreme(a), Agg::Extreme(b)) => {
                *a = match (*a, b) {
                    (Some(x), Some(y)) if op == Op::Min => Some(x.min(y)),
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
            }
            (Agg::Pick(a), Agg::Pick(Some(b)))
                if replaces(a.as_ref(), b.timestamp, &b.message_id, op) =>
            {
                *a = Some(b);
            }
            (Agg::Freq(a), Agg::Freq(b)) => {
                for (k, (n, v)) in b {
                    let e = a.entry(k).or_insert((0, v));
                    e.0 = e.0.saturating_add(n);
                }
            }
            (Agg::Unique(a), Agg::Unique(b)) => {
                for (k, v) in b {
                    a.entry(k).or_insert(v);
                }
            }
            _ => {}
        }
    }

    fn value(&self, op: Op) -> ComputedValue {
        match self {
            Agg::Count(n) => ComputedValue::Count(*n),
            Agg::Sum { sum, count } => match (op, *sum) {
                (_, None) => ComputedValue::Null,
                (Op::Avg, Some(_)) if *count == 0 => ComputedValue::Null,
                (Op::Avg, Some(s)) => s
                    .checked_div(Decimal::from(*count))
                    .map_or(ComputedValue::Null, ComputedValue::Number),
                (_, Some(s)) => ComputedValue::Number(s),
            },
            Agg::Extreme(x) => x.map_or(ComputedValue::Null, ComputedValue::Number),
            Agg::Pick(p) => p.as_ref().map_or(ComputedValue::Null, |p| {
                ComputedValue::Value(p.value.clone())
            }),
            Agg::Freq(map) => {
                // Highest count; ties by the smallest canonical text (map order).
                let mut best: Option<(u64, &Value)> = None;
                for (n, v) in map.values() {
                    if best.is_none_or(|(b, _)| *n > b) {
                        best = Some((*n, v));
                    }
                }
                best.map_or(ComputedValue::Null, |(_, v)| {
                    ComputedValue::Value(v.clone())
                })
            }
            Agg::Unique(set) => match op {
                Op::UniqueCount => ComputedValue::Count(set.len() as u64),
                _ => ComputedValue::List(set.values().cloned().collect()),
            },
        }
    }
}

/// Whether an event at (`timestamp`, `message_id`) replaces the current pick.
fn replaces(cur: Option<&Picked>, timestamp: DateTime<Utc>, message_id: &str, op: Op) -> bool {
    match cur {
        None => true,
        Some(c) => {
            let newer = (timestamp, message_id) > (c.timestamp, c.message_id.as_str());
            if op == Op::Last { newer } else { !newer }
        }
    }
}

/// A borrowed contribution.
#[derive(Clone, Copy)]
struct View<'a> {
    timestamp: DateTime<Utc>,
    message_id: &'a str,
    value: Option<&'a Value>,
}

impl Contribution {
    fn view(&self) -> View<'_> {
        View {
            timestamp: self.timestamp,
            message_id: &self.message_id,
            value: self.value.as_ref(),
        }
    }
}

/// Canonical JSON text of a value (numbers by their exact decimal value, object
/// keys sorted), used to compare and order values.
#[must_use]
pub fn canonical(v: &Value) -> String {
    if let Some(d) = number(v) {
        return format!("{}", d.normalize());
    }
    match v {
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(o) => {
            let mut parts: Vec<(&String, String)> =
                o.iter().map(|(k, v)| (k, canonical(v))).collect();
            parts.sort();
            let parts: Vec<String> = parts
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => other.to_string(),
    }
}

/// `now − window`, saturating at the earliest representable time.
fn window_start(now: DateTime<Utc>, window_seconds: Option<i64>) -> DateTime<Utc> {
    TimeDelta::try_seconds(window_seconds.unwrap_or(0))
        .and_then(|w| now.checked_sub_signed(w))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// One computed trait's state for one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitState {
    op: Op,
    window_seconds: Option<i64>,
    body: Body,
    /// Automatic pruning relative to the latest event (windowed traits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allowed_lateness: Option<i64>,
    /// Latest contribution timestamp seen (for automatic pruning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<DateTime<Utc>>,
    /// Contributions kept after the last automatic prune: the next one runs when
    /// the count has doubled, so pruning costs O(1) amortised per event.
    #[serde(default, skip_serializing_if = "is_zero")]
    kept: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Below this many contributions, automatic pruning does not run.
const AUTO_PRUNE_MIN: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Body {
    AllTime(Agg),
    /// Contributions kept so the window can slide, in canonical order (timestamp,
    /// then message id), so that a state does not depend on arrival order.
    Windowed(Vec<Contribution>),
}

fn canonical_key(c: &Contribution) -> (DateTime<Utc>, &str) {
    (c.timestamp, c.message_id.as_str())
}

/// Inserts `c` at its canonical place (after equal keys): O(1) for an event later
/// than every kept one, a binary search and a shift for a late one.
fn insert_canonical(cs: &mut Vec<Contribution>, c: Contribution) {
    let key = canonical_key(&c);
    if cs.last().is_none_or(|last| canonical_key(last) <= key) {
        cs.push(c);
    } else {
        let at = cs.partition_point(|x| canonical_key(x) <= key);
        cs.insert(at, c);
    }
}

impl TraitState {
    fn new(op: Op, window: Option<TimeDelta>) -> Self {
        let window_seconds = window.map(|w| w.num_seconds());
        let body = match window {
            None => Body::AllTime(Agg::new(op)),
            Some(_) => Body::Windowed(Vec::new()),
        };
        TraitState {
            op,
            window_seconds,
            body,
            allowed_lateness: None,
            latest: None,
            kept: 0,
        }
    }

    /// After contributions were added: notes the latest timestamp and prunes
    /// automatically when the state holds twice what it kept last time.
    fn after_add(&mut self, latest: Option<DateTime<Utc>>) {
        let Some(lateness) = self.allowed_lateness else {
            return;
        };
        self.latest = self.latest.max(latest);
        let held = self.retained();
        if held < AUTO_PRUNE_MIN || held < self.kept.saturating_mul(2) {
            return;
        }
        if let Some(before) = self
            .latest
            .and_then(|t| TimeDelta::try_seconds(lateness).and_then(|l| t.checked_sub_signed(l)))
        {
            self.prune(before);
        }
        self.kept = self.retained();
    }

    /// The aggregate.
    #[must_use]
    pub fn op(&self) -> Op {
        self.op
    }

    /// Folds in one contribution (see [`TraitDefinition::contribution`]).
    pub fn apply(&mut self, c: Contribution) {
        match &mut self.body {
            Body::AllTime(agg) => agg.apply(self.op, c.view()),
            Body::Windowed(cs) => {
                let t = c.timestamp;
                insert_canonical(cs, c);
                self.after_add(Some(t));
            }
        }
    }

    fn apply_view(&mut self, c: View<'_>) {
        match &mut self.body {
            Body::AllTime(agg) => agg.apply(self.op, c),
            Body::Windowed(cs) => {
                insert_canonical(
                    cs,
                    Contribution {
                        timestamp: c.timestamp,
                        message_id: c.message_id.to_owned(),
                        value: c.value.cloned(),
                    },
                );
                self.after_add(Some(c.timestamp));
            }
        }
    }

    /// The value at `now`. All-time traits ignore `now`; windowed traits fold the
    /// contributions with `now − window < timestamp ≤ now`.
    #[must_use]
    pub fn value(&self, now: DateTime<Utc>) -> ComputedValue {
        match &self.body {
            Body::AllTime(agg) => agg.value(self.op),
            Body::Windowed(cs) => {
                let start = window_start(now, self.window_seconds);
                let mut agg = Agg::new(self.op);
                for c in cs {
                    if c.timestamp > start && c.timestamp <= now {
                        agg.apply(self.op, c.view());
                    }
                }
                agg.value(self.op)
            }
        }
    }

    /// Combines the state of another profile (same definition) into this one.
    /// Exact for every kind: each event belongs to one of the two profiles.
    pub fn merge(&mut self, other: TraitState) {
        match (&mut self.body, other.body) {
            (Body::AllTime(a), Body::AllTime(b)) => a.merge(self.op, b),
            (Body::Windowed(a), Body::Windowed(b)) => {
                // Two sorted runs: the stable sort merges them in linear time.
                a.extend(b);
                a.sort_by(|x, y| canonical_key(x).cmp(&canonical_key(y)));
                self.after_add(other.latest);
            }
            _ => {}
        }
    }

    /// Drops windowed contributions with `timestamp ≤ before − window`: they can
    /// only count at evaluation times before `before`. After `prune(before)`,
    /// values are exact for every `now ≥ before`. No-op for all-time traits.
    pub fn prune(&mut self, before: DateTime<Utc>) {
        if let Body::Windowed(cs) = &mut self.body {
            let horizon = window_start(before, self.window_seconds);
            cs.retain(|c| c.timestamp > horizon);
        }
    }

    /// Contributions held (windowed traits; 0 for all-time ones).
    #[must_use]
    pub fn retained(&self) -> usize {
        match &self.body {
            Body::AllTime(_) => 0,
            Body::Windowed(cs) => cs.len(),
        }
    }
}
