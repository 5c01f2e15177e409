//! De-duplication of messages by `messageId` within a time window.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};

/// Remembers the `messageId`s seen in the last `window` and reports repeats.
///
/// A message is a duplicate when a message with the same id was accepted at a
/// time `t'` with `|t − t'| ≤ window`, where `t` is the time passed to
/// [`Deduplicator::check`] (normally `receivedAt`). Ids older than the window
/// (relative to the latest time seen) are forgotten, so memory stays bounded by the
/// traffic of one window.
#[derive(Debug, Clone)]
pub struct Deduplicator {
    window: TimeDelta,
    seen: HashMap<String, DateTime<Utc>, foldhash::fast::RandomState>,
    order: VecDeque<(DateTime<Utc>, String)>,
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
            order: VecDeque::new(),
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
        if let Some(horizon) = latest.checked_sub_signed(self.window) {
            while let Some((t, _)) = self.order.front() {
                if *t >= horizon {
                    break;
                }
                if let Some((t, id)) = self.order.pop_front()
                    && self.seen.get(&id) == Some(&t)
                {
                    self.seen.remove(&id);
                }
            }
        }
        if let Some(prev) = self.seen.get(message_id)
            && (at.signed_duration_since(*prev)).abs() <= self.window
        {
            return false;
        }
        self.seen.insert(message_id.to_owned(), at);
        self.order.push_back((at, message_id.to_owned()));
        true
    }
}
