//! De-duplication of messages by `messageId` within a time window.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};

/// Remembers the `messageId`s seen in the last `window` and reports repeats.
///
/// A message is a duplicate when a message with the same id was accepted at a
/// time `t'` with `|t − t'| ≤ window`, where `t` is the time passed to
/// [`Deduplicator::check`] (normally `receivedAt`). Ids accepted at a time older
/// than the window (relative to the latest time seen) are forgotten, so memory
/// stays bounded by the traffic of one window, whatever order the times come in.
///
/// Only acceptances at or after the horizon (latest time seen − window) are kept.
/// Any two such times are at most one window apart, so a second acceptance of an
/// id within the horizon is impossible: one time per id is all that can matter,
/// and a late check (before the horizon) is answered without being remembered.
#[derive(Debug, Clone)]
pub struct Deduplicator {
    window: TimeDelta,
    seen: HashMap<String, DateTime<Utc>, foldhash::fast::RandomState>,
    /// The remembered (time, id) pairs, earliest first.
    expiry: BinaryHeap<Reverse<(DateTime<Utc>, String)>>,
    latest: Option<DateTime<Utc>>,
}

impl Deduplicator {
    /// A de-duplicator remembering ids for `window`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless the window is positive and at most ten years.
    pub fn new(window: TimeDelta) -> Result<Self> {
        if window <= TimeDelta::zero() || window > TimeDelta::days(3650) {
            return Err(Error::config(
                "dedup_window_seconds",
                format!(
                    "must be positive and at most 315360000 seconds (ten years), got {}",
                    window.num_seconds()
                ),
            ));
        }
        Ok(Deduplicator {
            window,
            seen: HashMap::default(),
            expiry: BinaryHeap::new(),
            latest: None,
        })
    }

    /// The configured window.
    #[must_use]
    pub fn window(&self) -> TimeDelta {
        self.window
    }

    /// Number of ids currently remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Records `message_id` seen at `at`; returns `true` the first time within the
    /// window (keep the message) and `false` for a duplicate (drop it).
    pub fn check(&mut self, message_id: &str, at: DateTime<Utc>) -> bool {
        let latest = self.latest.map_or(at, |l| l.max(at));
        self.latest = Some(latest);
        let horizon = latest
            .checked_sub_signed(self.window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        while let Some(Reverse((t, _))) = self.expiry.peek() {
            if *t >= horizon {
                break;
            }
            if let Some(Reverse((t, id))) = self.expiry.pop()
                && self.seen.get(&id) == Some(&t)
            {
                self.seen.remove(&id);
            }
        }
        if let Some(prev) = self.seen.get(message_id)
            && (at.signed_duration_since(*prev)).abs() <= self.window
        {
            return false;
        }
        // An acceptance before the horizon is forgotten at once; one within it
        // never replaces another (they would be duplicates of each other).
        if at >= horizon {
            self.seen.insert(message_id.to_owned(), at);
            self.expiry.push(Reverse((at, message_id.to_owned())));
        }
        true
    }
}
