//! Differential: a fuzzed segment (the bytes before the first NUL) becomes an
//! audience of a CDP; the remaining bytes drive identifies, events, consent
//! changes, unmerges and clock moves. After every clock move, incremental
//! membership equals a full (columnar) evaluation of the same profiles.
#![no_main]

use std::sync::OnceLock;

use chrono::{TimeDelta, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig};
use stratum_cdp::message::{ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore};
use stratum_cdp::segment::{AudienceDefinition, Segment};

fn check(c: &Cdp, now: chrono::DateTime<Utc>) {
    let eng = c.audiences().expect("audiences set");
    let (ids, bits) = c.evaluate_audiences(now).expect("in-memory store");
    for (row, id) in ids.iter().enumerate() {
        for (a, d) in eng.audiences().definitions().iter().enumerate() {
            assert_eq!(
                bits[a].get(row),
                eng.is_member(id, &d.key),
                "{} {id:?}",
                d.key
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let Ok(text) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let Ok(segment) = Segment::parse(text) else {
        return;
    };
    // The fixed parts of a scenario are built once per process.
    static FIXED: OnceLock<(ComputedTraits, Segment)> = OnceLock::new();
    let (computed, base) = FIXED.get_or_init(|| {
        let computed = serde_json::from_value(json!([
            {"name": "orders", "kind": "count", "event": "Order Completed", "window_seconds": 86400},
            {"name": "revenue", "kind": "sum", "property": "total"}
        ]))
        .expect("valid definitions");
        (computed, Segment::parse(r#"plan = "pro""#).expect("valid"))
    });
    let mut c = Cdp::with_computed_traits(
        IdentityConfig::default(),
        TimeDelta::hours(1),
        InMemoryProfileStore::new(),
        computed.clone(),
    )
    .expect("valid config");
    let defs = vec![
        AudienceDefinition {
            key: "base".into(),
            name: None,
            segment: base.clone(),
        },
        AudienceDefinition {
            key: "fuzzed".into(),
            name: None,
            segment,
        },
    ];
    if c.set_audiences(defs).is_err() {
        return;
    }
    let mut now = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let names = ["Order Completed", "Login", "Page"];
    let plans = ["pro", "free", "team"];
    for (i, chunk) in data[(split + 1).min(data.len())..].chunks(3).enumerate() {
        let (op, a, b) = (
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        );
        let user = format!("u{}", a % 4);
        let anon = format!("a{}", b % 4);
        let mid = format!("m{i}");
        let ts = (now - TimeDelta::minutes(i64::from(b) * 30)).to_rfc3339();
        // Message texts are written directly (every value is a plain token).
        let msg = match op % 5 {
            0 => format!(
                r#"{{"type":"identify","messageId":"{mid}","userId":"{user}","anonymousId":"{anon}","timestamp":"{ts}","traits":{{"plan":"{}","age":{a},"tags":["x","{}"]}}}}"#,
                plans[usize::from(b % 3)],
                plans[usize::from(a % 3)]
            ),
            1 => format!(
                r#"{{"type":"track","messageId":"{mid}","anonymousId":"{anon}","event":"{}","timestamp":"{ts}","properties":{{"total":{a},"sku":"{}"}}}}"#,
                names[usize::from(a % 3)],
                plans[usize::from(b % 3)]
            ),
            2 => format!(
                r#"{{"type":"track","messageId":"{mid}","userId":"{user}","event":"Consent","timestamp":"{ts}","context":{{"consent":{{"categoryPreferences":{{"ads":{}}}}}}}}}"#,
                a % 2 == 0
            ),
            3 => {
                let _ = c.remove_identifier(&Identifier::new(IdentifierKind::AnonymousId, &anon));
                continue;
            }
            _ => {
                now += TimeDelta::minutes(i64::from(a) * 20);
                c.advance_time(now).expect("the clock moves forward");
                check(&c, now);
                continue;
            }
        };
        let m = parse_message(msg.as_bytes(), now, &ParseConfig::default()).expect("valid message");
        c.ingest(&m).expect("in-memory store");
    }
    now += TimeDelta::minutes(1);
    c.advance_time(now).expect("the clock moves forward");
    check(&c, now);
});
