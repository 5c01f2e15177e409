//! The bodies that Segment's and RudderStack's client libraries send, written from
//! their documentation (`testdata/messages/*.body.json`), with the expected result
//! of every element (`*.expect.json`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::Value;
use stratum_cdp::identity::identifiers;
use stratum_cdp::message::{Message, ParseConfig, parse_batch};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/messages")
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn check_message(name: &str, i: usize, m: &Message, want: &serde_json::Map<String, Value>) {
    let got = serde_json::to_value(m).unwrap();
    for (k, v) in want {
        let ctx = format!("{name}[{i}].{k}");
        match k.as_str() {
            "properties_json" => assert_eq!(m.properties.json(), v.as_str().unwrap(), "{ctx}"),
            "traits_json" => assert_eq!(m.traits.json(), v.as_str().unwrap(), "{ctx}"),
            "metadata_json" => assert_eq!(m.metadata.json(), v.as_str().unwrap(), "{ctx}"),
            "extra_json" => assert_eq!(m.extra.json(), v.as_str().unwrap(), "{ctx}"),
            "integrations_json" => {
                assert_eq!(m.integrations.json(), v.as_str().unwrap(), "{ctx}");
            }
            "consent" => assert_eq!(
                serde_json::to_value(&m.consent.categories).unwrap(),
                *v,
                "{ctx}"
            ),
            "identifiers" => {
                let mut got: Vec<String> = identifiers(m).iter().map(ToString::to_string).collect();
                let mut want: Vec<String> = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect();
                got.sort();
                want.sort();
                assert_eq!(got, want, "{ctx}");
            }
            "timestamp" | "original_timestamp" | "sent_at" | "received_at" => {
                assert_eq!(time(&got[k]), time(v), "{ctx}");
            }
            _ => assert_eq!(got[k], *v, "{ctx}"),
        }
    }
}

#[test]
fn real_client_bodies_parse_as_documented() {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(name) = file.strip_suffix(".expect.json") else {
            continue;
        };
        let expect: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let body = std::fs::read(dir().join(format!("{name}.body.json"))).unwrap();
        let batch = parse_batch(&body, time(&expect["received_at"]), &ParseConfig::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = expect["results"].as_array().unwrap();
        assert_eq!(batch.results.len(), want.len(), "{name}");
        for (i, (got, want)) in batch.results.iter().zip(want).enumerate() {
            let want = want.as_object().unwrap();
            match got {
                Ok(m) => {
                    assert!(!want.contains_key("code"), "{name}[{i}] parsed: {m:?}");
                    check_message(name, i, m, want);
                }
                Err(e) => {
                    assert_eq!(
                        want.get("code"),
                        Some(&Value::from(e.code())),
                        "{name}[{i}]: {e}"
                    );
                    let prefix = want["field_prefix"].as_str().unwrap();
                    assert!(e.field().unwrap().starts_with(prefix), "{name}[{i}]: {e}");
                }
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 5);
}
