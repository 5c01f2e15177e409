//! Rules as data: conditions over windowed campaign metrics, an action, and the
//! safety settings that decide when a rule may act.
//!
//! A [`RuleSet`] is written as JSON ([`RuleSetSpec`]) and validated on
//! construction; every problem is an [`Error::InvalidConfig`] naming the field, e.g.
//! `rules[0].conditions[1].metric`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest window a condition may aggregate over, in days.
pub const MAX_WINDOW_DAYS: u32 = 90;
/// Most conditions per rule.
pub const MAX_CONDITIONS: usize = 16;

/// A campaign metric a condition can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Spend (account currency).
    Spend,
    /// Impressions.
    Impressions,
    /// Clicks.
    Clicks,
    /// Conversions.
    Conversions,
    /// Revenue (account currency).
    Revenue,
    /// Revenue / spend.
    Roas,
    /// Spend / conversions.
    Cpa,
    /// Clicks / impressions.
    Ctr,
    /// Spend per thousand impressions.
    Cpm,
    /// Spend / (daily budget × days): 1.0 is on pace.
    Pacing,
}

impl Metric {
    /// Every metric, in declaration order.
    pub const ALL: [Metric; 10] = [
        Metric::Spend,
        Metric::Impressions,
        Metric::Clicks,
        Metric::Conversions,
        Metric::Revenue,
        Metric::Roas,
        Metric::Cpa,
        Metric::Ctr,
        Metric::Cpm,
        Metric::Pacing,
    ];

    /// The metric's JSON name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::Spend => "spend",
            Metric::Impressions => "impressions",
            Metric::Clicks => "clicks",
            Metric::Conversions => "conversions",
            Metric::Revenue => "revenue",
            Metric::Roas => "roas",
            Metric::Cpa => "cpa",
            Metric::Ctr => "ctr",
            Metric::Cpm => "cpm",
            Metric::Pacing => "pacing",
        }
    }

    /// Parses a JSON name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] on `field` for an unknown name, listing the known ones.
    pub fn parse(name: &str, field: &str) -> Result<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                Error::config(
                    field,
                    format!("unknown metric {name:?}; known: {}", known.join(", ")),
                )
            })
    }

    /// Whether the metric is a ratio (computed from window totals, not summed).
    #[must_use]
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Metric::Roas | Metric::Cpa | Metric::Ctr | Metric::Cpm | Metric::Pacing
        )
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a window of daily values becomes one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Window totals; ratios are computed from the totals (ROAS = Σ revenue / Σ
    /// spend). The default.
    #[default]
    Total,
    /// Mean of the daily values over days where the value is defined.
    DailyMean,
    /// Smallest daily value.
    DailyMin,
    /// Largest daily value.
    DailyMax,
}

/// Comparison of the aggregated value with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparison {
    /// Applies the comparison.
    #[must_use]
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Lt => value < threshold,
            Comparison::Le => value <= threshold,
            Comparison::Gt => value > threshold,
            Comparison::Ge => value >= threshold,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// One validated condition: `aggregation(metric over the last window_days) op value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The metric.
    pub metric: Metric,
    /// Complete UTC days before the run's day that the window covers.
    pub window_days: u32,
    /// How the window is aggregated.
    pub aggregation: Aggregation,
    /// Comparison.
    pub op: Comparison,
    /// Threshold.
    pub value: f64,
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let agg = match self.aggregation {
            Aggregation::Total => "",
            Aggregation::DailyMean => "daily mean ",
            Aggregation::DailyMin => "daily min ",
            Aggregation::DailyMax => "daily max ",
        };
        write!(
            f,
            "{agg}{} over {}d {} {}",
            self.metric,
            self.window_days,
            self.op.symbol(),
            self.value
        )
    }
}

/// What a rule does when its conditions hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleAction {
    /// Change the daily budget by `pct` percent (`-20` lowers it by a fifth).
    ChangeBudgetPct {
        /// Percent change, above -100.
        pct: Decimal,
    },
    /// Set the daily budget to `amount`.
    SetBudget {
        /// New budget, zero or more.
        amount: Decimal,
    },
    /// Change the bid by `pct` percent.
    ChangeBidPct {
        /// Percent change, above -100.
        pct: Decimal,
    },
    /// Set the bid to `amount`.
    SetBid {
        /// New bid, zero or more.
        amount: Decimal,
    },
    /// Pause delivery.
    Pause,
    /// Resume delivery.
    Resume,
    /// Tell the team; changes nothing on the platform.
    Notify {
        /// Message for the team.
        message: String,
    },
}

/// When a rule may act at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Safety {
    /// Conversions needed over the rule's longest window before it may act.
    pub min_conversions: u64,
    /// Spend needed over the rule's longest window before it may act.
    pub min_spend: Decimal,
    /// Hours after an autopilot proposal on a target before this rule may propose
    /// again on it.
    pub cooldown_hours: u32,
}

/// A rule as written (JSON); [`RuleSetSpec`] validation turns it into a [`Rule`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id.
    pub id: String,
    /// Whether the rule runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Conditions that must all hold.
    pub conditions: Vec<ConditionSpec>,
    /// What to do.
    pub action: RuleAction,
    /// Safety settings.
    #[serde(default)]
    pub safety: Safety,
}

fn yes() -> bool {
    true
}

/// A condition as written; the metric is checked against [`Metric::ALL`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// Metric name, e.g. `roas`.
    pub metric: String,
    /// Window in complete days, 1..=90.
    pub window_days: u32,
    /// Aggregation (default `total`).
    #[serde(default)]
    pub aggregation: Aggregation,
    /// Comparison.
    pub op: Comparison,
    /// Threshold, finite.
    pub value: f64,
}

/// A rule set as written: the builder of [`RuleSet`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetSpec {
    /// The rules, evaluated in order.
    pub rules: Vec<RuleSpec>,
    /// Most actions one run may propose (1..=100,000).
    pub max_actions_per_run: u32,
}

/// A validated rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Whether the rule runs.
    pub enabled: bool,
    /// Conditions that must all hold.
    pub conditions: Vec<Condition>,
    /// What to do.
    pub action: RuleAction,
    /// Safety settings.
    pub safety: Safety,
}

impl Rule {
    /// The longest window of the rule's conditions (the data-volume window).
    #[must_use]
    pub fn longest_window(&self) -> u32 {
        self.conditions
            .iter()
            .map(|c| c.window_days)
            .max()
            .unwrap_or(1)
    }
}

/// A validated rule set. Build it from a [`RuleSetSpec`] or parse it with
/// [`crate::from_json`].
///
/// ```
/// let rules: stratum_core::autopilot::RuleSet = stratum_core::from_json(r#"{
///   "max_actions_per_run": 50,
///   "rules": [{
///     "id": "cut_losers",
///     "conditions": [
///       {"metric": "roas", "window_days": 3, "op": "lt", "value": 1.5},
///       {"metric": "spend", "window_days": 3, "op": "gt", "value": 200}
///     ],
///     "action": {"type": "change_budget_pct", "pct": "-20"},
///     "safety": {"min_conversions": 10, "cooldown_hours": 24}
///   }]
/// }"#)?;
/// assert_eq!(rules.rules()[0].conditions[0].to_string(), "roas over 3d < 1.5");
///
/// let bad = stratum_core::from_json::<stratum_core::autopilot::RuleSet>(
///     r#"{"max_actions_per_run": 5, "rules": [{"id": "x", "action": {"type": "pause"},
///        "conditions": [{"metric": "rosa", "window_days": 3, "op": "lt", "value": 1}]}]}"#,
/// ).unwrap_err();
/// assert_eq!(bad.code(), "invalid_config");
/// assert_eq!(bad.field(), Some("rules[0].conditions[0].metric"));
/// # Ok::<(), stratum_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "RuleSetSpec")]
pub struct RuleSet {
    rules: Vec<Rule>,
    max_actions_per_run: u32,
}

crate::validated_deserialize!(RuleSet, RuleSetSpec);

impl RuleSet {
    /// The rules, in evaluation order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Most actions one run may propose.
    #[must_use]
    pub fn max_actions_per_run(&self) -> u32 {
        self.max_actions_per_run
    }
}

impl TryFrom<RuleSetSpec> for RuleSet {
    type Error = Error;

    fn try_from(spec: RuleSetSpec) -> Result<Self> {
        if spec.max_actions_per_run == 0 || spec.max_actions_per_run > 100_000 {
            return Err(Error::config(
                "max_actions_per_run",
                format!("must be in 1..=100000, got {}", spec.max_actions_per_run),
            ));
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(spec.rules.len());
        for (i, r) in spec.rules.into_iter().enumerate() {
            let p = format!("rules[{i}]");
            if r.id.trim().is_empty() {
                return Err(Error::config(format!("{p}.id"), "must be non-empty"));
            }
            if rules.iter().any(|o| o.id == r.id) {
                return Err(Error::config(
                    format!("{p}.id"),
                    format!("duplicate rule id {:?}; ids must be unique", r.id),
                ));
            }
            if r.conditions.is_empty() || r.conditions.len() > MAX_CONDITIONS {
                return Err(Error::config(
                    format!("{p}.conditions"),
                    format!(
                        "must hold 1..={MAX_CONDITIONS} conditions, got {}",
                        r.conditions.len()
                    ),
                ));
            }
            let mut conditions = Vec::with_capacity(r.conditions.len());
            for (j, c) in r.conditions.into_iter().enumerate() {
                let cp = format!("{p}.conditions[{j}]");
                let metric = Metric::parse(&c.metric, &format!("{cp}.metric"))?;
                if c.window_days == 0 || c.window_days > MAX_WINDOW_DAYS {
                    return Err(Error::config(
                        format!("{cp}.window_days"),
                        format!("must be in 1..={MAX_WINDOW_DAYS}, got {}", c.window_days),
                    ));
                }
                if !c.value.is_finite() {
                    return Err(Error::config(
                        format!("{cp}.value"),
                        format!("must be a finite number, got {}", c.value),
                    ));
                }
                conditions.push(Condition {
                    metric,
                    window_days: c.window_days,
                    aggregation: c.aggregation,
                    op: c.op,
                    value: c.value,
                });
            }
            validate_action(&r.action, &format!("{p}.action"))?;
            if r.safety.min_spend < Decimal::ZERO {
                return Err(Error::config(
                    format!("{p}.safety.min_spend"),
                    format!("must not be negative, got {}", r.safety.min_spend),
                ));
            }
            if r.safety.cooldown_hours > 24 * 3650 {
                return Err(Error::config(
                    format!("{p}.safety.cooldown_hours"),
                    format!(
                        "must be at most 87600 (ten years), got {}",
                        r.safety.cooldown_hours
                    ),
                ));
            }
            rules.push(Rule {
                id: r.id,
                enabled: r.enabled,
                conditions,
                action: r.action,
                safety: r.safety,
            });
        }
        Ok(RuleSet {
            rules,
            max_actions_per_run: spec.max_actions_per_run,
        })
    }
}

fn validate_action(a: &RuleAction, p: &str) -> Result<()> {
    match a {
        RuleAction::ChangeBudgetPct { pct } | RuleAction::ChangeBidPct { pct } => {
            if *pct <= Decimal::ONE_HUNDRED.saturating_mul(Decimal::NEGATIVE_ONE)
                || *pct > Decimal::new(1000, 0)
                || pct.is_zero()
            {
                return Err(Error::config(
                    format!("{p}.pct"),
                    format!("must be non-zero, above -100 and at most 1000, got {pct}"),
                ));
            }
        }
        RuleAction::SetBudget { amount } | RuleAction::SetBid { amount } => {
            if *amount < Decimal::ZERO {
                return Err(Error::config(
                    format!("{p}.amount"),
                    format!("must be zero or more, got {amount}"),
                ));
            }
        }
        RuleAction::Notify { message } if message.trim().is_empty() => {
            return Err(Error::config(format!("{p}.message"), "must be non-empty"));
        }
        RuleAction::Pause | RuleAction::Resume | RuleAction::Notify { .. } => {}
    }
    Ok(())
}

impl From<RuleSet> for RuleSetSpec {
    fn from(r: RuleSet) -> Self {
        RuleSetSpec {
            max_actions_per_run: r.max_actions_per_run,
            rules: r
                .rules
                .into_iter()
                .map(|r| RuleSpec {
                    id: r.id,
                    enabled: r.enabled,
                    conditions: r
                        .conditions
                        .into_iter()
                        .map(|c| ConditionSpec {
                            metric: c.metric.name().to_owned(),
                            window_days: c.window_days,
                            aggregation: c.aggregation,
                            op: c.op,
                            value: c.value,
                        })
                        .collect(),
                    action: r.action,
                    safety: r.safety,
                })
                .collect(),
        }
    }
}
