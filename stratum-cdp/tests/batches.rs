//! Batches as real clients send them: one bad element never costs its neighbours,
//! and the envelope is split before any element is parsed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::t0;
use proptest::prelude::*;
use stratum_cdp::message::{ParseConfig, parse_batch};

fn track(i: usize) -> String {
    format!(
        r#"{{"type":"track","messageId":"m{i}","anonymousId":"a{i}","event":"Viewed","properties":{{"i":{i}}}}}"#
    )
}

/// Elements that are not valid JSON on their own but keep the batch's structure.
const BAD_ELEMENTS: [&str; 6] = [
    r#"{"type":"track","messageId":"x","anonymousId":"a","event":"e","properties":{"name":"\ud800"}}"#,
    r#"{"type":"track","messageId":"x","anonymousId":"a","event":"e","properties":{"revenue":NaN}}"#,
    r#"{"type":"track","messageId":"x","anonymousId":"a","event":"e","properties":{"r":Infinity}}"#,
    r#"{"type":"track","messageId":"x","anonymousId":"a","event":"e\u00"}"#,
    r#"{"type":"track","messageId":"x","anonymousId":"a",,"event":"e"}"#,
    r#"{"type":"track","messageId":"x","anonymousId":"a","event":"e" "more":1}"#,
];

#[test]
fn a_lone_surrogate_or_nan_costs_only_its_element() {
    for bad in BAD_ELEMENTS {
        let body = format!(r#"{{"batch":[{},{bad},{}]}}"#, track(0), track(2));
        let b = parse_batch(body.as_bytes(), t0(), &ParseConfig::default())
            .unwrap_or_else(|e| panic!("{bad}: {e}"));
        assert_eq!(b.results.len(), 3, "{bad}");
        let ok: Vec<&str> = b.messages().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ok, ["m0", "m2"], "{bad}");
        let (i, e) = b.errors().next().unwrap();
        assert_eq!((i, e.code()), (1, "invalid_json"), "{bad}");
        assert!(e.field().unwrap().starts_with("batch[1]"), "{e}");
    }
}

#[test]
fn a_broken_envelope_is_one_error() {
    for body in [
        r#"{"batch":[{"type":"track"}"#,
        r#"{"batch":[{"type":"track"]}"#,
        r#"{"batch":[1 2]}"#,
        r#"{"batch":[{"a":"unterminated}]}"#,
        r#"[{"batch":[]}]"#,
        r#"{"batch":[],"sentAt":NaN}"#,
    ] {
        let e = parse_batch(body.as_bytes(), t0(), &ParseConfig::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_json", "{body}");
    }
    let e = parse_batch(br#"{"batch":"x"}"#, t0(), &ParseConfig::default()).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("batch")));
}

#[test]
fn element_size_is_measured_without_whitespace() {
    // A pretty-printed element of 40 KB whose compact form is under 32 KB passes.
    let pad = "x".repeat(30_000);
    let pretty = format!(
        "{{\n{}\"type\": \"track\",\n{}\"messageId\": \"m\",\n  \"anonymousId\": \"a\",\n  \"event\": \"e\",\n  \"properties\": {{\"p\": \"{pad}\"}}\n}}",
        " ".repeat(6000),
        " ".repeat(6000)
    );
    assert!(pretty.len() > 40_000);
    let body = format!(r#"{{"batch":[{pretty}]}}"#);
    let b = parse_batch(body.as_bytes(), t0(), &ParseConfig::default()).unwrap();
    assert_eq!(b.messages().count(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever element is broken, and however the batch is laid out, exactly the
    /// broken element fails and every other one parses.
    #[test]
    fn only_the_broken_element_fails(
        n in 1usize..12,
        bad_at in 0usize..12,
        kind in 0usize..BAD_ELEMENTS.len(),
        ws in prop::sample::select(vec!["", " ", "\n  ", "\t"]),
    ) {
        let bad_at = bad_at % n;
        let items: Vec<String> = (0..n)
            .map(|i| if i == bad_at { BAD_ELEMENTS[kind].to_owned() } else { track(i) })
            .collect();
        let body = format!("{{{ws}\"sentAt\":{ws}null,{ws}\"batch\":{ws}[{ws}{}{ws}]{ws}}}", items.join(&format!(",{ws}")));
        let b = parse_batch(body.as_bytes(), t0(), &ParseConfig::default()).unwrap();
        prop_assert_eq!(b.results.len(), n);
        for (i, r) in b.results.iter().enumerate() {
            prop_assert_eq!(r.is_err(), i == bad_at, "element {}: {:?}", i, r);
        }
    }
}

/// Arbitrary JSON: strings with escapes and non-ASCII text, numbers, nesting.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z\"\\\\/\\n\\t\u{e9}\u{1f600}\\]\\[{},:]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z\"\\]\\[{}]{0,4}", inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A message object with arbitrary content around the required fields, or any
/// other JSON value.
fn element() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        (json_value(), json_value(), any::<bool>()).prop_map(|(props, extra, anon)| {
            let mut m = serde_json::json!({"type": "track", "messageId": "m", "event": "e",
                "properties": {"p": props}, "extra_field": extra});
            if anon {
                m["anonymousId"] = "a".into();
            }
            m
        }),
        json_value(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Splitting by structure finds exactly the elements a JSON parser finds, and
    /// each element gets the result it gets on its own, pretty-printed or not.
    #[test]
    fn the_envelope_split_agrees_with_serde_json(
        items in prop::collection::vec(element(), 0..6),
        pretty in any::<bool>(),
    ) {
        let doc = serde_json::json!({"sentAt": null, "batch": items});
        let text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            serde_json::to_string(&doc).unwrap()
        };
        let b = parse_batch(text.as_bytes(), t0(), &ParseConfig::default()).unwrap();
        prop_assert_eq!(b.results.len(), items.len());
        for (item, got) in items.iter().zip(&b.results) {
            let alone = stratum_cdp::message::parse_message(
                serde_json::to_string(item).unwrap().as_bytes(),
                t0(),
                &ParseConfig::default(),
            );
            prop_assert_eq!(got.is_ok(), alone.is_ok(), "{:?} vs {:?}", got, alone);
            if let (Ok(a), Ok(b)) = (got, &alone) {
                prop_assert_eq!(a.properties.map(), b.properties.map());
                prop_assert_eq!(a.extra.map(), b.extra.map());
            }
        }
    }
}
