//! Rate limits: a token bucket per key (write key, API key or user) and per
//! tenant. A request takes one token from each; a bucket refills at `rate` tokens
//! per second up to `burst`. An empty bucket answers `429` with `Retry-After`.
//! Time is passed in, so the limiter is tested without a clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests per second and burst of one kind of bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Largest number of tokens held (requests allowed at once).
    pub burst: f64,
}

impl Rate {
    /// `per_second` with a burst of one second's worth (at least one request).
    #[must_use]
    pub fn per_second(per_second: u32) -> Self {
        let r = f64::from(per_second.max(1));
        Self {
            per_second: r,
            burst: r.max(1.0),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Buckets kept before idle full ones are dropped.
const PRUNE_ABOVE: usize = 100_000;

impl Limiter {
    /// Buckets refilling at `rate`.
    #[must_use]
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `key`'s bucket at `now`: `Ok` when there was one, else
    /// how long until there will be.
    ///
    /// # Errors
    /// The wait until a token is available.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let rate = self.rate;
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > PRUNE_ABOVE {
            // Buckets that have refilled are the same as absent ones.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate.per_second
                    < rate.burst
            });
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate.per_second).min(rate.burst);
        b.at = b.at.max(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate.per_second))
        }
    }
}

/// The per-key and per-tenant limiters of the server.
#[derive(Debug)]
pub struct Limits {
    per_key: Limiter,
    per_tenant: Limiter,
}

impl Limits {
    /// Limiters at these rates.
    #[must_use]
    pub fn new(per_key: Rate, per_tenant: Rate) -> Self {
        Self {
            per_key: Limiter::new(per_key),
            per_tenant: Limiter::new(per_tenant),
        }
    }

    /// One request of `key` (a key or user id) in `tenant`: both buckets must
    /// have a token (a refused request takes none).
    ///
    /// # Errors
    /// The wait, in whole seconds (at least one), until the request would pass.
    pub fn check(&self, tenant: &str, key: &str, now: Instant) -> Result<(), u64> {
        let secs = |d: Duration| d.as_secs_f64().ceil().max(1.0) as u64;
        self.per_key.take(key, now).map_err(secs)?;
        self.per_tenant.take(tenant, now).map_err(secs)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let l = Limiter::new(Rate::per_second(5));
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.take("k", t0).is_ok());
        }
        let wait = l.take("k", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-9, "{wait:?}");
        assert!(l.take("other", t0).is_ok(), "buckets are per key");
        assert!(l.take("k", t0 + Duration::from_millis(200)).is_ok());
        assert!(l.take("k", t0 + Duration::from_millis(200)).is_err());
    }

    proptest! {
        /// Over any sequence of requests, no more pass than the burst plus the
        /// rate times the time elapsed.
        #[test]
        fn never_more_than_burst_plus_rate_times_time(
            rate in 1u32..50,
            gaps in proptest::collection::vec(0u64..200, 1..400),
        ) {
            let l = Limiter::new(Rate::per_second(rate));
            let t0 = Instant::now();
            let mut t = t0;
            let mut passed = 0u64;
            for g in gaps {
                t += Duration::from_millis(g);
                if l.take("k", t).is_ok() {
                    passed += 1;
                }
            }
            let elapsed = t.duration_since(t0).as_secs_f64();
            let bound = f64::from(rate) + elapsed * f64::from(rate);
            prop_assert!(passed as f64 <= bound + 1e-9, "{} > {}", passed, bound);
        }
    }
}
