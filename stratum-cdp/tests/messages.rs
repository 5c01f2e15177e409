//! The Segment message parser: every type, clock-skew correction, size limits,
//! batches, consent, bad input and de-duplication.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::t0;
use stratum_cdp::Error;
use stratum_cdp::dedup::Deduplicator;
use stratum_cdp::message::{MessageType, ParseConfig, TimestampSource, parse_batch, parse_message};

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn parse(json: &str) -> Result<stratum_cdp::message::Message, Error> {
    parse_message(json.as_bytes(), t0(), &ParseConfig::default())
}

#[test]
fn every_type_parses() {
    let cases = [
        (
            r#"{"type":"identify","messageId":"m","userId":"u","traits":{"email":"a@b.c"}}"#,
            MessageType::Identify,
        ),
        (
            r#"{"type":"track","messageId":"m","anonymousId":"a","event":"Order Completed","properties":{"revenue":12.5}}"#,
            MessageType::Track,
        ),
        (
            r#"{"type":"page","messageId":"m","anonymousId":"a","name":"Home"}"#,
            MessageType::Page,
        ),
        (
            r#"{"type":"screen","messageId":"m","anonymousId":"a","name":"Cart"}"#,
            MessageType::Screen,
        ),
        (
            r#"{"type":"group","messageId":"m","userId":"u","groupId":"g1"}"#,
            MessageType::Group,
        ),
        (
            r#"{"type":"alias","messageId":"m","userId":"u","previousId":"a"}"#,
            MessageType::Alias,
        ),
    ];
    for (json, kind) in cases {
        let m = parse(json).unwrap();
        assert_eq!(m.kind, kind);
        assert_eq!(m.message_id, "m");
        assert_eq!(m.timestamp, t0());
        assert_eq!(m.timestamp_source, TimestampSource::ReceivedAt);
    }
    let m = parse(cases[1].0).unwrap();
    assert_eq!(m.event.as_deref(), Some("Order Completed"));
    assert_eq!(m.properties["revenue"], 12.5);
}

#[test]
fn clock_skew_is_corrected() {
    // The client clock is 10 minutes fast: it stamped the event at 09:10:00 and sent
    // it at 09:15:00 by its clock; the server received it at 09:05:30 (t0 = 09:00 +
    // 5.5 min). timestamp = receivedAt − (sentAt − originalTimestamp)
    //           = 09:05:30 − 5 min = 09:00:30.
    let json = r#"{"type":"track","messageId":"m","anonymousId":"a","event":"e",
        "originalTimestamp":"2026-03-02T09:10:00Z","sentAt":"2026-03-02T09:15:00Z"}"#;
    let received = ts("2026-03-02T09:05:30Z");
    let m = parse_message(json.as_bytes(), received, &ParseConfig::default()).unwrap();
    assert_eq!(m.timestamp, ts("2026-03-02T09:00:30Z"));
    assert_eq!(m.timestamp_source, TimestampSource::SkewCorrected);
    assert_eq!(m.received_at, received);
}

#[test]
fn explicit_timestamp_without_sent_at_is_used_and_original_alone_is_used() {
    // A historical import through the HTTP API: `timestamp` only, used as it is.
    let m = parse(r#"{"type":"page","messageId":"m","anonymousId":"a","timestamp":"2026-03-01T00:00:00+02:00"}"#).unwrap();
    assert_eq!(m.timestamp, ts("2026-02-28T22:00:00Z"));
    assert_eq!(m.timestamp_source, TimestampSource::Client);
    assert_eq!(m.original_timestamp, Some(ts("2026-02-28T22:00:00Z")));
    // With an originalTimestamp but no sentAt, the client's timestamp still wins.
    let m = parse(r#"{"type":"page","messageId":"m","anonymousId":"a","timestamp":"2026-03-01T00:00:00Z","originalTimestamp":"2026-03-01T00:00:05Z"}"#).unwrap();
    assert_eq!(m.timestamp, ts("2026-03-01T00:00:00Z"));
    assert_eq!(m.timestamp_source, TimestampSource::Client);
    assert_eq!(m.original_timestamp, Some(ts("2026-03-01T00:00:05Z")));
    let m = parse(r#"{"type":"page","messageId":"m","anonymousId":"a","originalTimestamp":"2026-03-02T08:00:00Z"}"#).unwrap();
    assert_eq!(m.timestamp, ts("2026-03-02T08:00:00Z"));
    assert_eq!(m.timestamp_source, TimestampSource::OriginalTimestamp);
    // A receivedAt in the document (archive replay) takes precedence.
    let m = parse(
        r#"{"type":"page","messageId":"m","anonymousId":"a","receivedAt":"2026-03-01T07:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(m.timestamp, ts("2026-03-01T07:00:00Z"));
}

#[test]
fn a_client_timestamp_with_sent_at_is_the_device_time_and_is_corrected() {
    // analytics.js / analytics-node: the device time of the event as `timestamp`,
    // `sentAt` on each message. The device clock is 2 h 10 min fast; received at
    // 09:00:00 (t0). 09:00:00 − (11:10:03 − 11:10:00) = 08:59:57.
    let m = parse(
        r#"{"type":"track","messageId":"ajs-1","anonymousId":"a","event":"Clicked",
        "timestamp":"2026-03-02T11:10:00.000Z","sentAt":"2026-03-02T11:10:03.000Z"}"#,
    )
    .unwrap();
    assert_eq!(m.original_timestamp, Some(ts("2026-03-02T11:10:00Z")));
    assert_eq!(m.sent_at, Some(ts("2026-03-02T11:10:03Z")));
    assert_eq!(m.timestamp, ts("2026-03-02T08:59:57Z"));
    assert_eq!(m.timestamp_source, TimestampSource::SkewCorrected);
    // analytics-python: `timestamp` per message, `sentAt` once for the batch.
    let b = parse_batch(
        br#"{"batch":[{"type":"identify","messageId":"py-1","userId":"u","timestamp":"2026-03-02T08:59:58.250000+00:00"}],
        "sentAt":"2026-03-02T08:59:59.000000+00:00"}"#,
        t0(),
        &ParseConfig::default(),
    )
    .unwrap();
    let m = b.messages().next().unwrap();
    assert_eq!(m.timestamp, ts("2026-03-02T08:59:59.250Z"));
    assert_eq!(m.timestamp_source, TimestampSource::SkewCorrected);
    assert_eq!(m.original_timestamp, Some(ts("2026-03-02T08:59:58.250Z")));
    // RudderStack: `originalTimestamp` and `sentAt`, no `timestamp`.
    let m = parse(
        r#"{"type":"track","messageId":"rs-1","anonymousId":"a","event":"Clicked",
        "originalTimestamp":"2026-03-02T08:50:00.000Z","sentAt":"2026-03-02T08:50:30.000Z"}"#,
    )
    .unwrap();
    assert_eq!(m.timestamp, ts("2026-03-02T08:59:30Z"));
    // A replayed archive with all four fields gives back the stored timestamp.
    let m = parse(
        r#"{"type":"track","messageId":"arc-1","anonymousId":"a","event":"Clicked",
        "originalTimestamp":"2026-03-01T10:00:00Z","sentAt":"2026-03-01T10:00:02Z",
        "receivedAt":"2026-03-01T09:00:05Z","timestamp":"2026-03-01T09:00:03Z"}"#,
    )
    .unwrap();
    assert_eq!(m.timestamp, ts("2026-03-01T09:00:03Z"));
    assert_eq!(m.timestamp_source, TimestampSource::SkewCorrected);
}

#[test]
fn a_corrected_client_timestamp_out_of_range_names_timestamp() {
    // A device clock reset to 1990 is corrected back next to receivedAt.
    let m = parse(
        r#"{"type":"track","messageId":"m","anonymousId":"a","event":"e",
        "timestamp":"1990-01-01T00:00:00Z","sentAt":"1990-01-01T00:00:01Z"}"#,
    )
    .unwrap();
    assert_eq!(m.timestamp, t0() - TimeDelta::seconds(1));
    // A sentAt 26 years before the event puts the corrected time in the future.
    let e = err(
        r#"{"type":"track","messageId":"m","anonymousId":"a","event":"e",
        "timestamp":"2026-03-02T09:00:00Z","sentAt":"2000-03-02T09:00:00Z"}"#,
    );
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_timestamp", Some("timestamp"))
    );
}

fn err(json: &str) -> Error {
    parse(json).unwrap_err()
}

#[test]
fn bad_input_has_codes_and_fields() {
    let e = err("{not json");
    assert_eq!((e.code(), e.field()), ("invalid_json", Some("$")));
    let e = err("[1,2]");
    assert_eq!(e.code(), "invalid_json");
    let e = err(r#"{"type":"track","messageId":"m","event":"e"}"#);
    assert_eq!((e.code(), e.field()), ("missing_identity", Some("userId")));
    let e = err(r#"{"type":"track","messageId":"m","userId":"","anonymousId":null,"event":"e"}"#);
    assert_eq!(e.code(), "missing_identity");
    let e = err(r#"{"type":"track","messageId":"m","userId":42,"event":"e"}"#);
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("userId")));
    assert!(
        e.to_string().contains("must be a string, got a number"),
        "{e}"
    );
    let e = err(r#"{"type":"purchase","messageId":"m","userId":"u"}"#);
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("type")));
    let e = err(r#"{"messageId":"m","userId":"u"}"#);
    assert_eq!(e.field(), Some("type"));
    let e = err(r#"{"type":"track","userId":"u","event":"e"}"#);
    assert_eq!(e.field(), Some("messageId"));
    let e = err(r#"{"type":"track","messageId":"m","userId":"u"}"#);
    assert_eq!(e.field(), Some("event"));
    let e = err(r#"{"type":"group","messageId":"m","userId":"u"}"#);
    assert_eq!(e.field(), Some("groupId"));
    let e = err(r#"{"type":"alias","messageId":"m","userId":"u"}"#);
    assert_eq!(e.field(), Some("previousId"));
    let e = err(r#"{"type":"page","messageId":"m","userId":"u","traits":[1]}"#);
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("traits")));
    let e = err(
        r#"{"type":"page","messageId":"m","userId":"u","context":{"consent":{"categoryPreferences":{"ads":"yes"}}}}"#,
    );
    assert_eq!(e.field(), Some("context.consent.categoryPreferences.ads"));
}

#[test]
fn bad_timestamps() {
    let e = err(r#"{"type":"page","messageId":"m","userId":"u","timestamp":"yesterday"}"#);
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_timestamp", Some("timestamp"))
    );
    let e = err(r#"{"type":"page","messageId":"m","userId":"u","sentAt":12}"#);
    assert_eq!((e.code(), e.field()), ("invalid_timestamp", Some("sentAt")));
    // Before 2000: absurd.
    let e =
        err(r#"{"type":"page","messageId":"m","userId":"u","timestamp":"1970-01-01T00:00:00Z"}"#);
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_timestamp", Some("timestamp"))
    );
    // More than a day after receivedAt (t0 = 2026-03-02T09:00Z).
    let e =
        err(r#"{"type":"page","messageId":"m","userId":"u","timestamp":"2026-03-03T09:00:01Z"}"#);
    assert_eq!(e.code(), "invalid_timestamp");
    assert!(
        parse(r#"{"type":"page","messageId":"m","userId":"u","timestamp":"2026-03-03T09:00:00Z"}"#)
            .is_ok()
    );
    // Skew correction that lands before 2000 names originalTimestamp.
    let e = err(
        r#"{"type":"page","messageId":"m","userId":"u","originalTimestamp":"1990-01-01T00:00:00Z","sentAt":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(e.field(), Some("originalTimestamp"));
}

#[test]
fn message_size_limit() {
    let cfg = ParseConfig::default();
    let pad = "x".repeat(32 * 1024);
    let json = format!(r#"{{"type":"page","messageId":"m","userId":"u","name":"{pad}"}}"#);
    let e = parse_message(json.as_bytes(), t0(), &cfg).unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            field: "$".into(),
            size: json.len(),
            limit: 32 * 1024
        }
    );
    assert_eq!(e.code(), "too_large");
    // Exactly at the limit is accepted.
    let head = r#"{"type":"page","messageId":"m","userId":"u","name":""#;
    let pad = "x".repeat(32 * 1024 - head.len() - 2);
    let json = format!("{head}{pad}\"}}");
    assert_eq!(json.len(), 32 * 1024);
    assert!(parse_message(json.as_bytes(), t0(), &cfg).is_ok());
}

#[test]
fn batch_reports_per_message_and_keeps_valid_neighbours() {
    let big = "y".repeat(33 * 1024);
    let json = format!(
        r#"{{"type":"batch","sentAt":"2026-03-02T09:00:10Z","context":{{"library":{{"name":"analytics.js"}}}},"batch":[
        {{"type":"track","messageId":"m1","anonymousId":"a","event":"e","originalTimestamp":"2026-03-02T09:00:00Z"}},
        {{"type":"track","messageId":"m2","event":"e"}},
        7,
        {{"type":"page","messageId":"m4","anonymousId":"a","name":"{big}"}},
        {{"type":"identify","messageId":"m5","userId":"u","context":{{"library":{{"name":"mine"}}}}}}
    ]}}"#
    );
    let b = parse_batch(
        json.as_bytes(),
        t0() + TimeDelta::seconds(20),
        &ParseConfig::default(),
    )
    .unwrap();
    assert_eq!(b.results.len(), 5);
    let ok: Vec<_> = b.messages().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ok, ["m1", "m5"]);
    let m1 = b.messages().next().unwrap();
    // The batch sentAt applies: 09:00:20 − (09:00:10 − 09:00:00) = 09:00:10.
    assert_eq!(m1.timestamp, ts("2026-03-02T09:00:10Z"));
    assert_eq!(m1.context["library"]["name"], "analytics.js");
    let m5 = b.messages().nth(1).unwrap();
    assert_eq!(m5.context["library"]["name"], "mine");
    let errs: Vec<_> = b
        .errors()
        .map(|(i, e)| (i, e.code(), e.field().unwrap().to_owned()))
        .collect();
    assert_eq!(
        errs,
        [
            (1, "missing_identity", "batch[1].userId".to_owned()),
            (2, "invalid_json", "batch[2]".to_owned()),
            (3, "too_large", "batch[3]".to_owned()),
        ]
    );
}

#[test]
fn batch_level_errors() {
    let cfg = ParseConfig::default();
    let e = parse_batch(b"{}", t0(), &cfg).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_message", Some("batch")));
    let e = parse_batch(br#"{"batch":{}}"#, t0(), &cfg).unwrap_err();
    assert_eq!(e.field(), Some("batch"));
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    let e = parse_batch(&big, t0(), &cfg).unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            field: "$".into(),
            size: 4 * 1024 * 1024 + 1,
            limit: 4 * 1024 * 1024
        }
    );
    let e = parse_batch(br#"{"batch":[],"sentAt":"soon"}"#, t0(), &cfg).unwrap_err();
    assert_eq!(e.field(), Some("sentAt"));
}

#[test]
fn error_fields_inside_batches_are_prefixed() {
    let b = parse_batch(
        br#"{"batch":[{"type":"page","messageId":"m","userId":5}]}"#,
        t0(),
        &ParseConfig::default(),
    )
    .unwrap();
    let (_, e) = b.errors().next().unwrap();
    assert_eq!(e.field(), Some("batch[0].userId"));
}

#[test]
fn consent_is_parsed() {
    let m = parse(
        r#"{"type":"track","messageId":"m","userId":"u","event":"e",
        "context":{"consent":{"categoryPreferences":{"Advertising":false,"Analytics":true}}}}"#,
    )
    .unwrap();
    assert!(!m.consent.allows("Advertising", true));
    assert!(m.consent.allows("Analytics", false));
    assert!(m.consent.allows("Personalization", true));
    assert!(!m.consent.allows("Personalization", false));
}

#[test]
fn parse_config_is_validated() {
    let c = ParseConfig::default();
    assert_eq!(c.max_message_bytes(), 32_768);
    assert_eq!(c.max_batch_bytes(), 4 * 1024 * 1024);
    assert_eq!(
        c.clone().with_max_message_bytes(0).unwrap_err().field(),
        Some("max_message_bytes")
    );
    assert_eq!(
        c.clone().with_max_batch_bytes(0).unwrap_err().field(),
        Some("max_batch_bytes")
    );
    assert_eq!(
        c.clone()
            .with_max_batch_bytes((64 << 20) + 1)
            .unwrap_err()
            .field(),
        Some("max_batch_bytes")
    );
    assert!(c.with_max_future(TimeDelta::seconds(-1)).is_err());
    let c: ParseConfig = serde_json::from_str(r#"{"max_message_bytes": 1024}"#).unwrap();
    assert_eq!(c.max_message_bytes(), 1024);
    assert!(serde_json::from_str::<ParseConfig>(r#"{"max_batch_bytes": 0}"#).is_err());
    let back: ParseConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn dedup_window() {
    let mut d = Deduplicator::new(TimeDelta::hours(1)).unwrap();
    assert!(d.check("m1", t0()));
    assert!(!d.check("m1", t0() + TimeDelta::minutes(59)));
    assert!(d.check("m2", t0() + TimeDelta::minutes(30)));
    // Past the window the first m1 is forgotten and accepted again.
    assert!(d.check("m1", t0() + TimeDelta::minutes(61)));
    assert!(!d.check("m1", t0() + TimeDelta::minutes(62)));
    // m2 (30 min) stays; the old m1 entry was evicted.
    assert_eq!(d.len(), 2);
    assert!(d.check("m3", t0() + TimeDelta::minutes(200)));
    assert_eq!(d.len(), 1);
    assert_eq!(
        Deduplicator::new(TimeDelta::zero()).unwrap_err().code(),
        "invalid_config"
    );
}

/// A batch of `n` track messages, each padded to about `pad` bytes of properties.
fn big_batch(n: usize, pad: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"type":"track","messageId":"m{i}","anonymousId":"a{i}","event":"Viewed","properties":{{"blob":"{}"}}}}"#,
                "x".repeat(pad)
            )
        })
        .collect();
    format!(r#"{{"batch":[{}]}}"#, items.join(","))
}

#[test]
fn batches_up_to_four_megabytes_are_accepted_by_default() {
    // 60 messages of about 12.4 KB: a 745 KB batch, as RudderStack clients send.
    let body = big_batch(60, 12_300);
    assert!(
        body.len() > 740_000 && body.len() < 750_000,
        "{}",
        body.len()
    );
    let b = parse_batch(body.as_bytes(), t0(), &ParseConfig::default()).unwrap();
    assert_eq!(b.messages().count(), 60);
    // Over 4 MB the batch as a whole is too large.
    let body = big_batch(340, 12_300);
    assert!(body.len() > 4 * 1024 * 1024);
    let e = parse_batch(body.as_bytes(), t0(), &ParseConfig::default()).unwrap_err();
    assert_eq!((e.code(), e.field()), ("too_large", Some("$")));
}

#[test]
fn message_and_batch_limits_are_independent() {
    // A message limit above the default batch limit used to be refused.
    let c = ParseConfig::default()
        .with_max_message_bytes(8 * 1024 * 1024)
        .unwrap();
    assert_eq!(c.max_message_bytes(), 8 * 1024 * 1024);
    assert_eq!(c.max_batch_bytes(), 4 * 1024 * 1024);
    // A batch limit below the message limit is fine too.
    let c = ParseConfig::default().with_max_batch_bytes(1000).unwrap();
    assert_eq!(c.max_message_bytes(), 32 * 1024);
    // Either order of the setters gives the same config.
    let a = ParseConfig::default()
        .with_max_message_bytes(2_000_000)
        .unwrap()
        .with_max_batch_bytes(1_000_000)
        .unwrap();
    let b = ParseConfig::default()
        .with_max_batch_bytes(1_000_000)
        .unwrap()
        .with_max_message_bytes(2_000_000)
        .unwrap();
    assert_eq!(a, b);
    let json: ParseConfig = serde_json::from_str(r#"{"max_message_bytes": 1048576}"#).unwrap();
    assert_eq!(json.max_message_bytes(), 1_048_576);
    // A 600 KB single message parses with a 1 MB message limit.
    let doc = format!(
        r#"{{"type":"track","messageId":"m","userId":"u","event":"e","properties":{{"blob":"{}"}}}}"#,
        "y".repeat(600_000)
    );
    assert!(parse_message(doc.as_bytes(), t0(), &json).is_ok());
}

#[test]
fn numbers_and_unknown_fields_are_kept_exactly() {
    let m = parse(
        r#"{"type":"track","messageId":"m","userId":"u","event":"e","version":2,
        "properties":{"big":123456789012345678901234567890,"long":0.10000000000000000000001,"neg":-18446744073709551617},
        "rudderId":"r-1","channel":"server","category":"x","_metadata":{"jsRuntime":"node"}}"#,
    )
    .unwrap();
    assert_eq!(
        m.properties.json(),
        r#"{"big":123456789012345678901234567890,"long":0.10000000000000000000001,"neg":-18446744073709551617}"#
    );
    assert_eq!(m.extra.json(), r#"{"rudderId":"r-1","version":2}"#);
    assert_eq!(m.channel.as_deref(), Some("server"));
    assert_eq!(m.category.as_deref(), Some("x"));
    assert_eq!(m.metadata["jsRuntime"], "node");
    // The message's JSON form (what the bindings read) keeps every digit, and reads
    // back to the same message.
    let text = serde_json::to_string(&m).unwrap();
    assert!(
        text.contains(r#""big":123456789012345678901234567890"#),
        "{text}"
    );
    assert!(
        text.contains(r#""long":0.10000000000000000000001"#),
        "{text}"
    );
    let back: stratum_cdp::message::Message = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
    // An unknown field that is not valid JSON names itself.
    let e = err(r#"{"type":"page","messageId":"m","userId":"u","weird":"\udc00"}"#);
    assert_eq!((e.code(), e.field()), ("invalid_json", Some("weird")));
}
