//! `stratum_connectors::from_json`: shape errors carry the JSON path, validation
//! errors their own kind and field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stratum_connectors::{ConversionEvent, Error, NormalizerConfig, from_json};

fn code_field(e: Option<Error>) -> Option<(&'static str, Option<String>)> {
    e.map(|e| (e.code(), e.field().map(str::to_owned)))
}

#[test]
fn normalizer_config_validation_keeps_kind_and_field() {
    assert!(from_json::<NormalizerConfig>("{}").is_ok());
    assert_eq!(
        code_field(from_json::<NormalizerConfig>(r#"{"today": "1899-12-31"}"#).err()),
        Some(("invalid_config", Some("today".into())))
    );
}

#[test]
fn a_wrongly_typed_event_field_is_named_by_its_path() {
    let doc = r#"{"event_name": "Purchase", "event_time": "2026-01-01T00:00:00Z",
        "action_source": "website", "contents": [{"id": "a", "quantity": "two"}]}"#;
    match from_json::<ConversionEvent>(doc) {
        Err(Error::InvalidJson { what, field, .. }) => {
            assert_eq!(what, "ConversionEvent");
            assert_eq!(field.as_deref(), Some("contents[0].quantity"));
        }
        other => panic!("expected invalid_json, got {other:?}"),
    }
}
