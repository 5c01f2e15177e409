//! Shapley values of the coalition conversion rate.
//!
//! The value of a coalition `S` of channels is the conversion rate of the paths
//! whose channels all lie in `S`: `v(S) = conversions(⊆ S) / (conversions(⊆ S) +
//! non-conversions(⊆ S))`, 0 when no path qualifies. Shapley values split `v(all)`
//! over the channels; credits scale them to the total conversions, so they sum to
//! it exactly. A channel that lowers the conversion rate of the coalitions it joins
//! can receive negative credit.
//!
//! Up to [`EXACT_SHAPLEY_MAX_CHANNELS`] channels the values are exact: `v` of all
//! `2^n` coalitions by a subset-sum transform, then the weighted marginal
//! contributions, `O(n·2^n)`. Above, up to [`SAMPLED_SHAPLEY_MAX_CHANNELS`],
//! permutations are sampled with a fixed seed: each permutation's marginal
//! contributions sum to `v(all)` exactly, and the reported error bound is 1.96
//! standard errors of each channel's mean.

use std::collections::HashMap;

use super::PathSet;
use crate::analytics::rng::SplitMix64;
use crate::error::{Error, Result};

/// Most channels for exact Shapley values.
pub const EXACT_SHAPLEY_MAX_CHANNELS: usize = 15;
/// Most channels for sampled Shapley values.
pub const SAMPLED_SHAPLEY_MAX_CHANNELS: usize = 128;

type Values = (Vec<f64>, Option<Vec<f64>>);

pub(super) fn shapley(paths: &PathSet, samples: u32, seed: u64) -> Result<Values> {
    let n = paths.channels().len();
    let total = paths.total_conversions();
    if n <= EXACT_SHAPLEY_MAX_CHANNELS {
        return Ok((exact(paths, n, total), None));
    }
    if n > SAMPLED_SHAPLEY_MAX_CHANNELS {
        return Err(Error::config(
            "model",
            format!(
                "Shapley values support at most {SAMPLED_SHAPLEY_MAX_CHANNELS} channels, the paths have {n}"
            ),
        ));
    }
    if !(2..=1_000_000).contains(&samples) {
        return Err(Error::config(
            "model.samples",
            format!("must be in 2..=1000000, got {samples}"),
        ));
    }
    let (values, bound) = sampled(paths, n, total, samples, seed);
    Ok((values, Some(bound)))
}

fn exact(paths: &PathSet, n: usize, total: f64) -> Vec<f64> {
    let size = 1usize << n;
    let mut conv = vec![0.0; size];
    let mut all = vec![0.0; size];
    for i in 0..paths.len() {
        let (touches, c, u) = paths.path(i);
        let mask = touches.iter().fold(0usize, |m, t| m | (1 << t));
        if let (Some(x), Some(y)) = (conv.get_mut(mask), all.get_mut(mask)) {
            *x += c;
            *y += c + u;
        }
    }
    // Subset sums: f(S) = Σ_{T ⊆ S} f(T).
    for bit in 0..n {
        let b = 1usize << bit;
        for mask in 0..size {
            if mask & b != 0 {
                let lc = conv.get(mask ^ b).copied().unwrap_or(0.0);
                let la = all.get(mask ^ b).copied().unwrap_or(0.0);
                if let Some(v) = conv.get_mut(mask) {
                    *v += lc;
                }
                if let Some(v) = all.get_mut(mask) {
                    *v += la;
                }
            }
        }
    }
    let v: Vec<f64> = conv
        .iter()
        .zip(&all)
        .map(|(c, a)| if *a > 0.0 { c / a } else { 0.0 })
        .collect();
    // weight(s) = s!(n-s-1)!/n! = 1 / (n · C(n-1, s)).
    let mut weight = vec![0.0; n];
    let mut binom = 1.0f64;
    for (s, w) in weight.iter_mut().enumerate() {
        *w = 1.0 / (n as f64 * binom);
        binom = binom * (n - 1 - s) as f64 / (s + 1) as f64;
    }
    let mut phi = vec![0.0; n];
    for mask in 0..size {
        let s = mask.count_ones() as usize;
        let vs = v.get(mask).copied().unwrap_or(0.0);
        for (i, p) in phi.iter_mut().enumerate() {
            let b = 1usize << i;
            if mask & b == 0 {
                let with = v.get(mask | b).copied().unwrap_or(0.0);
                *p += weight.get(s).copied().unwrap_or(0.0) * (with - vs);
            }
        }
    }
    scale(phi, v.last().copied().unwrap_or(0.0), total)
}

fn scale(phi: Vec<f64>, v_all: f64, total: f64) -> Vec<f64> {
    if v_all <= 0.0 {
        return vec![0.0; phi.len()];
    }
    phi.into_iter().map(|p| total * p / v_all).collect()
}

fn sampled(paths: &PathSet, n: usize, total: f64, samples: u32, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut groups: HashMap<u128, (f64, f64), foldhash::fast::RandomState> = HashMap::default();
    for i in 0..paths.len() {
        let (touches, c, u) = paths.path(i);
        let mask = touches.iter().fold(0u128, |m, t| m | (1u128 << t));
        let e = groups.entry(mask).or_insert((0.0, 0.0));
        e.0 += c;
        e.1 += c + u;
    }
    let groups: Vec<(u128, f64, f64)> = groups.into_iter().map(|(m, (c, a))| (m, c, a)).collect();
    let (c_all, a_all) = groups
        .iter()
        .fold((0.0, 0.0), |(c, a), g| (c + g.1, a + g.2));
    let v_all = if a_all > 0.0 { c_all / a_all } else { 0.0 };

    let mut rng = SplitMix64::new(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    let mut pos = vec![0usize; n];
    let mut bucket_c = vec![0.0; n];
    let mut bucket_a = vec![0.0; n];
    let mut sum = vec![0.0; n];
    let mut sum_sq = vec![0.0; n];
    for _ in 0..samples {
        for i in (1..n).rev() {
            let j = rng.below(i + 1);
            perm.swap(i, j);
        }
        for (k, ch) in perm.iter().enumerate() {
            if let Some(p) = pos.get_mut(*ch) {
                *p = k;
            }
        }
        bucket_c.iter_mut().for_each(|x| *x = 0.0);
        bucket_a.iter_mut().for_each(|x| *x = 0.0);
        for (mask, c, a) in &groups {
            let mut m = *mask;
            let mut last = 0usize;
            while m != 0 {
                let bit = m.trailing_zeros() as usize;
                last = last.max(pos.get(bit).copied().unwrap_or(0));
                m &= m - 1;
            }
            if let (Some(x), Some(y)) = (bucket_c.get_mut(last), bucket_a.get_mut(last)) {
                *x += c;
                *y += a;
            }
        }
        let (mut cc, mut aa, mut prev) = (0.0, 0.0, 0.0);
        for (k, ch) in perm.iter().enumerate() {
            cc += bucket_c.get(k).copied().unwrap_or(0.0);
            aa += bucket_a.get(k).copied().unwrap_or(0.0);
            let v = if aa > 0.0 { cc / aa } else { 0.0 };
            let marginal = v - prev;
            prev = v;
            if let (Some(s), Some(q)) = (sum.get_mut(*ch), sum_sq.get_mut(*ch)) {
                *s += marginal;
                *q += marginal * marginal;
            }
        }
    }
    let k = f64::from(samples);
    let mean: Vec<f64> = sum.iter().map(|s| s / k).collect();
    let factor = if v_all > 0.0 { total / v_all } else { 0.0 };
    let bound = mean
        .iter()
        .zip(&sum_sq)
        .map(|(m, q)| {
            let var = ((q / k - m * m) * k / (k - 1.0)).max(0.0);
            1.96 * (var / k).sqrt() * factor
        })
        .collect();
    (scale(mean, v_all, total), bound)
}
