//! Campaign metrics the rules read, and their aggregation over windows.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::rules::{Aggregation, Condition, Metric};
use crate::error::{Error, Result};
use crate::gate::Target;

/// One UTC day of a campaign's delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyMetrics {
    /// The UTC day.
    pub date: NaiveDate,
    /// Spend, zero or more.
    pub spend: Decimal,
    /// Impressions.
    pub impressions: u64,
    /// Clicks.
    pub clicks: u64,
    /// Conversions.
    pub conversions: u64,
    /// Revenue, zero or more.
    pub revenue: Decimal,
}

/// Whether a campaign is delivering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Delivering.
    #[default]
    Active,
    /// Paused.
    Paused,
}

/// A campaign (or ad set) with its current settings and daily history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignMetrics {
    /// The entity.
    pub target: Target,
    /// Current daily budget, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Decimal>,
    /// Current bid, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<Decimal>,
    /// Delivery status.
    #[serde(default)]
    pub status: DeliveryStatus,
    /// Daily metrics, strictly increasing by date; missing days count as zero.
    pub days: Vec<DailyMetrics>,
}

impl CampaignMetrics {
    /// Checks ids, amounts and date order.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] naming the field under `p` (e.g.
    /// `campaigns[3].days[2].spend`) for negative money, clicks above impressions or
    /// dates that are not strictly increasing; [`Error::InvalidAction`] for an empty
    /// target id.
    pub fn validate(&self, p: &str) -> Result<()> {
        self.validate_relative().map_err(|e| match e {
            Error::InvalidAction { field, message } => {
                Error::action(format!("{p}.{field}"), message)
            }
            Error::InvalidObservation { field, message } => {
                Error::observation(format!("{p}.{field}"), message)
            }
            other => other,
        })
    }

    /// As [`CampaignMetrics::validate`], with fields relative to the campaign.
    fn validate_relative(&self) -> Result<()> {
        if self.target.id.trim().is_empty() {
            return Err(Error::action("target.id", "must be a non-empty entity id"));
        }
        for (name, v) in [("budget", self.budget), ("bid", self.bid)] {
            if let Some(v) = v
                && v < Decimal::ZERO
            {
                return Err(Error::observation(
                    name,
                    format!("must be zero or more, got {v}"),
                ));
            }
        }
        let mut prev: Option<NaiveDate> = None;
        for (i, d) in self.days.iter().enumerate() {
            let dp = || format!("days[{i}]");
            if let Some(prev) = prev
                && d.date <= prev
            {
                return Err(Error::observation(
                    format!("{}.date", dp()),
                    format!(
                        "days must be strictly increasing by date; {} follows {prev}",
                        d.date
                    ),
                ));
            }
            prev = Some(d.date);
            for (name, v) in [("spend", d.spend), ("revenue", d.revenue)] {
                if v < Decimal::ZERO {
                    return Err(Error::observation(
                        format!("{}.{name}", dp()),
                        format!("must be zero or more, got {v}"),
                    ));
                }
            }
            if d.clicks > d.impressions {
                return Err(Error::observation(
                    format!("{}.clicks", dp()),
                    format!(
                        "must not exceed impressions ({}), got {}",
                        d.impressions, d.clicks
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The days within `[end - window_days, end)`: complete days before `end`.
    #[must_use]
    pub fn window(&self, end: NaiveDate, window_days: u32) -> &[DailyMetrics] {
        let start = end
            .checked_sub_days(chrono::Days::new(u64::from(window_days)))
            .unwrap_or(NaiveDate::MIN);
        let lo = self.days.partition_point(|d| d.date < start);
        let hi = self.days.partition_point(|d| d.date < end);
        self.days.get(lo..hi).unwrap_or(&[])
    }
}

/// Window totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ spend.
    pub spend: Decimal,
    /// Σ impressions.
    pub impressions: u64,
    /// Σ clicks.
    pub clicks: u64,
    /// Σ conversions.
    pub conversions: u64,
    /// Σ revenue.
    pub revenue: Decimal,
    /// Days in the window (whether or not they have data).
    pub days: u32,
}

impl Totals {
    /// Sums `days`; `window_days` is the window's length.
    #[must_use]
    pub fn of(days: &[DailyMetrics], window_days: u32) -> Totals {
        let mut t = Totals {
            days: window_days,
            ..Totals::default()
        };
        for d in days {
            t.spend += d.spend;
            t.impressions = t.impressions.saturating_add(d.impressions);
            t.clicks = t.clicks.saturating_add(d.clicks);
            t.conversions = t.conversions.saturating_add(d.conversions);
            t.revenue += d.revenue;
        }
        t
    }

    /// The metric's value on these totals; `None` where a ratio's denominator is 0
    /// (a condition on an undefined value never holds).
    #[must_use]
    pub fn value(&self, metric: Metric, budget: Option<Decimal>) -> Option<f64> {
        value_of(
            metric,
            self.spend.to_f64().unwrap_or(f64::MAX),
            self.impressions as f64,
            self.clicks as f64,
            self.conversions as f64,
            self.revenue.to_f64().unwrap_or(f64::MAX),
            f64::from(self.days),
            budget,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn value_of(
    metric: Metric,
    spend: f64,
    impressions: f64,
    clicks: f64,
    conversions: f64,
    revenue: f64,
    days: f64,
    budget: Option<Decimal>,
) -> Option<f64> {
    let ratio = |n: f64, d: f64| if d > 0.0 { Some(n / d) } else { None };
    match metric {
        Metric::Spend => Some(spend),
        Metric::Impressions => Some(impressions),
        Metric::Clicks => Some(clicks),
        Metric::Conversions => Some(conversions),
        Metric::Revenue => Some(revenue),
        Metric::Roas => ratio(revenue, spend),
        Metric::Cpa => ratio(spend, conversions),
        Metric::Ctr => ratio(clicks, impressions),
        Metric::Cpm => ratio(spend * 1000.0, impressions),
        Metric::Pacing => ratio(spend, budget?.to_f64()? * days),
    }
}

/// The aggregated value of `condition`'s metric for `campaign` over the complete
/// days before `today`; `None` when it is undefined (no days for a daily
/// aggregation, a zero denominator).
#[must_use]
pub fn aggregate(
    campaign: &CampaignMetrics,
    condition: &Condition,
    today: NaiveDate,
) -> Option<f64> {
    Prepared::new(campaign).aggregate(condition, today)
}

/// A campaign's money values converted to `f64` once, for evaluating many
/// conditions.
pub(crate) struct Prepared<'a> {
    campaign: &'a CampaignMetrics,
    /// `(spend, revenue)` per day.
    money: Vec<(f64, f64)>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(campaign: &'a CampaignMetrics) -> Self {
        Prepared {
            campaign,
            money: campaign
                .days
                .iter()
                .map(|d| {
                    (
                        d.spend.to_f64().unwrap_or(f64::MAX),
                        d.revenue.to_f64().unwrap_or(f64::MAX),
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn aggregate(&self, condition: &Condition, today: NaiveDate) -> Option<f64> {
        let c = self.campaign;
        let start = today
            .checked_sub_days(chrono::Days::new(u64::from(condition.window_days)))
            .unwrap_or(NaiveDate::MIN);
        let lo = c.days.partition_point(|d| d.date < start);
        let hi = c.days.partition_point(|d| d.date < today);
        let days = c.days.get(lo..hi).unwrap_or(&[]);
        let money = self.money.get(lo..hi).unwrap_or(&[]);
        let agg = condition.aggregation;
        if agg == Aggregation::Total {
            let (mut spend, mut revenue, mut imp, mut clk, mut conv) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (d, (s, r)) in days.iter().zip(money) {
                spend += s;
                revenue += r;
                imp += d.impressions as f64;
                clk += d.clicks as f64;
                conv += d.conversions as f64;
            }
            return value_of(
                condition.metric,
                spend,
                imp,
                clk,
                conv,
                revenue,
                f64::from(condition.window_days),
                c.budget,
            );
        }
        let mut n = 0u32;
        let mut acc = match agg {
            Aggregation::DailyMin => f64::INFINITY,
            Aggregation::DailyMax => f64::NEG_INFINITY,
            _ => 0.0,
        };
        for (d, (s, r)) in days.iter().zip(money) {
            let Some(v) = value_of(
                condition.metric,
                *s,
                d.impressions as f64,
                d.clicks as f64,
                d.conversions as f64,
                *r,
                1.0,
                c.budget,
            ) else {
                continue;
            };
            n += 1;
            acc = match agg {
                Aggregation::DailyMin => acc.min(v),
                Aggregation::DailyMax => acc.max(v),
                _ => acc + v,
            };
        }
        if n == 0 {
            None
        } else if agg == Aggregation::DailyMean {
            Some(acc / f64::from(n))
        } else {
            Some(acc)
        }
    }
}
