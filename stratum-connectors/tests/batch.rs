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
            n.normalize(platform, field, &FieldValue::raw(text))
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_hashed_column_holds_each_rows_own_digest(
        rows in prop::collection::vec(
            prop::option::of(prop_oneof![
                "[a-zA-Z0-9._+ ]{1,12}@[a-z]{1,8}\\.(com|co\\.uk)",
                "(\\+44 ?|0)[1-9][0-9 ]{8,11}",
                "[0-9a-f]{64}",
                "[ -~]{0,20}",
            ]),
            0..12_000,
        ),
        field in prop::sample::select(Field::ALL.to_vec()),
        platform in prop::sample::select(Platform::ALL.to_vec()),
        detect in any::<bool>(),
        threads in 0usize..4,
    ) {
        let n = normalizer();
        let rows: Vec<Option<&str>> = rows.iter().map(Option::as_deref).collect();
        let Some(c) = n.hash_column(platform, field, &rows, detect, threads) else {
            prop_assert_eq!(n.hashed_width(platform, field), None);
            return Ok(());
        };
        prop_assert_eq!(c.len(), rows.len());
        prop_assert_eq!(c.clone().into_parts().0.len(), rows.len() * c.width());
        for (i, row) in rows.iter().enumerate() {
            let one = row.map(|t| n.normalize_str(platform, field, t, detect));
            match one {
                Some(Ok(k)) => prop_assert_eq!(c.get(i), Some(k.value.as_str())),
                Some(Err(w)) => {
                    prop_assert_eq!(c.get(i), None);
                    prop_assert_eq!(c.warnings()[i], Some(w.code));
                }
                None => prop_assert_eq!((c.get(i), c.warnings()[i]), (None, None)),
            }
        }
    }
}

#[test]
fn a_hash_with_meta_appendix_does_not_fit_a_column() {
    let n = normalizer();
    let appendix = format!("{}.abc", "a".repeat(64));
    let rows = [Some("ann@example.com"), Some(appendix.as_str())];
    assert_eq!(
        n.hash_column(Platform::Meta, Field::Email, &rows, true, 1),
        None
    );
    assert!(
        n.hash_column(Platform::Meta, Field::Email, &rows[..1], true, 1)
            .is_some()
    );
    assert_eq!(n.hashed_width(Platform::Meta, Field::ClientIp), None);
}

#[test]
fn a_column_is_filled_block_by_block_and_grows_past_its_announced_rows() {
    let n = normalizer();
    let rows = [
        Some("a@example.com"),
        None,
        Some("b@example.com"),
        Some("x"),
    ];
    let whole = n
        .hash_column(Platform::Meta, Field::Email, &rows, true, 1)
        .unwrap();
    let mut c = HashedColumn::new(64, 1);
    assert!(n.hash_column_into(Platform::Meta, Field::Email, &rows[..1], true, 1, &mut c));
    assert!(n.hash_column_into(Platform::Meta, Field::Email, &rows[1..], true, 2, &mut c));
    assert_eq!(c, whole);
    assert_eq!(c.get(2), Some(sha256_hex("b@example.com").as_str()));
    let mut wrong = HashedColumn::new(44, 4);
    assert!(!n.hash_column_into(Platform::Meta, Field::Email, &rows, true, 1, &mut wrong));
}
