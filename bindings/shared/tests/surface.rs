//! The surface's own rules: the code list, option checks, batch splitting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::json;
use stratum_bindings::payload::{PayloadRequest, build_payloads};
use stratum_bindings::{INTERNAL, codes};
use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};

fn normalizer() -> Normalizer {
    Normalizer::new(
        NormalizerConfig::builder()
            .phone_region(PhoneRegion::Default("US".into()))
            .today(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn codes_hold_every_crate_code_once_and_internal() {
    let all = codes();
    for code in stratum_core::Error::CODES
        .iter()
        .chain(stratum_cdp::Error::CODES)
        .chain(stratum_connectors::Error::CODES)
    {
        assert_eq!(all.iter().filter(|c| *c == code).count(), 1, "{code}");
    }
    assert_eq!(all.last(), Some(&INTERNAL));
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len());
    assert!(
        all.iter()
            .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')),
        "codes are snake_case: {all:?}"
    );
}

#[test]
fn an_unknown_request_key_is_refused() {
    let r = serde_json::from_value::<PayloadRequest>(json!({
        "platform": "meta", "now": "2026-03-01T12:05:00Z", "events": [], "option": {}
    }));
    assert!(r.is_err());
}

proptest! {
    /// Every accepted event lands in exactly one request, in order, and no request
    /// holds more than the batch size; a batch size of 0 is refused by name.
    #[test]
    fn batches_cover_every_event_once(count in 0usize..12, size in 0usize..6) {
        let events: Vec<_> = (0..count)
            .map(|i| json!({
                "event_name": "Purchase",
                "event_time": "2026-03-01T12:00:00Z",
                "event_id": format!("o-{i}"),
                "action_source": "website",
                "user": {"email": {"raw": format!("p{i}@example.com")}},
            }))
            .collect();
        let request: PayloadRequest = serde_json::from_value(json!({
            "platform": "snapchat",
            "now": "2026-03-01T12:05:00Z",
            "events": events,
            "options": {"batch_size": size},
        }))
        .unwrap();
        match build_payloads(&normalizer(), &request) {
            Err(e) => {
                prop_assert_eq!(size, 0);
                prop_assert_eq!(e.code.as_str(), "invalid_config");
                prop_assert_eq!(e.field.as_deref(), Some("batch_size"));
            }
            Ok(out) => {
                let v = out.to_value().unwrap();
                let indices: Vec<Vec<usize>> =
                    serde_json::from_value(v["event_indices"].clone()).unwrap();
                prop_assert!(indices.iter().all(|c| !c.is_empty() && c.len() <= size));
                let flat: Vec<usize> = indices.concat();
                prop_assert_eq!(flat, (0..count).collect::<Vec<_>>());
                prop_assert_eq!(out.request_texts().unwrap().len(), count.div_ceil(size));
            }
        }
    }
}
