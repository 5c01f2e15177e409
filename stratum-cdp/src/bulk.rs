//! Bulk resolution of large link tables: connected components over interned
//! string identifiers.
//!
//! A hash table over millions of identifiers is far larger than the CPU caches,
//! so interning one identifier at a time costs a cache miss per look-up and
//! another per string comparison. [`BulkResolver`] instead works in passes whose
//! random accesses stay inside small regions:
//!
//! 1. **Collect** ([`BulkResolver::add_link`]): each identifier is hashed once and
//!    appended as a record `[hash: u32][length: u16][bytes]` to one of `2^k`
//!    partitions chosen by the top bits of its hash (sequential writes; `k` comes
//!    from the expected size). Nothing is looked up yet.
//! 2. **Intern** ([`BulkResolver::finish`]): each partition is de-duplicated on
//!    its own through one small open-addressing table that is reused from
//!    partition to partition and stays in cache. Distinct records are compacted
//!    in place, so interning needs no memory for strings beyond what collecting
//!    took. Every distinct identifier gets a dense id (partition by partition),
//!    and every occurrence the id of its identifier. The blocklist is checked
//!    once per distinct identifier.
//! 3. **Link**: the occurrences are replayed in input order, with one read cursor
//!    per partition, and every link joins its two ids in a union-find over a
//!    dense `u32` parent array (union by smaller id, path halving; the parents of
//!    64 links, and their parents, are prefetched together). The replay also
//!    notes each identifier's first appearance.
//! 4. **Label**: identifiers are labelled in order of first appearance, so labels
//!    are dense and numbered by each component's first identifier.
//!
//! The partition found therefore does not depend on how ids were assigned, and
//! labels and the order of [`Components::iter`] depend only on the input order.
//! The look-up index behind [`Components::label`] is built on its first call;
//! `iter` needs only where each identifier's record is (8 bytes each, also built
//! on first use).
//!
//! Bulk mode is plain linking: every link joins its two identifiers unless one of
//! them is blocked (the [`IdentityConfig`] blocklist). Per-type limits need event
//! order and are the incremental [`crate::identity::IdentityGraph`]'s job.
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
use std::sync::OnceLock;

use prefetch_index::prefetch_index;

use crate::error::{Error, Result};
use crate::identity::IdentityConfig;

/// In a parent field: the field holds a final label.
const MARK: u32 = 0x8000_0000;
/// The parent field (and label) of a blocked identifier.
const BLOCKED: u32 = u32::MAX;
/// In an occurrence's interned id: this is the identifier's first occurrence.
const FIRST: u32 = 0x8000_0000;
const ID_MASK: u32 = 0x7FFF_FFFF;
/// Occurrences (two per link, one per single identifier) stay at or below this,
/// so that ids and labels (at most one per occurrence) stay below [`MARK`] and
/// no label reads as [`BLOCKED`].
const MAX_OCCURRENCES: usize = ID_MASK as usize - 1;
/// A partition's records stay below this, so their offsets fit in 32 bits.
const MAX_PART_BYTES: usize = u32::MAX as usize - 1;
/// A record: `[hash (collected) or number (linked): u32][length: u16][bytes]`.
const HEADER: usize = 6;
const SEED: u64 = 0x5354_5241_5455_4D43;
/// Partition counts (as powers of two), and the occurrences per partition aimed
/// for: a partition's table and records then stay in L2 cache, and the number of
/// partitions written at once stays within the TLB's reach.
const MIN_PART_BITS: u32 = 4;
const MAX_PART_BITS: u32 = 11;
const DEFAULT_PART_BITS: u32 = 8;
const OCCURRENCES_PER_PART: usize = 1 << 16;
/// Links measured before [`BulkResolver::add_links`] reserves for the rest.
const SAMPLE: usize = 1024;
/// Links whose parents are prefetched together.
const CHUNK: usize = 64;
/// Distance, in identifiers, of the parent prefetch while labelling.
const AHEAD: usize = 16;

fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(SEED)
}

/// Partition bits for about `occurrences` occurrences.
fn part_bits(occurrences: usize) -> u32 {
    (occurrences / OCCURRENCES_PER_PART)
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(MIN_PART_BITS, MAX_PART_BITS)
}

/// Table size for `n` records: at most three quarters full even if all differ.
fn table_len(n: usize) -> usize {
    (n + n / 3 + 1).next_power_of_two()
}

#[inline]
fn read_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[inline]
fn read_u16(b: &[u8], at: usize) -> usize {
    match b.get(at..at + 2) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        _ => 0,
    }
}

/// The text of the record at `at`.
#[inline]
fn record_text(b: &[u8], at: usize) -> &[u8] {
    let len = read_u16(b, at + 4);
    b.get(at + HEADER..at + HEADER + len).unwrap_or_default()
}

/// Root of `x`, halving the path; a marked field (a label) or a self-parent is
/// a root.
#[inline]
fn root(parent: &mut [u32], mut x: u32) -> u32 {
    loop {
        let p = parent[x as usize];
        if p == x || p & MARK != 0 {
            return x;
        }
        let gp = parent[p as usize];
        if gp == p || gp & MARK != 0 {
            return p;
        }
        parent[x as usize] = gp;
        x = gp;
    }
}

/// Builds connected components from links between string identifiers.
#[derive(Debug, Clone)]
pub struct BulkResolver {
    /// log2 of the partition count; chosen at the first identifier.
    bits: Option<u32>,
    /// Occurrences expected (a sizing hint).
    hint: usize,
    /// Bytes of text expected (a sizing hint).
    bytes_hint: usize,
    /// Whether the partitions were reserved ahead.
    reserved: bool,
    /// Collected records, per partition.
    parts: Vec<Vec<u8>>,
    /// Partition key (top 16 bits of the hash) of every occurrence, in input order.
    keys: Vec<u16>,
    /// Occurrences that are single identifiers rather than a link's end (ascending).
    singles: Vec<usize>,
    blocklist: Option<IdentityConfig>,
    links: u64,
    hasher: foldhash::fast::FixedState,
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

    /// An empty resolver expecting about `identifiers` identifiers (one per link is
    /// the usual order of magnitude) totalling `bytes` bytes of text, repeats
    /// included. Both are hints: the first chooses how finely the work is
    /// partitioned, the second reserves room for collecting; anything more still
    /// fits.
    #[must_use]
    pub fn with_capacity(identifiers: usize, bytes: usize) -> Self {
        BulkResolver {
            bits: None,
            hint: identifiers.saturating_mul(2),
            bytes_hint: bytes,
            reserved: false,
            parts: Vec::new(),
            keys: Vec::new(),
            singles: Vec::new(),
            blocklist: None,
            links: 0,
            hasher: hasher(),
        }
    }

    /// Never links values blocked by `config` (its blocked values and patterns).
    #[must_use]
    pub fn with_blocklist(mut self, config: IdentityConfig) -> Self {
        self.blocklist = Some(config);
        self
    }

    /// The partition bits, chosen (and the partitions made) on first use.
    fn bits(&mut self) -> u32 {
        if let Some(b) = self.bits {
            return b;
        }
        let b = if self.hint == 0 {
            DEFAULT_PART_BITS
        } else {
            part_bits(self.hint)
        };
        self.bits = Some(b);
        self.parts = vec![Vec::new(); 1 << b];
        // Hints only: a reservation that cannot be had is skipped.
        let _ = self.keys.try_reserve(self.hint.min(MAX_OCCURRENCES));
        // Reserving is cheap (pages are only touched when written), and spares
        // the partitions' reallocations.
        if self.bytes_hint > 0 {
            self.reserved = true;
            self.reserve_parts(
                self.bytes_hint
                    .saturating_add(self.hint.saturating_mul(HEADER)),
            );
        }
        b
    }

    /// The hash and partition of `s`.
    #[inline]
    fn locate(&self, s: &str, bits: u32) -> (u64, usize) {
        let h = self.hasher.hash_one(s.as_bytes());
        (h, usize::from((h >> 48) as u16 >> (16 - bits)))
    }

    fn too_long(s: &str) -> Result<()> {
        if s.len() > usize::from(u16::MAX) {
            return Err(Error::Capacity {
                message: format!("an identifier of {} bytes; the limit is 65535", s.len()),
            });
        }
        Ok(())
    }

    /// Checks that `more` occurrences fit, the largest of `len` bytes landing in
    /// partitions `ps`.
    fn check(&self, more: usize, len: usize, ps: [usize; 2]) -> Result<()> {
        if self.keys.len() + more > MAX_OCCURRENCES {
            return Err(Error::Capacity {
                message: format!("more than {MAX_OCCURRENCES} identifier occurrences"),
            });
        }
        for p in ps {
            let used = self.parts.get(p).map_or(0, Vec::len);
            if used + more * (HEADER + len) > MAX_PART_BYTES {
                return Err(Error::Capacity {
                    message: "more than 4 GiB of identifiers in one partition".to_owned(),
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn push(&mut self, s: &str, h: u64, p: usize) {
        if let Some(buf) = self.parts.get_mut(p) {
            buf.extend_from_slice(&(h as u32).to_le_bytes());
            // The length was checked by `too_long`.
            buf.extend_from_slice(&(s.len() as u16).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
            self.keys.push((h >> 48) as u16);
        }
    }

    /// Adds one identifier (a component of its own until linked).
    ///
    /// # Errors
    /// [`Error::Capacity`] for an identifier over 65,535 bytes, past 2^31 − 2
    /// identifier occurrences (two per link) or past 4 GiB of identifiers in one
    /// partition (of at least 16); nothing is added then.
    pub fn add_identifier(&mut self, a: &str) -> Result<()> {
        Self::too_long(a)?;
        let bits = self.bits();
        let (h, p) = self.locate(a, bits);
        self.check(1, a.len(), [p, p])?;
        self.singles.push(self.keys.len());
        self.push(a, h, p);
        Ok(())
    }

    /// Links `a` and `b` (both are added if new). A link with a blocked end adds the
    /// other end alone.
    ///
    /// # Errors
    /// As [`BulkResolver::add_identifier`].
    #[inline]
    pub fn add_link(&mut self, a: &str, b: &str) -> Result<()> {
        Self::too_long(a)?;
        Self::too_long(b)?;
        let bits = self.bits();
        let (ha, pa) = self.locate(a, bits);
        let (hb, pb) = self.locate(b, bits);
        self.check(2, a.len().max(b.len()), [pa, pb])?;
        self.push(a, ha, pa);
        self.push(b, hb, pb);
        self.links += 1;
        Ok(())
    }

    /// Links every pair of `links`, in order: the same result as calling
    /// [`BulkResolver::add_link`] for each. When nothing has been added yet, the
    /// iterator's length (if it knows it) sizes the partitioning; and the
    /// partitions are reserved once for the links expected (from the iterator or
    /// the capacity hint), measured on the first thousand.
    ///
    /// # Errors
    /// As [`BulkResolver::add_identifier`]; links before the failing one are kept.
    pub fn add_links<'a, I>(&mut self, links: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let it = links.into_iter();
        let n = it.size_hint().0;
        if self.bits.is_none() {
            self.hint = self.hint.max(n.saturating_mul(2));
        }
        self.bits();
        let _ = self
            .keys
            .try_reserve(n.saturating_mul(2).min(MAX_OCCURRENCES - self.keys.len()));
        let mut it = it.peekable();
        // Occurrences still expected, from this iterator or the capacity hint.
        let expected = n
            .saturating_mul(2)
            .max(self.hint.saturating_sub(self.keys.len()));
        if !self.reserved && expected >= 4 * SAMPLE {
            // Measure the first links' size, then reserve the partitions for the
            // rest (reserved pages cost nothing until written).
            self.reserved = true;
            let before = (self.keys.len(), self.collected());
            for (a, b) in it.by_ref().take(SAMPLE) {
                self.add_link(a, b)?;
            }
            let occurrences = self.keys.len() - before.0;
            if occurrences > 0 {
                let per = (self.collected() - before.1).div_ceil(occurrences);
                self.reserve_parts(per.saturating_mul(expected.saturating_sub(occurrences)));
            }
        }
        for (a, b) in it {
            self.add_link(a, b)?;
        }
        Ok(())
    }

    /// Bytes collected so far.
    fn collected(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    /// Reserves about `bytes` more across the partitions (an eighth more, for the
    /// spread between partitions).
    fn reserve_parts(&mut self, bytes: usize) {
        let bits = self.bits();
        let each = ((bytes >> bits) + (bytes >> (bits + 3))).min(MAX_PART_BYTES);
        for buf in &mut self.parts {
            // A hint: if the memory cannot be had, the partitions grow as needed.
            if buf.try_reserve(each).is_err() {
                break;
            }
        }
    }

    /// Links added so far.
    #[must_use]
    pub fn link_count(&self) -> u64 {
        self.links
    }

    /// Identifier occurrences added so far (two per link, one per single
    /// identifier); [`Components::len`] counts the distinct ones.
    #[must_use]
    pub fn occurrence_count(&self) -> usize {
        self.keys.len()
    }

    /// Bytes of heap currently reserved by the resolver.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.parts.iter().map(Vec::capacity).sum::<usize>()
            + self.parts.capacity() * std::mem::size_of::<Vec<u8>>()
            + self.keys.capacity() * 2
            + self.singles.capacity() * std::mem::size_of::<usize>()
    }

    /// Resolves everything added: every identifier gets its component's label.
    /// Labels are dense (`0..count`), numbered in order of each component's
    /// first identifier.
    #[must_use]
    pub fn finish(mut self) -> Components {
        let Some(bits) = self.bits else {
            return Components::empty(self.links);
        };
        let Interned {
            ids,
            starts,
            mut parent,
        } = self.intern();
        let (firsts, skipped) = replay(
            &self.keys,
            &self.singles,
            &ids,
            starts,
            16 - bits,
            &mut parent,
        );
        drop(ids);
        self.keys = Vec::new();
        self.singles = Vec::new();
        let count = label(&firsts, &mut parent);
        Components {
            parts: self.parts,
            firsts,
            labels: parent,
            bits,
            count,
            links: self.links,
            skipped,
            hasher: self.hasher,
            locations: OnceLock::new(),
            index: OnceLock::new(),
        }
    }

    /// Pass 2: de-duplicates each partition, compacting its distinct records in
    /// place. Ids are dense and partition-major, in the order of the records.
    fn intern(&mut self) -> Interned {
        let mut ids: Vec<u32> = Vec::with_capacity(self.keys.len());
        let mut starts = Vec::with_capacity(self.parts.len());
        let mut parent: Vec<u32> = Vec::new();
        let mut counts = vec![0usize; self.parts.len()];
        let shift = 16 - self.bits.unwrap_or(DEFAULT_PART_BITS);
        for &k in &self.keys {
            if let Some(c) = counts.get_mut(usize::from(k >> shift)) {
                *c += 1;
            }
        }
        let largest = counts.iter().copied().max().unwrap_or(0);
        // One table, reused by every partition: `id << 32 | (offset + 1)`.
        let mut table: Vec<u64> = vec![0; table_len(largest)];
        let mut scratch = String::new();
        for (buf, &n) in self.parts.iter_mut().zip(&counts) {
            starts.push(ids.len());
            if n == 0 {
                continue;
            }
            let table = table.get_mut(..table_len(n)).unwrap_or_default();
            table.fill(0);
            let mask = table.len() - 1;
            let (mut r, mut w) = (0usize, 0usize);
            while r + HEADER <= buf.len() {
                let h32 = read_u32(buf, r);
                let end = r + HEADER + read_u16(buf, r + 4);
                let mut i = h32 as usize & mask;
                let found = loop {
                    let e = table[i];
                    if e == 0 {
                        break None;
                    }
                    // Same hash, length and bytes: one comparison of whole
                    // records (an earlier record lies wholly before `r`).
                    let at = (e as u32).wrapping_sub(1) as usize;
                    if buf.get(at..at + (end - r)) == buf.get(r..end) {
                        break Some((e >> 32) as u32);
                    }
                    i = (i + 1) & mask;
                };
                match found {
                    Some(id) => ids.push(id),
                    None => {
                        let id = parent.len() as u32;
                        if w != r {
                            buf.copy_within(r..end, w);
                        }
                        table[i] = (u64::from(id) << 32) | (w as u64 + 1);
                        let blocked = self.blocklist.as_ref().is_some_and(|c| {
                            std::str::from_utf8(record_text(buf, w))
                                .is_ok_and(|s| c.blocked_str(s, &mut scratch))
                        });
                        parent.push(if blocked { BLOCKED } else { id });
                        ids.push(id | FIRST);
                        w += end - r;
                    }
                }
                r = end;
            }
            // Give back what the repeats took (the tail was written, so it is
            // resident).
            buf.truncate(w);
            buf.shrink_to_fit();
        }
        Interned {
            ids,
            starts,
            parent,
        }
    }
}

/// What interning produces.
struct Interned {
    /// Every occurrence's id in partition order, flagged [`FIRST`] on the
    /// identifier's first occurrence.
    ids: Vec<u32>,
    /// Where each partition's occurrences start in `ids`.
    starts: Vec<usize>,
    /// Union-find parent per id: itself, or [`BLOCKED`].
    parent: Vec<u32>,
}

/// Pass 3: replays every occurrence in input order (one cursor per partition
/// into `ids`) and joins every link's ends. Returns the ids in order of first
/// appearance and the links skipped because an end is blocked.
fn replay(
    keys: &[u16],
    singles: &[usize],
    ids: &[u32],
    mut next: Vec<usize>,
    shift: u32,
    parent: &mut [u32],
) -> (Vec<u32>, u64) {
    let mut firsts: Vec<u32> = Vec::with_capacity(parent.len());
    let mut occurrence = |key: u16| -> u32 {
        let Some(at) = next.get_mut(usize::from(key >> shift)) else {
            return 0;
        };
        let v = ids.get(*at).copied().unwrap_or(0);
        // Each partition's ids are read in order, but too many streams are read
        // at once for the hardware prefetcher: ask for the next line ahead.
        prefetch_index(ids, *at + 16);
        *at += 1;
        if v & FIRST != 0 {
            firsts.push(v & ID_MASK);
        }
        v & ID_MASK
    };
    let mut skipped = 0u64;
    let mut single = singles.iter().copied().peekable();
    let mut pairs = [(0u32, 0u32); CHUNK];
    let total = keys.len();
    let mut o = 0;
    while o < total {
        let mut k = 0;
        while k < CHUNK && o < total {
            if single.next_if_eq(&o).is_some() {
                occurrence(keys[o]);
                o += 1;
                continue;
            }
            let a = occurrence(keys[o]);
            let b = occurrence(keys.get(o + 1).copied().unwrap_or(0));
            prefetch_index(&*parent, a as usize);
            prefetch_index(&*parent, b as usize);
            pairs[k] = (a, b);
            k += 1;
            o += 2;
        }
        // The ends' parents were requested above; request their parents too.
        for &(a, b) in &pairs[..k] {
            for x in [a, b] {
                let p = parent[x as usize];
                if p != x && p & MARK == 0 {
                    prefetch_index(&*parent, p as usize);
                }
            }
        }
        for &(a, b) in &pairs[..k] {
            if parent[a as usize] == BLOCKED || parent[b as usize] == BLOCKED {
                skipped += 1;
                continue;
            }
            let (ra, rb) = (root(parent, a), root(parent, b));
            // Union by smaller id: deterministic, no rank array.
            match ra.cmp(&rb) {
                std::cmp::Ordering::Less => parent[rb as usize] = ra,
                std::cmp::Ordering::Greater => parent[ra as usize] = rb,
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    (firsts, skipped)
}

/// Pass 4: replaces the parent of every identifier by its component's label
/// (`MARK | label`), numbering components in order of first appearance
/// (`firsts`); returns their count.
fn label(firsts: &[u32], parent: &mut [u32]) -> u32 {
    let mut count: u32 = 0;
    for (i, &x) in firsts.iter().enumerate() {
        if let Some(&ahead) = firsts.get(i + AHEAD) {
            prefetch_index(&*parent, ahead as usize);
        }
        let f = parent[x as usize];
        if f == BLOCKED || f & MARK != 0 {
            continue;
        }
        let r = root(parent, x);
        let l = parent[r as usize];
        let l = if l & MARK != 0 {
            l
        } else {
            let l = MARK | count;
            count += 1;
            parent[r as usize] = l;
            l
        };
        parent[x as usize] = l;
    }
    count
}

/// The look-up index of [`Components::label`]: per partition, an open-addressing
/// table of `id + 1`.
#[derive(Debug, Clone, Default)]
struct Index {
    slots: Vec<u32>,
    /// Each partition's table: start and length (a power of two; 0 if empty).
    tables: Vec<(usize, usize)>,
}

/// The result of bulk resolution: a component label per identifier.
#[derive(Debug, Clone)]
pub struct Components {
    /// Records `[hash][length][bytes]`, per partition, in id order.
    parts: Vec<Vec<u8>>,
    /// Ids in order of first appearance.
    firsts: Vec<u32>,
    /// `MARK | label` (or [`BLOCKED`]) per id.
    labels: Vec<u32>,
    bits: u32,
    count: u32,
    links: u64,
    skipped: u64,
    hasher: foldhash::fast::FixedState,
    /// Each id's record: `partition << 32 | offset` (built on first use).
    locations: OnceLock<Vec<u64>>,
    index: OnceLock<Index>,
}

impl Components {
    fn empty(links: u64) -> Self {
        Components {
            parts: Vec::new(),
            firsts: Vec::new(),
            labels: Vec::new(),
            bits: DEFAULT_PART_BITS,
            count: 0,
            links,
            skipped: 0,
            hasher: hasher(),
            locations: OnceLock::new(),
            index: OnceLock::new(),
        }
    }

    /// Ids are dense and partition-major, in record order: one walk over the
    /// partitions finds every id's record.
    fn locations(&self) -> &[u64] {
        self.locations.get_or_init(|| {
            let mut locations = Vec::with_capacity(self.labels.len());
            for (p, buf) in self.parts.iter().enumerate() {
                let mut at = 0;
                while at + HEADER <= buf.len() {
                    locations.push(((p as u64) << 32) | at as u64);
                    at += HEADER + read_u16(buf, at + 4);
                }
            }
            locations
        })
    }

    /// The text of identifier `id`.
    fn text(&self, locations: &[u64], id: u32) -> &[u8] {
        let Some(&loc) = locations.get(id as usize) else {
            return &[];
        };
        self.parts
            .get((loc >> 32) as usize)
            .map_or(&[], |buf| record_text(buf, (loc as u32) as usize))
    }

    fn label_of(&self, id: u32) -> Option<u32> {
        let f = *self.labels.get(id as usize)?;
        (f != BLOCKED && f & MARK != 0).then_some(f & !MARK)
    }

    fn build_index(&self) -> Index {
        let mut index = Index::default();
        let mut id = 0u32;
        for buf in &self.parts {
            let mut n = 0usize;
            let mut at = 0;
            while at + HEADER <= buf.len() {
                at += HEADER + read_u16(buf, at + 4);
                n += 1;
            }
            let len = if n == 0 {
                0
            } else {
                (2 * n).next_power_of_two()
            };
            let start = index.slots.len();
            index.slots.resize(start + len, 0);
            index.tables.push((start, len));
            let Some(table) = index.slots.get_mut(start..) else {
                continue;
            };
            let mask = len.wrapping_sub(1);
            let mut at = 0;
            while at + HEADER <= buf.len() {
                let mut i = read_u32(buf, at) as usize & mask;
                while table[i] != 0 {
                    i = (i + 1) & mask;
                }
                id += 1;
                table[i] = id;
                at += HEADER + read_u16(buf, at + 4);
            }
        }
        index
    }

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

    /// The component of `identifier`; `None` when unknown or blocked. The first
    /// call builds the look-up index (8–16 bytes per identifier).
    #[must_use]
    pub fn label(&self, identifier: &str) -> Option<u32> {
        let locations = self.locations();
        let index = self.index.get_or_init(|| self.build_index());
        let s = identifier.as_bytes();
        let h = self.hasher.hash_one(s);
        let p = usize::from((h >> 48) as u16 >> (16 - self.bits));
        let &(start, len) = index.tables.get(p)?;
        let table = index.slots.get(start..start + len)?;
        let mask = len.wrapping_sub(1);
        let mut i = h as u32 as usize & mask;
        for _ in 0..len {
            let e = table[i];
            if e == 0 {
                return None;
            }
            if self.text(locations, e - 1) == s {
                return self.label_of(e - 1);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Every identifier with its component (`None` for blocked ones), in order of
    /// first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u32>)> + '_ {
        let locations = self.locations();
        self.firsts.iter().map(move |&id| {
            (
                std::str::from_utf8(self.text(locations, id)).unwrap_or_default(),
                self.label_of(id),
            )
        })
    }

    /// The smallest identifier (byte order) of each component, indexed by label:
    /// a label that does not depend on the order links came in, so that results
    /// computed apart (one per partition of a cluster) can be merged.
    #[must_use]
    pub fn smallest(&self) -> Vec<&str> {
        let mut out: Vec<Option<&str>> = vec![None; self.component_count()];
        for (id, label) in self.iter() {
            let slot = label.and_then(|l| out.get_mut(usize::try_from(l).ok()?));
            if let Some(s) = slot {
                *s = Some(s.map_or(id, |s| s.min(id)));
            }
        }
        out.into_iter().map(Option::unwrap_or_default).collect()
    }

    /// Bytes of heap reserved by the result (look-up structures included once
    /// built).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.parts.iter().map(Vec::capacity).sum::<usize>()
            + self.parts.capacity() * std::mem::size_of::<Vec<u8>>()
            + (self.firsts.capacity() + self.labels.capacity()) * 4
            + self.locations.get().map_or(0, |o| o.capacity() * 8)
            + self.index.get().map_or(0, |i| {
                i.slots.capacity() * 4 + i.tables.capacity() * std::mem::size_of::<(usize, usize)>()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_member_labels_each_component() -> Result<()> {
        let mut r = BulkResolver::new().with_blocklist(IdentityConfig::default());
        r.add_link("m", "c")?;
        r.add_link("z", "m")?;
        r.add_link("b", "undefined")?;
        r.add_link("y", "x")?;
        let c = r.finish();
        let smallest = c.smallest();
        let root = |id: &str| c.label(id).map(|l| smallest[l as usize]);
        assert_eq!(root("z"), Some("c"));
        assert_eq!(root("m"), Some("c"));
        assert_eq!(root("b"), Some("b"));
        assert_eq!(root("y"), Some("x"));
        assert_eq!(root("undefined"), None);
        Ok(())
    }

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

    #[test]
    fn singles_between_links() -> Result<()> {
        let mut r = BulkResolver::with_capacity(2, 0);
        r.add_identifier("x")?;
        r.add_link("a", "b")?;
        r.add_identifier("a")?;
        r.add_identifier("y")?;
        r.add_link("y", "b")?;
        let c = r.finish();
        let all: Vec<_> = c.iter().collect();
        assert_eq!(
            all,
            [
                ("x", Some(0)),
                ("a", Some(1)),
                ("b", Some(1)),
                ("y", Some(1))
            ]
        );
        assert_eq!(c.link_counts(), (2, 0));
        Ok(())
    }

    #[test]
    fn empty() {
        let c = BulkResolver::new().finish();
        assert!(c.is_empty());
        assert_eq!(c.label("a"), None);
        assert_eq!(c.iter().count(), 0);
    }

    #[test]
    fn empty_identifier_and_partitions_past_one_table() -> Result<()> {
        // More records than the smallest table, in few partitions.
        let mut r = BulkResolver::with_capacity(1, 0);
        for i in 0..5_000 {
            r.add_link(&format!("v{i}"), &format!("u{}", i % 100))?;
        }
        r.add_link("", "u0")?;
        let c = r.finish();
        assert_eq!(c.len(), 5_101);
        assert_eq!(c.component_count(), 100);
        assert_eq!(c.label(""), c.label("v0"));
        assert_eq!(c.label("v4999"), c.label("u99"));
        Ok(())
    }
}
