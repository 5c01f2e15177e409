//! Bytes -> the delivery's response parsers: every platform's error body
//! (`PlatformError::parse`) and `Retry-After` values. Nothing panics; a body that
//! is not the platform's JSON keeps at most 200 characters; delta-seconds parse to
//! exactly their value.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use stratum_connectors::Platform;
use stratum_connectors::delivery::{PlatformError, parse_retry_after};

fuzz_target!(|data: &[u8]| {
    for p in Platform::ALL {
        let e = PlatformError::parse(*p, data);
        if serde_json::from_slice::<serde_json::Value>(data).is_err() {
            assert!(e.message.chars().count() <= 200);
            assert_eq!((e.code, e.subcode), (None, None));
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
