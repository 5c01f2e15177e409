//! Structural checks (limits, operator / literal fit) and validation against a
//! declared [`Schema`] with "did you mean" suggestions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ast::{CmpOp, Expr, Literal, Predicate, Window};
use super::limits;
use crate::computed::{ComputedTraits, TraitKind};
use crate::error::{Error, Result};

/// The type of a declared trait, property or computed trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` / `false`.
    Bool,
    /// An RFC 3339 timestamp (stored as a string).
    Timestamp,
    /// A list.
    List,
    /// Anything (no type check).
    Any,
}

impl ValueType {
    fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::Timestamp => "timestamp",
            Self::List => "list",
            Self::Any => "any",
        }
    }
}

/// The declared traits, events (with their properties) and computed traits that
/// segments may name.
///
/// JSON: `{"traits": {"plan": "string"}, "events": {"Order Completed":
/// {"total": "number"}}, "computed": {"orders_30d": "number"}}`. An event declared
/// with no properties accepts any property path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Trait name → type.
    #[serde(default)]
    pub traits: BTreeMap<String, ValueType>,
    /// Event name → property path → type.
    #[serde(default)]
    pub events: BTreeMap<String, BTreeMap<String, ValueType>>,
    /// Computed-trait name → type.
    #[serde(default)]
    pub computed: BTreeMap<String, ValueType>,
}

impl Schema {
    /// Adds the computed traits of `defs` with the type of their kind (counts,
    /// sums, averages and extremes are numbers, unique lists lists, the others any).
    #[must_use]
    pub fn with_computed(mut self, defs: &ComputedTraits) -> Self {
        for d in defs.definitions() {
            let t = match d.kind() {
                TraitKind::Count
                | TraitKind::UniqueCount { .. }
                | TraitKind::Sum { .. }
                | TraitKind::Avg { .. }
                | TraitKind::Min { .. }
                | TraitKind::Max { .. } => ValueType::Number,
                TraitKind::UniqueList { .. } => ValueType::List,
                TraitKind::First { .. }
                | TraitKind::Last { .. }
                | TraitKind::MostFrequent { .. } => ValueType::Any,
            };
            self.computed.insert(d.name().to_owned(), t);
        }
        self
    }
}

/// Edit distance (Levenshtein, by characters).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest of `names` to `name`, if close enough to be a likely typo.
pub(crate) fn suggestion<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(2);
    names
        .map(|n| (distance(&name.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n.to_owned())
}

fn limit(field: &str, message: impl Into<String>) -> Error {
    Error::SegmentLimit {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn mismatch(field: &str, message: impl Into<String>) -> Error {
    Error::TypeMismatch {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn check_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(limit(field, "is empty"));
    }
    if name.len() > limits::MAX_NAME_BYTES {
        return Err(limit(
            field,
            format!("is longer than {} bytes", limits::MAX_NAME_BYTES),
        ));
    }
    Ok(())
}

fn literal_type(l: &Literal) -> ValueType {
    match l {
        Literal::String(_) => ValueType::String,
        Literal::Number(_) => ValueType::Number,
        Literal::Bool(_) => ValueType::Bool,
        Literal::Timestamp(_) => ValueType::Timestamp,
        Literal::List(_) => ValueType::List,
    }
}

fn check_literal(field: &str, l: &Literal, nested: bool) -> Result<()> {
    match l {
        Literal::String(s) if s.len() > limits::MAX_STRING_BYTES => Err(limit(
            field,
            format!(
                "a string literal is longer than {} bytes",
                limits::MAX_STRING_BYTES
            ),
        )),
        Literal::List(_) if nested => Err(mismatch(field, "lists do not nest")),
        Literal::List(items) if items.len() > limits::MAX_LIST_LEN => Err(limit(
            field,
            format!("a list has more than {} elements", limits::MAX_LIST_LEN),
        )),
        Literal::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_literal(&format!("{field}[{i}]"), x, true)),
        _ => Ok(()),
    }
}

/// The operator / literal fit, independent of any schema.
fn check_predicate(field: &str, p: &Predicate) -> Result<()> {
    check_name(&format!("{field}.name"), &p.name)?;
    let vf = format!("{field}.value");
    let Some(v) = &p.value else {
        return if p.op == CmpOp::Exists {
            Ok(())
        } else {
            Err(mismatch(&vf, format!("`{}` needs a value", p.op.as_str())))
        };
    };
    check_literal(&vf, v, false)?;
    let t = literal_type(v);
    let ok = match p.op {
        CmpOp::Exists => false,
        CmpOp::Eq | CmpOp::Ne | CmpOp::Contains => t != ValueType::List,
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            matches!(t, ValueType::Number | ValueType::Timestamp)
        }
        CmpOp::In => t == ValueType::List,
        CmpOp::StartsWith => t == ValueType::String,
    };
    if ok {
        Ok(())
    } else {
        let want = match p.op {
            CmpOp::Exists => "no value",
            CmpOp::Eq | CmpOp::Ne | CmpOp::Contains => "a scalar (string, number, bool, timestamp)",
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => "a number or a timestamp",
            CmpOp::In => "a list",
            CmpOp::StartsWith => "a string",
        };
        Err(mismatch(
            &vf,
            format!("`{}` takes {want}, not a {}", p.op.as_str(), t.as_str()),
        ))
    }
}

fn check_window(field: &str, w: Window) -> Result<()> {
    let ok = |s: i64| (1..=limits::MAX_WINDOW_SECONDS).contains(&s);
    match w {
        Window::Within { seconds } if !ok(seconds) => Err(limit(
            field,
            format!("a window of {seconds} s: it must be between 1 second and ten years"),
        )),
        Window::Between {
            from_seconds,
            to_seconds,
        } if !(0..to_seconds).contains(&from_seconds) || !ok(to_seconds) => Err(limit(
            field,
            format!(
                "between {from_seconds} s and {to_seconds} s ago: the near edge must be at least 0 and before the far edge, the far edge at most ten years"
            ),
        )),
        _ => Ok(()),
    }
}

/// Structural check of a tree (from either form): limits, operator / literal fit,
/// `and` / `or` with at least two conditions, nesting depth.
pub(crate) fn check(e: &Expr) -> Result<()> {
    check_at(e, "$", 1)
}

fn check_at(e: &Expr, field: &str, depth: usize) -> Result<()> {
    if depth > limits::MAX_DEPTH {
        return Err(limit(
            field,
            format!("nesting is deeper than {} levels", limits::MAX_DEPTH),
        ));
    }
    match e {
        Expr::And(items) | Expr::Or(items) => {
            let word = if matches!(e, Expr::And(_)) {
                "and"
            } else {
                "or"
            };
            if items.len() < 2 {
                return Err(mismatch(
                    field,
                    format!("`{word}` needs at least two conditions"),
                ));
            }
            if items.len() > limits::MAX_CHILDREN {
                return Err(limit(
                    field,
                    format!("`{word}` has more than {} conditions", limits::MAX_CHILDREN),
                ));
            }
            for (i, x) in items.iter().enumerate() {
                check_at(x, &format!("{field}.{word}[{i}]"), depth + 1)?;
            }
            Ok(())
        }
        Expr::Not(x) => check_at(x, &format!("{field}.not"), depth + 1),
        Expr::Trait(p) => check_predicate(&format!("{field}.trait"), p),
        Expr::Computed(p) => check_predicate(&format!("{field}.computed"), p),
        Expr::Event(ev) => {
            let f = format!("{field}.event");
            check_name(&format!("{f}.event"), &ev.event)?;
            if let super::ast::Count::AtLeast(n)
            | super::ast::Count::AtMost(n)
            | super::ast::Count::Exactly(n) = ev.count
                && n > limits::MAX_COUNT
            {
                return Err(limit(
                    &format!("{f}.count"),
                    format!("a count of {n} is more than {}", limits::MAX_COUNT),
                ));
            }
            if let Some(w) = ev.window {
                check_window(&format!("{f}.window"), w)?;
            }
            if ev.filters.len() > limits::MAX_CHILDREN {
                return Err(limit(
                    &format!("{f}.filters"),
                    format!("more than {} filters", limits::MAX_CHILDREN),
                ));
            }
            for (i, p) in ev.filters.iter().enumerate() {
                let pf = format!("{f}.filters[{i}]");
                check_predicate(&pf, p)?;
                if p.name.split('.').any(str::is_empty) {
                    return Err(mismatch(
                        &format!("{pf}.name"),
                        format!("{:?} is not a property path (dotted names)", p.name),
                    ));
                }
            }
            Ok(())
        }
        Expr::InAudience(k) => check_name(&format!("{field}.in_audience"), k),
        Expr::Consent(c) => check_name(&format!("{field}.consent"), c),
    }
}

fn typed(field: &str, p: &Predicate, declared: ValueType) -> Result<()> {
    if declared == ValueType::Any {
        return Ok(());
    }
    let Some(v) = &p.value else { return Ok(()) };
    let lt = literal_type(v);
    let ok = match p.op {
        CmpOp::Exists => true,
        CmpOp::Eq | CmpOp::Ne | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => lt == declared,
        CmpOp::In => match v {
            Literal::List(items) => items.iter().all(|x| literal_type(x) == declared),
            _ => false,
        },
        CmpOp::Contains => {
            declared == ValueType::List
                || (declared == ValueType::String && lt == ValueType::String)
        }
        CmpOp::StartsWith => declared == ValueType::String,
    };
    if ok {
        Ok(())
    } else {
        Err(mismatch(
            &format!("{field}.value"),
            format!(
                "{:?} is declared {}; `{} {}` does not apply to it",
                p.name,
                declared.as_str(),
                p.op.as_str(),
                if p.op == CmpOp::In {
                    "[..]".to_owned()
                } else {
                    format!("<{}>", lt.as_str())
                }
            ),
        ))
    }
}

fn unknown(
    field: String,
    kind: &'static str,
    name: &str,
    known: impl Iterator<Item = String>,
) -> Error {
    let known: Vec<String> = known.collect();
    Error::UnknownName {
        field,
        kind,
        name: name.to_owned(),
        suggestion: suggestion(name, known.iter().map(String::as_str)),
    }
}

/// Validates the names and types of `e` against `schema`; audience references
/// are checked against `audiences` when given.
pub(crate) fn validate(e: &Expr, schema: &Schema, audiences: Option<&[&str]>) -> Result<()> {
    check(e)?;
    validate_at(e, "$", schema, audiences)
}

fn validate_at(e: &Expr, field: &str, schema: &Schema, audiences: Option<&[&str]>) -> Result<()> {
    match e {
        Expr::And(items) | Expr::Or(items) => {
            let word = if matches!(e, Expr::And(_)) {
                "and"
            } else {
                "or"
            };
            for (i, x) in items.iter().enumerate() {
                validate_at(x, &format!("{field}.{word}[{i}]"), schema, audiences)?;
            }
            Ok(())
        }
        Expr::Not(x) => validate_at(x, &format!("{field}.not"), schema, audiences),
        Expr::Trait(p) | Expr::Computed(p) => {
            let (key, kind, declared) = match e {
                Expr::Trait(_) => ("trait", "trait", &schema.traits),
                _ => ("computed", "computed trait", &schema.computed),
            };
            let f = format!("{field}.{key}");
            let t = declared.get(&p.name).ok_or_else(|| {
                unknown(format!("{f}.name"), kind, &p.name, declared.keys().cloned())
            })?;
            typed(&f, p, *t)
        }
        Expr::Event(ev) => {
            let f = format!("{field}.event");
            let props = schema.events.get(&ev.event).ok_or_else(|| {
                unknown(
                    format!("{f}.event"),
                    "event",
                    &ev.event,
                    schema.events.keys().cloned(),
                )
            })?;
            for (i, p) in ev.filters.iter().enumerate() {
                let pf = format!("{f}.filters[{i}]");
                if props.is_empty() {
                    continue;
                }
                let t = props.get(&p.name).ok_or_else(|| {
                    unknown(
                        format!("{pf}.name"),
                        "property",
                        &p.name,
                        props.keys().cloned(),
                    )
                })?;
                typed(&pf, p, *t)?;
            }
            Ok(())
        }
        Expr::InAudience(k) => match audiences {
            Some(known) if !known.contains(&k.as_str()) => Err(unknown(
                format!("{field}.in_audience"),
                "audience",
                k,
                known.iter().map(|s| (*s).to_owned()),
            )),
            _ => Ok(()),
        },
        Expr::Consent(_) => Ok(()),
    }
}
