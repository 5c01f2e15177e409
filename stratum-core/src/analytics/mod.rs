//! Marketing analytics over campaign data.
//!
//! * [`attribution`]: conversion credit per channel over conversion paths
//!   (last / first click, linear, time decay, position based, Markov removal
//!   effect solved exactly, Shapley values).
//!
//! See `docs/attribution.md` for the models and worked examples.

pub mod anomaly;
pub mod attribution;
pub(crate) mod linalg;
pub mod pacing;
pub mod profit;
pub(crate) mod rng;
