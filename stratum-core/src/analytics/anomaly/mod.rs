//! Anomaly detection on metric series.
//!
//! Five detectors, each with an absolute floor (a deviation smaller than
//! `absolute_floor` in the metric's own unit never alerts) and a minimum history
//! (nothing is judged before `min_history` points):
//!
//! * [`Detector::RobustZ`]: `0.6745 · (x − median) / MAD` over a trailing window —
//!   spikes and dips.
//! * [`Detector::Ewma`]: an EWMA control chart against the baseline of the first
//!   `min_history` points — slow drifts (gradual event loss).
//! * [`Detector::Cusum`]: two-sided tabular CUSUM against the same baseline — small
//!   persistent shifts.
//! * [`Detector::SeasonalEsd`]: the generalised ESD test on the robust residuals
//!   of the whole series — a fixed number of the most extreme outliers.
//!
//! Every detector works on the series after weekly seasonal decomposition: the
//! per-position median over the series (`season` points per cycle) is removed first
//! and added back to the expected value reported.
//! * [`Detector::LevelShift`]: median of the next `level_shift_window` points vs
//!   the previous ones — abrupt lasting changes, reported at the change point.
//!
//! Bad input (too short, NaN, timestamps out of order) is an
//! [`Error::InvalidObservation`]; nothing panics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod window;
use window::OrderWindow;

#[cfg(test)]
mod reference;

/// One observation of a metric series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// When.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Value, finite.
    pub value: f64,
}

/// Detector settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Points needed before anything is judged (at least 8).
    pub min_history: usize,
    /// Deviations smaller than this (metric units) never alert.
    pub absolute_floor: f64,
    /// Trailing window of the robust z-score.
    pub robust_window: usize,
    /// Robust z-score threshold.
    pub robust_z: f64,
    /// EWMA smoothing λ in (0, 1].
    pub ewma_lambda: f64,
    /// EWMA control-limit width L (in σ of the EWMA statistic).
    pub ewma_width: f64,
    /// CUSUM allowance k (in σ).
    pub cusum_k: f64,
    /// CUSUM decision interval h (in σ).
    pub cusum_h: f64,
    /// Season length in points (7 for daily data with a weekly pattern; 1 for no
    /// seasonality). Every detector works on the series with the seasonal pattern
    /// (the per-position median) removed.
    pub season: usize,
    /// ESD significance level.
    pub esd_alpha: f64,
    /// Largest share of points ESD may call outliers.
    pub esd_max_share: f64,
    /// Points on each side of a candidate level shift.
    pub level_shift_window: usize,
    /// Level-shift threshold, in robust σ of the two windows.
    pub level_shift_z: f64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            min_history: 14,
            absolute_floor: 0.0,
            robust_window: 28,
            robust_z: 3.5,
            ewma_lambda: 0.2,
            ewma_width: 3.0,
            cusum_k: 0.5,
            cusum_h: 5.0,
            season: 7,
            esd_alpha: 0.05,
            esd_max_share: 0.05,
            level_shift_window: 7,
            level_shift_z: 4.0,
        }
    }
}

impl AnomalyConfig {
    fn validate(&self) -> Result<()> {
        let bad = |f: &str, m: String| Err(Error::config(format!("anomaly.{f}"), m));
        if self.min_history < 8 {
            return bad(
                "min_history",
                format!("must be at least 8, got {}", self.min_history),
            );
        }
        if !(self.absolute_floor.is_finite() && self.absolute_floor >= 0.0) {
            return bad(
                "absolute_floor",
                format!("must be finite and ≥ 0, got {}", self.absolute_floor),
            );
        }
        if self.robust_window < 5 {
            return bad(
                "robust_window",
                format!("must be at least 5, got {}", self.robust_window),
            );
        }
        if !(self.ewma_lambda > 0.0 && self.ewma_lambda <= 1.0) {
            return bad(
                "ewma_lambda",
                format!("must be in (0, 1], got {}", self.ewma_lambda),
            );
        }
        for (f, v) in [
            ("robust_z", self.robust_z),
            ("ewma_width", self.ewma_width),
            ("cusum_h", self.cusum_h),
            ("level_shift_z", self.level_shift_z),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(f, format!("must be positive and finite, got {v}"));
            }
        }
        if !(self.cusum_k.is_finite() && self.cusum_k >= 0.0) {
            return bad(
                "cusum_k",
                format!("must be finite and ≥ 0, got {}", self.cusum_k),
            );
        }
        if self.season == 0 || self.season > self.min_history {
            return bad(
                "season",
                format!(
                    "must be in 1..=min_history ({}), got {}",
                    self.min_history, self.season
                ),
            );
        }
        if !(self.esd_alpha > 0.0 && self.esd_alpha < 0.5) {
            return bad(
                "esd_alpha",
                format!("must be in (0, 0.5), got {}", self.esd_alpha),
            );
        }
        if !(self.esd_max_share > 0.0 && self.esd_max_share <= 0.5) {
            return bad(
                "esd_max_share",
                format!("must be in (0, 0.5], got {}", self.esd_max_share),
            );
        }
        if self.level_shift_window < 3 {
            return bad(
                "level_shift_window",
                format!("must be at least 3, got {}", self.level_shift_window),
            );
        }
        Ok(())
    }
}

/// Which detector found an anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// Robust z-score (median / MAD).
    RobustZ,
    /// EWMA control chart.
    Ewma,
    /// Tabular CUSUM.
    Cusum,
    /// Seasonal decomposition + generalised ESD.
    SeasonalEsd,
    /// Level shift.
    LevelShift,
}

/// How bad an anomaly is, from its score relative to the detector's threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalySeverity {
    /// Score below 1.5 × threshold.
    Low,
    /// Score below 3 × threshold.
    Medium,
    /// Score at 3 × threshold or more.
    High,
}

/// One anomaly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Index of the point in the series.
    pub index: usize,
    /// Its time.
    #[serde(with = "crate::digest::ts")]
    pub at: DateTime<Utc>,
    /// Observed value.
    pub value: f64,
    /// What the detector expected.
    pub expected: f64,
    /// Detector.
    pub detector: Detector,
    /// The detector's statistic (its threshold is the one in the config).
    pub score: f64,
    /// Severity.
    pub severity: AnomalySeverity,
    /// One sentence for people.
    pub explanation: String,
}

fn severity(score: f64, threshold: f64) -> AnomalySeverity {
    let r = score.abs() / threshold;
    if r >= 3.0 {
        AnomalySeverity::High
    } else if r >= 1.5 {
        AnomalySeverity::Medium
    } else {
        AnomalySeverity::Low
    }
}

/// Checks a series: at least `min_history` points, finite values, strictly
/// increasing timestamps.
fn check(series: &[Point], min_history: usize) -> Result<()> {
    if series.len() < min_history {
        return Err(Error::observation(
            "series",
            format!(
                "needs at least {min_history} points (min_history), got {}",
                series.len()
            ),
        ));
    }
    for (i, p) in series.iter().enumerate() {
        if !p.value.is_finite() {
            return Err(Error::observation(
                format!("series[{i}].value"),
                format!("must be a finite number, got {}", p.value),
            ));
        }
        if i > 0
            && let Some(prev) = series.get(i - 1)
            && p.at <= prev.at
        {
            return Err(Error::observation(
                format!("series[{i}].at"),
                format!(
                    "timestamps must be strictly increasing; {} follows {}",
                    p.at, prev.at
                ),
            ));
        }
    }
    Ok(())
}

/// Median of `v` (sorted in place); 0 when empty.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let hi = v.get(n / 2).copied().unwrap_or(0.0);
    if n % 2 == 1 {
        hi
    } else {
        (v.get(n / 2 - 1).copied().unwrap_or(0.0) + hi) / 2.0
    }
}

/// Median and MAD of `v`.
fn median_mad(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    let m = median(&mut s);
    let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut d))
}

/// Robust σ: 1.4826 × MAD, falling back to the mean absolute deviation × 1.2533
/// when more than half the values are equal, and to a tiny positive number.
fn robust_sigma(v: &[f64]) -> (f64, f64) {
    let (m, mad) = median_mad(v);
    let mut s = 1.4826 * mad;
    if s <= 0.0 && !v.is_empty() {
        s = 1.2533 * v.iter().map(|x| (x - m).abs()).sum::<f64>() / v.len() as f64;
    }
    (m, s.max(1e-12))
}

/// Runs every detector on `series` and returns the anomalies sorted by index, then
/// detector.
///
/// # Errors
/// [`Error::InvalidConfig`] on `anomaly.*` for bad settings;
/// [`Error::InvalidObservation`] on `series…` for a series shorter than
/// `min_history`, a non-finite value or timestamps that are not strictly increasing.
pub fn detect(series: &[Point], config: &AnomalyConfig) -> Result<Vec<Anomaly>> {
    let (x, offset) = prepare(series, config)?;
    let mut out = Vec::new();
    for d in [
        Detector::RobustZ,
        Detector::Ewma,
        Detector::Cusum,
        Detector::SeasonalEsd,
        Detector::LevelShift,
    ] {
        out.extend(run(series, &x, &offset, config, d));
    }
    out.sort_by(|a, b| a.index.cmp(&b.index).then(a.detector.cmp(&b.detector)));
    Ok(out)
}

/// Runs one detector.
///
/// # Errors
/// As [`detect`].
pub fn detect_with(
    series: &[Point],
    config: &AnomalyConfig,
    detector: Detector,
) -> Result<Vec<Anomaly>> {
    let (x, offset) = prepare(series, config)?;
    Ok(run(series, &x, &offset, config, detector))
}

/// Validates, then returns the deseasonalised series and the seasonal offsets.
fn prepare(series: &[Point], config: &AnomalyConfig) -> Result<(Vec<f64>, Vec<f64>)> {
    config.validate()?;
    check(series, config.min_history)?;
    let raw_values: Vec<f64> = series.iter().map(|p| p.value).collect();
    let offset = seasonal_offsets(&raw_values, config.season);
    let x: Vec<f64> = raw_values.iter().zip(&offset).map(|(v, o)| v - o).collect();
    Ok((x, offset))
}

fn run(
    series: &[Point],
    x: &[f64],
    offset: &[f64],
    config: &AnomalyConfig,
    detector: Detector,
) -> Vec<Anomaly> {
    let raw = match detector {
        Detector::RobustZ => robust_z(x, config),
        Detector::Ewma => ewma(x, config),
        Detector::Cusum => cusum(x, config),
        Detector::SeasonalEsd => seasonal_esd(x, config),
        Detector::LevelShift => level_shift(x, config),
    };
    anomalies(series, offset, detector, raw)
}

/// The flagged points of `detector` as explained anomalies, the seasonal offset
/// added back to the expected value.
fn anomalies(series: &[Point], offset: &[f64], detector: Detector, raw: Flags) -> Vec<Anomaly> {
    raw.into_iter()
        .filter_map(|(i, expected, score, threshold)| {
            let p = series.get(i)?;
            let expected = expected + offset.get(i)?;
            let what = match detector {
                Detector::RobustZ => "robust z-score",
                Detector::Ewma => "EWMA statistic",
                Detector::Cusum => "CUSUM sum",
                Detector::SeasonalEsd => "seasonal ESD statistic",
                Detector::LevelShift => "level-shift statistic",
            };
            let dir = if p.value >= expected { "above" } else { "below" };
            Some(Anomaly {
                index: i,
                at: p.at,
                value: p.value,
                expected,
                detector,
                score,
                severity: severity(score, threshold),
                explanation: format!(
                    "{} is {dir} the expected {expected:.4} ({what} {score:.2}, threshold {threshold})",
                    p.value
                ),
            })
        })
        .collect()
}

/// `(index, expected, score, threshold)` per flagged point.
type Flags = Vec<(usize, f64, f64, f64)>;

fn robust_z(x: &[f64], c: &AnomalyConfig) -> Flags {
    let mut out = Vec::new();
    let mut win = OrderWindow::new(x, c.robust_window);
    let start = c.min_history.min(x.len());
    let mut lo = start.saturating_sub(c.robust_window);
    for j in lo..start {
        win.insert(j);
    }
    for i in c.min_history..x.len() {
        // The window is x[i - robust_window .. i].
        let new_lo = i.saturating_sub(c.robust_window);
        while lo < new_lo {
            win.remove(lo);
            lo += 1;
        }
        let (m, s) = win.robust_sigma();
        let v = x.get(i).copied().unwrap_or(m);
        let z = (v - m) / s;
        if z.abs() > c.robust_z && (v - m).abs() >= c.absolute_floor {
            out.push((i, m, z, c.robust_z));
        }
        win.insert(i);
    }
    out
}

fn baseline(x: &[f64], c: &AnomalyConfig) -> (f64, f64) {
    robust_sigma(x.get(..c.min_history).unwrap_or(x))
}

fn ewma(x: &[f64], c: &AnomalyConfig) -> Flags {
    let (mu, sigma) = baseline(x, c);
    let l = c.ewma_lambda;
    let limit_sigma = sigma * (l / (2.0 - l)).sqrt();
    let mut z = mu;
    let mut out = Vec::new();
    let mut alarmed = false;
    for (i, v) in x.iter().enumerate() {
        z = l * v + (1.0 - l) * z;
        if i < c.min_history {
            continue;
        }
        let score = (z - mu) / limit_sigma;
        let out_of_control = score.abs() > c.ewma_width && (z - mu).abs() >= c.absolute_floor;
        // One alert per excursion: when the statistic leaves the limits.
        if out_of_control && !alarmed {
            out.push((i, mu, score, c.ewma_width));
        }
        alarmed = out_of_control;
    }
    out
}

fn cusum(x: &[f64], c: &AnomalyConfig) -> Flags {
    let (mu, sigma) = baseline(x, c);
    let (mut hi, mut lo) = (0.0f64, 0.0f64);
    let mut alarmed = false;
    let mut out = Vec::new();
    for (i, v) in x.iter().enumerate() {
        let z = (v - mu) / sigma;
        hi = (hi + z - c.cusum_k).max(0.0);
        lo = (lo - z - c.cusum_k).max(0.0);
        if i < c.min_history {
            hi = 0.0;
            lo = 0.0;
            continue;
        }
        let score = if hi >= lo { hi } else { -lo };
        // One alert per excursion: the sums keep growing while the shift lasts and
        // the alarm re-arms once they are back to zero.
        if score.abs() > c.cusum_h && (v - mu).abs() >= c.absolute_floor {
            if !alarmed {
                out.push((i, mu, score, c.cusum_h));
            }
            alarmed = true;
        } else if hi == 0.0 && lo == 0.0 {
            alarmed = false;
        }
    }
    out
}

/// The seasonal pattern: the series minus its trend (a centred moving median over
/// one season, so level shifts do not leak into the pattern), then per position in
/// the season the median of those differences, centred on zero.
fn seasonal_offsets(x: &[f64], season: usize) -> Vec<f64> {
    let n = x.len();
    if season <= 1 || n < season {
        return vec![0.0; n];
    }
    let half = season / 2;
    let mut win = OrderWindow::new(x, season);
    let (mut lo, mut hi) = (0usize, 0usize);
    let detrended: Vec<f64> = (0..n)
        .map(|i| {
            // The window is x[lo .. lo + season], moving right only.
            let new_lo = i.saturating_sub(half).min(n - season);
            while hi < new_lo + season {
                win.insert(hi);
                hi += 1;
            }
            while lo < new_lo {
                win.remove(lo);
                lo += 1;
            }
            x.get(i).copied().unwrap_or(0.0) - win.median()
        })
        .collect();
    let mut per: Vec<f64> = (0..season)
        .map(|k| {
            let mut vals: Vec<f64> = detrended[k..].iter().step_by(season).copied().collect();
            median(&mut vals)
        })
        .collect();
    let mut sorted = per.clone();
    let level = median(&mut sorted);
    per.iter_mut().for_each(|p| *p -= level);
    (0..n)
        .map(|i| per.get(i % season).copied().unwrap_or(0.0))
        .collect()
}

/// The generalised ESD test (Rosner) on the deseasonalised series with median /
/// MAD in place of mean / sd.
fn seasonal_esd(x: &[f64], c: &AnomalyConfig) -> Flags {
    let n = x.len();
    let max_outliers = ((n as f64 * c.esd_max_share).floor() as usize).max(1);
    let mut active = OrderWindow::new(x, n);
    for i in 0..n {
        active.insert(i);
    }
    let mut candidates: Vec<(usize, f64, f64)> = Vec::new();
    let mut last_significant = 0usize;
    for k in 1..=max_outliers {
        let m = active.len();
        if m < 3 {
            break;
        }
        let (med, s) = active.robust_sigma();
        let Some((idx, r)) = most_extreme(&active, med, s) else {
            break;
        };
        active.remove(idx);
        let mf = m as f64;
        let p = 1.0 - c.esd_alpha / (2.0 * mf);
        let t = t_quantile(p, mf - 2.0);
        let lambda = (mf - 1.0) * t / ((mf - 2.0 + t * t) * mf).sqrt();
        candidates.push((idx, r, lambda));
        if r > lambda {
            last_significant = k;
        }
    }
    let mut sorted = x.to_vec();
    let level = median(&mut sorted);
    candidates
        .into_iter()
        .take(last_significant)
        .filter_map(|(i, r, lambda)| {
            let v = *x.get(i)?;
            (i >= c.min_history && (v - level).abs() >= c.absolute_floor).then_some((
                i,
                level,
                r.copysign(v - level),
                lambda,
            ))
        })
        .collect()
}

/// The point of `active` farthest from `med` in units of `s`, with that distance:
/// one of the extremes, since the distance only grows away from the median; among
/// equal distances the largest index.
fn most_extreme(active: &OrderWindow<'_>, med: f64, s: f64) -> Option<(usize, f64)> {
    let m = active.len();
    if m == 0 {
        return None;
    }
    let r = |v: f64| (v - med).abs() / s;
    let (r_lo, r_hi) = (r(active.kth(0)), r(active.kth(m - 1)));
    let r_max = if r_lo.total_cmp(&r_hi).is_gt() {
        r_lo
    } else {
        r_hi
    };
    let mut best: Option<usize> = None;
    // Distinct values from the smallest up, then from the largest down, while
    // their distance is the largest; each value's largest index is its last slot.
    let mut k = 0;
    while k < m {
        let v = active.kth(k);
        if r(v).total_cmp(&r_max).is_ne() {
            break;
        }
        let upto = active.count_at_most(v);
        let idx = active.kth_index(upto.saturating_sub(1));
        best = Some(best.map_or(idx, |b| b.max(idx)));
        k = upto.max(k + 1);
    }
    let mut top = m;
    while top > 0 {
        let v = active.kth(top - 1);
        if r(v).total_cmp(&r_max).is_ne() {
            break;
        }
        let idx = active.kth_index(top - 1);
        best = Some(best.map_or(idx, |b| b.max(idx)));
        top = active.count_below(v).min(top - 1);
    }
    best.map(|i| (i, r_max))
}

fn level_shift(x: &[f64], c: &AnomalyConfig) -> Flags {
    let w = c.level_shift_window;
    // (index, median before, z, median after)
    let mut scores: Vec<(usize, f64, f64, f64)> = Vec::new();
    let start = c.min_history.max(w);
    let end = x.len().saturating_sub(w - 1);
    if start < end {
        let mut before = OrderWindow::new(x, w);
        let mut after = OrderWindow::new(x, w);
        for j in start - w..start {
            before.insert(j);
        }
        for j in start..start + w {
            after.insert(j);
        }
        for i in start..end {
            if i > start {
                // Slide both windows one point right.
                before.remove(i - 1 - w);
                before.insert(i - 1);
                after.remove(i - 1);
                after.insert(i + w - 1);
            }
            let (mb, sb) = before.robust_sigma();
            let (ma, sa) = after.robust_sigma();
            let s = ((sb * sb + sa * sa) / 2.0).sqrt().max(1e-12);
            let z = (ma - mb) / s;
            scores.push((i, mb, z, ma));
        }
    }
    // Keep local maxima of |z| above the threshold.
    let mut out = Vec::new();
    for (k, (i, mb, z, after_median)) in scores.iter().enumerate() {
        let prev = k
            .checked_sub(1)
            .and_then(|p| scores.get(p))
            .map_or(0.0, |s| s.2.abs());
        let next = scores.get(k + 1).map_or(0.0, |s| s.2.abs());
        if z.abs() > c.level_shift_z
            && z.abs() >= prev
            && z.abs() > next
            && (after_median - mb).abs() >= c.absolute_floor
        {
            out.push((*i, *mb, *z, c.level_shift_z));
        }
    }
    out
}

/// Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Student-t quantile by the Cornish–Fisher expansion around the normal quantile
/// (accurate to about 1e-3 for ν ≥ 5, which ESD's sample sizes satisfy).
pub(crate) fn t_quantile(p: f64, nu: f64) -> f64 {
    let z = normal_quantile(p);
    let nu = nu.max(1.0);
    let z3 = z * z * z;
    let z5 = z3 * z * z;
    let z7 = z5 * z * z;
    z + (z3 + z) / (4.0 * nu)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * nu * nu * nu)
}
