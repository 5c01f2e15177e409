//! The shared request → response vectors (`testdata/surface/*.json`), run against
//! the surface functions. Every binding runs the same files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use stratum_bindings::audience::{AudienceRequest, build_audience};
use stratum_bindings::emq::{EmqReportRequest, EmqScoreRequest, emq_report, emq_score};
use stratum_bindings::gate::{GateRequest, HealthRequest, gate_preview, health_score};
use stratum_bindings::message::{MessageRequest, parse_message};
use stratum_bindings::normalize::{NormalizeRequest, normalize};
use stratum_bindings::payload::{PayloadRequest, build_payloads};
use stratum_bindings::segment::{
    PersonRequest, SegmentRequest, TableRequest, evaluate_table, person_audiences, read_segment,
};
use stratum_bindings::{ErrorReport, from_json};
use stratum_connectors::{Normalizer, NormalizerConfig};

fn vectors(entry: &str) -> Value {
    let path = format!(
        "{}/../../testdata/surface/{entry}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `expected` pins the keys it lists: objects are compared on `expected`'s keys,
/// lists element by element, everything else exactly.
fn matches(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or(&Value::Null);
                matches(got, v, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!(
                    "{at}: {} elements, expected {}\n got: {actual}",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                matches(x, y, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{at}: got {actual}, expected {expected}")),
    }
}

fn run(entry: &str, call: impl Fn(&Normalizer, &Value) -> Result<Value, ErrorReport>) {
    let doc = vectors(entry);
    assert_eq!(doc["entry"], entry);
    // Entries without a normaliser run with the default test one (unused).
    let config_doc = match doc.get("normalizer") {
        Some(v) => v.to_string(),
        None => r#"{"phone_region": {"default": "US"}}"#.to_owned(),
    };
    let config: NormalizerConfig = stratum_connectors::from_json(&config_doc).unwrap();
    let n = Normalizer::new(config).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let out = match call(&n, &case["request"]) {
            Ok(response) => serde_json::json!({ "response": response }),
            Err(e) => serde_json::json!({ "error": e }),
        };
        let expected = match (case.get("response"), case.get("error")) {
            (Some(r), None) => serde_json::json!({ "response": r }),
            (None, Some(e)) => serde_json::json!({ "error": e }),
            _ => panic!("{name}: a case has either `response` or `error`"),
        };
        if let Err(why) = matches(&out, &expected, "") {
            failures.push(format!("{entry} / {name}: {why}\n full: {out}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn build_payloads_vectors() {
    run("build_payloads", |n, request| {
        let request: PayloadRequest = from_json(&request.to_string())?;
        build_payloads(n, &request)?.to_value()
    });
}

#[test]
fn build_audience_vectors() {
    run("build_audience", |n, request| {
        let request: AudienceRequest = from_json(&request.to_string())?;
        build_audience(n, &request)?.to_value()
    });
}

#[test]
fn normalize_vectors() {
    run("normalize", |n, request| {
        let request: NormalizeRequest = serde_json::from_value(request.clone()).unwrap();
        serde_json::to_value(normalize(n, &request))
            .map_err(|e| ErrorReport::internal(e.to_string()))
    });
}

fn value<T: serde::Serialize>(v: &T) -> Result<Value, ErrorReport> {
    serde_json::to_value(v).map_err(|e| ErrorReport::internal(e.to_string()))
}

#[test]
fn emq_score_vectors() {
    run("emq_score", |n, request| {
        let request: EmqScoreRequest = from_json(&request.to_string())?;
        value(&emq_score(n, &request))
    });
}

#[test]
fn emq_report_vectors() {
    run("emq_report", |n, request| {
        let request: EmqReportRequest = from_json(&request.to_string())?;
        value(&emq_report(n, &request)?)
    });
}

#[test]
fn health_score_vectors() {
    run("health_score", |_, request| {
        let request: HealthRequest = from_json(&request.to_string())?;
        value(&health_score(&request)?)
    });
}

#[test]
fn gate_preview_vectors() {
    run("gate_preview", |_, request| {
        let request: GateRequest = from_json(&request.to_string())?;
        value(&gate_preview(&request)?)
    });
}

#[test]
fn parse_message_vectors() {
    run("parse_message", |_, request| {
        let request: MessageRequest = from_json(&request.to_string())?;
        value(&parse_message(&request)?)
    });
}

#[test]
fn read_segment_vectors() {
    run("read_segment", |_, request| {
        let request: SegmentRequest = from_json(&request.to_string())?;
        value(&read_segment(&request)?)
    });
}

#[test]
fn person_audiences_vectors() {
    run("person_audiences", |_, request| {
        let request: PersonRequest = from_json(&request.to_string())?;
        value(&person_audiences(&request)?)
    });
}

#[test]
fn evaluate_table_vectors() {
    run("evaluate_table", |_, request| {
        let request: TableRequest = from_json(&request.to_string())?;
        value(&evaluate_table(&request)?)
    });
}

#[test]
fn the_comparison_catches_a_difference() {
    let a = serde_json::json!({"x": [1, {"y": 2, "z": 3}]});
    assert!(matches(&a, &serde_json::json!({"x": [1, {"y": 2}]}), "").is_ok());
    assert!(matches(&a, &serde_json::json!({"x": [1, {"y": 3}]}), "").is_err());
    assert!(matches(&a, &serde_json::json!({"x": [1]}), "").is_err());
    assert!(matches(&a, &serde_json::json!({"w": 1}), "").is_err());
}
