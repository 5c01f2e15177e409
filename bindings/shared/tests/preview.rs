//! The one-event preview and the column hashing against the normalisation vectors
//! (`testdata/normalization.json`, digests from Python's `hashlib`) and the
//! documented EMQ model.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use stratum_bindings::emq::{EmqReportRequest, EmqScoreRequest, emq_report, emq_score};
use stratum_bindings::preview::{EmqPreviewRequest, HashRequest, emq_preview, hash_values};
use stratum_connectors::{Normalizer, NormalizerConfig};

fn normalization() -> Value {
    let path = format!(
        "{}/../../testdata/normalization.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn normalizer(doc: &Value) -> Normalizer {
    let config: NormalizerConfig =
        stratum_connectors::from_json(&doc["defaults"].to_string()).unwrap();
    Normalizer::new(config).unwrap()
}

/// Cases run with the default config and no event context.
fn plain_cases(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("config").is_none() && c.get("context").is_none())
}

#[test]
fn preview_keys_are_the_normalisation_vectors() {
    let doc = normalization();
    let n = normalizer(&doc);
    let mut checked = 0;
    for case in plain_cases(&doc) {
        let id = case["id"].as_str().unwrap();
        let request: EmqPreviewRequest = serde_json::from_value(json!({
            "platform": case["platform"],
            "event": {"user": {case["field"].as_str().unwrap(): case["input"]}},
        }))
        .unwrap();
        let preview = emq_preview(&n, &request).unwrap();
        assert_eq!(preview.keys.len(), 1, "{id}");
        let got = serde_json::to_value(&preview.keys[0]).unwrap();
        for (k, v) in case["expected"].as_object().unwrap() {
            match k.as_str() {
                "sha256" => {}
                // A key sent in clear is its normalised text: the surface gives it as
                // `value` only (as the shared vectors do).
                "normalized" if case["expected"]["origin"] == "raw" => {
                    assert_eq!(&got["value"], v, "{id}: {k}");
                    assert_eq!(got[k], Value::Null, "{id}: {k}");
                }
                _ => assert_eq!(&got[k], v, "{id}: {k}"),
            }
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn hashed_columns_are_the_normalisation_vectors() {
    let doc = normalization();
    let n = normalizer(&doc);
    let mut checked = 0;
    for case in doc["cases"].as_array().unwrap() {
        // A column is read as `auto`: raw text that looks like a digest would pass
        // through, so those cases and typed inputs stay with `emq_preview`.
        let text = match (case["input"].get("auto"), case["input"].get("raw")) {
            (Some(t), _) => t.as_str().unwrap(),
            (None, Some(t)) if t.as_str().unwrap().len() < 64 => t.as_str().unwrap(),
            _ => continue,
        };
        if case.get("config").is_some() {
            continue;
        }
        let id = case["id"].as_str().unwrap();
        let request: HashRequest = serde_json::from_value(json!({
            "platform": case["platform"],
            "field": case["field"],
            "values": [text, "ann@example.com"],
            "country": case.pointer("/context/country"),
        }))
        .unwrap();
        let out = hash_values(&n, &request);
        assert_eq!(out.values.len(), 2, "{id}");
        let expected = case["expected"]["value"].as_str();
        assert_eq!(out.values[0].as_deref(), expected, "{id}");
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn an_email_alone_on_meta_ranks_the_click_id_first() {
    let doc = normalization();
    let n = normalizer(&doc);
    let request: EmqPreviewRequest = serde_json::from_value(json!({
        "platform": "meta",
        "event": {"user": {"email": {"raw": "Ann@Example.com"}, "phone": {"raw": "call me"}}},
    }))
    .unwrap();
    let p = emq_preview(&n, &request).unwrap();
    // Σ_R w = 14 on Meta: email 3 → 10 · 3 / 14 = 2.14 → 2.1.
    assert_eq!(p.score.score, 2.1);
    assert_eq!(p.keys[0].key, Some("em"));
    // hashlib.sha256(b"ann@example.com").hexdigest()
    assert_eq!(
        p.keys[0].value.as_deref(),
        Some("71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476")
    );
    assert!(p.keys[1].warning.is_some(), "an invalid phone is dropped");
    let ranked: Vec<(&str, f64)> = p
        .fixes
        .iter()
        .map(|f| (f.key.as_str(), f.estimated_emq_gain))
        .collect();
    // Gains w · 10 / 14: click id 3 → 2.14; phone, external id, browser id, IP + UA,
    // birth date, country 2 → 1.43 (ties by key order); names, city, zip 1 → 0.71.
    assert_eq!(ranked[0], ("click_id", 2.14));
    assert_eq!(ranked[1].1, 1.43);
    assert!(ranked.iter().all(|(k, _)| *k != "email"));
    let phone = p.fixes.iter().find(|f| f.key.as_str() == "phone").unwrap();
    assert_eq!(
        phone.invalid_share, 1.0,
        "the invalid phone is a fix, as invalid"
    );
    assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
}

fn field_value() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        Just(("email", json!({"raw": "ann@example.com"}))),
        Just(("email", json!({"raw": "not an email"}))),
        Just(("phone", json!({"raw": "+1 650 555 1212"}))),
        Just(("first_name", json!({"raw": "Ann"}))),
        Just(("city", json!({"raw": "Menlo Park"}))),
        Just(("zip", json!({"raw": "94025"}))),
        Just(("client_ip", json!({"raw": "203.0.113.7"}))),
        Just(("user_agent", json!({"raw": "Mozilla/5.0"}))),
        Just(("external_id", json!({"raw": "u-1"}))),
        Just(("click_id", json!({"raw": "fb.1.1700000000000.abc"}))),
        Just(("country", json!({"raw": "us"}))),
        Just(("gender", json!({"raw": "f"}))),
    ]
}

proptest! {
    /// The preview's score is `emq_score`'s and its fixes are those of a one-event
    /// `emq_report`, for every platform and any mix of fields.
    #[test]
    fn the_preview_agrees_with_score_and_report(
        platform in prop_oneof![Just("meta"), Just("google"), Just("tiktok"), Just("snapchat")],
        fields in proptest::collection::vec(field_value(), 0..8),
    ) {
        let n = normalizer(&normalization());
        let user: serde_json::Map<String, Value> =
            fields.into_iter().map(|(f, v)| (f.to_owned(), v)).collect();
        let event = json!({"user": user});
        let preview: EmqPreviewRequest =
            serde_json::from_value(json!({"platform": platform, "event": event})).unwrap();
        let p = emq_preview(&n, &preview).unwrap();
        let score: EmqScoreRequest =
            serde_json::from_value(json!({"platform": platform, "event": event})).unwrap();
        prop_assert_eq!(&p.score, &emq_score(&n, &score));
        let report: EmqReportRequest =
            serde_json::from_value(json!({"platform": platform, "events": [event]})).unwrap();
        prop_assert_eq!(&p.fixes, &emq_report(&n, &report).unwrap().fixes);
        prop_assert_eq!(p.keys.len(), user.len());
    }
}
