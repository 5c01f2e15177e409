//! EMQ (`stratum-emq-1`): per-event scores, batch reports, fixes, ROAS and the link
//! to health scoring. Expected values are worked out by hand in the comments.
// Scores are rounded to one decimal, so exact comparisons with literals are intended.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp
)]

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use stratum_core::emq::*;
use stratum_core::health::{HealthConfig, Signals};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn default_weights_follow_the_table() {
    let m = EmqModel::default();
    // Σ_R w = email 3 + click 3 + phone 2 + external id 2 + browser 2 + IP+UA 2 = 14
    assert!(close(m.reference_total(), 14.0));
    assert!(close(m.weight(EmqKey::Email), 3.0));
    assert!(close(m.weight(EmqKey::BirthDate), 2.0));
    assert!(close(m.weight(EmqKey::Zip), 1.0));
    assert!(close(m.weight(EmqKey::Gender), 0.5));
}

#[test]
fn event_score_with_contributions() {
    let m = EmqModel::default();
    let e = EmqEvent::new()
        .with(EmqKey::Email)
        .with_pre_hashed(EmqKey::Phone)
        .with(EmqKey::City)
        .with_invalid(EmqKey::Country);
    let s = m.score(&e);
    // S = 3 + 2 + 1 = 6 → 10·6/14 = 4.2857… → 4.3
    assert_eq!(s.score, 4.3);
    assert!(close(s.uncapped, 60.0 / 14.0));
    assert_eq!(s.model, "stratum-emq-1");
    assert_eq!(s.contributions.len(), 14);
    let c = |k| s.contributions.iter().find(|c| c.key == k).unwrap();
    assert_eq!(c(EmqKey::Email).state, KeyState::Valid);
    assert!(close(c(EmqKey::Email).points, 30.0 / 14.0));
    assert_eq!(c(EmqKey::Phone).state, KeyState::PreHashed);
    assert_eq!(c(EmqKey::Country).state, KeyState::Invalid);
    assert!(close(c(EmqKey::Country).points, 0.0));
    assert_eq!(c(EmqKey::Gender).state, KeyState::Missing);
    let total: f64 = s.contributions.iter().map(|c| c.points).sum();
    assert!(close(total, s.uncapped));
}

#[test]
fn score_is_capped_at_ten() {
    let m = EmqModel::default();
    let mut e = EmqEvent::new();
    for k in EmqKey::ALL {
        e = e.with(k);
    }
    // S = 14 (R) + 2 + 2 + 1·4 + 0.5·2 = 23 → 10·23/14 = 16.4 → capped at 10
    let s = m.score(&e);
    assert_eq!(s.score, 10.0);
    assert!(close(s.uncapped, 230.0 / 14.0));
}

#[test]
fn keys_a_platform_lacks_leave_s_and_r() {
    let m = EmqModel::builder("google-like")
        .key(EmqKey::Email)
        .key(EmqKey::Phone)
        .key(EmqKey::ClickId)
        .key(EmqKey::IpUa)
        .key(EmqKey::Zip)
        .build()
        .unwrap();
    // Σ_R w = 3 + 2 + 3 + 2 = 10
    assert!(close(m.reference_total(), 10.0));
    // Browser id is not in the model: it adds nothing.
    let e = EmqEvent::new().with(EmqKey::Email).with(EmqKey::BrowserId);
    assert_eq!(m.score(&e).score, 3.0);
    assert_eq!(m.score(&e).contributions.len(), 5);
}

fn batch() -> Vec<EmqEvent> {
    // 10 events: all have email; 6 have IP+UA; 3 have fbp (browser id), 1 invalid
    // phone, ids e0..e8 with e3 repeated once, one event without id.
    let mut v = Vec::new();
    for i in 0..10 {
        let mut e = EmqEvent::new().with(EmqKey::Email);
        if i < 6 {
            e = e.with(EmqKey::IpUa);
        }
        if i < 3 {
            e = e.with(EmqKey::BrowserId);
        }
        if i == 9 {
            e = e.with_invalid(EmqKey::Phone);
        }
        match i {
            9 => {}
            8 => e = e.with_event_id("e3"),
            _ => e = e.with_event_id(format!("e{i}")),
        }
        v.push(e);
    }
    v
}

#[test]
fn batch_report_coverage_distribution_duplicates() {
    let m = EmqModel::default();
    let r = m.report(&batch(), &ReportOptions::default()).unwrap();
    assert_eq!(r.model, "stratum-emq-1");
    assert_eq!(r.events, 10);
    // S = 3·1.0 + 2·0.6 + 2·0.3 = 4.8 → 10·4.8/14 = 3.428… → 3.4
    assert_eq!(r.emq, 3.4);
    let cov = |k| r.coverage.iter().find(|c| c.key == k).unwrap();
    assert_eq!(cov(EmqKey::Email).valid, 10);
    assert!(close(cov(EmqKey::IpUa).coverage, 0.6));
    assert_eq!(cov(EmqKey::Phone).invalid, 1);
    assert_eq!(cov(EmqKey::Phone).missing, 9);
    assert_eq!(r.duplicates, 1);
    assert_eq!(r.without_event_id, 1);
    // Per-event scores: 3 events 10·7/14 = 5.0, 3 events 10·5/14 = 3.6,
    // 4 events 10·3/14 = 2.1 → bands [2,3): 4, [3,4): 3, [5,6): 3.
    assert_eq!(r.distribution.bands, [0, 0, 4, 3, 0, 3, 0, 0, 0, 0]);
    // mean = (3·5 + 3·50/14 + 4·30/14) / 10 = (15 + 10.714… + 8.571…) / 10 = 3.43 → 3.4
    assert_eq!(r.distribution.mean, 3.4);
    assert_eq!(r.distribution.p10, 2.1);
    assert_eq!(r.distribution.p50, 3.6);
    assert_eq!(r.distribution.p90, 5.0);
}

#[test]
fn fixes_are_ranked_by_estimated_gain_with_remediation() {
    let m = EmqModel::default();
    let r = m.report(&batch(), &ReportOptions::default()).unwrap();
    let keys: Vec<EmqKey> = r.fixes.iter().map(|f| f.key).collect();
    // Gains 10·w·(1−c)/14: click id 3·1 → 2.14; phone 2, external id 2, birth date 2,
    // country 2 → 1.43 each; browser id 2·0.7 → 1.0; IP+UA 2·0.4 → 0.57; names,
    // city, zip 1 → 0.71; state, gender 0.5 → 0.36. Ties keep table order.
    assert_eq!(
        keys,
        vec![
            EmqKey::ClickId,
            EmqKey::Phone,
            EmqKey::ExternalId,
            EmqKey::BirthDate,
            EmqKey::Country,
            EmqKey::BrowserId,
            EmqKey::FirstName,
            EmqKey::LastName,
            EmqKey::City,
            EmqKey::Zip,
            EmqKey::IpUa,
            EmqKey::State,
            EmqKey::Gender,
        ]
    );
    assert_eq!(r.fixes[0].estimated_emq_gain, 2.14);
    let browser = r.fixes.iter().find(|f| f.key == EmqKey::BrowserId).unwrap();
    assert_eq!(browser.estimated_emq_gain, 1.0);
    assert!(close(browser.missing_share, 0.7));
    assert_eq!(
        browser.remediation,
        "send `browser id` from the platform's first-party cookie on the 70% of events that lack it"
    );
    let phone = r.fixes.iter().find(|f| f.key == EmqKey::Phone).unwrap();
    assert_eq!(
        phone.remediation,
        "send `phone` from the checkout or account form on the 90% of events that lack it; \
         fix `phone` on the 10% of events where it is invalid: send it with its country code, \
         or configure the phone region"
    );
    assert!(r.fixes.iter().all(|f| f.roas_impact.is_none()));
}

#[test]
fn platform_wording_reaches_the_remediation() {
    let m = EmqModel::builder("meta")
        .key(EmqKey::Email)
        .key_labelled(EmqKey::BrowserId, "fbp", "from the `_fbp` cookie")
        .build()
        .unwrap();
    let events: Vec<EmqEvent> = (0..50)
        .map(|i| {
            let e = EmqEvent::new().with(EmqKey::Email);
            if i < 31 { e.with(EmqKey::BrowserId) } else { e }
        })
        .collect();
    let r = m.report(&events, &ReportOptions::default()).unwrap();
    // 19 of 50 lack fbp = 38 %.
    assert_eq!(
        r.fixes[0].remediation,
        "send `fbp` from the `_fbp` cookie on the 38% of events that lack it"
    );
}

#[test]
fn roas_impact_follows_the_documented_model() {
    let m = EmqModel::default();
    let roas = RoasModel::new(Decimal::new(100_000, 0), Decimal::new(25_000, 0))
        .unwrap()
        .with_uplift_per_point(0.05)
        .unwrap();
    let r = m
        .report(&batch(), &ReportOptions { roas: Some(roas) })
        .unwrap();
    let click = r.fixes[0].roas_impact.clone().unwrap();
    // gain = 30/14 = 2.142857…; uplift = 0.05 · 2.142857 = 0.107143 (6 dp)
    // revenue = 100000 · 0.107143 = 10714.30; ROAS Δ = 10714.30 / 25000 = 0.4286
    assert!(close(click.matched_conversion_uplift, 0.107143));
    assert_eq!(click.attributed_revenue_delta, Decimal::new(1_071_430, 2));
    assert_eq!(click.roas_delta, Decimal::new(4286, 4));
}

#[test]
fn report_feeds_health_scoring() {
    let m = EmqModel::default();
    // 100 copies of the 10-event batch: same coverage, EMQ 3.4, enough samples for
    // the health calculator.
    let events: Vec<EmqEvent> = (0..100).flat_map(|_| batch()).collect();
    let r = m.report(&events, &ReportOptions::default()).unwrap();
    let at = common::t0();
    let obs = r.observation(at);
    assert_eq!(obs.score, 3.4);
    assert_eq!(obs.events, 1_000);
    let mut signals = Signals::new(common::scope());
    signals.emq = Some(obs);
    let report = HealthConfig::default().score(&signals, at).unwrap();
    let emq = report
        .components
        .iter()
        .find(|c| c.component == stratum_core::health::Component::Emq)
        .unwrap();
    // 3.4 on 0..10 → 34 on 0..100
    assert_eq!(emq.missing, None);
    assert!(close(emq.raw.unwrap(), 3.4));
    assert!(close(emq.score.unwrap(), 34.0));
}

#[test]
fn empty_batch_is_zero_with_no_fixes() {
    let r = EmqModel::default()
        .report(&[], &ReportOptions::default())
        .unwrap();
    assert_eq!(r.events, 0);
    assert_eq!(r.emq, 0.0);
    assert!(r.fixes.is_empty());
    assert_eq!(r.distribution.p50, 0.0);
}

#[test]
fn invalid_models_and_roas_settings_are_config_errors() {
    let e = EmqModel::builder("x")
        .key(EmqKey::Email)
        .weight(EmqKey::Email, -1.0)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "invalid_config");
    assert_eq!(e.field(), Some("emq.rules[0].weight"));
    let e = EmqModel::builder("x")
        .key(EmqKey::City)
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("emq.rules"));
    let e = EmqModel::builder("x")
        .key(EmqKey::Email)
        .weight(EmqKey::Email, f64::NAN)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "invalid_config");
    let e = RoasModel::new(Decimal::ONE, Decimal::ZERO).unwrap_err();
    assert_eq!(e.field(), Some("roas.spend"));
    let e = RoasModel::new(Decimal::NEGATIVE_ONE, Decimal::ONE).unwrap_err();
    assert_eq!(e.field(), Some("roas.attributed_revenue"));
    let e = RoasModel::new(Decimal::ONE, Decimal::ONE)
        .unwrap()
        .with_uplift_per_point(1.5)
        .unwrap_err();
    assert_eq!(e.field(), Some("roas.uplift_per_point"));
    let e = stratum_core::from_json::<EmqModel>(
        r#"{"name":"x","rules":[{"key":"email","weight":-2,"label":"e","source":"s","invalid_hint":"h"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_config");
    assert_eq!(e.field(), Some("emq.rules[0].weight"));
}

#[test]
fn models_and_reports_round_trip_through_json() {
    let m = EmqModel::default();
    let json = serde_json::to_string(&m).unwrap();
    let back: EmqModel = stratum_core::from_json(&json).unwrap();
    assert_eq!(back, m);
    let r = m.report(&batch(), &ReportOptions::default()).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["model"], "stratum-emq-1");
    assert_eq!(json["fixes"][0]["key"], "click_id");
    let e: EmqEvent =
        stratum_core::from_json(r#"{"valid":["email","ip_ua"],"event_id":"x"}"#).unwrap();
    assert_eq!(EmqModel::default().score(&e).score, 3.6);
}

fn key() -> impl Strategy<Value = EmqKey> {
    proptest::sample::select(EmqKey::ALL.to_vec())
}

fn event() -> impl Strategy<Value = EmqEvent> {
    (
        proptest::collection::vec(key(), 0..14),
        proptest::collection::vec(key(), 0..4),
    )
        .prop_map(|(valid, invalid)| {
            let mut e = EmqEvent::new();
            for k in valid {
                e = e.with(k);
            }
            for k in invalid {
                e = e.with_invalid(k);
            }
            e
        })
}

proptest! {
    #[test]
    fn scores_stay_in_range_and_adding_a_key_never_lowers_them(e in event(), k in key()) {
        let m = EmqModel::default();
        let s = m.score(&e).score;
        prop_assert!((0.0..=10.0).contains(&s));
        prop_assert!(m.score(&e.with(k)).score >= s);
    }

    #[test]
    fn a_batch_of_one_event_scores_like_the_event(e in event(), n in 1usize..20) {
        let m = EmqModel::default();
        let r = m.report(&vec![e.clone(); n], &ReportOptions::default()).unwrap();
        prop_assert!(close(r.emq, m.score(&e).score));
        prop_assert_eq!(r.distribution.bands.iter().sum::<u64>(), n as u64);
        for f in &r.fixes {
            prop_assert!(f.estimated_emq_gain > 0.0 && f.estimated_emq_gain <= 10.0 - r.emq + 1e-9);
        }
        prop_assert!(r.fixes.windows(2).all(|w| w[0].estimated_emq_gain >= w[1].estimated_emq_gain));
    }
}
