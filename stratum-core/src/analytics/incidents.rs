//! Incidents from anomalies: an incident opens when the newest point of a metric
//! series is anomalous and closes after `quiet_points` consecutive normal points.
//! Open incidents feed the `platform_stability` health component through
//! [`IncidentTracker::stability`].
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
use crate::error::{Error, Result};
use crate::health::StabilityObservation;

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
