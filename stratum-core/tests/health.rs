//! Component calculators, missing data, explanations, and the JSON shown in docs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeDelta;
use common::*;
use stratum_core::digest::Digest;
use stratum_core::gate::TrustGateConfig;
use stratum_core::health::*;
use stratum_core::{Result, from_json};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn component(r: &HealthReport, c: Component) -> &ComponentScore {
    r.components
        .iter()
        .find(|s| s.component == c)
        .unwrap_or_else(|| panic!("component {c} listed"))
}

#[test]
fn api_penalties_are_capped() -> Result<()> {
    let mut s = healthy(t0());
    if let Some(a) = &mut s.api {
        a.p95_latency_ms = 10_000.0; // 10× the SLO: penalty capped at 20
        a.bursts = 9; // 45 uncapped, capped at 20
        a.succeeded = 950;
        a.server_errors = 50;
    }
    let r = HealthConfig::default().score(&s, t0())?;
    let api = component(&r, Component::ApiHealth);
    assert!(close(api.score.unwrap_or(-1.0), 95.0 - 20.0 - 20.0));
    assert!(close(api.raw.unwrap_or(-1.0), 0.95));
    assert_eq!(api.notes.len(), 3);
    Ok(())
}

#[test]
fn call_log_feeds_the_score() -> Result<()> {
    let mut log = ApiCallLog::new(TimeDelta::seconds(60), 5)?;
    for i in 0..100i64 {
        let status = if (40..46).contains(&i) { 429 } else { 200 };
        log.record(ApiCall {
            at: t0() - TimeDelta::seconds(200 - i),
            status,
            latency_ms: if i < 90 { 100.0 } else { 2_000.0 },
        })?;
    }
    let obs = log.observation(t0());
    assert_eq!(
        (obs.total, obs.succeeded, obs.rate_limited, obs.bursts),
        (100, 94, 6, 1)
    );
    // Ten slow calls of 100: p95 is the 95th value, 2000 ms.
    assert!(close(obs.p95_latency_ms, 2_000.0));
    let mut s = Signals::new(scope());
    s.api = Some(obs);
    let r = HealthConfig::default().score(&s, t0())?;
    // 94 − 20 (2× SLO) − 5 (one burst)
    assert!(close(
        component(&r, Component::ApiHealth).score.unwrap_or(-1.0),
        69.0
    ));
    assert!(ApiCallLog::new(TimeDelta::zero(), 5).is_err());
    assert!(ApiCallLog::new(TimeDelta::seconds(1), 0).is_err());
    let err = log
        .record(ApiCall {
            at: t0(),
            status: 200,
            latency_ms: f64::NAN,
        })
        .unwrap_err();
    assert_eq!(err.code(), "invalid_observation");
    Ok(())
}

#[test]
fn events_deduplicate_and_never_exceed_100() -> Result<()> {
    let mut s = healthy(t0());
    s.events = Some(EventObservation {
        observed_at: t0(),
        sent: 1_200,
        confirmed: 1_500,
        duplicates: 200,
    });
    let r = HealthConfig::default().score(&s, t0())?;
    let ev = component(&r, Component::EventLoss);
    assert!(close(ev.score.unwrap_or(-1.0), 100.0));
    assert_eq!(ev.samples, 1_000);
    assert!(
        ev.notes
            .iter()
            .any(|n| matches!(n, Note::ConfirmedExceedsSent { .. }))
    );
    Ok(())
}

#[test]
fn missing_reasons_are_specific() -> Result<()> {
    let mut s = healthy(t0());
    s.emq = None;
    if let Some(a) = &mut s.api {
        a.observed_at = t0() - TimeDelta::hours(30);
    }
    if let Some(d) = &mut s.data_quality {
        d.total = 10;
        d.valid = 10;
    }
    let r = HealthConfig::default().score(&s, t0())?;
    assert_eq!(
        r.missing,
        vec![Component::Emq, Component::ApiHealth, Component::DataQuality]
    );
    assert_eq!(
        component(&r, Component::Emq).missing,
        Some(MissingReason::NotObserved)
    );
    assert_eq!(
        component(&r, Component::ApiHealth).missing,
        Some(MissingReason::Stale {
            age_secs: 30 * 3600,
            max_age_secs: 24 * 3600
        })
    );
    assert_eq!(
        component(&r, Component::DataQuality).missing,
        Some(MissingReason::TooFewSamples {
            samples: 10,
            required: 50
        })
    );
    // Present: events 20 + stability 10 (σ = 0 with constant rates).
    assert!(close(r.score, 30.0));
    assert!(close(r.present_weight, 0.30));
    let text = r.explain();
    assert!(
        text.contains("api_health         missing (observation is 108000s old"),
        "{text}"
    );
    Ok(())
}

#[test]
fn renormalising_with_nothing_present_scores_zero() -> Result<()> {
    let cfg = HealthConfig::builder()
        .missing(MissingPolicy::Renormalize)
        .build()?;
    let r = cfg.score(&Signals::new(scope()), t0())?;
    assert!(close(r.score, 0.0));
    assert_eq!(r.status, HealthStatus::Unhealthy);
    assert_eq!(r.as_of, None);
    Ok(())
}

#[test]
fn thresholds_are_inclusive() -> Result<()> {
    let cfg = HealthConfig::default();
    assert_eq!(cfg.status_of(70.0), HealthStatus::Healthy);
    assert_eq!(cfg.status_of(69.999), HealthStatus::Degraded);
    assert_eq!(cfg.status_of(40.0), HealthStatus::Degraded);
    assert_eq!(cfg.status_of(39.999), HealthStatus::Unhealthy);
    assert_eq!(cfg.status_of(f64::NAN), HealthStatus::Unhealthy);
    Ok(())
}

/// The canonical encoding against bytes and hashes derived independently with
/// Python's `struct` and `hashlib` (see docs/audit.md for the rules).
#[test]
fn canonical_encoding_golden_vectors() -> Result<()> {
    let obs = EmqObservation {
        observed_at: t0(),
        score: 8.0,
        events: 1_000,
    };
    // 00 | zigzag varint 1772442000 = a0c6aa9a0d, nanos 00 | 01 | 8.0 LE | 02 | e807 | ff
    assert_eq!(
        Digest::of(&obs)?.to_hex(),
        "fc2143a3de1e49a208fbc59ab3bb174aecc6ffe90d6f049e1efcc09b9cc5e0fb"
    );
    let anchor = stratum_core::audit::Anchor {
        len: 3,
        head: Digest::ZERO,
    };
    // 00 03 | 01 20 <32 zero bytes> | ff
    assert_eq!(
        Digest::of(&anchor)?.to_hex(),
        "dc817085f0d841decdab566b862248b2b27328e15a92d12cb16b88a0c6adef2c"
    );
    Ok(())
}

/// Every JSON config shown in the guides parses and validates.
#[test]
fn json_in_docs_is_valid() -> Result<()> {
    fn json_blocks(md: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<String> = None;
        for line in md.lines() {
            match (&mut cur, line.trim_start()) {
                (None, l) if l.starts_with("```json") => cur = Some(String::new()),
                (Some(b), l) if l.starts_with("```") => {
                    out.push(std::mem::take(b));
                    cur = None;
                }
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
        out
    }
    let health = json_blocks(include_str!("../../docs/health.md"));
    assert_eq!(health.len(), 1);
    let cfg: HealthConfig = from_json(&health[0])?;
    assert_eq!(
        cfg,
        HealthConfig::default(),
        "the documented defaults are the defaults"
    );
    let gate = json_blocks(include_str!("../../docs/trust-gate.md"));
    assert_eq!(gate.len(), 1);
    let cfg: TrustGateConfig = from_json(&gate[0])?;
    assert!(close(cfg.health().thresholds().healthy, 75.0));
    assert_eq!(cfg.overrides().allowed_roles.len(), 2);
    Ok(())
}
