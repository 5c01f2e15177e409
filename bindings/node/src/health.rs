//! `stratum_core::health`: signals, the health config and its reports.

use chrono::{DateTime, Utc};
use napi::Either;
use napi_derive::napi;
use stratum_core::health as core;

use crate::conv::{Json, de, de_or_default, guard, ser, time};

/// Observations of one scope, checked once and kept native: pass it to
/// `TrustGate.evaluate` on hot paths.
#[napi]
pub struct Signals(pub(crate) core::Signals);

#[napi]
impl Signals {
    /// Signals from their JSON form.
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "SignalsData")] data: Json) -> napi::Result<Self> {
        guard(|| {
            let signals: core::Signals = de(&data)?;
            signals.validate()?;
            Ok(Self(signals))
        })
    }

    /// The signals as a plain object (the JSON form).
    #[napi(js_name = "toJSON", ts_return_type = "SignalsData")]
    pub fn to_json(&self) -> napi::Result<Json> {
        guard(|| ser(&self.0))
    }
}

/// Scoring weights and thresholds.
#[napi]
pub struct HealthConfig(pub(crate) core::HealthConfig);

#[napi]
impl HealthConfig {
    /// A config from its JSON form (the defaults when absent).
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "HealthConfigData")] config: Option<Json>,
    ) -> napi::Result<Self> {
        guard(|| Ok(Self(de_or_default(config.as_ref())?)))
    }

    /// Scores `signals` (a `Signals` or its JSON form) as of `now` (default: the
    /// current time).
    #[napi(ts_return_type = "HealthReport")]
    pub fn score(
        &self,
        #[napi(ts_arg_type = "Signals | SignalsData")] signals: Either<&Signals, Json>,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let now = time(now)?;
            let report = match signals {
                Either::A(s) => self.0.score(&s.0, now)?,
                Either::B(v) => self.0.score(&de(&v)?, now)?,
            };
            ser(&report)
        })
    }

    /// Hex SHA-256 of the config; reports scored under it carry the same hash.
    #[napi(getter)]
    pub fn config_hash(&self) -> String {
        self.0.hash().to_hex()
    }

    /// The status this config gives a score.
    #[napi(ts_return_type = "HealthStatus")]
    pub fn status_of(&self, score: f64) -> napi::Result<Json> {
        guard(|| ser(&self.0.status_of(score)))
    }

    /// The config as a plain object.
    #[napi(js_name = "toJSON", ts_return_type = "HealthConfigData")]
    pub fn to_json(&self) -> napi::Result<Json> {
        guard(|| ser(&self.0))
    }
}

/// Explains a health report (as returned by `HealthConfig.score`) in a few
/// human-readable lines.
#[napi(ts_args_type = "report: HealthReport")]
pub fn explain_health(report: Json) -> napi::Result<String> {
    guard(|| Ok(de::<core::HealthReport>(&report)?.explain()))
}
