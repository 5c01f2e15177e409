//! De-duplication by `messageId`: the documented rule, checked against a naive
//! model over times in any order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use stratum_cdp::dedup::Deduplicator;

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

#[test]
fn a_late_check_does_not_let_a_later_duplicate_through() {
    let mut d = Deduplicator::new(TimeDelta::seconds(60)).unwrap();
    assert!(d.check("m", t(1000)));
    // Far before the accepted copy: not a duplicate of it.
    assert!(d.check("m", t(100)));
    // Within the window of the copy accepted at 1000.
    assert!(!d.check("m", t(1030)));
    assert_eq!(d.len(), 1);
}

#[test]
fn late_checks_are_forgotten_with_the_window() {
    let mut d = Deduplicator::new(TimeDelta::seconds(60)).unwrap();
    assert!(d.check("a", t(1000)));
    // Older than the horizon: answered, not remembered.
    assert!(d.check("old", t(10)));
    assert_eq!(d.len(), 1);
    assert!(d.check("b", t(1050)));
    assert!(d.check("c", t(1100)));
    // 1000 is now before the horizon (1100 − 60): forgotten.
    assert_eq!(d.len(), 2);
    assert!(d.check("a", t(1101)));
}

/// The rule as written: every acceptance at or after the horizon (latest time seen
/// − window) is remembered; a check is a duplicate when one of them has the same
/// id and is within the window.
#[derive(Default)]
struct Model {
    accepted: Vec<(String, DateTime<Utc>)>,
    latest: Option<DateTime<Utc>>,
}

impl Model {
    fn check(&mut self, id: &str, at: DateTime<Utc>, window: TimeDelta) -> bool {
        let latest = self.latest.map_or(at, |l| l.max(at));
        self.latest = Some(latest);
        let horizon = latest - window;
        let dup = self.accepted.iter().any(|(i, t)| {
            i == id && *t >= horizon && (at.signed_duration_since(*t)).abs() <= window
        });
        if !dup {
            self.accepted.push((id.to_owned(), at));
        }
        !dup
    }

    fn remembered(&self, window: TimeDelta) -> usize {
        let Some(latest) = self.latest else { return 0 };
        let mut ids: Vec<&str> = self
            .accepted
            .iter()
            .filter(|(_, t)| *t >= latest - window)
            .map(|(i, _)| i.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Times in any order (late and early checks mixed): the same answers as the
    /// model, and exactly the ids the model still remembers.
    #[test]
    fn equals_the_naive_model(
        window in 1i64..120,
        checks in prop::collection::vec((0u8..4, 0i64..400), 1..80),
    ) {
        let window = TimeDelta::seconds(window);
        let mut d = Deduplicator::new(window).unwrap();
        let mut m = Model::default();
        for (id, s) in checks {
            let id = format!("m{id}");
            prop_assert_eq!(d.check(&id, t(s)), m.check(&id, t(s), window), "{} at {}", id, s);
            prop_assert_eq!(d.len(), m.remembered(window));
        }
    }
}
