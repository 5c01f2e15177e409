//! Raw observations per scope, and an accumulator that turns individual API calls
//! into an [`ApiObservation`].

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate::{finite_in, observation_err};

/// Where signals were observed: a tenant, optionally narrowed to a platform and an
/// ad account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Tenant id (required, non-empty).
    pub tenant: String,
    /// Platform, e.g. `meta`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Ad account id on that platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_account: Option<String>,
}

impl Scope {
    /// A tenant-wide scope.
    #[must_use]
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Scope {
            tenant: tenant.into(),
            platform: None,
            ad_account: None,
        }
    }

    /// Narrows to a platform.
    #[must_use]
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }

    /// Narrows to an ad account.
    #[must_use]
    pub fn ad_account(mut self, account: impl Into<String>) -> Self {
        self.ad_account = Some(account.into());
        self
    }

    /// Whether signals observed at `self` cover `other` (same tenant; platform and
    /// account either unset here or equal).
    #[must_use]
    pub fn covers(&self, other: &Scope) -> bool {
        fn part(a: &Option<String>, b: &Option<String>) -> bool {
            a.is_none() || a == b
        }
        self.tenant == other.tenant
            && part(&self.platform, &other.platform)
            && (self.ad_account.is_none()
                || (self.platform == other.platform && self.ad_account == other.ad_account))
    }

    pub(crate) fn validate(&self, field: &str) -> Result<()> {
        if self.tenant.trim().is_empty() {
            return Err(Error::observation(
                format!("{field}.tenant"),
                "must be a non-empty tenant id",
            ));
        }
        if self.ad_account.is_some() && self.platform.is_none() {
            return Err(Error::observation(
                format!("{field}.ad_account"),
                "requires `platform`: an ad account belongs to one platform",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.tenant)?;
        if let Some(p) = &self.platform {
            write!(f, "/{p}")?;
        }
        if let Some(a) = &self.ad_account {
            write!(f, "/{a}")?;
        }
        Ok(())
    }
}

/// Event Match Quality as measured over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqObservation {
    /// When it was observed.
    #[serde(with = "crate::digest::ts")]
    pub observed_at: DateTime<Utc>,
    /// EMQ on the 0..10 scale.
    pub score: f64,
    /// Events the score was computed over.
    pub events: u64,
}

/// Aggregated platform API calls over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiObservation {
    /// When it was observed.
    #[serde(with = "crate::digest::ts")]
    pub observed_at: DateTime<Utc>,
    /// Calls made.
    pub total: u64,
    /// Calls that succeeded (2xx and accepted).
    pub succeeded: u64,
    /// 95th-percentile latency in milliseconds.
    pub p95_latency_ms: f64,
    /// Responses with HTTP 429.
    pub rate_limited: u64,
    /// Responses with HTTP 5xx.
    pub server_errors: u64,
    /// Bursts: sliding windows in which 429/5xx responses reached the burst
    /// threshold (see [`ApiCallLog`]).
    pub bursts: u32,
}

/// Conversion events sent and confirmed over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventObservation {
    /// When it was observed.
    #[serde(with = "crate::digest::ts")]
    pub observed_at: DateTime<Utc>,
    /// Events sent, including duplicates.
    pub sent: u64,
    /// Events the platform confirmed receiving.
    pub confirmed: u64,
    /// Of `sent`, events that repeated an earlier event id.
    pub duplicates: u64,
}

/// Platform incidents and the error-rate series over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StabilityObservation {
    /// When it was observed.
    #[serde(with = "crate::digest::ts")]
    pub observed_at: DateTime<Utc>,
    /// Platform incidents open during the window.
    pub incidents: u32,
    /// Error rate per interval (each a share in 0..=1), in time order.
    pub error_rates: Vec<f64>,
}

/// Validation results of events over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataQualityObservation {
    /// When it was observed.
    #[serde(with = "crate::digest::ts")]
    pub observed_at: DateTime<Utc>,
    /// Events checked.
    pub total: u64,
    /// Events that passed validation (required fields, formats).
    pub valid: u64,
    /// Of `valid`, events that arrived later than the freshness limit.
    pub stale: u64,
}

/// Everything observed for one scope. Any component may be absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Where the signals were observed.
    pub scope: Scope,
    /// EMQ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emq: Option<EmqObservation>,
    /// API calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiObservation>,
    /// Events sent/confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventObservation>,
    /// Platform stability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<StabilityObservation>,
    /// Data quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<DataQualityObservation>,
}

impl Signals {
    /// Signals for `scope` with nothing observed yet.
    #[must_use]
    pub fn new(scope: Scope) -> Self {
        Signals {
            scope,
            emq: None,
            api: None,
            events: None,
            stability: None,
            data_quality: None,
        }
    }

    /// Checks every observation for contradictions and out-of-range values.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        self.scope.validate("scope")?;
        if let Some(e) = &self.emq {
            finite_in(observation_err, "emq.score", e.score, 0.0, 10.0)?;
        }
        if let Some(a) = &self.api {
            le("api.succeeded", a.succeeded, "api.total", a.total)?;
            le(
                "api.rate_limited + api.server_errors",
                a.rate_limited.saturating_add(a.server_errors),
                "api.total - api.succeeded",
                a.total - a.succeeded,
            )?;
            finite_in(
                observation_err,
                "api.p95_latency_ms",
                a.p95_latency_ms,
                0.0,
                1e12,
            )?;
        }
        if let Some(e) = &self.events {
            le("events.duplicates", e.duplicates, "events.sent", e.sent)?;
        }
        if let Some(s) = &self.stability
            && let Some(i) = s
                .error_rates
                .iter()
                .position(|r| !(r.is_finite() && (0.0..=1.0).contains(r)))
        {
            finite_in(
                observation_err,
                &format!("stability.error_rates[{i}]"),
                s.error_rates[i],
                0.0,
                1.0,
            )?;
        }
        if let Some(d) = &self.data_quality {
            le("data_quality.valid", d.valid, "data_quality.total", d.total)?;
            le("data_quality.stale", d.stale, "data_quality.valid", d.valid)?;
        }
        Ok(())
    }

    /// The newest `observed_at` among present observations.
    #[must_use]
    pub fn latest_observation(&self) -> Option<DateTime<Utc>> {
        [
            self.emq.as_ref().map(|o| o.observed_at),
            self.api.as_ref().map(|o| o.observed_at),
            self.events.as_ref().map(|o| o.observed_at),
            self.stability.as_ref().map(|o| o.observed_at),
            self.data_quality.as_ref().map(|o| o.observed_at),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

fn le(field: &str, a: u64, other: &str, b: u64) -> Result<()> {
    if a > b {
        return Err(Error::observation(
            field,
            format!("must not exceed {other} ({b}), got {a}"),
        ));
    }
    Ok(())
}

/// One platform API call, as seen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// When the response arrived.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// HTTP status code (0 for a transport failure such as a timeout).
    pub status: u16,
    /// Round-trip latency in milliseconds.
    pub latency_ms: f64,
}

/// Accumulates individual API calls into an [`ApiObservation`]: success share, exact
/// p95 latency, 429 and 5xx counts, and bursts (a burst is a run in which at least
/// `burst_threshold` 429/5xx responses fall within `burst_window`; overlapping
/// windows count once).
#[derive(Clone, Debug)]
pub struct ApiCallLog {
    burst_window: TimeDelta,
    burst_threshold: usize,
    calls: Vec<ApiCall>,
}

impl ApiCallLog {
    /// A log with the given burst definition (e.g. 5 errors within 60 s).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive window or a zero threshold.
    pub fn new(burst_window: TimeDelta, burst_threshold: usize) -> Result<Self> {
        if burst_window <= TimeDelta::zero() {
            return Err(Error::config("burst_window", "must be a positive duration"));
        }
        if burst_threshold == 0 {
            return Err(Error::config("burst_threshold", "must be at least 1"));
        }
        Ok(ApiCallLog {
            burst_window,
            burst_threshold,
            calls: Vec::new(),
        })
    }

    /// Records one call.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] for a negative or non-finite latency.
    pub fn record(&mut self, call: ApiCall) -> Result<()> {
        finite_in(observation_err, "latency_ms", call.latency_ms, 0.0, 1e12)?;
        self.calls.push(call);
        Ok(())
    }

    /// Number of calls recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The aggregated observation, stamped `observed_at`.
    #[must_use]
    pub fn observation(&self, observed_at: DateTime<Utc>) -> ApiObservation {
        let total = self.calls.len() as u64;
        let succeeded = self
            .calls
            .iter()
            .filter(|c| (200..300).contains(&c.status))
            .count() as u64;
        let rate_limited = self.calls.iter().filter(|c| c.status == 429).count() as u64;
        let server_errors = self
            .calls
            .iter()
            .filter(|c| (500..600).contains(&c.status))
            .count() as u64;
        let mut lat: Vec<f64> = self.calls.iter().map(|c| c.latency_ms).collect();
        let p95_latency_ms = nearest_rank(&mut lat, 0.95);

        let mut errs: Vec<DateTime<Utc>> = self
            .calls
            .iter()
            .filter(|c| c.status == 429 || (500..600).contains(&c.status))
            .map(|c| c.at)
            .collect();
        errs.sort_unstable();
        let mut bursts = 0u32;
        let mut burst_until: Option<DateTime<Utc>> = None;
        let k = self.burst_threshold;
        for i in (k - 1)..errs.len() {
            let start = errs[i + 1 - k];
            if errs[i] - start <= self.burst_window {
                if burst_until.is_none_or(|u| start > u) {
                    bursts = bursts.saturating_add(1);
                }
                burst_until = Some(errs[i]);
            }
        }
        ApiObservation {
            observed_at,
            total,
            succeeded,
            p95_latency_ms,
            rate_limited,
            server_errors,
            bursts,
        }
    }
}

/// Nearest-rank percentile (`q` in 0..=1) of finite values; 0 for an empty slice.
fn nearest_rank(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    let (_, v, _) = values.select_nth_unstable_by(rank - 1, f64::total_cmp);
    *v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn call_log_counts_and_percentile() -> Result<()> {
        let mut log = ApiCallLog::new(TimeDelta::seconds(60), 3)?;
        for i in 0..20 {
            log.record(ApiCall {
                at: t(i),
                status: 200,
                latency_ms: f64::from(i as u32 + 1) * 10.0,
            })?;
        }
        // Burst 1: three 429s within 60 s; then a quiet gap; burst 2: 500s.
        for s in [100, 110, 120, 130] {
            log.record(ApiCall {
                at: t(s),
                status: 429,
                latency_ms: 5.0,
            })?;
        }
        for s in [1000, 1001, 1002] {
            log.record(ApiCall {
                at: t(s),
                status: 503,
                latency_ms: 5.0,
            })?;
        }
        // Two errors far apart never make a burst.
        log.record(ApiCall {
            at: t(5000),
            status: 500,
            latency_ms: 5.0,
        })?;
        let o = log.observation(t(6000));
        assert_eq!(o.total, 28);
        assert_eq!(o.succeeded, 20);
        assert_eq!(o.rate_limited, 4);
        assert_eq!(o.server_errors, 4);
        assert_eq!(o.bursts, 2);
        // 28 latencies: 8 of 5 ms and 10..=200 step 10; rank ceil(0.95*28)=27 -> 190.
        assert!((o.p95_latency_ms - 190.0).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn scope_coverage() {
        let tenant = Scope::tenant("a");
        let meta = Scope::tenant("a").platform("meta");
        let acct = Scope::tenant("a").platform("meta").ad_account("1");
        assert!(tenant.covers(&acct));
        assert!(meta.covers(&acct));
        assert!(acct.covers(&acct));
        assert!(!acct.covers(&meta));
        assert!(!Scope::tenant("b").covers(&acct));
        assert!(!Scope::tenant("a").platform("google").covers(&acct));
    }
}
