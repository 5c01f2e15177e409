//! Memory of incremental audience membership: the resident-set growth of an
//! `AudienceEngine` tracking N profiles (default 1,000,000) over 50 audiences,
//! read from `/proc/self/statm` before and after (so allocator overhead counts).
//!
//! * `--scenario state`: 50 trait audiences that no profile matches, so the
//!   engine holds only its membership state (the profile index with one copy of
//!   each id, the membership bits and the next-change time) and no history.
//! * `--scenario events`: the 50 audiences of the incremental benchmark, one
//!   `Order Completed` event per profile: adds the recorded event times and the
//!   membership history (every transition is kept).
//!
//!   cargo run --release -p stratum-benches --bin segments_memory -- --scenario state
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::expect_used)]

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::json;
use stratum_benches::segments::event_definitions;
use stratum_cdp::computed::{ComputedTraits, TraitEvent};
use stratum_cdp::identity::ProfileId;
use stratum_cdp::profile::Profile;
use stratum_cdp::segment::{AudienceDefinition, AudienceEngine, AudienceSet};

/// Resident bytes of this process.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let n: usize = arg("--profiles").map_or(1_000_000, |v| v.parse().expect("--profiles N"));
    let scenario = arg("--scenario").unwrap_or_else(|| "state".into());
    let defs = match scenario.as_str() {
        "state" => (0..50)
            .map(|i| {
                AudienceDefinition::parse(
                    &format!("a{i}"),
                    &format!(r#"plan = "enterprise-{i}" and age >= {i}"#),
                )
                .expect("valid")
            })
            .collect(),
        "events" => event_definitions(),
        other => {
            eprintln!("unknown scenario {other:?} (state, events)");
            std::process::exit(2);
        }
    };
    let computed = ComputedTraits::default();
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let mut engine = AudienceEngine::new(AudienceSet::new(defs, None).expect("compiles"));
    let before = resident();
    for i in 0..n {
        let mut p = Profile::new(ProfileId(format!("prof:{i:08}")));
        let traits = json!({"plan": if i % 3 == 0 { "pro" } else { "free" }, "age": i % 70, "vip": i % 2 == 0});
        p.apply_traits(traits.as_object().expect("object"), t0, "i");
        let at = t0 + TimeDelta::seconds(i as i64);
        if scenario == "events" {
            let e = TraitEvent {
                name: Some("Order Completed".into()),
                timestamp: at,
                message_id: format!("m{i}"),
                properties: json!({"total": i % 500})
                    .as_object()
                    .expect("object")
                    .clone(),
            };
            engine.record_event(&p.id, &e);
        }
        engine.evaluate(&p, &computed, at);
    }
    let after = resident();
    let bytes = after.saturating_sub(before);
    println!(
        "{}",
        json!({
            "scenario": scenario,
            "profiles": n,
            "audiences": 50,
            "resident_growth_bytes": bytes,
            "bytes_per_profile": bytes as f64 / n as f64,
            "id_bytes_per_profile": "prof:00000000".len(),
            "membership_bits_bytes_per_profile": engine.membership_bytes_per_profile(),
            "history_transitions": engine.history_len(),
        })
    );
}
