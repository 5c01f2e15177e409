//! `Normalizer::normalize_batch` gives exactly the per-value results, in order,
//! whatever the thread count; `normalize_str` is `normalize` on a string slice;
//! `normalize_chunked` covers its input once, in order.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use stratum_connectors::*;

fn normalizer() -> Normalizer {
    Normalizer::new(
        NormalizerConfig::builder()
            .phone_region(PhoneRegion::Default("GB".into()))
            .build()
            .unwrap(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn batch_equals_one_by_one(
        values in prop::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9._+]{1,12}@[a-z]{1,8}\\.(com|co\\.uk)",
                "(\\+44 ?|0)[1-9][0-9 ]{8,11}",
                "[ -~]{0,20}",
            ],
            0..10_000,
        ),
        field in prop::sample::select(vec![Field::Email, Field::Phone, Field::FirstName]),
        platform in prop::sample::select(vec![Platform::Meta, Platform::Google, Platform::TikTok]),
        threads in 0usize..5,
    ) {
        let n = normalizer();
        let values: Vec<FieldValue> = values.into_iter().map(FieldValue::raw).collect();
        let batch = n.normalize_batch(platform, field, &values, threads);
        prop_assert_eq!(batch.len(), values.len());
        for (v, b) in values.iter().zip(&batch) {
            prop_assert_eq!(&n.normalize(platform, field, v), b);
        }
    }
}

proptest! {
    #[test]
    fn string_slices_normalise_as_field_values(
        text in prop_oneof![
            "[a-zA-Z0-9._+ ]{1,12}@[a-z]{1,8}\\.(com|co\\.uk)",
            "[0-9a-fA-F]{64}",
            "[0-9a-f]{64}\\.[a-z]{2,8}",
            "\\PC{0,20}",
        ],
        field in prop::sample::select(Field::ALL.to_vec()),
        platform in prop::sample::select(Platform::ALL.to_vec()),
    ) {
        let n = normalizer();
        prop_assert_eq!(
            n.normalize_str(platform, field, &text, true),
            n.normalize(platform, field, &FieldValue::auto(text.clone()))
        );
        prop_assert_eq!(
            n.normalize_str(platform, field, &text, false),
            n.normalize(platform, field, &FieldValue::raw(text.clone()))
        );
    }

    #[test]
    fn chunks_cover_the_input_in_order(len in 0usize..20_000, threads in 0usize..5) {
        let n = normalizer();
        let items: Vec<usize> = (0..len).collect();
        let parts = n.normalize_chunked(&items, threads, |_, chunk| chunk.to_vec());
        prop_assert!(parts.len() <= threads.max(1));
        prop_assert_eq!(parts.concat(), items);
    }
}
