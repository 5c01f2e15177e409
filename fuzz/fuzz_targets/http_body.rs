//! Bytes -> HTTP request bodies as they arrive (`stratum_cdp::http`): any body
//! under any `Content-Encoding` decodes or fails with a typed error, never panics,
//! and never yields more than the limit; the input compressed with gzip or zlib
//! decodes back to exactly itself when it fits (a differential oracle against
//! `flate2`'s encoder); the batch parser on a decoded body keeps one result per
//! element.
#![no_main]

use std::io::Write;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use stratum_cdp::http::{decode_body, parse_batch_body};
use stratum_cdp::message::ParseConfig;

const ENCODINGS: [Option<&str>; 8] = [
    None,
    Some("gzip"),
    Some("deflate"),
    Some("identity"),
    Some("gzip, identity"),
    Some("x-gzip"),
    Some("br"),
    Some(""),
];

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let encoding = ENCODINGS[usize::from(head & 7)];
    let limit = 1usize << (head >> 4).min(20);
    match decode_body(body, encoding, limit) {
        Ok(out) => assert!(out.len() <= limit),
        Err(e) => {
            assert!(matches!(e.code(), "invalid_encoding" | "too_large"), "{e}");
            assert!(e.field().is_some());
        }
    }
    // Differential: our decoder undoes flate2's encoders.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body).expect("in-memory write");
    let gz = gz.finish().expect("in-memory finish");
    let back = decode_body(&gz, Some("gzip"), body.len()).expect("a gzip body within the limit");
    assert_eq!(&back[..], body);
    if !body.is_empty() {
        let e =
            decode_body(&gz, Some("gzip"), body.len() - 1).expect_err("one byte over the limit");
        assert_eq!(e.code(), "too_large");
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(body).expect("in-memory write");
    let z = z.finish().expect("in-memory finish");
    let back = decode_body(&z, Some("deflate"), body.len()).expect("a zlib body within the limit");
    assert_eq!(&back[..], body);
    // A gzip batch body parses as the plain one does.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date");
    let cfg = ParseConfig::default();
    let plain = stratum_cdp::message::parse_batch(body, now, &cfg);
    let zipped = parse_batch_body(&gz, Some("gzip"), now, &cfg);
    match (plain, zipped) {
        (Ok(a), Ok(b)) => assert_eq!(a.results.len(), b.results.len()),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        (a, b) => panic!("plain {a:?} but gzip {b:?}"),
    }
});
