//! Phone numbers given back in their own normalised form.

#![allow(clippy::expect_used, clippy::panic)]

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

/// One reading as Meta's phone rule: the digits and the note, or why it is dropped.
fn meta(n: &Normalizer, text: &str) -> Result<(String, Option<WarningCode>), WarningCode> {
    n.normalize(Platform::Meta, Field::Phone, &FieldValue::raw(text))
        .map(|v| (v.normalized.unwrap_or_default(), v.note))
        .map_err(|w| w.code)
}

/// libphonenumber strips New Zealand's national prefix `0` after `+64` whenever what
/// remains is of a possible length, and does so again on its own output: a number
/// that is not valid is read again until it reads as itself, so the output always
/// normalises to itself (`+64 0000 55 0 4000` → `64005504000` → `645504000`).
#[test]
fn a_number_not_valid_is_read_until_it_reads_as_itself() {
    let n = normalizer();
    for text in [
        "+64 0000 55 0 4000",
        "+(64) 000 45 0 50 000",
        "+64 0 4 505 0000",
    ] {
        let first = meta(&n, text);
        let Ok((digits, _)) = &first else {
            panic!("{text:?} is a possible number: {first:?}");
        };
        assert_eq!(meta(&n, &format!("+{digits}")), first, "{text:?}");
    }
    assert_eq!(
        meta(&n, "+64 0000 55 0 4000"),
        Ok(("645504000".into(), Some(WarningCode::PhoneNotValid)))
    );
    // Reading again reaches a valid number: the valid reading is the output.
    assert_eq!(
        meta(&n, "+(64) 000 45 0 50 000"),
        meta(&n, "+64 4 505 0000")
    );
    assert_eq!(meta(&n, "+64 4 505 0000"), Ok(("6445050000".into(), None)));
}

/// `text` read as Meta's phone rule with the default region `region`: the digits
/// and the note, or why it is dropped.
fn in_region(
    region: &str,
    text: &str,
) -> Result<(Option<String>, Option<WarningCode>), WarningCode> {
    let config = NormalizerConfig::builder()
        .phone_region(stratum_connectors::PhoneRegion::Default(region.into()))
        .build()
        .expect("a valid config");
    let n = Normalizer::new(config).expect("the rules compile");
    n.normalize(Platform::Meta, Field::Phone, &FieldValue::raw(text))
        .map(|v| (v.normalized, v.note))
        .map_err(|w| w.code)
}

/// With a default region, a number dialled through that region's international
/// prefix reads as the number it dials, and a `*` is ignored.
#[test]
fn a_number_dialled_through_the_international_prefix_reads_as_international() {
    let us = |text: &str| in_region("US", text);
    assert_eq!(us("011 44 20 7031 3000"), us("+44 20 7031 3000"));
    assert_eq!(
        us("011 44 20 7031 3000"),
        Ok((Some("442070313000".into()), None))
    );
    assert_eq!(us("+44 20*7031*3000"), us("+44 20 7031 3000"));
    // A possible number that is not valid, read as libphonenumber reads it
    // (`+900147946`), and kept with the note.
    assert_eq!(us("01190014 7946"), us("+90 0147946"));
    assert_eq!(
        us("01190014 7946"),
        Ok((Some("900147946".into()), Some(WarningCode::PhoneNotValid)))
    );
}

/// A number that is not valid whose own output is of no possible length is
/// dropped: a kept output would not read back.
#[test]
fn a_number_whose_output_does_not_read_back_is_dropped() {
    let n = normalizer();
    assert_eq!(
        meta(&n, "+46 000539744 21405"),
        Err(WarningCode::InvalidPhone)
    );
    // libphonenumber keeps Sweden's `0` here (what would remain is of no possible
    // length), and the output reads back as itself.
    assert_eq!(
        meta(&n, "+46053974421405"),
        Ok(("46053974421405".into(), Some(WarningCode::PhoneNotValid)))
    );
    assert_eq!(meta(&n, "+46053974421405"), meta(&n, "+46 0539744 21405"));
    // A valid first reading whose output reads differently: Brazil's `0` is
    // stripped after `+55`, then `90` from what remains.
    for text in ["005509000559009", "+55 0 9000559009", "+55 9000559009"] {
        let first = meta(&n, text);
        match &first {
            Ok((digits, _)) => assert_eq!(meta(&n, &format!("+{digits}")), first, "{text:?}"),
            Err(code) => assert_eq!(*code, WarningCode::InvalidPhone, "{text:?}"),
        }
        assert_eq!(first, meta(&n, "+55 9000559009"), "{text:?}");
    }
}

/// A number dialled through the default region's international prefix reads as
/// the international number it dials whatever punctuation, stars or digits of
/// other scripts it is written with. Handed to the `phonenumber` crate with the
/// default region, such a number was read with that region's metadata: from GB,
/// `0)0*39 06 12345678` lost the `0` of Rome's area code (a wrong number), and
/// `0)0*55900491806` was kept although its own output is dropped.
#[test]
fn a_number_dialled_abroad_reads_the_same_whatever_it_is_written_with() {
    let gb = |text: &str| in_region("GB", text);
    let rome = Ok((Some("390612345678".into()), None));
    for text in [
        "00 39 06 1234 5678",
        "0)0*39 06 12345678",
        "00/39/06/12345678",
        "00\u{a0}39\u{a0}06\u{a0}1234\u{a0}5678",
        "\u{ff10}\u{ff10}39 06 12345678",
        "\u{660}\u{660}\u{663}\u{669}\u{660}\u{666}\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}",
        "00 39 06 1234*5678",
        "0~0 39 06 1234 5678",
    ] {
        assert_eq!(gb(text), rome, "{text:?}");
    }
    assert_eq!(gb("0)0*55900491806"), gb("+55900491806"));
    assert_eq!(gb("0)05* 5900491806\0\u{a0}"), gb("+55900491806"));
    // Mathematical bold digits, a run of runs of ten: 0 0 4 4.
    assert_eq!(
        gb("\u{1d7ce}\u{1d7ce}\u{1d7d2}\u{1d7d2} 20 7031 3000"),
        Ok((Some("442070313000".into()), None))
    );
}
