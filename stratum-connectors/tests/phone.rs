//! Phone numbers given back in their own normalised form.

#![allow(clippy::expect_used)]

use stratum_connectors::{Field, FieldValue, Normalizer, NormalizerConfig, Platform, WarningCode};

fn normalizer() -> Normalizer {
    let config = NormalizerConfig::builder()
        .build()
        .expect("the default config is valid");
    Normalizer::new(config).expect("the default rules compile")
}

/// The digits and the note of `text` read as a Meta phone number.
fn read(n: &Normalizer, text: &str) -> (String, Option<WarningCode>) {
    let v = n
        .normalize(Platform::Meta, Field::Phone, &FieldValue::raw(text))
        .expect("a phone number is read, valid or not");
    (v.normalized.unwrap_or_default(), v.note)
}

#[test]
fn a_valid_number_reads_the_same_from_its_own_output() {
    let n = normalizer();
    for text in [
        "+1 650 253 0000",
        "+44 20 7031 3000",
        "+64 3 234 5678",
        "+39 06 1234 5678",
        "+49 30 123456",
    ] {
        let (digits, note) = read(&n, text);
        assert_eq!(note, None, "{text:?} is valid");
        assert_eq!(
            read(&n, &format!("+{digits}")),
            (digits.clone(), None),
            "{text:?}"
        );
    }
}

/// libphonenumber strips New Zealand's national prefix `0` after `+64` whenever what
/// remains is of a possible length, and does so again on its own output; the number is
/// not valid either way and both readings say so.
#[test]
fn a_number_not_valid_keeps_its_note_when_read_again() {
    let n = normalizer();
    let (digits, note) = read(&n, "+64 0000 55 0 4000");
    assert_eq!(note, Some(WarningCode::PhoneNotValid));
    let (again, note) = read(&n, &format!("+{digits}"));
    assert_eq!(note, Some(WarningCode::PhoneNotValid));
    assert!(digits.ends_with(&again[2..]), "{digits} then {again}");
}

/// With a default region, a number dialled through that region's international
/// prefix reads as the number it dials, and a `*` is ignored.
#[test]
fn a_number_dialled_through_the_international_prefix_reads_as_international() {
    let us = |text: &str| {
        let config = NormalizerConfig::builder()
            .phone_region(stratum_connectors::PhoneRegion::Default("US".into()))
            .build()
            .expect("a valid config");
        let n = Normalizer::new(config).expect("the rules compile");
        n.normalize(Platform::Meta, Field::Phone, &FieldValue::raw(text))
            .map(|v| (v.normalized, v.note))
            .map_err(|w| w.code)
    };
    assert_eq!(us("011 44 20 7031 3000"), us("+44 20 7031 3000"));
    assert_eq!(
        us("011 44 20 7031 3000"),
        Ok((Some("442070313000".into()), None))
    );
    assert_eq!(us("+44 20*7031*3000"), us("+44 20 7031 3000"));
    // Not a possible length either way (it was kept, through another parser).
    assert_eq!(us("01190014 7946"), us("+90 0147946"));
    assert_eq!(us("01190014 7946"), Err(WarningCode::InvalidPhone));
}

/// A number kept as not valid whose own output is of no possible length: the
/// re-read drops it, and never makes it valid.
#[test]
fn a_number_not_valid_may_be_dropped_when_read_again() {
    let n = normalizer();
    let (digits, note) = read(&n, "+46 000539744 21405");
    assert_eq!(
        (digits.as_str(), note),
        ("46053974421405", Some(WarningCode::PhoneNotValid))
    );
    let again = n.normalize(
        Platform::Meta,
        Field::Phone,
        &FieldValue::raw(format!("+{digits}")),
    );
    assert_eq!(
        again.map_err(|w| w.code).err(),
        Some(WarningCode::InvalidPhone)
    );
}
