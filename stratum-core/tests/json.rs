//! `from_json`: the shape is checked by serde with the JSON path of the offending
//! value, then each validated type validates with its own typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use stratum_core::autopilot::RuleSet;
use stratum_core::gate::TrustGateConfig;
use stratum_core::health::HealthConfig;
use stratum_core::{Error, from_json};

#[test]
fn wrong_shape_names_the_json_path() {
    let e = from_json::<TrustGateConfig>(r#"{"hysteresis": {"window": "five"}}"#)
        .err()
        .map(|e| (e.code(), e.field().map(str::to_owned)));
    assert_eq!(
        e,
        Some(("invalid_json", Some("hysteresis.window".to_owned())))
    );
}

#[test]
fn invalid_json_carries_the_type_and_path() {
    match from_json::<HealthConfig>(r#"{"weights": {"emq": [1]}}"#) {
        Err(Error::InvalidJson { what, field, .. }) => {
            assert_eq!(what, "HealthConfig");
            assert_eq!(field.as_deref(), Some("weights.emq"));
        }
        other => panic!("expected invalid_json, got {other:?}"),
    }
}

#[test]
fn a_document_that_is_not_json_has_no_path() {
    let e = from_json::<TrustGateConfig>("{not json").err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_json"));
    assert_eq!(e.as_ref().and_then(Error::field), None);
    let e = from_json::<TrustGateConfig>("{} trailing").err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_json"));
}

#[test]
fn nested_validation_keeps_its_kind_and_field() {
    // HealthConfig inside TrustGateConfig: the inner validation's own error.
    let e = from_json::<TrustGateConfig>(
        r#"{"health": {"thresholds": {"healthy": 10, "degraded": 50}}}"#,
    )
    .err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_config"));
    assert_eq!(
        e.as_ref().and_then(Error::field),
        Some("health.thresholds.degraded")
    );
}

#[test]
fn a_message_that_looks_like_a_validation_error_stays_invalid_json() {
    // A map key echoed by serde's message used to be read back as a kind and field.
    let e = from_json::<RuleSet>(r#"{"invalid config: `x` y": 1}"#).err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_json"));
}

#[test]
fn validation_error_inside_a_list_keeps_its_field() {
    let e = from_json::<RuleSet>(
        r#"{"max_actions_per_run": 5, "rules": [{"id": "x", "action": {"type": "pause"},
            "conditions": [{"metric": "rosa", "window_days": 3, "op": "lt", "value": 1}]}]}"#,
    )
    .err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_config"));
    assert_eq!(
        e.as_ref().and_then(Error::field),
        Some("rules[0].conditions[0].metric")
    );
}

proptest! {
    /// Any numeric setting given a string is reported at its own path.
    #[test]
    fn every_wrongly_typed_leaf_is_reported_at_its_path(
        (section, key) in prop::sample::select(vec![
            ("hysteresis", "window"),
            ("hysteresis", "trip_after"),
            ("hysteresis", "cooldown_secs"),
            ("hysteresis", "recovery_readings"),
            ("evidence", "min_present_weight"),
            ("overrides", "max_duration_secs"),
        ]),
        text in "[a-z ]{0,12}",
    ) {
        let doc = serde_json::json!({ section: { key: text } }).to_string();
        let e = from_json::<TrustGateConfig>(&doc).err();
        let path = format!("{section}.{key}");
        prop_assert_eq!(e.as_ref().map(Error::code), Some("invalid_json"));
        prop_assert_eq!(e.as_ref().and_then(Error::field), Some(path.as_str()));
    }
}

#[test]
fn an_unknown_key_is_named_by_its_path() {
    let e = from_json::<TrustGateConfig>(r#"{"hysteresis": {"windw": 3}}"#).err();
    assert_eq!(e.as_ref().map(Error::code), Some("invalid_json"));
    assert_eq!(e.as_ref().and_then(Error::field), Some("hysteresis.windw"));
    let e = from_json::<TrustGateConfig>(r#"{"no_such_section": 1}"#).err();
    assert_eq!(e.as_ref().and_then(Error::field), Some("no_such_section"));
}
