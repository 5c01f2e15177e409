//! Validation of time arguments that come from outside Rust.
//!
//! Every time argument a host passes in (a binding's `now`, a server's query
//! parameter) goes through one of these functions, so the same rule holds
//! everywhere: a finite number of seconds since the Unix epoch within chrono's
//! range, or RFC 3339 text with an explicit offset. NaN, infinities, values out of
//! range and text without an offset are [`Error::InvalidTime`], never a silent
//! 1970-01-01.
//!
//! ```
//! use stratum_core::time;
//! let t = time::from_unix_seconds("now", 1_772_442_000.25)?;
//! assert_eq!(t.to_rfc3339(), "2026-03-02T09:00:00.250+00:00");
//! assert_eq!(time::parse_rfc3339("now", "2026-03-02T10:00:00+01:00")?, time::from_unix_seconds("now", 1_772_442_000.0)?);
//! assert_eq!(time::from_unix_seconds("now", f64::NAN).unwrap_err().code(), "invalid_time");
//! assert_eq!(time::parse_rfc3339("now", "2026-03-02T09:00:00").unwrap_err().code(), "invalid_time");
//! # Ok::<(), stratum_core::Error>(())
//! ```

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

const EXAMPLE: &str = "expected a timezone-aware time, e.g. 2026-01-31T12:00:00Z or POSIX seconds";

/// A point in time from (possibly fractional) seconds since the Unix epoch,
/// rounded to the nanosecond.
///
/// # Errors
/// [`Error::InvalidTime`] on `field` for NaN, an infinity, or a value outside the
/// range chrono can represent.
pub fn from_unix_seconds(field: &str, secs: f64) -> Result<DateTime<Utc>> {
    if !secs.is_finite() {
        return Err(Error::time(
            field,
            format!("must be a finite number of seconds, got {secs}; {EXAMPLE}"),
        ));
    }
    // i64 seconds cover far more than chrono's range; checking against it first
    // keeps the casts below exact.
    let whole = secs.floor();
    if whole < i64::MIN as f64 || whole >= i64::MAX as f64 {
        return Err(out_of_range(field, secs));
    }
    let mut s = whole as i64;
    let mut nanos = ((secs - whole) * 1e9).round() as i64;
    if nanos >= 1_000_000_000 {
        s = s.checked_add(1).ok_or_else(|| out_of_range(field, secs))?;
        nanos -= 1_000_000_000;
    }
    let nanos = u32::try_from(nanos.max(0)).map_err(|_| out_of_range(field, secs))?;
    DateTime::from_timestamp(s, nanos).ok_or_else(|| out_of_range(field, secs))
}

/// A point in time from whole seconds and nanoseconds since the Unix epoch (exact,
/// for hosts with integer timestamps).
///
/// # Errors
/// [`Error::InvalidTime`] on `field` when `nanos` is not below 10⁹ or the time is
/// outside the range chrono can represent.
pub fn from_unix_parts(field: &str, secs: i64, nanos: u32) -> Result<DateTime<Utc>> {
    if nanos >= 1_000_000_000 {
        return Err(Error::time(
            field,
            format!("nanoseconds must be below 1000000000, got {nanos}"),
        ));
    }
    DateTime::from_timestamp(secs, nanos).ok_or_else(|| {
        Error::time(
            field,
            format!("{secs} s since the Unix epoch is out of range"),
        )
    })
}

/// A point in time from RFC 3339 text, which must carry an offset (`Z` or `±hh:mm`).
///
/// # Errors
/// [`Error::InvalidTime`] on `field` when the text is not RFC 3339 with an offset.
pub fn parse_rfc3339(field: &str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::time(field, format!("{:?}: {e}; {EXAMPLE}", truncate(text))))
}

fn out_of_range(field: &str, secs: f64) -> Error {
    Error::time(
        field,
        format!("{secs} s since the Unix epoch is out of range"),
    )
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300] {
            let e = from_unix_seconds("now", bad).unwrap_err();
            assert_eq!(
                (e.code(), e.field()),
                ("invalid_time", Some("now")),
                "{bad}"
            );
        }
        for bad in [
            "",
            "yesterday",
            "2026-03-02",
            "2026-03-02T09:00:00",
            "1772442000",
        ] {
            let e = parse_rfc3339("now", bad).unwrap_err();
            assert_eq!(e.code(), "invalid_time", "{bad:?}");
        }
        assert_eq!(
            from_unix_parts("now", 0, 1_000_000_000).unwrap_err().code(),
            "invalid_time"
        );
        assert_eq!(
            from_unix_parts("now", i64::MAX, 0).unwrap_err().code(),
            "invalid_time"
        );
    }

    #[test]
    fn accepts_times_exactly() -> Result<()> {
        assert_eq!(from_unix_seconds("now", 0.0)?.timestamp(), 0);
        let t = from_unix_seconds("now", -1.5)?;
        assert_eq!(
            (t.timestamp(), t.timestamp_subsec_nanos()),
            (-2, 500_000_000)
        );
        let t = from_unix_seconds("now", 1.999_999_999_9)?;
        assert_eq!((t.timestamp(), t.timestamp_subsec_nanos()), (2, 0));
        assert_eq!(
            from_unix_parts("now", 1_772_442_000, 5)?,
            parse_rfc3339("now", "2026-03-02T09:00:00.000000005Z")?
        );
        Ok(())
    }
}
