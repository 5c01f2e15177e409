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
//! total conversions. One `(n + 1)`-unknown dense solve per channel.

use super::PathSet;
use crate::analytics::linalg::solve;
use crate::error::{Error, Result};

/// Transition counts over `start` and the channels.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkovChain {
    n: usize,
    /// `(n + 1) × (n + 1)` transient → transient counts, row-major; row/col 0 is
    /// `start`, `i + 1` is channel `i`.
    counts: Vec<f64>,
    conv: Vec<f64>,
    null: Vec<f64>,
}

impl MarkovChain {
    /// Counts the transitions of `paths`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `paths` for an empty set or one with no
    /// conversions.
    pub fn fit(paths: &PathSet) -> Result<MarkovChain> {
        paths.require_conversions()?;
        let n = paths.channels().len();
        let m = n + 1;
        let mut counts = vec![0.0; m * m];
        let mut conv = vec![0.0; m];
        let mut null = vec![0.0; m];
        for i in 0..paths.len() {
            let (touches, c, u) = paths.path(i);
            let w = c + u;
            let mut prev = 0usize;
            for t in touches {
                let next = usize::from(*t) + 1;
                if let Some(x) = counts.get_mut(prev * m + next) {
                    *x += w;
                }
                prev = next;
            }
            if let Some(x) = conv.get_mut(prev) {
                *x += c;
            }
            if let Some(x) = null.get_mut(prev) {
                *x += u;
            }
        }
        Ok(MarkovChain {
            n,
            counts,
            conv,
            null,
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
        let m = self.n + 1;
        let counts = self.counts.get(state * m..(state + 1) * m)?;
        let c = *self.conv.get(state)?;
        let u = *self.null.get(state)?;
        let total: f64 = counts.iter().sum::<f64>() + c + u;
        if total <= 0.0 {
            return None;
        }
        let mut row: Vec<f64> = counts.iter().skip(1).map(|x| x / total).collect();
        row.push(c / total);
        row.push(u / total);
        Some(row)
    }

    /// The probability of reaching `conversion` from `start`, with channel
    /// `removed` (if any) sending everything that reaches it to `null`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `paths` if the chain cannot be solved (it
    /// always can for chains fitted from paths).
    pub fn conversion_probability(&self, removed: Option<usize>) -> Result<f64> {
        let m = self.n + 1;
        let mut a = vec![0.0; m * m];
        let mut b = vec![0.0; m];
        for s in 0..m {
            let diag = s * m + s;
            if let Some(x) = a.get_mut(diag) {
                *x = 1.0;
            }
            if removed.is_some_and(|r| r + 1 == s) {
                continue; // x[s] = 0: absorbed into null.
            }
            let row = self.counts.get(s * m..(s + 1) * m).unwrap_or(&[]);
            let c = self.conv.get(s).copied().unwrap_or(0.0);
            let u = self.null.get(s).copied().unwrap_or(0.0);
            let total: f64 = row.iter().sum::<f64>() + c + u;
            if total <= 0.0 {
                continue; // never visited: x = 0.
            }
            for (t, count) in row.iter().enumerate() {
                if *count != 0.0
                    && let Some(x) = a.get_mut(s * m + t)
                {
                    *x -= count / total;
                }
            }
            if let Some(x) = b.get_mut(s) {
                *x = c / total;
            }
        }
        let x = solve(a, b).ok_or_else(|| {
            Error::observation(
                "paths",
                "the transition matrix is singular; the chain cannot be solved",
            )
        })?;
        Ok(x.first().copied().unwrap_or(0.0).clamp(0.0, 1.0))
    }

    /// The removal effect of every channel: `1 − P(conversion without it) /
    /// P(conversion)`.
    ///
    /// # Errors
    /// As [`MarkovChain::conversion_probability`].
    pub fn removal_effects(&self) -> Result<Vec<f64>> {
        let base = self.conversion_probability(None)?;
        if base <= 0.0 {
            return Err(Error::observation(
                "paths",
                "the chain never reaches a conversion",
            ));
        }
        (0..self.n)
            .map(|i| Ok((1.0 - self.conversion_probability(Some(i))? / base).max(0.0)))
            .collect()
    }
}
