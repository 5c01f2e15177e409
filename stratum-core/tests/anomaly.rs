#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Anomaly detectors: bad input, and precision / recall on labelled synthetic
//! series (the figures in `docs/anomaly.md`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use stratum_core::analytics::anomaly::*;

fn t(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap() + TimeDelta::days(i as i64)
}

struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Clean,
    Spikes,
    LevelShift,
    Drift,
}

const LEN: usize = 120;
const WEEK: [f64; 7] = [1.0, 1.05, 1.1, 1.08, 1.0, 0.8, 0.75];

/// A daily series around 1,000 with a weekly pattern (±20 %) and 3 % noise, plus the
/// labelled event. Returns the series and the labelled indices (for a drift, the
/// episode's first and last day).
fn series(kind: Kind, seed: u64) -> (Vec<Point>, Vec<usize>) {
    let mut rng = Lcg(seed);
    let mut labels = Vec::new();
    let mut x: Vec<f64> = (0..LEN)
        .map(|i| 1000.0 * WEEK[i % 7] * (1.0 + 0.03 * rng.normal()))
        .collect();
    match kind {
        Kind::Clean => {}
        Kind::Spikes => {
            while labels.len() < 4 {
                let i = 20 + (rng.uniform() * (LEN - 20) as f64) as usize;
                if labels.iter().all(|l: &usize| l.abs_diff(i) > 3) {
                    labels.push(i);
                }
            }
            labels.sort_unstable();
            for (k, i) in labels.iter().enumerate() {
                x[*i] *= if k % 2 == 0 { 1.4 } else { 0.6 };
            }
        }
        Kind::LevelShift => {
            labels.push(60);
            for v in &mut x[60..] {
                *v *= 0.7;
            }
        }
        Kind::Drift => {
            labels.extend([50, 100]);
            for (i, v) in x.iter_mut().enumerate().skip(50) {
                let f = ((i - 50) as f64 / 50.0).min(1.0);
                *v *= 1.0 - 0.25 * f;
            }
        }
    }
    (
        x.into_iter()
            .enumerate()
            .map(|(i, value)| Point { at: t(i), value })
            .collect(),
        labels,
    )
}

/// (true positives among alerts, alerts, labels found, labels).
fn score(kind: Kind, alerts: &[usize], labels: &[usize]) -> (usize, usize, usize, usize) {
    match kind {
        Kind::Clean => (0, alerts.len(), 0, 0),
        Kind::Spikes => {
            let tp = alerts.iter().filter(|a| labels.contains(a)).count();
            let found = labels.iter().filter(|l| alerts.contains(l)).count();
            (tp, alerts.len(), found, labels.len())
        }
        Kind::LevelShift => {
            let near = |a: &usize| a.abs_diff(labels[0]) <= 3;
            let tp = alerts.iter().filter(|a| near(a)).count();
            (tp, alerts.len(), usize::from(tp > 0), 1)
        }
        Kind::Drift => {
            let inside = |a: &&usize| **a >= labels[0];
            let tp = alerts.iter().filter(inside).count();
            (tp, alerts.len(), usize::from(tp > 0), 1)
        }
    }
}

const SEEDS: u64 = 30;

/// Precision and recall of `detector` on `kind` over [`SEEDS`] series (precision is
/// 1 when nothing alerted; clean series count false alerts per series instead).
fn evaluate(detector: Detector, kind: Kind) -> (f64, f64) {
    let cfg = AnomalyConfig::default();
    let (mut tp, mut alerts, mut found, mut labels) = (0, 0, 0, 0);
    for seed in 0..SEEDS {
        let (s, l) = series(kind, seed * 7919 + 13);
        let a: Vec<usize> = detect_with(&s, &cfg, detector)
            .unwrap()
            .iter()
            .map(|a| a.index)
            .collect();
        let (x, y, z, w) = score(kind, &a, &l);
        tp += x;
        alerts += y;
        found += z;
        labels += w;
    }
    if kind == Kind::Clean {
        return (alerts as f64 / SEEDS as f64, 0.0);
    }
    let precision = if alerts == 0 {
        1.0
    } else {
        tp as f64 / alerts as f64
    };
    (precision, found as f64 / labels as f64)
}

/// The table in `docs/anomaly.md` is exactly what this evaluation measures.
#[test]
fn evaluation_table_matches_the_docs() {
    let docs = include_str!("../../docs/anomaly.md");
    let detectors = [
        (Detector::RobustZ, "robust_z"),
        (Detector::Ewma, "ewma"),
        (Detector::Cusum, "cusum"),
        (Detector::SeasonalEsd, "seasonal_esd"),
        (Detector::LevelShift, "level_shift"),
    ];
    for (d, name) in detectors {
        let mut row = format!("| `{name}` |");
        for kind in [Kind::Spikes, Kind::LevelShift, Kind::Drift] {
            let (p, r) = evaluate(d, kind);
            row.push_str(&format!(" {p:.2} / {r:.2} |"));
        }
        let (false_alerts, _) = evaluate(d, Kind::Clean);
        row.push_str(&format!(" {false_alerts:.2} |"));
        assert!(
            docs.contains(&row),
            "docs/anomaly.md lacks the measured row\n{row}"
        );
    }
    // The detectors made for each event find it.
    assert!(evaluate(Detector::SeasonalEsd, Kind::Spikes).1 >= 0.95);
    assert!(evaluate(Detector::LevelShift, Kind::LevelShift).1 >= 0.95);
    assert!(evaluate(Detector::Ewma, Kind::Drift).1 >= 0.9);
}

#[test]
fn bad_input_is_typed() {
    let cfg = AnomalyConfig::default();
    let (s, _) = series(Kind::Clean, 1);
    assert_eq!(detect(&[], &cfg).unwrap_err().field(), Some("series"));
    assert_eq!(
        detect(&s[..10], &cfg).unwrap_err().code(),
        "invalid_observation"
    );
    let mut nan = s.clone();
    nan[20].value = f64::NAN;
    assert_eq!(
        detect(&nan, &cfg).unwrap_err().field(),
        Some("series[20].value")
    );
    let mut unsorted = s.clone();
    unsorted.swap(30, 31);
    assert_eq!(
        detect(&unsorted, &cfg).unwrap_err().field(),
        Some("series[31].at")
    );
    let mut dup = s.clone();
    dup[41].at = dup[40].at;
    assert_eq!(
        detect(&dup, &cfg).unwrap_err().field(),
        Some("series[41].at")
    );
    let bad = AnomalyConfig {
        ewma_lambda: 0.0,
        ..AnomalyConfig::default()
    };
    assert_eq!(
        detect(&s, &bad).unwrap_err().field(),
        Some("anomaly.ewma_lambda")
    );
    let bad = AnomalyConfig {
        min_history: 2,
        ..AnomalyConfig::default()
    };
    assert_eq!(detect(&s, &bad).unwrap_err().code(), "invalid_config");
    // A constant series never alerts and never divides by zero.
    let flat: Vec<Point> = (0..40)
        .map(|i| Point {
            at: t(i),
            value: 5.0,
        })
        .collect();
    assert!(detect(&flat, &cfg).unwrap().is_empty());
}

#[test]
fn absolute_floor_silences_tiny_changes() {
    // 100 → 101 is a huge z-score on a flat series but only 1 unit.
    let mut x: Vec<Point> = (0..40)
        .map(|i| Point {
            at: t(i),
            value: 100.0 + 0.01 * (i % 2) as f64,
        })
        .collect();
    x[30].value = 101.0;
    let cfg = AnomalyConfig::default();
    assert!(
        detect_with(&x, &cfg, Detector::RobustZ)
            .unwrap()
            .iter()
            .any(|a| a.index == 30)
    );
    let floored = AnomalyConfig {
        absolute_floor: 5.0,
        ..cfg
    };
    assert!(detect(&x, &floored).unwrap().is_empty());
}

/// Running robust z-scores day by day over a level-shift series opens an incident at
/// the shift and closes it once the window has adapted; the open incident lowers the
/// `platform_stability` component of health.
#[test]
fn incidents_open_close_and_feed_health() {
    use stratum_core::analytics::incidents::{IncidentEvent, IncidentTracker};
    use stratum_core::health::{Component, HealthConfig, Scope, Signals};

    let (s, _) = series(Kind::LevelShift, 13);
    let cfg = AnomalyConfig::default();
    let mut tracker = IncidentTracker::new(3).unwrap();
    let mut events = Vec::new();
    let mut open_at_61 = 0;
    for len in cfg.min_history..=s.len() {
        let found = detect_with(&s[..len], &cfg, Detector::RobustZ).unwrap();
        events.extend(tracker.observe_series("meta/purchases", &found, len, s[len - 1].at));
        if len == 62 {
            open_at_61 = tracker.open().count();
        }
    }
    let opened: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, IncidentEvent::Opened { .. }))
        .collect();
    assert!(!opened.is_empty());
    assert!(
        matches!(opened[0], IncidentEvent::Opened { at, .. } if *at >= s[60].at && *at <= s[63].at),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, IncidentEvent::Closed { .. }))
    );
    assert_eq!(open_at_61, 1);

    let at = s[61].at;
    let score = |incidents: u32| {
        let mut sig = Signals::new(Scope::tenant("acme"));
        let mut obs = IncidentTracker::new(1)
            .unwrap()
            .stability(at, vec![0.01, 0.01, 0.01]);
        obs.incidents = incidents;
        sig.stability = Some(obs);
        let r = HealthConfig::default().score(&sig, at).unwrap();
        r.component(Component::PlatformStability)
            .unwrap()
            .score
            .unwrap()
    };
    assert!(score(1) < score(0), "{} vs {}", score(1), score(0));
}
