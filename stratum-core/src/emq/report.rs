//! Batch reports: per-key coverage, the score distribution, duplicates and fix
//! suggestions ranked by estimated EMQ gain, with an estimated ROAS impact.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use foldhash::HashSet;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{EmqEvent, EmqKey, EmqModel, MODEL_VERSION, round1};
use crate::error::{Error, Result};
use crate::health::EmqObservation;

/// The documented, configurable model that turns an EMQ gain into money.
///
/// ```text
/// matched-conversion uplift  = uplift_per_point · ΔEMQ
/// Δ attributed revenue       = attributed_revenue · matched-conversion uplift
/// Δ ROAS                     = Δ attributed revenue / spend
/// ```
///
/// `uplift_per_point` is the relative increase in conversions the platform can
/// attribute per EMQ point gained; it is an assumption to calibrate against your own
/// before/after data (default 0.03, i.e. +3 % matched conversions per point).
/// Revenue and spend are for the period the batch represents.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "RawRoasModel")]
pub struct RoasModel {
    uplift_per_point: f64,
    attributed_revenue: Decimal,
    spend: Decimal,
}

crate::validated_deserialize!(RoasModel, RawRoasModel);

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoasModel {
    #[serde(default = "default_uplift")]
    uplift_per_point: f64,
    attributed_revenue: Decimal,
    spend: Decimal,
}

fn default_uplift() -> f64 {
    RoasModel::DEFAULT_UPLIFT_PER_POINT
}

impl TryFrom<RawRoasModel> for RoasModel {
    type Error = Error;

    fn try_from(r: RawRoasModel) -> Result<Self> {
        RoasModel::new(r.attributed_revenue, r.spend)?.with_uplift_per_point(r.uplift_per_point)
    }
}

impl From<RoasModel> for RawRoasModel {
    fn from(m: RoasModel) -> Self {
        Self {
            uplift_per_point: m.uplift_per_point,
            attributed_revenue: m.attributed_revenue,
            spend: m.spend,
        }
    }
}

impl RoasModel {
    /// Default matched-conversion uplift per EMQ point: 0.03.
    pub const DEFAULT_UPLIFT_PER_POINT: f64 = 0.03;

    /// A model with the default uplift.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when revenue is negative or spend is not positive.
    pub fn new(attributed_revenue: Decimal, spend: Decimal) -> Result<Self> {
        if attributed_revenue < Decimal::ZERO {
            return Err(Error::config(
                "roas.attributed_revenue",
                format!("is {attributed_revenue}; it must be 0 or more"),
            ));
        }
        if spend <= Decimal::ZERO {
            return Err(Error::config(
                "roas.spend",
                format!("is {spend}; it must be positive (ROAS divides by it)"),
            ));
        }
        // The largest estimate is 10 points at an uplift of 1 per point: ten times
        // the revenue, over the spend; it must fit a decimal.
        if attributed_revenue
            .checked_mul(Decimal::TEN)
            .and_then(|r| r.checked_div(spend))
            .is_none()
        {
            return Err(Error::config(
                "roas.spend",
                format!(
                    "is {spend}, too small for an attributed revenue of {attributed_revenue}: \
                     ROAS estimates would not fit a decimal"
                ),
            ));
        }
        Ok(Self {
            uplift_per_point: Self::DEFAULT_UPLIFT_PER_POINT,
            attributed_revenue,
            spend,
        })
    }

    /// Sets the matched-conversion uplift per EMQ point.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] unless `0 ≤ uplift ≤ 1`.
    pub fn with_uplift_per_point(mut self, uplift: f64) -> Result<Self> {
        crate::validate::finite_in(
            crate::validate::config_err,
            "roas.uplift_per_point",
            uplift,
            0.0,
            1.0,
        )?;
        self.uplift_per_point = uplift;
        Ok(self)
    }

    /// The estimated effect of gaining `emq_gain` points.
    #[must_use]
    pub fn impact(&self, emq_gain: f64) -> RoasImpact {
        let uplift = self.uplift_per_point * emq_gain.max(0.0);
        let share = Decimal::from_f64_retain(uplift)
            .unwrap_or_default()
            .round_dp(6);
        // Cannot overflow for a gain of at most 10 points (checked by `new`); a
        // larger gain saturates.
        let revenue = self
            .attributed_revenue
            .checked_mul(share)
            .unwrap_or(Decimal::MAX)
            .round_dp(2);
        let roas = revenue
            .checked_div(self.spend)
            .unwrap_or(Decimal::MAX)
            .round_dp(4);
        RoasImpact {
            matched_conversion_uplift: (uplift * 1e6).round() / 1e6,
            attributed_revenue_delta: revenue,
            roas_delta: roas,
        }
    }
}

/// The money side of one fix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoasImpact {
    /// Relative increase in matched (attributable) conversions, e.g. 0.042.
    pub matched_conversion_uplift: f64,
    /// Additional attributed revenue for the period, 2 decimals.
    pub attributed_revenue_delta: Decimal,
    /// Additional ROAS (revenue / spend), 4 decimals.
    pub roas_delta: Decimal,
}

/// Options of [`EmqModel::report`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportOptions {
    /// Turns EMQ gains into ROAS estimates; without it fixes carry no money figures.
    #[serde(default)]
    pub roas: Option<RoasModel>,
}

/// One key over the batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyCoverage {
    /// The key.
    pub key: EmqKey,
    /// Its weight.
    pub weight: f64,
    /// Events where it is valid (including pre-hashed).
    pub valid: u64,
    /// Of those, events where it arrived pre-hashed (unverifiable).
    pub pre_hashed: u64,
    /// Events where it was sent but invalid.
    pub invalid: u64,
    /// Events without it.
    pub missing: u64,
    /// `valid / events` (0 for an empty batch).
    pub coverage: f64,
}

/// Per-event scores over the batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreDistribution {
    /// Events per score band: `[0,1), [1,2), …, [9,10]` (10 bands; 10.0 is in the last).
    pub bands: [u64; 10],
    /// Mean per-event score.
    pub mean: f64,
    /// 10th percentile (one decimal).
    pub p10: f64,
    /// Median (one decimal).
    pub p50: f64,
    /// 90th percentile (one decimal).
    pub p90: f64,
}

/// A missing or invalid key worth fixing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixSuggestion {
    /// The key.
    pub key: EmqKey,
    /// Estimated batch EMQ gain if every event carried the key valid:
    /// `min(w · (1 − c) · 10 / Σ_R w, 10 − EMQ)`.
    pub estimated_emq_gain: f64,
    /// Share of events without the key.
    pub missing_share: f64,
    /// Share of events where it was sent but invalid.
    pub invalid_share: f64,
    /// Money estimate, when [`ReportOptions::roas`] is set.
    pub roas_impact: Option<RoasImpact>,
    /// What to do, concretely.
    pub remediation: String,
}

/// EMQ over a batch of events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Always [`MODEL_VERSION`]: our heuristic, not a platform's score.
    pub model: String,
    /// The model's name (the platform it describes).
    pub model_name: String,
    /// Events in the batch.
    pub events: u64,
    /// `min(10, 10 · Σ w·coverage / Σ_R w)`, one decimal.
    pub emq: f64,
    /// One entry per key of the model, in [`EmqKey::ALL`] order.
    pub coverage: Vec<KeyCoverage>,
    /// Per-event score distribution.
    pub distribution: ScoreDistribution,
    /// Events whose `event_id` already appeared earlier in the batch.
    pub duplicates: u64,
    /// Events without an `event_id` (they cannot be de-duplicated).
    pub without_event_id: u64,
    /// Missing or invalid keys, largest estimated EMQ gain first.
    pub fixes: Vec<FixSuggestion>,
}

impl BatchReport {
    /// The batch EMQ as the `emq` signal of health scoring.
    #[must_use]
    pub fn observation(&self, observed_at: DateTime<Utc>) -> EmqObservation {
        EmqObservation {
            observed_at,
            score: self.emq,
            events: self.events,
        }
    }
}

impl EmqModel {
    /// The batch report: coverage, distribution, duplicates and ranked fixes.
    ///
    /// # Errors
    ///
    /// None today for a valid model; the `Result` leaves room for options that can
    /// conflict with a batch.
    pub fn report(&self, events: &[EmqEvent], options: &ReportOptions) -> Result<BatchReport> {
        let mut valid = [0u64; 14];
        let mut pre = [0u64; 14];
        let mut invalid = [0u64; 14];
        let mut tenths = [0u64; 101];
        let mut sum = 0.0;
        let mut seen: HashSet<&str> =
            HashSet::with_capacity_and_hasher(events.len(), foldhash::fast::RandomState::default());
        let mut duplicates = 0;
        let mut without_id = 0;
        for e in events {
            for k in (e.valid.0 & self.keys().0).ones() {
                valid[k] += 1;
            }
            for k in (e.pre_hashed.0 & e.valid.0 & self.keys().0).ones() {
                pre[k] += 1;
            }
            for k in (e.invalid.0 & !e.valid.0 & self.keys().0).ones() {
                invalid[k] += 1;
            }
            let score = self.raw_score(e.valid).min(10.0);
            sum += score;
            tenths[((score * 10.0).round() as usize).min(100)] += 1;
            match &e.event_id {
                Some(id) => {
                    if !seen.insert(id.as_str()) {
                        duplicates += 1;
                    }
                }
                None => without_id += 1,
            }
        }
        let n = events.len() as u64;
        let share = |c: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        let coverage: Vec<KeyCoverage> = self
            .rules()
            .iter()
            .map(|r| {
                let i = r.key as usize;
                KeyCoverage {
                    key: r.key,
                    weight: r.weight,
                    valid: valid[i],
                    pre_hashed: pre[i],
                    invalid: invalid[i],
                    missing: n - valid[i] - invalid[i],
                    coverage: share(valid[i]),
                }
            })
            .collect();
        let s: f64 = coverage.iter().map(|c| c.weight * c.coverage).sum();
        let emq = round1((10.0 * s / self.reference_total()).min(10.0));
        let headroom = (10.0 - emq).max(0.0);
        let mut fixes: Vec<FixSuggestion> = coverage
            .iter()
            .zip(self.rules())
            .filter(|(c, r)| n > 0 && c.valid < n && r.weight > 0.0)
            .map(|(c, r)| {
                let gain =
                    (r.weight * (1.0 - c.coverage) * 10.0 / self.reference_total()).min(headroom);
                let missing_share = share(c.missing);
                let invalid_share = share(c.invalid);
                FixSuggestion {
                    key: r.key,
                    estimated_emq_gain: (gain * 100.0).round() / 100.0,
                    missing_share,
                    invalid_share,
                    roas_impact: options.roas.as_ref().map(|m| m.impact(gain)),
                    remediation: remediation(
                        &r.label,
                        &r.source,
                        &r.invalid_hint,
                        missing_share,
                        invalid_share,
                    ),
                }
            })
            .filter(|f| f.estimated_emq_gain > 0.0)
            .collect();
        fixes.sort_by(|a, b| {
            b.estimated_emq_gain
                .total_cmp(&a.estimated_emq_gain)
                .then(a.key.cmp(&b.key))
        });
        Ok(BatchReport {
            model: MODEL_VERSION.to_owned(),
            model_name: self.name().to_owned(),
            events: n,
            emq,
            coverage,
            distribution: distribution(&tenths, sum, n),
            duplicates,
            without_event_id: without_id,
            fixes,
        })
    }
}

trait Ones {
    fn ones(self) -> OnesIter;
}

impl Ones for u16 {
    fn ones(self) -> OnesIter {
        OnesIter(self)
    }
}

struct OnesIter(u16);

impl Iterator for OnesIter {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

#[cfg(test)]
fn pct(share: f64) -> String {
    let mut out = String::new();
    push_pct(&mut out, share);
    out
}

/// Appends `share` as a whole percentage (`12%`, `<1%` for a share under one
/// percent that is not zero).
fn push_pct(out: &mut String, share: f64) {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        out.push_str("<1%");
    } else if p.fract() == 0.0 && (0.0..1e15).contains(&p) {
        // Whole percentages (every share of a one-event report) print as integers,
        // without the exact-rounding float formatter: the same text, far faster.
        let _ = write!(out, "{}%", p as u64);
    } else {
        let _ = write!(out, "{p:.0}%");
    }
}

/// What to do about a key: send it where it is missing, fix it where it is
/// invalid (both, joined by `; `, when both happen). Written into one string: a
/// preview builds one per key on every keystroke.
fn remediation(label: &str, source: &str, hint: &str, missing: f64, invalid: f64) -> String {
    let mut out = String::with_capacity(2 * label.len() + source.len() + hint.len() + 112);
    if missing > 0.0 {
        out.push_str("send `");
        out.push_str(label);
        out.push_str("` ");
        out.push_str(source);
        out.push_str(" on the ");
        push_pct(&mut out, missing);
        out.push_str(" of events that lack it");
    }
    if invalid > 0.0 {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str("fix `");
        out.push_str(label);
        out.push_str("` on the ");
        push_pct(&mut out, invalid);
        out.push_str(" of events where it is invalid: ");
        out.push_str(hint);
    }
    out
}

fn distribution(tenths: &[u64; 101], sum: f64, n: u64) -> ScoreDistribution {
    let mut bands = [0u64; 10];
    for (t, count) in tenths.iter().enumerate() {
        bands[(t / 10).min(9)] += count;
    }
    let quantile = |q: f64| {
        if n == 0 {
            return 0.0;
        }
        // Nearest-rank: the smallest score with at least ceil(q·n) events at or below.
        let rank = ((q * n as f64).ceil() as u64).max(1);
        let mut acc = 0;
        for (t, count) in tenths.iter().enumerate() {
            acc += count;
            if acc >= rank {
                return t as f64 / 10.0;
            }
        }
        10.0
    };
    ScoreDistribution {
        bands,
        mean: if n == 0 { 0.0 } else { round1(sum / n as f64) },
        p10: quantile(0.1),
        p50: quantile(0.5),
        p90: quantile(0.9),
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The whole-percentage fast path prints what the float formatter prints.
        #[test]
        fn pct_is_the_rounded_percentage(num in 0u32..=1000, den in 1u32..=1000) {
            let share = f64::from(num.min(den)) / f64::from(den);
            let p = share * 100.0;
            let expected = if p > 0.0 && p < 1.0 { "<1%".to_owned() } else { format!("{p:.0}%") };
            proptest::prop_assert_eq!(super::pct(share), expected);
        }
    }

    use rust_decimal::Decimal;

    fn decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::new(1, 28)),
            Just(Decimal::ONE),
            (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m.saturating_abs(), s)),
        ]
    }

    proptest::proptest! {
        /// A ROAS model is refused or estimates any gain without overflowing.
        #[test]
        fn roas_estimates_never_overflow(
            revenue in decimal(),
            spend in decimal(),
            uplift in 0.0f64..=1.0,
            gain in proptest::prop_oneof![0.0f64..=10.0, proptest::strategy::Just(1e300)],
        ) {
            match super::RoasModel::new(revenue, spend) {
                Err(e) => proptest::prop_assert!(e.field().is_some_and(|f| f.starts_with("roas."))),
                Ok(m) => {
                    let m = m.with_uplift_per_point(uplift).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                    let i = m.impact(gain);
                    proptest::prop_assert!(i.roas_delta >= Decimal::ZERO);
                }
            }
        }
    }

    #[test]
    fn a_spend_too_small_for_the_revenue_is_refused() {
        let e = super::RoasModel::new(Decimal::MAX, Decimal::new(1, 28)).err();
        assert_eq!(e.as_ref().map(crate::Error::code), Some("invalid_config"));
        assert_eq!(e.as_ref().and_then(crate::Error::field), Some("roas.spend"));
    }

    #[test]
    fn whole_percentages() {
        assert_eq!(super::pct(1.0), "100%");
        assert_eq!(super::pct(0.0), "0%");
        assert_eq!(super::pct(0.5), "50%");
        assert_eq!(super::pct(0.125), "12%");
    }
}
