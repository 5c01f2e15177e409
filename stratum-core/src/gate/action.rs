//! What automation (or a person) proposes to do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::health::Scope;

/// Who proposes an action or writes an audit record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Actor {
    /// The autopilot, optionally naming the rule that fired.
    Autopilot {
        /// Rule id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// A person with a role (e.g. `admin`, `media_buyer`).
    Person {
        /// Opaque user id (never an email address: audit logs must hold no PII).
        id: String,
        /// Role, matched against the override policy's allowed roles.
        role: String,
    },
    /// Another system component (scheduler, import job). Gated like the autopilot.
    System {
        /// Component name.
        name: String,
    },
}

impl Actor {
    /// Whether the gate treats this actor as automation (autopilot or system).
    #[must_use]
    pub fn is_automation(&self) -> bool {
        !matches!(self, Actor::Person { .. })
    }

    /// The autopilot with no rule named.
    #[must_use]
    pub fn autopilot() -> Self {
        Actor::Autopilot { rule: None }
    }

    /// A person.
    #[must_use]
    pub fn person(id: impl Into<String>, role: impl Into<String>) -> Self {
        Actor::Person {
            id: id.into(),
            role: role.into(),
        }
    }

    fn validate(&self, field: &str) -> Result<()> {
        match self {
            Actor::Person { id, role } => {
                if id.trim().is_empty() {
                    return Err(Error::action(format!("{field}.id"), "must be non-empty"));
                }
                if role.trim().is_empty() {
                    return Err(Error::action(format!("{field}.role"), "must be non-empty"));
                }
            }
            Actor::System { name } if name.trim().is_empty() => {
                return Err(Error::action(format!("{field}.name"), "must be non-empty"));
            }
            _ => {}
        }
        Ok(())
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Autopilot { rule: Some(r) } => write!(f, "autopilot (rule {r})"),
            Actor::Autopilot { rule: None } => f.write_str("autopilot"),
            Actor::Person { id, role } => write!(f, "{id} ({role})"),
            Actor::System { name } => write!(f, "system ({name})"),
        }
    }
}

/// The kind of an action, without its data: used for per-kind enforcement modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKindTag {
    /// [`ActionKind::BudgetChange`].
    BudgetChange,
    /// [`ActionKind::BidChange`].
    BidChange,
    /// [`ActionKind::Pause`].
    Pause,
    /// [`ActionKind::Resume`].
    Resume,
    /// [`ActionKind::Custom`].
    Custom,
}

/// What the action does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionKind {
    /// Change a daily budget from `from` to `to` (account currency).
    BudgetChange {
        /// Current budget.
        from: Decimal,
        /// Proposed budget.
        to: Decimal,
    },
    /// Change a bid (or bid cap / target CPA) from `from` to `to`.
    BidChange {
        /// Current bid.
        from: Decimal,
        /// Proposed bid.
        to: Decimal,
    },
    /// Pause delivery.
    Pause,
    /// Resume delivery.
    Resume,
    /// Anything else, with an optional magnitude.
    Custom {
        /// Action name.
        name: String,
        /// Optional size of the change, for the record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        magnitude: Option<Decimal>,
    },
}

impl ActionKind {
    /// The kind's tag.
    #[must_use]
    pub fn tag(&self) -> ActionKindTag {
        match self {
            ActionKind::BudgetChange { .. } => ActionKindTag::BudgetChange,
            ActionKind::BidChange { .. } => ActionKindTag::BidChange,
            ActionKind::Pause => ActionKindTag::Pause,
            ActionKind::Resume => ActionKindTag::Resume,
            ActionKind::Custom { .. } => ActionKindTag::Custom,
        }
    }

    /// `(from, to)` for money changes.
    #[must_use]
    pub fn money_change(&self) -> Option<(Decimal, Decimal)> {
        match self {
            ActionKind::BudgetChange { from, to } | ActionKind::BidChange { from, to } => {
                Some((*from, *to))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionKind::BudgetChange { from, to } => write!(f, "budget {from} -> {to}"),
            ActionKind::BidChange { from, to } => write!(f, "bid {from} -> {to}"),
            ActionKind::Pause => f.write_str("pause"),
            ActionKind::Resume => f.write_str("resume"),
            ActionKind::Custom {
                name,
                magnitude: Some(m),
            } => write!(f, "{name} ({m})"),
            ActionKind::Custom {
                name,
                magnitude: None,
            } => f.write_str(name),
        }
    }
}

/// What the action applies to: an entity (campaign, ad set, ...) within a scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Tenant / platform / ad account the entity belongs to.
    pub scope: Scope,
    /// Entity id on the platform (e.g. a campaign id).
    pub id: String,
}

impl Target {
    /// A target.
    #[must_use]
    pub fn new(scope: Scope, id: impl Into<String>) -> Self {
        Target {
            scope,
            id: id.into(),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.scope, self.id)
    }
}

/// Data behind the proposal, for the minimum-data-volume guardrail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataVolume {
    /// Conversions observed in the rule's window.
    pub conversions: u64,
    /// Spend observed in the rule's window.
    pub spend: Decimal,
}

/// A proposed change, to be judged by the trust gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedAction {
    /// What to do.
    pub kind: ActionKind,
    /// To what.
    pub target: Target,
    /// Who proposes it.
    pub proposer: Actor,
    /// Data behind the proposal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_volume: Option<DataVolume>,
}

impl ProposedAction {
    /// An action with no data-volume evidence.
    #[must_use]
    pub fn new(kind: ActionKind, target: Target, proposer: Actor) -> Self {
        ProposedAction {
            kind,
            target,
            proposer,
            data_volume: None,
        }
    }

    /// Attaches data-volume evidence.
    #[must_use]
    pub fn with_data_volume(mut self, conversions: u64, spend: Decimal) -> Self {
        self.data_volume = Some(DataVolume { conversions, spend });
        self
    }

    /// Checks amounts and ids.
    ///
    /// # Errors
    /// [`Error::InvalidAction`] for negative amounts, empty ids or names.
    pub fn validate(&self) -> Result<()> {
        if self.target.id.trim().is_empty() {
            return Err(Error::action("target.id", "must be a non-empty entity id"));
        }
        self.target
            .scope
            .validate("target.scope")
            .map_err(|e| match e {
                Error::InvalidObservation { field, message } => Error::action(field, message),
                other => other,
            })?;
        self.proposer.validate("proposer")?;
        match &self.kind {
            ActionKind::BudgetChange { from, to } | ActionKind::BidChange { from, to } => {
                for (name, v) in [("from", from), ("to", to)] {
                    if v.is_sign_negative() && !v.is_zero() {
                        return Err(Error::action(
                            format!("kind.{name}"),
                            format!("must be zero or positive, got {v}"),
                        ));
                    }
                }
            }
            ActionKind::Custom { name, magnitude } => {
                if name.trim().is_empty() {
                    return Err(Error::action("kind.name", "must be non-empty"));
                }
                if let Some(m) = magnitude
                    && m.is_sign_negative()
                    && !m.is_zero()
                {
                    return Err(Error::action(
                        "kind.magnitude",
                        format!("must be zero or positive, got {m}"),
                    ));
                }
            }
            ActionKind::Pause | ActionKind::Resume => {}
        }
        if let Some(v) = &self.data_volume
            && v.spend.is_sign_negative()
            && !v.spend.is_zero()
        {
            return Err(Error::action(
                "data_volume.spend",
                format!("must be zero or positive, got {}", v.spend),
            ));
        }
        Ok(())
    }
}
