//! Computed traits: definitions and validation, golden values per kind, windows,
//! incremental == full recomputation (property test), merges and unmerges in `Cdp`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use stratum_cdp::computed::{
    ComputedTraits, ComputedValue, PropertyFilter, TraitDefinition, TraitEvent, TraitKind,
};
use stratum_cdp::identity::IdentityConfig;
use stratum_cdp::message::{ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore};

fn def(v: Value) -> TraitDefinition {
    serde_json::from_value(v).unwrap()
}

fn ev(mid: &str, minute: i64, name: &str, props: Value) -> TraitEvent {
    TraitEvent {
        name: Some(name.to_owned()),
        timestamp: at(minute),
        message_id: mid.to_owned(),
        properties: props.as_object().unwrap().clone(),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn value_of(d: &TraitDefinition, events: &[TraitEvent], now: DateTime<Utc>) -> ComputedValue {
    let mut st = d.new_state();
    for e in events {
        d.apply(&mut st, e);
    }
    st.value(now)
}

#[test]
fn definitions_deserialise_and_round_trip() {
    let d = def(json!({
        "name": "eur_orders_30d", "kind": "sum", "property": "total",
        "event": "Order Completed",
        "filters": [{"op": "equals", "property": "currency", "value": "EUR"},
                    {"op": "gte", "property": "total", "value": 10}],
        "window_seconds": 2_592_000
    }));
    assert_eq!(d.name(), "eur_orders_30d");
    assert_eq!(
        d.kind(),
        &TraitKind::Sum {
            property: "total".into()
        }
    );
    assert_eq!(d.window(), Some(TimeDelta::days(30)));
    let back: TraitDefinition = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
    assert_eq!(back, d);
    let c = def(json!({"name": "visits", "kind": "count"}));
    assert_eq!(c.window(), None);
}

#[test]
fn invalid_definitions_are_typed_errors() {
    let cases = [
        (json!({"name": "", "kind": "count"}), "name"),
        (
            json!({"name": "x", "kind": "sum", "property": ""}),
            "property",
        ),
        (
            json!({"name": "x", "kind": "max", "property": "a..b"}),
            "property",
        ),
        (json!({"name": "x", "kind": "count", "event": ""}), "event"),
        (
            json!({"name": "x", "kind": "count", "window_seconds": 0}),
            "window_seconds",
        ),
        (
            json!({"name": "x", "kind": "count", "window_seconds": 400_000_000}),
            "window_seconds",
        ),
        (
            json!({"name": "x", "kind": "count", "filters": [{"op": "exists", "property": ""}]}),
            "filters[0].property",
        ),
    ];
    for (v, field) in cases {
        let e = TraitDefinition::new(
            v["name"].as_str().unwrap(),
            serde_json::from_value(v.clone()).unwrap(),
            v.get("event").and_then(Value::as_str).map(str::to_owned),
            serde_json::from_value(v.get("filters").cloned().unwrap_or(json!([]))).unwrap(),
            v.get("window_seconds").and_then(Value::as_i64),
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_definition", "{v}");
        assert_eq!(e.field(), Some(field), "{v}");
        // Through serde the same validation runs.
        assert!(serde_json::from_value::<TraitDefinition>(v).is_err());
    }
    // Kind and property must agree; unknown fields (a misspelt window) are refused.
    for (v, field) in [
        (json!({"name": "x", "kind": "sum"}), "property"),
        (
            json!({"name": "x", "kind": "count", "property": "a"}),
            "property",
        ),
    ] {
        let msg = serde_json::from_value::<TraitDefinition>(v)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&format!("`{field}`")), "{msg}");
    }
    assert!(
        serde_json::from_value::<TraitDefinition>(
            json!({"name": "x", "kind": "count", "window_second": 60})
        )
        .is_err()
    );
    assert!(
        serde_json::from_value::<TraitDefinition>(json!({"name": "x", "kind": "count",
            "filters": [{"op": "exists", "property": "a", "value": 1}]}))
        .is_err()
    );
    assert_eq!(
        TraitKind::from_parts(stratum_cdp::computed::Op::Max, None)
            .unwrap_err()
            .code(),
        "invalid_definition"
    );
    // An unknown kind is a serde error.
    assert!(
        serde_json::from_value::<TraitDefinition>(json!({"name": "x", "kind": "median"})).is_err()
    );
    // Duplicate names in a set.
    let e = ComputedTraits::new(vec![
        def(json!({"name": "n", "kind": "count"})),
        def(json!({"name": "n", "kind": "count", "event": "x"})),
    ])
    .unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_definition", Some("[1].name"))
    );
}

fn orders() -> Vec<TraitEvent> {
    vec![
        ev(
            "m1",
            0,
            "Order Completed",
            json!({"total": 10.5, "currency": "EUR", "sku": "b"}),
        ),
        ev(
            "m2",
            60,
            "Order Completed",
            json!({"total": 4, "currency": "USD", "sku": "a"}),
        ),
        ev(
            "m3",
            120,
            "Order Completed",
            json!({"total": 20.25, "currency": "EUR", "sku": "a"}),
        ),
        ev("m4", 120, "Page Viewed", json!({"total": 1000})),
        ev(
            "m5",
            180,
            "Order Completed",
            json!({"currency": "EUR", "sku": "c"}),
        ),
    ]
}

#[test]
fn golden_values_for_every_kind() {
    let events = orders();
    let now = at(1000);
    let on = |kind: Value| {
        let mut v = json!({"name": "t", "event": "Order Completed"});
        v.as_object_mut()
            .unwrap()
            .extend(kind.as_object().unwrap().clone());
        value_of(&def(v), &events, now)
    };
    // m1, m2, m3, m5 are orders.
    assert_eq!(on(json!({"kind": "count"})), ComputedValue::Count(4));
    // 10.5 + 4 + 20.25 = 34.75 (m5 has no total and is skipped).
    assert_eq!(
        on(json!({"kind": "sum", "property": "total"})),
        ComputedValue::Number(dec("34.75"))
    );
    // 34.75 / 3 = 11.583333… (28 significant digits).
    assert_eq!(
        on(json!({"kind": "avg", "property": "total"})),
        ComputedValue::Number(dec("11.583333333333333333333333333"))
    );
    assert_eq!(
        on(json!({"kind": "min", "property": "total"})),
        ComputedValue::Number(dec("4"))
    );
    assert_eq!(
        on(json!({"kind": "max", "property": "total"})),
        ComputedValue::Number(dec("20.25"))
    );
    assert_eq!(
        on(json!({"kind": "first", "property": "sku"})),
        ComputedValue::Value(json!("b"))
    );
    assert_eq!(
        on(json!({"kind": "last", "property": "sku"})),
        ComputedValue::Value(json!("c"))
    );
    // a twice, b and c once.
    assert_eq!(
        on(json!({"kind": "most_frequent", "property": "sku"})),
        ComputedValue::Value(json!("a"))
    );
    assert_eq!(
        on(json!({"kind": "unique_list", "property": "sku"})),
        ComputedValue::List(vec![json!("a"), json!("b"), json!("c")])
    );
    assert_eq!(
        on(json!({"kind": "unique_count", "property": "currency"})),
        ComputedValue::Count(2)
    );
    // Filters: EUR orders with total ≥ 10 → m1, m3.
    assert_eq!(
        on(json!({"kind": "sum", "property": "total", "filters": [
            {"op": "equals", "property": "currency", "value": "EUR"},
            {"op": "gte", "property": "total", "value": 10}]})),
        ComputedValue::Number(dec("30.75"))
    );
    // not_equals passes a missing property; exists does not. Page m4 counts
    // without an event match.
    let all = |filters: Value| {
        value_of(
            &def(json!({"name": "t", "kind": "count", "filters": filters})),
            &events,
            now,
        )
    };
    assert_eq!(
        all(json!([{"op": "not_equals", "property": "currency", "value": "EUR"}])),
        ComputedValue::Count(2) // m2 (USD), m4 (none)
    );
    assert_eq!(
        all(json!([{"op": "exists", "property": "currency"}])),
        ComputedValue::Count(4)
    );
    assert_eq!(
        all(json!([{"op": "lt", "property": "total", "value": "10.5"}])),
        ComputedValue::Count(1) // m2
    );
    assert_eq!(
        all(
            json!([{"op": "lte", "property": "total", "value": 10.5}, {"op": "gt", "property": "total", "value": 4}])
        ),
        ComputedValue::Count(1) // m1
    );
    // Empty values.
    let none = value_of(
        &def(json!({"name": "t", "kind": "max", "property": "nope"})),
        &events,
        now,
    );
    assert_eq!(none, ComputedValue::Null);
    let zero = value_of(
        &def(json!({"name": "t", "kind": "count", "event": "nope"})),
        &events,
        now,
    );
    assert_eq!(zero, ComputedValue::Count(0));
}

#[test]
fn numbers_are_read_exactly_from_their_json_text() {
    use stratum_cdp::computed::number;
    assert_eq!(number(&json!(0.1)), Some(dec("0.1")));
    assert_eq!(number(&json!(-42)), Some(dec("-42")));
    assert_eq!(number(&json!(1e-7)), Some(dec("0.0000001")));
    assert_eq!(number(&json!(1.5e20)), Some(dec("150000000000000000000")));
    assert_eq!(number(&json!(u64::MAX)), Some(dec("18446744073709551615")));
    // Beyond ±7.9e28, and strings, are not numbers.
    assert_eq!(number(&json!(1e300)), None);
    assert_eq!(number(&json!("7")), None);
    // 0.1 + 0.2 is exactly 0.3 (not 0.30000000000000004).
    let d = def(json!({"name": "s", "kind": "sum", "property": "x"}));
    let evs = [
        ev("a", 0, "e", json!({"x": 0.1})),
        ev("b", 1, "e", json!({"x": 0.2})),
    ];
    assert_eq!(value_of(&d, &evs, at(5)), ComputedValue::Number(dec("0.3")));
}

#[test]
fn first_and_last_tie_on_message_id_and_nested_paths_work() {
    let events = vec![
        ev("m9", 5, "e", json!({"o": {"v": "nine"}})),
        ev("m1", 5, "e", json!({"o": {"v": "one"}})),
    ];
    let first = def(json!({"name": "f", "kind": "first", "property": "o.v"}));
    let last = def(json!({"name": "l", "kind": "last", "property": "o.v"}));
    assert_eq!(
        value_of(&first, &events, at(9)),
        ComputedValue::Value(json!("one"))
    );
    assert_eq!(
        value_of(&last, &events, at(9)),
        ComputedValue::Value(json!("nine"))
    );
}

#[test]
fn rolling_window_slides_and_prune_keeps_later_values_exact() {
    // A one-hour window over events at minutes 0, 30, 60, 90.
    let d = def(json!({"name": "w", "kind": "sum", "property": "x", "window_seconds": 3600}));
    let mut st = d.new_state();
    for (i, m) in [0i64, 30, 60, 90].into_iter().enumerate() {
        d.apply(&mut st, &ev(&format!("m{i}"), m, "e", json!({"x": m + 1})));
    }
    let sum = |st: &stratum_cdp::computed::TraitState, m| st.value(at(m));
    // (now − 60 min, now]: at 60 → 31 + 61 = 92 (minute 0 is out: start is exclusive).
    assert_eq!(sum(&st, 60), ComputedValue::Number(dec("92")));
    // At 90: 61 + 91 = 152; at 100: the same; at 200: nothing.
    assert_eq!(sum(&st, 90), ComputedValue::Number(dec("152")));
    assert_eq!(sum(&st, 100), ComputedValue::Number(dec("152")));
    assert_eq!(sum(&st, 200), ComputedValue::Number(dec("0")));
    // Before any event: 0; an event after `now` does not count: at 45 → 1 + 31.
    assert_eq!(sum(&st, 45), ComputedValue::Number(dec("32")));
    assert_eq!(st.retained(), 4);
    // Pruning before minute 100 drops minutes 0 and 30 (≤ 100 − 60).
    st.prune(at(100));
    assert_eq!(st.retained(), 2);
    assert_eq!(sum(&st, 100), ComputedValue::Number(dec("152")));
    assert_eq!(sum(&st, 130), ComputedValue::Number(dec("91")));
}

#[test]
fn states_serialise() {
    let d = def(json!({"name": "u", "kind": "unique_list", "property": "sku"}));
    let mut st = d.new_state();
    for e in orders() {
        d.apply(&mut st, &e);
    }
    let back: stratum_cdp::computed::TraitState =
        serde_json::from_value(serde_json::to_value(&st).unwrap()).unwrap();
    assert_eq!(back, st);
    assert_eq!(
        serde_json::to_value(ComputedValue::Number(dec("1.5"))).unwrap(),
        json!({"type": "number", "value": "1.5"})
    );
}

// ---- property test: incremental (any order, split and merged) == oracle ----

#[derive(Debug, Clone)]
struct GenEvent {
    minute: i64,
    mid: u16,
    name: u8,
    cents: Option<i64>,
    sku: Option<u8>,
}

fn gen_events() -> impl Strategy<Value = Vec<GenEvent>> {
    prop::collection::vec(
        (
            0i64..600,
            any::<u16>(),
            0u8..3,
            prop::option::of(-50_000i64..50_000),
            prop::option::of(0u8..4),
        )
            .prop_map(|(minute, mid, name, cents, sku)| GenEvent {
                minute,
                mid,
                name,
                cents,
                sku,
            }),
        0..40,
    )
    .prop_map(|mut v| {
        // Message ids are unique per event.
        for (i, e) in v.iter_mut().enumerate() {
            e.mid = e.mid.wrapping_mul(64).wrapping_add(i as u16 % 64);
        }
        v.sort_by_key(|e| e.mid);
        v.dedup_by_key(|e| e.mid);
        v
    })
}

fn to_event(g: &GenEvent) -> TraitEvent {
    let mut p = Map::new();
    if let Some(c) = g.cents {
        // cents / 100 as a JSON float: its shortest text is the exact decimal.
        p.insert("amount".into(), json!(c as f64 / 100.0));
    }
    if let Some(s) = g.sku {
        p.insert("sku".into(), json!(["a", "b", "c", "d"][s as usize]));
    }
    TraitEvent {
        name: Some(["view", "buy", "refund"][g.name as usize].to_owned()),
        timestamp: at(g.minute),
        message_id: format!("m{:05}", g.mid),
        properties: p,
    }
}

const KINDS: [&str; 10] = [
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
    "most_frequent",
    "unique_list",
    "unique_count",
];

/// The expected value, computed directly from the event list.
fn oracle(
    kind: &str,
    event: Option<u8>,
    min_cents: Option<i64>,
    window: Option<i64>,
    events: &[GenEvent],
    now_minute: i64,
) -> ComputedValue {
    let numeric = matches!(kind, "sum" | "avg" | "min" | "max");
    let mut m: Vec<&GenEvent> = events
        .iter()
        .filter(|e| event.is_none_or(|n| n == e.name))
        .filter(|e| min_cents.is_none_or(|t| e.cents.is_some_and(|c| c > t)))
        .filter(|e| window.is_none_or(|w| e.minute > now_minute - w && e.minute <= now_minute))
        .filter(|e| match kind {
            "count" => true,
            _ if numeric => e.cents.is_some(),
            _ => e.sku.is_some(),
        })
        .collect();
    m.sort_by_key(|e| (e.minute, e.mid));
    let nums: Vec<Decimal> = m
        .iter()
        .filter_map(|e| e.cents.map(|c| Decimal::new(c, 2)))
        .collect();
    let skus: Vec<&str> = m
        .iter()
        .filter_map(|e| e.sku.map(|s| ["a", "b", "c", "d"][s as usize]))
        .collect();
    let total: Decimal = nums.iter().sum();
    match kind {
        "count" => ComputedValue::Count(m.len() as u64),
        "sum" => ComputedValue::Number(total),
        "avg" if nums.is_empty() => ComputedValue::Null,
        "avg" => ComputedValue::Number(total / Decimal::from(nums.len() as u64)),
        "min" => nums
            .iter()
            .min()
            .map_or(ComputedValue::Null, |x| ComputedValue::Number(*x)),
        "max" => nums
            .iter()
            .max()
            .map_or(ComputedValue::Null, |x| ComputedValue::Number(*x)),
        "first" => skus
            .first()
            .map_or(ComputedValue::Null, |s| ComputedValue::Value(json!(s))),
        "last" => skus
            .last()
            .map_or(ComputedValue::Null, |s| ComputedValue::Value(json!(s))),
        "most_frequent" => {
            let mut best: Option<(usize, &str)> = None;
            for s in ["a", "b", "c", "d"] {
                let n = skus.iter().filter(|x| **x == s).count();
                if n > 0 && best.is_none_or(|(b, _)| n > b) {
                    best = Some((n, s));
                }
            }
            best.map_or(ComputedValue::Null, |(_, s)| ComputedValue::Value(json!(s)))
        }
        "unique_list" | "unique_count" => {
            let mut u: Vec<&str> = skus.clone();
            u.sort_unstable();
            u.dedup();
            if kind == "unique_count" {
                ComputedValue::Count(u.len() as u64)
            } else {
                ComputedValue::List(u.into_iter().map(|s| json!(s)).collect())
            }
        }
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn incremental_equals_recomputation(
        events in gen_events(),
        kind in 0usize..KINDS.len(),
        event in prop::option::of(0u8..3),
        min_cents in prop::option::of(-20_000i64..20_000),
        window in prop::option::of(1i64..300),
        now_minute in -10i64..700,
        split in any::<prop::sample::Index>(),
        order in any::<u64>(),
    ) {
        let kind_name = KINDS[kind];
        let mut v = json!({"name": "t", "kind": kind_name});
        let o = v.as_object_mut().unwrap();
        if kind_name != "count" {
            let numeric = matches!(kind_name, "sum" | "avg" | "min" | "max");
            o.insert("property".into(), json!(if numeric { "amount" } else { "sku" }));
        }
        if let Some(n) = event {
            o.insert("event".into(), json!(["view", "buy", "refund"][n as usize]));
        }
        if let Some(t) = min_cents {
            let f = PropertyFilter::Gt { property: "amount".into(), value: Decimal::new(t, 2) };
            o.insert("filters".into(), json!([serde_json::to_value(f).unwrap()]));
        }
        if let Some(w) = window {
            o.insert("window_seconds".into(), json!(w * 60));
        }
        let d = def(v);
        let expected = oracle(kind_name, event, min_cents, window, &events, now_minute);

        // Arrival order: a deterministic shuffle.
        let mut shuffled: Vec<TraitEvent> = events.iter().map(to_event).collect();
        let mut s = order | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let now = at(now_minute);
        prop_assert_eq!(&value_of(&d, &shuffled, now), &expected);

        // Split between two profiles, then merged.
        let cut = if shuffled.is_empty() { 0 } else { split.index(shuffled.len() + 1) };
        let (a, b) = shuffled.split_at(cut);
        let mut sa = d.new_state();
        let mut sb = d.new_state();
        for e in a { d.apply(&mut sa, e); }
        for e in b { d.apply(&mut sb, e); }
        sb.merge(sa);
        prop_assert_eq!(&sb.value(now), &expected);

        // Pruning at any time up to `now` keeps the value at `now` exact.
        let mut pruned = sb.clone();
        pruned.prune(now - TimeDelta::minutes(split.index(30) as i64));
        prop_assert_eq!(&pruned.value(now), &expected);
    }
}

// ---- integration with profiles: merges and unmerges ----

fn track(mid: &str, minute: i64, ids: Value, props: Value) -> stratum_cdp::message::Message {
    let mut m = json!({"type": "track", "messageId": mid, "event": "Order Completed",
        "timestamp": at(minute).to_rfc3339(), "properties": props});
    m.as_object_mut()
        .unwrap()
        .extend(ids.as_object().unwrap().clone());
    parse_message(m.to_string().as_bytes(), at(1000), &ParseConfig::default()).unwrap()
}

fn traits() -> ComputedTraits {
    serde_json::from_value(json!([
        {"name": "orders", "kind": "count", "event": "Order Completed"},
        {"name": "revenue", "kind": "sum", "property": "total"},
        {"name": "avg_order", "kind": "avg", "property": "total"},
        {"name": "revenue_1h", "kind": "sum", "property": "total", "window_seconds": 3600},
        {"name": "first_sku", "kind": "first", "property": "sku"},
        {"name": "skus", "kind": "unique_list", "property": "sku"}
    ]))
    .unwrap()
}

#[test]
fn profiles_combine_on_merge_and_rebuild_on_unmerge() {
    let mut c = Cdp::with_computed_traits(
        IdentityConfig::default(),
        TimeDelta::hours(24),
        InMemoryProfileStore::new(),
        traits(),
    )
    .unwrap();
    // Two anonymous visitors buy; then one identify links both to user u1.
    c.ingest(&track(
        "t1",
        10,
        json!({"anonymousId": "a1"}),
        json!({"total": 10, "sku": "x"}),
    ))
    .unwrap();
    c.ingest(&track(
        "t2",
        20,
        json!({"anonymousId": "a2"}),
        json!({"total": 5.5, "sku": "y"}),
    ))
    .unwrap();
    c.ingest(&track(
        "t3",
        100,
        json!({"anonymousId": "a2"}),
        json!({"total": 2, "sku": "y"}),
    ))
    .unwrap();
    let p1 = c.graph().profile_of(&anon("a1")).unwrap();
    let v = c.computed_values(&p1, at(100)).unwrap();
    assert_eq!(v["orders"], ComputedValue::Count(1));
    assert_eq!(v["revenue"], ComputedValue::Number(dec("10")));

    let link = parse_message(
        json!({"type": "identify", "messageId": "i1", "userId": "u1", "anonymousId": "a1",
               "timestamp": at(30).to_rfc3339()})
        .to_string()
        .as_bytes(),
        at(1000),
        &ParseConfig::default(),
    )
    .unwrap();
    let link2 = parse_message(
        json!({"type": "identify", "messageId": "i2", "userId": "u1", "anonymousId": "a2",
               "timestamp": at(40).to_rfc3339()})
        .to_string()
        .as_bytes(),
        at(1000),
        &ParseConfig::default(),
    )
    .unwrap();
    c.ingest(&link).unwrap();
    c.ingest(&link2).unwrap();
    let p = c.graph().profile_of(&anon("a2")).unwrap();
    assert_eq!(Some(&p), c.graph().profile_of(&anon("a1")).as_ref());
    let v = c.computed_values(&p, at(100)).unwrap();
    // 10 + 5.5 + 2 = 17.5 over 3 orders; avg 5.8333…; in the hour up to minute
    // 100 only t3 (minute 100) and nothing before minute 40 → 2.
    assert_eq!(v["orders"], ComputedValue::Count(3));
    assert_eq!(v["revenue"], ComputedValue::Number(dec("17.5")));
    assert_eq!(
        v["avg_order"],
        ComputedValue::Number(dec("5.8333333333333333333333333333"))
    );
    assert_eq!(v["revenue_1h"], ComputedValue::Number(dec("2")));
    assert_eq!(v["first_sku"], ComputedValue::Value(json!("x")));
    assert_eq!(v["skus"], ComputedValue::List(vec![json!("x"), json!("y")]));
    assert_eq!(c.store().iter().count(), 1);

    // Unmerge: remove the link that joined a2; a2's orders leave the profile.
    c.remove_link("i2").unwrap();
    let pa1 = c.graph().profile_of(&anon("a1")).unwrap();
    let pa2 = c.graph().profile_of(&anon("a2")).unwrap();
    assert_ne!(pa1, pa2);
    let v1 = c.computed_values(&pa1, at(100)).unwrap();
    let v2 = c.computed_values(&pa2, at(100)).unwrap();
    assert_eq!(v1["orders"], ComputedValue::Count(1));
    assert_eq!(v1["revenue"], ComputedValue::Number(dec("10")));
    assert_eq!(v2["orders"], ComputedValue::Count(2));
    assert_eq!(v2["revenue"], ComputedValue::Number(dec("7.5")));
    assert_eq!(v2["first_sku"], ComputedValue::Value(json!("y")));
}

#[test]
fn merged_profile_equals_one_profile_given_all_events() {
    // The same events on one identity vs spread over three that later merge.
    let ids = ["a1", "a2", "a3"];
    let build = |spread: bool| {
        let mut c = Cdp::with_computed_traits(
            IdentityConfig::default(),
            TimeDelta::hours(24),
            InMemoryProfileStore::new(),
            traits(),
        )
        .unwrap();
        for i in 0..12i64 {
            let a = if spread { ids[i as usize % 3] } else { "a1" };
            c.ingest(&track(
                &format!("t{i:02}"),
                i * 7,
                json!({"anonymousId": a}),
                json!({"total": i, "sku": format!("s{}", i % 4)}),
            ))
            .unwrap();
        }
        for (k, a) in ids.iter().enumerate() {
            let m = parse_message(
                json!({"type": "identify", "messageId": format!("i{k}"), "userId": "u",
                       "anonymousId": a, "timestamp": at(200).to_rfc3339()})
                .to_string()
                .as_bytes(),
                at(1000),
                &ParseConfig::default(),
            )
            .unwrap();
            c.ingest(&m).unwrap();
        }
        let p = c.graph().profile_of(&user("u")).unwrap();
        c.computed_values(&p, at(80)).unwrap()
    };
    let merged = build(true);
    assert_eq!(merged, build(false));
    // 0 + 1 + … + 11 = 66.
    assert_eq!(merged["revenue"], ComputedValue::Number(dec("66")));
}

/// A generated message: its id, JSON, and for a `track` its cents and sku number.
type Generated = (String, Value, Option<(i64, u8)>);

fn ingest_json(c: &mut Cdp, v: &Value) {
    let m = parse_message(v.to_string().as_bytes(), at(5000), &ParseConfig::default()).unwrap();
    c.ingest(&m).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Whatever the arrival order (late events make the graph recompute) and after
    /// an unmerge, each profile's computed traits equal a recomputation from the
    /// events the graph now assigns to it.
    #[test]
    fn profile_traits_match_the_events_of_each_profile(
        raw in prop::collection::vec((0u8..4, 0u8..3, 0i64..300, -1000i64..1000, any::<bool>()), 1..25),
        order in any::<u64>(),
        remove in 0usize..25,
    ) {
        let mut msgs: Vec<Generated> = raw
            .iter()
            .enumerate()
            .map(|(i, &(a, u, minute, cents, is_track))| {
                let mid = format!("e{i:03}");
                let ts = at(minute).to_rfc3339();
                if is_track {
                    (mid.clone(), json!({"type": "track", "messageId": mid, "anonymousId": format!("a{a}"),
                        "event": "buy", "timestamp": ts,
                        "properties": {"amount": cents as f64 / 100.0, "sku": format!("s{}", a + u)}}),
                     Some((cents, a + u)))
                } else {
                    (mid.clone(), json!({"type": "identify", "messageId": mid, "anonymousId": format!("a{a}"),
                        "userId": format!("u{u}"), "timestamp": ts}), None)
                }
            })
            .collect();
        let mut s = order | 1;
        for i in (1..msgs.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            msgs.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let defs: ComputedTraits = serde_json::from_value(json!([
            {"name": "n", "kind": "count"},
            {"name": "sum", "kind": "sum", "property": "amount"},
            {"name": "skus", "kind": "unique_count", "property": "sku"},
            {"name": "w", "kind": "count", "window_seconds": 6000}
        ])).unwrap();
        let mut c = Cdp::with_computed_traits(
            IdentityConfig::default(), TimeDelta::hours(24), InMemoryProfileStore::new(), defs.clone(),
        ).unwrap();
        for (_, v, _) in &msgs {
            ingest_json(&mut c, v);
        }
        let check = |c: &Cdp| -> Result<(), TestCaseError> {
            let now = at(200);
            for p in c.graph().profiles() {
                let ex = c.graph().explain(&p).unwrap();
                let mine: Vec<(i64, u8, i64)> = msgs
                    .iter()
                    .filter(|(mid, _, _)| ex.links.iter().any(|l| &l.message_id == mid))
                    .filter_map(|(_, v, t)| t.map(|(cents, sku)| {
                        let minute = (chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap())
                            .unwrap().with_timezone(&Utc) - at(0)).num_minutes();
                        (cents, sku, minute)
                    }))
                    .collect();
                let mut skus: Vec<u8> = mine.iter().map(|m| m.1).collect();
                skus.sort_unstable();
                skus.dedup();
                let windowed = mine.iter().filter(|m| m.2 > 100 && m.2 <= 200).count();
                let v = c.computed_values(&p, now).unwrap();
                prop_assert_eq!(&v["n"], &ComputedValue::Count(mine.len() as u64));
                prop_assert_eq!(
                    &v["sum"],
                    &ComputedValue::Number(mine.iter().map(|m| Decimal::new(m.0, 2)).sum())
                );
                prop_assert_eq!(&v["skus"], &ComputedValue::Count(skus.len() as u64));
                prop_assert_eq!(&v["w"], &ComputedValue::Count(windowed as u64));
            }
            Ok(())
        };
        check(&c)?;
        // The profiles themselves (computed states included) equal the ones of
        // the canonical-order build.
        let mut sorted = msgs.clone();
        sorted.sort_by(|a, b| (a.1["timestamp"].as_str(), &a.0).cmp(&(b.1["timestamp"].as_str(), &b.0)));
        let mut reference = Cdp::with_computed_traits(
            IdentityConfig::default(), TimeDelta::hours(24), InMemoryProfileStore::new(), defs,
        ).unwrap();
        for (_, v, _) in &sorted {
            ingest_json(&mut reference, v);
        }
        prop_assert_eq!(c.graph().profiles(), reference.graph().profiles());
        for p in c.graph().profiles() {
            prop_assert_eq!(c.profile(&p).unwrap(), reference.profile(&p).unwrap());
        }
        let (mid, _, _) = &msgs[remove % msgs.len()];
        if c.remove_link(mid).is_ok() {
            check(&c)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A trait that prunes itself stays exact at every evaluation time from the
    /// latest event minus the allowed lateness on, whatever the arrival order, and
    /// holds only what the window and the lateness need.
    #[test]
    fn automatic_pruning_is_exact_from_the_latest_event_minus_the_lateness(
        events in prop::collection::vec(
            (0i64..600, any::<u16>(), prop::option::of(-50_000i64..50_000), prop::option::of(0u8..4))
                .prop_map(|(minute, mid, cents, sku)| GenEvent { minute, mid, name: 0, cents, sku }),
            0..300,
        ).prop_map(|mut v| {
            // Unique message ids (the order of ties).
            for (i, e) in v.iter_mut().enumerate() {
                e.mid = e.mid.wrapping_mul(512).wrapping_add(i as u16);
            }
            v
        }),
        kind in 0usize..KINDS.len(),
        window in 1i64..120,
        lateness in 0i64..60,
        after in 0i64..200,
        order in any::<u64>(),
    ) {
        let kind_name = KINDS[kind];
        let mut v = json!({"name": "t", "kind": kind_name, "window_seconds": window * 60,
            "allowed_lateness_seconds": lateness * 60});
        if kind_name != "count" {
            let numeric = matches!(kind_name, "sum" | "avg" | "min" | "max");
            v.as_object_mut().unwrap()
                .insert("property".into(), json!(if numeric { "amount" } else { "sku" }));
        }
        let d = def(v);
        prop_assert_eq!(d.allowed_lateness_seconds(), Some(lateness * 60));
        let mut shuffled: Vec<TraitEvent> = events.iter().map(to_event).collect();
        let mut s = order | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut state = d.new_state();
        let mut latest = None;
        for e in &shuffled {
            d.apply(&mut state, e);
            latest = latest.max(Some(e.timestamp));
            // Bounded: what the last `window + lateness` holds, doubled, or the floor.
            let horizon = latest.unwrap() - TimeDelta::minutes(window + lateness);
            let needed = shuffled.iter().filter(|x| x.timestamp > horizon).count();
            prop_assert!(state.retained() <= (2 * needed).max(64) + 1,
                "{} held, {} needed", state.retained(), needed);
        }
        if let Some(max) = events.iter().map(|e| e.minute).max() {
            let now_minute = max - lateness + after;
            let expected = oracle(kind_name, None, None, Some(window), &events, now_minute);
            prop_assert_eq!(&state.value(at(now_minute)), &expected);
        }
    }
}

#[test]
fn allowed_lateness_is_validated() {
    let windowed = json!({"name": "t", "kind": "count", "window_seconds": 60,
        "allowed_lateness_seconds": -1});
    let err = serde_json::from_value::<TraitDefinition>(windowed).unwrap_err();
    assert!(
        err.to_string().contains("allowed_lateness_seconds"),
        "{err}"
    );
    let all_time = json!({"name": "t", "kind": "count", "allowed_lateness_seconds": 60});
    let err = serde_json::from_value::<TraitDefinition>(all_time).unwrap_err();
    assert!(err.to_string().contains("windowed traits only"), "{err}");
    let ok = def(json!({"name": "t", "kind": "count", "window_seconds": 60,
        "allowed_lateness_seconds": 0}));
    let back: TraitDefinition = serde_json::from_value(serde_json::to_value(&ok).unwrap()).unwrap();
    assert_eq!(back, ok);
}

#[test]
fn windowed_states_do_not_depend_on_arrival_order() {
    let events = [
        track(
            "o1",
            10,
            json!({"userId": "u1"}),
            json!({"total": 5, "sku": "a"}),
        ),
        track(
            "o2",
            20,
            json!({"userId": "u1"}),
            json!({"total": 7, "sku": "b"}),
        ),
        track(
            "o3",
            20,
            json!({"anonymousId": "x1", "userId": "u1"}),
            json!({"total": 1}),
        ),
    ];
    let build = |order: &[usize]| {
        let mut c = Cdp::with_computed_traits(
            IdentityConfig::default(),
            TimeDelta::hours(24),
            InMemoryProfileStore::new(),
            traits(),
        )
        .unwrap();
        for &i in order {
            c.ingest(&events[i]).unwrap();
        }
        let p = c.graph().profiles().pop().unwrap();
        c.profile(&p).unwrap()
    };
    let sorted = build(&[0, 1, 2]);
    for order in [[2, 1, 0], [1, 0, 2], [2, 0, 1]] {
        assert_eq!(build(&order), sorted, "{order:?}");
    }
}
