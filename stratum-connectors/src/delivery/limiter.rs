//! The client-side limiter: at most `per_second` requests started in any
//! one-second window and at most `max_in_flight` at once, across every thread
//! sharing one [`Deliverer`](super::Deliverer).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::retry::Clock;

/// A client-side request limit (Google: 5 per second, 10 in flight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests started per rolling second, at least 1.
    pub per_second: u32,
    /// Requests awaiting their response at once, at least 1.
    pub max_in_flight: u32,
}

impl RateLimit {
    /// Google Data Manager's limit: 300 per minute as 5 per second, 10 concurrent.
    pub const GOOGLE: Self = Self {
        per_second: 5,
        max_in_flight: 10,
    };
}

const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    starts: Mutex<VecDeque<Duration>>,
    in_flight: Mutex<u32>,
    freed: Condvar,
}

/// Holds one in-flight slot until dropped.
pub(crate) struct Permit<'l>(&'l Limiter);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut n = self
            .0
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *n = n.saturating_sub(1);
        drop(n);
        self.0.freed.notify_one();
    }
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit: RateLimit {
                per_second: limit.per_second.max(1),
                max_in_flight: limit.max_in_flight.max(1),
            },
            starts: Mutex::new(VecDeque::new()),
            in_flight: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits (sleeping on `clock`) until a request may start, and takes an
    /// in-flight slot.
    pub(crate) fn acquire(&self, clock: &dyn Clock) -> Permit<'_> {
        {
            let mut n = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while *n >= self.limit.max_in_flight {
                n = self.freed.wait(n).unwrap_or_else(PoisonError::into_inner);
            }
            *n += 1;
        }
        let permit = Permit(self);
        loop {
            let wait = {
                let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
                let now = clock.elapsed();
                while starts.front().is_some_and(|&t| now >= t + WINDOW) {
                    starts.pop_front();
                }
                if starts.len() < self.limit.per_second as usize {
                    starts.push_back(now);
                    None
                } else {
                    starts.front().map(|&t| (t + WINDOW).saturating_sub(now))
                }
            };
            match wait {
                None => return permit,
                Some(d) => clock.sleep(d),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    /// A clock that only moves when slept on.
    struct Manual(Mutex<Duration>);

    impl Clock for Manual {
        fn elapsed(&self) -> Duration {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
        fn now(&self) -> DateTime<Utc> {
            DateTime::UNIX_EPOCH
        }
        fn sleep(&self, d: Duration) {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) += d;
        }
    }

    #[test]
    fn at_most_per_second_starts_in_any_window() {
        let clock = Manual(Mutex::new(Duration::ZERO));
        let limiter = Limiter::new(RateLimit::GOOGLE);
        let mut starts = Vec::new();
        for _ in 0..23 {
            let _permit = limiter.acquire(&clock);
            starts.push(clock.elapsed());
        }
        // Five at t = 0, five at t = 1 s, ...: never more than five in one second.
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts
                .iter()
                .filter(|&&u| u >= *t && u < *t + WINDOW)
                .count();
            assert!(in_window <= 5, "start {i} at {t:?}");
        }
        assert_eq!(starts[4], Duration::ZERO);
        assert_eq!(starts[5], Duration::from_secs(1));
        assert_eq!(starts[22], Duration::from_secs(4));
    }

    #[test]
    fn in_flight_slots_are_returned() {
        let clock = Manual(Mutex::new(Duration::ZERO));
        let limiter = Limiter::new(RateLimit {
            per_second: 1000,
            max_in_flight: 2,
        });
        let a = limiter.acquire(&clock);
        let _b = limiter.acquire(&clock);
        assert_eq!(
            *limiter
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            2
        );
        drop(a);
        let _c = limiter.acquire(&clock);
        assert_eq!(
            *limiter
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            2
        );
    }
}
