//! The normaliser never reads the system clock: birth dates are bounded by the
//! configured day, else by the day the call gives (a payload build's `now`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, TimeZone, Utc};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::{
    ActionSource, Context, ConversionEvent, Field, FieldValue, Normalizer, NormalizerConfig,
    PhoneRegion, Platform,
};

fn normalizer(today: Option<NaiveDate>) -> Normalizer {
    let mut b = NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into()));
    if let Some(t) = today {
        b = b.today(t);
    }
    Normalizer::new(b.build().unwrap()).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_call_day_bounds_birth_dates_when_the_config_has_none() {
    let n = normalizer(None);
    let born = FieldValue::raw("2026-06-01");
    let at = |today| Context {
        country: None,
        today: Some(today),
    };
    assert!(
        n.normalize_in(Platform::Meta, Field::BirthDate, &born, at(day(2026, 3, 1)))
            .is_err()
    );
    assert!(
        n.normalize_in(Platform::Meta, Field::BirthDate, &born, at(day(2026, 7, 1)))
            .is_ok()
    );
    // Without any day only the lower bound applies: nothing is read from a clock.
    let far = FieldValue::raw("2999-01-01");
    assert!(n.normalize(Platform::Meta, Field::BirthDate, &far).is_ok());
    assert!(
        n.normalize(
            Platform::Meta,
            Field::BirthDate,
            &FieldValue::raw("1899-12-31")
        )
        .is_err()
    );
}

#[test]
fn the_configured_day_wins_over_the_call_day() {
    let n = normalizer(Some(day(2026, 3, 1)));
    let born = FieldValue::raw("2026-06-01");
    let ctx = Context {
        country: None,
        today: Some(day(2026, 7, 1)),
    };
    assert!(
        n.normalize_in(Platform::Meta, Field::BirthDate, &born, ctx)
            .is_err()
    );
}

#[test]
fn a_payload_build_judges_birth_dates_at_its_now() {
    let n = normalizer(None);
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 5, 0).unwrap();
    let event = ConversionEvent::new("Purchase", now, ActionSource::Website)
        .with_user(Field::Email, FieldValue::raw("ann@example.com"))
        .with_user(Field::UserAgent, FieldValue::raw("Mozilla/5.0"))
        .with_user(Field::BirthDate, FieldValue::raw("2026-06-01"))
        .with_event_id("o-1")
        .with_url("https://shop.example/");
    let built = MetaBuilder::new(&n).build(&[event], now);
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    let dropped: Vec<_> = built.warnings.iter().filter_map(|w| w.field()).collect();
    assert_eq!(dropped, ["birth_date"]);
}
