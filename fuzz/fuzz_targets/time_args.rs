//! Bytes -> the time conversions every host calls (`stratum_core::time`): unix
//! seconds as a float, whole seconds plus nanoseconds, and RFC 3339 text. None may
//! panic; an error is always `invalid_time` on the field given; an accepted time
//! round-trips (whole parts exactly, floats to within their own precision, text
//! through its RFC 3339 rendering).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stratum_core::time::{from_unix_parts, from_unix_seconds, parse_rfc3339};

fn check_err(e: &stratum_core::Error) {
    assert_eq!(e.code(), "invalid_time");
    assert_eq!(e.field(), Some("now"));
    let _ = e.to_string();
}

fuzz_target!(|data: &[u8]| {
    let mut word = [0u8; 8];
    let n = data.len().min(8);
    word[..n].copy_from_slice(&data[..n]);
    let float = f64::from_le_bytes(word);
    match from_unix_seconds("now", float) {
        Ok(t) => {
            assert!(float.is_finite());
            let back = t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9;
            // Within half a nanosecond plus the float's own spacing at this size.
            let tolerance = 1e-9 + float.abs() * f64::EPSILON * 2.0;
            assert!((back - float).abs() <= tolerance, "{float} -> {t}");
        }
        Err(e) => check_err(&e),
    }
    let secs = i64::from_le_bytes(word);
    let nanos = data
        .get(8..12)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0);
    match from_unix_parts("now", secs, nanos) {
        Ok(t) => {
            assert_eq!(t.timestamp(), secs);
            assert_eq!(t.timestamp_subsec_nanos(), nanos);
        }
        Err(e) => check_err(&e),
    }
    let text = String::from_utf8_lossy(data);
    match parse_rfc3339("now", &text) {
        Ok(t) => {
            let again = parse_rfc3339("now", &t.to_rfc3339()).expect("our own rendering parses");
            assert_eq!(again, t);
        }
        Err(e) => check_err(&e),
    }
});
