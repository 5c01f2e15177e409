//! Bytes -> the delivery's response parsers: every platform's error body
//! (`PlatformError::parse`), success body (`Receipt::parse`), the per-event
//! attribution of a refusal (`RequestReport::event_outcomes`) and `Retry-After`
//! values. Nothing panics; a body that is not the platform's JSON keeps at most
//! 200 characters; every event of a request gets exactly one outcome, and an
//! event is refused with its own violations only if one names its position;
//! delta-seconds parse to exactly their value.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use stratum_connectors::Platform;
use stratum_connectors::delivery::{
    EventOutcome, Outcome, PlatformError, Receipt, RequestReport, parse_retry_after,
};

fuzz_target!(|data: &[u8]| {
    for p in Platform::ALL {
        let e = PlatformError::parse(*p, data);
        if serde_json::from_slice::<serde_json::Value>(data).is_err() {
            assert!(e.message.chars().count() <= 200);
            assert_eq!((e.code, e.subcode), (None, None));
        }
        let receipt = Receipt::parse(*p, data);
        assert!(receipt.messages.len() <= 20);
        assert!(e.data.as_ref().is_none_or(|d| d.chars().count() <= 500));

        // Attribute the refusal over a request of 4 events.
        let sent = 4;
        let named: Vec<usize> = e.violations.iter().filter_map(|v| v.event()).collect();
        let report = RequestReport {
            request: 0,
            events: (0..sent).collect(),
            outcome: Outcome::Refused(e.clone()),
            attempts: 1,
            status: Some(400),
            receipt: None,
        };
        let outcomes = report.event_outcomes();
        assert_eq!(outcomes.len(), sent);
        let any_named = named.iter().any(|&i| i < sent);
        for (i, o) in outcomes.iter().enumerate() {
            match o {
                EventOutcome::Refused(own) if any_named => {
                    assert!(named.contains(&i));
                    assert!(own.violations.iter().all(|v| v.event() == Some(i)));
                }
                EventOutcome::Refused(own) => assert_eq!(own, &e),
                EventOutcome::Unprocessed(own) => {
                    assert!(any_named && !named.contains(&i));
                    assert_eq!(own, &e);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = DateTime::<Utc>::from_timestamp(1_772_366_400, 0).unwrap_or_default();
    let parsed = parse_retry_after(text, now);
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let want = trimmed.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(parsed.map(|d| d.as_secs()), Some(want));
    }
});
