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
