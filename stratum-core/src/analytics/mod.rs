//! Marketing analytics over campaign data.
//!
//! * [`attribution`]: conversion credit per channel over conversion paths
//!   (last / first click, linear, time decay, position based, Markov removal
//!   effect solved exactly, Shapley values).
//! * [`anomaly`]: robust z-score, EWMA, CUSUM, seasonal ESD and level-shift
//!   detectors on metric series.
//! * [`pacing`]: spend to date against day / month budgets with projections.
//! * [`profit`]: profit, ROAS and POAS in exact decimals.
//!
//! See `docs/attribution.md`, `docs/anomaly.md` and `docs/pacing-profit.md`.

pub mod anomaly;
pub mod attribution;
pub(crate) mod linalg;
pub mod pacing;
pub mod profit;
pub(crate) mod rng;
