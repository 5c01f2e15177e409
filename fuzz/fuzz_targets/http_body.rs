//! Bytes -> HTTP request bodies as they arrive (`stratum_cdp::http`): any body
//! under any `Content-Encoding` decodes or fails with a typed error, never panics,
//! and never yields more than the limit; the input compressed with gzip or zlib
//! decodes back to exactly itself when it fits (a differential oracle against
//! `flate2`'s compressor, reused across inputs); the batch parser on a decoded body keeps one result per
//! element.
#![no_main]

use std::cell::RefCell;

use chrono::{TimeZone, Utc};
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use libfuzzer_sys::fuzz_target;
use stratum_cdp::http::{decode_body, parse_batch_body};
use stratum_cdp::message::ParseConfig;
use stratum_cdp::message::ReceivedAt;

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

thread_local! {
    /// One raw-deflate and one zlib compressor per process, reset for each input:
    /// building a compressor allocates and clears its tables, which would otherwise
    /// cost more than the code under test.
    static RAW: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
    static ZLIB: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), true));
}

/// `body` compressed in one call by a reset compressor.
fn deflate(compressor: &RefCell<Compress>, body: &[u8]) -> Vec<u8> {
    let mut c = compressor.borrow_mut();
    c.reset();
    let mut out = Vec::with_capacity(body.len() + body.len() / 8 + 64);
    loop {
        let read = c.total_in() as usize;
        match c.compress_vec(&body[read..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            Ok(_) => out.reserve(out.capacity().max(64)),
            Err(e) => panic!("in-memory deflate failed: {e}"),
        }
    }
}

/// A gzip member (RFC 1952): a fixed header, the raw deflate stream, CRC-32 and size.
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(RAW.with(|c| deflate(c, body)));
    let mut crc = Crc::new();
    crc.update(body);
    out.extend(crc.sum().to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out
}

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
    let gz = gzip(body);
    let back = decode_body(&gz, Some("gzip"), body.len()).expect("a gzip body within the limit");
    assert_eq!(&back[..], body);
    if !body.is_empty() {
        let e =
            decode_body(&gz, Some("gzip"), body.len() - 1).expect_err("one byte over the limit");
        assert_eq!(e.code(), "too_large");
    }
    let z = ZLIB.with(|c| deflate(c, body));
    let back = decode_body(&z, Some("deflate"), body.len()).expect("a zlib body within the limit");
    assert_eq!(&back[..], body);
    // A gzip batch body parses as the plain one does.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date");
    let cfg = ParseConfig::default();
    let plain = stratum_cdp::message::parse_batch(body, now, &cfg);
    let zipped = parse_batch_body(&gz, Some("gzip"), ReceivedAt::Replay(now), &cfg);
    match (plain, zipped) {
        (Ok(a), Ok(b)) => assert_eq!(a.results.len(), b.results.len()),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        (a, b) => panic!("plain {a:?} but gzip {b:?}"),
    }
});
