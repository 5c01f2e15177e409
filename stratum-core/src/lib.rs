//! # stratum-core
//!
//! The trust engine of Stratum: **automation executes only when the signals it acts
//! on are healthy.**
//!
//! ```text
//! signals ──► health scoring ──► trust gate ──► decision ──► audit log
//! ```
//!
//! * [`health`]: observations per scope (tenant / platform / ad account) → a 0..100
//!   score with a status and an explanation per component.
//! * [`gate`]: the trust gate — thresholds, minimum evidence, hysteresis, enforcement
//!   modes, overrides — turning a health report and a proposed action into a
//!   [`gate::Decision`].
//! * [`guardrails`]: policy limits on the size, frequency and evidence of actions.
//! * [`audit`]: the append-only, hash-chained audit log; every decision writes
//!   exactly one record.
//! * [`backtest`]: replay history through a config, compare two configs.
//! * [`emq`]: `stratum-emq-1`, our transparent Event Match Quality heuristic (not a
//!   platform's score): per-event scores, batch coverage and ranked fixes.
//! * [`time`]: validation of time arguments from hosts (`invalid_time`).
//! * [`autopilot`]: rules over campaign metrics whose proposals go through the
//!   gate into an audited action queue with undo.
//! * [`analytics`]: attribution (including exact Markov and Shapley), anomaly
//!   detection, pacing, budget allocation and what-if, profit.
//!
//! All public types serialise to stable snake_case JSON with `serde`; money is
//! [`rust_decimal::Decimal`], time is [`chrono::DateTime<chrono::Utc>`]. Every fallible
//! function returns [`Error`], whose [`Error::code`] is stable.
//!
//! ## Feature flags
//!
//! `stratum-core` has no optional features. On `wasm32` targets SHA-256 comes from
//! RustCrypto's `sha2`; elsewhere from `ring`'s assembly implementation.
//!
//! ## Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use rust_decimal::Decimal;
//! use stratum_core::{audit::AuditLog, gate::*, health::*};
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let scope = Scope::tenant("acme").platform("meta").ad_account("act_1");
//! let mut signals = Signals::new(scope.clone());
//! signals.emq = Some(EmqObservation { observed_at: now, score: 8.6, events: 12_000 });
//! signals.api = Some(ApiObservation {
//!     observed_at: now, total: 2_000, succeeded: 1_990, p95_latency_ms: 420.0,
//!     rate_limited: 6, server_errors: 4, bursts: 0,
//! });
//! signals.events = Some(EventObservation { observed_at: now, sent: 12_000, confirmed: 11_820, duplicates: 0 });
//! signals.stability = Some(StabilityObservation { observed_at: now, incidents: 0, error_rates: vec![0.004, 0.006, 0.005] });
//! signals.data_quality = Some(DataQualityObservation { observed_at: now, total: 12_000, valid: 11_900, stale: 40 });
//!
//! let mut gate = TrustGate::new(TrustGateConfig::default());
//! let mut audit = AuditLog::in_memory();
//! let action = ProposedAction::new(
//!     ActionKind::BudgetChange { from: Decimal::new(500, 0), to: Decimal::new(550, 0) },
//!     Target::new(scope, "cmp_42"),
//!     Actor::autopilot(),
//! );
//! let decision = gate.decide(&signals, &action, now, &mut audit)?;
//! assert_eq!(decision.outcome, Outcome::Execute);
//! assert_eq!(audit.verify()?.len, 1);
//! # Ok::<(), stratum_core::Error>(())
//! ```

pub mod analytics;
pub mod audit;
pub mod autopilot;
pub mod backtest;
pub mod digest;
pub mod emq;
mod error;
pub mod gate;
pub mod guardrails;
pub mod health;
pub mod json;
pub mod time;
mod validate;

pub use error::{Error, IntegrityProblem, Result, from_json, from_json_slice};

/// The guides in `docs/`, compiled as doctests so that every number they show is
/// checked.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/health.md")]
    struct Health;
    #[doc = include_str!("../../docs/trust-gate.md")]
    struct TrustGate;
    #[doc = include_str!("../../docs/audit.md")]
    struct Audit;
    #[doc = include_str!("../../docs/backtest.md")]
    struct Backtest;
    #[doc = include_str!("../../docs/emq.md")]
    struct Emq;
    #[doc = include_str!("../../docs/autopilot.md")]
    struct Autopilot;
    #[doc = include_str!("../../docs/attribution.md")]
    struct Attribution;
    #[doc = include_str!("../../docs/anomaly.md")]
    struct Anomaly;
    #[doc = include_str!("../../docs/pacing-profit.md")]
    struct PacingProfit;
    #[doc = include_str!("../../docs/allocation.md")]
    struct Allocation;
}
