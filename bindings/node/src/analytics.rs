//! Backtests, attribution, anomaly detection and the autopilot.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use napi::Either;
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use stratum_core::analytics::{anomaly, attribution};
use stratum_core::backtest as bt;

use crate::audit::AuditLog;
use crate::conv::caught;
use crate::conv::{Job, Json, de, de_or_default, guard, job, lock, ser, time};
use crate::gate::TrustGate;

/// Replays a metric history through a gate config; resolves to the report.
#[napi(
    ts_args_type = "config: TrustGateConfig, steps: BacktestStep[]",
    ts_return_type = "Promise<BacktestReport>"
)]
pub fn backtest(config: Json, steps: Json) -> AsyncTask<Job> {
    job(move || {
        let config: stratum_core::gate::TrustGateConfig = de(&config)?;
        let steps: Vec<bt::BacktestStep> = de(&steps)?;
        ser(&bt::run(&config, &steps)?)
    })
}

/// Replays one history through two configs; resolves to both reports and where
/// they differ.
#[napi(
    ts_args_type = "baseline: TrustGateConfig, candidate: TrustGateConfig, steps: BacktestStep[]",
    ts_return_type = "Promise<ConfigComparison>"
)]
pub fn compare_configs(baseline: Json, candidate: Json, steps: Json) -> AsyncTask<Job> {
    job(move || {
        let baseline: stratum_core::gate::TrustGateConfig = de(&baseline)?;
        let candidate: stratum_core::gate::TrustGateConfig = de(&candidate)?;
        let steps: Vec<bt::BacktestStep> = de(&steps)?;
        ser(&bt::compare(&baseline, &candidate, &steps)?)
    })
}

/// Credits conversions to touchpoints with `model`; resolves to the credit per
/// channel.
#[napi(
    ts_args_type = "paths: ConversionPath[], model: AttributionModel",
    ts_return_type = "Promise<Attribution>"
)]
pub fn attribute(paths: Json, model: Json) -> AsyncTask<Job> {
    job(move || {
        let paths: Vec<attribution::ConversionPath> = de(&paths)?;
        let model: attribution::Model = de(&model)?;
        let set = attribution::PathSet::from_paths(&paths)?;
        ser(&attribution::attribute(&set, &model)?)
    })
}

/// Finds anomalies in a metric series; resolves to them, oldest first.
#[napi(
    ts_args_type = "series: SeriesPoint[], config?: AnomalyConfig | undefined | null",
    ts_return_type = "Promise<Anomaly[]>"
)]
pub fn detect_anomalies(series: Json, config: Option<Json>) -> AsyncTask<Job> {
    job(move || {
        let series: Vec<anomaly::Point> = de(&series)?;
        let config: anomaly::AnomalyConfig = de_or_default(config.as_ref())?;
        ser(&anomaly::detect(&series, &config)?)
    })
}

/// Rules over campaign metrics whose proposals go through the trust gate into an
/// audited action queue.
#[napi]
pub struct Autopilot(Arc<Mutex<stratum_core::autopilot::Autopilot>>);

#[napi]
impl Autopilot {
    /// An autopilot with `rules` (their JSON form).
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "AutopilotRules")] rules: Json) -> napi::Result<Self> {
        guard(|| {
            Ok(Self(Arc::new(Mutex::new(
                stratum_core::autopilot::Autopilot::new(de(&rules)?),
            ))))
        })
    }

    /// Runs the rules on `metrics`, judges each proposal with `gate` and audits
    /// every decision; resolves to the run report.
    #[napi(ts_return_type = "Promise<AutopilotReport>")]
    pub fn run(
        &self,
        #[napi(ts_arg_type = "CampaignMetrics[]")] metrics: Json,
        #[napi(ts_arg_type = "SignalsData[]")] signals: Json,
        gate: &TrustGate,
        audit: &AuditLog,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> AsyncTask<Job> {
        let prepared = caught(|| {
            let metrics: Vec<stratum_core::autopilot::CampaignMetrics> = de(&metrics)?;
            let signals: Vec<stratum_core::health::Signals> = de(&signals)?;
            Ok((time(now)?, metrics, signals))
        });
        let (me, gate, audit) = (
            Arc::clone(&self.0),
            Arc::clone(&gate.0),
            Arc::clone(&audit.0),
        );
        job(move || {
            let (now, metrics, signals) = prepared?;
            // Lock order: autopilot, gate, audit log.
            let mut autopilot = lock(&me)?;
            let mut gate = lock(&gate)?;
            let report = autopilot.run(now, &metrics, &signals, &mut gate, &mut *lock(&audit)?)?;
            ser(&report)
        })
    }

    /// What `run` would propose and decide, without changing or recording anything.
    #[napi(ts_return_type = "AutopilotReport")]
    pub fn preview(
        &self,
        #[napi(ts_arg_type = "CampaignMetrics[]")] metrics: Json,
        #[napi(ts_arg_type = "SignalsData[]")] signals: Json,
        gate: &TrustGate,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let now = time(now)?;
            let metrics: Vec<stratum_core::autopilot::CampaignMetrics> = de(&metrics)?;
            let signals: Vec<stratum_core::health::Signals> = de(&signals)?;
            let autopilot = lock(&self.0)?;
            let report = autopilot.preview(now, &metrics, &signals, &*lock(&gate.0)?)?;
            ser(&report)
        })
    }
}
