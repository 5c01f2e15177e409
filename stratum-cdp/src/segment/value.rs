//! How a literal compares with a profile value: one function, used by the
//! compiled plan's general path, by incremental evaluation and by the reference
//! evaluator.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use super::ast::{CmpOp, Literal};
use crate::computed::{ComputedValue, number};

/// A value read from a profile (or a table cell).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// Missing or `null`.
    Missing,
    /// A JSON value.
    Json(&'a Value),
    /// An exact number.
    Num(Decimal),
    /// An integer (a JSON integer read with [`Cell::read_number`]): compares
    /// exactly like the same [`Cell::Num`], and without decimal arithmetic against
    /// a literal whose [`int_bounds`] are known.
    Int(i64),
    /// A list of JSON values.
    List(&'a [Value]),
    /// A string (from a string column).
    Str(&'a str),
    /// A boolean (from a boolean column).
    Bool(bool),
    /// A float (from a float column): compares with the literal's nearest `f64`.
    F64(f64),
    /// An instant (from a timestamp column).
    Time(DateTime<Utc>),
}

impl<'a> Cell<'a> {
    pub(crate) fn json(v: Option<&'a Value>) -> Self {
        match v {
            None | Some(Value::Null) => Cell::Missing,
            Some(Value::Array(a)) => Cell::List(a),
            Some(v) => Cell::Json(v),
        }
    }

    pub(crate) fn computed(v: &'a ComputedValue) -> Self {
        match v {
            ComputedValue::Count(n) => Cell::Num(Decimal::from(*n)),
            ComputedValue::Number(d) => Cell::Num(*d),
            ComputedValue::Value(v) => Cell::json(Some(v)),
            ComputedValue::List(l) => Cell::List(l),
            ComputedValue::Null => Cell::Missing,
        }
    }

    /// The same cell with a JSON number read as an exact number once (it then
    /// compares exactly as before, without reading the number again).
    pub(crate) fn read_number(self) -> Self {
        match self {
            Cell::Json(v @ Value::Number(n)) => match n.as_i64() {
                Some(i) => Cell::Int(i),
                None => number(v).map_or(self, Cell::Num),
            },
            c => c,
        }
    }

    fn num(self) -> Option<Decimal> {
        match self {
            Cell::Num(d) => Some(d),
            Cell::Int(i) => Some(Decimal::from(i)),
            Cell::Json(v) => number(v),
            _ => None,
        }
    }

    fn str(self) -> Option<&'a str> {
        match self {
            Cell::Json(Value::String(s)) => Some(s),
            Cell::Str(s) => Some(s),
            _ => None,
        }
    }

    fn time(self) -> Option<DateTime<Utc>> {
        if let Cell::Time(t) = self {
            return Some(t);
        }
        self.str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
    }
}

fn json_eq_lit(v: &Value, lit: &Literal) -> bool {
    scalar_eq(Cell::json(Some(v)), lit)
}

// Float cells compare exactly with the literal's nearest `f64`, as documented.
#[allow(clippy::float_cmp)]
fn scalar_eq(c: Cell<'_>, lit: &Literal) -> bool {
    if let (Cell::F64(x), Literal::Number(d)) = (c, lit) {
        return d.to_f64().is_some_and(|t| x == t);
    }
    if let (Cell::Bool(x), Literal::Bool(b)) = (c, lit) {
        return x == *b;
    }
    match lit {
        Literal::String(s) => c.str() == Some(s.as_str()),
        Literal::Number(d) => c.num() == Some(*d),
        Literal::Bool(b) => matches!(c, Cell::Json(Value::Bool(x)) if x == b),
        Literal::Timestamp(t) => c.time() == Some(*t),
        Literal::List(_) => false,
    }
}

fn order(c: Cell<'_>, lit: &Literal) -> Option<std::cmp::Ordering> {
    if let (Cell::F64(x), Literal::Number(d)) = (c, lit) {
        return d.to_f64().and_then(|t| x.partial_cmp(&t));
    }
    match lit {
        Literal::Number(d) => c.num().map(|x| x.cmp(d)),
        Literal::Timestamp(t) => c.time().map(|x| x.cmp(t)),
        _ => None,
    }
}

/// Whether `cell op lit` holds. A missing value satisfies only `!=`.
pub(crate) fn matches(cell: Cell<'_>, op: CmpOp, lit: Option<&Literal>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    if matches!(cell, Cell::Missing) || matches!(cell, Cell::F64(x) if x.is_nan()) {
        return op == CmpOp::Ne;
    }
    let Some(lit) = lit else {
        return op == CmpOp::Exists;
    };
    match op {
        CmpOp::Exists => true,
        CmpOp::Eq => scalar_eq(cell, lit),
        CmpOp::Ne => !scalar_eq(cell, lit),
        CmpOp::Lt => order(cell, lit) == Some(Less),
        CmpOp::Le => matches!(order(cell, lit), Some(Less | Equal)),
        CmpOp::Gt => order(cell, lit) == Some(Greater),
        CmpOp::Ge => matches!(order(cell, lit), Some(Greater | Equal)),
        CmpOp::In => match lit {
            Literal::List(items) => items.iter().any(|x| scalar_eq(cell, x)),
            _ => false,
        },
        CmpOp::Contains => match (cell, lit) {
            (Cell::List(items), lit) => items.iter().any(|v| json_eq_lit(v, lit)),
            (c, Literal::String(s)) => c.str().is_some_and(|x| x.contains(s.as_str())),
            _ => false,
        },
        CmpOp::StartsWith => match lit {
            Literal::String(s) => cell.str().is_some_and(|x| x.starts_with(s.as_str())),
            _ => false,
        },
    }
}

/// A number literal as `(floor, whether it is an integer)`, when the floor fits an
/// `i64`: [`matches_int`] then compares integer cells with it exactly, without
/// decimal arithmetic.
pub(crate) fn int_bounds(lit: Option<&Literal>) -> Option<(i64, bool)> {
    let Some(Literal::Number(d)) = lit else {
        return None;
    };
    let f = d.floor();
    f.to_i64().map(|i| (i, f == *d))
}

/// [`matches()`], given the literal's [`int_bounds`] (computed once, when a plan is
/// compiled): an integer cell compares with them directly.
pub(crate) fn matches_int(
    cell: Cell<'_>,
    op: CmpOp,
    lit: Option<&Literal>,
    bounds: Option<(i64, bool)>,
) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let (Cell::Int(x), Some((floor, exact))) = (cell, bounds) else {
        return matches(cell, op, lit);
    };
    // x against the literal d, floor = floor(d): below the floor is below d, above
    // it is above d (d < floor + 1 <= x), and at the floor x equals d only when d
    // is an integer (it is below d otherwise).
    let o = match x.cmp(&floor) {
        Equal if !exact => Less,
        o => o,
    };
    match op {
        CmpOp::Eq => o == Equal,
        CmpOp::Ne => o != Equal,
        CmpOp::Lt => o == Less,
        CmpOp::Le => o != Greater,
        CmpOp::Gt => o == Greater,
        CmpOp::Ge => o != Less,
        _ => matches(cell, op, lit),
    }
}

/// The property at a dotted path; `null` counts as missing.
pub(crate) fn lookup<'a>(
    properties: &'a serde_json::Map<String, Value>,
    path: &str,
) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = properties.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    (!cur.is_null()).then_some(cur)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{Cell, CmpOp, Literal, int_bounds, matches, matches_int};

    const OPS: [CmpOp; 8] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Exists,
        CmpOp::Contains,
    ];

    fn decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            // integers and near-integers around small values
            (-1_000i64..1_000, 0u32..4).prop_map(|(m, scale)| Decimal::new(m, scale)),
            // the edges of i64 and beyond
            (any::<i64>(), 0u32..3).prop_map(|(m, scale)| Decimal::new(m, scale)),
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(Decimal::from(i64::MAX) + Decimal::new(5, 1)),
            Just(Decimal::from(i64::MIN) - Decimal::new(5, 1)),
        ]
    }

    proptest! {
        /// The integer path gives what the general (decimal) comparison gives, for
        /// every operator, integer and literal, fractional and out-of-range ones
        /// included.
        #[test]
        fn integer_cells_compare_as_decimals_do(
            x in prop_oneof![-1_200i64..1_200, any::<i64>(), Just(i64::MAX), Just(i64::MIN)],
            d in decimal(),
            op in proptest::sample::select(OPS.to_vec()),
        ) {
            let lit = Literal::Number(d);
            let general = matches(Cell::Num(Decimal::from(x)), op, Some(&lit));
            let fast = matches_int(Cell::Int(x), op, Some(&lit), int_bounds(Some(&lit)));
            prop_assert_eq!(fast, general, "{} {:?} {}", x, op, d);
            // the same integer given as JSON reads as the integer cell
            let json = serde_json::json!(x);
            let read = Cell::json(Some(&json)).read_number();
            prop_assert_eq!(matches_int(read, op, Some(&lit), int_bounds(Some(&lit))), general);
        }
    }
}
