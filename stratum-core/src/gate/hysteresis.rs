//! Per-scope hysteresis state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::gate::HysteresisConfig;
use crate::health::HealthStatus;

/// What one reading was, for hysteresis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    Healthy,
    Bad,
    /// Too little evidence: breaks a healthy streak, does not count as bad.
    Inconclusive,
}

impl Reading {
    pub(crate) fn of(status: HealthStatus, conclusive: bool) -> Self {
        match (conclusive, status) {
            (false, _) => Reading::Inconclusive,
            (true, HealthStatus::Healthy) => Reading::Healthy,
            (true, _) => Reading::Bad,
        }
    }
}

/// Hysteresis memory of one scope. Serialisable so hosts can persist gate state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HysteresisState {
    /// Bit `i` set: the reading `i` steps back was bad (bit 0 = newest).
    pub recent_bad: u64,
    /// Readings remembered in `recent_bad` (at most the window).
    pub recent_len: u32,
    /// Whether the gate is tripped (escalated and not yet recovered).
    pub tripped: bool,
    /// Consecutive healthy readings since the last bad or inconclusive one.
    pub healthy_streak: u32,
    /// Time of the last bad reading.
    #[serde(default, with = "crate::digest::ts::option")]
    pub last_bad_at: Option<DateTime<Utc>>,
    /// Time of the last reading taken (repeats of it are ignored).
    #[serde(default, with = "crate::digest::ts::option")]
    pub last_reading_at: Option<DateTime<Utc>>,
}

impl HysteresisState {
    /// Bad readings among the remembered window.
    #[must_use]
    pub fn bad_in_window(&self, cfg: &HysteresisConfig) -> u32 {
        (self.recent_bad & window_mask(cfg.window)).count_ones()
    }

    /// Takes a reading stamped `at`; readings not newer than the last one are
    /// ignored (the same observations scored twice are one reading).
    pub(crate) fn observe(&mut self, cfg: &HysteresisConfig, reading: Reading, at: DateTime<Utc>) {
        if self.last_reading_at.is_some_and(|last| at <= last) {
            return;
        }
        self.last_reading_at = Some(at);
        match reading {
            Reading::Inconclusive => {
                self.healthy_streak = 0;
            }
            Reading::Bad | Reading::Healthy => {
                let bad = reading == Reading::Bad;
                self.recent_bad =
                    ((self.recent_bad << 1) | u64::from(bad)) & window_mask(cfg.window);
                self.recent_len = (self.recent_len + 1).min(cfg.window);
                if bad {
                    self.healthy_streak = 0;
                    self.last_bad_at = Some(at);
                    if self.bad_in_window(cfg) >= cfg.trip_after {
                        self.tripped = true;
                    }
                } else {
                    self.healthy_streak = self.healthy_streak.saturating_add(1);
                    if self.tripped && self.recovered(cfg, at) {
                        self.tripped = false;
                    }
                }
            }
        }
    }

    fn recovered(&self, cfg: &HysteresisConfig, now: DateTime<Utc>) -> bool {
        let cooled = self.last_bad_at.is_none_or(|t| now - t >= cfg.cooldown);
        cooled && self.healthy_streak >= cfg.recovery_readings
    }

    /// When the cooldown after the last bad reading ends.
    #[must_use]
    pub fn cooldown_until(&self, cfg: &HysteresisConfig) -> Option<DateTime<Utc>> {
        self.last_bad_at
            .and_then(|t| t.checked_add_signed(cfg.cooldown))
    }
}

fn window_mask(window: u32) -> u64 {
    if window >= 64 {
        u64::MAX
    } else {
        (1u64 << window) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + min * 60, 0).unwrap_or_default()
    }

    #[test]
    fn trips_after_n_of_m_and_recovers_after_cooldown_and_k() {
        let cfg = HysteresisConfig {
            window: 4,
            trip_after: 2,
            cooldown: TimeDelta::minutes(30),
            recovery_readings: 2,
        };
        let mut s = HysteresisState::default();
        s.observe(&cfg, Reading::Bad, at(0));
        assert!(!s.tripped, "one bad of four does not trip");
        s.observe(&cfg, Reading::Healthy, at(10));
        s.observe(&cfg, Reading::Bad, at(20));
        assert!(s.tripped, "two bad of four trips");
        s.observe(&cfg, Reading::Healthy, at(30));
        s.observe(&cfg, Reading::Healthy, at(40));
        assert!(s.tripped, "cooldown (until minute 50) not over");
        s.observe(&cfg, Reading::Healthy, at(50));
        assert!(!s.tripped, "cooldown over and 3 >= 2 healthy readings");
    }

    #[test]
    fn repeated_and_inconclusive_readings() {
        let cfg = HysteresisConfig {
            window: 3,
            trip_after: 2,
            cooldown: TimeDelta::zero(),
            recovery_readings: 2,
        };
        let mut s = HysteresisState::default();
        s.observe(&cfg, Reading::Bad, at(0));
        s.observe(&cfg, Reading::Bad, at(0));
        assert!(!s.tripped, "the same reading twice counts once");
        s.observe(&cfg, Reading::Bad, at(1));
        assert!(s.tripped);
        s.observe(&cfg, Reading::Healthy, at(2));
        s.observe(&cfg, Reading::Inconclusive, at(3));
        s.observe(&cfg, Reading::Healthy, at(4));
        assert!(
            s.tripped,
            "an inconclusive reading breaks the healthy streak"
        );
        s.observe(&cfg, Reading::Healthy, at(5));
        assert!(!s.tripped);
        // Old bad readings slide out of the window.
        assert_eq!(s.bad_in_window(&cfg), 0);
    }
}
