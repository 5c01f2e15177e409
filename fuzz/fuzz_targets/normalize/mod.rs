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

/// Runs the oracle over `data` (as UTF-8, lossily) for `fields`. The phone region
/// only matters to phone numbers and the context country only to the state and
/// zip rules, so the other fields run with one normaliser and no country rather
/// than repeating identical work twelve times.
pub fn check(fields: &[Field], data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    for &field in fields {
        for platform in distinct_platforms(field, data.len()) {
            let rule = platform.spec(field).map(|s| s.rule);
            let normalizers = if field == Field::Phone {
                &NORMALIZERS[..]
            } else {
                &NORMALIZERS[..1]
            };
            let countries: &[Option<&str>] =
                if matches!(rule, Some(Rule::State | Rule::Zip | Rule::ZipGoogle)) {
                    &[None, Some("us"), Some("ca"), Some("de")]
                } else {
                    &[None]
                };
            for n in normalizers {
                for &country in countries {
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
                }
                let _ = n.normalize(
                    platform,
                    field,
                    &FieldValue::Hashed(Hashed::Hex(text.clone())),
                );
                let _ = n.normalize(
                    platform,
                    field,
                    &FieldValue::Hashed(Hashed::Base64(text.clone())),
                );
            }
        }
    }
}

/// One platform per distinct way of treating `field` (hashed or not, and the
/// rule): platforms that share both run the same code on the value, so repeating
/// them repeats identical work. Which of the sharing platforms runs rotates with
/// `salt` (the input's length), so every platform is reached across inputs.
fn distinct_platforms(field: Field, salt: usize) -> Vec<Platform> {
    let mut groups: Vec<(Option<(bool, Rule)>, Vec<Platform>)> = Vec::new();
    for &platform in Platform::ALL {
        let key = platform.spec(field).map(|s| (s.hashed, s.rule));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(platform),
            None => groups.push((key, vec![platform])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| members[salt % members.len()])
        .collect()
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
