//! The health report: score, status and an explanation per component.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::{Component, MissingPolicy};
use super::signals::Scope;

/// Health status derived from the score and the thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Score at or above the healthy threshold.
    Healthy,
    /// Score at or above the degraded threshold, below healthy.
    Degraded,
    /// Score below the degraded threshold.
    Unhealthy,
}

impl std::fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unhealthy => "Unhealthy",
        })
    }
}

/// Why a component did not count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum MissingReason {
    /// No observation was supplied.
    NotObserved,
    /// The newest observation is older than `max_signal_age`.
    Stale {
        /// Age of the observation in seconds.
        age_secs: i64,
        /// Configured maximum age in seconds.
        max_age_secs: i64,
    },
    /// Too few samples to judge (e.g. 3 API calls).
    TooFewSamples {
        /// Samples observed.
        samples: u64,
        /// Samples required.
        required: u64,
    },
}

impl std::fmt::Display for MissingReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissingReason::NotObserved => f.write_str("no observation"),
            MissingReason::Stale {
                age_secs,
                max_age_secs,
            } => write!(
                f,
                "observation is {}s old, older than the {}s limit",
                age_secs, max_age_secs
            ),
            MissingReason::TooFewSamples { samples, required } => {
                write!(f, "{samples} samples, {required} required")
            }
        }
    }
}

/// A fact that explains a component's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// EMQ on its 0..10 scale.
    Emq {
        /// The EMQ value.
        emq: f64,
    },
    /// Share of API calls that succeeded.
    ApiSuccess {
        /// Successful calls.
        succeeded: u64,
        /// All calls.
        total: u64,
    },
    /// p95 latency above the SLO.
    LatencyOverSlo {
        /// Observed p95 latency (ms).
        p95_ms: f64,
        /// Configured SLO (ms).
        slo_ms: f64,
        /// Points removed.
        penalty: f64,
    },
    /// Bursts of 429/5xx responses.
    ErrorBursts {
        /// Number of bursts.
        bursts: u32,
        /// 429 responses.
        rate_limited: u64,
        /// 5xx responses.
        server_errors: u64,
        /// Points removed.
        penalty: f64,
    },
    /// Events lost between sending and platform confirmation.
    EventLoss {
        /// Unique events sent (after de-duplication).
        unique_sent: u64,
        /// Events the platform confirmed (capped at `unique_sent`).
        confirmed: u64,
        /// Duplicates removed.
        duplicates: u64,
        /// Loss share 0..=1.
        loss: f64,
    },
    /// The platform confirmed more events than were sent after de-duplication.
    ConfirmedExceedsSent {
        /// Confirmed count reported.
        confirmed: u64,
        /// Unique events sent.
        unique_sent: u64,
    },
    /// Platform incidents in the window.
    Incidents {
        /// Incident count.
        count: u32,
        /// Points removed.
        penalty: f64,
    },
    /// Volatility of the error rate over the window.
    ErrorRateVolatility {
        /// Standard deviation in percentage points.
        stddev_pp: f64,
        /// Points removed.
        penalty: f64,
    },
    /// Events that passed validation and arrived fresh.
    Quality {
        /// Events checked.
        total: u64,
        /// Events valid.
        valid: u64,
        /// Valid events that arrived stale.
        stale: u64,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Emq { emq } => write!(f, "EMQ {emq:.1}/10"),
            Note::ApiSuccess { succeeded, total } => write!(
                f,
                "{succeeded} of {total} API calls succeeded ({:.1}%)",
                pct(*succeeded, *total)
            ),
            Note::LatencyOverSlo {
                p95_ms,
                slo_ms,
                penalty,
            } => write!(
                f,
                "p95 latency {p95_ms:.0} ms is over the {slo_ms:.0} ms SLO (-{penalty:.1})"
            ),
            Note::ErrorBursts {
                bursts,
                rate_limited,
                server_errors,
                penalty,
            } => write!(
                f,
                "{bursts} error burst(s): {rate_limited} rate-limited (429), {server_errors} server errors (5xx) (-{penalty:.1})"
            ),
            Note::EventLoss {
                unique_sent,
                confirmed,
                duplicates,
                loss,
            } => write!(
                f,
                "{confirmed} of {unique_sent} unique events confirmed ({duplicates} duplicates removed): {:.1}% lost",
                loss * 100.0
            ),
            Note::ConfirmedExceedsSent {
                confirmed,
                unique_sent,
            } => write!(
                f,
                "platform confirmed {confirmed} events but only {unique_sent} unique events were sent; loss counted as 0"
            ),
            Note::Incidents { count, penalty } => {
                write!(f, "{count} platform incident(s) (-{penalty:.1})")
            }
            Note::ErrorRateVolatility { stddev_pp, penalty } => write!(
                f,
                "error rate varies by {stddev_pp:.2} percentage points (std dev) (-{penalty:.1})"
            ),
            Note::Quality {
                total,
                valid,
                stale,
            } => write!(
                f,
                "{valid} of {total} events valid, {stale} of them stale: {:.1}% usable",
                pct(valid.saturating_sub(*stale), *total)
            ),
        }
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

/// One component's part of the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentScore {
    /// Which component.
    pub component: Component,
    /// Raw value in the component's natural unit (EMQ 0..10, API success share,
    /// event loss share, error-rate std dev in points, usable-event share); `None`
    /// when missing.
    pub raw: Option<f64>,
    /// The component's 0..100 score; `None` when missing.
    pub score: Option<f64>,
    /// Configured weight.
    pub weight: f64,
    /// Weight actually applied (differs from `weight` under re-normalisation).
    pub effective_weight: f64,
    /// Points this component adds to the overall score.
    pub contribution: f64,
    /// Sample count behind the value.
    pub samples: u64,
    /// When the observation was made.
    #[serde(default, with = "crate::digest::ts::option")]
    pub observed_at: Option<DateTime<Utc>>,
    /// Why the component is missing, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingReason>,
    /// Facts behind the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

impl ComponentScore {
    /// Points lost against a perfect component, at the applied weight.
    #[must_use]
    pub fn points_lost(&self) -> f64 {
        self.effective_weight * 100.0 - self.contribution
    }
}

/// The result of scoring one scope's signals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The scope scored.
    pub scope: Scope,
    /// When the score was computed.
    #[serde(with = "crate::digest::ts")]
    pub computed_at: DateTime<Utc>,
    /// Newest observation time among the components that counted; `None` when
    /// nothing counted. The gate uses it to tell new readings from repeats.
    #[serde(default, with = "crate::digest::ts::option")]
    pub as_of: Option<DateTime<Utc>>,
    /// Weighted score, 0..=100.
    pub score: f64,
    /// Status from the thresholds.
    pub status: HealthStatus,
    /// The policy applied to missing components.
    pub policy: MissingPolicy,
    /// Sum of the configured weights of components that counted (0..=1).
    pub present_weight: f64,
    /// Every component, in [`Component::ALL`] order.
    pub components: Vec<ComponentScore>,
    /// Components that did not count.
    pub missing: Vec<Component>,
    /// Hash of the [`super::HealthConfig`] the report was scored under
    /// ([`super::HealthConfig::hash`]); the trust gate refuses a report whose hash
    /// is not its own config's. A report without it (older JSON) carries the zero
    /// digest and is refused by every gate.
    #[serde(default)]
    pub config_hash: crate::digest::Digest,
}

impl HealthReport {
    /// One component's entry.
    #[must_use]
    pub fn component(&self, c: Component) -> Option<&ComponentScore> {
        self.components.iter().find(|s| s.component == c)
    }

    /// A multi-line, human-readable explanation.
    #[must_use]
    pub fn explain(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "signal health for {}: {:.1}/100 ({})",
            self.scope, self.score, self.status
        );
        for c in &self.components {
            match (&c.score, &c.missing) {
                (Some(v), _) => {
                    let _ = write!(
                        s,
                        "  {:<18} {:>5.1} x {:.3} = {:>5.1}",
                        c.component.as_str(),
                        v,
                        c.effective_weight,
                        c.contribution
                    );
                }
                (None, Some(why)) => {
                    let _ = write!(
                        s,
                        "  {:<18} missing ({why}), contributes 0",
                        c.component.as_str()
                    );
                }
                (None, None) => {}
            }
            let notes: Vec<String> = c.notes.iter().map(ToString::to_string).collect();
            if !notes.is_empty() {
                let _ = write!(s, "  [{}]", notes.join("; "));
            }
            s.push('\n');
        }
        s
    }
}
