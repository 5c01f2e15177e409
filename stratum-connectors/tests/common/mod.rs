//! Shared fixtures and proptest strategies.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::panic
)]

use chrono::NaiveDate;
use proptest::prelude::*;
use stratum_connectors::{Field, Normalizer, NormalizerConfig, PhoneRegion, Platform};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

pub fn normalizer(region: PhoneRegion) -> Normalizer {
    Normalizer::new(
        NormalizerConfig::builder()
            .phone_region(region)
            .today(today())
            .build()
            .unwrap(),
    )
    .unwrap()
}

pub fn us() -> Normalizer {
    normalizer(PhoneRegion::Default("US".into()))
}

pub fn platform() -> impl Strategy<Value = Platform> {
    proptest::sample::select(Platform::ALL.to_vec())
}

pub fn field() -> impl Strategy<Value = Field> {
    proptest::sample::select(Field::ALL.to_vec())
}

/// Text that looks like customer data some of the time: emails, phones, names with
/// punctuation and other scripts, dates, hex digests, and arbitrary Unicode.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ A-Za-z0-9._+-]{1,12}@[A-Za-z0-9-]{1,8}\\.[A-Za-z]{2,4} ?",
        "[+(]?[0-9]{1,3}[ )-]?[0-9 -]{6,14}( ?(ext\\.?|x) ?[0-9]{1,4})?",
        "[ A-Za-zÀ-ÿ’'.,-]{0,20}",
        "[ \\p{Greek}\\p{Han}\\p{Cyrillic}]{0,10}",
        "[0-9]{1,2}[/. -][0-9]{1,2}[/. -](19|20)[0-9]{2}",
        "[0-9a-fA-F]{64}(\\.[A-Za-z0-9_-]{2,8})?",
        "[0-9]{5}([ -]?[0-9]{4})?",
        any::<String>(),
    ]
}

/// 2026-03-01T12:00:00Z, the `now` of the payload tests.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_772_366_400, 0).unwrap()
}

/// Events that every platform must accept: a name, a time within every window,
/// an id, a URL, an email, IP and user agent (so every customer-information rule
/// is met), optional extra fields with arbitrary text (invalid ones are dropped
/// with warnings), a value in range with a real currency, and items.
pub fn valid_event() -> impl Strategy<Value = stratum_connectors::ConversionEvent> {
    use rust_decimal::Decimal;
    use stratum_connectors::{ActionSource, Content, ConversionEvent, FieldValue};
    let sources = proptest::sample::select(vec![
        ActionSource::Website,
        ActionSource::App,
        ActionSource::PhysicalStore,
        ActionSource::PhoneCall,
        ActionSource::Email,
        ActionSource::Chat,
        ActionSource::SystemGenerated,
        ActionSource::Other,
    ]);
    let extra = proptest::collection::vec((field(), text()), 0..6);
    let items = proptest::collection::vec(("[A-Za-z0-9-]{1,8}", 1..100u32, 0..10_000_000i64), 0..4);
    (
        "[A-Za-z]{1,12}",
        -60i64..6 * 86_400,
        sources,
        "[a-z0-9]{1,8}@[a-z]{1,8}\\.(com|org|de)",
        extra,
        proptest::option::of(0..1_000_000_000_000i64),
        proptest::sample::select(vec!["USD", "eur", "JPY", "BHD"]),
        items,
    )
        .prop_map(
            |(name, age, source, email, extra, cents, currency, items)| {
                let mut e =
                    ConversionEvent::new(name, now() - chrono::TimeDelta::seconds(age), source)
                        .with_event_id("id")
                        .with_url("https://shop.example/");
                for (f, v) in extra {
                    e = e.with_user(f, FieldValue::auto(v));
                }
                e = e
                    .with_user(Field::Email, FieldValue::raw(email))
                    .with_user(Field::ClientIp, FieldValue::raw("203.0.113.7"))
                    .with_user(Field::UserAgent, FieldValue::raw("Mozilla/5.0"));
                if let Some(c) = cents {
                    e = e.with_value(Decimal::new(c, 2), currency);
                } else {
                    e.currency = Some(currency.into());
                }
                for (id, q, p) in items {
                    e = e.with_content(Content::new(id, q, Decimal::new(p, 2)));
                }
                e
            },
        )
}
