//! `stratum_cdp::from_json`: the document's shape is checked with the JSON path of
//! the offending value, then validation keeps its own kind and field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::IdentityConfig;
use stratum_cdp::{Error, from_json};

fn code_field(e: Option<Error>) -> Option<(&'static str, Option<String>)> {
    e.map(|e| (e.code(), e.field().map(str::to_owned)))
}

#[test]
fn identity_config_validation_keeps_kind_and_field() {
    let doc = r#"{"rules": [{"kind": "email", "priority": 0, "limit": 5}]}"#;
    assert_eq!(
        code_field(from_json::<IdentityConfig>(doc).err()),
        Some(("invalid_config", Some("rules[0].priority".into())))
    );
}

#[test]
fn identity_config_of_the_wrong_shape_names_the_path() {
    let doc = r#"{"rules": [{"kind": "email", "priority": "high", "limit": 5}]}"#;
    assert_eq!(
        code_field(from_json::<IdentityConfig>(doc).err()),
        Some(("invalid_json", Some("rules[0].priority".into())))
    );
    assert_eq!(
        code_field(from_json::<IdentityConfig>("[").err()),
        Some(("invalid_json", None))
    );
}

#[test]
fn a_definition_in_a_list_is_named_by_its_position() {
    let doc = r#"[
        {"name": "orders", "kind": "count", "event": "Order Completed"},
        {"name": "", "kind": "count", "event": "Order Completed"}
    ]"#;
    assert_eq!(
        code_field(from_json::<ComputedTraits>(doc).err()),
        Some(("invalid_definition", Some("[1].name".into())))
    );
}
