//! Bytes -> `ConversionEvent` JSON. Whatever parses is built for every platform
//! (Meta, Google Data Manager, TikTok, Snapchat) at a fixed `now` without
//! panicking; every event is either in a request or rejected, exactly once; no
//! request exceeds its batch size; every request serialises to JSON.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use stratum_connectors::payload::Built;
use stratum_connectors::payload::google::{Destination, GoogleBuilder, OperatingAccount};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::payload::snapchat::SnapBuilder;
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder};
use stratum_connectors::{ConversionEvent, Normalizer, NormalizerConfig, PhoneRegion, from_json};

fn check<R: serde::Serialize>(
    built: &Built<R>,
    len: impl Fn(&R) -> usize,
    max: usize,
    total: usize,
) {
    let sent: usize = built.requests.iter().map(&len).sum();
    assert_eq!(sent + built.rejected.len(), total);
    assert!(built.requests.iter().all(|r| (1..=max).contains(&len(r))));
    assert!(serde_json::to_string(&built.requests).is_ok());
    // Every sent event maps back to one input index, and none to two.
    assert_eq!(built.event_indices.len(), built.requests.len());
    let mut seen: Vec<usize> = built.event_indices.iter().flatten().copied().collect();
    seen.extend(built.rejected.iter().map(|r| r.index));
    seen.sort_unstable();
    assert!(seen.iter().copied().eq(0..total));
    for (r, ix) in built.requests.iter().zip(&built.event_indices) {
        assert_eq!(len(r), ix.len());
    }
}

/// One normaliser for every input (building one loads the numbering plan).
fn normalizer() -> Option<&'static Normalizer> {
    static N: std::sync::OnceLock<Option<Normalizer>> = std::sync::OnceLock::new();
    N.get_or_init(|| {
        let config = NormalizerConfig::builder()
            .phone_region(PhoneRegion::Default("US".into()))
            .today(common::now().date_naive())
            .build()
            .ok()?;
        Normalizer::new(config).ok()
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = from_json::<ConversionEvent>(text) else {
        return;
    };
    let Some(n) = normalizer() else {
        return;
    };
    let now = common::now();
    // The event three times: batches of two split into two requests.
    let events = vec![event.clone(), event.clone(), event];

    if let Ok(b) = MetaBuilder::new(n).batch_size(2) {
        check(&b.build(&events, now), |r| r.data.len(), 2, 3);
    }
    if let Ok(b) = GoogleBuilder::new(
        n,
        vec![Destination {
            operating_account: OperatingAccount {
                account_type: "GOOGLE_ADS".into(),
                account_id: "1".into(),
            },
            product_destination_id: "2".into(),
        }],
    )
    .and_then(|b| b.batch_size(2))
    {
        let built = b.build(&events, now);
        for r in &built.requests {
            for e in &r.events {
                assert!(e.user_data.as_ref().map_or(0, |u| u.user_identifiers.len()) <= 10);
            }
        }
        check(&built, |r| r.events.len(), 2, 3);
    }
    if let Ok(b) = TikTokBuilder::new(
        n,
        EventSourceIds {
            web: Some("P".into()),
            app: Some("A".into()),
            offline: Some("O".into()),
        },
    )
    .and_then(|b| b.batch_size(2))
    {
        check(&b.build(&events, now), |r| r.data.len(), 2, 3);
    }
    if let Ok(b) = SnapBuilder::new(n).batch_size(2) {
        check(&b.build(&events, now), |r| r.data.len(), 2, 3);
    }
});
