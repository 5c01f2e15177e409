//! Anomalies feeding health: incidents (audited) into `platform_stability`, flagged
//! event volume into `data_quality`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeDelta, TimeZone, Utc};
use stratum_core::analytics::anomaly::{Anomaly, AnomalySeverity, Detector};
use stratum_core::analytics::incidents::{IncidentEvent, IncidentTracker, data_quality};
use stratum_core::audit::{AuditEvent, AuditLog, verify_chain};
use stratum_core::health::{Component, HealthConfig, Scope, Signals};

fn anomaly(index: usize) -> Anomaly {
    Anomaly {
        index,
        at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + TimeDelta::days(index as i64),
        value: 10.0,
        expected: 100.0,
        detector: Detector::RobustZ,
        score: -9.0,
        severity: AnomalySeverity::High,
        explanation: "volume collapsed".into(),
    }
}

#[test]
fn flagged_volume_lowers_data_quality() {
    let at = Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).unwrap();
    let counts = [1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 100, 1_000];
    // Point 6 is anomalous; an index past the series is ignored.
    let dq = data_quality(&counts, &[anomaly(6), anomaly(99)], at);
    assert_eq!((dq.total, dq.valid, dq.stale), (7_100, 7_000, 0));
    let mut s = Signals::new(Scope::tenant("acme"));
    s.data_quality = Some(dq);
    let r = HealthConfig::default().score(&s, at).unwrap();
    // 100 × 7000 / 7100
    let q = r.component(Component::DataQuality).unwrap().score.unwrap();
    assert!((q - 100.0 * 7_000.0 / 7_100.0).abs() < 1e-9);
    // No anomalies: everything counts as valid.
    let clean = data_quality(&counts, &[], at);
    assert_eq!(clean.valid, clean.total);
}

#[test]
fn incident_events_are_audited() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let mut t = IncidentTracker::new(1).unwrap();
    let mut audit = AuditLog::in_memory();
    let opened = t
        .observe_audited("meta/purchases", true, at, &mut audit)
        .unwrap();
    assert!(matches!(opened.as_slice(), [IncidentEvent::Opened { .. }]));
    assert!(
        t.observe_audited("meta/purchases", true, at, &mut audit)
            .unwrap()
            .is_empty()
    );
    let later = at + TimeDelta::hours(1);
    let closed = t
        .observe_audited("meta/purchases", false, later, &mut audit)
        .unwrap();
    assert!(matches!(closed.as_slice(), [IncidentEvent::Closed { .. }]));
    let records = audit.records().unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        matches!(&records[0].event, AuditEvent::Incident(IncidentEvent::Opened { metric, .. }) if metric == "meta/purchases")
    );
    assert_eq!(verify_chain(&records).unwrap(), audit.anchor());
    // Stability sees no open incident now.
    assert_eq!(t.stability(later, vec![0.01; 3]).incidents, 0);
}
