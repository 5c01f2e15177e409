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
