//! The segment tree: the JSON form (via `serde`) and what the text form parses to.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A segment condition.
///
/// JSON: externally tagged, e.g. `{"and": [..]}`, `{"not": {..}}`,
/// `{"trait": {"name": "plan", "op": "eq", "value": {"string": "pro"}}}`,
/// `{"event": {"event": "Order Completed", "count": {"at_least": 2}, ..}}`,
/// `{"in_audience": "churned"}`, `{"consent": "advertising"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expr {
    /// Every condition holds (at least two).
    And(Vec<Expr>),
    /// At least one condition holds (at least two).
    Or(Vec<Expr>),
    /// The condition does not hold.
    Not(Box<Expr>),
    /// A condition on a profile trait.
    Trait(Predicate),
    /// A condition on a computed trait (by definition name).
    Computed(Predicate),
    /// A condition on the profile's events.
    Event(EventCondition),
    /// Membership of another audience (by key).
    InAudience(String),
    /// The profile's latest consent for a category is granted.
    Consent(String),
}

/// A comparison of a named value (trait, computed trait or event property) with a
/// literal. `exists` has no value; every other operator has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    /// The trait name, computed-trait name or property path.
    pub name: String,
    /// The operator.
    pub op: CmpOp,
    /// The literal (absent for `exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Literal>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` (true when the value is missing)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in [..]`: equal to one element of a list literal.
    In,
    /// `contains`: a string containing a string, or a list containing an element.
    Contains,
    /// `starts_with`: a string starting with a string.
    StartsWith,
    /// `exists`: present and not `null`.
    Exists,
}

impl CmpOp {
    /// The operator's text form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::In => "in",
            Self::Contains => "contains",
            Self::StartsWith => "starts_with",
            Self::Exists => "exists",
        }
    }
}

/// A typed literal.
///
/// JSON: `{"string": "pro"}`, `{"number": "49.90"}` (an exact decimal),
/// `{"bool": true}`, `{"timestamp": "2026-03-01T00:00:00Z"}`, `{"list": [..]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Literal {
    /// A string.
    String(String),
    /// An exact decimal number.
    Number(Decimal),
    /// `true` or `false`.
    Bool(bool),
    /// An instant (RFC 3339; compares with trait strings in RFC 3339).
    Timestamp(DateTime<Utc>),
    /// A list of scalars (for `in`).
    List(Vec<Literal>),
}

/// A condition on events: how many matching events, in which window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCondition {
    /// The event name (`track` `event`, `page` / `screen` `name`).
    pub event: String,
    /// How many matching events are required.
    #[serde(default)]
    pub count: Count,
    /// The window (all time when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Conditions every counted event's properties meet (dotted paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Predicate>,
}

/// How many matching events an event condition requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Count {
    /// At least n (`performed "X"` alone is at least 1).
    AtLeast(u32),
    /// At most n.
    AtMost(u32),
    /// Exactly n (`never performed "X"` is exactly 0).
    Exactly(u32),
}

impl Default for Count {
    fn default() -> Self {
        Self::AtLeast(1)
    }
}

impl Count {
    /// Whether `n` matching events satisfy the condition.
    #[must_use]
    pub fn holds(self, n: u64) -> bool {
        match self {
            Self::AtLeast(k) => n >= u64::from(k),
            Self::AtMost(k) => n <= u64::from(k),
            Self::Exactly(k) => n == u64::from(k),
        }
    }
}

/// The time window of an event condition, relative to the evaluation time `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Window {
    /// `within 30d`: `now − seconds < timestamp ≤ now`.
    Within {
        /// The window length.
        seconds: i64,
    },
    /// `between 7d and 30d ago`: `now − to < timestamp ≤ now − from`.
    Between {
        /// The near edge (the smaller age).
        from_seconds: i64,
        /// The far edge (the larger age).
        to_seconds: i64,
    },
}

impl Window {
    /// The (exclusive, inclusive) bounds of the window at `now`, in microseconds.
    #[must_use]
    pub fn bounds_micros(self, now_micros: i64) -> (i64, i64) {
        let (near, far) = match self {
            Self::Within { seconds } => (0, seconds),
            Self::Between {
                from_seconds,
                to_seconds,
            } => (from_seconds, to_seconds),
        };
        (
            now_micros.saturating_sub(far.saturating_mul(1_000_000)),
            now_micros.saturating_sub(near.saturating_mul(1_000_000)),
        )
    }
}
