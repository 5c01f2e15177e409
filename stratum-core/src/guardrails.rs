//! Guardrails: policy rules on the size, frequency and evidence of actions. They are
//! judged under the enforcement mode (see [`crate::gate::EnforcementMode`]).
//!
//! All limits are optional; `GuardrailConfig::default()` enforces none. Money is
//! `Decimal` in the account currency; days are UTC calendar days.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gate::{ActionKind, ProposedAction, Target};

/// Policy limits. Percentages are in percent (`30` = 30 %).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardrailConfig {
    /// Largest change of one budget or bid action, in percent of the current value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_change_pct: Option<Decimal>,
    /// Largest change of one budget or bid action, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_change_abs: Option<Decimal>,
    /// Largest net budget change per target per UTC day, in percent of the budget
    /// the day's first executed change started from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_daily_change_pct: Option<Decimal>,
    /// Largest net budget change per target per UTC day, absolute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_daily_change_abs: Option<Decimal>,
    /// Smallest budget a change may set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_budget: Option<Decimal>,
    /// Largest budget a change may set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_budget: Option<Decimal>,
    /// Minimum time between two executed actions on one target. JSON: seconds.
    #[serde(
        rename = "target_cooldown_secs",
        skip_serializing_if = "Option::is_none",
        with = "opt_secs"
    )]
    pub target_cooldown: Option<TimeDelta>,
    /// Most executed actions per tenant per UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_actions_per_day: Option<u32>,
    /// Minimum evidence behind an automated proposal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_data_volume: Option<MinDataVolume>,
}

/// Minimum data behind an automated proposal (applies to autopilot and system
/// actions; people act on their own judgement).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinDataVolume {
    /// Minimum conversions in the rule's window.
    pub conversions: u64,
    /// Minimum spend in the rule's window.
    pub spend: Decimal,
}

mod opt_secs {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        d: &Option<TimeDelta>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.num_seconds()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<TimeDelta>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|v| {
                TimeDelta::try_seconds(v).ok_or_else(|| {
                    serde::de::Error::custom(format!("duration of {v} seconds is out of range"))
                })
            })
            .transpose()
    }
}

impl GuardrailConfig {
    pub(crate) fn validate(&self, p: &str) -> Result<()> {
        let positive = |name: &str, v: &Option<Decimal>| -> Result<()> {
            match v {
                Some(v) if *v <= Decimal::ZERO => Err(Error::config(
                    format!("{p}.{name}"),
                    format!("must be positive (omit it to disable the limit), got {v}"),
                )),
                _ => Ok(()),
            }
        };
        positive("max_change_pct", &self.max_change_pct)?;
        positive("max_change_abs", &self.max_change_abs)?;
        positive("max_daily_change_pct", &self.max_daily_change_pct)?;
        positive("max_daily_change_abs", &self.max_daily_change_abs)?;
        positive("max_budget", &self.max_budget)?;
        if let Some(m) = self.min_budget
            && m < Decimal::ZERO
        {
            return Err(Error::config(
                format!("{p}.min_budget"),
                format!("must not be negative, got {m}"),
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_budget, self.max_budget)
            && lo > hi
        {
            return Err(Error::config(
                format!("{p}.min_budget"),
                format!("must not exceed max_budget ({hi}), got {lo}"),
            ));
        }
        if let Some(c) = self.target_cooldown {
            crate::validate::duration(&format!("{p}.target_cooldown_secs"), c, false)?;
        }
        if self.max_actions_per_day == Some(0) {
            return Err(Error::config(
                format!("{p}.max_actions_per_day"),
                "must be at least 1 (omit it to disable the limit)",
            ));
        }
        if let Some(v) = &self.min_data_volume
            && v.spend < Decimal::ZERO
        {
            return Err(Error::config(
                format!("{p}.min_data_volume.spend"),
                format!("must not be negative, got {}", v.spend),
            ));
        }
        Ok(())
    }
}

/// A guardrail the action breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Violation {
    /// The change is larger than `max_change_pct`.
    ChangePct {
        /// Change in percent, rounded to two decimals for display (the limit is
        /// compared with the exact value); absent when the current value is 0.
        change_pct: Option<Decimal>,
        /// The limit.
        limit: Decimal,
    },
    /// The change is larger than `max_change_abs`.
    ChangeAbs {
        /// Absolute change.
        change: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// Today's net change on the target would exceed `max_daily_change_pct`.
    DailyChangePct {
        /// Net change today including this action, in percent (two decimals).
        change_pct: Option<Decimal>,
        /// Budget at the start of the day.
        day_start: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// Today's net change on the target would exceed `max_daily_change_abs`.
    DailyChangeAbs {
        /// Net change today including this action.
        change: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// The new budget is below `min_budget`.
    BudgetBelowMin {
        /// Proposed budget.
        budget: Decimal,
        /// The limit.
        min: Decimal,
    },
    /// The new budget is above `max_budget`.
    BudgetAboveMax {
        /// Proposed budget.
        budget: Decimal,
        /// The limit.
        max: Decimal,
    },
    /// The target was acted on too recently.
    Cooldown {
        /// Last executed action on the target.
        #[serde(with = "crate::digest::ts")]
        last_action_at: DateTime<Utc>,
        /// When the cooldown ends.
        #[serde(with = "crate::digest::ts")]
        until: DateTime<Utc>,
    },
    /// The tenant reached `max_actions_per_day`.
    DailyActionLimit {
        /// Actions executed today.
        executed_today: u32,
        /// The limit.
        limit: u32,
    },
    /// Too little data behind an automated proposal.
    InsufficientData {
        /// Conversions supplied (`None`: no data volume supplied).
        conversions: Option<u64>,
        /// Spend supplied.
        spend: Option<Decimal>,
        /// Required minimum.
        required: MinDataVolume,
    },
}

impl Violation {
    /// Stable code of the rule broken.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Violation::ChangePct { .. } => "max_change_pct",
            Violation::ChangeAbs { .. } => "max_change_abs",
            Violation::DailyChangePct { .. } => "max_daily_change_pct",
            Violation::DailyChangeAbs { .. } => "max_daily_change_abs",
            Violation::BudgetBelowMin { .. } => "min_budget",
            Violation::BudgetAboveMax { .. } => "max_budget",
            Violation::Cooldown { .. } => "target_cooldown",
            Violation::DailyActionLimit { .. } => "max_actions_per_day",
            Violation::InsufficientData { .. } => "min_data_volume",
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::ChangePct {
                change_pct: Some(c),
                limit,
            } => write!(f, "change of {c}% exceeds the {limit}% per-action limit"),
            Violation::ChangePct {
                change_pct: None,
                limit,
            } => write!(
                f,
                "change from 0 cannot be bounded by the {limit}% per-action limit"
            ),
            Violation::ChangeAbs { change, limit } => {
                write!(f, "change of {change} exceeds the {limit} per-action limit")
            }
            Violation::DailyChangePct {
                change_pct: Some(c),
                day_start,
                limit,
            } => write!(
                f,
                "net change today of {c}% (from {day_start}) exceeds the {limit}% daily limit"
            ),
            Violation::DailyChangePct {
                change_pct: None,
                limit,
                ..
            } => write!(
                f,
                "net change today from a budget of 0 cannot be bounded by the {limit}% daily limit"
            ),
            Violation::DailyChangeAbs { change, limit } => {
                write!(
                    f,
                    "net change today of {change} exceeds the {limit} daily limit"
                )
            }
            Violation::BudgetBelowMin { budget, min } => {
                write!(f, "budget {budget} is below the minimum {min}")
            }
            Violation::BudgetAboveMax { budget, max } => {
                write!(f, "budget {budget} is above the maximum {max}")
            }
            Violation::Cooldown {
                last_action_at,
                until,
            } => write!(
                f,
                "target was last changed at {last_action_at}; cooldown lasts until {until}"
            ),
            Violation::DailyActionLimit {
                executed_today,
                limit,
            } => write!(
                f,
                "{executed_today} actions already executed today; the daily limit is {limit}"
            ),
            Violation::InsufficientData {
                conversions: None,
                required,
                ..
            } => write!(
                f,
                "no data volume supplied; at least {} conversions and {} spend required",
                required.conversions, required.spend
            ),
            Violation::InsufficientData {
                conversions,
                spend,
                required,
            } => write!(
                f,
                "{} conversions and {} spend are below the required {} conversions and {} spend",
                conversions.unwrap_or(0),
                spend.unwrap_or_default(),
                required.conversions,
                required.spend
            ),
        }
    }
}

/// What the ledger remembers about one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHistory {
    /// Last executed action on the target.
    #[serde(with = "crate::digest::ts")]
    pub last_action_at: DateTime<Utc>,
    /// UTC day of `day_start_budget`.
    pub day: NaiveDate,
    /// Budget before the day's first executed budget change (`None`: no budget
    /// change today).
    pub day_start_budget: Option<Decimal>,
}

/// Executed actions, as far as guardrails need them. Part of the gate's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    #[serde(with = "target_map")]
    targets: HashMap<Target, TargetHistory, Fast>,
    /// Executed actions per tenant on `day`.
    #[serde(with = "tenant_map")]
    tenants: HashMap<String, (NaiveDate, u32), Fast>,
}

/// Hasher for the ledger's maps: fast, seeded per process.
type Fast = foldhash::fast::RandomState;

/// Whether `change` is more than `limit` percent of `base` (any change of a zero
/// base is), compared exactly without dividing.
fn exceeds_pct(change: Decimal, base: Decimal, limit: Decimal) -> bool {
    if base.is_zero() {
        return !change.is_zero();
    }
    match (
        change.checked_mul(Decimal::ONE_HUNDRED),
        limit.checked_mul(base),
    ) {
        (Some(lhs), Some(rhs)) => lhs > rhs,
        _ => pct(change, base).is_none_or(|p| p > limit),
    }
}

fn pct(change: Decimal, base: Decimal) -> Option<Decimal> {
    if base.is_zero() {
        return None;
    }
    change
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|v| v.checked_div(base))
}

impl Ledger {
    /// Guardrail violations of `action` at `now`.
    #[must_use]
    pub fn check(
        &self,
        cfg: &GuardrailConfig,
        action: &ProposedAction,
        now: DateTime<Utc>,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        let today = now.date_naive();
        let history = self.targets.get(&action.target);
        if let Some((from, to)) = action.kind.money_change() {
            let change = (to - from).abs();
            if let Some(limit) = cfg.max_change_pct
                && exceeds_pct(change, from, limit)
            {
                let change_pct = pct(change, from);
                out.push(Violation::ChangePct {
                    change_pct: change_pct.map(|v| v.round_dp(2)),
                    limit,
                });
            }
            if let Some(limit) = cfg.max_change_abs
                && change > limit
            {
                out.push(Violation::ChangeAbs { change, limit });
            }
        }
        if let ActionKind::BudgetChange { from, to } = action.kind {
            let day_start = history
                .filter(|h| h.day == today)
                .and_then(|h| h.day_start_budget)
                .unwrap_or(from);
            let net = (to - day_start).abs();
            if let Some(limit) = cfg.max_daily_change_pct
                && exceeds_pct(net, day_start, limit)
            {
                let change_pct = pct(net, day_start);
                out.push(Violation::DailyChangePct {
                    change_pct: change_pct.map(|v| v.round_dp(2)),
                    day_start,
                    limit,
                });
            }
            if let Some(limit) = cfg.max_daily_change_abs
                && net > limit
            {
                out.push(Violation::DailyChangeAbs { change: net, limit });
            }
            if let Some(min) = cfg.min_budget
                && to < min
            {
                out.push(Violation::BudgetBelowMin { budget: to, min });
            }
            if let Some(max) = cfg.max_budget
                && to > max
            {
                out.push(Violation::BudgetAboveMax { budget: to, max });
            }
        }
        if let Some(cooldown) = cfg.target_cooldown
            && let Some(h) = history
        {
            let until = h
                .last_action_at
                .checked_add_signed(cooldown)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if now < until {
                out.push(Violation::Cooldown {
                    last_action_at: h.last_action_at,
                    until,
                });
            }
        }
        if let Some(limit) = cfg.max_actions_per_day {
            let executed_today = self.executed_today(&action.target.scope.tenant, today);
            if executed_today >= limit {
                out.push(Violation::DailyActionLimit {
                    executed_today,
                    limit,
                });
            }
        }
        if let Some(required) = cfg.min_data_volume
            && action.proposer.is_automation()
        {
            let ok = action.data_volume.is_some_and(|v| {
                v.conversions >= required.conversions && v.spend >= required.spend
            });
            if !ok {
                out.push(Violation::InsufficientData {
                    conversions: action.data_volume.map(|v| v.conversions),
                    spend: action.data_volume.map(|v| v.spend),
                    required,
                });
            }
        }
        out
    }

    /// Records an executed action.
    pub fn record(&mut self, action: &ProposedAction, now: DateTime<Utc>) {
        let today = now.date_naive();
        let budget_from = match action.kind {
            ActionKind::BudgetChange { from, .. } => Some(from),
            _ => None,
        };
        match self.targets.get_mut(&action.target) {
            Some(h) => {
                h.last_action_at = h.last_action_at.max(now);
                if h.day != today {
                    h.day = today;
                    h.day_start_budget = budget_from;
                } else if h.day_start_budget.is_none() {
                    h.day_start_budget = budget_from;
                }
            }
            None => {
                self.targets.insert(
                    action.target.clone(),
                    TargetHistory {
                        last_action_at: now,
                        day: today,
                        day_start_budget: budget_from,
                    },
                );
            }
        }
        let tenant = &action.target.scope.tenant;
        match self.tenants.get_mut(tenant) {
            Some((day, n)) if *day == today => *n = n.saturating_add(1),
            Some(entry) => *entry = (today, 1),
            None => {
                self.tenants.insert(tenant.clone(), (today, 1));
            }
        }
    }

    /// Actions executed by `tenant` on `day`.
    #[must_use]
    pub fn executed_today(&self, tenant: &str, day: NaiveDate) -> u32 {
        match self.tenants.get(tenant) {
            Some((d, n)) if *d == day => *n,
            _ => 0,
        }
    }

    /// What the ledger holds about a target.
    #[must_use]
    pub fn target(&self, target: &Target) -> Option<&TargetHistory> {
        self.targets.get(target)
    }
}

mod target_map {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::TargetHistory;
    use crate::gate::Target;

    #[derive(Serialize, Deserialize)]
    struct Entry {
        target: Target,
        #[serde(flatten)]
        history: TargetHistory,
    }

    pub(super) fn serialize<S: Serializer>(
        m: &HashMap<Target, TargetHistory, super::Fast>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let mut v: Vec<(&Target, &TargetHistory)> = m.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(v.into_iter().map(|(t, h)| Entry {
            target: t.clone(),
            history: h.clone(),
        }))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<HashMap<Target, TargetHistory, super::Fast>, D::Error> {
        Ok(Vec::<Entry>::deserialize(d)?
            .into_iter()
            .map(|e| (e.target, e.history))
            .collect())
    }
}

mod tenant_map {
    use std::collections::{BTreeMap, HashMap};

    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Day {
        day: NaiveDate,
        executed: u32,
    }

    pub(super) fn serialize<S: Serializer>(
        m: &HashMap<String, (NaiveDate, u32), super::Fast>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let sorted: BTreeMap<&String, Day> = m
            .iter()
            .map(|(k, (day, executed))| {
                (
                    k,
                    Day {
                        day: *day,
                        executed: *executed,
                    },
                )
            })
            .collect();
        sorted.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<HashMap<String, (NaiveDate, u32), super::Fast>, D::Error> {
        Ok(BTreeMap::<String, Day>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, (v.day, v.executed)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_limits_compare_exactly() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        // 30.004 % is over a 30 % limit even though it displays as 30.00 %.
        assert!(exceeds_pct(d("30.004"), d("100"), d("30")));
        assert_eq!(
            pct(d("30.004"), d("100")).map(|p| p.round_dp(2)),
            Some(d("30.00"))
        );
        assert!(!exceeds_pct(d("30"), d("100"), d("30")));
        assert!(exceeds_pct(d("0.01"), Decimal::ZERO, d("30")));
        assert!(!exceeds_pct(Decimal::ZERO, Decimal::ZERO, d("30")));
        // Overflowing products fall back to division.
        assert!(exceeds_pct(Decimal::MAX, Decimal::MAX, d("99")));
    }
}
