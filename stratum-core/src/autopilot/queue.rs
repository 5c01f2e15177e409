//! The action queue: every proposal the autopilot makes, its state, and an audited
//! history of how it got there.
//!
//! ```text
//! proposed ─┬─► approved ──┬─► executed ──► reverted
//!           ├─► held ──────┤   (or failed)
//!           │     └─► blocked ─► overridden ─► executed / failed
//!           ├─► blocked
//!           └─► failed
//! ```
//!
//! The gate's outcome places a proposal: `Execute` → approved, `AlertOnly` (the
//! `Hold` band) → held, `ManualRequired` → blocked. A person approves a held action
//! or overrides a blocked one; the host reports execution or failure; an executed
//! action can be undone, with [`ActionQueue::revert_preview`] showing the exact
//! reverse change first. Every transition writes one
//! [`AuditEvent::ActionTransition`] record.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditLog};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::{ActionKind, Actor, Outcome, ProposedAction};

/// Where a queued action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    /// Proposed, not yet placed by the gate.
    Proposed,
    /// May be carried out.
    Approved,
    /// Carried out by the host.
    Executed,
    /// Held by the gate (the `Hold` band); needs a person's approval.
    Held,
    /// Blocked by the gate or a guardrail; needs an override.
    Blocked,
    /// A person overrode the block; may be carried out.
    Overridden,
    /// Undone after execution.
    Reverted,
    /// The host could not carry it out.
    Failed,
}

impl ActionState {
    /// Whether `self → to` is allowed.
    #[must_use]
    pub fn can_go_to(self, to: ActionState) -> bool {
        use ActionState::*;
        matches!(
            (self, to),
            (Proposed, Approved | Held | Blocked | Failed)
                | (Held, Approved | Blocked)
                | (Blocked, Overridden)
                | (Approved | Overridden, Executed | Failed)
                | (Executed, Reverted)
        )
    }

    /// Whether a person must cause the transition into this state from `self`.
    /// Automation reaches `approved` only through a recorded gate decision
    /// ([`crate::autopilot::Autopilot::run`]), and never undoes an action (the
    /// reverse change would be carried out ungated).
    fn needs_person(self, to: ActionState) -> bool {
        matches!(
            (self, to),
            (
                ActionState::Proposed | ActionState::Held,
                ActionState::Approved
            ) | (ActionState::Blocked, ActionState::Overridden)
                | (ActionState::Executed, ActionState::Reverted)
        )
    }

    /// The state the gate's outcome places a proposal in.
    #[must_use]
    pub fn for_outcome(outcome: Outcome) -> ActionState {
        match outcome {
            Outcome::Execute => ActionState::Approved,
            Outcome::AlertOnly => ActionState::Held,
            Outcome::ManualRequired => ActionState::Blocked,
        }
    }
}

impl std::fmt::Display for ActionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionState::Proposed => "proposed",
            ActionState::Approved => "approved",
            ActionState::Executed => "executed",
            ActionState::Held => "held",
            ActionState::Blocked => "blocked",
            ActionState::Overridden => "overridden",
            ActionState::Reverted => "reverted",
            ActionState::Failed => "failed",
        })
    }
}

/// One recorded state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// State before (`None` when the action entered the queue).
    pub from: Option<ActionState>,
    /// State after.
    pub to: ActionState,
    /// When.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Who.
    pub by: Actor,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Sequence number of the audit record of this transition.
    pub audit_seq: u64,
}

/// An action in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAction {
    /// Queue-unique id, from 1.
    pub id: u64,
    /// The action.
    pub action: ProposedAction,
    /// Current state.
    pub state: ActionState,
    /// Audit sequence number of the gate decision behind it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_seq: Option<u64>,
    /// Every transition, oldest first.
    pub history: Vec<Transition>,
}

/// The settings an action can change on an entity, for previews and undo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitySettings {
    /// Daily budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Decimal>,
    /// Bid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<Decimal>,
    /// Whether delivery is paused.
    pub paused: bool,
}

impl EntitySettings {
    /// The settings after `kind`. A money change must start from the current value
    /// (otherwise the change is stale).
    ///
    /// # Errors
    /// [`Error::InvalidAction`] on `kind.from` when the current budget or bid is not
    /// the change's `from`; on `kind` for a custom action (it changes nothing this
    /// type knows).
    pub fn apply(&self, kind: &ActionKind) -> Result<EntitySettings> {
        let mut next = *self;
        let check = |current: Option<Decimal>, from: Decimal, what: &str| -> Result<()> {
            if current == Some(from) {
                Ok(())
            } else {
                Err(Error::action(
                    "kind.from",
                    format!(
                        "the {what} is {} but the change starts from {from}; the change is stale",
                        current.map_or_else(|| "unset".to_owned(), |c| c.to_string())
                    ),
                ))
            }
        };
        match kind {
            ActionKind::BudgetChange { from, to } => {
                check(self.budget, *from, "budget")?;
                next.budget = Some(*to);
            }
            ActionKind::BidChange { from, to } => {
                check(self.bid, *from, "bid")?;
                next.bid = Some(*to);
            }
            ActionKind::Pause => next.paused = true,
            ActionKind::Resume => next.paused = false,
            ActionKind::Custom { name, .. } => {
                return Err(Error::action(
                    "kind",
                    format!("custom action {name:?} has no known effect on settings"),
                ));
            }
        }
        Ok(next)
    }
}

/// The exact change that undoing an executed action makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevertPreview {
    /// Queue id of the action undone.
    pub id: u64,
    /// The action that was executed.
    pub executed: ActionKind,
    /// The reverse action to carry out.
    pub revert: ProposedAction,
}

/// The reverse of an action kind: budgets and bids swap `from` and `to`, pause
/// and resume swap.
///
/// # Errors
/// [`Error::InvalidAction`] on `kind` for a custom action, which has no known
/// reverse.
pub fn reverse(kind: &ActionKind) -> Result<ActionKind> {
    Ok(match kind {
        ActionKind::BudgetChange { from, to } => ActionKind::BudgetChange {
            from: *to,
            to: *from,
        },
        ActionKind::BidChange { from, to } => ActionKind::BidChange {
            from: *to,
            to: *from,
        },
        ActionKind::Pause => ActionKind::Resume,
        ActionKind::Resume => ActionKind::Pause,
        ActionKind::Custom { name, .. } => {
            return Err(Error::action(
                "kind",
                format!("custom action {name:?} cannot be undone automatically"),
            ));
        }
    })
}

/// The queue. Serialisable so a host can persist it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionQueue {
    actions: Vec<QueuedAction>,
    next_id: u64,
}

impl ActionQueue {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        ActionQueue::default()
    }

    /// Every action, oldest first.
    #[must_use]
    pub fn actions(&self) -> &[QueuedAction] {
        &self.actions
    }

    /// One action by id.
    #[must_use]
    pub fn get(&self, id: u64) -> Option<&QueuedAction> {
        self.index(id).ok().and_then(|i| self.actions.get(i))
    }

    /// Actions in `state`.
    pub fn in_state(&self, state: ActionState) -> impl Iterator<Item = &QueuedAction> {
        self.actions.iter().filter(move |a| a.state == state)
    }

    fn index(&self, id: u64) -> Result<usize> {
        self.actions
            .binary_search_by_key(&id, |a| a.id)
            .map_err(|_| Error::action("id", format!("no queued action with id {id}")))
    }

    /// Adds a validated action in the `proposed` state and audits it.
    ///
    /// # Errors
    /// [`Error::InvalidAction`] for a malformed action; [`Error::AuditIo`] if the
    /// record cannot be written (the queue is then unchanged).
    pub fn propose(
        &mut self,
        action: ProposedAction,
        decision_seq: Option<u64>,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<u64> {
        action.validate()?;
        let id = self.next_id.saturating_add(1);
        let by = action.proposer.clone();
        let r = audit.append(
            now,
            by.clone(),
            AuditEvent::ActionTransition {
                id,
                target: action.target.clone(),
                kind: action.kind.clone(),
                from: None,
                to: ActionState::Proposed,
                reason: None,
            },
            Digest::ZERO,
        )?;
        self.next_id = id;
        self.actions.push(QueuedAction {
            id,
            action,
            state: ActionState::Proposed,
            decision_seq,
            history: vec![Transition {
                from: None,
                to: ActionState::Proposed,
                at: now,
                by,
                reason: None,
                audit_seq: r.seq,
            }],
        });
        Ok(id)
    }

    /// Moves action `id` to `to`, after checking the transition is allowed, and
    /// audits it.
    ///
    /// # Errors
    /// [`Error::InvalidAction`] on `id` for an unknown id, on `state` for a
    /// transition that is not allowed, on `by` when a person is required (approving a
    /// proposed or held action, overriding a blocked one, undoing an executed one) or
    /// `reason` is empty for an override; [`Error::AuditIo`] if the record cannot be
    /// written (nothing changes).
    pub fn transition(
        &mut self,
        id: u64,
        to: ActionState,
        by: Actor,
        reason: Option<&str>,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<()> {
        self.move_to(id, to, by, reason, now, audit, false)
    }

    /// Places proposed action `id` in the state the gate's recorded decision on it
    /// implies ([`ActionState::for_outcome`]), as its proposer.
    pub(crate) fn place(
        &mut self,
        id: u64,
        outcome: Outcome,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<ActionState> {
        let to = ActionState::for_outcome(outcome);
        let by = self
            .get(id)
            .map(|a| a.action.proposer.clone())
            .ok_or_else(|| Error::action("id", format!("no queued action with id {id}")))?;
        self.move_to(id, to, by, None, now, audit, true)?;
        Ok(to)
    }

    #[allow(clippy::too_many_arguments)]
    fn move_to(
        &mut self,
        id: u64,
        to: ActionState,
        by: Actor,
        reason: Option<&str>,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
        decided_by_gate: bool,
    ) -> Result<()> {
        let i = self.index(id)?;
        let Some(entry) = self.actions.get_mut(i) else {
            return Err(Error::action(
                "id",
                format!("no queued action with id {id}"),
            ));
        };
        let from = entry.state;
        if !from.can_go_to(to) {
            return Err(Error::action(
                "state",
                format!("action {id} cannot go from {from} to {to}"),
            ));
        }
        let gate_placed = decided_by_gate && from == ActionState::Proposed;
        if from.needs_person(to) && by.is_automation() && !gate_placed {
            return Err(Error::action(
                "by",
                format!("only a person may move action {id} from {from} to {to}, not {by}"),
            ));
        }
        if to == ActionState::Overridden && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(Error::action(
                "reason",
                "an override needs a non-empty reason",
            ));
        }
        let r = audit.append(
            now,
            by.clone(),
            AuditEvent::ActionTransition {
                id,
                target: entry.action.target.clone(),
                kind: entry.action.kind.clone(),
                from: Some(from),
                to,
                reason: reason.map(str::to_owned),
            },
            Digest::ZERO,
        )?;
        entry.state = to;
        entry.history.push(Transition {
            from: Some(from),
            to,
            at: now,
            by,
            reason: reason.map(str::to_owned),
            audit_seq: r.seq,
        });
        Ok(())
    }

    /// The exact reverse change of executed action `id`, without changing anything.
    ///
    /// # Errors
    /// [`Error::InvalidAction`] for an unknown id, an action that is not executed,
    /// or one with no known reverse.
    pub fn revert_preview(&self, id: u64, by: &Actor) -> Result<RevertPreview> {
        let i = self.index(id)?;
        let Some(entry) = self.actions.get(i) else {
            return Err(Error::action(
                "id",
                format!("no queued action with id {id}"),
            ));
        };
        if entry.state != ActionState::Executed {
            return Err(Error::action(
                "state",
                format!(
                    "only executed actions can be undone; action {id} is {}",
                    entry.state
                ),
            ));
        }
        let kind = reverse(&entry.action.kind)?;
        Ok(RevertPreview {
            id,
            executed: entry.action.kind.clone(),
            revert: ProposedAction {
                kind,
                target: entry.action.target.clone(),
                proposer: by.clone(),
                data_volume: None,
            },
        })
    }

    /// Undoes executed action `id`: marks it reverted (audited) and returns the
    /// reverse change for the host to carry out. Only a person may undo.
    ///
    /// # Errors
    /// As [`ActionQueue::revert_preview`] and [`ActionQueue::transition`].
    pub fn undo(
        &mut self,
        id: u64,
        by: Actor,
        reason: Option<&str>,
        now: DateTime<Utc>,
        audit: &mut AuditLog,
    ) -> Result<RevertPreview> {
        let preview = self.revert_preview(id, &by)?;
        self.transition(id, ActionState::Reverted, by, reason, now, audit)?;
        Ok(preview)
    }
}
