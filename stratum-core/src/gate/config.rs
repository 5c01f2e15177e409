//! Per-tenant trust-gate configuration.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::ActionKindTag;
use crate::guardrails::GuardrailConfig;
use crate::health::HealthConfig;
use crate::validate::{config_err, finite_in};

/// How guardrail violations treat an action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMode {
    /// Violations are reported as warnings; they do not stop the action.
    Advisory,
    /// Violations stop the action unless an authorised person overrides them.
    #[default]
    SoftBlock,
    /// Violations stop the action; no override.
    HardBlock,
}

impl std::fmt::Display for EnforcementMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EnforcementMode::Advisory => "advisory",
            EnforcementMode::SoftBlock => "soft_block",
            EnforcementMode::HardBlock => "hard_block",
        })
    }
}

/// Minimum evidence before the gate will let automation act.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    /// Minimum share of the total component weight that must come from present,
    /// fresh components (default 0.6). Below it the result is `Inconclusive`, which
    /// holds. Must be greater than 0: with nothing observed the gate never passes.
    pub min_present_weight: f64,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            min_present_weight: 0.6,
        }
    }
}

/// Hysteresis: debounce downgrades and require a sustained recovery.
///
/// * A bad reading (not `Healthy`) holds automation at once. The gate escalates to
///   `Block` only when at least `trip_after` of the last `window` readings were bad;
///   it is then *tripped*.
/// * A tripped gate allows automation again only after `cooldown` has passed since
///   the last bad reading **and** `recovery_readings` consecutive healthy readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HysteresisConfig {
    /// Readings remembered (M, 1..=64, default 5).
    pub window: u32,
    /// Bad readings among the last `window` that trip the gate (N, 1..=window,
    /// default 2).
    pub trip_after: u32,
    /// Time since the last bad reading before recovery (default 30 min). JSON:
    /// seconds.
    #[serde(rename = "cooldown_secs", with = "crate::digest::secs")]
    pub cooldown: TimeDelta,
    /// Consecutive healthy readings needed to recover (k, at least 1, default 3).
    pub recovery_readings: u32,
}

impl Default for HysteresisConfig {
    fn default() -> Self {
        HysteresisConfig {
            window: 5,
            trip_after: 2,
            cooldown: TimeDelta::minutes(30),
            recovery_readings: 3,
        }
    }
}

/// Who may override a `SoftBlock` violation, and for how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OverridePolicy {
    /// Roles allowed to grant overrides (default `["admin"]`).
    pub allowed_roles: Vec<String>,
    /// Longest allowed override (default 24 h). JSON: seconds.
    #[serde(rename = "max_duration_secs", with = "crate::digest::secs")]
    pub max_duration: TimeDelta,
    /// Minimum length of the written reason, in characters (default 10).
    pub min_reason_chars: usize,
}

impl Default for OverridePolicy {
    fn default() -> Self {
        OverridePolicy {
            allowed_roles: vec!["admin".to_owned()],
            max_duration: TimeDelta::hours(24),
            min_reason_chars: 10,
        }
    }
}

/// The unvalidated form of [`TrustGateConfig`]; also its JSON schema. Every field
/// has a default, so `{}` is a valid config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustGateConfigBuilder {
    /// Health scoring, including the status thresholds.
    pub health: HealthConfig,
    /// Default enforcement mode.
    pub enforcement: EnforcementMode,
    /// Enforcement mode per action kind, overriding `enforcement`.
    pub enforcement_by_kind: BTreeMap<ActionKindTag, EnforcementMode>,
    /// Minimum evidence.
    pub evidence: EvidenceConfig,
    /// Hysteresis.
    pub hysteresis: HysteresisConfig,
    /// Guardrails.
    pub guardrails: GuardrailConfig,
    /// Override policy.
    pub overrides: OverridePolicy,
    /// Roles of the people who may replace this config (default `["admin"]`).
    /// Automation never may. Left out of the JSON (and of the hash) while it is the
    /// default, so hashes of configs written before it existed stay valid.
    #[serde(skip_serializing_if = "is_default_config_roles")]
    pub config_roles: Vec<String>,
}

fn default_config_roles() -> Vec<String> {
    vec!["admin".to_owned()]
}

fn is_default_config_roles(roles: &Vec<String>) -> bool {
    *roles == default_config_roles()
}

impl Default for TrustGateConfigBuilder {
    fn default() -> Self {
        TrustGateConfigBuilder {
            health: HealthConfig::default(),
            enforcement: EnforcementMode::default(),
            enforcement_by_kind: BTreeMap::new(),
            evidence: EvidenceConfig::default(),
            hysteresis: HysteresisConfig::default(),
            guardrails: GuardrailConfig::default(),
            overrides: OverridePolicy::default(),
            config_roles: default_config_roles(),
        }
    }
}

impl TrustGateConfigBuilder {
    /// Sets the health config.
    #[must_use]
    pub fn health(mut self, h: HealthConfig) -> Self {
        self.health = h;
        self
    }
    /// Sets the default enforcement mode.
    #[must_use]
    pub fn enforcement(mut self, m: EnforcementMode) -> Self {
        self.enforcement = m;
        self
    }
    /// Sets the enforcement mode of one action kind.
    #[must_use]
    pub fn enforcement_for(mut self, kind: ActionKindTag, m: EnforcementMode) -> Self {
        self.enforcement_by_kind.insert(kind, m);
        self
    }
    /// Sets the evidence requirements.
    #[must_use]
    pub fn evidence(mut self, e: EvidenceConfig) -> Self {
        self.evidence = e;
        self
    }
    /// Sets the hysteresis.
    #[must_use]
    pub fn hysteresis(mut self, h: HysteresisConfig) -> Self {
        self.hysteresis = h;
        self
    }
    /// Sets the guardrails.
    #[must_use]
    pub fn guardrails(mut self, g: GuardrailConfig) -> Self {
        self.guardrails = g;
        self
    }
    /// Sets the override policy.
    #[must_use]
    pub fn overrides(mut self, o: OverridePolicy) -> Self {
        self.overrides = o;
        self
    }

    /// Sets the roles allowed to replace the config.
    #[must_use]
    pub fn config_roles(mut self, roles: Vec<String>) -> Self {
        self.config_roles = roles;
        self
    }

    /// Validates and builds the config.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first invalid field.
    pub fn build(self) -> Result<TrustGateConfig> {
        finite_in(
            config_err,
            "evidence.min_present_weight",
            self.evidence.min_present_weight,
            f64::MIN_POSITIVE,
            1.0,
        )
        .map_err(|_| {
            Error::config(
                "evidence.min_present_weight",
                format!(
                    "must be in (0, 1], got {}; with 0 a telemetry outage could pass",
                    self.evidence.min_present_weight
                ),
            )
        })?;
        let h = &self.hysteresis;
        if h.window == 0 || h.window > 64 {
            return Err(Error::config(
                "hysteresis.window",
                format!("must be in 1..=64 readings, got {}", h.window),
            ));
        }
        if h.trip_after == 0 || h.trip_after > h.window {
            return Err(Error::config(
                "hysteresis.trip_after",
                format!("must be in 1..=window ({}), got {}", h.window, h.trip_after),
            ));
        }
        crate::validate::duration("hysteresis.cooldown_secs", h.cooldown, true)?;
        if h.recovery_readings == 0 {
            return Err(Error::config(
                "hysteresis.recovery_readings",
                "must be at least 1",
            ));
        }
        self.guardrails.validate("guardrails")?;
        let o = &self.overrides;
        crate::validate::duration("overrides.max_duration_secs", o.max_duration, false)?;
        if let Some(i) = o.allowed_roles.iter().position(|r| r.trim().is_empty()) {
            return Err(Error::config(
                format!("overrides.allowed_roles[{i}]"),
                "must be a non-empty role name",
            ));
        }
        if self.config_roles.is_empty() {
            return Err(Error::config(
                "config_roles",
                "must name at least one role, or nobody could ever change the config",
            ));
        }
        if let Some(i) = self.config_roles.iter().position(|r| r.trim().is_empty()) {
            return Err(Error::config(
                format!("config_roles[{i}]"),
                "must be a non-empty role name",
            ));
        }
        let hash = Digest::of(&self)?;
        Ok(TrustGateConfig { b: self, hash })
    }
}

/// Validated per-tenant trust-gate configuration with its content hash.
///
/// ```
/// use stratum_core::gate::{ActionKindTag, EnforcementMode, TrustGateConfig};
/// let cfg: TrustGateConfig = stratum_core::from_json(
///     r#"{"enforcement": "hard_block", "enforcement_by_kind": {"pause": "advisory"}}"#,
/// )?;
/// assert_eq!(cfg.enforcement_for(ActionKindTag::Pause), EnforcementMode::Advisory);
/// assert_eq!(cfg.enforcement_for(ActionKindTag::BudgetChange), EnforcementMode::HardBlock);
/// assert_eq!(cfg.hash().to_hex().len(), 64);
/// # Ok::<(), stratum_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "TrustGateConfigBuilder")]
pub struct TrustGateConfig {
    b: TrustGateConfigBuilder,
    hash: Digest,
}

crate::validated_deserialize!(TrustGateConfig, TrustGateConfigBuilder);

impl TryFrom<TrustGateConfigBuilder> for TrustGateConfig {
    type Error = Error;
    fn try_from(b: TrustGateConfigBuilder) -> Result<Self> {
        b.build()
    }
}

impl From<TrustGateConfig> for TrustGateConfigBuilder {
    fn from(c: TrustGateConfig) -> Self {
        c.b
    }
}

impl Default for TrustGateConfig {
    fn default() -> Self {
        let b = TrustGateConfigBuilder::default();
        // The default builder always validates and always encodes.
        let hash = Digest::of(&b).unwrap_or_default();
        TrustGateConfig { b, hash }
    }
}

impl TrustGateConfig {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> TrustGateConfigBuilder {
        TrustGateConfigBuilder::default()
    }

    /// A builder holding this config's values.
    #[must_use]
    pub fn to_builder(&self) -> TrustGateConfigBuilder {
        self.b.clone()
    }

    /// SHA-256 of the canonical encoding of the config; every decision carries it.
    #[must_use]
    pub fn hash(&self) -> Digest {
        self.hash
    }

    /// Health scoring.
    #[must_use]
    pub fn health(&self) -> &HealthConfig {
        &self.b.health
    }

    /// Enforcement mode applied to an action kind.
    #[must_use]
    pub fn enforcement_for(&self, kind: ActionKindTag) -> EnforcementMode {
        self.b
            .enforcement_by_kind
            .get(&kind)
            .copied()
            .unwrap_or(self.b.enforcement)
    }

    /// Evidence requirements.
    #[must_use]
    pub fn evidence(&self) -> &EvidenceConfig {
        &self.b.evidence
    }

    /// Hysteresis.
    #[must_use]
    pub fn hysteresis(&self) -> &HysteresisConfig {
        &self.b.hysteresis
    }

    /// Guardrails.
    #[must_use]
    pub fn guardrails(&self) -> &GuardrailConfig {
        &self.b.guardrails
    }

    /// Override policy.
    #[must_use]
    pub fn overrides(&self) -> &OverridePolicy {
        &self.b.overrides
    }

    /// Roles of the people who may replace this config.
    #[must_use]
    pub fn config_roles(&self) -> &[String] {
        &self.b.config_roles
    }
}
