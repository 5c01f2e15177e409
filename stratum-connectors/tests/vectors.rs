//! The shared JSON test vectors (`testdata/normalization.json`), whose expected
//! digests were computed with Python's `hashlib` (`testdata/normalization.py`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{Map, Value};
use stratum_connectors::{
    Context, Field, FieldValue, Normalizer, NormalizerConfig, Origin, Platform, WarningCode,
    from_json,
};

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/normalization.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn normalizer(defaults: &Value, overrides: Option<&Value>) -> Normalizer {
    let mut cfg: Map<String, Value> = defaults.as_object().unwrap().clone();
    if let Some(o) = overrides {
        for (k, v) in o.as_object().unwrap() {
            cfg.insert(k.clone(), v.clone());
        }
    }
    let config: NormalizerConfig = from_json(&Value::Object(cfg).to_string()).unwrap();
    Normalizer::new(config).unwrap()
}

#[test]
fn every_vector_matches() {
    let doc = vectors();
    let defaults = &doc["defaults"];
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 140, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let platform: Platform = serde_json::from_value(case["platform"].clone()).unwrap();
        let field: Field = serde_json::from_value(case["field"].clone()).unwrap();
        let input: FieldValue = serde_json::from_value(case["input"].clone()).unwrap();
        let n = normalizer(defaults, case.get("config"));
        let country = case
            .get("context")
            .and_then(|c| c.get("country"))
            .and_then(Value::as_str);
        let got = n.normalize_in(
            platform,
            field,
            &input,
            Context {
                country,
                ..Context::default()
            },
        );
        let want = &case["expected"];
        let ok = match (&got, want.get("warning")) {
            (Err(w), Some(code)) => {
                w.field == field && serde_json::to_value(w.code).unwrap() == *code
            }
            (Ok(got), None) => {
                let origin: Origin = serde_json::from_value(want["origin"].clone()).unwrap();
                let spec = platform.spec(field).unwrap();
                let note = want.get("note").and_then(Value::as_str);
                got.origin == origin
                    && got.note.map(WarningCode::as_str) == note
                    && got.key == spec.key
                    && got.value == want["value"].as_str().unwrap()
                    && match origin {
                        Origin::Hashed => {
                            got.normalized.as_deref() == want["normalized"].as_str()
                                && stratum_connectors::sha256_hex(
                                    got.normalized.as_deref().unwrap(),
                                ) == want["sha256"].as_str().unwrap()
                        }
                        Origin::Raw => got.value == want["normalized"].as_str().unwrap(),
                        Origin::PreHashed => got.normalized.is_none(),
                    }
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{id}: got {got:?}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn config_errors_have_stable_codes_and_fields() {
    let doc = vectors();
    for case in doc["config_errors"].as_array().unwrap() {
        let err = from_json::<NormalizerConfig>(&case["config"].to_string()).unwrap_err();
        assert_eq!(err.code(), case["code"].as_str().unwrap(), "{}", case["id"]);
        assert_eq!(err.field(), case["field"].as_str(), "{}", case["id"]);
    }
}

#[test]
fn every_platform_field_pair_has_a_vector() {
    let doc = vectors();
    let cases = doc["cases"].as_array().unwrap();
    for platform in Platform::ALL {
        for field in Field::ALL {
            let covered = cases
                .iter()
                .any(|c| c["platform"] == platform.as_str() && c["field"] == field.as_str());
            assert!(covered, "{platform}/{field} has no vector");
        }
    }
}
