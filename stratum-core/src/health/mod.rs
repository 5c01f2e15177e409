//! Signal health: from raw observations per scope to a 0..100 score with a status
//! and an explanation for every component.
//!
//! The formulas are documented, with a worked example that is tested, in
//! `docs/health.md`.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use stratum_core::health::*;
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let mut signals = Signals::new(Scope::tenant("acme").platform("meta"));
//! signals.emq = Some(EmqObservation { observed_at: now, score: 8.0, events: 1_000 });
//! let report = HealthConfig::default().score(&signals, now)?;
//! // Only EMQ is present; the four missing components score 0 by default.
//! assert!((report.score - 28.0).abs() < 1e-9);
//! assert_eq!(report.status, HealthStatus::Unhealthy);
//! assert_eq!(report.missing.len(), 4);
//! # Ok::<(), stratum_core::Error>(())
//! ```

mod config;
mod report;
mod signals;

use chrono::{DateTime, TimeDelta, Utc};

pub use config::{
    ApiScoring, Component, HealthConfig, HealthConfigBuilder, MinSamples, MissingPolicy,
    StabilityScoring, Thresholds, Weights,
};
pub use report::{ComponentScore, HealthReport, HealthStatus, MissingReason, Note};
pub use signals::{
    ApiCall, ApiCallLog, ApiObservation, DataQualityObservation, EmqObservation, EventObservation,
    Scope, Signals, StabilityObservation,
};

use crate::error::{Error, Result};

/// How far in the future an observation may be stamped (clock skew) before it is
/// rejected.
pub const MAX_FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Evaluation time with its freshness bounds, computed once per scoring.
struct Clock {
    now: DateTime<Utc>,
    /// Observations after this are rejected (clock skew).
    future_limit: Option<DateTime<Utc>>,
    /// Observations before this are stale.
    stale_before: Option<DateTime<Utc>>,
}

/// Health facts the gate needs, without the explanation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts {
    pub(crate) score: f64,
    pub(crate) present_weight: f64,
    pub(crate) as_of: Option<DateTime<Utc>>,
}

/// One component's computed value before weighting.
struct Computed {
    raw: f64,
    score: f64,
    samples: u64,
    observed_at: DateTime<Utc>,
    notes: Vec<Note>,
}

enum Outcome {
    Present(Computed),
    Missing {
        reason: MissingReason,
        samples: u64,
        observed_at: Option<DateTime<Utc>>,
    },
}

impl HealthConfig {
    /// Scores `signals` as of `now`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] when an observation is malformed or stamped more
    /// than [`MAX_FUTURE_SKEW`] after `now`.
    pub fn score(&self, signals: &Signals, now: DateTime<Utc>) -> Result<HealthReport> {
        let outcomes = self.outcomes(signals, now, true)?;
        Ok(self.report(signals, now, outcomes))
    }

    /// [`HealthConfig::score`] without the per-component notes (the gate's
    /// decisions do not carry them): the same numbers, fewer allocations.
    pub(crate) fn score_unexplained(
        &self,
        signals: &Signals,
        now: DateTime<Utc>,
    ) -> Result<HealthReport> {
        let outcomes = self.outcomes(signals, now, false)?;
        Ok(self.report(signals, now, outcomes))
    }

    /// Score, present weight and reading time without the explanation (no
    /// allocation); the same arithmetic as [`HealthConfig::score`].
    pub(crate) fn score_facts(&self, signals: &Signals, now: DateTime<Utc>) -> Result<Facts> {
        let outcomes = self.outcomes(signals, now, false)?;
        let weights = self.weights();
        let mut present_weight = 0.0;
        let mut as_of = None;
        for (c, o) in Component::ALL.iter().zip(&outcomes) {
            if let Outcome::Present(v) = o {
                present_weight += weights.get(*c);
                as_of = as_of.max(Some(v.observed_at));
            }
        }
        let scale = self.scale(present_weight);
        let mut total = 0.0;
        for (c, o) in Component::ALL.iter().zip(&outcomes) {
            if let Outcome::Present(v) = o {
                total += weights.get(*c) * scale * v.score;
            }
        }
        Ok(Facts {
            score: total.clamp(0.0, 100.0),
            present_weight,
            as_of,
        })
    }

    fn scale(&self, present_weight: f64) -> f64 {
        match self.missing() {
            MissingPolicy::ScoreZero => 1.0,
            MissingPolicy::Renormalize if present_weight > 0.0 => 1.0 / present_weight,
            MissingPolicy::Renormalize => 0.0,
        }
    }

    fn outcomes(
        &self,
        signals: &Signals,
        now: DateTime<Utc>,
        with_notes: bool,
    ) -> Result<[Outcome; 5]> {
        signals.validate()?;
        let clock = Clock {
            now,
            future_limit: now.checked_add_signed(MAX_FUTURE_SKEW),
            stale_before: now.checked_sub_signed(self.max_signal_age()),
        };
        Ok([
            self.emq(signals, &clock, with_notes)?,
            self.api_health(signals, &clock, with_notes)?,
            self.event_loss(signals, &clock, with_notes)?,
            self.platform_stability(signals, &clock, with_notes)?,
            self.data_quality(signals, &clock, with_notes)?,
        ])
    }

    fn report(
        &self,
        signals: &Signals,
        now: DateTime<Utc>,
        outcomes: [Outcome; 5],
    ) -> HealthReport {
        let weights = self.weights();
        let present_weight: f64 = Component::ALL
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Outcome::Present(_)))
            .map(|(c, _)| weights.get(*c))
            .sum();
        let scale = self.scale(present_weight);

        let mut components = Vec::with_capacity(5);
        let mut missing = Vec::new();
        let mut total = 0.0;
        let mut as_of: Option<DateTime<Utc>> = None;
        for (c, o) in Component::ALL.into_iter().zip(outcomes) {
            let weight = weights.get(c);
            match o {
                Outcome::Present(v) => {
                    let effective_weight = weight * scale;
                    let contribution = effective_weight * v.score;
                    total += contribution;
                    as_of = as_of.max(Some(v.observed_at));
                    components.push(ComponentScore {
                        component: c,
                        raw: Some(v.raw),
                        score: Some(v.score),
                        weight,
                        effective_weight,
                        contribution,
                        samples: v.samples,
                        observed_at: Some(v.observed_at),
                        missing: None,
                        notes: v.notes,
                    });
                }
                Outcome::Missing {
                    reason,
                    samples,
                    observed_at,
                } => {
                    missing.push(c);
                    components.push(ComponentScore {
                        component: c,
                        raw: None,
                        score: None,
                        weight,
                        effective_weight: match self.missing() {
                            MissingPolicy::ScoreZero => weight,
                            MissingPolicy::Renormalize => 0.0,
                        },
                        contribution: 0.0,
                        samples,
                        observed_at,
                        missing: Some(reason),
                        notes: Vec::new(),
                    });
                }
            }
        }
        let score = total.clamp(0.0, 100.0);
        HealthReport {
            scope: signals.scope.clone(),
            computed_at: now,
            as_of,
            score,
            status: self.status_of(score),
            policy: self.missing(),
            present_weight,
            components,
            missing,
            config_hash: self.hash(),
        }
    }

    /// Status of a score under this config's thresholds.
    #[must_use]
    pub fn status_of(&self, score: f64) -> HealthStatus {
        let t = self.thresholds();
        // NaN never reaches here from `score`, but a hand-built report could carry
        // one: it compares false everywhere and lands on Unhealthy.
        if score >= t.healthy {
            HealthStatus::Healthy
        } else if score >= t.degraded {
            HealthStatus::Degraded
        } else {
            HealthStatus::Unhealthy
        }
    }

    /// Freshness check shared by all components.
    fn fresh(
        &self,
        field: &str,
        observed_at: DateTime<Utc>,
        clock: &Clock,
        samples: u64,
    ) -> Result<Option<Outcome>> {
        if clock.future_limit.is_some_and(|limit| observed_at > limit) {
            return Err(Error::observation(
                format!("{field}.observed_at"),
                format!(
                    "is {observed_at}, more than {} minutes after the evaluation time {}",
                    MAX_FUTURE_SKEW.num_minutes(),
                    clock.now
                ),
            ));
        }
        if clock.stale_before.is_some_and(|t| observed_at < t) {
            return Ok(Some(Outcome::Missing {
                reason: MissingReason::Stale {
                    age_secs: (clock.now - observed_at).num_seconds(),
                    max_age_secs: self.max_signal_age().num_seconds(),
                },
                samples,
                observed_at: Some(observed_at),
            }));
        }
        Ok(None)
    }

    fn too_few(samples: u64, required: u64, observed_at: DateTime<Utc>) -> Option<Outcome> {
        (samples < required).then_some(Outcome::Missing {
            reason: MissingReason::TooFewSamples { samples, required },
            samples,
            observed_at: Some(observed_at),
        })
    }

    fn emq(&self, s: &Signals, clock: &Clock, with_notes: bool) -> Result<Outcome> {
        let Some(o) = &s.emq else {
            return Ok(not_observed());
        };
        if let Some(m) = self.fresh("emq", o.observed_at, clock, o.events)? {
            return Ok(m);
        }
        if let Some(m) = Self::too_few(o.events, self.min_samples().emq_events, o.observed_at) {
            return Ok(m);
        }
        Ok(Outcome::Present(Computed {
            raw: o.score,
            score: (o.score * 10.0).clamp(0.0, 100.0),
            samples: o.events,
            observed_at: o.observed_at,
            notes: if with_notes {
                vec![Note::Emq { emq: o.score }]
            } else {
                Vec::new()
            },
        }))
    }

    fn api_health(&self, s: &Signals, clock: &Clock, with_notes: bool) -> Result<Outcome> {
        let Some(o) = &s.api else {
            return Ok(not_observed());
        };
        if let Some(m) = self.fresh("api", o.observed_at, clock, o.total)? {
            return Ok(m);
        }
        let cfg = self.api();
        if let Some(m) = Self::too_few(o.total, cfg.min_calls.max(1), o.observed_at) {
            return Ok(m);
        }
        let success = o.succeeded as f64 / o.total as f64;
        let mut notes = Vec::new();
        if with_notes {
            notes.push(Note::ApiSuccess {
                succeeded: o.succeeded,
                total: o.total,
            });
        }
        let latency_penalty = if o.p95_latency_ms > cfg.latency_slo_ms {
            let p = (cfg.latency_penalty_max * (o.p95_latency_ms / cfg.latency_slo_ms - 1.0))
                .min(cfg.latency_penalty_max);
            if with_notes {
                notes.push(Note::LatencyOverSlo {
                    p95_ms: o.p95_latency_ms,
                    slo_ms: cfg.latency_slo_ms,
                    penalty: p,
                });
            }
            p
        } else {
            0.0
        };
        let burst_penalty = (cfg.burst_penalty * f64::from(o.bursts)).min(cfg.burst_penalty_max);
        if with_notes && o.bursts > 0 {
            notes.push(Note::ErrorBursts {
                bursts: o.bursts,
                rate_limited: o.rate_limited,
                server_errors: o.server_errors,
                penalty: burst_penalty,
            });
        }
        Ok(Outcome::Present(Computed {
            raw: success,
            score: (100.0 * success - latency_penalty - burst_penalty).clamp(0.0, 100.0),
            samples: o.total,
            observed_at: o.observed_at,
            notes,
        }))
    }

    fn event_loss(&self, s: &Signals, clock: &Clock, with_notes: bool) -> Result<Outcome> {
        let Some(o) = &s.events else {
            return Ok(not_observed());
        };
        let unique = o.sent - o.duplicates;
        if let Some(m) = self.fresh("events", o.observed_at, clock, unique)? {
            return Ok(m);
        }
        let required = self.min_samples().events_sent.max(1);
        if let Some(m) = Self::too_few(unique, required, o.observed_at) {
            return Ok(m);
        }
        let confirmed = o.confirmed.min(unique);
        let loss = 1.0 - confirmed as f64 / unique as f64;
        let mut notes = Vec::new();
        if with_notes {
            notes.push(Note::EventLoss {
                unique_sent: unique,
                confirmed,
                duplicates: o.duplicates,
                loss,
            });
        }
        if with_notes && o.confirmed > unique {
            notes.push(Note::ConfirmedExceedsSent {
                confirmed: o.confirmed,
                unique_sent: unique,
            });
        }
        Ok(Outcome::Present(Computed {
            raw: loss,
            score: (100.0 * (1.0 - loss)).clamp(0.0, 100.0),
            samples: unique,
            observed_at: o.observed_at,
            notes,
        }))
    }

    fn platform_stability(&self, s: &Signals, clock: &Clock, with_notes: bool) -> Result<Outcome> {
        let Some(o) = &s.stability else {
            return Ok(not_observed());
        };
        let n = o.error_rates.len() as u64;
        if let Some(m) = self.fresh("stability", o.observed_at, clock, n)? {
            return Ok(m);
        }
        let cfg = self.stability();
        if let Some(m) = Self::too_few(n, cfg.min_samples.max(1), o.observed_at) {
            return Ok(m);
        }
        let stddev_pp = 100.0 * population_stddev(&o.error_rates);
        let incident_penalty = cfg.incident_penalty * f64::from(o.incidents);
        let volatility_penalty =
            (cfg.volatility_penalty * stddev_pp).min(cfg.volatility_penalty_max);
        let mut notes = Vec::new();
        if with_notes {
            if o.incidents > 0 {
                notes.push(Note::Incidents {
                    count: o.incidents,
                    penalty: incident_penalty.min(100.0),
                });
            }
            notes.push(Note::ErrorRateVolatility {
                stddev_pp,
                penalty: volatility_penalty,
            });
        }
        Ok(Outcome::Present(Computed {
            raw: stddev_pp,
            score: (100.0 - incident_penalty - volatility_penalty).clamp(0.0, 100.0),
            samples: n,
            observed_at: o.observed_at,
            notes,
        }))
    }

    fn data_quality(&self, s: &Signals, clock: &Clock, with_notes: bool) -> Result<Outcome> {
        let Some(o) = &s.data_quality else {
            return Ok(not_observed());
        };
        if let Some(m) = self.fresh("data_quality", o.observed_at, clock, o.total)? {
            return Ok(m);
        }
        let required = self.min_samples().quality_events.max(1);
        if let Some(m) = Self::too_few(o.total, required, o.observed_at) {
            return Ok(m);
        }
        let usable = (o.valid - o.stale) as f64 / o.total as f64;
        Ok(Outcome::Present(Computed {
            raw: usable,
            score: (100.0 * usable).clamp(0.0, 100.0),
            samples: o.total,
            observed_at: o.observed_at,
            notes: if with_notes {
                vec![Note::Quality {
                    total: o.total,
                    valid: o.valid,
                    stale: o.stale,
                }]
            } else {
                Vec::new()
            },
        }))
    }
}

fn not_observed() -> Outcome {
    Outcome::Missing {
        reason: MissingReason::NotObserved,
        samples: 0,
        observed_at: None,
    }
}

/// Population standard deviation (two-pass, numerically stable for shares).
fn population_stddev(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    var.max(0.0).sqrt()
}
