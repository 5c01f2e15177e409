//! The one-pass reader against the field-by-field reader and the splitting of
//! batches, on generated text: whatever the one-pass reader builds, the others
//! build too (every field, every digit), and it takes every ordinary message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{BatchDefaults, Message, ParseConfig, ReceivedAt, fields, reader, split_batch};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

/// The value of the valid JSON string `text`.
fn decoded(text: &str) -> String {
    serde_json::from_str(text).unwrap()
}

/// The fields a message reads.
const FIELDS: &[&str] = &[
    "type",
    "messageId",
    "userId",
    "anonymousId",
    "receivedAt",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "event",
    "name",
    "category",
    "channel",
    "groupId",
    "previousId",
    "context",
    "integrations",
    "traits",
    "properties",
    "_metadata",
];

/// Insignificant whitespace, mostly none.
fn ws() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "\n  ", "\t"])
}

/// Pieces of string content as written in JSON: plain, non-ASCII, every escape,
/// surrogate pairs, words the reader looks for.
const GOOD_PIECES: &[&str] = &[
    "a",
    "Order 1e5",
    " ",
    "é",
    "😀",
    r#"\""#,
    r"\\",
    r"\/",
    r"\b\f\n\r\t",
    r"\u00e9",
    r"\u0000",
    r"\ud83d\ude00",
    r"\uD83D\uDE00",
    "consent",
    "traits",
    r"\u0063onsent",
];

/// Pieces that make a string invalid (or that a skimming reader would let pass).
const BAD_PIECES: &[&str] = &[
    r"\ud83d",
    r"\ude00",
    r"\ud83d\u0041",
    r"\ud83d\ud83d",
    "\u{1}",
    r"\x",
    r"\u12",
];

fn string(bad: bool) -> BoxedStrategy<String> {
    let good = prop::sample::select(GOOD_PIECES);
    let piece = if bad {
        prop_oneof![12 => good, 1 => prop::sample::select(BAD_PIECES)].boxed()
    } else {
        good.boxed()
    };
    prop::collection::vec(piece, 0..4)
        .prop_map(|p| quote(&p.concat()))
        .boxed()
}

const GOOD_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "12",
    "-7",
    "1.5",
    "1e5",
    "1E+2",
    "2.5e-3",
    "0.1",
    "123456789012345678901234567890",
    "-18446744073709551617",
    "0.10000000000000000000001",
    "1e300",
    "1e-300",
];

/// Numbers that are invalid, or valid but not ones the scanner vouches for.
const BAD_NUMBERS: &[&str] = &[
    "1e308", "1e309", "1e400", "1e-400", "0e99999", "01", "1.", "-", "NaN", "nul", "tru",
];

fn number(bad: bool) -> BoxedStrategy<String> {
    let good = prop::sample::select(GOOD_NUMBERS).prop_map(str::to_owned);
    if bad {
        prop_oneof![12 => good, 1 => prop::sample::select(BAD_NUMBERS).prop_map(str::to_owned)]
            .boxed()
    } else {
        good.boxed()
    }
}

/// A key: a few that repeat, some that mean something to the reader, any string.
fn key(bad: bool) -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "a",
            "b",
            "sku",
            "consent",
            "traits",
            "categoryPreferences",
            "A"
        ])
        .prop_map(quote),
        string(bad),
    ]
    .boxed()
}

fn object_text(members: &[(String, String)], w: &str) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{k}{w}:{w}{v}"))
        .collect();
    format!("{{{w}{}{w}}}", members.join(&format!("{w},{w}")))
}

/// Any JSON value as text, nested; with `bad`, sometimes invalid or beyond what
/// the scanner vouches for.
fn value(bad: bool) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        string(bad),
        number(bad),
        prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 24, 4, move |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), ws())
                .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))),
            (prop::collection::vec((key(bad), inner), 0..4), ws())
                .prop_map(|(members, w)| object_text(&members, w)),
        ]
    })
    .boxed()
}

/// An object as text.
fn object(bad: bool) -> BoxedStrategy<String> {
    (prop::collection::vec((key(bad), value(bad)), 0..4), ws())
        .prop_map(|(members, w)| object_text(&members, w))
        .boxed()
}

fn one_of(items: &[&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items.to_vec())
        .prop_map(str::to_owned)
        .boxed()
}

/// Times within half a day of `t0()` (so that any event time derived from them
/// lies in range) in the shapes clients send; with `bad`, also times that do not
/// parse or lie out of range.
fn time(bad: bool) -> BoxedStrategy<String> {
    let good = one_of(&[
        r#""2026-03-02T08:59:00Z""#,
        r#""2026-03-02T08:59:58.250Z""#,
        r#""2026-03-02T10:00:00.123456+01:00""#,
        r#""2026-03-02T08:00:00.000000000001Z""#,
        r#""2026-03-02 08:30:00z""#,
        r#""2026-03-02t08:30:00-00:00""#,
        r#""2026-03-01T21:00:00\u005a""#,
        "null",
    ]);
    if bad {
        prop_oneof![
            6 => good,
            1 => one_of(&[
                r#""yesterday""#,
                r#""2026-03-02T08:59:60Z""#,
                r#""1970-01-01T00:00:00Z""#,
                r#""2026-03-09T00:00:00Z""#,
                r#""2026-02-30T00:00:00Z""#,
                "12",
                "{}",
            ]),
        ]
        .boxed()
    } else {
        good
    }
}

/// A string field: mostly a string; with `bad`, sometimes empty, null or another
/// type.
fn text(bad: bool) -> BoxedStrategy<String> {
    if bad {
        prop_oneof![
            6 => string(true),
            1 => one_of(&[r#""""#, "null", "7", "[]", "{}", "true"]),
        ]
        .boxed()
    } else {
        prop_oneof![
            one_of(&[r#""u-1""#, r#""0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0""#]),
            string(false).prop_map(|s| if s == r#""""# { quote("x") } else { s }),
        ]
        .boxed()
    }
}

/// A `context`: an object with or without `consent` and `traits`, of every shape.
fn context(bad: bool) -> BoxedStrategy<String> {
    let preferences = if bad {
        prop_oneof![
            4 => (prop::collection::vec((key(false), one_of(&["true", "false"])), 0..3), ws())
                .prop_map(|(m, w)| object_text(&m, w)),
            1 => one_of(&["null", r#"{"A":"yes"}"#, "[]", r#"{"A":true,"A":false}"#]),
        ]
        .boxed()
    } else {
        (
            prop::collection::vec((key(false), one_of(&["true", "false"])), 0..3),
            ws(),
        )
            .prop_map(|(m, w)| object_text(&m, w))
            .boxed()
    };
    let consent = prop_oneof![
        4 => preferences.prop_map(|p| format!(r#"{{"categoryPreferences":{p},"v":1}}"#)),
        1 => one_of(&["null", "{}", r#"{"categoryPreferences":null}"#]),
    ];
    let consent = if bad {
        prop_oneof![
            6 => consent,
            1 => one_of(&[
                "5",
                r#""yes""#,
                r#"{"categoryPreferences":{"A":true},"categoryPreferences":null}"#,
                r#"{"categoryPreferences":null,"categoryPreferences":{"A":1}}"#,
                r#"{"categoryPreferences":[true]}"#,
                r#"{"categoryPr\u0065ferences":{"A":false}}"#,
            ]),
        ]
        .boxed()
    } else {
        consent.boxed()
    };
    let traits = if bad {
        prop_oneof![3 => object(true), 1 => one_of(&["null", "5"])].boxed()
    } else {
        prop_oneof![3 => object(false), 1 => one_of(&["null"])].boxed()
    };
    // An ordinary context names `consent` and `traits` once.
    let member_key = if bad {
        key(true)
    } else {
        key(false)
            .prop_map(|k| match decoded(&k).as_str() {
                "consent" | "traits" => quote("page"),
                _ => k,
            })
            .boxed()
    };
    let consent_key = if bad {
        one_of(&[r#""consent""#, r#""cons\u0065nt""#])
    } else {
        one_of(&[r#""consent""#])
    };
    (
        prop::collection::vec((member_key, value(bad)), 0..3),
        prop::option::of((consent_key, consent)),
        prop::option::of(traits),
        ws(),
    )
        .prop_map(|(mut members, consent, traits, w)| {
            if let Some(c) = consent {
                members.push(c);
            }
            if let Some(t) = traits {
                members.push((quote("traits"), t));
            }
            object_text(&members, w)
        })
        .boxed()
}

/// An object field: mostly an object; with `bad`, sometimes null or another value.
fn object_field(bad: bool) -> BoxedStrategy<String> {
    if bad {
        prop_oneof![6 => object(true), 1 => one_of(&["null"]), 1 => value(true)].boxed()
    } else {
        prop_oneof![6 => object(false), 1 => one_of(&["null"])].boxed()
    }
}

/// The members of an ordinary message, as text: the fields a client sends, each
/// present or not (the required ones always), unknown fields, each key once.
fn members() -> BoxedStrategy<Vec<(String, String)>> {
    let kind = one_of(&[
        r#""track""#,
        r#""identify""#,
        r#""page""#,
        r#""screen""#,
        r#""group""#,
        r#""alias""#,
    ]);
    let opt = |s: BoxedStrategy<String>| prop::option::weighted(0.6, s).boxed();
    let named = (
        (
            kind,
            text(false),
            opt(text(false)),
            opt(text(false)),
            opt(time(false)),
            opt(time(false)),
            opt(time(false)),
            opt(time(false)),
        ),
        (
            opt(text(false)),
            opt(text(false)),
            opt(text(false)),
            opt(text(false)),
            opt(text(false)),
            opt(text(false)),
        ),
        (
            opt(context(false)),
            opt(object_field(false)),
            opt(object_field(false)),
            opt(object_field(false)),
            opt(object_field(false)),
        ),
    );
    let extra_key = prop_oneof![
        one_of(&[
            r#""version""#,
            r#""rudderId""#,
            r#""request_ip""#,
            r#""a\"b""#
        ]),
        string(false).prop_map(|k| if FIELDS.contains(&decoded(&k).as_str()) {
            quote("x")
        } else {
            k
        }),
    ];
    (
        named,
        prop::collection::vec((extra_key, value(false)), 0..3),
    )
        .prop_map(|(named, extra)| {
            let ((kind, id, user, anon, rec, ts, orig, sent), strings, objects) = named;
            let (event, name, category, channel, group, previous) = strings;
            let (context, integrations, traits, properties, metadata) = objects;
            let mut members = vec![(quote("type"), kind), (quote("messageId"), id)];
            let mut push = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    members.push((quote(k), v));
                }
            };
            let identified = user.is_some() || anon.is_some();
            push("userId", user);
            push("anonymousId", anon);
            if !identified {
                push("userId", Some(quote("u-2")));
            }
            push("receivedAt", rec);
            push("timestamp", ts);
            push("originalTimestamp", orig);
            push("sentAt", sent);
            push("event", Some(event.unwrap_or_else(|| quote("Viewed"))));
            push("name", name);
            push("category", category);
            push("channel", channel);
            push("groupId", Some(group.unwrap_or_else(|| quote("g-1"))));
            push("previousId", Some(previous.unwrap_or_else(|| quote("a-0"))));
            push("context", context);
            push("integrations", integrations);
            push("traits", traits);
            push("properties", properties);
            push("_metadata", metadata);
            members.extend(extra);
            // Each key once (an unknown key may repeat another).
            let mut seen = HashSet::new();
            members.retain(|(k, _)| seen.insert(decoded(k)));
            members
        })
        .boxed()
}

/// A value that is wrong somewhere, or right in an unusual way.
fn odd_value() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&[
            r#""""#,
            "null",
            "7",
            "[]",
            "{}",
            "true",
            r#""purchase""#,
            r#""tr\u0061ck""#,
            r#""batch""#,
        ]),
        time(true),
        text(true),
        value(true),
        object(true),
        context(true),
    ]
    .boxed()
}

/// A change that may make a message invalid or unusual.
#[derive(Debug, Clone)]
enum Change {
    /// The value of a member.
    Value(prop::sample::Index, String),
    /// A member given twice.
    Repeat(prop::sample::Index),
    /// A member left out.
    Remove(prop::sample::Index),
    /// A field added, known or not.
    Add(String, String),
    /// A character inserted into the text, or one removed.
    Text(prop::sample::Index, Option<char>),
}

fn change() -> BoxedStrategy<Change> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        3 => (index(), odd_value()).prop_map(|(i, v)| Change::Value(i, v)),
        1 => index().prop_map(Change::Repeat),
        1 => index().prop_map(Change::Remove),
        2 => (
            prop_oneof![prop::sample::select(FIELDS).prop_map(quote), key(true)],
            odd_value(),
        )
            .prop_map(|(k, v)| Change::Add(k, v)),
        1 => (
            index(),
            prop::option::of(prop::sample::select(vec![',', '}', '"', '\\', 'x', ' ', ':', '\u{1}'])),
        )
            .prop_map(|(i, c)| Change::Text(i, c)),
    ]
    .boxed()
}

/// A message as text, in any order and layout. Without `bad`, an ordinary valid
/// message; with it, an ordinary one with a few changes, each of which may make
/// it invalid (a type, a time, a repeated or missing key, the JSON itself).
fn message(bad: bool) -> BoxedStrategy<String> {
    let changes = if bad {
        prop::collection::vec(change(), 0..3).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (members(), changes, ws())
        .prop_flat_map(|(mut members, changes, w)| {
            let mut edits = Vec::new();
            for c in changes {
                match c {
                    Change::Value(i, v) => {
                        let at = i.index(members.len());
                        members[at].1 = v;
                    }
                    Change::Repeat(i) => {
                        let again = members[i.index(members.len())].clone();
                        members.push(again);
                    }
                    Change::Remove(i) => {
                        members.remove(i.index(members.len()));
                    }
                    Change::Add(k, v) => members.push((k, v)),
                    Change::Text(i, c) => edits.push((i, c)),
                }
            }
            Just(members).prop_shuffle().prop_map(move |m| {
                let mut chars: Vec<char> = object_text(&m, w).chars().collect();
                for (i, c) in &edits {
                    let at = i.index(chars.len());
                    match c {
                        Some(c) => chars.insert(at, *c),
                        None => {
                            chars.remove(at);
                        }
                    }
                }
                chars.into_iter().collect()
            })
        })
        .boxed()
}

/// What a batch gives its elements: with `bad`, a `context` whose `consent` or
/// `traits` may be wrong.
fn defaults(bad: bool) -> impl Strategy<Value = BatchDefaults> {
    let map = |text: String| serde_json::from_str::<Map<String, Value>>(&text).ok();
    let context = if bad {
        prop_oneof![object(false), context(true)].boxed()
    } else {
        context(false)
    };
    (
        prop::option::of(prop::sample::select(vec![
            "2026-03-02T08:59:59Z",
            "2026-03-02T09:10:00.5+00:00",
        ])),
        prop::option::weighted(0.3, context),
        prop::option::weighted(0.3, object(false)),
    )
        .prop_map(move |(sent_at, context, integrations)| BatchDefaults {
            sent_at: sent_at
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            context: context.and_then(map),
            integrations: integrations.and_then(map),
        })
}

/// Reads `text` both ways: the one-pass result must be the field-by-field one.
fn compare(text: &str, defaults: &BatchDefaults) -> Result<Option<Message>, TestCaseError> {
    let cfg = ParseConfig::default();
    // Received live, both readers ignore a `receivedAt` alike.
    let live = fields::read(text.as_bytes(), ReceivedAt::Server(t0()), &cfg, defaults);
    if let Some(m) = reader::read(text.as_bytes(), ReceivedAt::Server(t0()), &cfg, defaults) {
        prop_assert_eq!(Ok(&m), live.as_ref(), "{}", text);
        prop_assert_eq!(m.received_at, t0());
    }
    let general = fields::read(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg, defaults);
    let fast = reader::read(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg, defaults);
    if let Some(m) = &fast {
        prop_assert_eq!(Ok(m), general.as_ref(), "{}", text);
        // Field for field, not only by the texts the comparison looks at.
        prop_assert_eq!(
            m.properties.map(),
            general.as_ref().unwrap().properties.map()
        );
        for o in [
            &m.context,
            &m.integrations,
            &m.traits,
            &m.properties,
            &m.metadata,
            &m.extra,
        ] {
            prop_assert_eq!(o.is_empty(), o.map().is_empty(), "{}", o.json());
        }
        // Through its own JSON form and back, unchanged.
        let back: Message = serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap();
        prop_assert_eq!(&back, m);
    }
    Ok(fast)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text: whatever the one-pass reader builds is what the field-by-field
    /// reader builds.
    #[test]
    fn the_one_pass_reader_agrees_with_the_field_by_field_reader(
        text in message(true),
        defaults in defaults(true),
    ) {
        compare(&text, &defaults)?;
    }

    /// Ordinary messages are all taken by the one-pass reader.
    #[test]
    fn ordinary_messages_take_the_one_pass_reader(
        text in message(false),
        defaults in defaults(false),
    ) {
        prop_assert!(compare(&text, &defaults)?.is_some(), "{}", text);
    }

    /// Any batch: the one-pass results are those of splitting the batch first.
    #[test]
    fn the_one_pass_batch_agrees_with_splitting(
        items in prop::collection::vec(prop_oneof![4 => message(true), 1 => value(true)], 0..5),
        head in prop::collection::vec(
            (
                one_of(&[r#""type""#, r#""sentAt""#, r#""context""#, r#""integrations""#, r#""x""#]),
                prop_oneof![
                    one_of(&[r#""batch""#, r#""track""#, "null", r#""2026-03-02T08:59:59Z""#, r#""soon""#]),
                    object(true),
                    value(true),
                ],
            ),
            0..3,
        ),
        small in any::<bool>(),
        w in ws(),
    ) {
        let cfg = if small {
            ParseConfig::default().with_max_message_bytes(200).unwrap()
        } else {
            ParseConfig::default()
        };
        let mut members = head;
        members.push((quote("batch"), format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))));
        let text = object_text(&members, w);
        let split = split_batch(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg);
        if let Some(results) = reader::batch(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg) {
            prop_assert_eq!(Ok(&results), split.as_ref().map(|b| &b.results), "{}", text);
        }
    }

    /// Ordinary batches are all taken by the one-pass reader, whatever their
    /// elements' errors.
    #[test]
    fn ordinary_batches_take_the_one_pass_reader(
        items in prop::collection::vec(prop_oneof![4 => message(false), 1 => object(false)], 0..5),
        pretty in any::<bool>(),
    ) {
        let body = format!(
            r#"{{"type":"batch","sentAt":"2026-03-02T08:59:59Z","context":{{"library":{{"name":"x"}}}},"batch":[{}]}}"#,
            items.join(",")
        );
        let text = if pretty {
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body).unwrap()).unwrap()
        } else {
            body
        };
        let cfg = ParseConfig::default();
        let results = reader::batch(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg);
        prop_assert!(results.is_some(), "{}", text);
        let split = split_batch(text.as_bytes(), ReceivedAt::Replay(t0()), &cfg).unwrap();
        prop_assert_eq!(results.unwrap(), split.results);
    }
}

/// A `track` as analytics.js sends it, and variants that clients send.
#[test]
fn client_messages_take_the_one_pass_reader_field_for_field() {
    let track = r#"{"type":"track","messageId":"ajs-next-1","anonymousId":"0f1e2d3c","userId":"user_1",
        "event":"Order Completed","timestamp":"2026-03-02T08:59:58.000Z","sentAt":"2026-03-02T08:59:59.250Z",
        "properties":{"order_id":"ord_1","revenue":129.99,"big":123456789012345678901234567890,
          "products":[{"sku":"SKU-1","price":59.99,"quantity":1}]},
        "context":{"ip":"203.0.113.7","page":{"url":"https:\/\/shop.example\/checkout"},
          "traits":{"email":"ann@example.com","name":"Ann \ud83d\ude00"},
          "consent":{"categoryPreferences":{"Advertising":true,"Analytics":false}}},
        "integrations":{"All":true},"_metadata":{"bundled":["Segment.io"]},
        "version":2,"rudderId":"r-1"}"#;
    let cfg = ParseConfig::default();
    let m = reader::read(
        track.as_bytes(),
        ReceivedAt::Replay(t0()),
        &cfg,
        &BatchDefaults::default(),
    )
    .expect("the one-pass reader takes it");
    assert_eq!(
        Ok(&m),
        fields::read(
            track.as_bytes(),
            ReceivedAt::Replay(t0()),
            &cfg,
            &BatchDefaults::default()
        )
        .as_ref()
    );
    // Pinned field by field against a plain `serde_json::Value` reading.
    let doc: Value = serde_json::from_str(track).unwrap();
    assert_eq!(m.message_id, doc["messageId"]);
    assert_eq!(m.user_id.as_deref(), doc["userId"].as_str());
    assert_eq!(m.anonymous_id.as_deref(), doc["anonymousId"].as_str());
    assert_eq!(m.event.as_deref(), doc["event"].as_str());
    assert_eq!(m.timestamp, t0() - chrono::TimeDelta::milliseconds(1250));
    assert_eq!(
        m.properties.json(),
        r#"{"order_id":"ord_1","revenue":129.99,"big":123456789012345678901234567890,
          "products":[{"sku":"SKU-1","price":59.99,"quantity":1}]}"#
    );
    assert_eq!(Value::Object(m.context.map().clone()), doc["context"]);
    assert_eq!(
        Value::Object(m.traits.map().clone()),
        doc["context"]["traits"]
    );
    assert_eq!(
        Value::Object(m.integrations.map().clone()),
        doc["integrations"]
    );
    assert_eq!(Value::Object(m.metadata.map().clone()), doc["_metadata"]);
    assert_eq!(m.extra.json(), r#"{"rudderId":"r-1","version":2}"#);
    assert!(m.consent.allows("Advertising", false));
    assert!(!m.consent.allows("Analytics", true));
    assert_eq!(m.consent.categories.len(), 2);
    // Through its own JSON form and back, unchanged.
    let back: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

/// What the one-pass reader leaves to the field-by-field reader, which then
/// reports the error (or reads the message).
#[test]
fn unusual_and_invalid_messages_are_left_to_the_field_by_field_reader() {
    let cfg = ParseConfig::default();
    for text in [
        r#"{"type":"page","messageId":"m","userId":"u","userId":"v"}"#,
        r#"{"type":"page","messageId":"m","userId":"u","x":1,"x":2}"#,
        r#"{"type":"page","messageId":"m","userId":"u","context":{"traits":{},"traits":{}}}"#,
        r#"{"type":"page","messageId":"m","userId":"u","properties":{"p":1e400}}"#,
        r#"{"type":"page","messageId":"m","userId":"u","properties":{"p":"\udc00"}}"#,
        r#"{"type":"page","messageId":"m","userId":5}"#,
        r#"{"type":"page","messageId":"m"}"#,
        r#"{"type":"page","messageId":"m","userId":"u"} x"#,
        "[1]",
    ] {
        assert_eq!(
            reader::read(
                text.as_bytes(),
                ReceivedAt::Replay(t0()),
                &cfg,
                &BatchDefaults::default()
            ),
            None,
            "{text}"
        );
    }
    let text = r#"{"type":"page","messageId":"m","userId":"u","userId":"v"}"#;
    let m = super::parse_message(text.as_bytes(), t0(), &cfg).unwrap();
    assert_eq!(m.user_id.as_deref(), Some("v"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The shortcut for the times clients send gives what `chrono` gives, and
    /// takes every such time that `chrono` reads.
    #[test]
    fn client_times_read_as_chrono_reads_them(
        fields in prop::collection::vec(0u32..100, 5),
        year in prop_oneof![1990u32..2100, 0u32..10_000],
        fraction in "[0-9]{0,11}",
        end in prop::sample::select(vec!["Z", "z", "+00:00", "-01:30", ""]),
        sep in prop::sample::select(vec!["T", "t", " "]),
    ) {
        let dot = if fraction.is_empty() { "" } else { "." };
        let s = format!(
            "{year:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}{dot}{fraction}{end}",
            fields[0] % 14, fields[1] % 33, fields[2] % 26, fields[3] % 62, fields[4] % 62,
        );
        let chrono = DateTime::parse_from_rfc3339(&s).ok().map(|t| t.with_timezone(&Utc));
        let shortcut = reader::utc_time(&s);
        if let Some(t) = shortcut {
            prop_assert_eq!(Some(t), chrono, "{}", s);
        }
        let canonical = sep == "T" && end == "Z" && fraction.len() <= 9 && fields[4] % 62 < 60;
        if canonical {
            prop_assert_eq!(shortcut, chrono, "{}", s);
        }
    }
}
