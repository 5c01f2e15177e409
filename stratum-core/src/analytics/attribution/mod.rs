//! Attribution: how much of the conversions each channel earned.
//!
//! Input is a [`PathSet`]: conversion paths (the channels a user touched, in order),
//! each with how many times it converted and how many times it did not. Every model
//! returns credits that sum to the total conversions (up to rounding).
//!
//! | model | credit of a converting path |
//! |---|---|
//! | [`Model::LastClick`] | all to the last touch |
//! | [`Model::FirstClick`] | all to the first touch |
//! | [`Model::Linear`] | equal shares per touch |
//! | [`Model::TimeDecay`] | shares ∝ `2^(-age / half_life)` |
//! | [`Model::PositionBased`] | `first` / `last` to the ends, the rest spread over the middle |
//! | [`Model::Markov`] | removal effect on a first-order absorbing chain, solved on its sparse transition graph |
//! | [`Model::Shapley`] | Shapley values of the coalition conversion rate |
//!
//! ```
//! use stratum_core::analytics::attribution::{attribute, Model, PathSet};
//!
//! let mut paths = PathSet::new();
//! paths.push(&["search", "social", "email"], 10, 0)?;
//! let credit = attribute(&paths, &Model::PositionBased { first: 0.4, last: 0.4 })?;
//! // 40 % of 10 to search, 20 % to social, 40 % to email.
//! assert_eq!(credit.credit_of("search"), Some(4.0));
//! assert!((credit.credit_of("social").unwrap() - 2.0).abs() < 1e-12);
//! # Ok::<(), stratum_core::Error>(())
//! ```

mod markov;
mod shapley;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use markov::{MARKOV_TOLERANCE, MAX_MARKOV_CHANNELS, MAX_MARKOV_WORK, MarkovChain};
pub use shapley::{EXACT_SHAPLEY_MAX_CHANNELS, SAMPLED_SHAPLEY_MAX_CHANNELS};

use crate::error::{Error, Result};

/// Most distinct channels a path set may hold.
pub const MAX_CHANNELS: usize = u16::MAX as usize;

/// One touch of a path, with its time (for time decay).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Touchpoint {
    /// Channel name.
    pub channel: String,
    /// When the touch happened.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
}

/// One conversion path as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionPath {
    /// Touches, oldest first.
    pub touchpoints: Vec<Touchpoint>,
    /// Times this path converted.
    pub conversions: u64,
    /// Times this path ended without converting.
    #[serde(default)]
    pub non_conversions: u64,
    /// When it converted (default: the last touch).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::digest::ts::option"
    )]
    pub converted_at: Option<DateTime<Utc>>,
}

/// Paths in a compact, interned form. Build with [`PathSet::push`] (no times) or
/// [`PathSet::push_timed`] / [`PathSet::from_paths`] (with times, needed by
/// [`Model::TimeDecay`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PathSet {
    channels: Vec<String>,
    index: std::collections::HashMap<String, u16, foldhash::fast::RandomState>,
    touches: Vec<u16>,
    /// Hours between each touch and the conversion; empty unless every path is timed.
    ages: Vec<f64>,
    offsets: Vec<usize>,
    conversions: Vec<f64>,
    nulls: Vec<f64>,
    untimed: bool,
}

impl PathSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        PathSet {
            offsets: vec![0],
            ..PathSet::default()
        }
    }

    /// Channel names, in order of first appearance (the credit order).
    #[must_use]
    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// Number of paths.
    #[must_use]
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Whether there are no paths.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// Total conversions.
    #[must_use]
    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    /// Path `i`: its channel names in touch order, conversions and non-conversions.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<(Vec<&str>, u64, u64)> {
        if i >= self.len() {
            return None;
        }
        let (touches, c, u) = self.path(i);
        let names = touches
            .iter()
            .filter_map(|t| self.channels.get(usize::from(*t)).map(String::as_str))
            .collect();
        Some((names, c as u64, u as u64))
    }

    /// Path `i`: channel indexes, conversions, non-conversions.
    pub(crate) fn path(&self, i: usize) -> (&[u16], f64, f64) {
        let lo = self.offsets.get(i).copied().unwrap_or(0);
        let hi = self.offsets.get(i + 1).copied().unwrap_or(lo);
        (
            self.touches.get(lo..hi).unwrap_or(&[]),
            self.conversions.get(i).copied().unwrap_or(0.0),
            self.nulls.get(i).copied().unwrap_or(0.0),
        )
    }

    fn ages_of(&self, i: usize) -> Option<&[f64]> {
        if self.untimed {
            return None;
        }
        let lo = *self.offsets.get(i)?;
        let hi = *self.offsets.get(i + 1)?;
        self.ages.get(lo..hi)
    }

    fn intern(&mut self, name: &str, field: &str) -> Result<u16> {
        if let Some(i) = self.index.get(name) {
            return Ok(*i);
        }
        if name.trim().is_empty() {
            return Err(Error::observation(field, "channel names must be non-empty"));
        }
        let Ok(i) = u16::try_from(self.channels.len()) else {
            return Err(Error::observation(
                field,
                format!("at most {MAX_CHANNELS} distinct channels are supported"),
            ));
        };
        self.channels.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        Ok(i)
    }

    fn check_counts(conversions: u64, nulls: u64, touches: usize, p: &str) -> Result<()> {
        if touches == 0 {
            return Err(Error::observation(
                format!("{p}.touchpoints"),
                "a path needs at least one touchpoint",
            ));
        }
        if conversions == 0 && nulls == 0 {
            return Err(Error::observation(
                format!("{p}.conversions"),
                "a path needs conversions or non-conversions above zero",
            ));
        }
        Ok(())
    }

    /// Adds a path without times.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] for an empty path or channel name, or a path
    /// with neither conversions nor non-conversions; the set is then unchanged.
    pub fn push(
        &mut self,
        channels: &[&str],
        conversions: u64,
        non_conversions: u64,
    ) -> Result<()> {
        let p = format!("paths[{}]", self.len());
        Self::check_counts(conversions, non_conversions, channels.len(), &p)?;
        let start = self.touches.len();
        for (j, c) in channels.iter().enumerate() {
            match self.intern(c, &format!("{p}.touchpoints[{j}].channel")) {
                Ok(i) => self.touches.push(i),
                Err(e) => {
                    self.touches.truncate(start);
                    return Err(e);
                }
            }
        }
        self.untimed = true;
        self.ages.clear();
        self.finish(conversions, non_conversions);
        Ok(())
    }

    /// Adds a path with times.
    ///
    /// # Errors
    /// As [`PathSet::push`]; also for touches out of time order or after the
    /// conversion.
    pub fn push_timed(&mut self, path: &ConversionPath) -> Result<()> {
        let p = format!("paths[{}]", self.len());
        Self::check_counts(
            path.conversions,
            path.non_conversions,
            path.touchpoints.len(),
            &p,
        )?;
        let Some(last) = path.touchpoints.last() else {
            return Ok(());
        };
        let end = path.converted_at.unwrap_or(last.at);
        for (j, w) in path.touchpoints.windows(2).enumerate() {
            if let [a, b] = w
                && b.at < a.at
            {
                return Err(Error::observation(
                    format!("{p}.touchpoints[{}].at", j + 1),
                    format!(
                        "touchpoints must be in time order; {} follows {}",
                        b.at, a.at
                    ),
                ));
            }
        }
        if end < last.at {
            return Err(Error::observation(
                format!("{p}.converted_at"),
                format!("must not precede the last touch ({}), got {end}", last.at),
            ));
        }
        let start = self.touches.len();
        for (j, t) in path.touchpoints.iter().enumerate() {
            match self.intern(&t.channel, &format!("{p}.touchpoints[{j}].channel")) {
                Ok(i) => self.touches.push(i),
                Err(e) => {
                    self.touches.truncate(start);
                    self.ages.truncate(start.min(self.ages.len()));
                    return Err(e);
                }
            }
            if !self.untimed {
                self.ages
                    .push((end - t.at).num_milliseconds() as f64 / 3_600_000.0);
            }
        }
        self.finish(path.conversions, path.non_conversions);
        Ok(())
    }

    /// A set from JSON paths.
    ///
    /// # Errors
    /// As [`PathSet::push_timed`], naming the path.
    pub fn from_paths(paths: &[ConversionPath]) -> Result<PathSet> {
        let mut set = PathSet::new();
        for p in paths {
            set.push_timed(p)?;
        }
        Ok(set)
    }

    fn finish(&mut self, conversions: u64, nulls: u64) {
        self.offsets.push(self.touches.len());
        self.conversions.push(conversions as f64);
        self.nulls.push(nulls as f64);
    }

    fn require_conversions(&self) -> Result<f64> {
        if self.is_empty() {
            return Err(Error::observation("paths", "no paths to attribute"));
        }
        let total = self.total_conversions();
        if total <= 0.0 {
            return Err(Error::observation(
                "paths",
                "no path converted, so there is nothing to attribute",
            ));
        }
        Ok(total)
    }
}

/// An attribution model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Model {
    /// All credit to the last touch.
    LastClick,
    /// All credit to the first touch.
    FirstClick,
    /// Equal credit per touch.
    Linear,
    /// Credit ∝ `2^(-hours before conversion / half_life_hours)`.
    TimeDecay {
        /// Half-life in hours, positive and finite.
        half_life_hours: f64,
    },
    /// `first` to the first touch, `last` to the last, the rest evenly over the
    /// middle; two-touch paths split `first : last`; one-touch paths give it all.
    PositionBased {
        /// Share of the first touch (0.4 classically).
        first: f64,
        /// Share of the last touch (0.4 classically).
        last: f64,
    },
    /// First-order Markov chain removal effect, solved on the sparse chain to
    /// [`MARKOV_TOLERANCE`] (at most [`MAX_MARKOV_CHANNELS`] channels).
    Markov,
    /// Shapley values: exact up to [`EXACT_SHAPLEY_MAX_CHANNELS`] channels, sampled
    /// permutations with `seed` above.
    Shapley {
        /// Permutations sampled when sampling (default 2,000).
        #[serde(default = "default_samples")]
        samples: u32,
        /// Seed of the sampler.
        #[serde(default)]
        seed: u64,
    },
}

fn default_samples() -> u32 {
    2_000
}

/// Credits per channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Channels, in the path set's order.
    pub channels: Vec<String>,
    /// Conversions credited to each channel.
    pub credits: Vec<f64>,
    /// Total conversions (the credits sum to it).
    pub total_conversions: f64,
    /// For sampled Shapley values: the half-width of a 95 % confidence interval
    /// of each credit (1.96 standard errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_bound: Option<Vec<f64>>,
}

impl Attribution {
    /// The credit of one channel.
    #[must_use]
    pub fn credit_of(&self, channel: &str) -> Option<f64> {
        let i = self.channels.iter().position(|c| c == channel)?;
        self.credits.get(i).copied()
    }
}

/// Attributes the conversions of `paths` with `model`.
///
/// # Errors
/// [`Error::InvalidObservation`] on `paths` when there are no paths or no
/// conversions, or when time decay is asked of untimed paths;
/// [`Error::InvalidConfig`] on `model.*` for bad model parameters or too many
/// channels for sampled Shapley values.
pub fn attribute(paths: &PathSet, model: &Model) -> Result<Attribution> {
    let total = paths.require_conversions()?;
    let n = paths.channels.len();
    let mut credits = vec![0.0; n];
    let mut error_bound = None;
    match model {
        Model::LastClick | Model::FirstClick => {
            for i in 0..paths.len() {
                let (touches, conv, _) = paths.path(i);
                let t = if *model == Model::LastClick {
                    touches.last()
                } else {
                    touches.first()
                };
                if let Some(c) = t.and_then(|t| credits.get_mut(usize::from(*t))) {
                    *c += conv;
                }
            }
        }
        Model::Linear => spread(paths, &mut credits, |_, len, _| 1.0 / len as f64),
        Model::TimeDecay { half_life_hours } => {
            let h = *half_life_hours;
            if !h.is_finite() || h <= 0.0 {
                return Err(Error::config(
                    "model.half_life_hours",
                    format!("must be positive and finite, got {h}"),
                ));
            }
            if paths.untimed {
                return Err(Error::observation(
                    "paths",
                    "time decay needs touch times; build the set with push_timed or from_paths",
                ));
            }
            for i in 0..paths.len() {
                let (touches, conv, _) = paths.path(i);
                if conv == 0.0 {
                    continue;
                }
                let ages = paths.ages_of(i).unwrap_or(&[]);
                let w: Vec<f64> = ages.iter().map(|a| (-a / h).exp2()).collect();
                let sum: f64 = w.iter().sum();
                for (t, wi) in touches.iter().zip(&w) {
                    if let Some(c) = credits.get_mut(usize::from(*t)) {
                        // All weights underflowing (touches far older than the
                        // half-life) falls back to equal shares.
                        *c += if sum > 0.0 {
                            conv * wi / sum
                        } else {
                            conv / touches.len() as f64
                        };
                    }
                }
            }
        }
        Model::PositionBased { first, last } => {
            let (f, l) = (*first, *last);
            if !(f.is_finite() && l.is_finite() && f >= 0.0 && l >= 0.0 && f + l <= 1.0 + 1e-12)
                || f + l <= 0.0
            {
                return Err(Error::config(
                    "model.first",
                    format!(
                        "first and last must be shares ≥ 0 with 0 < first + last ≤ 1, got {f} and {l}"
                    ),
                ));
            }
            spread(paths, &mut credits, |pos, len, _| match len {
                1 => 1.0,
                2 if pos == 0 => f / (f + l),
                2 => l / (f + l),
                _ if pos == 0 => f,
                _ if pos + 1 == len => l,
                _ => (1.0 - f - l) / (len - 2) as f64,
            });
            // Paths of three or more touches with first + last = 1 leave nothing
            // for the middle; the shares still sum to one.
        }
        Model::Markov => {
            let chain = MarkovChain::fit(paths)?;
            let effects = chain.removal_effects()?;
            let sum: f64 = effects.iter().sum();
            if sum <= 0.0 {
                return Err(Error::observation(
                    "paths",
                    "no channel has a removal effect; the chain cannot attribute",
                ));
            }
            for (c, e) in credits.iter_mut().zip(&effects) {
                *c = total * e / sum;
            }
        }
        Model::Shapley { samples, seed } => {
            let (values, bound) = shapley::shapley(paths, *samples, *seed)?;
            credits = values;
            error_bound = bound;
        }
    }
    Ok(Attribution {
        channels: paths.channels.clone(),
        credits,
        total_conversions: total,
        error_bound,
    })
}

/// Adds `conv × share(position, length, touches)` per touch of every path.
fn spread(paths: &PathSet, credits: &mut [f64], share: impl Fn(usize, usize, &[u16]) -> f64) {
    for i in 0..paths.len() {
        let (touches, conv, _) = paths.path(i);
        if conv == 0.0 {
            continue;
        }
        for (pos, t) in touches.iter().enumerate() {
            if let Some(c) = credits.get_mut(usize::from(*t)) {
                *c += conv * share(pos, touches.len(), touches);
            }
        }
    }
}
