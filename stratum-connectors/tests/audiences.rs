//! Golden audience-upload tests (`testdata/payloads/*.audience.expected.json`,
//! written by `payloads.py` with hand-normalised values and `hashlib` digests) and
//! per-call limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;
use stratum_connectors::payload::audience::{self, AudienceBuilt, Member};
use stratum_connectors::{Field, FieldValue, PhoneRegion};

fn read(f: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/payloads/");
    serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap()).unwrap()
}

fn check<R: serde::Serialize>(built: &AudienceBuilt<R>, expected: &Value) {
    assert_eq!(
        serde_json::to_value(&built.requests).unwrap(),
        expected["requests"]
    );
    assert_eq!(
        serde_json::to_value(&built.skipped).unwrap(),
        expected["skipped"]
    );
    let w: Vec<Value> = built
        .warnings
        .iter()
        .map(|(i, w)| serde_json::json!([i, w.code.as_str()]))
        .collect();
    assert_eq!(Value::Array(w), expected["warnings"]);
}

fn input() -> (Vec<Member>, usize) {
    let v = read("audience.input.json");
    (
        serde_json::from_value(v["members"].clone()).unwrap(),
        v["batch_size"].as_u64().unwrap() as usize,
    )
}

#[test]
fn golden_meta_audience() {
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let (members, size) = input();
    let built = audience::meta::build(&n, &members, size).unwrap();
    check(&built, &read("meta.audience.expected.json"));
}

#[test]
fn golden_snapchat_audience() {
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let (members, size) = input();
    let built = audience::snapchat::build(&n, &members, size).unwrap();
    check(&built, &read("snapchat.audience.expected.json"));
}

#[test]
fn per_call_limits() {
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let members: Vec<Member> = (0..10_001)
        .map(|i| Member::default().with(Field::Email, FieldValue::raw(format!("u{i}@example.com"))))
        .collect();
    let meta = audience::meta::build(&n, &members, audience::meta::MAX_RECORDS).unwrap();
    let sizes: Vec<usize> = meta.requests.iter().map(|r| r.payload.data.len()).collect();
    assert_eq!(sizes, [10_000, 1]);
    let snap = audience::snapchat::build(&n, &members, 4_000).unwrap();
    let sizes: Vec<usize> = snap
        .requests
        .iter()
        .map(|r| r.users[0].data.len())
        .collect();
    assert_eq!(sizes, [4_000, 4_000, 2_001]);
    for (bad, max) in [(0, 10_000), (10_001, 10_000)] {
        let e = audience::meta::build(&n, &members, bad).unwrap_err();
        assert_eq!(e.code(), "invalid_config", "{max}");
    }
    assert!(audience::snapchat::build(&n, &members, 100_001).is_err());
    assert!(audience::snapchat::build(&n, &members, 100_000).is_ok());
}

#[test]
fn golden_google_audience() {
    use stratum_connectors::payload::google::{Destination, OperatingAccount};
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let (members, size) = input();
    let dest = [Destination {
        operating_account: OperatingAccount {
            account_type: "GOOGLE_ADS".into(),
            account_id: "1234567890".into(),
        },
        product_destination_id: "555".into(),
    }];
    let built = audience::google::build(&n, &dest, &members, size).unwrap();
    check(&built, &read("google.audience.expected.json"));
    let many: Vec<Member> = (0..10_001)
        .map(|i| Member::default().with(Field::Email, FieldValue::raw(format!("u{i}@example.com"))))
        .collect();
    let built = audience::google::build(&n, &dest, &many, audience::google::MAX_MEMBERS).unwrap();
    let sizes: Vec<usize> = built
        .requests
        .iter()
        .map(|r| r.audience_members.len())
        .collect();
    assert_eq!(sizes, [10_000, 1]);
    assert!(audience::google::build(&n, &dest, &many, 10_001).is_err());
    assert!(audience::google::build(&n, &[], &many, 10).is_err());
}

fn tiktok_target() -> audience::tiktok::Target {
    audience::tiktok::Target {
        advertiser_ids: vec!["7000000000000000001".into()],
        audience_ids: vec!["1234567".into()],
        ad_id: audience::tiktok::AdIdKind::Idfa,
    }
}

#[test]
fn golden_tiktok_audience() {
    use audience::tiktok::{Action, AdIdKind, Target};
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let (members, size) = input();
    let built = audience::tiktok::build(&n, &tiktok_target(), Action::Add, &members, size).unwrap();
    check(&built, &read("tiktok.audience.expected.json"));

    // Removal and Android ids change only `action` and the schema name.
    let aaid = Target {
        ad_id: AdIdKind::Aaid,
        ..tiktok_target()
    };
    let built = audience::tiktok::build(&n, &aaid, Action::Delete, &members, size).unwrap();
    let body = serde_json::to_value(&built.requests).unwrap();
    assert_eq!(body[0]["action"], "delete");
    assert_eq!(
        body[0]["id_schema"],
        serde_json::json!(["EMAIL_SHA256", "PHONE_SHA256", "AAID_SHA256"])
    );
}

#[test]
fn tiktok_limits_and_target() {
    use audience::tiktok::{Action, MAX_RECORDS, Target};
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    let members: Vec<Member> = (0..2_001)
        .map(|i| Member::default().with(Field::Email, FieldValue::raw(format!("u{i}@example.com"))))
        .collect();
    let built =
        audience::tiktok::build(&n, &tiktok_target(), Action::Add, &members, MAX_RECORDS).unwrap();
    let sizes: Vec<usize> = built.requests.iter().map(|r| r.batch_data.len()).collect();
    assert_eq!(sizes, [1_000, 1_000, 1]);
    // Only the email column is used: no `{}` placeholders.
    assert_eq!(built.requests[2].id_schema, ["EMAIL_SHA256"]);
    for bad in [0, 1_001] {
        let e =
            audience::tiktok::build(&n, &tiktok_target(), Action::Add, &members, bad).unwrap_err();
        assert_eq!(e.code(), "invalid_config");
    }
    let no_advertiser = Target {
        advertiser_ids: vec![],
        ..tiktok_target()
    };
    let blank_audience = Target {
        audience_ids: vec![" ".into()],
        ..tiktok_target()
    };
    for t in [no_advertiser, blank_audience] {
        let e = audience::tiktok::build(&n, &t, Action::Add, &members, 10).unwrap_err();
        assert_eq!(e.code(), "invalid_config");
    }
}

#[test]
fn tiktok_prehashed_ad_id_passes_through() {
    use audience::tiktok::Action;
    let n = common::normalizer(PhoneRegion::Default("US".into()));
    // sha256("password") in upper case: lowercased, never hashed again.
    let pre = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8";
    let members = [Member::default().with(Field::MobileAdId, FieldValue::auto(pre))];
    let built = audience::tiktok::build(&n, &tiktok_target(), Action::Add, &members, 10).unwrap();
    let r = &built.requests[0];
    assert_eq!(r.id_schema, ["IDFA_SHA256"]);
    assert_eq!(
        r.batch_data[0][0].id.as_deref(),
        Some(pre.to_lowercase().as_str())
    );
}
