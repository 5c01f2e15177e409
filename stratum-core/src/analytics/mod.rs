//! Marketing analytics over campaign data.
//!
//! * [`attribution`]: conversion credit per channel over conversion paths
//!   (last / first click, linear, time decay, position based, Markov removal
//!   effect on a sparse absorbing chain, Shapley values).
//! * [`anomaly`]: robust z-score, EWMA, CUSUM, seasonal ESD and level-shift
//!   detectors on metric series.
//! * [`pacing`]: spend to date against day / month budgets with projections.
//! * [`allocation`]: adstock + Hill response curves, a marginal-ROAS allocator
//!   within bounds, and what-if.
//! * [`incidents`]: incidents opened and closed from anomalies, feeding the
//!   `platform_stability` health component.
//! * [`profit`]: profit, ROAS and POAS in exact decimals.
//!
//! See `docs/attribution.md`, `docs/anomaly.md`, `docs/pacing-profit.md` and
//! `docs/allocation.md`.

pub mod allocation;
pub mod anomaly;
pub mod attribution;
pub mod incidents;
#[cfg(test)]
pub(crate) mod linalg;
pub mod pacing;
pub mod profit;
pub(crate) mod rng;
