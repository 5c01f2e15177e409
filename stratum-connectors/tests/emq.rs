//! Per-platform EMQ models and the bridge from normalisation outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stratum_connectors::{Field, FieldValue, Platform, emq};
use stratum_core::emq::{EmqKey, ReportOptions};

#[test]
fn models_hold_the_keys_each_platform_accepts() {
    // Σ_R w over the keys each platform accepts (PLATFORMS.md §2 and §5):
    // Meta, TikTok, Snapchat: email 3 + click 3 + phone 2 + external id 2 + browser 2
    // + IP+UA 2 = 14; Google has no external id or browser id: 3 + 3 + 2 + 2 = 10.
    for (p, total, keys) in [
        (Platform::Meta, 14.0, 14),
        (Platform::Google, 10.0, 8),
        (Platform::TikTok, 14.0, 12),
        (Platform::Snapchat, 14.0, 14),
    ] {
        let m = emq::model(p);
        assert!((m.reference_total() - total).abs() < 1e-9, "{p}");
        assert_eq!(m.keys().len(), keys, "{p}");
        assert_eq!(m.name(), p.as_str());
    }
    assert!(
        !emq::model(Platform::Google)
            .keys()
            .contains(EmqKey::BrowserId)
    );
    assert!(!emq::model(Platform::TikTok).keys().contains(EmqKey::Gender));
}

#[test]
fn outcomes_become_valid_invalid_and_pre_hashed_keys() {
    let n = common::us();
    let digest = stratum_connectors::sha256_hex("alice@example.com");
    let fields = [
        (Field::Email, FieldValue::auto(digest)),
        (Field::Phone, FieldValue::raw("1-800-FLOWERS")),
        (Field::City, FieldValue::raw("   ")),
        (Field::ClientIp, FieldValue::raw("203.0.113.7")),
        (Field::MobileAdId, FieldValue::raw("abc")),
    ];
    let outcomes: Vec<_> = fields
        .iter()
        .map(|(f, v)| n.normalize(Platform::TikTok, *f, v))
        .collect();
    let e = emq::event(&outcomes, None);
    assert!(e.valid.contains(EmqKey::Email) && e.pre_hashed.contains(EmqKey::Email));
    assert!(e.invalid.contains(EmqKey::Phone));
    // Empty is missing, not invalid; an IP without a UA is not the IP+UA key.
    assert!(!e.invalid.contains(EmqKey::City) && !e.valid.contains(EmqKey::City));
    assert!(!e.valid.contains(EmqKey::IpUa) && !e.invalid.contains(EmqKey::IpUa));
    assert_eq!(e.valid.len(), 1);
}

#[test]
fn remediation_names_the_platform_parameter() {
    let n = common::us();
    let outcomes = vec![n.normalize(
        Platform::TikTok,
        Field::Email,
        &FieldValue::raw("a@example.com"),
    )];
    let events: Vec<_> = (0..4).map(|_| emq::event(&outcomes, Some("x"))).collect();
    let r = emq::model(Platform::TikTok)
        .report(&events, &ReportOptions::default())
        .unwrap();
    assert_eq!(r.duplicates, 3);
    let click = r.fixes.iter().find(|f| f.key == EmqKey::ClickId).unwrap();
    assert_eq!(
        click.remediation,
        "send `ttclid` from the `ttclid` URL parameter (valid 7 days) on the 100% of events that lack it"
    );
    let ip = r.fixes.iter().find(|f| f.key == EmqKey::IpUa).unwrap();
    assert!(ip.remediation.starts_with("send `ip` + `user_agent`"));
}

#[test]
fn the_shared_model_of_each_platform_is_its_model() {
    for &p in Platform::ALL {
        let shared = emq::shared_model(p);
        assert_eq!(shared, &emq::model(p), "{p:?}");
        assert_eq!(shared.name(), p.as_str());
        assert!(std::ptr::eq(shared, emq::shared_model(p)), "built once");
    }
}
