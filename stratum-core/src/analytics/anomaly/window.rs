//! Order statistics over a changing subset of a series: medians, MADs and
//! robust σ of sliding windows (and of the shrinking set ESD works on) in
//! O(log n) per change and per query, with the exact values a sort would give.
//!
//! Every point of the series gets a slot in the order `(value by total_cmp,
//! index)`; a Fenwick tree counts (and sums) the slots present. The k-th smallest
//! value is a tree descent; the median of absolute deviations is the median of two
//! sorted sequences (the values below the median read downwards, the others
//! upwards), found by binary search.

/// Robust σ factor of the MAD (normal consistency).
const MAD_SIGMA: f64 = 1.4826;
/// Factor of the mean absolute deviation used when the MAD is 0.
const MEAN_AD_SIGMA: f64 = 1.2533;

/// Windows up to this many points are kept as a sorted vector (a binary search
/// and a short move per change, O(1) order statistics); larger ones in a tree.
const SORTED_MAX: usize = 1024;

/// A subset of the points of one series, with order statistics.
#[derive(Debug, Clone)]
pub(super) struct OrderWindow<'a> {
    x: &'a [f64],
    set: Set,
}

#[derive(Debug, Clone)]
enum Set {
    /// `(value, index)` sorted by value (`total_cmp`), then index.
    Sorted(Vec<(f64, usize)>),
    Tree(Box<Tree>),
}

/// Every point of the series in a Fenwick tree over its value order.
#[derive(Debug, Clone)]
struct Tree {
    /// Values in slot order.
    sorted: Vec<f64>,
    /// Original index of each slot.
    index_of: Vec<usize>,
    /// Slot of each original index.
    slot: Vec<usize>,
    /// Fenwick tree of counts per slot.
    count: Vec<u32>,
    /// Fenwick tree of `value - pivot` per slot present.
    sum: Vec<f64>,
    /// Subtracted from values before summing (limits cancellation).
    pivot: f64,
    /// Largest power of two not above the slot count.
    top: usize,
    len: usize,
}

impl<'a> OrderWindow<'a> {
    /// An empty window over the points of `x` that will hold at most `capacity`
    /// points at a time.
    pub(super) fn new(x: &'a [f64], capacity: usize) -> Self {
        let set = if capacity <= SORTED_MAX {
            Set::Sorted(Vec::with_capacity(capacity))
        } else {
            Set::Tree(Box::new(Tree::new(x)))
        };
        OrderWindow { x, set }
    }

    /// Number of points present.
    pub(super) fn len(&self) -> usize {
        match &self.set {
            Set::Sorted(v) => v.len(),
            Set::Tree(t) => t.len,
        }
    }

    fn key_pos(v: &[(f64, usize)], value: f64, i: usize) -> usize {
        v.partition_point(|&(w, j)| w.total_cmp(&value).then(j.cmp(&i)).is_lt())
    }

    /// Adds point `i` (which must be absent).
    pub(super) fn insert(&mut self, i: usize) {
        let value = self.x.get(i).copied().unwrap_or(0.0);
        match &mut self.set {
            Set::Sorted(v) => {
                let p = Self::key_pos(v, value, i);
                v.insert(p, (value, i));
            }
            Set::Tree(t) => t.update(i, true),
        }
    }

    /// Removes point `i` (which must be present).
    pub(super) fn remove(&mut self, i: usize) {
        let value = self.x.get(i).copied().unwrap_or(0.0);
        match &mut self.set {
            Set::Sorted(v) => {
                let p = Self::key_pos(v, value, i);
                if v.get(p).is_some_and(|e| e.1 == i) {
                    v.remove(p);
                }
            }
            Set::Tree(t) => t.update(i, false),
        }
    }

    /// The k-th smallest value present (0-based).
    pub(super) fn kth(&self, k: usize) -> f64 {
        match &self.set {
            Set::Sorted(v) => v.get(k).map_or(0.0, |e| e.0),
            Set::Tree(t) => t.kth(k),
        }
    }

    /// The original index of the k-th smallest point present (ties: by index).
    pub(super) fn kth_index(&self, k: usize) -> usize {
        match &self.set {
            Set::Sorted(v) => v.get(k).map_or(0, |e| e.1),
            Set::Tree(t) => t.kth_index(k),
        }
    }

    /// Points present with a value below `v` (by `total_cmp`).
    pub(super) fn count_below(&self, v: f64) -> usize {
        match &self.set {
            Set::Sorted(s) => s.partition_point(|e| e.0.total_cmp(&v).is_lt()),
            Set::Tree(t) => t.count_below(v),
        }
    }

    /// Points present with a value at most `v` (by `total_cmp`).
    pub(super) fn count_at_most(&self, v: f64) -> usize {
        match &self.set {
            Set::Sorted(s) => s.partition_point(|e| e.0.total_cmp(&v).is_le()),
            Set::Tree(t) => t.count_at_most(v),
        }
    }

    /// The sum of `|x - m|` over the values present (rounding may differ from a
    /// left-to-right sum in the last bits).
    fn abs_dev_sum(&self, m: f64) -> f64 {
        match &self.set {
            Set::Sorted(v) => v.iter().map(|e| (e.0 - m).abs()).sum(),
            Set::Tree(t) => t.abs_dev_sum(m),
        }
    }

    /// The median of the values present (the mean of the middle two for an even
    /// count); 0 when empty. Equal to sorting them.
    pub(super) fn median(&self) -> f64 {
        let n = self.len();
        if n == 0 {
            return 0.0;
        }
        let hi = self.kth(n / 2);
        if n % 2 == 1 {
            hi
        } else {
            (self.kth(n / 2 - 1) + hi) / 2.0
        }
    }

    /// The k-th smallest of the absolute deviations `|x - m|` of the values
    /// present, `below` of which are smaller than `m`.
    fn kth_deviation(&self, m: f64, below: usize, k: usize) -> f64 {
        let above = self.len() - below;
        // Left: deviations of the values below m, nearest first; right: the others.
        let left = |j: usize| (self.kth(below - 1 - j) - m).abs();
        let right = |j: usize| (self.kth(below + j) - m).abs();
        // Take `t` from the left among the k + 1 smallest.
        let want = k + 1;
        let (mut lo, mut hi) = (want.saturating_sub(above), want.min(below));
        while lo < hi {
            let t = (lo + hi) / 2;
            let r = want - t;
            // Too few from the left when the next left is below the last right.
            if r > 0 && t < below && left(t) < right(r - 1) {
                lo = t + 1;
            } else {
                hi = t;
            }
        }
        let t = lo;
        let r = want - t;
        let a = if t > 0 { Some(left(t - 1)) } else { None };
        let b = if r > 0 { Some(right(r - 1)) } else { None };
        match (a, b) {
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => 0.0,
        }
    }

    /// The median absolute deviation around `m`.
    pub(super) fn mad(&self, m: f64) -> f64 {
        let n = self.len();
        if n == 0 {
            return 0.0;
        }
        let below = self.count_below(m);
        let hi = self.kth_deviation(m, below, n / 2);
        if n % 2 == 1 {
            hi
        } else {
            (self.kth_deviation(m, below, n / 2 - 1) + hi) / 2.0
        }
    }

    /// Median and robust σ: 1.4826 × MAD, or 1.2533 × the mean absolute deviation
    /// when the MAD is 0, at least 1e-12.
    pub(super) fn robust_sigma(&self) -> (f64, f64) {
        let m = self.median();
        let mut s = MAD_SIGMA * self.mad(m);
        let n = self.len();
        if s <= 0.0 && n > 0 {
            s = MEAN_AD_SIGMA * self.abs_dev_sum(m) / n as f64;
        }
        (m, s.max(1e-12))
    }
}

impl Tree {
    /// An empty tree over the points of `x`.
    fn new(x: &[f64]) -> Self {
        let n = x.len();
        let mut index_of: Vec<usize> = (0..n).collect();
        index_of.sort_by(|&a, &b| {
            let (va, vb) = (x.get(a).copied(), x.get(b).copied());
            match (va, vb) {
                (Some(va), Some(vb)) => va.total_cmp(&vb).then(a.cmp(&b)),
                _ => a.cmp(&b),
            }
        });
        let sorted: Vec<f64> = index_of
            .iter()
            .map(|&i| x.get(i).copied().unwrap_or(0.0))
            .collect();
        let mut slot = vec![0; n];
        for (s, &i) in index_of.iter().enumerate() {
            if let Some(p) = slot.get_mut(i) {
                *p = s;
            }
        }
        let pivot = sorted.get(n / 2).copied().unwrap_or(0.0);
        let top = if n == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - n.leading_zeros())
        };
        Tree {
            sorted,
            index_of,
            slot,
            count: vec![0; n + 1],
            sum: vec![0.0; n + 1],
            pivot,
            top,
            len: 0,
        }
    }

    fn update(&mut self, i: usize, present: bool) {
        let Some(&s) = self.slot.get(i) else { return };
        let Some(&v) = self.sorted.get(s) else { return };
        let d = v - self.pivot;
        let mut k = s + 1;
        while k < self.count.len() {
            if let (Some(c), Some(t)) = (self.count.get_mut(k), self.sum.get_mut(k)) {
                if present {
                    *c += 1;
                    *t += d;
                } else {
                    *c = c.saturating_sub(1);
                    *t -= d;
                }
            }
            k += k & k.wrapping_neg();
        }
        if present {
            self.len += 1;
        } else {
            self.len = self.len.saturating_sub(1);
        }
    }

    /// Slot of the k-th smallest point present (0-based).
    fn kth_slot(&self, k: usize) -> usize {
        let mut pos = 0usize;
        let mut rest = k as u64;
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if let Some(&c) = self.count.get(next)
                && u64::from(c) <= rest
            {
                pos = next;
                rest -= u64::from(c);
            }
            step >>= 1;
        }
        pos
    }

    /// The k-th smallest value present (0-based).
    fn kth(&self, k: usize) -> f64 {
        self.sorted.get(self.kth_slot(k)).copied().unwrap_or(0.0)
    }

    /// The original index of the k-th smallest point present (ties: by index).
    fn kth_index(&self, k: usize) -> usize {
        self.index_of.get(self.kth_slot(k)).copied().unwrap_or(0)
    }

    /// Points present in slots `..s`, and the sum of their `value - pivot`.
    fn prefix(&self, s: usize) -> (usize, f64) {
        let (mut c, mut t) = (0usize, 0.0f64);
        let mut k = s.min(self.count.len().saturating_sub(1));
        while k > 0 {
            c += self.count.get(k).copied().unwrap_or(0) as usize;
            t += self.sum.get(k).copied().unwrap_or(0.0);
            k &= k - 1;
        }
        (c, t)
    }

    /// Points present with a value below `v` (by `total_cmp`).
    fn count_below(&self, v: f64) -> usize {
        let s = self.sorted.partition_point(|x| x.total_cmp(&v).is_lt());
        self.prefix(s).0
    }

    /// Points present with a value at most `v` (by `total_cmp`).
    fn count_at_most(&self, v: f64) -> usize {
        let s = self.sorted.partition_point(|x| x.total_cmp(&v).is_le());
        self.prefix(s).0
    }

    /// The sum of `|x - m|` over the points present.
    fn abs_dev_sum(&self, m: f64) -> f64 {
        let s = self.sorted.partition_point(|x| x.total_cmp(&m).is_lt());
        let (cb, tb) = self.prefix(s);
        let (ca, ta) = self.prefix(self.sorted.len());
        let (cr, tr) = (ca - cb, ta - tb);
        let d = m - self.pivot;
        ((cb as f64 * d - tb) + (tr - cr as f64 * d)).max(0.0)
    }
}
