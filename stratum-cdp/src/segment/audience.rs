//! Audiences: named segments compiled together, evaluated over tables of many
//! profiles, and kept up to date incrementally with a membership history.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::hash::BuildHasher;

use chrono::{DateTime, SecondsFormat, Utc};
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Segment;
use super::ast::Window;
use super::plan::{Bitmap, Column, Input, Plan};
use super::schema::{Schema, suggestion};
use crate::computed::{ComputedTraits, TraitEvent};
use crate::error::{Error, Result};
use crate::identity::ProfileId;
use crate::profile::Profile;

/// `AudienceEngine::due_at` of a slot with no due time (no real time is this
/// late: chrono's latest time is earlier).
const NOT_DUE: i64 = i64::MAX;

/// Most audiences in one [`AudienceSet`].
pub const MAX_AUDIENCES: usize = 4096;

/// A named segment.
///
/// JSON: `{"key": "repeat_buyers", "name": "Repeat buyers", "segment": <segment
/// JSON>}`; `segment` may also be the text form as a JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceDefinition {
    /// The stable key (carried by `Audience Entered` / `Audience Exited` events).
    pub key: String,
    /// A display name (the key when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The condition.
    pub segment: Segment,
}

impl AudienceDefinition {
    /// An audience from its key and the segment's text form.
    ///
    /// # Errors
    /// As [`Segment::parse`].
    pub fn parse(key: &str, text: &str) -> Result<Self> {
        Ok(AudienceDefinition {
            key: key.to_owned(),
            name: None,
            segment: Segment::parse(text)?,
        })
    }
}

/// Audiences compiled into one [`Plan`] (dependency cycles rejected).
#[derive(Debug, Clone)]
pub struct AudienceSet {
    defs: Vec<AudienceDefinition>,
    plan: Plan,
}

impl AudienceSet {
    /// Checks and compiles `defs`. With `computed`, computed-trait conditions must
    /// name one of its definitions.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or duplicate key or too many
    /// audiences; the segment's own errors ([`Error::SegmentLimit`],
    /// [`Error::TypeMismatch`]) with the field prefixed by `audiences[i]`;
    /// [`Error::UnknownName`] for an unknown audience or computed trait;
    /// [`Error::SegmentCycle`].
    pub fn new(defs: Vec<AudienceDefinition>, computed: Option<&ComputedTraits>) -> Result<Self> {
        if defs.len() > MAX_AUDIENCES {
            return Err(Error::config(
                "audiences",
                format!("has {} audiences; the limit is {MAX_AUDIENCES}", defs.len()),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, d) in defs.iter().enumerate() {
            if d.key.is_empty() || d.key.len() > super::limits::MAX_NAME_BYTES {
                return Err(Error::config(
                    format!("audiences[{i}].key"),
                    format!("must be 1 to {} bytes", super::limits::MAX_NAME_BYTES),
                ));
            }
            if !seen.insert(d.key.as_str()) {
                return Err(Error::config(
                    format!("audiences[{i}].key"),
                    format!("{:?} is used twice", d.key),
                ));
            }
            d.segment
                .check()
                .map_err(|e| e.within(&format!("audiences[{i}].segment")))?;
        }
        let pairs: Vec<(String, super::Expr)> = defs
            .iter()
            .map(|d| (d.key.clone(), d.segment.expr().clone()))
            .collect();
        let plan = Plan::compile(&pairs, computed)?;
        Ok(AudienceSet { defs, plan })
    }

    /// Validates every segment against `schema` (names and types; audience
    /// references against this set).
    ///
    /// # Errors
    /// As [`Segment::validate`], the field prefixed by `audiences[i].segment`.
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        let keys: Vec<&str> = self.defs.iter().map(|d| d.key.as_str()).collect();
        for (i, d) in self.defs.iter().enumerate() {
            super::schema::validate(d.segment.expr(), schema, Some(&keys))
                .map_err(|e| e.within(&format!("audiences[{i}].segment")))?;
        }
        Ok(())
    }

    /// The definitions, in order.
    #[must_use]
    pub fn definitions(&self) -> &[AudienceDefinition] {
        &self.defs
    }

    /// What a table must hold for [`AudienceSet::evaluate`], in plan order:
    /// `("trait", name)`, `("computed", name)`, `("consent", category)`, and
    /// `("event", event name)` for event conditions (which tables cannot hold).
    #[must_use]
    pub fn inputs(&self) -> Vec<(&'static str, String)> {
        self.plan
            .inputs
            .iter()
            .map(|i| match i {
                Input::Trait(n) => ("trait", n.clone()),
                Input::Computed(n) => ("computed", n.clone()),
                Input::Consent(n) => ("consent", n.clone()),
                Input::Events { stream, .. } => ("event", self.plan.streams[*stream].event.clone()),
            })
            .collect()
    }

    /// The compiled plan.
    #[must_use]
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Evaluates every audience over a table of profiles: one bitmap per
    /// audience, in definition order.
    ///
    /// # Errors
    /// [`Error::UnknownName`] (kind `column`) for a trait, computed trait or consent
    /// category the table has no column for, or for an event condition (tables
    /// carry no event history: give its count as a computed trait);
    /// [`Error::InvalidConfig`] for a column of the wrong length.
    pub fn evaluate(&self, table: &ProfileTable) -> Result<Vec<Bitmap>> {
        let mut cols = Vec::with_capacity(self.plan.inputs.len());
        for input in &self.plan.inputs {
            let (map, name, prefix) = match input {
                Input::Trait(n) => (&table.traits, n, ""),
                Input::Computed(n) => (&table.computed, n, "computed."),
                Input::Consent(n) => (&table.consent, n, "consent."),
                Input::Events { stream, .. } => {
                    return Err(Error::UnknownName {
                        field: "table".into(),
                        kind: "column",
                        name: format!("performed {:?}", self.plan.streams[*stream].event),
                        suggestion: None,
                    });
                }
            };
            let col = map.get(name).ok_or_else(|| Error::UnknownName {
                field: "table".into(),
                kind: "column",
                name: format!("{prefix}{name}"),
                suggestion: suggestion(name, map.keys().map(String::as_str))
                    .map(|s| format!("{prefix}{s}")),
            })?;
            cols.push(col);
        }
        Ok(self.plan.eval_columns(table.rows, &cols))
    }
}

/// Profiles as columns: traits, computed traits and consent by name, every column
/// of the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileTable {
    rows: usize,
    traits: HashMap<String, Column>,
    computed: HashMap<String, Column>,
    consent: HashMap<String, Column>,
}

impl ProfileTable {
    /// An empty table of `rows` rows.
    #[must_use]
    pub fn new(rows: usize) -> Self {
        ProfileTable {
            rows,
            ..Self::default()
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn put(rows: usize, map: &mut HashMap<String, Column>, name: &str, col: Column) -> Result<()> {
        let col = col.dictionary();
        if col.len() != rows {
            return Err(Error::config(
                name,
                format!("has {} rows; the table has {rows}", col.len()),
            ));
        }
        map.insert(name.to_owned(), col);
        Ok(())
    }

    /// Adds (or replaces) a trait column (string columns are dictionary-encoded).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a column of the wrong length.
    pub fn add_trait(&mut self, name: &str, col: Column) -> Result<()> {
        Self::put(self.rows, &mut self.traits, name, col)
    }

    /// Adds (or replaces) a computed-trait column.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a column of the wrong length.
    pub fn add_computed(&mut self, name: &str, col: Column) -> Result<()> {
        Self::put(self.rows, &mut self.computed, name, col)
    }

    /// Adds (or replaces) a consent column (granted `true`, withdrawn `false`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a column of the wrong length.
    pub fn add_consent(&mut self, category: &str, col: Vec<Option<bool>>) -> Result<()> {
        Self::put(self.rows, &mut self.consent, category, Column::Bool(col))
    }
}

/// Whether a profile entered or left an audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// The profile became a member.
    Entered,
    /// The profile stopped being a member (or was merged away).
    Exited,
}

/// One membership change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The audience key.
    pub audience: String,
    /// The profile.
    pub profile: ProfileId,
    /// Entered or exited.
    pub kind: TransitionKind,
    /// The evaluation time at which the change was seen.
    pub at: DateTime<Utc>,
}

impl Transition {
    /// The change as a Segment-spec `track` message (`Audience Entered` /
    /// `Audience Exited`), with the profile id as `userId`, a deterministic
    /// `messageId`, and `properties.audience_key`, `audience_name`, `profile_id`.
    #[must_use]
    pub fn to_track_event(&self, audience_name: Option<&str>) -> Value {
        let (event, tag) = match self.kind {
            TransitionKind::Entered => ("Audience Entered", "entered"),
            TransitionKind::Exited => ("Audience Exited", "exited"),
        };
        json!({
            "type": "track",
            "event": event,
            "messageId": format!("audience:{}:{}:{tag}:{}", self.audience, self.profile.0, self.at.timestamp_micros()),
            "userId": self.profile.0,
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            "properties": {
                "audience_key": self.audience,
                "audience_name": audience_name.unwrap_or(&self.audience),
                "profile_id": self.profile.0,
            }
        })
    }
}

/// The recorded events of one profile for one stream: the times a window may
/// still hold (sorted), and how many other events were counted and let go (older
/// than every window that reads the stream, or all of them when no window does).
#[derive(Debug, Clone, Default)]
struct Recorded {
    dropped: u64,
    times: Vec<i64>,
}

impl Recorded {
    /// Every event recorded, kept or let go.
    fn total(&self) -> u64 {
        self.dropped + self.times.len() as u64
    }

    /// The number of kept times in `(lo, hi]`.
    fn within(&self, lo: i64, hi: i64) -> u64 {
        (self.times.partition_point(|x| *x <= hi) - self.times.partition_point(|x| *x <= lo)) as u64
    }
}

/// The membership history, compact: one 24-byte record per transition (time,
/// audience index, kind, and the profile as an index into the ids seen in the
/// history, each held once), rather than a [`Transition`] with its own copies of
/// the audience key and the profile id.
#[derive(Debug, Clone, Default)]
struct History {
    records: Vec<Record>,
    ids: Vec<ProfileId>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    secs: i64,
    /// Nanoseconds (below 2^30) with the kind in the top bit (set: entered).
    nanos_kind: u32,
    profile: u32,
    audience: u32,
}

const ENTERED_BIT: u32 = 1 << 31;

impl History {
    fn push(&mut self, audience: usize, t: &Transition) {
        let hash = self.hasher.hash_one(&t.profile);
        let ids = &self.ids;
        let profile = match self.index.find(hash, |&i| ids[i as usize] == t.profile) {
            Some(&i) => i,
            None => {
                let i = self.ids.len() as u32;
                self.ids.push(t.profile.clone());
                let (ids, hasher) = (&self.ids, &self.hasher);
                self.index
                    .insert_unique(hash, i, |&j| hasher.hash_one(&ids[j as usize]));
                i
            }
        };
        let kind = match t.kind {
            TransitionKind::Entered => ENTERED_BIT,
            TransitionKind::Exited => 0,
        };
        self.records.push(Record {
            secs: t.at.timestamp(),
            nanos_kind: t.at.timestamp_subsec_nanos() | kind,
            profile,
            audience: audience as u32,
        });
    }

    fn get(&self, r: Record, defs: &[AudienceDefinition]) -> Transition {
        Transition {
            audience: defs[r.audience as usize].key.clone(),
            profile: self.ids[r.profile as usize].clone(),
            kind: if r.nanos_kind & ENTERED_BIT == 0 {
                TransitionKind::Exited
            } else {
                TransitionKind::Entered
            },
            at: DateTime::from_timestamp(r.secs, r.nanos_kind & !ENTERED_BIT)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// Incremental membership of every audience of a set: per-profile event
/// timestamps for the event conditions, one bit per audience per profile, the
/// history of transitions, and the evaluation clock.
///
/// Nothing here reads the wall clock: the clock moves with
/// [`AudienceEngine::advance_time`] (and the `at` of each call), and time-based
/// exits are produced only there.
#[derive(Debug, Clone)]
pub struct AudienceEngine {
    set: AudienceSet,
    words: usize,
    /// Profile id → slot, hashing `ids[slot]`: each id is held once.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    ids: Vec<Option<ProfileId>>,
    free: Vec<u32>,
    members: Vec<u64>,
    /// Per slot with events, the recorded events of each stream it has events
    /// in, sorted by stream (one lookup per evaluation, none per stream).
    events: HashMap<u32, Vec<(u32, Recorded)>, foldhash::fast::RandomState>,
    /// Reused by [`AudienceEngine::record_event`].
    matched: Vec<usize>,
    /// `(time, slot)`: when a slot's membership may next change, earliest first.
    /// Entries are not removed when a slot's time changes: one whose time is no
    /// longer the slot's `due_at` is stale and skipped (and dropped in bulk when
    /// stale entries outnumber live ones).
    due: BinaryHeap<Reverse<(i64, u32)>>,
    /// The slot's next due time, [`NOT_DUE`] when none.
    due_at: Vec<i64>,
    /// Slots whose `due_at` is set.
    live_due: usize,
    rescan: BTreeSet<u32>,
    history: History,
    clock: Option<DateTime<Utc>>,
    time_dependent_computed: bool,
    scratch: super::plan::Scratch,
    counts: Vec<u64>,
    bits: Vec<u64>,
}

impl AudienceEngine {
    /// An engine with no profiles.
    #[must_use]
    pub fn new(set: AudienceSet) -> Self {
        let words = set.defs.len().div_ceil(64).max(1);
        let time_dependent_computed = set.plan.time_dependent
            && set
                .plan
                .inputs
                .iter()
                .any(|i| matches!(i, Input::Computed(_)));
        AudienceEngine {
            set,
            words,
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            ids: Vec::new(),
            free: Vec::new(),
            members: Vec::new(),
            events: HashMap::default(),
            matched: Vec::new(),
            due: BinaryHeap::new(),
            due_at: Vec::new(),
            live_due: 0,
            rescan: BTreeSet::new(),
            history: History::default(),
            clock: None,
            time_dependent_computed,
            scratch: super::plan::Scratch::default(),
            counts: Vec::new(),
            bits: Vec::new(),
        }
    }

    /// The audiences.
    #[must_use]
    pub fn audiences(&self) -> &AudienceSet {
        &self.set
    }

    /// The evaluation clock: the latest time given.
    #[must_use]
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock
    }

    /// Every transition so far, in order (kept compactly, each given back as a
    /// [`Transition`]).
    pub fn history(&self) -> impl ExactSizeIterator<Item = Transition> + '_ {
        let defs = &self.set.defs;
        self.history
            .records
            .iter()
            .map(move |&r| self.history.get(r, defs))
    }

    /// The number of transitions in [`AudienceEngine::history`].
    #[must_use]
    pub fn history_len(&self) -> usize {
        self.history.records.len()
    }

    /// Whether `profile` is a member of audience `key`.
    #[must_use]
    pub fn is_member(&self, profile: &ProfileId, key: &str) -> bool {
        let Some(a) = self.set.defs.iter().position(|d| d.key == key) else {
            return false;
        };
        self.slot_of(profile)
            .is_some_and(|s| self.bit(s as usize, a))
    }

    /// The members of audience `key`, sorted.
    #[must_use]
    pub fn members(&self, key: &str) -> Vec<ProfileId> {
        let Some(a) = self.set.defs.iter().position(|d| d.key == key) else {
            return Vec::new();
        };
        let mut out: Vec<ProfileId> = self
            .ids
            .iter()
            .enumerate()
            .filter_map(|(s, id)| id.as_ref().filter(|_| self.bit(s, a)).cloned())
            .collect();
        out.sort();
        out
    }

    /// Every tracked profile, sorted.
    #[must_use]
    pub fn profiles(&self) -> Vec<ProfileId> {
        let mut out: Vec<ProfileId> = self.ids.iter().flatten().cloned().collect();
        out.sort();
        out
    }

    /// Bytes of membership state per tracked profile (the bitset, without the
    /// profile index).
    #[must_use]
    pub fn membership_bytes_per_profile(&self) -> usize {
        self.words * 8
    }

    fn bit(&self, slot: usize, a: usize) -> bool {
        self.members[slot * self.words + a / 64] >> (a % 64) & 1 == 1
    }

    /// The slot of a tracked profile.
    fn slot_of(&self, id: &ProfileId) -> Option<u32> {
        let ids = &self.ids;
        self.index
            .find(self.hasher.hash_one(id), |&s| {
                ids[s as usize].as_ref() == Some(id)
            })
            .copied()
    }

    fn slot(&mut self, id: &ProfileId) -> u32 {
        if let Some(s) = self.slot_of(id) {
            return s;
        }
        let s = match self.free.pop() {
            Some(s) => {
                self.ids[s as usize] = Some(id.clone());
                s
            }
            None => {
                self.ids.push(Some(id.clone()));
                self.members.extend(std::iter::repeat_n(0, self.words));
                self.due_at.push(NOT_DUE);
                (self.ids.len() - 1) as u32
            }
        };
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.index.insert_unique(hasher.hash_one(id), s, |&t| {
            ids[t as usize].as_ref().map_or(0, |i| hasher.hash_one(i))
        });
        s
    }

    /// The recorded events of `slot` in `stream`.
    fn recorded(&self, slot: u32, stream: usize) -> Option<&Recorded> {
        let list = self.events.get(&slot)?;
        let i = list
            .binary_search_by_key(&(stream as u32), |(st, _)| *st)
            .ok()?;
        Some(&list[i].1)
    }

    /// Sets a slot's next due time.
    fn set_due(&mut self, slot: u32, next: i64) {
        let d = std::mem::replace(&mut self.due_at[slot as usize], next);
        if d == next {
            return;
        }
        if d != NOT_DUE {
            self.live_due -= 1;
        }
        if next != NOT_DUE {
            self.live_due += 1;
            self.due.push(Reverse((next, slot)));
        }
        if self.due.len() > 2 * self.live_due + 64 {
            let due_at = &self.due_at;
            let mut live = std::mem::take(&mut self.due).into_vec();
            live.retain(|Reverse((d, s))| due_at[*s as usize] == *d);
            live.sort_unstable();
            live.dedup();
            self.due = BinaryHeap::from(live);
        }
    }

    fn tick(&mut self, at: DateTime<Utc>) {
        if self.clock.is_none_or(|c| at > c) {
            self.clock = Some(at);
        }
    }

    /// Records an event of `profile` (no evaluation); returns whether any event
    /// condition counts it.
    pub fn record_event(&mut self, profile: &ProfileId, e: &TraitEvent) -> bool {
        let mut matched = std::mem::take(&mut self.matched);
        self.set.plan.streams_of(e, &mut matched);
        if matched.is_empty() {
            self.matched = matched;
            return false;
        }
        let slot = self.slot(profile);
        let ts = e.timestamp.timestamp_micros();
        let clock = self.clock.map(|c| c.timestamp_micros());
        let list = self.events.entry(slot).or_default();
        for &st in &matched {
            let i = match list.binary_search_by_key(&(st as u32), |(s, _)| *s) {
                Ok(i) => i,
                Err(i) => {
                    list.insert(i, (st as u32, Recorded::default()));
                    i
                }
            };
            let r = &mut list[i].1;
            // Without a window reading the stream, only the count matters.
            let Some(far) = self.set.plan.horizon[st] else {
                r.dropped += 1;
                continue;
            };
            if r.times.last().is_none_or(|last| *last <= ts) {
                r.times.push(ts);
            } else {
                let at = r.times.partition_point(|x| *x <= ts);
                r.times.insert(at, ts);
            }
            // Times that no window can hold again (the clock only moves forward)
            // are let go once they are half of the list.
            if let Some(clock) = clock {
                let cut = clock.saturating_sub(far.saturating_mul(1_000_000));
                if r.times.first().is_some_and(|first| *first <= cut) {
                    let k = r.times.partition_point(|x| *x <= cut);
                    if 2 * k >= r.times.len() {
                        r.times.drain(..k);
                        r.dropped += k as u64;
                    }
                }
            }
        }
        self.matched = matched;
        true
    }

    /// Whether any event condition counts `e`.
    #[must_use]
    pub fn counts(&self, e: &TraitEvent) -> bool {
        let mut matched = Vec::new();
        self.set.plan.streams_of(e, &mut matched);
        !matched.is_empty()
    }

    /// Replaces the recorded events of `profile` (after an unmerge).
    pub fn reset_events<'a>(
        &mut self,
        profile: &ProfileId,
        events: impl IntoIterator<Item = &'a TraitEvent>,
    ) {
        let slot = self.slot(profile);
        self.events.remove(&slot);
        for e in events {
            self.record_event(profile, e);
        }
    }

    /// `from` merged into `into`: its events move, and it leaves every audience
    /// (transitions at `at`). Re-evaluate `into` afterwards.
    pub fn merge(
        &mut self,
        into: &ProfileId,
        from: &ProfileId,
        at: DateTime<Utc>,
    ) -> Vec<Transition> {
        let Some(f) = self.slot_of(from) else {
            return Vec::new();
        };
        let i = self.slot(into);
        let moved = self.events.remove(&f).unwrap_or_default();
        let list = self.events.entry(i).or_default();
        for (st, mut m) in moved {
            match list.binary_search_by_key(&st, |(s, _)| *s) {
                Ok(k) => {
                    let r = &mut list[k].1;
                    r.dropped += m.dropped;
                    r.times.append(&mut m.times);
                    r.times.sort_unstable();
                }
                Err(k) => list.insert(k, (st, m)),
            }
        }
        self.remove(from, at)
    }

    /// `profile` is gone (merged away or retired): it leaves every audience.
    pub fn remove(&mut self, profile: &ProfileId, at: DateTime<Utc>) -> Vec<Transition> {
        self.tick(at);
        let hash = self.hasher.hash_one(profile);
        let ids = &self.ids;
        let Ok(entry) = self
            .index
            .find_entry(hash, |&s| ids[s as usize].as_ref() == Some(profile))
        else {
            return Vec::new();
        };
        let (s, _) = entry.remove();
        let mut out = Vec::new();
        for (a, d) in self.set.defs.iter().enumerate() {
            if self.members[s as usize * self.words + a / 64] >> (a % 64) & 1 == 1 {
                let t = Transition {
                    audience: d.key.clone(),
                    profile: profile.clone(),
                    kind: TransitionKind::Exited,
                    at,
                };
                self.history.push(a, &t);
                out.push(t);
            }
        }
        let base = s as usize * self.words;
        self.members[base..base + self.words].fill(0);
        self.events.remove(&s);
        self.set_due(s, NOT_DUE);
        self.rescan.remove(&s);
        self.ids[s as usize] = None;
        self.free.push(s);
        out
    }

    /// Re-evaluates `profile` at `at` (the clock moves forward to `at` if later; an
    /// earlier `at` evaluates at the clock) and returns its transitions.
    pub fn evaluate(
        &mut self,
        profile: &Profile,
        computed: &ComputedTraits,
        at: DateTime<Utc>,
    ) -> Vec<Transition> {
        self.tick(at);
        let now = self.clock.unwrap_or(at);
        let slot = self.slot(&profile.id);
        self.evaluate_slot(slot, profile, computed, now)
    }

    fn count_fn(&self, slot: u32, now_micros: i64) -> impl Fn(usize, Option<Window>) -> u64 + '_ {
        move |stream, window| {
            let Some(r) = self.recorded(slot, stream) else {
                return 0;
            };
            match window {
                None => r.total(),
                Some(w) => {
                    let (lo, hi) = w.bounds_micros(now_micros);
                    r.within(lo, hi)
                }
            }
        }
    }

    /// The count of every event input of `slot` at `now` (into `self.counts`) and
    /// the next time one of them changes.
    fn counts_and_next_change(&mut self, slot: u32, now_micros: i64) -> Option<i64> {
        let inputs = &self.set.plan.inputs;
        let list = self.events.get(&slot).map_or(&[][..], Vec::as_slice);
        self.counts.clear();
        self.counts.resize(inputs.len(), 0);
        let mut next: Option<i64> = None;
        let mut at = |t: i64| next = Some(next.map_or(t, |n: i64| n.min(t)));
        for (i, input) in inputs.iter().enumerate() {
            let Input::Events { stream, window } = input else {
                continue;
            };
            let Ok(k) = list.binary_search_by_key(&(*stream as u32), |(s, _)| *s) else {
                continue;
            };
            let r = &list[k].1;
            let Some(w) = window else {
                self.counts[i] = r.total();
                continue;
            };
            let v = &r.times;
            let (lo, hi) = w.bounds_micros(now_micros);
            let (near, far) = match *w {
                Window::Within { seconds } => (0, seconds),
                Window::Between {
                    from_seconds,
                    to_seconds,
                } => (from_seconds, to_seconds),
            };
            let first_in = v.partition_point(|x| *x <= lo);
            let first_after = v.partition_point(|x| *x <= hi);
            self.counts[i] = (first_after - first_in) as u64;
            // the oldest event inside leaves at ts + far
            if let Some(ts) = v.get(first_in) {
                at(ts.saturating_add(far.saturating_mul(1_000_000)));
            }
            // the oldest event not yet inside enters at ts + near
            if let Some(ts) = v.get(first_after) {
                at(ts.saturating_add(near.saturating_mul(1_000_000)));
            }
        }
        next
    }

    fn evaluate_slot(
        &mut self,
        slot: u32,
        profile: &Profile,
        computed: &ComputedTraits,
        now: DateTime<Utc>,
    ) -> Vec<Transition> {
        let now_micros = now.timestamp_micros();
        let next = self.counts_and_next_change(slot, now_micros);
        let mut bits = std::mem::take(&mut self.bits);
        bits.clear();
        bits.resize(self.words, 0);
        self.set.plan.eval_profile(
            profile,
            computed,
            &self.counts,
            now,
            &mut bits,
            &mut self.scratch,
        );
        let base = slot as usize * self.words;
        let mut out = Vec::new();
        for (w, new) in bits.iter().enumerate() {
            let old = self.members[base + w];
            let mut diff = old ^ new;
            while diff != 0 {
                let b = diff.trailing_zeros() as usize;
                diff &= diff - 1;
                let a = w * 64 + b;
                let t = Transition {
                    audience: self.set.defs[a].key.clone(),
                    profile: profile.id.clone(),
                    kind: if new >> b & 1 == 1 {
                        TransitionKind::Entered
                    } else {
                        TransitionKind::Exited
                    },
                    at: now,
                };
                self.history.push(a, &t);
                out.push(t);
            }
            self.members[base + w] = *new;
        }
        self.bits = bits;
        self.set_due(slot, next.unwrap_or(NOT_DUE));
        if self.time_dependent_computed {
            self.rescan.insert(slot);
        }
        out
    }

    /// Moves the clock to `now` and re-evaluates every profile whose membership
    /// can change by then (a window sliding past an event, windowed computed
    /// traits); returns the transitions.
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] (field `now`) for a time before the clock;
    /// `profile`'s errors.
    pub fn advance_time(
        &mut self,
        now: DateTime<Utc>,
        computed: &ComputedTraits,
        mut profile: impl FnMut(&ProfileId) -> Result<Option<Profile>>,
    ) -> Result<Vec<Transition>> {
        if let Some(c) = self.clock
            && now < c
        {
            return Err(Error::InvalidTimestamp {
                field: "now".into(),
                value: now.to_rfc3339(),
                message: format!("is before the audience clock ({})", c.to_rfc3339()),
            });
        }
        self.tick(now);
        let micros = now.timestamp_micros();
        let mut todo: BTreeSet<u32> = std::mem::take(&mut self.rescan);
        while let Some(&Reverse((d, s))) = self.due.peek() {
            if d > micros {
                break;
            }
            self.due.pop();
            if self.due_at[s as usize] == d {
                self.due_at[s as usize] = NOT_DUE;
                self.live_due -= 1;
                todo.insert(s);
            }
        }
        let mut out = Vec::new();
        for s in todo {
            let Some(id) = self.ids[s as usize].clone() else {
                continue;
            };
            let p = profile(&id)?.unwrap_or_else(|| Profile::new(id.clone()));
            out.extend(self.evaluate_slot(s, &p, computed, now));
        }
        Ok(out)
    }

    /// Full evaluation of `profiles` at `now`, column by column with the compiled
    /// plan (`events(id)` gives a profile's recorded events). Returns one bitmap
    /// per audience, rows in the order of `profiles`. The engine's state is not
    /// changed.
    pub fn evaluate_full(
        &self,
        profiles: &[Profile],
        computed: &ComputedTraits,
        now: DateTime<Utc>,
    ) -> Vec<Bitmap> {
        let plan = &self.set.plan;
        let now_micros = now.timestamp_micros();
        let cols: Vec<Column> = plan
            .inputs
            .iter()
            .map(|input| match input {
                Input::Trait(n) => {
                    Column::Json(profiles.iter().map(|p| p.trait_value(n).cloned()).collect())
                }
                Input::Computed(n) => Column::Computed(
                    profiles
                        .iter()
                        .map(|p| match p.computed.get(n) {
                            Some(st) => st.value(now),
                            None => match computed.definitions().iter().find(|d| d.name() == n) {
                                Some(d) => d.new_state().value(now),
                                None => crate::computed::ComputedValue::Null,
                            },
                        })
                        .collect(),
                ),
                Input::Consent(c) => {
                    Column::Bool(profiles.iter().map(|p| p.consent_granted(c)).collect())
                }
                Input::Events { stream, window } => Column::Count(
                    profiles
                        .iter()
                        .map(|p| {
                            self.slot_of(&p.id).map_or(0, |s| {
                                u32::try_from(self.count_fn(s, now_micros)(*stream, *window))
                                    .unwrap_or(u32::MAX)
                            })
                        })
                        .collect(),
                ),
            })
            .collect();
        let refs: Vec<&Column> = cols.iter().collect();
        plan.eval_columns(profiles.len(), &refs)
    }
}
