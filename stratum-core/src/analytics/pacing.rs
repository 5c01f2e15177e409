//! Pacing: spend to date against the budget of a day or a month, the projected
//! end-of-period spend with a 95 % interval, and under / over-pacing alerts,
//! respecting the platform's overspend rules.
//!
//! Platforms let delivery overshoot a daily budget on some days and make it up on
//! others: Google Ads spends up to 2 × the average daily budget on a day and charges
//! at most 30.4 × it per month. [`OverspendRule`] holds those multipliers; the
//! projection is capped at the period's ceiling.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use rust_decimal::Decimal;
//! use stratum_core::analytics::pacing::*;
//!
//! let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
//! // 12 hours of 5.00 per hour against a daily budget of 100.
//! let spend: Vec<SpendPoint> = (1..=12)
//!     .map(|h| SpendPoint { at: start + chrono::TimeDelta::hours(h), spend: Decimal::new(500, 2) })
//!     .collect();
//! let input = PacingInput::day(start, Decimal::new(100, 0), Some(OverspendRule::GOOGLE), spend)?;
//! let report = pace(&input, start + chrono::TimeDelta::hours(12), &PacingConfig::default())?;
//! assert_eq!(report.spent, Decimal::new(60, 0));
//! assert_eq!(report.projected, Decimal::new(120, 0)); // 5/h × 24 h
//! assert_eq!(report.ceiling, Some(Decimal::new(200, 0))); // 2 × 100
//! assert_eq!(report.status, PacingStatus::OverPacing); // 1.2 > 1.15
//! # Ok::<(), stratum_core::Error>(())
//! ```

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A platform's overspend allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverspendRule {
    /// Most a day may spend, in daily budgets.
    pub daily_multiplier: Decimal,
    /// Most a month may be charged, in daily budgets.
    pub monthly_multiplier: Decimal,
}

impl OverspendRule {
    /// Google Ads: up to 2 × the daily budget per day, 30.4 × per month.
    pub const GOOGLE: OverspendRule = OverspendRule {
        daily_multiplier: Decimal::from_parts(2, 0, 0, false, 0),
        monthly_multiplier: Decimal::from_parts(304, 0, 0, false, 1),
    };
}

/// Spend in the interval ending at `at` (since the previous point, or the period
/// start for the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendPoint {
    /// End of the interval.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Spend in the interval, zero or more.
    pub spend: Decimal,
}

/// One period's budget and spend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacingInput {
    /// Period start.
    #[serde(with = "crate::digest::ts")]
    pub start: DateTime<Utc>,
    /// Period end (exclusive).
    #[serde(with = "crate::digest::ts")]
    pub end: DateTime<Utc>,
    /// Budget for the period.
    pub budget: Decimal,
    /// Most the platform may spend in the period, if it allows overspend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<Decimal>,
    /// Spend so far, strictly increasing by time, inside the period.
    pub spend: Vec<SpendPoint>,
}

impl PacingInput {
    /// One UTC day starting at `start`, with `daily_budget` and the day ceiling of
    /// `rule`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `budget` for a budget that is not positive.
    pub fn day(
        start: DateTime<Utc>,
        daily_budget: Decimal,
        rule: Option<OverspendRule>,
        spend: Vec<SpendPoint>,
    ) -> Result<PacingInput> {
        positive(daily_budget)?;
        Ok(PacingInput {
            start,
            end: start + TimeDelta::days(1),
            budget: daily_budget,
            ceiling: rule.map(|r| daily_budget * r.daily_multiplier),
            spend,
        })
    }

    /// The calendar month of `day` (UTC): budget `daily_budget × days in month`,
    /// ceiling `daily_budget × monthly_multiplier` of `rule`.
    ///
    /// # Errors
    /// As [`PacingInput::day`].
    pub fn month(
        day: NaiveDate,
        daily_budget: Decimal,
        rule: Option<OverspendRule>,
        spend: Vec<SpendPoint>,
    ) -> Result<PacingInput> {
        positive(daily_budget)?;
        let first = day.with_day(1).unwrap_or(day);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        let days = (next - first).num_days();
        let at = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        Ok(PacingInput {
            start: at(first),
            end: at(next),
            budget: daily_budget * Decimal::from(days),
            ceiling: rule.map(|r| daily_budget * r.monthly_multiplier),
            spend,
        })
    }
}

fn positive(budget: Decimal) -> Result<()> {
    if budget <= Decimal::ZERO {
        return Err(Error::observation(
            "budget",
            format!("must be positive, got {budget}"),
        ));
    }
    Ok(())
}

/// Alert thresholds on `projected / budget`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PacingConfig {
    /// Below this ratio the period is under-pacing (default 0.85).
    pub under: f64,
    /// Above this ratio the period is over-pacing (default 1.15).
    pub over: f64,
    /// No verdict before this share of the period has elapsed (default 0.1).
    pub min_elapsed: f64,
}

impl Default for PacingConfig {
    fn default() -> Self {
        PacingConfig {
            under: 0.85,
            over: 1.15,
            min_elapsed: 0.1,
        }
    }
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacingStatus {
    /// Too early in the period to judge.
    TooEarly,
    /// Projected below `under × budget`.
    UnderPacing,
    /// Within the thresholds.
    OnPace,
    /// Projected above `over × budget`.
    OverPacing,
}

/// Spend to date and the projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PacingReport {
    /// Spend so far.
    pub spent: Decimal,
    /// Budget of the period.
    pub budget: Decimal,
    /// Share of the period elapsed, 0..=1.
    pub elapsed: f64,
    /// Projected spend at the end of the period (capped at the ceiling), to cents.
    pub projected: Decimal,
    /// Lower end of the 95 % interval of the projection.
    pub projected_low: Decimal,
    /// Upper end of the 95 % interval of the projection (capped at the ceiling).
    pub projected_high: Decimal,
    /// Platform ceiling of the period, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<Decimal>,
    /// Uncapped projected spend / budget (what the verdict is based on).
    pub pace: f64,
    /// Verdict.
    pub status: PacingStatus,
    /// One sentence for people.
    pub explanation: String,
}

/// Judges the pacing of `input` as of `now`.
///
/// The spend rate is the spend so far per hour elapsed; the projection adds that
/// rate over the hours left. The interval treats the remaining hours as draws of the
/// observed per-hour rates: ± 1.96 × sd(rate per interval) × √(hours left × mean
/// interval hours).
///
/// # Errors
/// [`Error::InvalidObservation`] for a period that does not end after it starts, a
/// budget that is not positive, `now` outside the period, negative spend, points out
/// of time order, outside the period or after `now`; [`Error::InvalidConfig`] on
/// `pacing.*` for thresholds with `0 < under ≤ 1 ≤ over` broken.
pub fn pace(
    input: &PacingInput,
    now: DateTime<Utc>,
    config: &PacingConfig,
) -> Result<PacingReport> {
    if !(config.under > 0.0 && config.under <= 1.0 && config.over >= 1.0 && config.over.is_finite())
    {
        return Err(Error::config(
            "pacing.under",
            format!(
                "thresholds must satisfy 0 < under ≤ 1 ≤ over, got {} and {}",
                config.under, config.over
            ),
        ));
    }
    if !(0.0..1.0).contains(&config.min_elapsed) {
        return Err(Error::config(
            "pacing.min_elapsed",
            format!("must be in 0..1, got {}", config.min_elapsed),
        ));
    }
    if input.end <= input.start {
        return Err(Error::observation(
            "end",
            format!("must be after start ({}), got {}", input.start, input.end),
        ));
    }
    positive(input.budget)?;
    if now <= input.start || now > input.end {
        return Err(Error::observation(
            "now",
            format!(
                "must be inside the period {}..{}, got {now}",
                input.start, input.end
            ),
        ));
    }
    let mut prev = input.start;
    let mut spent = Decimal::ZERO;
    let mut rates: Vec<f64> = Vec::with_capacity(input.spend.len());
    let mut interval_hours = 0.0;
    for (i, p) in input.spend.iter().enumerate() {
        if p.spend < Decimal::ZERO {
            return Err(Error::observation(
                format!("spend[{i}].spend"),
                format!("must be zero or more, got {}", p.spend),
            ));
        }
        if p.at <= prev || p.at > now {
            return Err(Error::observation(
                format!("spend[{i}].at"),
                format!(
                    "must be after {prev} and no later than now ({now}), strictly increasing, got {}",
                    p.at
                ),
            ));
        }
        let hours = hours(p.at - prev);
        interval_hours += hours;
        rates.push(p.spend.to_f64().unwrap_or(0.0) / hours);
        spent += p.spend;
        prev = p.at;
    }
    let total_h = hours(input.end - input.start);
    let elapsed_h = hours(now - input.start);
    let left_h = (total_h - elapsed_h).max(0.0);
    let rate = spent.to_f64().unwrap_or(0.0) / elapsed_h;
    let mean_interval = if rates.is_empty() {
        1.0
    } else {
        interval_hours / rates.len() as f64
    };
    let sd = if rates.len() > 1 {
        let m = rates.iter().sum::<f64>() / rates.len() as f64;
        (rates.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (rates.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    let spent_f = spent.to_f64().unwrap_or(0.0);
    let mid = spent_f + rate * left_h;
    let half = 1.96 * sd * (left_h * mean_interval).sqrt();
    let cap = |v: f64| -> Decimal {
        let d = Decimal::from_f64(v.max(spent_f))
            .unwrap_or(spent)
            .round_dp(2)
            .max(spent);
        match input.ceiling {
            Some(c) => d.min(c.max(spent)),
            None => d,
        }
    };
    let projected = cap(mid);
    let budget_f = input.budget.to_f64().unwrap_or(f64::MAX);
    // The verdict uses the uncapped projection: delivery running at twice the
    // budget is over-pacing even if the platform will not charge for all of it.
    let pace = mid.max(spent_f) / budget_f;
    let elapsed = (elapsed_h / total_h).clamp(0.0, 1.0);
    let status = if elapsed < config.min_elapsed {
        PacingStatus::TooEarly
    } else if pace < config.under {
        PacingStatus::UnderPacing
    } else if pace > config.over {
        PacingStatus::OverPacing
    } else {
        PacingStatus::OnPace
    };
    let explanation = format!(
        "spent {spent} of {} with {:.0} % of the period elapsed; projected {projected} ({:.0} % of budget){}",
        input.budget,
        elapsed * 100.0,
        pace * 100.0,
        match input.ceiling {
            Some(c) if projected >= c => format!(", capped at the platform ceiling {c}"),
            _ => String::new(),
        }
    );
    Ok(PacingReport {
        spent,
        budget: input.budget,
        elapsed,
        projected,
        projected_low: cap(mid - half),
        projected_high: cap(mid + half),
        ceiling: input.ceiling,
        pace,
        status,
        explanation,
    })
}

fn hours(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 3_600_000.0
}
