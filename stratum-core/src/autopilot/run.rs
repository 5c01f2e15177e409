//! The scheduler-agnostic run: evaluate every rule on every campaign, apply the
//! safety settings, send each proposal through the trust gate and queue it.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::metrics::{CampaignMetrics, DeliveryStatus, Prepared, Totals};
use super::queue::{ActionQueue, ActionState};
use super::rules::{Rule, RuleAction, RuleSet};
use crate::audit::AuditLog;
use crate::error::Result;
use crate::gate::{ActionKind, Actor, Decision, ProposedAction, Target, TrustGate};
use crate::health::{Scope, Signals};

/// Why a rule that matched did not propose anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// Too little data in the rule's longest window.
    InsufficientData {
        /// Conversions in the window.
        conversions: u64,
        /// Spend in the window.
        spend: Decimal,
    },
    /// The target had an autopilot proposal too recently.
    Cooldown {
        /// When the cooldown ends.
        #[serde(with = "crate::digest::ts")]
        until: DateTime<Utc>,
    },
    /// The run already proposed `max_actions_per_run` actions.
    MaxActionsPerRun,
    /// The action would change nothing (pausing a paused campaign, a budget change
    /// on a campaign without a budget, a change that rounds to the same value).
    NoChange,
    /// No signals of the target's own scope were given, so the gate cannot judge
    /// it (signals of a covering scope never stand in for it).
    NoSignals,
}

/// A rule that matched but was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Rule id.
    pub rule: String,
    /// Target.
    pub target: Target,
    /// Why.
    pub reason: SkipReason,
}

/// One proposal of a run with the gate's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Rule id.
    pub rule: String,
    /// The exact change proposed.
    pub action: ProposedAction,
    /// The gate's decision (a preview in a dry run).
    pub decision: Decision,
    /// The queue state the decision places it in.
    pub state: ActionState,
    /// Queue id (`None` in a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<u64>,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Campaigns evaluated.
    pub campaigns: u64,
    /// Rule × campaign evaluations.
    pub evaluations: u64,
    /// Evaluations whose conditions all held.
    pub matched: u64,
    /// Proposals sent through the gate, in order.
    pub proposals: Vec<Proposal>,
    /// Matches that were skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

/// The autopilot: a rule set, the action queue and per-target cooldown memory.
#[derive(Clone, Debug)]
pub struct Autopilot {
    rules: RuleSet,
    queue: ActionQueue,
    last_proposed: HashMap<Target, DateTime<Utc>, foldhash::fast::RandomState>,
}

impl Autopilot {
    /// An autopilot with an empty queue.
    #[must_use]
    pub fn new(rules: RuleSet) -> Self {
        Autopilot {
            rules,
            queue: ActionQueue::new(),
            last_proposed: HashMap::default(),
        }
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The action queue.
    #[must_use]
    pub fn queue(&self) -> &ActionQueue {
        &self.queue
    }

    /// The action queue, for approvals, execution reports and undo.
    pub fn queue_mut(&mut self) -> &mut ActionQueue {
        &mut self.queue
    }

    /// Evaluates every enabled rule on every campaign as of `now`, sends each
    /// proposal through [`TrustGate::decide`] (one audited decision each) and queues
    /// it in the state the decision implies.
    ///
    /// Windows cover complete UTC days before `now`'s day. Rules run in order; a
    /// target gets at most one proposal per run. Each target is judged on the
    /// signals of its own scope only (`signals` holds at most one entry per scope);
    /// a target without them is skipped with [`SkipReason::NoSignals`].
    ///
    /// # Errors
    /// [`crate::Error::InvalidObservation`] / [`crate::Error::InvalidAction`] for bad metrics or
    /// signals, including two entries for one scope (`signals[i].scope`)
    /// (validated before anything is decided, so nothing is written);
    /// [`crate::Error::AuditIo`] if a record cannot be written.
    pub fn run(
        &mut self,
        now: DateTime<Utc>,
        metrics: &[CampaignMetrics],
        signals: &[Signals],
        gate: &mut TrustGate,
        audit: &mut AuditLog,
    ) -> Result<RunReport> {
        let (mut report, planned) = self.plan(now, metrics, signals)?;
        for p in planned {
            let Some(sig) = signals.get(p.signals) else {
                continue;
            };
            let decision = gate.decide(sig, &p.action, now, audit)?;
            let id = self
                .queue
                .propose(p.action.clone(), decision.audit_seq, now, audit)?;
            let state = self.queue.place(id, decision.outcome, now, audit)?;
            self.last_proposed.insert(p.action.target.clone(), now);
            report.proposals.push(Proposal {
                rule: p.rule,
                action: p.action,
                decision,
                state,
                queue_id: Some(id),
            });
        }
        Ok(report)
    }

    /// What [`Autopilot::run`] would propose and what the gate would decide, with
    /// the exact changes, without writing anything or changing any state (a dry run).
    ///
    /// # Errors
    /// As [`Autopilot::run`], minus the audit errors.
    pub fn preview(
        &self,
        now: DateTime<Utc>,
        metrics: &[CampaignMetrics],
        signals: &[Signals],
        gate: &TrustGate,
    ) -> Result<RunReport> {
        let (mut report, planned) = self.plan(now, metrics, signals)?;
        for p in planned {
            let Some(sig) = signals.get(p.signals) else {
                continue;
            };
            let decision = gate.preview(sig, &p.action, now)?;
            report.proposals.push(Proposal {
                rule: p.rule,
                state: ActionState::for_outcome(decision.outcome),
                action: p.action,
                decision,
                queue_id: None,
            });
        }
        Ok(report)
    }

    fn plan(
        &self,
        now: DateTime<Utc>,
        metrics: &[CampaignMetrics],
        signals: &[Signals],
    ) -> Result<(RunReport, Vec<Planned>)> {
        for (i, m) in metrics.iter().enumerate() {
            if let Err(e) = m.validate("") {
                return Err(match e {
                    crate::Error::InvalidAction { field, message } => {
                        crate::Error::action(format!("campaigns[{i}]{field}"), message)
                    }
                    crate::Error::InvalidObservation { field, message } => {
                        crate::Error::observation(format!("campaigns[{i}]{field}"), message)
                    }
                    other => other,
                });
            }
        }
        let mut by_scope: HashMap<&Scope, usize, foldhash::fast::RandomState> = HashMap::default();
        for (i, s) in signals.iter().enumerate() {
            s.validate()?;
            if let Some(first) = by_scope.insert(&s.scope, i) {
                return Err(crate::Error::observation(
                    format!("signals[{i}].scope"),
                    format!(
                        "repeats scope {} of signals[{first}]; pass one (the newest) entry per scope",
                        s.scope
                    ),
                ));
            }
        }
        let today = now.date_naive();
        let cap = self.rules.max_actions_per_run() as usize;
        let mut report = RunReport {
            campaigns: metrics.len() as u64,
            ..RunReport::default()
        };
        let mut planned: Vec<Planned> = Vec::new();
        for m in metrics {
            let prepared = Prepared::new(m);
            for rule in self.rules.rules().iter().filter(|r| r.enabled) {
                report.evaluations += 1;
                let matched = rule.conditions.iter().all(|c| {
                    prepared
                        .aggregate(c, today)
                        .is_some_and(|v| c.op.holds(v, c.value))
                });
                if !matched {
                    continue;
                }
                report.matched += 1;
                let skip = |reason| Skipped {
                    rule: rule.id.clone(),
                    target: m.target.clone(),
                    reason,
                };
                let window = rule.longest_window();
                let totals = Totals::of(m.window(today, window), window);
                if totals.conversions < rule.safety.min_conversions
                    || totals.spend < rule.safety.min_spend
                {
                    report.skipped.push(skip(SkipReason::InsufficientData {
                        conversions: totals.conversions,
                        spend: totals.spend,
                    }));
                    continue;
                }
                if let Some(until) = self.cooldown_until(&m.target, rule, now) {
                    report.skipped.push(skip(SkipReason::Cooldown { until }));
                    break;
                }
                let Some(kind) = change(&rule.action, m) else {
                    report.skipped.push(skip(SkipReason::NoChange));
                    continue;
                };
                let Some(&sig) = by_scope.get(&m.target.scope) else {
                    report.skipped.push(skip(SkipReason::NoSignals));
                    continue;
                };
                if planned.len() >= cap {
                    report.skipped.push(skip(SkipReason::MaxActionsPerRun));
                    break;
                }
                let action = ProposedAction::new(
                    kind,
                    m.target.clone(),
                    Actor::Autopilot {
                        rule: Some(rule.id.clone()),
                    },
                )
                .with_data_volume(totals.conversions, totals.spend);
                planned.push(Planned {
                    rule: rule.id.clone(),
                    action,
                    signals: sig,
                });
                break;
            }
        }
        Ok((report, planned))
    }

    fn cooldown_until(
        &self,
        target: &Target,
        rule: &Rule,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let hours = rule.safety.cooldown_hours;
        if hours == 0 {
            return None;
        }
        let last = self.last_proposed.get(target)?;
        let until = last.checked_add_signed(TimeDelta::hours(i64::from(hours)))?;
        (now < until).then_some(until)
    }
}

struct Planned {
    rule: String,
    action: ProposedAction,
    signals: usize,
}

/// The exact change a rule action makes on a campaign, or `None` if it changes
/// nothing.
fn change(action: &RuleAction, m: &CampaignMetrics) -> Option<ActionKind> {
    let pct = |v: Decimal, pct: Decimal| -> Option<Decimal> {
        let factor = Decimal::ONE.checked_add(pct.checked_div(Decimal::ONE_HUNDRED)?)?;
        Some(v.checked_mul(factor)?.round_dp(2).max(Decimal::ZERO))
    };
    let kind = match action {
        RuleAction::ChangeBudgetPct { pct: p } => {
            let from = m.budget?;
            ActionKind::BudgetChange {
                from,
                to: pct(from, *p)?,
            }
        }
        RuleAction::SetBudget { amount } => ActionKind::BudgetChange {
            from: m.budget?,
            to: *amount,
        },
        RuleAction::ChangeBidPct { pct: p } => {
            let from = m.bid?;
            ActionKind::BidChange {
                from,
                to: pct(from, *p)?,
            }
        }
        RuleAction::SetBid { amount } => ActionKind::BidChange {
            from: m.bid?,
            to: *amount,
        },
        RuleAction::Pause if m.status == DeliveryStatus::Active => ActionKind::Pause,
        RuleAction::Resume if m.status == DeliveryStatus::Paused => ActionKind::Resume,
        RuleAction::Pause | RuleAction::Resume => return None,
        RuleAction::Notify { message } => ActionKind::Custom {
            name: format!("notify: {message}"),
            magnitude: None,
        },
    };
    match kind.money_change() {
        Some((from, to)) if from == to => None,
        _ => Some(kind),
    }
}
