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
        let mut buckets = self.lock();
        let b = self.refilled(&mut buckets, key, now);
        let wait = self.wait(b);
        if wait.is_zero() {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(wait)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `key`'s bucket in `buckets` (this limiter's, locked), refilled up to `now`.
    fn refilled<'a>(
        &self,
        buckets: &'a mut HashMap<String, Bucket>,
        key: &str,
        now: Instant,
    ) -> &'a mut Bucket {
        let rate = self.rate;
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
        b
    }

    /// How long until `b` holds a token (zero when it holds one).
    fn wait(&self, b: &Bucket) -> Duration {
        if b.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - b.tokens) / self.rate.per_second)
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
        // Both buckets are looked at under both locks (always taken in this
        // order), and a token is taken from each only when each has one.
        let mut keys = self.per_key.lock();
        let mut tenants = self.per_tenant.lock();
        let k = self.per_key.refilled(&mut keys, key, now);
        let t = self.per_tenant.refilled(&mut tenants, tenant, now);
        let wait = self.per_key.wait(k).max(self.per_tenant.wait(t));
        if wait.is_zero() {
            k.tokens -= 1.0;
            t.tokens -= 1.0;
            Ok(())
        } else {
            Err(wait.as_secs_f64().ceil().max(1.0) as u64)
        }
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

    /// A request the tenant's bucket refuses takes no token from its key's
    /// bucket, and one its key's bucket refuses takes none from the tenant's.
    #[test]
    fn a_refused_request_takes_no_token_from_either_bucket() {
        let l = Limits::new(Rate::per_second(5), Rate::per_second(8));
        let t0 = Instant::now();
        // Key a spends 5 of the tenant's 8; key b spends the other 3.
        for _ in 0..5 {
            assert!(l.check("t", "a", t0).is_ok());
        }
        for _ in 0..3 {
            assert!(l.check("t", "b", t0).is_ok());
        }
        // Refused by the tenant: b keeps its last 2 tokens.
        for _ in 0..10 {
            assert!(l.check("t", "b", t0).is_err());
        }
        // Refused by its key: a takes nothing from another tenant's bucket.
        assert!(l.check("u", "a", t0).is_err());
        assert!(l.check("u", "c", t0).is_ok());
        // Half a second on, the tenant's bucket holds 4 tokens again and b's 4.5.
        let t1 = t0 + Duration::from_millis(500);
        let passed = (0..10).filter(|_| l.check("t", "b", t1).is_ok()).count();
        assert_eq!(passed, 4);
        // u's bucket lost only c's token: 7 left (5 for d, 2 for e).
        let passed: usize = ["d", "e"]
            .iter()
            .map(|k| (0..10).filter(|_| l.check("u", k, t0).is_ok()).count())
            .sum();
        assert_eq!(passed, 7);
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
