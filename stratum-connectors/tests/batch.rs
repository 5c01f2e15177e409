//! `Normalizer::normalize_batch` gives exactly the per-value results, in order,
//! whatever the thread count.
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
