//! HTTP bodies: gzip and deflate per `Content-Encoding`, the decoded-size limit
//! against gzip bombs, and typed errors for corrupt or unsupported encodings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;

use common::t0;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use stratum_cdp::http::{decode_body, parse_batch_body, parse_message_body};
use stratum_cdp::message::{ParseConfig, ReceivedAt};

const BATCH: &[u8] = br#"{"batch":[{"type":"track","messageId":"m1","anonymousId":"a","event":"e"},{"type":"page","messageId":"m2","anonymousId":"a"}],"sentAt":"2026-03-02T09:00:00Z"}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_deflate_and_identity_bodies_parse() {
    let cfg = ParseConfig::default();
    for (body, enc) in [
        (gzip(BATCH), Some("gzip")),
        (gzip(BATCH), Some("X-GZIP")),
        (zlib(BATCH), Some("deflate")),
        (BATCH.to_vec(), Some("identity")),
        (BATCH.to_vec(), None),
        (BATCH.to_vec(), Some("")),
        (gzip(&gzip(BATCH)), Some("gzip, gzip")),
        (gzip(BATCH), Some("gzip, identity")),
    ] {
        let b = parse_batch_body(&body, enc, ReceivedAt::Replay(t0()), &cfg)
            .unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        let ids: Vec<&str> = b.messages().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"], "{enc:?}");
    }
    // Two gzip members one after the other are one stream.
    let (head, tail) = BATCH.split_at(40);
    let mut two = gzip(head);
    two.extend(gzip(tail));
    assert_eq!(decode_body(&two, Some("gzip"), 1 << 20).unwrap(), BATCH);
    // A single message body.
    let m = parse_message_body(
        &gzip(br#"{"type":"identify","messageId":"i1","userId":"u"}"#),
        Some("gzip"),
        ReceivedAt::Replay(t0()),
        &cfg,
    )
    .unwrap();
    assert_eq!(m.message_id, "i1");
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    // 8 MB of zeros compress to about 8 KB.
    let bomb = gzip(&vec![b'0'; 8 << 20]);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let e = decode_body(&bomb, Some("gzip"), 1 << 20).unwrap_err();
    assert_eq!((e.code(), e.field()), ("too_large", Some("$")));
    assert_eq!(
        e,
        stratum_cdp::Error::TooLarge {
            field: "$".into(),
            size: (1 << 20) + 1,
            limit: 1 << 20
        }
    );
    // Through the batch parser the limit is the batch limit (4 MB by default).
    let e = parse_batch_body(
        &bomb,
        Some("gzip"),
        ReceivedAt::Replay(t0()),
        &ParseConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "too_large");
    // Exactly at the limit is fine.
    let exact = gzip(&vec![b' '; 1000]);
    assert_eq!(decode_body(&exact, Some("gzip"), 1000).unwrap().len(), 1000);
    assert!(decode_body(&exact, Some("gzip"), 999).is_err());
    // An identity body over the limit is too large as well.
    let e = decode_body(&[b' '; 10], None, 9).unwrap_err();
    assert_eq!(e.code(), "too_large");
}

#[test]
fn corrupt_and_unsupported_encodings_are_typed_errors() {
    let good = gzip(BATCH);
    let truncated = &good[..good.len() / 2];
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    for (body, enc) in [
        (truncated.to_vec(), "gzip"),
        (flipped, "gzip"),
        (BATCH.to_vec(), "gzip"),
        (BATCH.to_vec(), "deflate"),
    ] {
        let e = decode_body(&body, Some(enc), 1 << 20).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_encoding", Some("$")),
            "{enc}: {e}"
        );
    }
    for enc in ["br", "zstd", "compress", "gzip, br"] {
        let e = parse_batch_body(
            &good,
            Some(enc),
            ReceivedAt::Replay(t0()),
            &ParseConfig::default(),
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_encoding", Some("Content-Encoding")),
            "{enc}"
        );
    }
}

/// The single-message endpoints: the endpoint gives the type when the body has
/// none, a matching type is accepted, another one is refused, and the body is
/// otherwise read as sent (numbers keep every digit).
#[test]
fn a_single_message_endpoint_supplies_or_checks_the_type() {
    use stratum_cdp::http::parse_message_body_as;
    use stratum_cdp::message::MessageType;
    let received = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 1, 12, 0, 0).unwrap();
    let cfg = ParseConfig::default();
    let body = br#"  {"event": "Order Completed", "userId": "u1", "messageId": "m1",
        "properties": {"total": 12345678901234567890.123456789}}"#;
    let m = parse_message_body_as(
        MessageType::Track,
        body,
        None,
        ReceivedAt::Replay(received),
        &cfg,
    )
    .unwrap();
    assert_eq!(m.kind, MessageType::Track);
    assert_eq!(m.event.as_deref(), Some("Order Completed"));
    assert!(
        serde_json::to_string(&m.properties)
            .unwrap()
            .contains("12345678901234567890.123456789")
    );

    let typed =
        br#"{"type": "identify", "userId": "u1", "messageId": "m2", "traits": {"plan": "pro"}}"#;
    let m = parse_message_body_as(
        MessageType::Identify,
        typed,
        None,
        ReceivedAt::Replay(received),
        &cfg,
    )
    .unwrap();
    assert_eq!(m.kind, MessageType::Identify);

    let e = parse_message_body_as(
        MessageType::Track,
        typed,
        None,
        ReceivedAt::Replay(received),
        &cfg,
    )
    .unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("type")));

    // A gzip body, and an empty object (which then lacks its identity).
    let m = parse_message_body_as(
        MessageType::Page,
        &gzip(br#"{"anonymousId": "a1", "messageId": "m3", "name": "Home"}"#),
        Some("gzip"),
        ReceivedAt::Replay(received),
        &cfg,
    )
    .unwrap();
    assert_eq!(
        (m.kind, m.name.as_deref()),
        (MessageType::Page, Some("Home"))
    );
    let e = parse_message_body_as(
        MessageType::Page,
        b"{ }",
        None,
        ReceivedAt::Replay(received),
        &cfg,
    )
    .unwrap_err();
    assert_ne!(e.code(), "invalid_json", "{e}");

    // Not an object: the parser's own error.
    for bad in [&b"[1, 2]"[..], b"nope", b""] {
        let e = parse_message_body_as(
            MessageType::Track,
            bad,
            None,
            ReceivedAt::Replay(received),
            &cfg,
        )
        .unwrap_err();
        assert!(
            matches!(e.code(), "invalid_json" | "invalid_message"),
            "{e}"
        );
    }
}

/// A live endpoint's clock is the receive time: a `receivedAt` in the body is
/// ignored, so it cannot move the bound on event times; a replay keeps it.
#[test]
fn a_body_cannot_set_the_receive_time_of_a_live_endpoint() {
    use stratum_cdp::http::parse_message_body_as;
    use stratum_cdp::message::MessageType;
    let cfg = ParseConfig::default();
    let now = t0();
    let far = r#""receivedAt":"9999-12-31T00:00:00Z","timestamp":"9999-12-31T00:00:00Z""#;
    let single =
        format!(r#"{{"userId":"pin1","messageId":"pin-a",{far},"traits":{{"plan":"attacker"}}}}"#);
    let e = parse_message_body_as(
        MessageType::Identify,
        single.as_bytes(),
        None,
        ReceivedAt::Server(now),
        &cfg,
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_timestamp", Some("timestamp")),
        "{e}"
    );
    // Without the future timestamp the message is taken, received now.
    let plain = br#"{"userId":"u","messageId":"m","receivedAt":"2001-01-01T00:00:00Z"}"#;
    let m = parse_message_body_as(
        MessageType::Identify,
        plain,
        None,
        ReceivedAt::Server(now),
        &cfg,
    )
    .unwrap();
    assert_eq!(m.received_at, now);
    assert!(!m.extra.contains_key("receivedAt"));
    // Even one the replay would refuse is ignored, not read.
    let junk = br#"{"userId":"u","messageId":"m","receivedAt":"soon"}"#;
    let m = parse_message_body(junk, None, ReceivedAt::Server(now), &cfg).unwrap_err();
    assert_eq!(m.field(), Some("type"));
    let m = parse_message_body_as(
        MessageType::Track,
        junk,
        None,
        ReceivedAt::Server(now),
        &cfg,
    );
    assert!(matches!(m, Err(e) if e.field() == Some("event")));
    // Every element of a batch, on either reader (valid JSON, or a batch whose
    // neighbour is not).
    for tail in [
        "",
        r#",{"type":"page","messageId":"x","anonymousId":"a","bad":NaN}"#,
    ] {
        let batch = format!(
            r#"{{"batch":[{{"type":"identify","userId":"u","messageId":"b1",{far}}},{{"type":"page","messageId":"b2","anonymousId":"a","receivedAt":"2001-01-01T00:00:00Z"}}{tail}]}}"#
        );
        let b = parse_batch_body(batch.as_bytes(), None, ReceivedAt::Server(now), &cfg).unwrap();
        let e = b.results[0].as_ref().unwrap_err();
        assert_eq!(e.code(), "invalid_timestamp", "{e}");
        let m = b.results[1].as_ref().unwrap();
        assert_eq!(m.received_at, now, "{tail}");
        // A replay keeps the body's receive time.
        let b = parse_batch_body(batch.as_bytes(), None, ReceivedAt::Replay(now), &cfg).unwrap();
        assert!(b.results[0].is_ok(), "{tail}");
        assert_eq!(
            b.results[1].as_ref().unwrap().received_at.to_rfc3339(),
            "2001-01-01T00:00:00+00:00"
        );
    }
}

/// The message limit applies to the body as sent: a `/v1/track` body of exactly
/// the limit without `type` is taken (the `type` the endpoint adds does not
/// count), one byte more is refused with the size sent.
#[test]
fn a_typeless_body_of_exactly_the_limit_is_accepted() {
    use stratum_cdp::http::parse_message_body_as;
    use stratum_cdp::message::MessageType;
    let cfg = ParseConfig::default();
    let limit = cfg.max_message_bytes();
    let body = |len: usize| {
        let head = r#"{"userId":"u","messageId":"m","event":"e","properties":{"p":""#;
        let tail = r#""}}"#;
        let pad = "x".repeat(len - head.len() - tail.len());
        format!("{head}{pad}{tail}").into_bytes()
    };
    let exact = body(limit);
    assert_eq!(exact.len(), 32_768);
    let m = parse_message_body_as(
        MessageType::Track,
        &exact,
        None,
        ReceivedAt::Server(t0()),
        &cfg,
    )
    .unwrap();
    assert_eq!(m.kind, MessageType::Track);
    let e = parse_message_body_as(
        MessageType::Track,
        &body(limit + 1),
        None,
        ReceivedAt::Server(t0()),
        &cfg,
    )
    .unwrap_err();
    assert_eq!(e.code(), "too_large");
    assert!(e.to_string().contains(&format!("{}", limit + 1)), "{e}");
}
