//! Event Match Quality: `stratum-emq-1`, a transparent, versioned 0..10 heuristic of
//! our own.
//!
//! **It is not Meta's Event Match Quality, nor any platform's score, and is never
//! labelled as one.** Platforms do not publish their formulas; this one is explicit
//! and calibratable.
//!
//! # The model
//!
//! Each customer-information key ([`EmqKey`]) has a weight `w` (defaults below, from
//! the priorities Meta publishes; configurable). For one event, `c = 1` when the key
//! is present *and valid after normalisation* (a pre-hashed value counts, flagged
//! unverifiable) and `0` otherwise; for a batch, `c` is the key's coverage (share of
//! events with it valid). With `S = Σ w·c` and `R` = {email, phone, external id,
//! click id, browser id, IP + UA}:
//!
//! ```text
//! EMQ = min(10, 10 · S / Σ_R w)        rounded to one decimal
//! ```
//!
//! Keys a platform lacks are left out of both `S` and `R` (the platform's model simply
//! has no weight for them). A fix for key `k` is worth an estimated
//! `w_k · (1 − c_k) · 10 / Σ_R w` EMQ points (at most the distance to 10).
//!
//! | key | basis | default `w` |
//! |---|---|---|
//! | email; click id | High | 3 each |
//! | phone, external id, browser id, birth date, country | Medium | 2 each |
//! | IP + UA (one key, both needed) | unlisted (D25) | 2 |
//! | first name, last name, city, zip | Low | 1 each |
//! | state, gender | unlisted (D25) | 0.5 each |
//!
//! With every default key, `Σ_R w = 3 + 2 + 2 + 3 + 2 + 2 = 14`; an event with only an
//! email and IP + UA scores `10 · (3 + 2) / 14 = 3.57… → 3.6`.
//!
//! ```
//! use stratum_core::emq::*;
//!
//! let model = EmqModel::default();
//! let event = EmqEvent::new().with(EmqKey::Email).with(EmqKey::IpUa);
//! let score = model.score(&event);
//! assert_eq!(score.score, 3.6);
//! assert_eq!(score.model, "stratum-emq-1");
//!
//! let events = vec![event.clone(), EmqEvent::new().with(EmqKey::Email)];
//! let report = model.report(&events, &ReportOptions::default())?;
//! // coverage: email 1.0, IP + UA 0.5 → 10 · (3 + 2 · 0.5) / 14 = 2.857… → 2.9
//! assert_eq!(report.emq, 2.9);
//! assert_eq!(report.fixes[0].key, EmqKey::ClickId);
//! # Ok::<(), stratum_core::Error>(())
//! ```

mod model;
mod report;

pub use model::{
    EmqEvent, EmqKey, EmqModel, EmqModelBuilder, EventScore, KeyContribution, KeyRule, KeySet,
    KeyState, MODEL_VERSION,
};
pub use report::{
    BatchReport, FixSuggestion, KeyCoverage, ReportOptions, RoasImpact, RoasModel,
    ScoreDistribution,
};
