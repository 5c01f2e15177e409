//! Bytes -> every configuration type of the three crates that has no target of
//! its own: `PacingConfig`, `AnomalyConfig`, `EvidenceConfig` and
//! `HysteresisConfig` (core), `IdentityConfig` and `ParseConfig` (cdp),
//! `NormalizerConfig` (connectors). Parsing never panics; a config that parses
//! round-trips through JSON unchanged and can be used (an anomaly config runs the
//! detectors on a fixed series; a normaliser config builds a normaliser).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig, IdentityGraph};
use stratum_cdp::message::ParseConfig;
use stratum_connectors::{Field, FieldValue, Normalizer, NormalizerConfig, Platform};
use stratum_core::analytics::anomaly::{AnomalyConfig, Point, detect};
use stratum_core::analytics::pacing::PacingConfig;
use stratum_core::from_json_slice;
use stratum_core::gate::{EvidenceConfig, HysteresisConfig};

/// A fixed 60-point series with a weekly pattern, a spike and a level shift.
static SERIES: LazyLock<Vec<Point>> = LazyLock::new(|| {
    let t0 = chrono::DateTime::from_timestamp(1_772_366_400, 0).unwrap_or_default();
    (0..60)
        .map(|i| Point {
            at: t0 + chrono::TimeDelta::days(i),
            value: 100.0
                + [0.0, 3.0, -2.0, 5.0, 1.0, -8.0, -6.0][i as usize % 7]
                + if i == 30 { 80.0 } else { 0.0 }
                + if i >= 45 { -40.0 } else { 0.0 },
        })
        .collect()
});

/// Parses `data` as `T`; when it parses, its JSON parses back to the same value.
fn round_trip<T>(data: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let v = from_json_slice::<T>(data).ok()?;
    let json = serde_json::to_vec(&v).expect("a parsed config serialises");
    let back = from_json_slice::<T>(&json);
    assert_eq!(
        back.as_ref().ok(),
        Some(&v),
        "{}",
        String::from_utf8_lossy(&json)
    );
    Some(v)
}

fuzz_target!(|data: &[u8]| {
    let _ = round_trip::<PacingConfig>(data);
    let _ = round_trip::<EvidenceConfig>(data);
    let _ = round_trip::<HysteresisConfig>(data);
    if let Some(c) = round_trip::<AnomalyConfig>(data)
        && let Ok(found) = detect(&SERIES, &c)
    {
        assert!(found.windows(2).all(|w| w[0].index <= w[1].index));
        assert!(found.iter().all(|a| a.index < SERIES.len()));
    }
    if let Some(c) = round_trip::<IdentityConfig>(data) {
        let mut g = IdentityGraph::new(c);
        let t = chrono::DateTime::from_timestamp(1_772_366_400, 0).unwrap_or_default();
        g.link(
            "m1",
            t,
            vec![
                Identifier::new(IdentifierKind::UserId, "u1"),
                Identifier::new(IdentifierKind::Email, "a@example.com"),
            ],
        );
    }
    let _ = round_trip::<ParseConfig>(data);
    if let Ok(c) = from_json_slice::<NormalizerConfig>(data)
        && let Ok(n) = Normalizer::new(c)
    {
        let _ = n.normalize(
            Platform::Meta,
            Field::Email,
            &FieldValue::Raw(" A@Example.com ".into()),
        );
    }
});
