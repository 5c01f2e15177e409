//! Bulk resolution of large link tables: connected components over interned
//! string identifiers.
//!
//! [`BulkResolver`] interns every identifier once into a single byte arena as a
//! record `[parent: u32][length: u16][bytes]`; the record's offset is the
//! identifier's node id, and its first four bytes are its union-find parent, so
//! the string comparison that confirms a table hit and the first union-find step
//! touch the same cache line. The index is an open-addressing table of `u64`
//! slots `(32-bit hash tag, offset)` with linear probing, grown from the tags
//! alone (strings are never re-read). Union is by smaller node id with path
//! halving. Memory per identifier: its length + 6 bytes of record + 8–32 bytes
//! of table (a table sized ahead from a link count is at most half full). A
//! link costs two table look-ups and one union.
//!
//! Bulk mode is plain linking: every link joins its two identifiers unless one of
//! them is blocked (the [`IdentityConfig`] blocklist, checked once per distinct
//! identifier). Per-type limits need event order and are the incremental
//! [`crate::identity::IdentityGraph`]'s job.
//!
//! ```
//! use stratum_cdp::bulk::BulkResolver;
//! use stratum_cdp::identity::IdentityConfig;
//!
//! let mut r = BulkResolver::new().with_blocklist(IdentityConfig::default());
//! r.add_link("anon-1", "ann@example.com")?;
//! r.add_link("user-7", "ann@example.com")?;
//! r.add_link("anon-2", "undefined")?; // blocked: never links
//! r.add_link("anon-3", "undefined")?;
//! let c = r.finish();
//! assert_eq!(c.label("anon-1"), c.label("user-7"));
//! assert_ne!(c.label("anon-2"), c.label("anon-3"));
//! assert_eq!(c.label("undefined"), None);
//! assert_eq!(c.component_count(), 3);
//! # Ok::<(), stratum_cdp::Error>(())
//! ```

use std::hash::BuildHasher;

use crate::error::{Error, Result};
use crate::identity::IdentityConfig;

/// Marks a parent field that holds a final label (after [`BulkResolver::finish`]).
const MARK: u32 = 0x8000_0000;
/// The parent field of a blocked identifier.
const BLOCKED: u32 = u32::MAX;
/// Largest arena (offsets must stay below [`MARK`]).
const MAX_ARENA: usize = MARK as usize - 1;
const SEED: u64 = 0x5354_5241_5455_4D43;
const HEADER: usize = 6;
/// Largest table reserved ahead of need (2^28 slots: 2 GiB).
const MAX_SLOTS: usize = 1 << 28;

#[derive(Debug, Clone)]
struct Arena {
    bytes: Vec<u8>,
    /// Slots: `tag << 32 | (offset + 1)`, 0 = empty.
    slots: Vec<u64>,
    /// `32 - log2(slots.len())`.
    shift: u32,
    len: usize,
    hasher: foldhash::fast::FixedState,
}

impl Arena {
    fn with_capacity(ids: usize, bytes: usize) -> Self {
        let want = ids
            .saturating_mul(2)
            .clamp(16, MAX_SLOTS)
            .next_power_of_two();
        Arena {
            bytes: Vec::with_capacity(bytes),
            slots: vec![0; want],
            shift: 32 - want.trailing_zeros(),
            len: 0,
            hasher: foldhash::fast::FixedState::with_seed(SEED),
        }
    }

    #[inline]
    fn tag(&self, s: &[u8]) -> u32 {
        let h = self.hasher.hash_one(s);
        (h ^ (h >> 32)) as u32
    }

    #[inline]
    fn parent(&self, node: u32) -> u32 {
        let i = node as usize;
        match self.bytes.get(i..i + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => BLOCKED,
        }
    }

    #[inline]
    fn set_parent(&mut self, node: u32, p: u32) {
        let i = node as usize;
        if let Some(dst) = self.bytes.get_mut(i..i + 4) {
            dst.copy_from_slice(&p.to_le_bytes());
        }
    }

    #[inline]
    fn text(&self, node: u32) -> &[u8] {
        let i = node as usize;
        let len = match self.bytes.get(i + 4..i + 6) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]) as usize,
            _ => 0,
        };
        self.bytes
            .get(i + HEADER..i + HEADER + len)
            .unwrap_or_default()
    }

    #[inline]
    fn find_slot(&self, tag: u32, s: &[u8]) -> std::result::Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = (tag >> self.shift) as usize;
        loop {
            let e = self.slots[i & mask];
            if e == 0 {
                return Err(i & mask);
            }
            if (e >> 32) as u32 == tag {
                let node = (e as u32).wrapping_sub(1);
                if self.text(node) == s {
                    return Ok(node);
                }
            }
            i += 1;
        }
    }

    fn find(&self, s: &[u8]) -> Option<u32> {
        let tag = self.tag(s);
        self.find_slot(tag, s).ok()
    }

    /// Grows the table (once) so that `more` further identifiers fit with the
    /// table at most half full: most look-ups then end at their first slot (at
    /// three quarters, the growth threshold, a miss probes about eight).
    fn reserve(&mut self, more: usize) {
        let want = self.len.saturating_add(more).saturating_mul(2);
        let want = want.clamp(16, MAX_SLOTS).next_power_of_two();
        if want > self.slots.len() {
            self.resize(want);
        }
    }

    fn grow(&mut self) {
        self.resize(self.slots.len() * 2);
    }

    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        self.shift = 32 - n.trailing_zeros();
        let mask = n - 1;
        for e in old.into_iter().filter(|&e| e != 0) {
            let mut i = (((e >> 32) as u32) >> self.shift) as usize;
            while self.slots[i & mask] != 0 {
                i += 1;
            }
            self.slots[i & mask] = e;
        }
    }

    /// Returns the node and whether it is new (new nodes are their own parent).
    #[inline]
    fn intern(&mut self, s: &[u8], tag: u32) -> Result<(u32, bool)> {
        let slot = match self.find_slot(tag, s) {
            Ok(node) => return Ok((node, false)),
            Err(slot) => slot,
        };
        let len = u16::try_from(s.len()).map_err(|_| Error::Capacity {
            message: format!("an identifier of {} bytes; the limit is 65535", s.len()),
        })?;
        let node = self.bytes.len();
        if node + HEADER + s.len() > MAX_ARENA {
            return Err(Error::Capacity {
                message: format!("more than {MAX_ARENA} bytes of identifier records"),
            });
        }
        let node = node as u32;
        self.bytes.extend_from_slice(&node.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(s);
        self.slots[slot] = (u64::from(tag) << 32) | u64::from(node + 1);
        self.len += 1;
        if self.len * 4 > self.slots.len() * 3 {
            self.grow();
        }
        Ok((node, true))
    }

    /// Root of `x`, halving the path; a marked field (a label) or a self-parent
    /// is a root.
    #[inline]
    fn root(&mut self, mut x: u32) -> u32 {
        loop {
            let p = self.parent(x);
            if p == x || p & MARK != 0 {
                return x;
            }
            let gp = self.parent(p);
            if gp == p || gp & MARK != 0 {
                return p;
            }
            self.set_parent(x, gp);
            x = gp;
        }
    }

    /// Record offsets in arena order.
    fn nodes(&self) -> impl Iterator<Item = u32> + '_ {
        let mut at = 0usize;
        std::iter::from_fn(move || {
            if at >= self.bytes.len() {
                return None;
            }
            let node = at as u32;
            at += HEADER + self.text(node).len();
            Some(node)
        })
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.slots.capacity() * 8
    }
}

/// Builds connected components from links between string identifiers.
#[derive(Debug, Clone)]
pub struct BulkResolver {
    arena: Arena,
    blocklist: Option<IdentityConfig>,
    scratch: String,
    links: u64,
    skipped: u64,
}

impl Default for BulkResolver {
    fn default() -> Self {
        Self::new()
    }
}

impl BulkResolver {
    /// An empty resolver without a blocklist.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty resolver with room for `identifiers` distinct identifiers totalling
    /// `bytes` bytes of text (a hint; it grows as needed).
    #[must_use]
    pub fn with_capacity(identifiers: usize, bytes: usize) -> Self {
        BulkResolver {
            arena: Arena::with_capacity(
                identifiers,
                bytes.saturating_add(identifiers.saturating_mul(HEADER)),
            ),
            blocklist: None,
            scratch: String::new(),
            links: 0,
            skipped: 0,
        }
    }

    /// Never links values blocked by `config` (its blocked values and patterns).
    #[must_use]
    pub fn with_blocklist(mut self, config: IdentityConfig) -> Self {
        self.blocklist = Some(config);
        self
    }

    #[inline]
    fn intern(&mut self, s: &str) -> Result<u32> {
        let tag = self.arena.tag(s.as_bytes());
        self.intern_tagged(s, tag)
    }

    #[inline]
    fn intern_tagged(&mut self, s: &str, tag: u32) -> Result<u32> {
        let (node, new) = self.arena.intern(s.as_bytes(), tag)?;
        if new
            && let Some(c) = &self.blocklist
            && c.blocked_str(s, &mut self.scratch)
        {
            self.arena.set_parent(node, BLOCKED);
        }
        Ok(node)
    }

    /// Adds one identifier (a component of its own until linked).
    ///
    /// # Errors
    /// [`Error::Capacity`] for an identifier over 65,535 bytes or past 2 GiB of
    /// identifier records.
    pub fn add_identifier(&mut self, a: &str) -> Result<()> {
        self.intern(a).map(|_| ())
    }

    /// Links `a` and `b` (both are added if new). A link with a blocked end adds the
    /// other end alone.
    ///
    /// # Errors
    /// As [`BulkResolver::add_identifier`].
    #[inline]
    pub fn add_link(&mut self, a: &str, b: &str) -> Result<()> {
        let x = self.intern(a)?;
        let y = self.intern(b)?;
        self.union(x, y);
        Ok(())
    }

    /// Links every pair of `links`, in order: the same result as calling
    /// [`BulkResolver::add_link`] for each, faster on large tables. When the
    /// iterator knows its length, the index is sized once for one new identifier
    /// per link (16–32 bytes of table per link) instead of growing as it fills.
    /// Links are processed in chunks whose table slots and records are loaded together
    /// before use, so that their cache misses overlap instead of queueing.
    ///
    /// # Errors
    /// As [`BulkResolver::add_identifier`]; links before the failing one are kept.
    pub fn add_links<'a, I>(&mut self, links: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        const CHUNK: usize = 64;
        let mut it = links.into_iter();
        // Most link tables bring about one new identifier per link: size the table
        // once for that instead of doubling (and rehashing) as it fills.
        self.arena.reserve(it.size_hint().0);
        let mut chunk: Vec<(&str, &str)> = Vec::with_capacity(CHUNK);
        let mut tags = [0u32; 2 * CHUNK];
        let mut nodes = [0u32; 2 * CHUNK];
        loop {
            chunk.clear();
            chunk.extend(it.by_ref().take(CHUNK));
            if chunk.is_empty() {
                return Ok(());
            }
            // 1. Hash (sequential over the input).
            for (k, (a, b)) in chunk.iter().enumerate() {
                tags[2 * k] = self.arena.tag(a.as_bytes());
                tags[2 * k + 1] = self.arena.tag(b.as_bytes());
            }
            let n = 2 * chunk.len();
            // 2. Load every first-probe slot, then every record it points to: the
            //    loads are independent, so their misses overlap.
            let mask = self.arena.slots.len() - 1;
            let shift = self.arena.shift;
            let mut touch = 0u64;
            for &t in &tags[..n] {
                touch ^= self.arena.slots[(t >> shift) as usize & mask];
            }
            for &t in &tags[..n] {
                let e = self.arena.slots[(t >> shift) as usize & mask];
                if e != 0 {
                    touch ^= u64::from(self.arena.parent((e as u32).wrapping_sub(1)));
                }
            }
            // 3. Intern (now mostly cache hits).
            for (k, (a, b)) in chunk.iter().enumerate() {
                nodes[2 * k] = self.intern_tagged(a, tags[2 * k])?;
                nodes[2 * k + 1] = self.intern_tagged(b, tags[2 * k + 1])?;
            }
            // 4. Load every node's parent record, then union.
            for &x in &nodes[..n] {
                let p = self.arena.parent(x);
                if p & MARK == 0 {
                    touch ^= u64::from(self.arena.parent(p));
                }
            }
            std::hint::black_box(touch);
            for k in 0..chunk.len() {
                self.union(nodes[2 * k], nodes[2 * k + 1]);
            }
        }
    }

    #[inline]
    fn union(&mut self, x: u32, y: u32) {
        self.links += 1;
        if self.arena.parent(x) == BLOCKED || self.arena.parent(y) == BLOCKED {
            self.skipped += 1;
            return;
        }
        let (rx, ry) = (self.arena.root(x), self.arena.root(y));
        // Union by smaller node id (first appearance): deterministic, no rank array.
        match rx.cmp(&ry) {
            std::cmp::Ordering::Less => self.arena.set_parent(ry, rx),
            std::cmp::Ordering::Greater => self.arena.set_parent(rx, ry),
            std::cmp::Ordering::Equal => {}
        }
    }

    /// Links added so far.
    #[must_use]
    pub fn link_count(&self) -> u64 {
        self.links
    }

    /// Distinct identifiers so far (blocked ones included).
    #[must_use]
    pub fn identifier_count(&self) -> usize {
        self.arena.len
    }

    /// Bytes of heap currently reserved by the resolver.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes()
    }

    /// Labels every identifier with its component: labels are dense (`0..count`),
    /// numbered in order of each component's first identifier.
    #[must_use]
    pub fn finish(mut self) -> Components {
        let mut count: u32 = 0;
        let nodes: Vec<u32> = self.arena.nodes().collect();
        for &node in &nodes {
            if self.arena.parent(node) == BLOCKED {
                continue;
            }
            let r = self.arena.root(node);
            let f = self.arena.parent(r);
            let label = if f & MARK != 0 {
                f
            } else {
                let l = MARK | count;
                count += 1;
                self.arena.set_parent(r, l);
                l
            };
            if node != r {
                self.arena.set_parent(node, label);
            }
        }
        Components {
            arena: self.arena,
            nodes,
            count,
            links: self.links,
            skipped: self.skipped,
        }
    }
}

/// The result of bulk resolution: a component label per identifier.
#[derive(Debug, Clone)]
pub struct Components {
    arena: Arena,
    nodes: Vec<u32>,
    count: u32,
    links: u64,
    skipped: u64,
}

impl Components {
    fn label_of(&self, node: u32) -> Option<u32> {
        let f = self.arena.parent(node);
        (f != BLOCKED && f & MARK != 0).then_some(f & !MARK)
    }

    /// Number of distinct identifiers (blocked ones included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no identifiers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of components (profiles).
    #[must_use]
    pub fn component_count(&self) -> usize {
        self.count as usize
    }

    /// Links read, and links skipped because an end was blocked.
    #[must_use]
    pub fn link_counts(&self) -> (u64, u64) {
        (self.links, self.skipped)
    }

    /// The component of `identifier`; `None` when unknown or blocked.
    #[must_use]
    pub fn label(&self, identifier: &str) -> Option<u32> {
        self.arena
            .find(identifier.as_bytes())
            .and_then(|n| self.label_of(n))
    }

    /// Every identifier with its component (`None` for blocked ones), in order of
    /// first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u32>)> + '_ {
        self.nodes.iter().map(|&n| {
            let s = std::str::from_utf8(self.arena.text(n)).unwrap_or_default();
            (s, self.label_of(n))
        })
    }

    /// Bytes of heap reserved by the result.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes() + self.nodes.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_and_duplicates() -> Result<()> {
        let mut r = BulkResolver::new();
        r.add_link("a", "b")?;
        r.add_link("c", "d")?;
        r.add_link("b", "c")?;
        r.add_link("a", "b")?;
        r.add_link("e", "e")?;
        let c = r.finish();
        assert_eq!(c.len(), 5);
        assert_eq!(c.component_count(), 2);
        assert_eq!(c.label("a"), Some(0));
        assert_eq!(c.label("d"), Some(0));
        assert_eq!(c.label("e"), Some(1));
        assert_eq!(c.label("zz"), None);
        let all: Vec<_> = c.iter().collect();
        assert_eq!(all[4], ("e", Some(1)));
        Ok(())
    }
}
