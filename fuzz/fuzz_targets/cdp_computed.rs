//! Bytes -> computed-trait definitions, applied to a fixed set of events. Parsing
//! must never panic; errors carry a code; valid definitions round-trip through
//! JSON; for every definition the value after applying the events in order equals
//! the value after applying them split over two states and merged, at several
//! evaluation times, and pruning never changes a value at or after the prune time.
#![no_main]

use chrono::{TimeDelta, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use stratum_cdp::computed::{ComputedTraits, TraitEvent};

fuzz_target!(|data: &[u8]| {
    let defs: ComputedTraits = match serde_json::from_slice(data) {
        Ok(d) => d,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let json = serde_json::to_vec(&defs).expect("definitions serialise");
    let back: ComputedTraits = serde_json::from_slice(&json).expect("and parse back");
    assert_eq!(back, defs);

    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let props = [
        json!({"total": 12.5, "currency": "EUR", "sku": "a", "o": {"v": 1}}),
        json!({"total": -3, "currency": "USD", "sku": "b"}),
        json!({"total": "7", "sku": null}),
        json!({"total": 1e300, "sku": ["x", {"k": 2}]}),
        json!({}),
        json!({"total": 0.1, "currency": "EUR", "sku": "a", "o": {"v": "w"}}),
    ];
    let names = ["Order Completed", "Page", "x"];
    let events: Vec<TraitEvent> = (0..18usize)
        .map(|i| TraitEvent {
            name: (i % 4 != 3).then(|| names[i % 3].to_owned()),
            timestamp: t0 + TimeDelta::hours((i * 7 % 40) as i64),
            message_id: format!("m{:02}", (i * 5) % 18),
            properties: props[i % props.len()]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    for d in defs.definitions() {
        let mut whole = d.new_state();
        let mut a = d.new_state();
        let mut b = d.new_state();
        for (i, e) in events.iter().enumerate() {
            d.apply(&mut whole, e);
            d.apply(if i % 3 == 0 { &mut a } else { &mut b }, e);
        }
        b.merge(a);
        for h in [0i64, 10, 25, 39, 100] {
            let now = t0 + TimeDelta::hours(h);
            assert_eq!(whole.value(now), b.value(now));
            let mut pruned = whole.clone();
            pruned.prune(now);
            assert_eq!(pruned.value(now), whole.value(now));
        }
    }
});
