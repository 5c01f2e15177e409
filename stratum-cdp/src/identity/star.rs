//! Late events in a *star*: the component shape where a limit decides something
//! and a late event can still be applied in time proportional to its identifiers.
//!
//! A component is a star when every event of it carries the same *core*
//! identifiers plus *private* ones that no other event carries, every private
//! identifier comes after every core one in priority order, and nothing else can
//! interfere: no `alias`, no removed identifier, no windowed rule, no merge, and
//! the profile fits the identifier cap whatever the order (its core plus, per
//! kind, the private identifiers its limit leaves room for). The typical case
//! is an identifier many people share (a family tablet, a kiosk, an office
//! device) next to one anonymous id per event.
//!
//! Replaying a star in canonical order, the earliest event founds the profile with
//! the core; every later one re-joins the core and then offers its private
//! identifiers one at a time, each accepted while its kind is under its limit.
//! The caps cannot bind, so kinds do not interact: for every kind, the accepted
//! private identifiers are exactly the first `limit − core identifiers of that
//! kind` of them in canonical order (event, then identifier order), and the
//! others are dropped with `LimitExceeded { would_hold: limit + 1 }`. A late
//! event therefore changes, besides its own outcome, at most one other event's
//! outcome per private identifier it brings: the last accepted identifier of
//! that kind, which its own displaces.

use super::{DropReason, IdentityGraph, Outcome, ProfileId};

/// The bookkeeping of a star profile.
#[derive(Debug, Clone)]
pub(super) struct Star {
    /// The identifiers every event of the component carries, in identifier order.
    core: Vec<usize>,
    /// Per rule slot: how many core identifiers it holds.
    core_counts: Vec<u32>,
    /// Per rule slot: the accepted private identifiers as (link, identifier), in
    /// canonical order.
    accepted: Vec<Vec<(usize, usize)>>,
    /// Per rule slot: how many private identifiers the component holds, accepted
    /// or not.
    privates: Vec<u32>,
}

impl Star {
    fn new(core: Vec<usize>, graph: &IdentityGraph) -> Self {
        let mut star = Star {
            core,
            core_counts: Vec::new(),
            accepted: Vec::new(),
            privates: Vec::new(),
        };
        star.count_core(graph);
        star
    }

    fn count_core(&mut self, graph: &IdentityGraph) {
        self.core_counts.clear();
        for &i in &self.core {
            super::bump(&mut self.core_counts, graph.idents[i].rule);
        }
    }

    /// Room for private identifiers of rule slot `r` (limit − core).
    fn room(&self, r: usize, limit: u32) -> usize {
        limit.saturating_sub(self.core_counts.get(r).copied().unwrap_or(0)) as usize
    }

    fn slot(&mut self, r: usize) -> &mut Vec<(usize, usize)> {
        if self.accepted.len() <= r {
            self.accepted.resize_with(r + 1, Vec::new);
        }
        &mut self.accepted[r]
    }

    /// A profile of one event whose identifiers are the core: the event is joined
    /// by one whose shared identifiers are `prefix`, a prefix of the core. The rest
    /// of the core becomes the founder's private identifiers (all accepted).
    fn shrink_core(&mut self, prefix: usize, founder: usize, p: usize, graph: &mut IdentityGraph) {
        if prefix >= self.core.len() {
            return;
        }
        let extra = self.core.split_off(prefix);
        for i in extra {
            let r = graph.idents[i].rule;
            super::bump(&mut self.privates, r);
            self.slot(r).push((founder, i));
            graph.idents[i].private_of = Some(p);
        }
        self.count_core(graph);
    }
}

/// What `star_before` saw of a link about to be applied in canonical order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// The link cannot keep or found a star.
    None,
    /// Every identifier is new: the link may found a star.
    Found,
    /// `raw[..core]` are in star profile `p` and are its core (or, for a profile
    /// of one event, a prefix of it); the rest are new.
    Extend { p: usize, core: usize },
}

impl IdentityGraph {
    /// Reads link `l` before `apply_raw` applies it: whether it can found or extend
    /// a star. Leaves in `star_scratch` the profiles whose star it may break.
    pub(super) fn star_before(&mut self, l: usize, raw: &[usize]) -> Shape {
        let mut touched = std::mem::take(&mut self.star_scratch);
        touched.clear();
        let mut eligible = !self.links[l].alias;
        let mut shared = 0;
        let mut in_prefix = true;
        let mut profile: Option<usize> = None;
        for (k, &i) in raw.iter().enumerate() {
            let s = &self.idents[i];
            if s.removed || s.window.is_some() {
                eligible = false;
            }
            match s.profile {
                Some(q) => {
                    if !touched.contains(&q) {
                        touched.push(q);
                    }
                    eligible &= in_prefix && profile.is_none_or(|p| p == q);
                    profile = Some(q);
                    shared = k + 1;
                }
                None if s.last_link.is_none() => in_prefix = false,
                None => {
                    // Carried before and dropped: a private identifier of a star
                    // (now shared), or of no star.
                    eligible = false;
                    if let Some(q) = s.private_of
                        && !touched.contains(&q)
                    {
                        touched.push(q);
                    }
                }
            }
        }
        self.star_scratch = touched;
        if !eligible {
            return Shape::None;
        }
        let Some(p) = profile else {
            return Shape::Found;
        };
        // The founder's identifiers again: nothing to record.
        if shared == raw.len()
            && self
                .node(p)
                .is_some_and(|n| n.star_single && self.links[n.founder].raw == raw)
        {
            return Shape::Extend { p, core: shared };
        }
        self.materialize_star(p);
        match self.star_fits(p, raw, shared) {
            true => Shape::Extend { p, core: shared },
            false => Shape::None,
        }
    }

    /// Whether a link whose identifiers `raw[..shared]` are in star profile `p`
    /// and the rest are new keeps `p` a star.
    fn star_fits(&self, p: usize, raw: &[usize], shared: usize) -> bool {
        let Some(node) = self.node(p) else {
            return false;
        };
        let Some(star) = node.star.as_deref() else {
            return false;
        };
        let core = &raw[..shared];
        let single = node.links.len() == 1;
        let same = if single {
            star.core.starts_with(core)
        } else {
            star.core == core
        };
        if !same || node.merge_count != 0 {
            return false;
        }
        if shared == raw.len() && (!single || shared == star.core.len()) {
            // Nothing new: the bound below holds as it did.
            return true;
        }
        // The most the profile can hold in any order: the core and, per kind, the
        // private identifiers there is room for. Within the cap, the cap never
        // decides anything.
        let mut core_counts = Vec::new();
        for &i in core {
            super::bump(&mut core_counts, self.idents[i].rule);
        }
        let mut privates = star.privates.clone();
        let extra = if single { &star.core[shared..] } else { &[] };
        for &i in extra.iter().chain(&raw[shared..]) {
            super::bump(&mut privates, self.idents[i].rule);
        }
        let mut most = core.len() as u64;
        for (r, &n) in privates.iter().enumerate() {
            let room = self.slot_limits[r]
                .1
                .saturating_sub(core_counts.get(r).copied().unwrap_or(0));
            most += u64::from(n.min(room));
        }
        most <= u64::from(self.config.max_identifiers_per_profile())
    }

    /// After `apply_raw` applied link `l`: records the star it founds or extends,
    /// or forgets the stars it breaks.
    pub(super) fn star_after(&mut self, l: usize, raw: &[usize], shape: Shape) {
        let kept = match shape {
            Shape::None => false,
            Shape::Found => self.star_found(l, raw),
            Shape::Extend { p, core } => self.star_extend(l, raw, p, core),
        };
        if !kept {
            let touched = std::mem::take(&mut self.star_scratch);
            for &q in &touched {
                if let Some(Some(n)) = self.profiles.get_mut(q) {
                    n.star = None;
                    n.star_single = false;
                }
            }
            self.star_scratch = touched;
        }
    }

    fn star_found(&mut self, l: usize, raw: &[usize]) -> bool {
        let out = &self.links[l].outcome;
        if !out.dropped.is_empty() || out.accepted.len() != raw.len() || raw.is_empty() {
            return false;
        }
        let Some(p) = self.idents[raw[0]].profile else {
            return false;
        };
        if let Some(Some(n)) = self.profiles.get_mut(p) {
            n.star_single = true;
        }
        true
    }

    /// Builds the star of profile `p` from its founder's identifiers when it is
    /// only marked (`star_single`).
    fn materialize_star(&mut self, p: usize) {
        let Some(node) = self.node(p) else {
            return;
        };
        if !node.star_single {
            return;
        }
        let star = Star::new(self.links[node.founder].raw.clone(), self);
        if let Some(Some(n)) = self.profiles.get_mut(p) {
            n.star = Some(Box::new(star));
            n.star_single = false;
        }
    }

    /// Link `l` (latest of its component) joined star profile `p` through
    /// `raw[..core]`: checks that the outcome is the star's and records it.
    fn star_extend(&mut self, l: usize, raw: &[usize], p: usize, core: usize) -> bool {
        let out = &self.links[l].outcome;
        if out.accepted.get(..core) != Some(&raw[..core]) || !out.merged.is_empty() {
            return false;
        }
        let accepted: Vec<usize> = out.accepted[core..].to_vec();
        let Some(node) = self.profiles.get_mut(p).and_then(Option::as_mut) else {
            return false;
        };
        if node.star_single {
            // Not built: `l` carried the founder's identifiers and nothing else.
            return core == raw.len();
        }
        // `l` is in the profile's links already.
        let single = node.links.len() == 2;
        let founder = node.founder;
        let Some(mut star) = node.star.take() else {
            return false;
        };
        if single {
            star.shrink_core(core, founder, p, self);
        }
        for &x in &raw[core..] {
            let r = self.idents[x].rule;
            let room = star.room(r, self.slot_limits[r].1);
            let slot = star.slot(r);
            let expected = slot.len() < room;
            if expected != accepted.contains(&x) {
                return false;
            }
            if expected {
                slot.push((l, x));
            }
            super::bump(&mut star.privates, r);
            self.idents[x].private_of = Some(p);
        }
        if let Some(Some(n)) = self.profiles.get_mut(p) {
            n.star = Some(star);
        }
        true
    }

    /// Applies late link `l` to the star profile its identifiers touch, when it
    /// keeps the star shape (see the [module docs](self)): its outcome and, per
    /// private identifier it brings, the one displaced identifier of a later event.
    /// Returns the retired profile ids, or `None`, with nothing changed.
    pub(super) fn try_star(&mut self, l: usize) -> Option<Vec<ProfileId>> {
        if self.links[l].alias {
            return None;
        }
        let raw = std::mem::take(&mut self.links[l].raw);
        let done = self.try_star_raw(l, &raw);
        self.links[l].raw = raw;
        done
    }

    fn try_star_raw(&mut self, l: usize, raw: &[usize]) -> Option<Vec<ProfileId>> {
        let mut profile = None;
        let mut core = 0;
        let mut in_prefix = true;
        for (k, &i) in raw.iter().enumerate() {
            let s = &self.idents[i];
            if s.removed || s.window.is_some() {
                return None;
            }
            match s.profile {
                Some(q) if in_prefix && profile.is_none_or(|p| p == q) => {
                    profile = Some(q);
                    core = k + 1;
                }
                None if s.last_link.is_none() => in_prefix = false,
                _ => return None,
            }
        }
        let p = profile?;
        self.materialize_star(p);
        if !self.star_fits(p, raw, core) {
            return None;
        }
        let node = self.node(p)?;
        let (founder, single) = (node.founder, node.links.len() == 1);
        let earliest = self.key_less(l, founder);
        let mut star = self.profiles.get_mut(p)?.as_mut()?.star.take()?;
        if single {
            star.shrink_core(core, founder, p, self);
        }
        // The outcome the replay gives `l`, and the identifiers it displaces.
        let mut outcome = Outcome {
            accepted: raw[..core].to_vec(),
            ..Outcome::default()
        };
        let mut displaced = Vec::new();
        for &x in &raw[core..] {
            let r = self.idents[x].rule;
            let (kind, limit, _) = self.slot_limits[r].clone();
            let room = star.room(r, limit);
            let reason = DropReason::LimitExceeded {
                kind,
                limit,
                would_hold: limit.saturating_add(1),
            };
            super::bump(&mut star.privates, r);
            let slot = star.slot(r);
            let at = slot.partition_point(|&(lk, ik)| self.pair_less((lk, ik), (l, x)));
            if at < room {
                slot.insert(at, (l, x));
                if slot.len() > room
                    && let Some((lk, ik)) = slot.pop()
                {
                    displaced.push((lk, ik, reason));
                }
                outcome.accepted.push(x);
            } else {
                outcome.dropped.push((x, None, reason));
            }
        }
        let contested = !outcome.dropped.is_empty() || !displaced.is_empty();
        // The core: `l` may now be the link that joined it first.
        let t = self.links[l].timestamp;
        for &i in &raw[..core] {
            let last = self.later(self.idents[i].last_link, l);
            let joined_later = self.idents[i].joined_by.is_none_or(|j| self.key_less(l, j));
            let root_later = self.idents[i]
                .root_since
                .is_none_or(|r| self.key_less(l, r));
            let s = &mut self.idents[i];
            s.last_link = Some(last);
            if joined_later {
                s.joined = Some(t);
                s.joined_by = Some(l);
            }
            if root_later {
                s.root_since = Some(l);
            }
        }
        // Its private identifiers, accepted or dropped.
        for &x in &raw[core..] {
            let s = &mut self.idents[x];
            s.last_link = Some(l);
            s.private_of = Some(p);
            if outcome.accepted.contains(&x) {
                s.profile = Some(p);
                s.joined = Some(t);
                s.joined_by = Some(l);
                s.root_since = Some(l);
                if let Some(Some(n)) = self.profiles.get_mut(p) {
                    n.idents.push(x);
                }
            } else {
                s.contested = true;
            }
        }
        // The identifiers displaced from later events.
        for (lk, ik, reason) in displaced {
            let dropped = &self.links[lk].outcome.dropped;
            let at = dropped
                .partition_point(|(i, _, _)| self.ident_order(*i, ik) == std::cmp::Ordering::Less);
            let out = &mut self.links[lk].outcome;
            out.accepted.retain(|&i| i != ik);
            out.dropped.insert(at, (ik, None, reason));
            let s = &mut self.idents[ik];
            s.profile = None;
            s.joined = None;
            s.joined_by = None;
            s.root_since = None;
            s.contested = true;
            if let Some(Some(n)) = self.profiles.get_mut(p)
                && let Some(k) = n.idents.iter().position(|&i| i == ik)
            {
                n.idents.swap_remove(k);
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
            n.contested |= contested;
            n.star = Some(star);
            if let Some(m) = max_link {
                n.max_link = m;
            }
        }
        Some(retired)
    }

    /// Canonical order of (link, identifier) pairs: the link, then the identifier.
    fn pair_less(&self, a: (usize, usize), b: (usize, usize)) -> bool {
        match self.key_cmp(a.0, b.0) {
            std::cmp::Ordering::Equal => self.ident_order(a.1, b.1) == std::cmp::Ordering::Less,
            o => o == std::cmp::Ordering::Less,
        }
    }
}
