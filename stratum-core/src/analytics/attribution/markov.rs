//! The first-order Markov chain of channel transitions and its removal effects,
//! computed exactly by solving the absorbing chain.
//!
//! States are `start`, one per channel, and the absorbing `conversion` and `null`.
//! A path `a → b` with `c` conversions and `u` non-conversions adds `c + u` to the
//! counts of `start → a` and `a → b`, `c` to `b → conversion` and `u` to
//! `b → null`. With `Q` the transient-to-transient probabilities and `r` the
//! transient-to-conversion probabilities, the conversion probabilities `x` solve
//! `(I − Q) x = r`; `x[start]` is the chain's conversion probability. Removing a
//! channel sends everything that reaches it to `null`; its removal effect is
//! `1 − x'[start] / x[start]`. Credits are the removal effects normalised to the
//! total conversions.
//!
//! The transition counts are stored sparsely (one entry per distinct transition
//! seen, so memory grows with the paths, not with the square of the channels),
//! and each system is solved by Gauss–Seidel sweeps over that sparse graph, in an
//! order where a state comes after the states it leads to (so a chain without
//! cycles is solved in one sweep) with self-loops solved exactly. Sweeps stop when
//! no probability moves by more than [`MARKOV_TOLERANCE`]; a chain that would
//! need more than [`MAX_MARKOV_WORK`] transition visits in total is refused
//! rather than run for hours. At most [`MAX_MARKOV_CHANNELS`] channels, checked
//! before anything is allocated.

use super::PathSet;
use crate::error::{Error, Result};

/// Most distinct channels the Markov model accepts; more is an
/// [`Error::InvalidObservation`] on `paths`.
pub const MAX_MARKOV_CHANNELS: usize = 2_000;

/// Sweeps stop when no state's conversion probability changed by more than this.
pub const MARKOV_TOLERANCE: f64 = 1e-15;

/// Most transition visits (sweeps × distinct transitions, over the base solve and
/// every removal) one attribution may spend; more is an
/// [`Error::InvalidObservation`] on `paths`.
pub const MAX_MARKOV_WORK: u64 = 2_000_000_000;

/// Up to this many `(channels + 1)²` cells the counts are gathered in a dense
/// matrix (8 MB), above in a map of the transitions seen.
const DENSE_COUNTS: usize = 1 << 20;

/// Transition counts over `start` and the channels.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkovChain {
    n: usize,
    /// Per transient state (0 = `start`, `i + 1` = channel `i`): its distinct
    /// transient successors with their counts, sorted by successor.
    rows: Vec<Vec<(u32, f64)>>,
    conv: Vec<f64>,
    null: Vec<f64>,
    /// Per state: every count out of it (transient, conversion and null).
    totals: Vec<f64>,
    /// States ordered so that successors tend to come first (DFS post-order
    /// from `start`).
    order: Vec<u32>,
}

impl MarkovChain {
    /// Counts the transitions of `paths`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `paths` for an empty set, one with no
    /// conversions, or more than [`MAX_MARKOV_CHANNELS`] channels.
    pub fn fit(paths: &PathSet) -> Result<MarkovChain> {
        paths.require_conversions()?;
        let n = paths.channels().len();
        if n > MAX_MARKOV_CHANNELS {
            return Err(Error::observation(
                "paths",
                format!(
                    "the Markov model supports at most {MAX_MARKOV_CHANNELS} channels, the paths have {n}; group rare channels or use a heuristic model"
                ),
            ));
        }
        let m = n + 1;
        // Counts per transition, summed in path order: a dense matrix when small,
        // else a map holding only the transitions seen.
        let dense = m.checked_mul(m).filter(|&mm| mm <= DENSE_COUNTS);
        let mut grid: Vec<f64> = vec![0.0; dense.unwrap_or(0)];
        let mut map: std::collections::HashMap<(u32, u32), f64> = std::collections::HashMap::new();
        let mut conv = vec![0.0; m];
        let mut null = vec![0.0; m];
        for i in 0..paths.len() {
            let (touches, c, u) = paths.path(i);
            let w = c + u;
            let mut prev = 0u32;
            for t in touches {
                let next = u32::from(*t) + 1;
                if dense.is_some() {
                    if let Some(x) = grid.get_mut(prev as usize * m + next as usize) {
                        *x += w;
                    }
                } else {
                    *map.entry((prev, next)).or_insert(0.0) += w;
                }
                prev = next;
            }
            if let Some(x) = conv.get_mut(prev as usize) {
                *x += c;
            }
            if let Some(x) = null.get_mut(prev as usize) {
                *x += u;
            }
        }
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); m];
        if dense.is_some() {
            for (s, row) in rows.iter_mut().enumerate() {
                for (t, &count) in grid
                    .get(s * m..(s + 1) * m)
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    if count != 0.0 {
                        row.push((t as u32, count));
                    }
                }
            }
        } else {
            for ((a, b), count) in map {
                if let Some(r) = rows.get_mut(a as usize) {
                    r.push((b, count));
                }
            }
            for r in &mut rows {
                r.sort_by_key(|e| e.0);
            }
        }
        let totals: Vec<f64> = (0..m)
            .map(|s| {
                let row = rows
                    .get(s)
                    .map_or(0.0, |r| r.iter().map(|e| e.1).sum::<f64>());
                row + conv.get(s).copied().unwrap_or(0.0) + null.get(s).copied().unwrap_or(0.0)
            })
            .collect();
        let order = post_order(&rows, m);
        Ok(MarkovChain {
            n,
            rows,
            conv,
            null,
            totals,
            order,
        })
    }

    /// Number of channels.
    #[must_use]
    pub fn channels(&self) -> usize {
        self.n
    }

    /// Transition probabilities out of transient state `state` (0 = `start`,
    /// `i + 1` = channel `i`) as `[channel 0, …, channel n-1, conversion, null]`;
    /// `None` for an unknown state or one never left.
    #[must_use]
    pub fn row(&self, state: usize) -> Option<Vec<f64>> {
        let entries = self.rows.get(state)?;
        let c = *self.conv.get(state)?;
        let u = *self.null.get(state)?;
        let total = *self.totals.get(state)?;
        if total <= 0.0 {
            return None;
        }
        let mut row = vec![0.0; self.n + 2];
        for &(t, count) in entries {
            if t > 0
                && let Some(x) = row.get_mut(t as usize - 1)
            {
                *x = count / total;
            }
        }
        if let Some(x) = row.get_mut(self.n) {
            *x = c / total;
        }
        if let Some(x) = row.get_mut(self.n + 1) {
            *x = u / total;
        }
        Some(row)
    }

    /// The probability of reaching `conversion` from `start`, with channel
    /// `removed` (if any) sending everything that reaches it to `null`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `paths` if the sweeps would exceed
    /// [`MAX_MARKOV_WORK`].
    pub fn conversion_probability(&self, removed: Option<usize>) -> Result<f64> {
        let mut x = vec![0.0; self.n + 1];
        let mut budget = MAX_MARKOV_WORK;
        self.solve(removed, &mut x, &mut budget)?;
        Ok(x.first().copied().unwrap_or(0.0).clamp(0.0, 1.0))
    }

    /// Gauss–Seidel sweeps from `x` until nothing moves by more than
    /// [`MARKOV_TOLERANCE`], spending at most `budget` transition visits.
    fn solve(&self, removed: Option<usize>, x: &mut [f64], budget: &mut u64) -> Result<()> {
        let removed_state = removed.map(|r| r + 1);
        if let Some(r) = removed_state
            && let Some(v) = x.get_mut(r)
        {
            *v = 0.0;
        }
        let cost = self.rows.iter().map(|r| r.len() as u64 + 1).sum::<u64>();
        loop {
            if *budget < cost {
                return Err(Error::observation(
                    "paths",
                    format!(
                        "the Markov chain's cycles converge too slowly to solve within {MAX_MARKOV_WORK} transition visits; shorten the paths or use a heuristic model"
                    ),
                ));
            }
            *budget -= cost;
            let mut delta = 0.0f64;
            for &s in &self.order {
                let s = s as usize;
                if Some(s) == removed_state {
                    continue;
                }
                let total = self.totals.get(s).copied().unwrap_or(0.0);
                if total <= 0.0 {
                    continue; // never visited: x = 0.
                }
                let mut acc = self.conv.get(s).copied().unwrap_or(0.0);
                let mut stay = 0.0;
                for &(t, count) in self.rows.get(s).map_or(&[][..], Vec::as_slice) {
                    let t = t as usize;
                    if t == s {
                        stay += count;
                    } else if Some(t) != removed_state {
                        acc += count * x.get(t).copied().unwrap_or(0.0);
                    }
                }
                let leave = total - stay;
                let v = if leave > 0.0 { acc / leave } else { 0.0 };
                if let Some(old) = x.get_mut(s) {
                    delta = delta.max((v - *old).abs());
                    *old = v;
                }
            }
            if delta <= MARKOV_TOLERANCE {
                return Ok(());
            }
        }
    }

    /// The removal effect of every channel: `1 − P(conversion without it) /
    /// P(conversion)`.
    ///
    /// # Errors
    /// As [`MarkovChain::conversion_probability`].
    pub fn removal_effects(&self) -> Result<Vec<f64>> {
        let mut budget = MAX_MARKOV_WORK;
        let mut full = vec![0.0; self.n + 1];
        self.solve(None, &mut full, &mut budget)?;
        let base = full.first().copied().unwrap_or(0.0).clamp(0.0, 1.0);
        if base <= 0.0 {
            return Err(Error::observation(
                "paths",
                "the chain never reaches a conversion",
            ));
        }
        let mut x = Vec::with_capacity(full.len());
        (0..self.n)
            .map(|i| {
                // Removing a channel only lowers probabilities: start from the
                // full chain's, which are already exact wherever it is not reached.
                x.clear();
                x.extend_from_slice(&full);
                self.solve(Some(i), &mut x, &mut budget)?;
                let without = x.first().copied().unwrap_or(0.0).clamp(0.0, 1.0);
                Ok((1.0 - without / base).max(0.0))
            })
            .collect()
    }
}

/// States in DFS post-order from `start` (successors first), then the rest.
fn post_order(rows: &[Vec<(u32, f64)>], m: usize) -> Vec<u32> {
    let mut seen = vec![false; m];
    let mut order = Vec::with_capacity(m);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in 0..m {
        if seen.get(root).copied().unwrap_or(true) {
            continue;
        }
        if let Some(v) = seen.get_mut(root) {
            *v = true;
        }
        stack.push((root as u32, 0));
        while let Some(&mut (s, ref mut k)) = stack.last_mut() {
            let next = rows.get(s as usize).and_then(|r| r.get(*k)).map(|e| e.0);
            *k += 1;
            match next {
                Some(t) => {
                    if let Some(v) = seen.get_mut(t as usize)
                        && !*v
                    {
                        *v = true;
                        stack.push((t, 0));
                    }
                }
                None => {
                    order.push(s);
                    stack.pop();
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use proptest::prelude::*;

    use super::{MarkovChain, PathSet};
    use crate::analytics::linalg::solve;

    /// The dense exact method the chain used before: `(I − Q) x = r` by Gaussian
    /// elimination, `x[start]`.
    fn dense(chain: &MarkovChain, removed: Option<usize>) -> f64 {
        let m = chain.n + 1;
        let mut a = vec![0.0; m * m];
        let mut b = vec![0.0; m];
        for s in 0..m {
            a[s * m + s] = 1.0;
            if removed.is_some_and(|r| r + 1 == s) {
                continue;
            }
            let total = chain.totals[s];
            if total <= 0.0 {
                continue;
            }
            for &(t, count) in &chain.rows[s] {
                a[s * m + t as usize] -= count / total;
            }
            b[s] = chain.conv[s] / total;
        }
        solve(a, b).unwrap()[0].clamp(0.0, 1.0)
    }

    fn paths() -> impl Strategy<Value = PathSet> {
        let path = (prop::collection::vec(0u8..8, 1..12), 0u64..20, 0u64..20);
        prop::collection::vec(path, 1..30).prop_filter_map("needs a conversion", |ps| {
            let mut set = PathSet::new();
            for (touches, c, u) in &ps {
                let names: Vec<String> = touches.iter().map(|t| format!("c{t}")).collect();
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                set.push(&refs, *c, *u).ok()?;
            }
            (set.total_conversions() > 0.0).then_some(set)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The sparse sweeps give the dense exact solution (to 1e-12), for the
        /// full chain and every removal, cycles and self-loops included.
        #[test]
        fn sparse_sweeps_equal_the_dense_solve(set in paths()) {
            let chain = MarkovChain::fit(&set).unwrap();
            for removed in std::iter::once(None).chain((0..chain.n).map(Some)) {
                let want = dense(&chain, removed);
                let got = chain.conversion_probability(removed).unwrap();
                prop_assert!((got - want).abs() <= 1e-12, "{removed:?}: {got} vs {want}");
            }
            let effects = chain.removal_effects().unwrap();
            let base = dense(&chain, None);
            for (i, e) in effects.iter().enumerate() {
                let want = (1.0 - dense(&chain, Some(i)) / base).max(0.0);
                prop_assert!((e - want).abs() <= 1e-10, "{i}: {e} vs {want}");
            }
        }
    }
}
