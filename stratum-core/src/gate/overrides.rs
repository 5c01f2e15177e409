//! `SoftBlock` overrides: a person with an allowed role waives guardrail violations
//! on a target for a limited time, with a written reason. Granting, revoking and
//! using an override are all audited.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::gate::{ActionKindTag, Actor, OverridePolicy, Target};
use crate::guardrails::Violation;

/// A request to override guardrails on one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// The target whose violations are waived.
    pub target: Target,
    /// Restrict the override to one action kind (`None`: any kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_kind: Option<ActionKindTag>,
    /// The person granting it; must be [`Actor::Person`] with an allowed role.
    pub granted_by: Actor,
    /// Why (at least the policy's `min_reason_chars`).
    pub reason: String,
    /// When it expires.
    #[serde(with = "crate::digest::ts")]
    pub expires_at: DateTime<Utc>,
}

/// A granted override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Deterministic id: `ovr_` and the first 16 hex digits of the SHA-256 of the
    /// request and grant time.
    pub id: String,
    /// The request as granted.
    pub request: OverrideRequest,
    /// When it was granted.
    #[serde(with = "crate::digest::ts")]
    pub granted_at: DateTime<Utc>,
}

impl Override {
    pub(crate) fn grant(
        policy: &OverridePolicy,
        request: OverrideRequest,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let Actor::Person { role, .. } = &request.granted_by else {
            return Err(Error::refused(
                "granted_by",
                "must be a person; automation cannot override guardrails",
            ));
        };
        if !policy.allowed_roles.iter().any(|r| r == role) {
            return Err(Error::refused(
                "granted_by.role",
                format!(
                    "role {role:?} may not override; allowed roles: {:?}",
                    policy.allowed_roles
                ),
            ));
        }
        let chars = request.reason.trim().chars().count();
        if chars < policy.min_reason_chars {
            return Err(Error::refused(
                "reason",
                format!(
                    "must explain the override in at least {} characters, got {chars}",
                    policy.min_reason_chars
                ),
            ));
        }
        if request.expires_at <= now {
            return Err(Error::refused(
                "expires_at",
                format!(
                    "must be after the grant time {now}, got {}",
                    request.expires_at
                ),
            ));
        }
        if request.expires_at - now > policy.max_duration {
            return Err(Error::refused(
                "expires_at",
                format!(
                    "override may last at most {}s, requested {}s",
                    policy.max_duration.num_seconds(),
                    (request.expires_at - now).num_seconds()
                ),
            ));
        }
        if request.target.id.trim().is_empty() {
            return Err(Error::refused("target.id", "must be a non-empty entity id"));
        }
        let digest = Digest::of(&(&request, crate::digest::Ts(now)))?;
        let id = format!("ovr_{}", &digest.to_hex()[..16]);
        Ok(Override {
            id,
            request,
            granted_at: now,
        })
    }

    /// Whether the override applies to an action of `kind` on `target` at `now`.
    #[must_use]
    pub fn applies(&self, target: &Target, kind: ActionKindTag, now: DateTime<Utc>) -> bool {
        now >= self.granted_at
            && now < self.request.expires_at
            && &self.request.target == target
            && self.request.action_kind.is_none_or(|k| k == kind)
    }
}

/// An override used by a decision: the violations it waived ("would have blocked").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedOverride {
    /// The override's id.
    pub id: String,
    /// Who granted it.
    pub granted_by: Actor,
    /// Their reason.
    pub reason: String,
    /// When it expires.
    #[serde(with = "crate::digest::ts")]
    pub expires_at: DateTime<Utc>,
    /// The violations that would have blocked the action.
    pub waived: Vec<Violation>,
}

/// Live overrides, indexed by target (to find the one that applies in O(1) in the
/// number of overrides) and by expiry (to prune expired ones in O(log n) each).
#[derive(Clone, Debug, Default)]
pub(crate) struct OverrideIndex {
    /// Overrides per target, in grant order.
    by_target: HashMap<Target, Vec<Override>, foldhash::fast::RandomState>,
    /// `(expires_at, id)` of every override.
    by_expiry: BTreeSet<(DateTime<Utc>, String)>,
    /// Target of every override, by id.
    targets: HashMap<String, Target, foldhash::fast::RandomState>,
}

impl OverrideIndex {
    /// An index of `overrides` (a later override with an id already seen replaces
    /// the earlier one).
    pub(crate) fn of(overrides: Vec<Override>) -> Self {
        let mut index = OverrideIndex::default();
        for o in overrides {
            index.insert(o);
        }
        index
    }

    pub(crate) fn len(&self) -> usize {
        self.targets.len()
    }

    pub(crate) fn insert(&mut self, o: Override) {
        self.remove(&o.id);
        self.by_expiry.insert((o.request.expires_at, o.id.clone()));
        self.targets.insert(o.id.clone(), o.request.target.clone());
        self.by_target
            .entry(o.request.target.clone())
            .or_default()
            .push(o);
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.targets.contains_key(id)
    }

    /// Removes the override `id`, if held.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Override> {
        let target = self.targets.remove(id)?;
        let list = self.by_target.get_mut(&target)?;
        let pos = list.iter().position(|o| o.id == id)?;
        let o = list.remove(pos);
        if list.is_empty() {
            self.by_target.remove(&target);
        }
        self.by_expiry.remove(&(o.request.expires_at, o.id.clone()));
        Some(o)
    }

    /// The first override (in grant order) that applies to an action of `kind` on
    /// `target` at `now`.
    pub(crate) fn find(
        &self,
        target: &Target,
        kind: ActionKindTag,
        now: DateTime<Utc>,
    ) -> Option<&Override> {
        self.by_target
            .get(target)?
            .iter()
            .find(|o| o.applies(target, kind, now))
    }

    /// Drops every override that has expired at `now`.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) {
        while let Some((expires_at, id)) = self.by_expiry.first().cloned() {
            if expires_at > now {
                break;
            }
            if self.remove(&id).is_none() {
                // Not indexed by target: drop the stray expiry entry.
                self.by_expiry.remove(&(expires_at, id));
            }
        }
    }

    /// Every override, by grant time then id (a deterministic order).
    pub(crate) fn to_vec(&self) -> Vec<Override> {
        let mut all: Vec<Override> = self.by_target.values().flatten().cloned().collect();
        all.sort_by(|a, b| {
            a.granted_at
                .cmp(&b.granted_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        all
    }
}
