//! The autopilot: rules that watch campaign metrics and propose budget, bid and
//! status changes, each judged by the trust gate and kept in an audited action
//! queue.
//!
//! * [`rules`]: rules as JSON data, validated ([`RuleSet`]).
//! * [`metrics`]: the campaign metrics rules read and their window aggregation.
//! * [`run`]: the scheduler-agnostic entry point [`Autopilot::run`] and its dry
//!   run [`Autopilot::preview`].
//! * [`queue`]: the [`ActionQueue`] with validated, audited transitions and undo.
//!
//! See `docs/autopilot.md` for a worked example.

pub mod metrics;
pub mod queue;
pub mod rules;
pub mod run;

pub use metrics::{CampaignMetrics, DailyMetrics, DeliveryStatus, Totals};
pub use queue::{
    ActionQueue, ActionState, EntitySettings, QueuedAction, RevertPreview, Transition,
};
pub use rules::{
    Aggregation, Comparison, Condition, ConditionSpec, Metric, Rule, RuleAction, RuleSet,
    RuleSetSpec, RuleSpec, Safety,
};
pub use run::{Autopilot, Proposal, RunReport, SkipReason, Skipped};
