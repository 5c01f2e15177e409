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
