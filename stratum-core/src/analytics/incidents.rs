//! Incidents from anomalies: an incident opens when the newest point of a metric
//! series is anomalous and closes after `quiet_points` consecutive normal points.
//! Open incidents feed the `platform_stability` health component through
//! [`IncidentTracker::stability`]; anomalous points of an event-volume series feed
//! the `data_quality` component through [`data_quality`]. Incident events can be
//! written to the audit log with [`IncidentTracker::observe_audited`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use stratum_core::analytics::incidents::{IncidentEvent, IncidentTracker};
//!
//! let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
//! let mut t = IncidentTracker::new(2)?;
//! assert!(matches!(t.observe("meta/purchases", true, at).as_slice(), [IncidentEvent::Opened { .. }]));
//! assert!(t.observe("meta/purchases", false, at).is_empty()); // one quiet point
//! assert!(matches!(t.observe("meta/purchases", false, at).as_slice(), [IncidentEvent::Closed { .. }]));
//! # Ok::<(), stratum_core::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::anomaly::Anomaly;
use crate::audit::{AuditEvent, AuditLog};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::Actor;
use crate::health::{DataQualityObservation, StabilityObservation};

/// An incident opened or closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IncidentEvent {
    /// The metric's newest point is anomalous and no incident was open.
    Opened {
        /// Metric key.
        metric: String,
        /// When.
        #[serde(with = "crate::digest::ts")]
        at: DateTime<Utc>,
    },
    /// The metric has been normal for `quiet_points` points.
    Closed {
        /// Metric key.
        metric: String,
        /// When it opened.
        #[serde(with = "crate::digest::ts")]
        opened_at: DateTime<Utc>,
        /// When it closed.
        #[serde(with = "crate::digest::ts")]
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Open {
    opened_at: DateTime<Utc>,
    quiet: u32,
}

/// Open incidents per metric. Serialisable so a host can persist it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentTracker {
    quiet_points: u32,
    open: BTreeMap<String, Open>,
}

impl IncidentTracker {
    /// A tracker closing incidents after `quiet_points` normal points.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] on `quiet_points` when it is 0.
    pub fn new(quiet_points: u32) -> Result<Self> {
        if quiet_points == 0 {
            return Err(Error::config("quiet_points", "must be at least 1"));
        }
        Ok(IncidentTracker {
            quiet_points,
            open: BTreeMap::new(),
        })
    }

    /// Records whether the newest point of `metric` is anomalous.
    pub fn observe(
        &mut self,
        metric: &str,
        anomalous: bool,
        at: DateTime<Utc>,
    ) -> Vec<IncidentEvent> {
        match (self.open.get_mut(metric), anomalous) {
            (None, true) => {
                self.open.insert(
                    metric.to_owned(),
                    Open {
                        opened_at: at,
                        quiet: 0,
                    },
                );
                vec![IncidentEvent::Opened {
                    metric: metric.to_owned(),
                    at,
                }]
            }
            (Some(o), true) => {
                o.quiet = 0;
                Vec::new()
            }
            (Some(o), false) => {
                o.quiet += 1;
                if o.quiet >= self.quiet_points {
                    let opened_at = o.opened_at;
                    self.open.remove(metric);
                    vec![IncidentEvent::Closed {
                        metric: metric.to_owned(),
                        opened_at,
                        at,
                    }]
                } else {
                    Vec::new()
                }
            }
            (None, false) => Vec::new(),
        }
    }

    /// Records the anomalies [`super::anomaly::detect`] found on a series of
    /// `len` points: the newest point is anomalous if any anomaly is at `len − 1`.
    pub fn observe_series(
        &mut self,
        metric: &str,
        anomalies: &[Anomaly],
        len: usize,
        at: DateTime<Utc>,
    ) -> Vec<IncidentEvent> {
        let newest = anomalies.iter().any(|a| a.index + 1 == len);
        self.observe(metric, newest, at)
    }

    /// [`IncidentTracker::observe`], writing each opened or closed incident to the
    /// audit log as [`AuditEvent::Incident`] (actor: the `anomaly_detection`
    /// system).
    ///
    /// # Errors
    /// [`Error::AuditIo`] when a record cannot be written; the tracker is then
    /// unchanged.
    pub fn observe_audited(
        &mut self,
        metric: &str,
        anomalous: bool,
        at: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<Vec<IncidentEvent>> {
        let before = self.clone();
        let events = self.observe(metric, anomalous, at);
        for e in &events {
            let written = audit.append(
                at,
                Actor::System {
                    name: "anomaly_detection".to_owned(),
                },
                AuditEvent::Incident(e.clone()),
                Digest::ZERO,
            );
            if let Err(err) = written {
                *self = before;
                return Err(err);
            }
        }
        Ok(events)
    }

    /// Metrics with an open incident.
    pub fn open(&self) -> impl Iterator<Item = &str> {
        self.open.keys().map(String::as_str)
    }

    /// A `platform_stability` observation counting the open incidents, with the
    /// host's recent error rates.
    #[must_use]
    pub fn stability(
        &self,
        observed_at: DateTime<Utc>,
        error_rates: Vec<f64>,
    ) -> StabilityObservation {
        StabilityObservation {
            observed_at,
            incidents: u32::try_from(self.open.len()).unwrap_or(u32::MAX),
            error_rates,
        }
    }
}

/// A `data_quality` observation from an event-volume series and its anomalies: the
/// events counted at points flagged anomalous are treated as not validated (a spike
/// or a drop in volume means those events cannot be trusted as they are), the rest
/// as valid. `counts[i]` is the number of events at point `i`; anomalies pointing
/// past the series are ignored.
#[must_use]
pub fn data_quality(
    counts: &[u64],
    anomalies: &[Anomaly],
    observed_at: DateTime<Utc>,
) -> DataQualityObservation {
    let mut flagged = vec![false; counts.len()];
    for a in anomalies {
        if let Some(f) = flagged.get_mut(a.index) {
            *f = true;
        }
    }
    let total = counts.iter().fold(0u64, |s, c| s.saturating_add(*c));
    let suspect = counts
        .iter()
        .zip(&flagged)
        .filter(|(_, f)| **f)
        .fold(0u64, |s, (c, _)| s.saturating_add(*c));
    DataQualityObservation {
        observed_at,
        total,
        valid: total - suspect,
        stale: 0,
    }
}
