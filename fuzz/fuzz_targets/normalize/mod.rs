//! The oracle shared by the normaliser targets: for every platform, every field of
//! the target and every way of passing the value, normalisation must not panic, must
//! be idempotent on its own output, must never hash a digest again, and every digest
//! must be the SHA-256 of the text it claims to hash. A phone number kept with the
//! `phone_not_valid` note is exempt from idempotence (libphonenumber strips a national
//! prefix again from such a number given back in E.164 form; see
//! `docs/connectors.md`): its second reading must still be kept, with the note.
#![allow(dead_code)]

use std::sync::LazyLock;

use chrono::NaiveDate;
use stratum_connectors::{
    Context, Field, FieldValue, Hashed, Normalizer, NormalizerConfig, Origin, PhoneRegion,
    Platform, Rule, sha256_hex,
};

fn normalizer(region: PhoneRegion) -> Normalizer {
    let config = NormalizerConfig::builder()
        .phone_region(region)
        .today(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default())
        .build()
        .expect("a valid config");
    Normalizer::new(config).expect("a valid normaliser")
}

/// The normalisers, built once per process (building one compiles its tables).
static NORMALIZERS: LazyLock<[Normalizer; 3]> = LazyLock::new(|| {
    [
        normalizer(PhoneRegion::Default("US".into())),
        normalizer(PhoneRegion::Default("GB".into())),
        normalizer(PhoneRegion::RequireInternational),
    ]
});

/// Context countries a value is normalised under (they matter to the state and
/// zip rules only).
const COUNTRIES: [Option<&str>; 4] = [None, Some("us"), Some("ca"), Some("de")];

/// Runs the oracle over one way of normalising a value. The first two bytes of
/// `data` choose the way, the rest (as UTF-8, lossily) is the value:
///
/// - byte 0: the field, `fields[b % fields.len()]`;
/// - byte 1: bits 0-1 the platform (`Platform::ALL[b % len]`), bits 2-3 the
///   normaliser (phone region US, GB, or international numbers only; 3 is US),
///   bits 4-5 the context country (none, `us`, `ca`, `de`).
///
/// One way per input keeps an input to a handful of normalisations, where every
/// way for every input took about a hundred; the fuzzer reaches every way by
/// mutating the two bytes, and keeps a value while it changes only them.
pub fn check(fields: &[Field], data: &[u8]) {
    let [field, way, value @ ..] = data else {
        return;
    };
    let Some(&field) = fields.get(usize::from(*field) % fields.len().max(1)) else {
        return;
    };
    let platforms = Platform::ALL;
    let Some(&platform) = platforms.get(usize::from(way & 3) % platforms.len().max(1)) else {
        return;
    };
    let n = &NORMALIZERS[usize::from((way >> 2) & 3) % NORMALIZERS.len()];
    let country = COUNTRIES[usize::from((way >> 4) & 3)];
    let text = String::from_utf8_lossy(value).into_owned();
    check_one(
        n,
        platform,
        field,
        &text,
        Context {
            country,
            ..Context::default()
        },
    );
    let _ = n.normalize(
        platform,
        field,
        &FieldValue::Hashed(Hashed::Hex(text.clone())),
    );
    let _ = n.normalize(platform, field, &FieldValue::Hashed(Hashed::Base64(text)));
}

fn check_one(n: &Normalizer, platform: Platform, field: Field, text: &str, ctx: Context<'_>) {
    let _ = n.normalize_in(platform, field, &FieldValue::Auto(text.to_owned()), ctx);
    let Ok(first) = n.normalize_in(platform, field, &FieldValue::Raw(text.to_owned()), ctx) else {
        return;
    };
    let normalized = match first.origin {
        Origin::Hashed => {
            let normalized = first
                .normalized
                .clone()
                .expect("hashed values keep their text");
            assert_eq!(first.value, sha256_hex(&normalized), "{text:?}");
            let again = n
                .normalize_in(platform, field, &FieldValue::Auto(first.value.clone()), ctx)
                .expect("our digest passes through");
            assert_eq!(again.origin, Origin::PreHashed);
            assert_eq!(again.value, first.value, "hashed twice: {text:?}");
            normalized
        }
        Origin::Raw => first.value.clone(),
        Origin::PreHashed => return,
    };
    let rule = platform.spec(field).map(|s| s.rule);
    let input = if rule == Some(Rule::PhoneDigits) {
        format!("+{normalized}")
    } else {
        normalized.clone()
    };
    // Every kept value, a phone number that is not valid included (it is read
    // until it reads as itself), normalises to itself with the same note.
    let second = n
        .normalize_in(platform, field, &FieldValue::Raw(input), ctx)
        .unwrap_or_else(|w| panic!("{platform}/{field}: {text:?} -> {normalized:?} then {w}"));
    if field == Field::Phone {
        assert_eq!(
            second.note, first.note,
            "{platform}/{field}: {text:?} -> {normalized:?} changed its note"
        );
    }
    assert_eq!(
        second.value, first.value,
        "{platform}/{field}: not idempotent on {text:?}"
    );
}
