//! Google's name rule: prefixes and generational suffixes dropped, and every
//! output normalises to itself.
#![allow(clippy::expect_used)]

use proptest::prelude::*;
use stratum_connectors::{Field, FieldValue, Normalizer, NormalizerConfig, Platform};

fn normalizer() -> Normalizer {
    Normalizer::new(
        NormalizerConfig::builder()
            .build()
            .expect("the default config"),
    )
    .expect("the default rules")
}

fn google(n: &Normalizer, text: &str) -> Option<String> {
    n.normalize(Platform::Google, Field::FirstName, &FieldValue::raw(text))
        .ok()
        .and_then(|v| v.normalized)
}

#[test]
fn suffixes_are_dropped_with_the_commas_between_them() {
    let n = normalizer();
    assert_eq!(google(&n, "Dr. John Smith, Jr."), Some("john smith".into()));
    assert_eq!(google(&n, "john , ii. , iii"), Some("john".into()));
    assert_eq!(google(&n, "john ,"), Some("john ,".into()));
    assert_eq!(google(&n, "ii"), Some("ii".into()));
}

proptest! {
    #[test]
    fn the_output_normalises_to_itself(
        words in proptest::collection::vec(
            prop_oneof![
                Just("john".to_string()), Just("Mr.".to_string()), Just("ii.".to_string()),
                Just("III".to_string()), Just("jr".to_string()), Just(",".to_string()),
                Just("smith,".to_string()), Just("dr".to_string()), "[a-z.,!]{1,4}",
            ],
            1..8,
        )
    ) {
        let n = normalizer();
        let text = words.join(" ");
        if let Some(first) = google(&n, &text) {
            prop_assert_eq!(google(&n, &first), Some(first), "{:?}", text);
        }
    }
}

/// Removing whitespace can bring a combining mark next to the letter it composes
/// with (`O`, a tab, U+0303): the result is composed again, so a normalised e-mail
/// or name normalises to itself (found by fuzzing).
#[test]
fn a_combining_mark_after_removed_whitespace_is_composed() {
    let n = normalizer();
    let once = |field: Field, text: &str| {
        n.normalize(Platform::Meta, field, &FieldValue::raw(text))
            .ok()
            .and_then(|v| v.normalized)
    };
    // Meta's first-name rule strips whitespace: "Jo\t\u{303}se" reads as "jõse".
    assert_eq!(
        once(Field::FirstName, "Jo\t\u{303}se").as_deref(),
        Some("jõse")
    );
    for (field, text) in [
        (Field::FirstName, "Jo\t\u{303}se"),
        (Field::Email, "ann@example.co\t\u{303}m"),
        (Field::Email, "l @uN.c\u{FFFD}\u{12}\u{303}N.O\t\n\u{303}"),
    ] {
        if let Some(first) = once(field, text) {
            assert_eq!(
                once(field, &first).as_deref(),
                Some(first.as_str()),
                "{text:?}"
            );
        }
    }
}
