//! The incremental identity graph.
//!
//! ## Model
//! Every resolved event is recorded as a *link*: its message id, timestamp and the
//! identifiers it carried (after blocking). The graph's state is, at all times,
//! exactly what replaying the recorded links in **canonical order** — earliest
//! timestamp first, ties by message id — would produce. Consequently the final
//! partition, the surviving profile ids and every merge refusal do not depend on
//! the order in which events arrive, even when limits are hit: where a limit makes
//! two events compete, **the earliest event (timestamp, then message id) wins**.
//!
//! Replaying one link: its identifiers are taken in priority order (1 first; ties
//! by kind, then value). Each is accepted when adding it — and merging the profile
//! it already belongs to — keeps every per-type limit (within the rule's window),
//! the identifier cap and the merge cap of the resulting profile; otherwise it is
//! dropped from this event with the reason recorded, and the merge it would have
//! caused is refused. Since higher-priority identifiers are considered first, the
//! lowest-priority conflicting identifier is the one dropped. The accepted
//! identifiers and their profiles are then merged into one profile.
//!
//! A profile's id is `ProfileId` of the message that founded it. When profiles
//! merge, the one founded earliest (canonical order) survives; the other ids
//! redirect to it ([`IdentityGraph::canonical`]).
//!
//! An `alias` event states that two ids are one person: it may join one user id
//! over the `user_id` limit. A profile that holds more identifiers of a type than
//! the limit through an alias keeps them, and is only refused growth past what it
//! holds; without aliases no profile is ever over a limit.
//!
//! ## Incremental cost
//! An event later (canonical order) than every link touching its identifiers is
//! applied directly. So is a late event whose replay provably only joins (or, if
//! earlier than its founder, founds) the one profile its identifiers touch (see
//! `try_late`): a newest-first backfill costs about what in-order arrival does.
//! So is a late event in a component a limit has decided something in, when the
//! component is a *star* (every event carries the same shared identifiers and
//! others no other event carries; see `star`): it displaces at most one later
//! identifier per identifier it brings.
//! Any other late event, and every unmerge, recomputes only the affected
//! component: the links connected to it through shared identifiers
//! ([`IdentityGraph::replayed_links`] counts them).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher as _;

use hashbrown::HashTable;

/// End of a list in `IdentityGraph::incidence`.
const NONE: usize = usize::MAX;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BlockReason, Identifier, IdentifierKind, IdentityConfig};
use crate::error::{Error, Result};
use crate::message::{Message, MessageType};

#[path = "star.rs"]
mod star;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = HashSet<K, foldhash::fast::RandomState>;

/// A stable profile id: `prof:` followed by the message id of the event that
/// founded the profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub String);

impl std::fmt::Display for ProfileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an identifier was dropped from an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum DropReason {
    /// Accepting it would give the profile more identifiers of this type than the
    /// rule allows.
    LimitExceeded {
        /// The identifier type whose limit would be broken.
        kind: IdentifierKind,
        /// The limit.
        limit: u32,
        /// How many the merged profile would have held.
        would_hold: u32,
    },
    /// Accepting it would exceed the identifier cap per profile.
    MaxIdentifiers {
        /// The cap.
        limit: u32,
    },
    /// Accepting it would make the profile absorb more merges than allowed.
    MaxMerges {
        /// The cap.
        limit: u32,
    },
    /// The identifier was removed with [`IdentityGraph::remove_identifier`].
    Removed,
}

/// An identifier dropped from an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// The identifier.
    pub identifier: Identifier,
    /// The profile it belongs to, if any (the merge that was refused).
    pub profile: Option<ProfileId>,
    /// Why.
    pub reason: DropReason,
}

/// A blocked identifier value (never linked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// The identifier as carried.
    pub identifier: Identifier,
    /// Why it is blocked.
    pub reason: BlockReason,
}

/// The outcome of resolving one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The event's message id.
    pub message_id: String,
    /// The profile the event belongs to (`None` when nothing could be linked).
    pub profile: Option<ProfileId>,
    /// Identifiers linked by this event.
    pub accepted: Vec<Identifier>,
    /// Identifiers dropped by a limit or a removal.
    pub dropped: Vec<Dropped>,
    /// Identifiers ignored because their value is blocked.
    pub blocked: Vec<Blocked>,
    /// Profiles that this event caused to merge into [`Resolution::profile`].
    pub merged: Vec<ProfileId>,
    /// The event was already resolved (same message id): nothing changed.
    pub duplicate: bool,
    /// The event's consent denies the required category: nothing was linked.
    pub consent_denied: bool,
    /// Set when the event arrived after later events touching its identifiers and
    /// could not be applied directly, so the affected component was recomputed:
    /// the component's profiles now.
    pub recomputed: Option<Recomputed>,
    /// Profile ids that stopped being live because of this event (merged away,
    /// replaced in a recomputation, or renamed because this late event founds the
    /// profile now); each redirects to its successor.
    pub retired: Vec<ProfileId>,
}

/// The outcome of an unmerge (or its undo): the component's profiles now, and the
/// ids that are no longer live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recomputed {
    /// The live profiles holding the component's identifiers, sorted.
    pub profiles: Vec<ProfileId>,
    /// Profile ids that were live before and are not any more (sorted); each
    /// redirects to the profile now holding its founding identifiers, if any.
    pub retired: Vec<ProfileId>,
}

/// A merge of two profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The profile that survived.
    pub survivor: ProfileId,
    /// The profile merged into it (its id now redirects to the survivor).
    pub absorbed: ProfileId,
    /// The event that caused the merge.
    pub message_id: String,
    /// That event's timestamp.
    pub timestamp: DateTime<Utc>,
    /// The identifiers the event carried that were accepted: they connected both
    /// profiles. Rule: identifiers carried by one event belong to one person.
    pub via: Vec<Identifier>,
}

/// One event in a profile's history, as used by resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkExplanation {
    /// The event's message id.
    pub message_id: String,
    /// The event's timestamp.
    pub timestamp: DateTime<Utc>,
    /// Identifiers it linked into the profile.
    pub accepted: Vec<Identifier>,
    /// Identifiers it carried that were dropped, with the reason.
    pub dropped: Vec<Dropped>,
}

/// Why a profile's identifiers are together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The profile.
    pub profile: ProfileId,
    /// Its identifiers, sorted.
    pub identifiers: Vec<Identifier>,
    /// The events that linked them, in canonical order (timestamp, message id).
    pub links: Vec<LinkExplanation>,
    /// Every merge that formed the profile, in the order they happened.
    pub merges: Vec<MergeRecord>,
}

impl Explanation {
    /// A human-readable account of the profile.
    #[must_use]
    pub fn explain(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "profile {} holds {} identifiers from {} events\n",
            self.profile,
            self.identifiers.len(),
            self.links.len()
        );
        for l in &self.links {
            let ids: Vec<String> = l.accepted.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                s,
                "  {} at {}: linked {}",
                l.message_id,
                l.timestamp.to_rfc3339(),
                ids.join(", ")
            );
            for d in &l.dropped {
                let _ = writeln!(s, "    dropped {}: {:?}", d.identifier, d.reason);
            }
        }
        for m in &self.merges {
            let _ = writeln!(
                s,
                "  merged {} into {} by {}",
                m.absorbed, m.survivor, m.message_id
            );
        }
        s
    }
}

#[derive(Debug, Clone)]
struct IdentState {
    id: Identifier,
    priority: u32,
    window: Option<chrono::TimeDelta>,
    /// Rule slot for per-kind counting.
    rule: usize,
    profile: Option<usize>,
    /// When it joined its profile (the timestamp of the accepting event).
    joined: Option<DateTime<Utc>>,
    /// The link that accepted it first (canonical order).
    joined_by: Option<usize>,
    /// The link from which on it is in the same set as its profile's founding
    /// identifiers: its joining link, or the later merge that brought it in.
    root_since: Option<usize>,
    /// A limit dropped it from some event (its component is order-sensitive).
    contested: bool,
    /// The profile slot whose star shape (see `star`) counts it as the private
    /// identifier of one event: another event carrying it breaks that shape.
    private_of: Option<usize>,
    /// Latest (canonical order) link touching this identifier.
    last_link: Option<usize>,
    /// Head of the list (in `IdentityGraph::incidence`) of every link that
    /// carried this identifier, accepted or not.
    links_head: usize,
    removed: bool,
}

#[derive(Debug, Clone, Default)]
struct Outcome {
    accepted: Vec<usize>,
    dropped: Vec<(usize, Option<ProfileId>, DropReason)>,
    merged: Vec<ProfileId>,
}

#[derive(Debug, Clone)]
struct LinkState {
    message_id: String,
    timestamp: DateTime<Utc>,
    /// Identifiers (not blocked), sorted by priority.
    raw: Vec<usize>,
    removed: bool,
    /// An `alias` event: it may join one user id over the `user_id` limit.
    alias: bool,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
struct ProfileNode {
    id: ProfileId,
    founder: usize,
    idents: Vec<usize>,
    links: Vec<usize>,
    merges: Vec<MergeRecord>,
    merge_count: u32,
    /// Latest (canonical order) link touching any identifier of this profile.
    max_link: usize,
    /// A limit dropped an identifier from one of its events, or refused a merge
    /// with it: its component's outcome depends on the limits.
    contested: bool,
    /// The component's star shape, while it has one (see `star`).
    star: Option<Box<star::Star>>,
    /// A star whose core is the founding event's identifiers and which has no
    /// private identifiers: every other event carried exactly those (`star` is
    /// built when an event brings anything else).
    star_single: bool,
}

/// The incremental identity graph. See the [module docs](self) for the rules.
#[derive(Debug, Clone)]
pub struct IdentityGraph {
    config: IdentityConfig,
    /// Rule slots: index into `config.rules`, or one slot per distinct external kind.
    rule_slots: Map<IdentifierKind, usize>,
    /// Per rule slot: the kind, its limit and its priority.
    slot_limits: Vec<(IdentifierKind, u32, u32)>,
    /// Hashes for `index` and `by_message`.
    hasher: foldhash::fast::RandomState,
    /// Index into `idents` by identifier (the key lives in `idents` only).
    index: HashTable<usize>,
    idents: Vec<IdentState>,
    links: Vec<LinkState>,
    /// Index into `links` by message id (the key lives in `links` only).
    by_message: HashTable<usize>,
    profiles: Vec<Option<ProfileNode>>,
    free: Vec<usize>,
    /// Index into `profiles` of each live profile by id (the key lives in the node).
    by_id: HashTable<usize>,
    redirects: Map<ProfileId, ProfileId>,
    /// (link, next) cells of the per-identifier link lists; `NONE` ends a list.
    incidence: Vec<(usize, usize)>,
    /// Reused buffers of `apply_raw`: profiles joined, counts, candidate counts.
    scratch: (Vec<usize>, Vec<u32>, Vec<u32>),
    /// Links replayed by recomputations so far.
    replayed: u64,
    /// `alias` links whose `previousId` was read as an anonymous id because no
    /// event had named it as a user id yet, by that `previousId`: when a later
    /// event names it as a user id, these links are re-read with it.
    alias_previous: Map<String, Vec<usize>>,
    /// Reused buffer of the star bookkeeping in `apply_raw`.
    star_scratch: Vec<usize>,
}

impl IdentityGraph {
    /// An empty graph.
    #[must_use]
    pub fn new(config: IdentityConfig) -> Self {
        IdentityGraph {
            config,
            rule_slots: Map::default(),
            slot_limits: Vec::new(),
            hasher: foldhash::fast::RandomState::default(),
            index: HashTable::new(),
            idents: Vec::new(),
            links: Vec::new(),
            by_message: HashTable::new(),
            profiles: Vec::new(),
            free: Vec::new(),
            by_id: HashTable::new(),
            redirects: Map::default(),
            incidence: Vec::new(),
            scratch: Default::default(),
            replayed: 0,
            alias_previous: Map::default(),
            star_scratch: Vec::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    /// Resolves a parsed message: extracts its identifiers
    /// ([`super::identifiers`]), respects the required consent category, and links.
    ///
    /// An `alias`'s `previousId` is taken as a `user_id` when any event (before or
    /// after the alias) names `user_id:<previousId>`, else as an `anonymous_id`: an
    /// alias read as an anonymous id is re-read when such an event arrives, so the
    /// result does not depend on arrival order. An alias may join
    /// one user id over the `user_id` limit (see the [module docs](self)).
    pub fn resolve(&mut self, message: &Message) -> Resolution {
        if let Some(cat) = self.config.required_consent()
            && !message.consent.allows(cat, true)
        {
            return Resolution {
                message_id: message.message_id.clone(),
                profile: None,
                accepted: Vec::new(),
                dropped: Vec::new(),
                blocked: Vec::new(),
                merged: Vec::new(),
                duplicate: false,
                consent_denied: true,
                recomputed: None,
                retired: Vec::new(),
            };
        }
        let alias = message.kind == MessageType::Alias;
        // `previousId` names a user id when any event names it as one (before or
        // after this alias, this alias's own `userId` included: a self-alias links
        // nothing new), else an anonymous id (Segment allows either).
        let previous = match &message.previous_id {
            Some(p) if alias => {
                let as_user = Identifier::new(IdentifierKind::UserId, p);
                let own = message
                    .user_id
                    .as_deref()
                    .is_some_and(|u| Identifier::new(IdentifierKind::UserId, u) == as_user);
                if own || self.ident_index(&as_user).is_some() {
                    IdentifierKind::UserId
                } else {
                    IdentifierKind::AnonymousId
                }
            }
            _ => IdentifierKind::AnonymousId,
        };
        let res = self.link_as(
            &message.message_id,
            message.timestamp,
            super::identifiers_with_previous(message, previous.clone()),
            alias,
        );
        if alias
            && !res.duplicate
            && previous == IdentifierKind::AnonymousId
            && let Some(p) = &message.previous_id
        {
            let l = self.links.len() - 1;
            let key = Identifier::new(IdentifierKind::AnonymousId, p).value;
            self.alias_previous.entry(key).or_default().push(l);
        }
        res
    }

    /// Links the identifiers carried by one event (values are used as given:
    /// normalise with [`Identifier::new`]).
    pub fn link(
        &mut self,
        message_id: &str,
        timestamp: DateTime<Utc>,
        identifiers: Vec<Identifier>,
    ) -> Resolution {
        self.link_as(message_id, timestamp, identifiers, false)
    }

    /// [`Self::link`]; `alias`: the event is an `alias`, which may join one user id
    /// more than the `user_id` limit allows.
    fn link_as(
        &mut self,
        message_id: &str,
        timestamp: DateTime<Utc>,
        identifiers: Vec<Identifier>,
        alias: bool,
    ) -> Resolution {
        let mut res = Resolution {
            message_id: message_id.to_owned(),
            profile: None,
            accepted: Vec::new(),
            dropped: Vec::new(),
            blocked: Vec::new(),
            merged: Vec::new(),
            duplicate: false,
            consent_denied: false,
            recomputed: None,
            retired: Vec::new(),
        };
        if let Some(l) = self.link_index(message_id) {
            res.duplicate = true;
            res.profile = self.profile_of_link(l);
            return res;
        }
        let l = self.links.len();
        let first_new = self.idents.len();
        let mut raw = Vec::with_capacity(identifiers.len());
        for id in identifiers {
            if let Some(reason) = self.config.blocked(&id) {
                res.blocked.push(Blocked {
                    identifier: id,
                    reason,
                });
            } else {
                raw.push(self.intern(id));
            }
        }
        raw.sort_unstable_by(|&a, &b| self.ident_order(a, b));
        raw.dedup();
        self.links.push(LinkState {
            message_id: message_id.to_owned(),
            timestamp,
            raw,
            removed: false,
            alias,
            outcome: Outcome::default(),
        });
        let (links, hasher) = (&self.links, &self.hasher);
        self.by_message
            .insert_unique(hasher.hash_one(message_id), l, |&j| {
                hasher.hash_one(links[j].message_id.as_str())
            });
        let raw = &self.links[l].raw;
        let in_order = raw.iter().all(|&i| {
            let last = match self.idents[i].profile {
                Some(p) => self.node(p).map(|n| n.max_link),
                None => self.idents[i].last_link,
            };
            last.is_none_or(|last| self.key_less(last, l))
        });
        for k in 0..self.links[l].raw.len() {
            let i = self.links[l].raw[k];
            let head = self.incidence.len();
            self.incidence.push((l, self.idents[i].links_head));
            self.idents[i].links_head = head;
        }
        let reread = self.reread_aliases(first_new);
        if !reread.is_empty() {
            let mut start = self.links[l].raw.clone();
            start.extend(reread);
            let r = self.recompute_from(&start);
            res.retired = r.retired.clone();
            res.recomputed = Some(r);
        } else if in_order {
            self.apply(l);
            res.retired = self.links[l].outcome.merged.clone();
        } else if let Some(retired) = self.try_star(l) {
            res.retired = retired;
        } else if let Some(retired) = self.try_late(l) {
            res.retired = retired;
        } else {
            let raw = self.links[l].raw.clone();
            let r = self.recompute_from(&raw);
            res.retired = r.retired.clone();
            res.recomputed = Some(r);
        }
        let out = &self.links[l].outcome;
        res.accepted = out
            .accepted
            .iter()
            .map(|&i| self.idents[i].id.clone())
            .collect();
        res.dropped = out
            .dropped
            .iter()
            .map(|(i, p, r)| Dropped {
                identifier: self.idents[*i].id.clone(),
                profile: p.clone(),
                reason: r.clone(),
            })
            .collect();
        res.merged = out.merged.clone();
        res.profile = self.profile_of_link(l);
        res
    }

    /// Re-reads the `alias` links whose `previousId` was taken as an anonymous id
    /// when an identifier interned from `first_new` on names it as a user id: the
    /// alias then links that user id instead, as it would have had the user id been
    /// seen first. Returns the identifiers whose component must be recomputed
    /// (empty when nothing was re-read).
    fn reread_aliases(&mut self, first_new: usize) -> Vec<usize> {
        let mut touched = Vec::new();
        if self.alias_previous.is_empty() {
            return touched;
        }
        for u in first_new..self.idents.len() {
            if self.idents[u].id.kind != IdentifierKind::UserId {
                continue;
            }
            let anon = Identifier::new(IdentifierKind::AnonymousId, &self.idents[u].id.value);
            let Some(pending) = self.alias_previous.remove(&anon.value) else {
                continue;
            };
            let Some(a) = self.ident_index(&anon) else {
                continue;
            };
            for la in pending {
                let Some(k) = self.links[la].raw.iter().position(|&i| i == a) else {
                    continue;
                };
                self.links[la].raw[k] = u;
                let mut raw = std::mem::take(&mut self.links[la].raw);
                raw.sort_unstable_by(|&x, &y| self.ident_order(x, y));
                raw.dedup();
                touched.extend(raw.iter().copied());
                self.links[la].raw = raw;
                // The anonymous id's list keeps a stale cell for `la`: it only
                // widens a later recomputation, never narrows it.
                let head = self.incidence.len();
                self.incidence.push((la, self.idents[u].links_head));
                self.idents[u].links_head = head;
                touched.push(a);
            }
        }
        touched
    }

    /// The profile an identifier belongs to.
    #[must_use]
    pub fn profile_of(&self, id: &Identifier) -> Option<ProfileId> {
        let i = self.ident_index(id)?;
        self.idents[i]
            .profile
            .and_then(|p| self.node(p))
            .map(|n| n.id.clone())
    }

    /// Follows redirects: the live profile that `id` is (or was merged into).
    /// `None` when the id never existed or its identifiers were all removed.
    #[must_use]
    pub fn canonical(&self, id: &ProfileId) -> Option<ProfileId> {
        let mut cur = id;
        for _ in 0..=self.redirects.len() {
            if self.profile_index(cur).is_some() {
                return Some(cur.clone());
            }
            cur = self.redirects.get(cur)?;
        }
        None
    }

    /// The identifiers of a live profile (after redirects), sorted.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the profile does not exist.
    pub fn identifiers(&self, id: &ProfileId) -> Result<Vec<Identifier>> {
        let node = self.live(id)?;
        let mut ids: Vec<Identifier> = node
            .idents
            .iter()
            .map(|&i| self.idents[i].id.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// How many recorded links recomputations have replayed so far: late events
    /// that could not be applied directly, unmerges and their undo. A measure of
    /// what out-of-order arrival has cost; an event applied directly (in order, or
    /// late but provably without effect on the rest of its component) replays none.
    #[must_use]
    pub fn replayed_links(&self) -> u64 {
        self.replayed
    }

    /// Number of live profiles.
    #[must_use]
    pub fn profile_count(&self) -> usize {
        self.by_id.len()
    }

    /// The live profiles' ids, sorted.
    #[must_use]
    pub fn profiles(&self) -> Vec<ProfileId> {
        let mut ids: Vec<ProfileId> = self
            .by_id
            .iter()
            .filter_map(|&p| self.node(p))
            .map(|n| n.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The partition: each live profile's sorted identifiers, sorted.
    #[must_use]
    pub fn partition(&self) -> Vec<Vec<Identifier>> {
        let mut parts: Vec<Vec<Identifier>> = self
            .profiles
            .iter()
            .flatten()
            .map(|n| {
                let mut v: Vec<Identifier> = n
                    .idents
                    .iter()
                    .map(|&i| self.idents[i].id.clone())
                    .collect();
                v.sort();
                v
            })
            .collect();
        parts.sort();
        parts
    }

    /// Why a profile's identifiers are together: the events that linked them, what
    /// each dropped and why, and the merges.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the profile does not exist.
    pub fn explain(&self, id: &ProfileId) -> Result<Explanation> {
        let node = self.live(id)?;
        let mut links = node.links.clone();
        links.sort_unstable_by(|&a, &b| self.key_cmp(a, b));
        Ok(Explanation {
            profile: node.id.clone(),
            identifiers: self.identifiers(&node.id)?,
            links: links
                .into_iter()
                .map(|l| {
                    let link = &self.links[l];
                    LinkExplanation {
                        message_id: link.message_id.clone(),
                        timestamp: link.timestamp,
                        accepted: link
                            .outcome
                            .accepted
                            .iter()
                            .map(|&i| self.idents[i].id.clone())
                            .collect(),
                        dropped: link
                            .outcome
                            .dropped
                            .iter()
                            .map(|(i, p, r)| Dropped {
                                identifier: self.idents[*i].id.clone(),
                                profile: p.clone(),
                                reason: r.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
            merges: node.merges.clone(),
        })
    }

    /// Unmerge by identifier: the identifier is dropped from every event (past and
    /// future) and its component is recomputed from the recorded link history.
    /// Returns the profiles that now hold the component's identifiers.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the identifier was never linked.
    pub fn remove_identifier(&mut self, id: &Identifier) -> Result<Recomputed> {
        self.set_identifier_removed(id, true)
    }

    /// Undoes [`IdentityGraph::remove_identifier`].
    ///
    /// # Errors
    /// [`Error::NotFound`] when the identifier was never linked.
    pub fn restore_identifier(&mut self, id: &Identifier) -> Result<Recomputed> {
        self.set_identifier_removed(id, false)
    }

    /// Unmerge by link: the event's links are withdrawn and its component is
    /// recomputed from the remaining history.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no event with this message id was resolved.
    pub fn remove_link(&mut self, message_id: &str) -> Result<Recomputed> {
        self.set_link_removed(message_id, true)
    }

    /// Undoes [`IdentityGraph::remove_link`].
    ///
    /// # Errors
    /// [`Error::NotFound`] when no event with this message id was resolved.
    pub fn restore_link(&mut self, message_id: &str) -> Result<Recomputed> {
        self.set_link_removed(message_id, false)
    }

    fn set_identifier_removed(&mut self, id: &Identifier, removed: bool) -> Result<Recomputed> {
        let i = self.ident_index(id).ok_or_else(|| Error::NotFound {
            what: "identifier",
            id: id.to_string(),
        })?;
        self.idents[i].removed = removed;
        Ok(self.recompute_from(&[i]))
    }

    fn set_link_removed(&mut self, message_id: &str, removed: bool) -> Result<Recomputed> {
        let l = self.link_index(message_id).ok_or_else(|| Error::NotFound {
            what: "link",
            id: message_id.to_owned(),
        })?;
        self.links[l].removed = removed;
        let raw = self.links[l].raw.clone();
        Ok(self.recompute_from(&raw))
    }

    fn live(&self, id: &ProfileId) -> Result<&ProfileNode> {
        self.canonical(id)
            .and_then(|c| self.profile_index(&c))
            .and_then(|p| self.node(p))
            .ok_or_else(|| Error::NotFound {
                what: "profile",
                id: id.0.clone(),
            })
    }

    fn node(&self, p: usize) -> Option<&ProfileNode> {
        self.profiles.get(p).and_then(Option::as_ref)
    }

    fn profile_of_link(&self, l: usize) -> Option<ProfileId> {
        let link = &self.links[l];
        let &i = link.outcome.accepted.first()?;
        self.idents[i]
            .profile
            .and_then(|p| self.node(p))
            .map(|n| n.id.clone())
    }

    fn ident_index(&self, id: &Identifier) -> Option<usize> {
        let idents = &self.idents;
        self.index
            .find(self.hasher.hash_one(id), |&i| idents[i].id == *id)
            .copied()
    }

    fn profile_index(&self, id: &ProfileId) -> Option<usize> {
        let profiles = &self.profiles;
        self.by_id
            .find(self.hasher.hash_one(id), |&p| {
                profiles
                    .get(p)
                    .and_then(Option::as_ref)
                    .is_some_and(|n| n.id == *id)
            })
            .copied()
    }

    /// Removes live profile slot `p` from `by_id` (before the slot is emptied).
    fn forget_profile_index(&mut self, p: usize) {
        let Some(id) = self.node(p).map(|n| &n.id) else {
            return;
        };
        let hash = self.hasher.hash_one(id);
        if let Ok(entry) = self.by_id.find_entry(hash, |&q| q == p) {
            entry.remove();
        }
    }

    fn link_index(&self, message_id: &str) -> Option<usize> {
        let links = &self.links;
        self.by_message
            .find(self.hasher.hash_one(message_id), |&l| {
                links[l].message_id == message_id
            })
            .copied()
    }

    fn intern(&mut self, id: Identifier) -> usize {
        let hash = self.hasher.hash_one(&id);
        let idents = &self.idents;
        if let Some(&i) = self.index.find(hash, |&i| idents[i].id == id) {
            return i;
        }
        let (priority, limit, window) = self.config.rule_window(&id.kind);
        let rule = match self.rule_slots.get(&id.kind) {
            Some(&r) => r,
            None => {
                let r = self.slot_limits.len();
                self.slot_limits.push((id.kind.clone(), limit, priority));
                self.rule_slots.insert(id.kind.clone(), r);
                r
            }
        };
        let i = self.idents.len();
        self.idents.push(IdentState {
            id,
            priority,
            window,
            rule,
            profile: None,
            joined: None,
            joined_by: None,
            root_since: None,
            contested: false,
            private_of: None,
            last_link: None,
            links_head: NONE,
            removed: false,
        });
        let (idents, hasher) = (&self.idents, &self.hasher);
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&idents[j].id));
        i
    }

    fn ident_order(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let (x, y) = (&self.idents[a], &self.idents[b]);
        (x.priority, &x.id).cmp(&(y.priority, &y.id))
    }

    fn key_cmp(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let (x, y) = (&self.links[a], &self.links[b]);
        (x.timestamp, &x.message_id).cmp(&(y.timestamp, &y.message_id))
    }

    fn key_less(&self, a: usize, b: usize) -> bool {
        self.key_cmp(a, b) == std::cmp::Ordering::Less
    }

    fn later(&self, a: Option<usize>, b: usize) -> usize {
        match a {
            Some(a) if self.key_less(b, a) => a,
            _ => b,
        }
    }

    /// Counts of identifiers per rule slot in profile `p` that count toward limits
    /// at time `t`.
    fn add_counts(&self, p: usize, t: DateTime<Utc>, counts: &mut Vec<u32>) -> u32 {
        let Some(node) = self.node(p) else { return 0 };
        for &i in &node.idents {
            let s = &self.idents[i];
            let counts_now = match (s.window, s.joined) {
                (Some(w), Some(seen)) => t.signed_duration_since(seen) <= w,
                _ => true,
            };
            if counts_now {
                bump(counts, s.rule);
            }
        }
        node.idents.len() as u32
    }

    /// Applies late link `l` directly, without replaying its component, when the
    /// canonical-order replay provably differs from the current state only by `l`
    /// joining the one profile its identifiers touch (or founding it, when `l` is
    /// earlier than its founder). Returns the retired profile ids, or `None`, with
    /// nothing changed, when a recomputation is needed.
    ///
    /// Conditions: no limit ever decided anything in the profile's component (no
    /// contested identifier or profile), every identifier of `l` is removed, in
    /// that profile, or new; and either
    /// * every identifier of `l` in the profile was already in its founder's set
    ///   before `l` (for an earliest `l`: was accepted by the founder), so `l`
    ///   connects nothing that was apart, and new identifiers keep the profile
    ///   within every limit even ignoring windows; or
    /// * the profile never absorbed a merge, `l` shares an identifier with the set
    ///   at its time (for an earliest `l`: with the founder), and the profile with
    ///   `l`'s identifiers keeps every limit even ignoring windows.
    ///
    /// Then no event of the component drops anything in either order, and every
    /// event after `l` joins or merges exactly the same sets as before.
    fn try_late(&mut self, l: usize) -> Option<Vec<ProfileId>> {
        let raw = std::mem::take(&mut self.links[l].raw);
        let done = self.try_late_raw(l, &raw);
        self.links[l].raw = raw;
        done
    }

    fn try_late_raw(&mut self, l: usize, raw: &[usize]) -> Option<Vec<ProfileId>> {
        let mut profile: Option<usize> = None;
        let mut fresh = 0u32;
        for &i in raw {
            let s = &self.idents[i];
            if s.removed {
                continue;
            }
            if s.contested {
                return None;
            }
            match s.profile {
                Some(q) if profile.is_none_or(|p| p == q) => profile = Some(q),
                Some(_) => return None,
                None if s.last_link.is_none() => fresh += 1,
                None => return None,
            }
        }
        let p = profile?;
        let node = self.node(p)?;
        if node.contested {
            return None;
        }
        let founder = node.founder;
        let earliest = self.key_less(l, founder);
        let members = || {
            raw.iter()
                .copied()
                .filter(|&i| !self.idents[i].removed && self.idents[i].profile == Some(p))
        };
        let in_set = |i: usize| {
            let since = self.idents[i].root_since;
            if earliest {
                since == Some(founder)
            } else {
                since.is_some_and(|r| self.key_less(r, l))
            }
        };
        let strict = members().all(in_set);
        let relaxed = node.merge_count == 0 && members().any(in_set);
        if !(strict || relaxed) {
            return None;
        }
        if !strict || fresh > 0 {
            // Upper bound of every count any replay order can reach.
            let mut counts: Vec<u32> = Vec::new();
            for &i in node.idents.iter().chain(
                raw.iter()
                    .filter(|&&i| !self.idents[i].removed && self.idents[i].profile.is_none()),
            ) {
                bump(&mut counts, self.idents[i].rule);
            }
            let total = node.idents.len().saturating_add(fresh as usize);
            if total > self.config.max_identifiers_per_profile() as usize
                || self.limit_broken(&counts).is_some()
            {
                return None;
            }
        }
        // Apply: the outcome the replay gives `l`, and the identifiers' new state.
        let t = self.links[l].timestamp;
        let mut outcome = Outcome {
            accepted: Vec::with_capacity(raw.len()),
            ..Outcome::default()
        };
        for &i in raw {
            let last = self.later(self.idents[i].last_link, l);
            let joined_later = self.idents[i].joined_by.is_none_or(|j| self.key_less(l, j));
            let root_later = self.idents[i]
                .root_since
                .is_none_or(|r| self.key_less(l, r));
            let s = &mut self.idents[i];
            s.last_link = Some(last);
            if s.removed {
                outcome.dropped.push((i, None, DropReason::Removed));
                continue;
            }
            outcome.accepted.push(i);
            if s.profile.is_none() {
                s.profile = Some(p);
                if let Some(Some(n)) = self.profiles.get_mut(p) {
                    n.idents.push(i);
                }
            }
            if joined_later {
                s.joined = Some(t);
                s.joined_by = Some(l);
            }
            if root_later {
                s.root_since = Some(l);
            }
        }
        self.links[l].outcome = outcome;
        let max_link = self.node(p).map(|n| self.later(Some(n.max_link), l));
        let retired = if earliest {
            self.refound(p, l)
        } else {
            Vec::new()
        };
        if let Some(Some(n)) = self.profiles.get_mut(p) {
            n.links.push(l);
            // The profile's shape is not tracked past a direct late join.
            n.star = None;
            n.star_single = false;
            if let Some(m) = max_link {
                n.max_link = m;
            }
        }
        Some(retired)
    }

    /// Late link `l`, earlier than profile `p`'s founder, founds it now: the
    /// profile is renamed `prof:<l's message id>` and the old id redirects to it.
    /// Returns the retired id.
    fn refound(&mut self, p: usize, l: usize) -> Vec<ProfileId> {
        let mut retired = Vec::new();
        self.forget_profile_index(p);
        let new_id = ProfileId(format!("prof:{}", self.links[l].message_id));
        self.redirects.remove(&new_id);
        let hash = self.hasher.hash_one(&new_id);
        if let Some(Some(n)) = self.profiles.get_mut(p) {
            let old_id = std::mem::replace(&mut n.id, new_id.clone());
            n.founder = l;
            for m in &mut n.merges {
                if m.survivor == old_id {
                    m.survivor = new_id.clone();
                }
            }
            self.redirects.insert(old_id.clone(), new_id);
            retired.push(old_id);
        }
        self.index_profile(p, hash);
        retired
    }

    /// Applies link `l` on top of the current state (which must hold every link
    /// before `l` in canonical order that shares an identifier with it).
    fn apply(&mut self, l: usize) {
        let t = self.links[l].timestamp;
        let raw = std::mem::take(&mut self.links[l].raw);
        self.apply_raw(l, t, &raw);
        self.links[l].raw = raw;
    }

    fn apply_raw(&mut self, l: usize, t: DateTime<Utc>, raw: &[usize]) {
        let shape = self.star_before(l, raw);
        let mut outcome = Outcome {
            accepted: Vec::with_capacity(raw.len()),
            ..Outcome::default()
        };
        // Scratch buffers kept between calls: no allocation per event.
        let (mut profiles, mut counts, mut next) = std::mem::take(&mut self.scratch);
        profiles.clear();
        counts.clear();
        let mut total: u32 = 0;
        let mut merges: u32 = 0;
        let max_ids = self.config.max_identifiers_per_profile();
        let max_merges = self.config.max_merges_per_profile();
        for &i in raw {
            if self.idents[i].removed {
                outcome.dropped.push((i, None, DropReason::Removed));
                continue;
            }
            let prof = self.idents[i].profile;
            if let Some(p) = prof
                && profiles.contains(&p)
            {
                outcome.accepted.push(i);
                continue;
            }
            next.clear();
            next.extend_from_slice(&counts);
            let (add_total, add_merges) = match prof {
                Some(p) => (
                    self.add_counts(p, t, &mut next),
                    self.node(p).map_or(0, |n| n.merge_count) + u32::from(!profiles.is_empty()),
                ),
                None => {
                    bump(&mut next, self.idents[i].rule);
                    (1, 0)
                }
            };
            let next_total = total.saturating_add(add_total);
            let next_merges = merges.saturating_add(add_merges);
            let cap = if next_total > max_ids {
                Some(DropReason::MaxIdentifiers { limit: max_ids })
            } else if next_merges > max_merges {
                Some(DropReason::MaxMerges { limit: max_merges })
            } else {
                None
            };
            let mut broken = self.limit_broken(&next);
            if broken.is_some() {
                broken = self.limit_broken_by_growth(&next, &counts, prof, t, self.links[l].alias);
            }
            let reason = broken.or(cap);
            match reason {
                Some(r) => {
                    let pid = prof.and_then(|p| self.node(p)).map(|n| n.id.clone());
                    outcome.dropped.push((i, pid, r));
                }
                None => {
                    std::mem::swap(&mut counts, &mut next);
                    total = next_total;
                    merges = next_merges;
                    if let Some(p) = prof {
                        profiles.push(p);
                    }
                    outcome.accepted.push(i);
                }
            }
        }
        // Touch: every identifier carried, and the profiles they are in.
        for &i in raw {
            self.idents[i].last_link = Some(self.later(self.idents[i].last_link, l));
            if let Some(p) = self.idents[i].profile {
                let cur = self.node(p).map(|n| n.max_link);
                let m = self.later(cur, l);
                if let Some(Some(n)) = self.profiles.get_mut(p) {
                    n.max_link = m;
                }
            }
        }
        // A limit decided something: the identifiers and profiles involved are
        // order-sensitive from now on (see `try_late`).
        let mut limited = false;
        for (i, p, r) in &outcome.dropped {
            if *r == DropReason::Removed {
                continue;
            }
            limited = true;
            self.idents[*i].contested = true;
            if p.is_some()
                && let Some(q) = self.idents[*i].profile
                && let Some(Some(n)) = self.profiles.get_mut(q)
            {
                n.contested = true;
            }
        }
        if outcome.accepted.is_empty() {
            self.links[l].outcome = outcome;
            self.scratch = (profiles, counts, next);
            self.star_after(l, raw, shape);
            return;
        }
        let survivor = match profiles.iter().copied().min_by(|&a, &b| {
            let fa = self.node(a).map_or(usize::MAX, |n| n.founder);
            let fb = self.node(b).map_or(usize::MAX, |n| n.founder);
            self.key_cmp(fa, fb)
        }) {
            Some(p) => p,
            None => self.new_profile(l),
        };
        let via: Vec<Identifier> = if profiles.len() > 1 {
            outcome
                .accepted
                .iter()
                .map(|&i| self.idents[i].id.clone())
                .collect()
        } else {
            Vec::new()
        };
        for &p in &profiles {
            if p != survivor {
                let absorbed = self.absorb(survivor, p, l, &via);
                outcome.merged.push(absorbed);
            }
        }
        let mut contested = limited;
        for &i in &outcome.accepted {
            let s = &mut self.idents[i];
            if s.profile.is_none() {
                s.joined = Some(t);
                s.joined_by = Some(l);
                s.root_since = Some(l);
                s.profile = Some(survivor);
                contested |= s.contested;
                if let Some(Some(n)) = self.profiles.get_mut(survivor) {
                    n.idents.push(i);
                }
            }
        }
        if let Some(Some(n)) = self.profiles.get_mut(survivor) {
            n.links.push(l);
            n.contested |= contested;
        }
        self.links[l].outcome = outcome;
        self.scratch = (profiles, counts, next);
        self.star_after(l, raw, shape);
    }

    /// The per-type limit that `counts` (per rule slot) would break; when several
    /// are, the one of the most trusted type (priority, then kind), so that the
    /// reason does not depend on the order in which types were first seen.
    fn limit_broken(&self, counts: &[u32]) -> Option<DropReason> {
        counts
            .iter()
            .zip(&self.slot_limits)
            .filter(|(c, (_, limit, _))| **c > *limit)
            .min_by(|(_, (ka, _, pa)), (_, (kb, _, pb))| (pa, ka).cmp(&(pb, kb)))
            .map(|(c, (kind, limit, _))| DropReason::LimitExceeded {
                kind: kind.clone(),
                limit: *limit,
                would_hold: *c,
            })
    }

    /// [`Self::limit_broken`] for the rare case where `next` is over a limit: a
    /// profile that holds more than a limit through an `alias` keeps what it holds
    /// and only may not grow past it, and an `alias` event may add one user id over
    /// the limit (the previous and the new id of one person). Without aliases no
    /// profile is ever over a limit, and this agrees with `limit_broken`.
    fn limit_broken_by_growth(
        &self,
        next: &[u32],
        counts: &[u32],
        prof: Option<usize>,
        t: DateTime<Utc>,
        alias: bool,
    ) -> Option<DropReason> {
        let mut own = Vec::new();
        if let Some(p) = prof {
            self.add_counts(p, t, &mut own);
        }
        let user_slot = self.rule_slots.get(&IdentifierKind::UserId).copied();
        next.iter()
            .zip(&self.slot_limits)
            .enumerate()
            .filter(|&(k, (&c, (_, limit, _)))| {
                let held = counts
                    .get(k)
                    .copied()
                    .unwrap_or(0)
                    .max(own.get(k).copied().unwrap_or(0));
                let extra = u32::from(alias && user_slot == Some(k));
                c > (*limit).max(held).saturating_add(extra)
            })
            // The most trusted type, as in `limit_broken`.
            .min_by(|(_, (_, (ka, _, pa))), (_, (_, (kb, _, pb)))| (pa, ka).cmp(&(pb, kb)))
            .map(|(_, (&c, (kind, limit, _)))| DropReason::LimitExceeded {
                kind: kind.clone(),
                limit: *limit,
                would_hold: c,
            })
    }

    fn new_profile(&mut self, founder: usize) -> usize {
        let id = ProfileId(format!("prof:{}", self.links[founder].message_id));
        self.redirects.remove(&id);
        let hash = self.hasher.hash_one(&id);
        let node = ProfileNode {
            id,
            founder,
            idents: Vec::new(),
            links: Vec::new(),
            merges: Vec::new(),
            merge_count: 0,
            max_link: founder,
            contested: false,
            star: None,
            star_single: false,
        };
        let p = match self.free.pop() {
            Some(p) => {
                if let Some(slot) = self.profiles.get_mut(p) {
                    *slot = Some(node);
                }
                p
            }
            None => {
                self.profiles.push(Some(node));
                self.profiles.len() - 1
            }
        };
        self.index_profile(p, hash);
        p
    }

    /// Adds live profile slot `p`, whose id hashes to `hash`, to `by_id`.
    fn index_profile(&mut self, p: usize, hash: u64) {
        let (profiles, hasher) = (&self.profiles, &self.hasher);
        self.by_id.insert_unique(hash, p, |&q| {
            profiles
                .get(q)
                .and_then(Option::as_ref)
                .map_or(0, |n| hasher.hash_one(&n.id))
        });
    }

    fn absorb(&mut self, survivor: usize, p: usize, l: usize, via: &[Identifier]) -> ProfileId {
        self.forget_profile_index(p);
        let Some(gone) = self.profiles.get_mut(p).and_then(Option::take) else {
            return ProfileId(String::new());
        };
        self.free.push(p);
        for &i in &gone.idents {
            let since = self.later(self.idents[i].root_since, l);
            let s = &mut self.idents[i];
            s.profile = Some(survivor);
            s.root_since = Some(since);
        }
        let max_link = gone.max_link;
        let merged_max = self
            .node(survivor)
            .map(|n| self.later(Some(n.max_link), max_link));
        let link = &self.links[l];
        let (message_id, timestamp) = (link.message_id.clone(), link.timestamp);
        if let Some(Some(n)) = self.profiles.get_mut(survivor) {
            self.redirects.insert(gone.id.clone(), n.id.clone());
            n.idents.extend(gone.idents);
            n.links.extend(gone.links);
            n.merges.extend(gone.merges);
            n.merge_count = n.merge_count.saturating_add(gone.merge_count + 1);
            n.contested |= gone.contested;
            if let Some(m) = merged_max {
                n.max_link = m;
            }
            n.merges.push(MergeRecord {
                survivor: n.id.clone(),
                absorbed: gone.id.clone(),
                message_id,
                timestamp,
                via: via.to_vec(),
            });
        }
        gone.id
    }

    /// Recomputes the component of links connected (through shared identifiers) to
    /// `start`, replaying them in canonical order. Returns the resulting profiles.
    fn recompute_from(&mut self, start: &[usize]) -> Recomputed {
        let mut seen_idents: Set<usize> = Set::default();
        let mut seen_links: Set<usize> = Set::default();
        let mut stack: Vec<usize> = start.to_vec();
        while let Some(i) = stack.pop() {
            if !seen_idents.insert(i) {
                continue;
            }
            // Profile members are connected through accepted links already; the
            // profile is included explicitly for safety.
            if let Some(n) = self.idents[i].profile.and_then(|p| self.node(p)) {
                stack.extend(n.idents.iter().copied());
            }
            let mut k = self.idents[i].links_head;
            while let Some(&(l, next)) = self.incidence.get(k) {
                if seen_links.insert(l) {
                    stack.extend(self.links[l].raw.iter().copied());
                }
                k = next;
            }
        }
        // Tear down the old profiles, remembering their members for redirects.
        let mut old: Vec<(ProfileId, Vec<usize>)> = Vec::new();
        for &i in &seen_idents {
            if let Some(p) = self.idents[i].profile
                && self.node(p).is_some()
            {
                self.forget_profile_index(p);
                let Some(node) = self.profiles.get_mut(p).and_then(Option::take) else {
                    continue;
                };
                self.free.push(p);
                old.push((node.id, node.idents));
            }
        }
        for &i in &seen_idents {
            let s = &mut self.idents[i];
            s.profile = None;
            s.joined = None;
            s.joined_by = None;
            s.root_since = None;
            s.contested = false;
            s.private_of = None;
            s.last_link = None;
        }
        let mut order: Vec<usize> = seen_links.into_iter().collect();
        order.sort_unstable_by(|&a, &b| self.key_cmp(a, b));
        self.replayed = self.replayed.saturating_add(order.len() as u64);
        for &l in &order {
            self.links[l].outcome = Outcome::default();
            if !self.links[l].removed {
                self.apply(l);
            }
        }
        let mut retired = Vec::new();
        for (id, members) in old {
            if self.profile_index(&id).is_some() {
                continue;
            }
            retired.push(id.clone());
            let target = members
                .iter()
                .find_map(|&i| self.idents[i].profile.and_then(|p| self.node(p)))
                .map(|n| n.id.clone());
            match target {
                Some(t) => {
                    self.redirects.insert(id, t);
                }
                None => {
                    self.redirects.remove(&id);
                }
            }
        }
        let mut out: Vec<ProfileId> = seen_idents
            .iter()
            .filter_map(|&i| self.idents[i].profile.and_then(|p| self.node(p)))
            .map(|n| n.id.clone())
            .collect();
        out.sort();
        out.dedup();
        retired.sort();
        Recomputed {
            profiles: out,
            retired,
        }
    }
}

fn bump(counts: &mut Vec<u32>, slot: usize) {
    if counts.len() <= slot {
        counts.resize(slot + 1, 0);
    }
    if let Some(c) = counts.get_mut(slot) {
        *c = c.saturating_add(1);
    }
}
