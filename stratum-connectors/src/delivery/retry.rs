//! Retry timing (PLATFORMS.md D21): exponential backoff with full jitter,
//! `Retry-After`, and the clock and random source they depend on.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};

/// How often and how long to wait before sending a request again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff's upper bound; each retry doubles it (500 ms).
    pub base: Duration,
    /// No backoff exceeds this (30 s).
    pub cap: Duration,
    /// Retries after the first attempt (3): at most `max_retries + 1` attempts.
    pub max_retries: u32,
    /// A `Retry-After` longer than this ends the retries instead of waiting
    /// (5 min): the request is reported with the platform's answer.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retries: 3,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The upper bound of the backoff before retry `retry` (0 for the first):
    /// `min(cap, base · 2^retry)`.
    #[must_use]
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The backoff before retry `retry` with full jitter: uniform in
    /// `[0, ceiling(retry)]`, drawn from `random`.
    #[must_use]
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let ceiling = self.ceiling(retry).as_nanos();
        // `ceiling` is at most `cap`, far below 2^64 ns for any sane cap.
        let ceiling = u64::try_from(ceiling).unwrap_or(u64::MAX);
        let nanos = if ceiling == u64::MAX {
            random
        } else {
            random % (ceiling + 1)
        };
        Duration::from_nanos(nanos)
    }
}

/// Parses a `Retry-After` value: delta-seconds (`120`) or an HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete RFC 850 and asctime
/// forms), relative to `now`. A date in the past gives zero.
///
/// Returns `None` for anything else, including negative or fractional numbers.
#[must_use]
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Huge values saturate; the policy's `max_retry_after` turns them down.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(
        at.signed_duration_since(now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The three HTTP-date forms of RFC 9110 §5.6.7, all in GMT.
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        // IMF-fixdate.
        "%a, %d %b %Y %H:%M:%S GMT",
        // RFC 850.
        "%A, %d-%b-%y %H:%M:%S GMT",
        // asctime.
        "%a %b %e %H:%M:%S %Y",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|n| n.and_utc())
}

/// Time as the delivery sees it: a monotonic clock for the rate limiter, the
/// wall clock for `Retry-After` dates, and sleeping. Tests inject a clock that
/// advances when asked to sleep.
pub trait Clock: Send + Sync {
    /// Monotonic time since an arbitrary fixed origin.
    fn elapsed(&self) -> Duration;
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Blocks the calling thread for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock: [`Instant`], [`Utc::now`] and [`std::thread::sleep`].
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn elapsed(&self) -> Duration {
        (**self).elapsed()
    }
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

/// xorshift64* — jitter needs spread, not unpredictability.
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// Seeded with `seed` (0 is replaced by a fixed odd constant).
    pub(crate) fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// Seeded from the process's random hash keys.
    pub(crate) fn from_os() -> Self {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x5EED);
        Self::new(h.finish())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(1994, 11, 6, 8, 49, 0).unwrap()
    }

    #[test]
    fn retry_after_delta_seconds() {
        assert_eq!(parse_retry_after("0", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 120 ", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "1.5", "+3", "soon", "12 s"] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_http_dates() {
        // 37 s after `now` in all three forms (RFC 9110's own example date).
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(v, now()),
                Some(Duration::from_secs(37)),
                "{v}"
            );
        }
        // In the past: retry at once.
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", now()),
            None
        );
    }

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        let ms: Vec<u128> = (0..8).map(|n| p.ceiling(n).as_millis()).collect();
        assert_eq!(
            ms,
            [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
        );
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn seeded_jitter_is_reproducible_and_spread() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let xs: Vec<u64> = (0..64).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..64).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let p = RetryPolicy::default();
        let low = xs
            .iter()
            .filter(|&&r| p.backoff(0, r) < Duration::from_millis(250));
        // Not all in one half of the range.
        let n = low.count();
        assert!(n > 8 && n < 56, "{n}");
    }

    proptest! {
        #[test]
        fn backoff_within_full_jitter_bounds(
            base_ms in 1u64..5_000,
            cap_ms in 1u64..120_000,
            retry in 0u32..80,
            random in any::<u64>(),
        ) {
            let p = RetryPolicy {
                base: Duration::from_millis(base_ms),
                cap: Duration::from_millis(cap_ms),
                ..RetryPolicy::default()
            };
            let d = p.backoff(retry, random);
            let pow = 2u128.saturating_pow(retry);
            let bound = (u128::from(base_ms) * 1_000_000).saturating_mul(pow)
                .min(u128::from(cap_ms) * 1_000_000);
            prop_assert!(d.as_nanos() <= bound);
        }

        #[test]
        fn retry_after_never_panics(s in ".{0,40}") {
            let _ = parse_retry_after(&s, Utc::now());
        }
    }
}
