//! `HealthConfig`: weights, thresholds, missing-data policy and the parameters of
//! each component calculator, validated once at construction.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::validate::{config_err, finite_in};

/// The five components of signal health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Event Match Quality (0..10, times 10).
    Emq,
    /// Success, latency and error bursts of platform API calls.
    ApiHealth,
    /// Share of sent events the platform confirmed, after de-duplication.
    EventLoss,
    /// Platform incidents and error-rate volatility over the window.
    PlatformStability,
    /// Share of events that pass validation and arrive fresh.
    DataQuality,
}

impl Component {
    /// All components, in the order reports list them.
    pub const ALL: [Component; 5] = [
        Component::Emq,
        Component::ApiHealth,
        Component::EventLoss,
        Component::PlatformStability,
        Component::DataQuality,
    ];

    /// The snake_case name used in JSON and in messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Emq => "emq",
            Component::ApiHealth => "api_health",
            Component::EventLoss => "event_loss",
            Component::PlatformStability => "platform_stability",
            Component::DataQuality => "data_quality",
        }
    }
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Component weights. They must be finite, non-negative and sum to 1 (within 1e-9).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Weight of [`Component::Emq`] (default 0.35).
    pub emq: f64,
    /// Weight of [`Component::ApiHealth`] (default 0.25).
    pub api_health: f64,
    /// Weight of [`Component::EventLoss`] (default 0.20).
    pub event_loss: f64,
    /// Weight of [`Component::PlatformStability`] (default 0.10).
    pub platform_stability: f64,
    /// Weight of [`Component::DataQuality`] (default 0.10).
    pub data_quality: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            emq: 0.35,
            api_health: 0.25,
            event_loss: 0.20,
            platform_stability: 0.10,
            data_quality: 0.10,
        }
    }
}

impl Weights {
    /// The weight of one component.
    #[must_use]
    pub fn get(&self, c: Component) -> f64 {
        match c {
            Component::Emq => self.emq,
            Component::ApiHealth => self.api_health,
            Component::EventLoss => self.event_loss,
            Component::PlatformStability => self.platform_stability,
            Component::DataQuality => self.data_quality,
        }
    }

    fn validate(&self, prefix: &str) -> Result<()> {
        let mut sum = 0.0;
        for c in Component::ALL {
            let w = self.get(c);
            finite_in(config_err, &format!("{prefix}.{c}"), w, 0.0, 1.0)?;
            sum += w;
        }
        if (sum - 1.0).abs() > 1e-9 {
            return Err(Error::config(
                prefix,
                format!("must sum to 1 (within 1e-9), got {sum}"),
            ));
        }
        Ok(())
    }
}

/// Status thresholds on the 0..100 score: `0 <= degraded < healthy <= 100`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Scores at or above this are `Healthy` (default 70).
    pub healthy: f64,
    /// Scores at or above this (and below `healthy`) are `Degraded` (default 40).
    pub degraded: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            healthy: 70.0,
            degraded: 40.0,
        }
    }
}

impl Thresholds {
    fn validate(&self, prefix: &str) -> Result<()> {
        finite_in(
            config_err,
            &format!("{prefix}.healthy"),
            self.healthy,
            0.0,
            100.0,
        )?;
        finite_in(
            config_err,
            &format!("{prefix}.degraded"),
            self.degraded,
            0.0,
            100.0,
        )?;
        if self.degraded >= self.healthy {
            return Err(Error::config(
                format!("{prefix}.degraded"),
                format!(
                    "must be below healthy ({}), got {}; require 0 <= degraded < healthy <= 100",
                    self.healthy, self.degraded
                ),
            ));
        }
        Ok(())
    }
}

/// What a missing component (no observation, stale, or too few samples) does to the
/// score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// A missing component scores 0 (the safe default).
    #[default]
    ScoreZero,
    /// The weights of the present components are re-normalised to sum to 1.
    Renormalize,
}

/// Parameters of the `api_health` calculator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiScoring {
    /// p95 latency objective in milliseconds (default 1000).
    pub latency_slo_ms: f64,
    /// Points removed when p95 latency reaches twice the SLO (default 20); the
    /// penalty grows linearly from 0 at the SLO and is capped here.
    pub latency_penalty_max: f64,
    /// Points removed per burst of 429/5xx responses (default 5).
    pub burst_penalty: f64,
    /// Cap on the burst penalty (default 20).
    pub burst_penalty_max: f64,
    /// Minimum calls before the component counts (default 20).
    pub min_calls: u64,
}

impl Default for ApiScoring {
    fn default() -> Self {
        ApiScoring {
            latency_slo_ms: 1000.0,
            latency_penalty_max: 20.0,
            burst_penalty: 5.0,
            burst_penalty_max: 20.0,
            min_calls: 20,
        }
    }
}

/// Parameters of the `platform_stability` calculator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StabilityScoring {
    /// Points removed per platform incident in the window (default 25).
    pub incident_penalty: f64,
    /// Points removed per percentage point of error-rate standard deviation
    /// (default 5).
    pub volatility_penalty: f64,
    /// Cap on the volatility penalty (default 50).
    pub volatility_penalty_max: f64,
    /// Minimum error-rate samples before the component counts (default 3).
    pub min_samples: u64,
}

impl Default for StabilityScoring {
    fn default() -> Self {
        StabilityScoring {
            incident_penalty: 25.0,
            volatility_penalty: 5.0,
            volatility_penalty_max: 50.0,
            min_samples: 3,
        }
    }
}

/// Minimum sample counts for the count-based components.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinSamples {
    /// Minimum events scored for `emq` (default 50).
    pub emq_events: u64,
    /// Minimum unique events sent for `event_loss` (default 50).
    pub events_sent: u64,
    /// Minimum events checked for `data_quality` (default 50).
    pub quality_events: u64,
}

impl Default for MinSamples {
    fn default() -> Self {
        MinSamples {
            emq_events: 50,
            events_sent: 50,
            quality_events: 50,
        }
    }
}

/// Validated health-scoring configuration. Build it with
/// [`HealthConfig::builder`] or parse it from JSON (which validates too).
///
/// ```
/// use stratum_core::health::{HealthConfig, MissingPolicy, Weights};
/// let cfg = HealthConfig::builder()
///     .missing(MissingPolicy::Renormalize)
///     .max_signal_age(chrono::TimeDelta::hours(6))
///     .build()?;
/// assert_eq!(cfg.weights(), &Weights::default());
/// # Ok::<(), stratum_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "HealthConfigBuilder")]
pub struct HealthConfig {
    b: HealthConfigBuilder,
    hash: Digest,
}

impl Default for HealthConfig {
    fn default() -> Self {
        let b = HealthConfigBuilder::default();
        // The default builder always validates and always encodes.
        let hash = Digest::of(&b).unwrap_or_default();
        HealthConfig { b, hash }
    }
}

crate::validated_deserialize!(HealthConfig, HealthConfigBuilder);

/// The unvalidated form of [`HealthConfig`]; also its JSON schema. Every field has
/// a default, so `{}` is a valid config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfigBuilder {
    /// Component weights.
    pub weights: Weights,
    /// Status thresholds.
    pub thresholds: Thresholds,
    /// What missing components do to the score.
    pub missing: MissingPolicy,
    /// Observations older than this are missing (default 24 h). JSON: seconds.
    #[serde(rename = "max_signal_age_secs", with = "crate::digest::secs")]
    pub max_signal_age: TimeDelta,
    /// `api_health` parameters.
    pub api: ApiScoring,
    /// `platform_stability` parameters.
    pub stability: StabilityScoring,
    /// Minimum samples for the count-based components.
    pub min_samples: MinSamples,
}

impl Default for HealthConfigBuilder {
    fn default() -> Self {
        HealthConfigBuilder {
            weights: Weights::default(),
            thresholds: Thresholds::default(),
            missing: MissingPolicy::ScoreZero,
            max_signal_age: TimeDelta::hours(24),
            api: ApiScoring::default(),
            stability: StabilityScoring::default(),
            min_samples: MinSamples::default(),
        }
    }
}

impl HealthConfigBuilder {
    /// Sets the weights.
    #[must_use]
    pub fn weights(mut self, w: Weights) -> Self {
        self.weights = w;
        self
    }
    /// Sets the thresholds.
    #[must_use]
    pub fn thresholds(mut self, t: Thresholds) -> Self {
        self.thresholds = t;
        self
    }
    /// Sets the missing-data policy.
    #[must_use]
    pub fn missing(mut self, m: MissingPolicy) -> Self {
        self.missing = m;
        self
    }
    /// Sets the maximum observation age.
    #[must_use]
    pub fn max_signal_age(mut self, d: TimeDelta) -> Self {
        self.max_signal_age = d;
        self
    }
    /// Sets the `api_health` parameters.
    #[must_use]
    pub fn api(mut self, a: ApiScoring) -> Self {
        self.api = a;
        self
    }
    /// Sets the `platform_stability` parameters.
    #[must_use]
    pub fn stability(mut self, s: StabilityScoring) -> Self {
        self.stability = s;
        self
    }
    /// Sets the minimum sample counts.
    #[must_use]
    pub fn min_samples(mut self, m: MinSamples) -> Self {
        self.min_samples = m;
        self
    }

    /// Validates and builds the config.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first invalid field.
    pub fn build(self) -> Result<HealthConfig> {
        self.validate("health")?;
        let hash = Digest::of(&self)?;
        Ok(HealthConfig { b: self, hash })
    }

    fn validate(&self, p: &str) -> Result<()> {
        self.weights.validate(&format!("{p}.weights"))?;
        self.thresholds.validate(&format!("{p}.thresholds"))?;
        crate::validate::duration(
            &format!("{p}.max_signal_age_secs"),
            self.max_signal_age,
            false,
        )?;
        let a = &self.api;
        let big = 1e12;
        finite_in(
            config_err,
            &format!("{p}.api.latency_slo_ms"),
            a.latency_slo_ms,
            f64::MIN_POSITIVE,
            big,
        )?;
        for (name, v) in [
            ("latency_penalty_max", a.latency_penalty_max),
            ("burst_penalty", a.burst_penalty),
            ("burst_penalty_max", a.burst_penalty_max),
        ] {
            finite_in(config_err, &format!("{p}.api.{name}"), v, 0.0, 100.0)?;
        }
        let s = &self.stability;
        for (name, v) in [
            ("incident_penalty", s.incident_penalty),
            ("volatility_penalty", s.volatility_penalty),
            ("volatility_penalty_max", s.volatility_penalty_max),
        ] {
            finite_in(config_err, &format!("{p}.stability.{name}"), v, 0.0, 100.0)?;
        }
        Ok(())
    }
}

impl TryFrom<HealthConfigBuilder> for HealthConfig {
    type Error = Error;
    fn try_from(b: HealthConfigBuilder) -> Result<Self> {
        b.build()
    }
}

impl From<HealthConfig> for HealthConfigBuilder {
    fn from(c: HealthConfig) -> Self {
        c.b
    }
}

impl HealthConfig {
    /// A builder starting from the defaults of `DESIGN.md`.
    #[must_use]
    pub fn builder() -> HealthConfigBuilder {
        HealthConfigBuilder::default()
    }

    /// A builder holding this config's values, to derive a variant.
    #[must_use]
    pub fn to_builder(&self) -> HealthConfigBuilder {
        self.b.clone()
    }

    /// SHA-256 of the canonical encoding of the config. Every [`super::HealthReport`]
    /// carries the hash of the config it was scored under, and the trust gate
    /// refuses a report scored under another config than its own.
    #[must_use]
    pub fn hash(&self) -> Digest {
        self.hash
    }

    /// Component weights.
    #[must_use]
    pub fn weights(&self) -> &Weights {
        &self.b.weights
    }
    /// Status thresholds.
    #[must_use]
    pub fn thresholds(&self) -> &Thresholds {
        &self.b.thresholds
    }
    /// Missing-data policy.
    #[must_use]
    pub fn missing(&self) -> MissingPolicy {
        self.b.missing
    }
    /// Maximum observation age.
    #[must_use]
    pub fn max_signal_age(&self) -> TimeDelta {
        self.b.max_signal_age
    }
    /// `api_health` parameters.
    #[must_use]
    pub fn api(&self) -> &ApiScoring {
        &self.b.api
    }
    /// `platform_stability` parameters.
    #[must_use]
    pub fn stability(&self) -> &StabilityScoring {
        &self.b.stability
    }
    /// Minimum sample counts.
    #[must_use]
    pub fn min_samples(&self) -> &MinSamples {
        &self.b.min_samples
    }
}
