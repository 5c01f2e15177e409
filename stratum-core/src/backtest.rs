//! Backtesting: replay a historical sequence of observations and proposed actions
//! through a gate config, and compare two configs on the same history.
//!
//! Backtests are simulations: they keep hysteresis and guardrail state exactly as a
//! live gate would (actions the simulated gate executes count toward cooldowns and
//! daily limits), but they write no audit records.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use stratum_core::backtest::{compare, BacktestStep};
//! use stratum_core::gate::*;
//! use stratum_core::health::*;
//!
//! let scope = Scope::tenant("acme").platform("meta").ad_account("act_1");
//! let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
//! let steps: Vec<BacktestStep> = (0..48)
//!     .map(|h| {
//!         let at = start + TimeDelta::hours(h);
//!         let mut signals = Signals::new(scope.clone());
//!         // EMQ drifts between 6.0 and 8.9 over the day.
//!         let emq = 6.0 + (h % 24) as f64 * 0.125;
//!         signals.emq = Some(EmqObservation { observed_at: at, score: emq, events: 500 });
//!         signals.api = Some(ApiObservation {
//!             observed_at: at, total: 200, succeeded: 200, p95_latency_ms: 200.0,
//!             rate_limited: 0, server_errors: 0, bursts: 0,
//!         });
//!         signals.events = Some(EventObservation { observed_at: at, sent: 500, confirmed: 495, duplicates: 0 });
//!         let action = ProposedAction::new(ActionKind::Pause, Target::new(scope.clone(), "cmp_1"), Actor::autopilot());
//!         BacktestStep { at, signals, actions: vec![action] }
//!     })
//!     .collect();
//! let strict = TrustGateConfig::default();
//! let lenient = TrustGateConfig::builder()
//!     .evidence(EvidenceConfig { min_present_weight: 0.5 })
//!     .health(HealthConfig::builder().missing(MissingPolicy::Renormalize).build()?)
//!     .build()?;
//! let cmp = compare(&strict, &lenient, &steps)?;
//! assert_eq!(cmp.baseline.totals.decisions, 48);
//! assert!(cmp.candidate.totals.executed > cmp.baseline.totals.executed);
//! assert_eq!(cmp.days.len(), 2);
//! # Ok::<(), stratum_core::Error>(())
//! ```

use std::borrow::Borrow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::{
    ActionKindTag, GateResult, HealthView, Judgement, Outcome, ProposedAction, Target, TrustGate,
    TrustGateConfig,
};
use crate::health::Signals;

/// One point of history: what was observed for a scope at `at`, and the actions
/// proposed then (possibly none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestStep {
    /// Evaluation time. Steps must come in non-decreasing time order.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Signals observed for one scope.
    pub signals: Signals,
    /// Actions proposed at `at` within that scope.
    #[serde(default)]
    pub actions: Vec<ProposedAction>,
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Health readings taken (one per step).
    pub readings: u64,
    /// Actions judged.
    pub decisions: u64,
    /// Actions that would have executed.
    pub executed: u64,
    /// Actions held (`AlertOnly`).
    pub held: u64,
    /// Actions blocked for a person (`ManualRequired`).
    pub blocked: u64,
    /// Of `held`, those held because evidence was insufficient.
    pub inconclusive: u64,
    /// Of `blocked`, those stopped by guardrails.
    pub policy_stopped: u64,
}

impl Tally {
    fn add(&mut self, j: Judgement) {
        self.decisions += 1;
        match j.outcome {
            Outcome::Execute => self.executed += 1,
            Outcome::AlertOnly => self.held += 1,
            Outcome::ManualRequired => self.blocked += 1,
        }
        if j.gate == GateResult::Inconclusive {
            self.inconclusive += 1;
        }
        if j.policy_stop {
            self.policy_stopped += 1;
        }
    }
}

/// Outcomes of one UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    /// The day.
    pub date: NaiveDate,
    /// Its counts.
    #[serde(flatten)]
    pub tally: Tally,
}

/// What a config would have done over a history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Hash of the config replayed.
    pub config_hash: Digest,
    /// Totals over the whole history.
    pub totals: Tally,
    /// Counts per UTC day, in date order.
    pub days: Vec<DayTally>,
}

/// One action whose outcome differs between the two configs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeChange {
    /// When.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Target.
    pub target: Target,
    /// Kind of action.
    pub kind: ActionKindTag,
    /// Outcome under the baseline.
    pub baseline: Outcome,
    /// Outcome under the candidate.
    pub candidate: Outcome,
}

/// Per-day counts under both configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayComparison {
    /// The day.
    pub date: NaiveDate,
    /// Counts under the baseline.
    pub baseline: Tally,
    /// Counts under the candidate.
    pub candidate: Tally,
}

/// Number of actions that moved from one outcome to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Outcome under the baseline.
    pub baseline: Outcome,
    /// Outcome under the candidate.
    pub candidate: Outcome,
    /// How many actions.
    pub count: u64,
}

/// The difference between two configs on the same history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Report of the baseline config.
    pub baseline: BacktestReport,
    /// Report of the candidate config.
    pub candidate: BacktestReport,
    /// Both configs per day.
    pub days: Vec<DayComparison>,
    /// Actions whose outcome changed, by pair of outcomes (pairs with a count of 0
    /// omitted).
    pub transitions: Vec<Transition>,
    /// The first changed actions, in time order (at most
    /// [`Comparison::MAX_EXAMPLES`]).
    pub examples: Vec<OutcomeChange>,
}

impl Comparison {
    /// Most changed actions listed in [`Comparison::examples`].
    pub const MAX_EXAMPLES: usize = 1_000;

    /// Actions whose outcome changed.
    #[must_use]
    pub fn changed(&self) -> u64 {
        self.transitions.iter().map(|t| t.count).sum()
    }
}

/// A running backtest of one config: feed steps in time order, then
/// [`Backtest::finish`].
#[derive(Debug)]
pub struct Backtest {
    gate: TrustGate,
    days: Vec<DayTally>,
    totals: Tally,
    last_at: Option<DateTime<Utc>>,
    steps: u64,
}

impl Backtest {
    /// Starts a backtest of `config` with no history.
    #[must_use]
    pub fn new(config: &TrustGateConfig) -> Self {
        Backtest {
            gate: TrustGate::new(config.clone()),
            days: Vec::new(),
            totals: Tally::default(),
            last_at: None,
            steps: 0,
        }
    }

    /// Replays one step.
    ///
    /// # Errors
    /// [`Error::Backtest`] wrapping the step's validation error, or for a step
    /// earlier than the previous one. The backtest state is unchanged.
    pub fn step(&mut self, step: &BacktestStep) -> Result<()> {
        self.step_judged(step, |_, _| {})
    }

    /// Replays one step, calling `each` with every action and its outcome.
    ///
    /// # Errors
    /// As [`Backtest::step`].
    pub fn step_with(
        &mut self,
        step: &BacktestStep,
        mut each: impl FnMut(&ProposedAction, Outcome),
    ) -> Result<()> {
        self.step_judged(step, |a, j| each(a, j.outcome))
    }

    fn step_judged(
        &mut self,
        step: &BacktestStep,
        mut each: impl FnMut(&ProposedAction, Judgement),
    ) -> Result<()> {
        let index = self.steps;
        let wrap = |e: Error| Error::Backtest {
            step: index,
            source: Box::new(e),
        };
        if let Some(last) = self.last_at
            && step.at < last
        {
            return Err(wrap(Error::observation(
                "at",
                format!(
                    "steps must be in time order: {} comes after {last}",
                    step.at
                ),
            )));
        }
        let facts = self
            .gate
            .config()
            .health()
            .score_facts(&step.signals, step.at)
            .map_err(wrap)?;
        let view = HealthView {
            scope: &step.signals.scope,
            score: facts.score,
            present_weight: facts.present_weight,
            as_of: facts.as_of,
        };
        // Validate every action before changing any state.
        for a in &step.actions {
            a.validate().map_err(wrap)?;
            if view.scope != &a.target.scope {
                return Err(wrap(Error::action(
                    "target.scope",
                    format!(
                        "step signals are for {} but the action targets {}; an action is judged only on signals of its own target scope",
                        view.scope, a.target.scope
                    ),
                )));
            }
        }
        let date = step.at.date_naive();
        if self.days.last().is_none_or(|d| d.date != date) {
            self.days.push(DayTally {
                date,
                tally: Tally::default(),
            });
        }
        if step.actions.is_empty() {
            self.gate.observe(&view);
        }
        for a in &step.actions {
            let j = self.gate.judge_and_apply(&view, a, step.at).map_err(wrap)?;
            self.totals.add(j);
            if let Some(d) = self.days.last_mut() {
                d.tally.add(j);
            }
            each(a, j);
        }
        self.totals.readings += 1;
        if let Some(d) = self.days.last_mut() {
            d.tally.readings += 1;
        }
        self.last_at = Some(step.at);
        self.steps += 1;
        Ok(())
    }

    /// The report so far.
    #[must_use]
    pub fn finish(self) -> BacktestReport {
        BacktestReport {
            config_hash: self.gate.config().hash(),
            totals: self.totals,
            days: self.days,
        }
    }
}

/// Replays `steps` through `config`.
///
/// # Errors
/// [`Error::Backtest`] naming the first invalid step.
pub fn run<S: Borrow<BacktestStep>>(
    config: &TrustGateConfig,
    steps: impl IntoIterator<Item = S>,
) -> Result<BacktestReport> {
    let mut bt = Backtest::new(config);
    for s in steps {
        bt.step_judged(s.borrow(), |_, _| {})?;
    }
    Ok(bt.finish())
}

/// Replays `steps` through both configs and reports the difference.
///
/// # Errors
/// [`Error::Backtest`] naming the first invalid step.
pub fn compare<S: Borrow<BacktestStep>>(
    baseline: &TrustGateConfig,
    candidate: &TrustGateConfig,
    steps: impl IntoIterator<Item = S>,
) -> Result<Comparison> {
    let mut a = Backtest::new(baseline);
    let mut b = Backtest::new(candidate);
    let mut matrix = [[0u64; 3]; 3];
    let mut examples = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for s in steps {
        let s = s.borrow();
        outcomes.clear();
        a.step_judged(s, |_, j| outcomes.push(j.outcome))?;
        let mut i = 0;
        b.step_judged(s, |action, j| {
            if let Some(&base) = outcomes.get(i)
                && base != j.outcome
            {
                matrix[outcome_index(base)][outcome_index(j.outcome)] += 1;
                if examples.len() < Comparison::MAX_EXAMPLES {
                    examples.push(OutcomeChange {
                        at: s.at,
                        target: action.target.clone(),
                        kind: action.kind.tag(),
                        baseline: base,
                        candidate: j.outcome,
                    });
                }
            }
            i += 1;
        })?;
    }
    let baseline = a.finish();
    let candidate = b.finish();
    let days = baseline
        .days
        .iter()
        .zip(&candidate.days)
        .map(|(x, y)| DayComparison {
            date: x.date,
            baseline: x.tally,
            candidate: y.tally,
        })
        .collect();
    let all = [
        Outcome::Execute,
        Outcome::AlertOnly,
        Outcome::ManualRequired,
    ];
    let mut transitions = Vec::new();
    for from in all {
        for to in all {
            let count = matrix[outcome_index(from)][outcome_index(to)];
            if count > 0 {
                transitions.push(Transition {
                    baseline: from,
                    candidate: to,
                    count,
                });
            }
        }
    }
    Ok(Comparison {
        baseline,
        candidate,
        days,
        transitions,
        examples,
    })
}

fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::Execute => 0,
        Outcome::AlertOnly => 1,
        Outcome::ManualRequired => 2,
    }
}
