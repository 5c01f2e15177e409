//! Property tests: normalisation is idempotent on its own output, hashing never
//! applies twice, and no input panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use stratum_connectors::{Context, FieldValue, Origin, PhoneRegion, Rule};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Normalising the normalised text again gives the same text (for the
    /// digits-only phone rule, the text with its `+` restored, since the `+` is
    /// what makes it international).
    #[test]
    fn normalisation_is_idempotent(
        platform in common::platform(),
        field in common::field(),
        text in common::text(),
        country in proptest::option::of(proptest::sample::select(vec!["us", "ca", "gb", "de"])),
    ) {
        let n = common::us();
        let ctx = Context { country, ..Context::default() };
        let Ok(first) = n.normalize_in(platform, field, &FieldValue::raw(text.clone()), ctx) else {
            return Ok(());
        };
        let text1 = match first.origin {
            Origin::Hashed => first.normalized.clone().unwrap(),
            Origin::Raw => first.value.clone(),
            Origin::PreHashed => return Ok(()),
        };
        let rule = platform.spec(field).unwrap().rule;
        let again_input = if rule == Rule::PhoneDigits { format!("+{text1}") } else { text1.clone() };
        let second = n
            .normalize_in(platform, field, &FieldValue::raw(again_input), ctx)
            .unwrap_or_else(|w| panic!("{text:?} -> {text1:?} then {w}"));
        prop_assert_eq!(&second.value, &first.value, "{:?} -> {:?}", text, text1);
        prop_assert_eq!(second.normalized, first.normalized);
    }

    /// A digest we produced, fed back in as a value of unknown kind (or typed as
    /// hashed), passes through unchanged: it is never hashed a second time.
    #[test]
    fn hashing_never_applies_twice(
        platform in common::platform(),
        field in common::field(),
        text in common::text(),
    ) {
        let n = common::us();
        let Ok(first) = n.normalize(platform, field, &FieldValue::raw(text)) else {
            return Ok(());
        };
        if first.origin != Origin::Hashed {
            return Ok(());
        }
        for again in [
            FieldValue::auto(first.value.clone()),
            FieldValue::auto(first.value.to_uppercase()),
            FieldValue::Hashed(stratum_connectors::Hashed::Hex(first.value.clone())),
        ] {
            let second = n.normalize(platform, field, &again).unwrap();
            prop_assert_eq!(second.origin, Origin::PreHashed);
            prop_assert_eq!(&second.value, &first.value);
        }
    }

    /// Hashed values are 64 lowercase hex digits of the SHA-256 of the normalised text.
    #[test]
    fn digests_are_sha256_of_the_normalised_text(
        platform in common::platform(),
        field in common::field(),
        text in common::text(),
    ) {
        let n = common::us();
        if let Ok(out) = n.normalize(platform, field, &FieldValue::raw(text))
            && out.origin == Origin::Hashed
        {
            prop_assert_eq!(out.value.len(), 64);
            prop_assert!(out.value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            prop_assert_eq!(
                &out.value,
                &stratum_connectors::sha256_hex(out.normalized.as_deref().unwrap())
            );
        }
    }

    /// No input panics, whatever its kind, platform, field, region or context.
    #[test]
    fn no_input_panics(
        platform in common::platform(),
        field in common::field(),
        text in any::<String>(),
        kind in 0u8..4,
        country in proptest::option::of(any::<String>()),
        intl in any::<bool>(),
    ) {
        let n = if intl { common::normalizer(PhoneRegion::RequireInternational) } else { common::us() };
        let value = match kind {
            0 => FieldValue::Raw(text),
            1 => FieldValue::Auto(text),
            2 => FieldValue::Hashed(stratum_connectors::Hashed::Hex(text)),
            _ => FieldValue::Hashed(stratum_connectors::Hashed::Base64(text)),
        };
        let _ = n.normalize_in(platform, field, &value, Context { country: country.as_deref(), ..Context::default() });
    }
}
