//! Criterion benchmarks of segments.
//!
//! * `segments/full_50x100k`: full evaluation of 50 generated segments (2 to 4
//!   conditions over 20 traits and 10 counters) over 100,000 generated profiles
//!   (`benches/compare_segments.sh` runs 1 M side by side with Polars).
//! * `segments/incremental_event_50`: one `Order Completed` event on a profile,
//!   re-evaluating 50 audiences that all reference it (a windowed count, a
//!   filtered count, traits), transitions included, on an engine holding 10,000
//!   profiles, from a stream in time order (one order a minute, the profiles in
//!   turn: each orders about weekly); amortised.
//! * `segments/incremental_event_50_replayed_week`: the same, but the same week's
//!   orders replayed again and again, so every profile's order lists keep growing
//!   (a cache-missing worst case).
//!
//! Run with `cargo bench -p stratum-benches --bench segments` (add `-- --quick`).
#![allow(clippy::expect_used)]

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use stratum_benches::segments::{Profiles, definitions, event_definitions, segments};
use stratum_benches::{Rng, SEED};
use stratum_cdp::computed::{ComputedTraits, TraitEvent};
use stratum_cdp::identity::ProfileId;
use stratum_cdp::profile::Profile;
use stratum_cdp::segment::{AudienceEngine, AudienceSet};

fn full(c: &mut Criterion) {
    let rows = 100_000;
    let mut rng = Rng::new(SEED);
    let profiles = Profiles::generate(&mut rng, rows);
    let segs = segments(&mut rng, 50);
    let table = profiles.table();
    let set = AudienceSet::new(definitions(&segs), None).expect("segments compile");
    let mut g = c.benchmark_group("segments");
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("full_50x100k", |b| {
        b.iter(|| black_box(set.evaluate(&table).expect("columns present")));
    });
    g.finish();
}

/// 10,000 profiles over the 50 audiences of `event_definitions`, evaluated once.
fn engine_with_profiles() -> (AudienceEngine, Vec<Profile>, DateTime<Utc>) {
    let set = AudienceSet::new(event_definitions(), None).expect("compiles");
    let mut engine = AudienceEngine::new(set);
    let computed = ComputedTraits::default();
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let profiles: Vec<Profile> = (0..10_000)
        .map(|i| {
            let mut p = Profile::new(ProfileId(format!("prof:{i}")));
            let traits = json!({"plan": if i % 3 == 0 { "pro" } else { "free" }, "age": i % 70, "vip": i % 2 == 0});
            p.apply_traits(traits.as_object().expect("object"), t0, "i");
            p
        })
        .collect();
    for p in &profiles {
        engine.evaluate(p, &computed, t0);
    }
    (engine, profiles, t0)
}

fn order(i: i64, at: DateTime<Utc>) -> TraitEvent {
    TraitEvent {
        name: Some("Order Completed".into()),
        timestamp: at,
        message_id: format!("m{i}"),
        properties: json!({"total": i % 500})
            .as_object()
            .expect("object")
            .clone(),
    }
}

fn incremental(c: &mut Criterion) {
    let computed = ComputedTraits::default();
    let mut g = c.benchmark_group("segments");
    g.throughput(Throughput::Elements(1));

    // A stream in time order: one order a minute, the profiles in turn, so each
    // orders about weekly and windows slide past old orders (the engine drops
    // what no window can hold again).
    let (mut engine, profiles, t0) = engine_with_profiles();
    let mut events: Vec<TraitEvent> = (0..10_000).map(|i| order(i, t0)).collect();
    let mut i = 0usize;
    g.bench_function("incremental_event_50", |b| {
        b.iter(|| {
            let k = i % profiles.len();
            let (p, e) = (&profiles[k], &mut events[k]);
            e.timestamp = t0 + TimeDelta::minutes(i as i64);
            i += 1;
            engine.record_event(&p.id, e);
            black_box(engine.evaluate(p, &computed, e.timestamp));
        });
    });

    // The same week replayed over and over: each profile receives its one order
    // again and again, so its order lists grow with every round and every read
    // misses the cache (a worst case, not a stream).
    let (mut engine, profiles, t0) = engine_with_profiles();
    let events: Vec<TraitEvent> = (0..10_000)
        .map(|i| order(i, t0 + TimeDelta::minutes(i)))
        .collect();
    let mut i = 0usize;
    g.bench_function("incremental_event_50_replayed_week", |b| {
        b.iter(|| {
            let p = &profiles[i % profiles.len()];
            let e = &events[i % events.len()];
            i += 1;
            engine.record_event(&p.id, e);
            black_box(engine.evaluate(p, &computed, e.timestamp));
        });
    });
    g.finish();
}

criterion_group!(benches, full, incremental);
criterion_main!(benches);
