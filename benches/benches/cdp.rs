//! Criterion benchmarks of the CDP.
//!
//! * `bulk/links_1m`: bulk resolution (`add_links`) of 1 M generated string links
//!   (≈ 1.2 M identifiers) to a component label per identifier, end to end.
//! * `identity/identify_3_ids`: one incremental `identify` carrying a user id, an
//!   anonymous id and an email, on a graph that grows to 100,000 events (half of
//!   them on profiles seen before), amortised.
//! * `identity_order/{in_order,reverse,random}_1m`: incremental resolution
//!   (`IdentityGraph::link`) of 1 M generated events of 100,000 people, arriving in
//!   timestamp order, newest first (a backfill or a replay) and in a random order;
//!   throughput per event. Each event carries its person's anonymous id, 60 %
//!   also the user id and 12 % the email too; one person in ten uses a second
//!   device, merged by its first event that carries the user id. Under
//!   `cargo test --benches` the data shrinks to 20,000 events.
//! * `identity_hub/reverse_10k`: 10,000 events arriving newest first, each carrying
//!   one shared device id and its own anonymous id, so that the anonymous-id limit
//!   (100 per profile) refuses all but the earliest 100; throughput per event.
//!   `identity_hub/random_10k`: the same events in a random order. Under
//!   `cargo test --benches` the data shrinks to 1,000 events.
//! * `computed/apply_10_traits`: one `track` event applied to a profile's ten
//!   computed traits (count, sum, avg, min, max, first, last, most frequent, unique
//!   count and a 30-day windowed sum; two with filters), cycling over 10,000
//!   events, amortised; `computed/value_10_traits` reads all ten at a time.
//! * `message/parse_track`: parsing and validating one ~700-byte `track` message.
//! * `message/parse_batch_100`: a batch of 100 such messages.
//!
//! Run with `cargo bench -p stratum-benches --bench cdp` (add `-- --quick` for a
//! short run).
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratum_benches::{LinkTable, Rng, SEED};
use stratum_cdp::bulk::BulkResolver;
use stratum_cdp::computed::{ComputedTraits, TraitEvent};
use stratum_cdp::identity::ProfileId;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig, IdentityGraph};
use stratum_cdp::message::{ParseConfig, parse_batch, parse_message};
use stratum_cdp::profile::Profile;

const BULK_LINKS: usize = 1_000_000;
const EVENTS: usize = 100_000;

fn bulk(c: &mut Criterion) {
    let table = LinkTable::generate(BULK_LINKS, SEED);
    let mut g = c.benchmark_group("bulk");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BULK_LINKS as u64));
    g.bench_function("links_1m", |b| {
        b.iter(|| {
            let mut r = BulkResolver::new();
            r.add_links(table.iter()).expect("capacity");
            black_box(r.finish().component_count())
        });
    });
    g.finish();
}

struct Event {
    message_id: String,
    ids: Vec<Identifier>,
}

fn events() -> Vec<Event> {
    (0..EVENTS)
        .map(|i| {
            // Half the events revisit an earlier person (same three identifiers).
            let p = if i % 2 == 0 { i } else { i / 3 };
            Event {
                message_id: format!("m{i:07}"),
                ids: vec![
                    Identifier::new(IdentifierKind::UserId, &format!("user_{p}")),
                    Identifier::new(IdentifierKind::AnonymousId, &format!("anon-{p:08x}")),
                    Identifier::new(IdentifierKind::Email, &format!("p{p}@mail.example")),
                ],
            }
        })
        .collect()
}

fn identity(c: &mut Criterion) {
    let evs = events();
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let mut g = c.benchmark_group("identity");
    g.throughput(Throughput::Elements(1));
    g.bench_function("identify_3_ids", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut graph = IdentityGraph::new(IdentityConfig::default());
            let mut next = 0usize;
            for _ in 0..iters {
                if next == evs.len() {
                    graph = IdentityGraph::new(IdentityConfig::default());
                    next = 0;
                }
                let e = &evs[next];
                let ids = e.ids.clone();
                let at = t0 + TimeDelta::seconds(next as i64);
                let start = Instant::now();
                black_box(graph.link(&e.message_id, at, ids));
                total += start.elapsed();
                next += 1;
            }
            total
        });
    });
    g.finish();
}

/// Events of the arrival-order benchmark: 1 M, or when run as a test 20,000
/// (or `STRATUM_ORDER_EVENTS`, for a timed one-pass run of the bench binary).
fn order_events() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        std::env::var("STRATUM_ORDER_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    }
}

/// `n` events of `n / 10` people, each as (message id, timestamp, identifiers),
/// in timestamp order.
fn people_events(n: usize) -> Vec<(String, chrono::DateTime<Utc>, Vec<Identifier>)> {
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let mut rng = Rng::new(SEED);
    let people = (n / 10).max(1);
    let mut evs = Vec::with_capacity(n);
    for k in 0..n {
        let p = rng.below(people as u64);
        let second_device = p.is_multiple_of(10) && rng.chance(0.3);
        let anon = if second_device {
            format!("anon-{p:07}-b")
        } else {
            format!("anon-{p:07}")
        };
        let mut ids = vec![Identifier::new(IdentifierKind::AnonymousId, &anon)];
        // Most events carry the user id (the person is logged in); some are
        // identifies that also carry the email.
        let known = rng.chance(0.6);
        if known {
            ids.push(Identifier::new(
                IdentifierKind::UserId,
                &format!("user_{p}"),
            ));
            if rng.chance(0.2) {
                ids.push(Identifier::new(
                    IdentifierKind::Email,
                    &format!("p{p}@mail.example"),
                ));
            }
        }
        // Spread over a year, in order of `k`.
        let at = t0 + TimeDelta::seconds((k as i64) * 31);
        evs.push((format!("m{k:08}"), at, ids));
    }
    evs
}

fn identity_order(c: &mut Criterion) {
    let n = order_events();
    let sorted = people_events(n);
    let reverse: Vec<_> = sorted.iter().rev().cloned().collect();
    let mut random = sorted.clone();
    let mut rng = Rng::new(SEED ^ 0x0DDE);
    for k in (1..random.len()).rev() {
        random.swap(k, rng.below(k as u64 + 1) as usize);
    }
    let mut g = c.benchmark_group("identity_order");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (name, evs) in [
        ("in_order_1m", &sorted),
        ("reverse_1m", &reverse),
        ("random_1m", &random),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut graph = IdentityGraph::new(IdentityConfig::default());
                for (m, at, ids) in evs.iter() {
                    black_box(graph.link(m, *at, ids.clone()));
                }
                black_box(graph.profile_count())
            });
        });
    }
    g.finish();
}

/// Events of the shared-identifier benchmark: 10,000, or when run as a test 1,000
/// (or `STRATUM_HUB_EVENTS`, for a timed one-pass run of the bench binary).
fn hub_events() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        std::env::var("STRATUM_HUB_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000)
    }
}

fn identity_hub(c: &mut Criterion) {
    let n = hub_events();
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let hub = Identifier::new(IdentifierKind::DeviceId, "hub");
    // Newest first: every event is earlier than all the others seen so far. Past
    // the first 100, each one's anonymous id is refused by the limit (100 per
    // profile), so the limit decides something in the component.
    let reverse: Vec<_> = (0..n)
        .rev()
        .map(|k| {
            (
                format!("m{k:08}"),
                t0 + TimeDelta::seconds(k as i64),
                vec![
                    hub.clone(),
                    Identifier::new(IdentifierKind::AnonymousId, &format!("anon-{k:08}")),
                ],
            )
        })
        .collect();
    let mut random = reverse.clone();
    let mut rng = Rng::new(SEED ^ 0x0B0B);
    for k in (1..random.len()).rev() {
        random.swap(k, rng.below(k as u64 + 1) as usize);
    }
    let mut g = c.benchmark_group("identity_hub");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (name, evs) in [("reverse_10k", &reverse), ("random_10k", &random)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut graph = IdentityGraph::new(IdentityConfig::default());
                for (m, at, ids) in evs.iter() {
                    black_box(graph.link(m, *at, ids.clone()));
                }
                black_box(graph.profile_count())
            });
        });
    }
    g.finish();
}

const TRAIT_EVENTS: usize = 10_000;

fn computed(c: &mut Criterion) {
    let defs: ComputedTraits = serde_json::from_value(serde_json::json!([
        {"name": "orders", "kind": "count", "event": "Order Completed"},
        {"name": "revenue", "kind": "sum", "property": "revenue", "event": "Order Completed"},
        {"name": "avg_order", "kind": "avg", "property": "revenue",
         "filters": [{"op": "equals", "property": "currency", "value": "EUR"}]},
        {"name": "min_order", "kind": "min", "property": "revenue"},
        {"name": "max_order", "kind": "max", "property": "revenue"},
        {"name": "first_sku", "kind": "first", "property": "sku"},
        {"name": "last_sku", "kind": "last", "property": "sku"},
        {"name": "top_category", "kind": "most_frequent", "property": "category"},
        {"name": "categories", "kind": "unique_count", "property": "category"},
        {"name": "revenue_30d", "kind": "sum", "property": "revenue",
         "filters": [{"op": "gt", "property": "revenue", "value": 0}],
         "window_seconds": 2_592_000}
    ]))
    .expect("valid definitions");
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let events: Vec<TraitEvent> = (0..TRAIT_EVENTS)
        .map(|i| {
            let category = ["shoes", "bags", "hats", "coats", "belts"][i % 5];
            let props = serde_json::json!({
                "revenue": (i * 7919 % 50_000) as f64 / 100.0,
                "currency": if i % 3 == 0 { "USD" } else { "EUR" },
                "sku": format!("SKU-{}", i % 97),
                "category": category,
            });
            TraitEvent {
                name: Some(
                    if i % 4 == 0 {
                        "Product Viewed"
                    } else {
                        "Order Completed"
                    }
                    .to_owned(),
                ),
                timestamp: t0 + TimeDelta::minutes((i * 37 % 86_400) as i64),
                message_id: format!("m{i:07}"),
                properties: props.as_object().cloned().unwrap_or_default(),
            }
        })
        .collect();
    let mut g = c.benchmark_group("computed");
    g.throughput(Throughput::Elements(1));
    g.bench_function("apply_10_traits", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut profile = Profile::new(ProfileId("prof:bench".into()));
            let mut next = 0usize;
            for _ in 0..iters {
                if next == events.len() {
                    profile = Profile::new(ProfileId("prof:bench".into()));
                    next = 0;
                }
                let e = &events[next];
                let start = Instant::now();
                profile.apply_event(&defs, black_box(e));
                total += start.elapsed();
                next += 1;
            }
            total
        });
    });
    let mut full = Profile::new(ProfileId("prof:bench".into()));
    for e in &events {
        full.apply_event(&defs, e);
    }
    let now = t0 + TimeDelta::days(60);
    g.bench_function("value_10_traits", |b| {
        b.iter(|| black_box(full.computed_values(&defs, black_box(now))));
    });
    g.finish();
}

fn track_json(i: usize) -> String {
    format!(
        r#"{{"type":"track","messageId":"msg-{i:08}","anonymousId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","userId":"user_{i}","event":"Order Completed","originalTimestamp":"2026-03-01T12:00:00.000Z","sentAt":"2026-03-01T12:00:01.250Z","properties":{{"order_id":"ord_{i}","revenue":129.99,"currency":"EUR","products":[{{"sku":"SKU-1","price":59.99,"quantity":1}},{{"sku":"SKU-2","price":70.0,"quantity":1}}]}},"context":{{"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (X11; Linux x86_64)","library":{{"name":"analytics.js","version":"5.2.0"}},"page":{{"url":"https://shop.example/checkout?gclid=abc123","path":"/checkout"}},"consent":{{"categoryPreferences":{{"Advertising":true,"Analytics":true}}}}}},"integrations":{{"All":true}}}}"#
    )
}

fn message(c: &mut Criterion) {
    let cfg = ParseConfig::default();
    let now = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 2)
        .single()
        .expect("valid date");
    let one = track_json(1);
    let batch = format!(
        r#"{{"batch":[{}]}}"#,
        (0..100).map(track_json).collect::<Vec<_>>().join(",")
    );
    let mut g = c.benchmark_group("message");
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("parse_track", |b| {
        b.iter(|| parse_message(black_box(one.as_bytes()), now, &cfg).expect("valid"));
    });
    g.throughput(Throughput::Elements(100));
    g.bench_function("parse_batch_100", |b| {
        b.iter(|| {
            let r = parse_batch(black_box(batch.as_bytes()), now, &cfg).expect("valid");
            assert_eq!(r.messages().count(), 100);
            r
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    bulk,
    identity,
    identity_order,
    identity_hub,
    computed,
    message
);
criterion_main!(benches);
