//! Bytes -> Segment message and batch. Parsing must never panic; errors carry a
//! code and, where they are about a field, the field; a parsed message
//! round-trips through its own JSON form unchanged; a batch has one result per
//! element.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use stratum_cdp::message::{Message, ParseConfig, parse_batch, parse_message};

fuzz_target!(|data: &[u8]| {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date");
    let cfg = ParseConfig::default();
    match parse_message(data, now, &cfg) {
        Ok(m) => {
            assert!(m.timestamp >= cfg.min_timestamp());
            assert!(m.user_id.is_some() || m.anonymous_id.is_some());
            assert!(!m.message_id.is_empty());
            let json = serde_json::to_vec(&m).expect("a message serialises");
            let back: Message = serde_json::from_slice(&json).expect("and parses back");
            assert_eq!(back, m);
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            let _ = e.to_string();
        }
    }
    if let Ok(b) = parse_batch(data, now, &cfg) {
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(data)
            && let Some(serde_json::Value::Array(items)) = o.get("batch")
        {
            assert_eq!(items.len(), b.results.len());
        }
        for (i, e) in b.errors() {
            let field = e.field().unwrap_or_default();
            assert!(field.starts_with(&format!("batch[{i}]")), "{field}");
        }
    }
});
