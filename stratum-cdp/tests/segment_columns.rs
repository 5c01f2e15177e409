//! Columnar evaluation: every typed column (floats, integers, decimals, booleans,
//! dictionary-encoded strings, timestamps) gives the same members as the same
//! values in a JSON column (the general path that incremental evaluation shares),
//! for every operator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use stratum_cdp::segment::{AudienceDefinition, AudienceSet, Column, ProfileTable};

fn eval(text: &str, col: Column) -> Vec<bool> {
    let set = AudienceSet::new(vec![AudienceDefinition::parse("a", text).unwrap()], None).unwrap();
    let mut t = ProfileTable::new(col.len());
    t.add_trait("x", col).unwrap();
    set.evaluate(&t).unwrap()[0].to_bools()
}

const NUM_OPS: &[&str] = &["=", "!=", "<", "<=", ">", ">="];

fn number_text(d: Decimal) -> String {
    d.to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn integer_columns_agree_with_json(
        xs in proptest::collection::vec(proptest::option::of(-50i64..50), 0..300),
        lit in (-5000i64..5000, 0u32..3),
        op in 0usize..6,
    ) {
        let d = Decimal::new(lit.0, lit.1);
        let text = format!("x {} {}", NUM_OPS[op], number_text(d));
        let typed = eval(&text, Column::I64(xs.clone()));
        let json = eval(&text, Column::Json(xs.iter().map(|x| x.map(Value::from)).collect()));
        let dec = eval(&text, Column::Decimal(xs.iter().map(|x| x.map(Decimal::from)).collect()));
        prop_assert_eq!(&typed, &json, "{}", text);
        prop_assert_eq!(&dec, &json, "{}", text);
    }

    #[test]
    fn float_columns_agree_with_json_for_short_decimals(
        xs in proptest::collection::vec(proptest::option::of(-500i64..500), 0..300),
        lit in -500i64..500,
        op in 0usize..6,
    ) {
        // values and literals with one decimal digit: the nearest f64 compares the
        // way the exact decimal does
        let text = format!("x {} {}", NUM_OPS[op], number_text(Decimal::new(lit, 1)));
        let floats: Vec<f64> = xs.iter().map(|x| x.map_or(f64::NAN, |v| v as f64 / 10.0)).collect();
        let typed = eval(&text, Column::F64(floats.clone()));
        let json = eval(&text, Column::Json(floats.iter().map(|f| (!f.is_nan()).then(|| json!(f))).collect()));
        prop_assert_eq!(typed, json, "{}", text);
    }

    #[test]
    fn string_and_bool_columns_agree_with_json(
        xs in proptest::collection::vec(proptest::option::of("[ab]{0,3}"), 0..300),
        lit in "[ab]{0,2}",
        lit2 in "[ab]{0,2}",
        op in 0usize..5,
        bools in proptest::collection::vec(proptest::option::of(any::<bool>()), 0..100),
        b in any::<bool>(),
    ) {
        let text = match op {
            0 => format!("x = {lit:?}"),
            1 => format!("x != {lit:?}"),
            2 => format!("x starts_with {lit:?}"),
            3 => format!("x contains {lit:?}"),
            _ => format!("x in [{lit:?}, {lit2:?}]"),
        };
        let typed = eval(&text, Column::Str(xs.clone()));
        let json = eval(&text, Column::Json(xs.iter().map(|x| x.clone().map(Value::from)).collect()));
        prop_assert_eq!(typed, json, "{}", text);
        for t in [format!("x = {b}"), format!("x != {b}")] {
            let typed = eval(&t, Column::Bool(bools.clone()));
            let json = eval(&t, Column::Json(bools.iter().map(|x| x.map(Value::from)).collect()));
            prop_assert_eq!(typed, json, "{}", t);
        }
    }

    #[test]
    fn timestamp_columns_agree_with_json(
        xs in proptest::collection::vec(proptest::option::of(0i64..1000), 0..200),
        lit in 0i64..1000,
        op in 0usize..6,
    ) {
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let at = |m: i64| base + chrono::TimeDelta::minutes(m);
        let text = format!("x {} timestamp({:?})", NUM_OPS[op], at(lit).to_rfc3339());
        let times: Vec<Option<DateTime<Utc>>> = xs.iter().map(|x| x.map(at)).collect();
        let typed = eval(&text, Column::Timestamp(times.clone()));
        let json = eval(&text, Column::Json(times.iter().map(|t| t.map(|t| json!(t.to_rfc3339()))).collect()));
        prop_assert_eq!(typed, json, "{}", text);
    }
}

#[test]
fn rows_past_a_block_and_a_word_boundary_are_exact() {
    // 4,096-row blocks and 64-row words: a length that is neither
    let n = 4096 * 2 + 65;
    let xs: Vec<Option<i64>> = (0..n as i64).map(|i| Some(i % 7)).collect();
    let got = eval("x >= 3 and not x = 5", Column::I64(xs.clone()));
    let want: Vec<bool> = xs
        .iter()
        .map(|x| matches!(x, Some(v) if *v >= 3 && *v != 5))
        .collect();
    assert_eq!(got, want);
}
