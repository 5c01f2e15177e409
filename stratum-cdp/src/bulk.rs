//! Bulk resolution of large link tables: connected components over interned
//! string identifiers.
//!
//! [`BulkResolver`] interns every identifier once into a single byte arena
//! (4 bytes of offset per identifier), indexes it with an open-addressing table
//! holding `(id, hash)` pairs (so growing never re-reads the strings), and joins
//! identifiers with a union-find (union by rank, path halving). Memory per
//! identifier is its length plus about 25–40 bytes; a link costs two table
//! look-ups and one union.
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

use hashbrown::HashTable;

use crate::error::{Error, Result};
use crate::identity::IdentityConfig;

const BLOCKED: u32 = u32::MAX;
const MAX_IDS: usize = (u32::MAX - 1) as usize;
const SEED: u64 = 0x5354_5241_5455_4D43;

#[derive(Debug, Clone)]
struct Interner {
    arena: Vec<u8>,
    /// End offset of identifier `i` in `arena` (its start is the previous end).
    ends: Vec<u32>,
    /// `(id, 32-bit hash)`; the table's 64-bit hash is derived from the stored one.
    table: HashTable<(u32, u32)>,
    hasher: foldhash::fast::FixedState,
}

fn widen(h: u32) -> u64 {
    // Spread the stored 32 bits over 64: hashbrown uses the low bits for the bucket
    // and the top 7 bits as a tag.
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(h)
}

impl Interner {
    fn with_capacity(ids: usize, bytes: usize) -> Self {
        Interner {
            arena: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(ids),
            table: HashTable::with_capacity(ids),
            hasher: foldhash::fast::FixedState::with_seed(SEED),
        }
    }

    fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0) as usize
        };
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        self.arena.get(start..end).unwrap_or_default()
    }

    fn hash(&self, s: &[u8]) -> u32 {
        let h = self.hasher.hash_one(s);
        (h ^ (h >> 32)) as u32
    }

    fn find(&self, s: &[u8]) -> Option<u32> {
        let h = self.hash(s);
        self.table
            .find(widen(h), |&(id, hh)| hh == h && self.get(id) == s)
            .map(|&(id, _)| id)
    }

    /// Returns the id and whether it is new.
    fn intern(&mut self, s: &[u8]) -> Result<(u32, bool)> {
        let h = self.hash(s);
        let Interner {
            arena, ends, table, ..
        } = self;
        let get = |id: u32| -> &[u8] {
            let i = id as usize;
            let start = if i == 0 {
                0
            } else {
                ends.get(i - 1).copied().unwrap_or(0) as usize
            };
            let end = ends.get(i).copied().unwrap_or(0) as usize;
            arena.get(start..end).unwrap_or_default()
        };
        if let Some(&(id, _)) = table.find(widen(h), |&(id, hh)| hh == h && get(id) == s) {
            return Ok((id, false));
        }
        if ends.len() >= MAX_IDS {
            return Err(Error::Capacity {
                message: format!("more than {MAX_IDS} distinct identifiers"),
            });
        }
        let end = arena.len() + s.len();
        let end = u32::try_from(end).map_err(|_| Error::Capacity {
            message: "more than 4 GiB of identifier text".into(),
        })?;
        let id = ends.len() as u32;
        arena.extend_from_slice(s);
        ends.push(end);
        table.insert_unique(widen(h), (id, h), |&(_, hh)| widen(hh));
        Ok((id, true))
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.ends.capacity() * 4
            + self.table.capacity() * (std::mem::size_of::<(u32, u32)>() + 1)
    }
}

/// Builds connected components from links between string identifiers.
#[derive(Debug, Clone)]
pub struct BulkResolver {
    ids: Interner,
    parent: Vec<u32>,
    rank: Vec<u8>,
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
    /// `bytes` bytes (a hint; it grows as needed).
    #[must_use]
    pub fn with_capacity(identifiers: usize, bytes: usize) -> Self {
        BulkResolver {
            ids: Interner::with_capacity(identifiers, bytes),
            parent: Vec::with_capacity(identifiers),
            rank: Vec::with_capacity(identifiers),
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

    fn intern(&mut self, s: &str) -> Result<u32> {
        let (id, new) = self.ids.intern(s.as_bytes())?;
        if new {
            let blocked = match &self.blocklist {
                Some(c) => c.blocked_str(s, &mut self.scratch),
                None => false,
            };
            self.parent.push(if blocked { BLOCKED } else { id });
            self.rank.push(0);
        }
        Ok(id)
    }

    fn find(&mut self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize];
            if p == x {
                return x;
            }
            let gp = self.parent[p as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
    }

    /// Adds one identifier (a component of its own until linked).
    ///
    /// # Errors
    /// [`Error::Capacity`] past `u32::MAX - 1` identifiers or 4 GiB of text.
    pub fn add_identifier(&mut self, a: &str) -> Result<()> {
        self.intern(a).map(|_| ())
    }

    /// Links `a` and `b` (both are added if new). A link with a blocked end adds the
    /// other end alone.
    ///
    /// # Errors
    /// [`Error::Capacity`] past `u32::MAX - 1` identifiers or 4 GiB of text.
    pub fn add_link(&mut self, a: &str, b: &str) -> Result<()> {
        self.links += 1;
        let x = self.intern(a)?;
        let y = self.intern(b)?;
        if self.parent[x as usize] == BLOCKED || self.parent[y as usize] == BLOCKED {
            self.skipped += 1;
            return Ok(());
        }
        let (rx, ry) = (self.find(x), self.find(y));
        if rx == ry {
            return Ok(());
        }
        let (kx, ky) = (self.rank[rx as usize], self.rank[ry as usize]);
        if kx < ky {
            self.parent[rx as usize] = ry;
        } else {
            self.parent[ry as usize] = rx;
            if kx == ky {
                self.rank[rx as usize] = kx.saturating_add(1);
            }
        }
        Ok(())
    }

    /// Links added so far.
    #[must_use]
    pub fn link_count(&self) -> u64 {
        self.links
    }

    /// Distinct identifiers so far (blocked ones included).
    #[must_use]
    pub fn identifier_count(&self) -> usize {
        self.ids.len()
    }

    /// Bytes of heap currently reserved by the resolver.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes() + self.parent.capacity() * 4 + self.rank.capacity()
    }

    /// Labels every identifier with its component: labels are dense (`0..count`),
    /// numbered in order of each component's first identifier.
    #[must_use]
    pub fn finish(mut self) -> Components {
        let n = self.parent.len();
        self.rank = Vec::new();
        let mut labels = vec![BLOCKED; n];
        let mut count: u32 = 0;
        for i in 0..n as u32 {
            if self.parent[i as usize] == BLOCKED {
                continue;
            }
            let r = self.find(i);
            let l = &mut labels[r as usize];
            if *l == BLOCKED {
                *l = count;
                count += 1;
            }
            let l = *l;
            labels[i as usize] = l;
        }
        Components {
            ids: self.ids,
            labels,
            count,
            links: self.links,
            skipped: self.skipped,
        }
    }
}

/// The result of bulk resolution: a component label per identifier.
#[derive(Debug, Clone)]
pub struct Components {
    ids: Interner,
    labels: Vec<u32>,
    count: u32,
    links: u64,
    skipped: u64,
}

impl Components {
    /// Number of distinct identifiers (blocked ones included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no identifiers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
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
        let id = self.ids.find(identifier.as_bytes())?;
        self.labels.get(id as usize).copied().filter(|&l| l != BLOCKED)
    }

    /// Every identifier with its component (`None` for blocked ones), in order of
    /// first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u32>)> + '_ {
        self.labels.iter().enumerate().map(|(i, &l)| {
            let s = std::str::from_utf8(self.ids.get(i as u32)).unwrap_or_default();
            (s, (l != BLOCKED).then_some(l))
        })
    }

    /// Bytes of heap reserved by the result.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes() + self.labels.capacity() * 4
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
