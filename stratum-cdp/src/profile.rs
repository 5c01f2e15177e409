//! Profiles: traits merged last-write-wins by event time, the [`ProfileStore`]
//! trait with an in-memory implementation, and [`Cdp`], which composes
//! de-duplication, identity resolution and the store.
//!
//! ## Last write wins, by event time
//! A trait set by an `identify` keeps the value of the event with the latest
//! `timestamp` (ties by message id), not the latest to arrive. Merging two profiles
//! takes, per trait, the later of the two values, so merges commute and the result
//! does not depend on arrival order.
//!
//! ## Computed traits
//! A [`Cdp`] built with [`Cdp::with_computed_traits`] keeps one
//! [`TraitState`] per definition on each profile, updated as `track`, `page` and
//! `screen` events arrive. When profiles merge, their states are combined (exact
//! for every kind, see [`crate::computed`]); when a late event or an unmerge makes
//! the graph recompute a component, the affected profiles' states are rebuilt from
//! the logged events that matched a definition, as traits are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::computed::{ComputedTraits, ComputedValue, TraitEvent, TraitState};
use crate::dedup::Deduplicator;
use crate::error::{Error, Result};
use crate::identity::{
    Identifier, IdentityConfig, IdentityGraph, ProfileId, Recomputed, Resolution,
};
use crate::message::{Message, MessageType};
use crate::segment::{AudienceDefinition, AudienceEngine, AudienceSet, Bitmap, Transition};

/// A trait value with the event that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitValue {
    /// The value.
    pub value: Value,
    /// The timestamp of the event that set it.
    pub timestamp: DateTime<Utc>,
    /// The message id of that event.
    pub message_id: String,
}

impl TraitValue {
    fn newer_than(&self, other: &TraitValue) -> bool {
        (self.timestamp, &self.message_id) > (other.timestamp, &other.message_id)
    }
}

/// A profile record: its id and its traits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The profile id (see [`IdentityGraph`]).
    pub id: ProfileId,
    /// Trait name → latest value by event time.
    pub traits: BTreeMap<String, TraitValue>,
    /// Computed-trait name → state (only traits that some event matched).
    #[serde(default)]
    pub computed: BTreeMap<String, TraitState>,
    /// The group (account, company) ids this person joined with `group` messages.
    /// A group's traits describe the group and are not the person's traits.
    #[serde(default)]
    pub groups: BTreeSet<String>,
    /// Consent category → the latest preference (`true` granted, `false`
    /// withdrawn) by event time, from `context.consent.categoryPreferences`.
    #[serde(default)]
    pub consent: BTreeMap<String, TraitValue>,
}

impl Profile {
    /// An empty profile.
    #[must_use]
    pub fn new(id: ProfileId) -> Self {
        Profile {
            id,
            traits: BTreeMap::new(),
            computed: BTreeMap::new(),
            groups: BTreeSet::new(),
            consent: BTreeMap::new(),
        }
    }

    /// The latest consent preference for `category`, if any message stated one.
    #[must_use]
    pub fn consent_granted(&self, category: &str) -> Option<bool> {
        self.consent.get(category).and_then(|t| t.value.as_bool())
    }

    /// Applies the consent preferences a message carries (latest by event time
    /// wins, ties by message id).
    pub fn apply_consent(
        &mut self,
        categories: &BTreeMap<String, bool>,
        timestamp: DateTime<Utc>,
        message_id: &str,
    ) {
        for (k, v) in categories {
            let value = TraitValue {
                value: Value::Bool(*v),
                timestamp,
                message_id: message_id.to_owned(),
            };
            match self.consent.get_mut(k) {
                Some(cur) if !value.newer_than(cur) => {}
                Some(cur) => *cur = value,
                None => {
                    self.consent.insert(k.clone(), value);
                }
            }
        }
    }

    /// Sets `key` unless the current value comes from a later event.
    pub fn set_trait(&mut self, key: &str, value: TraitValue) {
        match self.traits.get_mut(key) {
            Some(cur) if !value.newer_than(cur) => {}
            Some(cur) => *cur = value,
            None => {
                self.traits.insert(key.to_owned(), value);
            }
        }
    }

    /// Applies the traits of an event (`identify` traits, in practice).
    pub fn apply_traits(
        &mut self,
        traits: &Map<String, Value>,
        timestamp: DateTime<Utc>,
        message_id: &str,
    ) {
        for (k, v) in traits {
            self.set_trait(
                k,
                TraitValue {
                    value: v.clone(),
                    timestamp,
                    message_id: message_id.to_owned(),
                },
            );
        }
    }

    /// Merges `other`'s traits: per trait, the value from the later event wins;
    /// computed-trait states are combined ([`TraitState::merge`]); group
    /// memberships are united.
    pub fn merge(&mut self, other: &Profile) {
        self.groups.extend(other.groups.iter().cloned());
        for (k, v) in &other.consent {
            match self.consent.get_mut(k) {
                Some(cur) if !v.newer_than(cur) => {}
                Some(cur) => *cur = v.clone(),
                None => {
                    self.consent.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in &other.traits {
            self.set_trait(k, v.clone());
        }
        for (k, st) in &other.computed {
            match self.computed.get_mut(k) {
                Some(cur) => cur.merge(st.clone()),
                None => {
                    self.computed.insert(k.clone(), st.clone());
                }
            }
        }
    }

    /// Applies an event to the computed traits of `defs` it matches.
    pub fn apply_event(&mut self, defs: &ComputedTraits, event: &TraitEvent) {
        for d in defs.definitions() {
            match self.computed.get_mut(d.name()) {
                Some(st) => {
                    d.apply(st, event);
                }
                None => {
                    let mut st = d.new_state();
                    if d.apply(&mut st, event) {
                        self.computed.insert(d.name().to_owned(), st);
                    }
                }
            }
        }
    }

    /// The values of every computed trait in `defs` at `now` (a trait no event
    /// matched yet has its empty value: a zero count, `null` otherwise).
    #[must_use]
    pub fn computed_values(
        &self,
        defs: &ComputedTraits,
        now: DateTime<Utc>,
    ) -> BTreeMap<String, ComputedValue> {
        defs.definitions()
            .iter()
            .map(|d| {
                let v = match self.computed.get(d.name()) {
                    Some(st) => st.value(now),
                    None => d.new_state().value(now),
                };
                (d.name().to_owned(), v)
            })
            .collect()
    }

    /// A trait's current value.
    #[must_use]
    pub fn trait_value(&self, key: &str) -> Option<&Value> {
        self.traits.get(key).map(|t| &t.value)
    }
}

/// Where profile records live. The in-memory [`InMemoryProfileStore`] is the
/// reference; the reference server adds SQL implementations.
pub trait ProfileStore {
    /// The record of a profile, if stored.
    ///
    /// # Errors
    /// Implementation-defined (storage failures).
    fn get(&self, id: &ProfileId) -> Result<Option<Profile>>;

    /// Stores (inserts or replaces) a record.
    ///
    /// # Errors
    /// Implementation-defined (storage failures).
    fn put(&mut self, profile: Profile) -> Result<()>;

    /// Removes a record, returning it.
    ///
    /// # Errors
    /// Implementation-defined (storage failures).
    fn remove(&mut self, id: &ProfileId) -> Result<Option<Profile>>;

    /// Number of stored records.
    ///
    /// # Errors
    /// Implementation-defined (storage failures).
    fn len(&self) -> Result<usize>;

    /// Whether the store is empty.
    ///
    /// # Errors
    /// Implementation-defined (storage failures).
    fn is_empty(&self) -> Result<bool> {
        self.len().map(|n| n == 0)
    }
}

/// Profile records in a `BTreeMap`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InMemoryProfileStore {
    profiles: BTreeMap<ProfileId, Profile>,
}

impl InMemoryProfileStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }
}

impl ProfileStore for InMemoryProfileStore {
    fn get(&self, id: &ProfileId) -> Result<Option<Profile>> {
        Ok(self.profiles.get(id).cloned())
    }
    fn put(&mut self, profile: Profile) -> Result<()> {
        self.profiles.insert(profile.id.clone(), profile);
        Ok(())
    }
    fn remove(&mut self, id: &ProfileId) -> Result<Option<Profile>> {
        Ok(self.profiles.remove(id))
    }
    fn len(&self) -> Result<usize> {
        Ok(self.profiles.len())
    }
}

/// What [`Cdp::ingest`] did with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Ingested {
    /// Same `messageId` seen within the de-duplication window: ignored.
    Duplicate,
    /// Resolved (see the resolution for the profile, merges, drops).
    Resolved {
        /// The identity resolution of the message.
        resolution: Box<Resolution>,
    },
}

/// De-duplication, identity resolution and profile traits, composed.
#[derive(Debug)]
pub struct Cdp<S: ProfileStore = InMemoryProfileStore> {
    dedup: Deduplicator,
    graph: IdentityGraph,
    store: S,
    /// `identify` traits by message id, kept so that a recomputed profile's traits
    /// are rebuilt exactly from the events it now holds.
    identify_log: HashMap<String, (DateTime<Utc>, Map<String, Value>), foldhash::fast::RandomState>,
    /// `group` ids by message id, kept so that a recomputed profile's memberships
    /// are rebuilt exactly.
    group_log: HashMap<String, String, foldhash::fast::RandomState>,
    /// The computed-trait definitions.
    computed: ComputedTraits,
    /// Events that matched a computed-trait definition, by message id, kept so that
    /// recomputed profiles' states are rebuilt exactly.
    event_log: HashMap<String, TraitEvent, foldhash::fast::RandomState>,
    /// Consent preferences by message id, kept so that recomputed profiles'
    /// consent is rebuilt exactly.
    consent_log:
        HashMap<String, (DateTime<Utc>, BTreeMap<String, bool>), foldhash::fast::RandomState>,
    /// The audiences, when configured.
    audiences: Option<AudienceEngine>,
    /// Transitions not yet taken with [`Cdp::take_transitions`].
    pending: Vec<Transition>,
}

impl<S: ProfileStore> Cdp<S> {
    /// A CDP with the given identity config, de-duplication window and store.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a window that is not positive or exceeds ten years.
    pub fn new(config: IdentityConfig, dedup_window: TimeDelta, store: S) -> Result<Self> {
        Self::with_computed_traits(config, dedup_window, store, ComputedTraits::default())
    }

    /// A CDP that also maintains the given computed traits on every profile.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a window that is not positive or exceeds ten years.
    pub fn with_computed_traits(
        config: IdentityConfig,
        dedup_window: TimeDelta,
        store: S,
        computed: ComputedTraits,
    ) -> Result<Self> {
        Ok(Cdp {
            dedup: Deduplicator::new(dedup_window)?,
            graph: IdentityGraph::new(config),
            store,
            identify_log: HashMap::default(),
            group_log: HashMap::default(),
            computed,
            event_log: HashMap::default(),
            consent_log: HashMap::default(),
            audiences: None,
            pending: Vec::new(),
        })
    }

    /// Configures audiences, kept up to date as messages arrive: membership
    /// changes when an event, a trait or consent change, a merge or an unmerge
    /// reaches a profile (evaluated at the message's `received_at`), and when
    /// [`Cdp::advance_time`] slides windows past events.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (field `audiences`) once messages were ingested
    /// (events seen before would be missing from the counts); the errors of
    /// [`AudienceSet::new`] (computed-trait conditions must name a definition of
    /// this CDP).
    pub fn set_audiences(&mut self, defs: Vec<AudienceDefinition>) -> Result<()> {
        if !self.store.is_empty()? {
            return Err(Error::config(
                "audiences",
                "must be set before the first message is ingested",
            ));
        }
        let set = AudienceSet::new(defs, Some(&self.computed))?;
        self.audiences = Some(AudienceEngine::new(set));
        Ok(())
    }

    /// The audience engine (membership, history, clock), when configured.
    #[must_use]
    pub fn audiences(&self) -> Option<&AudienceEngine> {
        self.audiences.as_ref()
    }

    /// Takes the transitions produced since the last call, in order.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.pending)
    }

    /// Moves the audience clock to `now` and re-evaluates every profile whose
    /// membership can change by then; returns the transitions (also kept for
    /// [`Cdp::take_transitions`]). Nothing here reads the wall clock.
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] for a `now` before the clock; store errors.
    pub fn advance_time(&mut self, now: DateTime<Utc>) -> Result<Vec<Transition>> {
        let Some(eng) = self.audiences.as_mut() else {
            return Ok(Vec::new());
        };
        let store = &self.store;
        let out = eng.advance_time(now, &self.computed, |id| store.get(id))?;
        self.pending.extend(out.iter().cloned());
        Ok(out)
    }

    /// Full evaluation of every audience over every tracked profile at `now`
    /// with the compiled plan (column by column), without changing membership:
    /// the profile ids (sorted) and one bitmap per audience in that row order.
    ///
    /// # Errors
    /// Store errors.
    pub fn evaluate_audiences(&self, now: DateTime<Utc>) -> Result<(Vec<ProfileId>, Vec<Bitmap>)> {
        let Some(eng) = &self.audiences else {
            return Ok((Vec::new(), Vec::new()));
        };
        let ids = eng.profiles();
        let mut profiles = Vec::with_capacity(ids.len());
        for id in &ids {
            profiles.push(
                self.store
                    .get(id)?
                    .unwrap_or_else(|| Profile::new(id.clone())),
            );
        }
        let bits = eng.evaluate_full(&profiles, &self.computed, now);
        Ok((ids, bits))
    }

    /// The logged events (those a computed trait or an audience counts) of a
    /// profile, from the links that form it.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown profile.
    pub fn profile_events(&self, id: &ProfileId) -> Result<Vec<TraitEvent>> {
        let live = self.graph.canonical(id).ok_or_else(|| Error::NotFound {
            what: "profile",
            id: id.0.clone(),
        })?;
        let explanation = self.graph.explain(&live)?;
        Ok(explanation
            .links
            .iter()
            .filter_map(|l| self.event_log.get(&l.message_id).cloned())
            .collect())
    }

    /// The computed-trait definitions.
    #[must_use]
    pub fn computed_traits(&self) -> &ComputedTraits {
        &self.computed
    }

    /// The values of every computed trait of a profile at `now`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown profile; store errors.
    pub fn computed_values(
        &self,
        id: &ProfileId,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, ComputedValue>> {
        Ok(self.profile(id)?.computed_values(&self.computed, now))
    }

    /// The identity graph.
    #[must_use]
    pub fn graph(&self) -> &IdentityGraph {
        &self.graph
    }

    /// The profile store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The live profile record for `id` (following merges).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown profile; store errors.
    pub fn profile(&self, id: &ProfileId) -> Result<Profile> {
        let live = self.graph.canonical(id).ok_or_else(|| Error::NotFound {
            what: "profile",
            id: id.0.clone(),
        })?;
        Ok(self.store.get(&live)?.unwrap_or_else(|| Profile::new(live)))
    }

    /// Ingests one parsed message: drops duplicates, resolves identity (respecting
    /// consent), and updates the profile's traits.
    ///
    /// # Errors
    /// Store errors only.
    pub fn ingest(&mut self, message: &Message) -> Result<Ingested> {
        if !self.dedup.check(&message.message_id, message.received_at) {
            return Ok(Ingested::Duplicate);
        }
        self.ingest_unique(message)
    }

    /// Ingests one parsed message that its host has already de-duplicated (a
    /// log holding each `messageId` once, say): as [`Cdp::ingest`], without
    /// this CDP's own de-duplication window, which neither sees nor remembers
    /// the message.
    ///
    /// # Errors
    /// Store errors only.
    pub fn ingest_unique(&mut self, message: &Message) -> Result<Ingested> {
        let resolution = self.graph.resolve(message);
        if resolution.duplicate || resolution.consent_denied {
            return Ok(Ingested::Resolved {
                resolution: Box::new(resolution),
            });
        }
        if message.kind == MessageType::Group
            && let Some(g) = &message.group_id
        {
            self.group_log.insert(message.message_id.clone(), g.clone());
        }
        if message.kind == MessageType::Identify && !message.traits.is_empty() {
            self.identify_log.insert(
                message.message_id.clone(),
                (message.timestamp, message.traits.map().clone()),
            );
        }
        if !message.consent.categories.is_empty() {
            self.consent_log.insert(
                message.message_id.clone(),
                (message.timestamp, message.consent.categories.clone()),
            );
        }
        let event = if self.computed.is_empty() && self.audiences.is_none() {
            None
        } else {
            TraitEvent::from_message(message).filter(|e| {
                self.computed.matches(e) || self.audiences.as_ref().is_some_and(|a| a.counts(e))
            })
        };
        if let Some(e) = &event {
            self.event_log.insert(e.message_id.clone(), e.clone());
        }
        let at = message.received_at;
        if let Some(r) = &resolution.recomputed {
            self.rebuild(&r.profiles, &r.retired, Some(at))?;
        } else if let Some(pid) = &resolution.profile {
            let mut profile = self
                .store
                .get(pid)?
                .unwrap_or_else(|| Profile::new(pid.clone()));
            for gone in &resolution.retired {
                if let Some(old) = self.store.remove(gone)? {
                    profile.merge(&old);
                }
            }
            if message.kind == MessageType::Identify {
                profile.apply_traits(&message.traits, message.timestamp, &message.message_id);
            }
            if message.kind == MessageType::Group
                && let Some(g) = &message.group_id
            {
                profile.groups.insert(g.clone());
            }
            if let Some(e) = &event {
                profile.apply_event(&self.computed, e);
            }
            profile.apply_consent(
                &message.consent.categories,
                message.timestamp,
                &message.message_id,
            );
            if let Some(eng) = self.audiences.as_mut() {
                for gone in &resolution.retired {
                    self.pending.extend(eng.merge(pid, gone, at));
                }
                if let Some(e) = &event {
                    eng.record_event(pid, e);
                }
                self.pending
                    .extend(eng.evaluate(&profile, &self.computed, at));
            }
            self.store.put(profile)?;
        }
        Ok(Ingested::Resolved {
            resolution: Box::new(resolution),
        })
    }

    /// Unmerges by identifier ([`IdentityGraph::remove_identifier`]) and rebuilds the
    /// affected profiles' traits from their events.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown identifier; store errors.
    pub fn remove_identifier(&mut self, id: &Identifier) -> Result<Recomputed> {
        let r = self.graph.remove_identifier(id)?;
        self.rebuild(&r.profiles, &r.retired, None)?;
        Ok(r)
    }

    /// Unmerges by link ([`IdentityGraph::remove_link`]) and rebuilds the affected
    /// profiles' traits from their events.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown message id; store errors.
    pub fn remove_link(&mut self, message_id: &str) -> Result<Recomputed> {
        let r = self.graph.remove_link(message_id)?;
        self.rebuild(&r.profiles, &r.retired, None)?;
        Ok(r)
    }

    /// Rebuilds recomputed profiles from the logs; audiences are re-evaluated at
    /// `at`, or at the audience clock for an unmerge.
    fn rebuild(
        &mut self,
        profiles: &[ProfileId],
        retired: &[ProfileId],
        at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let at = at.or_else(|| self.audiences.as_ref().and_then(AudienceEngine::clock));
        for r in retired {
            self.store.remove(r)?;
            if let (Some(eng), Some(at)) = (self.audiences.as_mut(), at) {
                self.pending.extend(eng.remove(r, at));
            }
        }
        for pid in profiles {
            let explanation = self.graph.explain(pid)?;
            let mut profile = Profile::new(explanation.profile.clone());
            for link in &explanation.links {
                if let Some((ts, traits)) = self.identify_log.get(&link.message_id) {
                    profile.apply_traits(traits, *ts, &link.message_id);
                }
                if let Some(e) = self.event_log.get(&link.message_id) {
                    profile.apply_event(&self.computed, e);
                }
                if let Some(g) = self.group_log.get(&link.message_id) {
                    profile.groups.insert(g.clone());
                }
                if let Some((ts, c)) = self.consent_log.get(&link.message_id) {
                    profile.apply_consent(c, *ts, &link.message_id);
                }
            }
            if let (Some(eng), Some(at)) = (self.audiences.as_mut(), at) {
                let events = explanation
                    .links
                    .iter()
                    .filter_map(|l| self.event_log.get(&l.message_id));
                eng.reset_events(pid, events);
                self.pending
                    .extend(eng.evaluate(&profile, &self.computed, at));
            }
            self.store.put(profile)?;
        }
        Ok(())
    }
}
