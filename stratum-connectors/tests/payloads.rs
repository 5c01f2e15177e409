//! Golden payload tests (`testdata/payloads/`, expected documents written by
//! `payloads.py` with hand-normalised values and Python `hashlib` digests), batch
//! splitting, time windows, validation errors and dedup ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use stratum_connectors::payload::google::{Destination, GoogleBuilder, OperatingAccount};
use stratum_connectors::payload::meta::{DataProcessing, LduLocation, MetaBuilder};
use stratum_connectors::payload::snapchat::SnapBuilder;
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder};
use stratum_connectors::payload::{Built, EventWarning};
use stratum_connectors::{
    ActionSource, Consent, Content, ConversionEvent, Field, FieldValue, PhoneRegion, from_json,
};

fn load(name: &str) -> (Value, Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/payloads/");
    let read = |f: String| -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap()).unwrap()
    };
    (
        read(format!("{name}.input.json")),
        read(format!("{name}.expected.json")),
    )
}

fn events(input: &Value) -> Vec<ConversionEvent> {
    from_json(&input["events"].to_string()).unwrap()
}

fn now(input: &Value) -> DateTime<Utc> {
    input["now"].as_str().unwrap().parse().unwrap()
}

fn check<R: serde::Serialize>(built: &Built<R>, expected: &Value) {
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    let got = serde_json::to_value(&built.requests).unwrap();
    assert_eq!(
        got,
        expected["requests"],
        "\n got: {}\nwant: {}",
        serde_json::to_string_pretty(&got).unwrap(),
        serde_json::to_string_pretty(&expected["requests"]).unwrap()
    );
    let warnings: Vec<Value> = built
        .warnings
        .iter()
        .map(|w| serde_json::json!([w.index(), w.code()]))
        .collect();
    assert_eq!(Value::Array(warnings), expected["warnings"]);
}

fn n() -> stratum_connectors::Normalizer {
    common::normalizer(PhoneRegion::Default("US".into()))
}

#[test]
fn golden_meta() {
    let (input, expected) = load("meta");
    let n = n();
    let b = MetaBuilder::new(&n)
        .batch_size(input["batch_size"].as_u64().unwrap() as usize)
        .unwrap();
    check(&b.build(&events(&input), now(&input)), &expected);
}

#[test]
fn golden_google() {
    let (input, expected) = load("google");
    let n = n();
    let dest: Vec<Destination> = serde_json::from_value(input["destinations"].clone()).unwrap();
    let b = GoogleBuilder::new(&n, dest).unwrap();
    check(&b.build(&events(&input), now(&input)), &expected);
}

#[test]
fn golden_tiktok() {
    let (input, expected) = load("tiktok");
    let n = n();
    let ids = &input["event_source_ids"];
    let b = TikTokBuilder::new(
        &n,
        EventSourceIds {
            web: ids["web"].as_str().map(str::to_owned),
            app: ids["app"].as_str().map(str::to_owned),
            offline: ids["offline"].as_str().map(str::to_owned),
        },
    )
    .unwrap();
    check(&b.build(&events(&input), now(&input)), &expected);
}

#[test]
fn golden_snapchat() {
    let (input, expected) = load("snapchat");
    let n = n();
    check(
        &SnapBuilder::new(&n).build(&events(&input), now(&input)),
        &expected,
    );
}

#[test]
fn golden_meta_limited_data_use() {
    let (input, expected) = load("meta_ldu");
    let n = n();
    let d = &input["data_processing"];
    let options: Vec<&str> = d["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    let dp = DataProcessing::from_parts(
        &options,
        d["country"].as_u64().map(|c| c as u32),
        d["state"].as_u64().map(|s| s as u32),
    )
    .unwrap();
    assert_eq!(dp, DataProcessing::Ldu(LduLocation::California));
    let b = MetaBuilder::new(&n)
        .batch_size(input["batch_size"].as_u64().unwrap() as usize)
        .unwrap()
        .data_processing(dp);
    check(&b.build(&events(&input), now(&input)), &expected);
}

#[test]
fn meta_data_processing_options() {
    let n = n();
    let e = [web(0, t0())];
    let body =
        |b: MetaBuilder<'_>| serde_json::to_value(&b.build(&e, t0()).requests[0].data[0]).unwrap();
    // No setting: the three fields are left out.
    let v = body(MetaBuilder::new(&n));
    for k in [
        "data_processing_options",
        "data_processing_options_country",
        "data_processing_options_state",
    ] {
        assert!(v.get(k).is_none(), "{k}");
    }
    // Explicitly off: an empty list, no location.
    let v = body(MetaBuilder::new(&n).data_processing(DataProcessing::Off));
    assert_eq!(v["data_processing_options"], serde_json::json!([]));
    assert!(v.get("data_processing_options_country").is_none());
    assert!(v.get("data_processing_options_state").is_none());
    // LDU, geolocated by Meta: 0 and 0.
    let v = body(MetaBuilder::new(&n).data_processing(DataProcessing::Ldu(LduLocation::Geolocate)));
    assert_eq!(v["data_processing_options"], serde_json::json!(["LDU"]));
    assert_eq!(v["data_processing_options_country"], 0);
    assert_eq!(v["data_processing_options_state"], 0);

    // Reading Meta's fields: documented pairs only, location only with LDU.
    assert_eq!(
        DataProcessing::from_parts(&[], None, None).unwrap(),
        DataProcessing::Off
    );
    for (c, s) in [(None, None), (Some(0), Some(0))] {
        assert_eq!(
            DataProcessing::from_parts(&["LDU"], c, s).unwrap(),
            DataProcessing::Ldu(LduLocation::Geolocate)
        );
    }
    let bad: [(&[&str], Option<u32>, Option<u32>); 6] = [
        (&[], Some(1), Some(1000)),
        (&[], Some(0), None),
        (&["LDU"], Some(1), Some(0)),
        (&["LDU"], Some(2), Some(1000)),
        (&["LDU"], Some(1), None),
        (&["CCPA"], None, None),
    ];
    for (o, c, s) in bad {
        let e = DataProcessing::from_parts(o, c, s).unwrap_err();
        assert_eq!(e.code(), "invalid_config", "{o:?} {c:?} {s:?}");
    }
}

#[test]
fn golden_google_consent() {
    let (input, expected) = load("google_consent");
    let n = n();
    let dest: Vec<Destination> = serde_json::from_value(input["destinations"].clone()).unwrap();
    let consent: Consent = serde_json::from_value(input["consent"].clone()).unwrap();
    let b = GoogleBuilder::new(&n, dest).unwrap().consent(consent);
    check(&b.build(&events(&input), now(&input)), &expected);
}

#[test]
fn google_consent_is_left_out_when_unknown() {
    let n = n();
    let e = [web(0, t0()).with_consent(Consent::default())];
    let b = google(&n).consent(Consent::default());
    let v = serde_json::to_value(&b.build(&e, t0()).requests[0]).unwrap();
    assert!(v.get("consent").is_none());
    assert!(v["events"][0].get("consent").is_none());
    let e = [web(0, t0()).with_consent(Consent::all(false))];
    let v = serde_json::to_value(&google(&n).build(&e, t0()).requests[0]).unwrap();
    assert!(v.get("consent").is_none());
    assert_eq!(
        v["events"][0]["consent"],
        serde_json::json!({"adUserData": "CONSENT_DENIED", "adPersonalization": "CONSENT_DENIED"})
    );
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn web(i: usize, at: DateTime<Utc>) -> ConversionEvent {
    ConversionEvent::new("Purchase", at, ActionSource::Website)
        .with_event_id(format!("o-{i}"))
        .with_url("https://shop.example/")
        .with_user(
            Field::Email,
            FieldValue::raw(format!("user{i}@example.com")),
        )
        .with_user(Field::Phone, FieldValue::raw("+1 650 555 1212"))
        .with_user(Field::ClientIp, FieldValue::raw("203.0.113.7"))
        .with_user(Field::UserAgent, FieldValue::raw("Mozilla/5.0"))
}

fn google(n: &stratum_connectors::Normalizer) -> GoogleBuilder<'_> {
    GoogleBuilder::new(
        n,
        vec![Destination {
            operating_account: OperatingAccount {
                account_type: "GOOGLE_ADS".into(),
                account_id: "1".into(),
            },
            product_destination_id: "2".into(),
        }],
    )
    .unwrap()
}

fn tiktok(n: &stratum_connectors::Normalizer) -> TikTokBuilder<'_> {
    TikTokBuilder::new(
        n,
        EventSourceIds {
            web: Some("PIX".into()),
            app: Some("APP".into()),
            offline: Some("OFF".into()),
        },
    )
    .unwrap()
}

#[test]
fn batches_split_at_the_platform_limits() {
    let n = n();
    // 2,501 events: Meta and TikTok 1,000 per request → 1,000 + 1,000 + 501;
    // Google and Snapchat 2,000 → 2,000 + 501.
    let list: Vec<ConversionEvent> = (0..2_501).map(|i| web(i, t0())).collect();
    let sizes = |v: Vec<usize>| v;
    let meta = MetaBuilder::new(&n).build(&list, t0());
    assert_eq!(
        sizes(meta.requests.iter().map(|r| r.data.len()).collect()),
        [1000, 1000, 501]
    );
    let tt = tiktok(&n).build(&list, t0());
    assert_eq!(
        sizes(tt.requests.iter().map(|r| r.data.len()).collect()),
        [1000, 1000, 501]
    );
    let g = google(&n).build(&list, t0());
    assert_eq!(
        sizes(g.requests.iter().map(|r| r.events.len()).collect()),
        [2000, 501]
    );
    let s = SnapBuilder::new(&n).build(&list, t0());
    assert_eq!(
        sizes(s.requests.iter().map(|r| r.data.len()).collect()),
        [2000, 501]
    );
    // Order is kept across requests.
    assert_eq!(
        meta.requests[2].data[500].event_id.as_deref(),
        Some("o-2500")
    );
    assert_eq!(s.requests[1].data[0].event_id.as_deref(), Some("o-2000"));
}

#[test]
fn configured_batch_sizes_and_limits() {
    let n = n();
    let list: Vec<ConversionEvent> = (0..7).map(|i| web(i, t0())).collect();
    let b = MetaBuilder::new(&n).batch_size(3).unwrap();
    let sizes: Vec<usize> = b
        .build(&list, t0())
        .requests
        .iter()
        .map(|r| r.data.len())
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    for bad in [0, 1_001] {
        let e = MetaBuilder::new(&n).batch_size(bad).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_config", Some("batch_size"))
        );
    }
    assert!(SnapBuilder::new(&n).batch_size(2_000).is_ok());
    assert!(SnapBuilder::new(&n).batch_size(2_001).is_err());
    assert!(google(&n).batch_size(2_001).is_err());
    assert!(tiktok(&n).batch_size(1_001).is_err());
    assert!(MetaBuilder::new(&n).build(&[], t0()).requests.is_empty());
}

#[test]
fn tiktok_groups_by_event_source_and_needs_its_id() {
    let n = n();
    let mut app = web(1, t0());
    app.action_source = ActionSource::App;
    let mut store = web(2, t0());
    store.action_source = ActionSource::PhysicalStore;
    let list = [web(0, t0()), app.clone(), store, web(3, t0())];
    let built = tiktok(&n).build(&list, t0());
    let shape: Vec<(&str, &str, usize)> = built
        .requests
        .iter()
        .map(|r| (r.event_source, r.event_source_id.as_str(), r.data.len()))
        .collect();
    assert_eq!(
        shape,
        [("web", "PIX", 2), ("app", "APP", 1), ("offline", "OFF", 1)]
    );

    let web_only = TikTokBuilder::new(
        &n,
        EventSourceIds {
            web: Some("PIX".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let built = web_only.build(&[app], t0());
    assert_eq!(built.rejected[0].error.code(), "missing_required_field");
    assert_eq!(built.rejected[0].error.field(), Some("event_source_id"));
    assert!(TikTokBuilder::new(&n, EventSourceIds::default()).is_err());
}

/// (platform builder, action source, age in seconds) → accepted?
#[test]
fn time_windows_per_platform() {
    let n = n();
    let day = 86_400;
    let at = |secs: i64| t0() - TimeDelta::seconds(secs);
    let meta = MetaBuilder::new(&n);
    let snap = SnapBuilder::new(&n);
    let tt = tiktok(&n);
    let g = google(&n);
    let code = |r: Result<(), stratum_connectors::Error>| r.err().map(|e| e.code());
    let meta_at = |src: ActionSource, age: i64| {
        let mut e = web(0, at(age));
        e.action_source = src;
        code(meta.event(&e, t0(), 0, &mut Vec::new()).map(|_| ()))
    };
    // Meta: 7 days; physical_store 62 days; 60 s of clock skew into the future.
    assert_eq!(meta_at(ActionSource::Website, 7 * day), None);
    assert_eq!(
        meta_at(ActionSource::Website, 7 * day + 1),
        Some("event_too_old")
    );
    assert_eq!(meta_at(ActionSource::PhysicalStore, 62 * day), None);
    assert_eq!(
        meta_at(ActionSource::PhysicalStore, 62 * day + 1),
        Some("event_too_old")
    );
    assert_eq!(meta_at(ActionSource::Website, -60), None);
    assert_eq!(meta_at(ActionSource::Website, -61), Some("event_in_future"));
    // TikTok: web/app 7 days (D18), offline 28.
    let tt_at = |src: ActionSource, age: i64| {
        let mut e = web(0, at(age));
        e.action_source = src;
        code(tt.event(&e, t0(), 0, &mut Vec::new()).map(|_| ()))
    };
    assert_eq!(tt_at(ActionSource::App, 7 * day), None);
    assert_eq!(tt_at(ActionSource::App, 7 * day + 1), Some("event_too_old"));
    assert_eq!(tt_at(ActionSource::PhoneCall, 28 * day), None);
    assert_eq!(
        tt_at(ActionSource::PhoneCall, 28 * day + 1),
        Some("event_too_old")
    );
    assert_eq!(tt_at(ActionSource::Website, -61), Some("event_in_future"));
    // Snapchat: 37 days.
    let e = web(0, at(37 * day));
    assert!(snap.event(&e, t0(), 0, &mut Vec::new()).is_ok());
    let e = web(0, at(37 * day + 1));
    assert_eq!(
        snap.event(&e, t0(), 0, &mut Vec::new()).unwrap_err().code(),
        "event_too_old"
    );
    let e = web(0, t0() + TimeDelta::seconds(61));
    assert_eq!(
        snap.event(&e, t0(), 0, &mut Vec::new()).unwrap_err().code(),
        "event_in_future"
    );
    // Google: never refused for age, a warning after 90 days; the future is refused.
    let mut w = Vec::new();
    assert!(g.event(&web(0, at(90 * day)), t0(), 0, &mut w).is_ok());
    assert!(w.is_empty());
    assert!(g.event(&web(0, at(400 * day)), t0(), 7, &mut w).is_ok());
    assert_eq!(
        w,
        [EventWarning::OldEvent {
            index: 7,
            age_days: 400
        }]
    );
    let e = web(0, t0() + TimeDelta::seconds(61));
    assert_eq!(
        g.event(&e, t0(), 0, &mut w).unwrap_err().code(),
        "event_in_future"
    );
}

#[test]
fn required_fields() {
    let n = n();
    let meta = MetaBuilder::new(&n);
    let err = |e: &ConversionEvent| meta.event(e, t0(), 0, &mut Vec::new()).unwrap_err();
    let mut e = web(0, t0());
    e.event_name = "  ".into();
    assert_eq!(
        (err(&e).code(), err(&e).field()),
        ("missing_required_field", Some("event_name"))
    );
    let mut e = web(0, t0());
    e.event_source_url = None;
    assert_eq!(err(&e).field(), Some("event_source_url"));
    let mut e = web(0, t0());
    e.user.remove(&Field::UserAgent);
    assert_eq!(err(&e).field(), Some("user.user_agent"));
    // App events need neither.
    let mut e = web(0, t0());
    e.action_source = ActionSource::App;
    e.event_source_url = None;
    e.user.remove(&Field::UserAgent);
    assert!(meta.event(&e, t0(), 0, &mut Vec::new()).is_ok());
}

#[test]
fn customer_information_rules() {
    let n = n();
    let base = || ConversionEvent::new("Purchase", t0(), ActionSource::App).with_event_id("x");
    let with = |fields: &[(Field, &str)]| {
        fields
            .iter()
            .fold(base(), |e, (f, v)| e.with_user(*f, FieldValue::raw(*v)))
    };
    let meta = MetaBuilder::new(&n);
    let meta_code = |e: &ConversionEvent| {
        meta.event(e, t0(), 0, &mut Vec::new())
            .err()
            .map(|e| e.code())
    };
    let weak = [
        (Field::City, "Paris"),
        (Field::Country, "FR"),
        (Field::Zip, "75001"),
        (Field::Gender, "f"),
        (Field::UserAgent, "UA"),
    ];
    assert_eq!(meta_code(&with(&weak)), Some("insufficient_customer_info"));
    assert_eq!(
        meta_code(&with(&[
            (Field::BirthDate, "1990-05-04"),
            (Field::UserAgent, "UA")
        ])),
        Some("insufficient_customer_info")
    );
    assert_eq!(
        meta_code(&with(&[(Field::FirstName, "Ada"), (Field::Gender, "f")])),
        Some("insufficient_customer_info")
    );
    assert_eq!(
        meta_code(&with(&[
            (Field::LastName, "Lovelace"),
            (Field::Gender, "f")
        ])),
        Some("insufficient_customer_info")
    );
    assert_eq!(
        meta_code(&with(&[
            (Field::FirstName, "Ada"),
            (Field::LastName, "Lovelace")
        ])),
        None
    );
    assert_eq!(meta_code(&with(&[(Field::Email, "a@b.co")])), None);
    // An invalid email is dropped (D2), which leaves nothing to match on.
    let e = with(&[(Field::Email, "not-an-email"), (Field::City, "Paris")]);
    let mut w = Vec::new();
    assert_eq!(
        meta.event(&e, t0(), 3, &mut w).unwrap_err().code(),
        "insufficient_customer_info"
    );
    assert_eq!(w[0].code(), "invalid_email");
    assert_eq!(w[0].index(), 3);

    let snap = SnapBuilder::new(&n);
    let snap_code = |e: &ConversionEvent| {
        snap.event(e, t0(), 0, &mut Vec::new())
            .err()
            .map(|e| e.code())
    };
    assert_eq!(
        snap_code(&with(&[(Field::ClientIp, "203.0.113.7")])),
        Some("insufficient_customer_info")
    );
    assert_eq!(
        snap_code(&with(&[
            (Field::ClientIp, "203.0.113.7"),
            (Field::UserAgent, "UA")
        ])),
        None
    );
    assert_eq!(snap_code(&with(&[(Field::MobileAdId, "ABC-1")])), None);
    assert_eq!(
        snap_code(&with(&[(Field::Phone, "+44 20 7946 0958")])),
        None
    );

    let g = google(&n);
    let g_code = |e: &ConversionEvent| g.event(e, t0(), 0, &mut Vec::new()).err().map(|e| e.code());
    assert_eq!(
        g_code(&with(&[(Field::ClientIp, "203.0.113.7")])),
        Some("insufficient_customer_info")
    );
    assert_eq!(g_code(&with(&[(Field::ClickId, "Cj0K")])), None);
    // A partial address is not an identifier and is reported.
    let e = with(&[(Field::FirstName, "Ada"), (Field::Country, "GB")]);
    let mut w = Vec::new();
    assert_eq!(
        g.event(&e, t0(), 0, &mut w).unwrap_err().code(),
        "insufficient_customer_info"
    );
    let codes: Vec<&str> = w.iter().map(EventWarning::code).collect();
    assert_eq!(codes, ["incomplete_address", "incomplete_address"]);

    // TikTok requires no customer key.
    assert!(tiktok(&n).event(&base(), t0(), 0, &mut Vec::new()).is_ok());
}

#[test]
fn money_validation() {
    let n = n();
    let meta = MetaBuilder::new(&n);
    let e = |v: Decimal, c: &str| web(0, t0()).with_value(v, c);
    let res = |e: &ConversionEvent| meta.event(e, t0(), 0, &mut Vec::new());
    let ok = res(&e(Decimal::new(4999, 2), " usd ")).unwrap();
    assert_eq!(ok.custom_data.unwrap().currency.as_deref(), Some("USD"));
    let bad = res(&e(Decimal::ONE, "XYZ")).unwrap_err();
    assert_eq!(
        (bad.code(), bad.field()),
        ("invalid_currency", Some("currency"))
    );
    assert_eq!(
        res(&e(Decimal::ONE, "XAU")).unwrap_err().code(),
        "invalid_currency"
    );
    let neg = res(&e(Decimal::new(-1, 2), "USD")).unwrap_err();
    assert_eq!((neg.code(), neg.field()), ("invalid_value", Some("value")));
    // 10^12 is the largest value accepted.
    assert!(res(&e(Decimal::from(1_000_000_000_000_i64), "USD")).is_ok());
    assert_eq!(
        res(&e(Decimal::from(1_000_000_000_001_i64), "USD"))
            .unwrap_err()
            .code(),
        "invalid_value"
    );
    assert!(res(&e(Decimal::ZERO, "USD")).is_ok());
    // A value without currency.
    let mut no_cur = web(0, t0());
    no_cur.value = Some(Decimal::ONE);
    let err = res(&no_cur).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("missing_required_field", Some("currency"))
    );
    // Items: quantity ≥ 1, price ≥ 0, an id.
    let item = |c: Content| web(0, t0()).with_value(Decimal::ONE, "USD").with_content(c);
    let q0 = res(&item(Content::new("A", 0, Decimal::ONE))).unwrap_err();
    assert_eq!(q0.field(), Some("contents[0].quantity"));
    let p = res(&item(Content::new("A", 1, Decimal::NEGATIVE_ONE))).unwrap_err();
    assert_eq!(p.field(), Some("contents[0].item_price"));
    let id = res(&item(Content::new(" ", 1, Decimal::ONE))).unwrap_err();
    assert_eq!(id.field(), Some("contents[0].id"));
}

#[test]
fn dedup_ids_are_passed_through_never_generated() {
    let n = n();
    let mut e = web(0, t0());
    e.event_id = Some("  order-9 ".into());
    let mut no_id = web(1, t0());
    no_id.event_id = None;
    let built = MetaBuilder::new(&n).build(&[e.clone(), no_id], t0());
    assert_eq!(
        built.requests[0].data[0].event_id.as_deref(),
        Some("order-9")
    );
    assert_eq!(built.requests[0].data[1].event_id, None);
    assert_eq!(built.warnings, [EventWarning::MissingEventId { index: 1 }]);
    // The same id is each platform's dedup key.
    let g = google(&n).build(&[e.clone()], t0());
    assert_eq!(
        g.requests[0].events[0].transaction_id.as_deref(),
        Some("order-9")
    );
    let s = SnapBuilder::new(&n).build(&[e.clone()], t0());
    assert_eq!(s.requests[0].data[0].event_id.as_deref(), Some("order-9"));
    let t = tiktok(&n).build(&[e], t0());
    assert_eq!(t.requests[0].data[0].event_id.as_deref(), Some("order-9"));
}

#[test]
fn rejected_events_do_not_block_the_rest() {
    let n = n();
    let mut future = web(1, t0() + TimeDelta::hours(1));
    future.event_id = Some("f".into());
    let list = [web(0, t0()), future, web(2, t0())];
    let built = MetaBuilder::new(&n).build(&list, t0());
    assert_eq!(built.requests.len(), 1);
    assert_eq!(built.requests[0].data.len(), 2);
    assert_eq!(built.rejected.len(), 1);
    assert_eq!(built.rejected[0].index, 1);
    assert_eq!(built.rejected[0].error.code(), "event_in_future");
}

#[test]
fn unknown_event_fields_are_refused() {
    let err = from_json::<ConversionEvent>(
        r#"{"event_name":"x","event_time":"2026-03-01T12:00:00Z","action_source":"website","colour":"red"}"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_json");
}
