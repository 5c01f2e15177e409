//! The straightforward implementation the detectors had before they used order
//! statistics (a window re-sorted per point, ESD re-sorting the remaining points
//! per round): kept as the oracle of the differential tests. The parts that did
//! not change (the EWMA and CUSUM detectors, the median helpers and how flags
//! become anomalies) are the module's own.
#![allow(clippy::indexing_slicing)]

use super::{
    Anomaly, AnomalyConfig, Detector, Flags, Point, cusum, ewma, median, median_mad, robust_sigma,
    t_quantile,
};
use crate::error::Result;

/// Runs every detector on `series` and returns the anomalies sorted by index, then
/// detector.
///
/// # Errors
/// [`Error::InvalidConfig`] on `anomaly.*` for bad settings;
/// [`Error::InvalidObservation`] on `series…` for a series shorter than
/// `min_history`, a non-finite value or timestamps that are not strictly increasing.
pub(super) fn detect(series: &[Point], config: &AnomalyConfig) -> Result<Vec<Anomaly>> {
    let mut out = Vec::new();
    for d in [
        Detector::RobustZ,
        Detector::Ewma,
        Detector::Cusum,
        Detector::SeasonalEsd,
        Detector::LevelShift,
    ] {
        out.extend(detect_with(series, config, d)?);
    }
    out.sort_by(|a, b| a.index.cmp(&b.index).then(a.detector.cmp(&b.detector)));
    Ok(out)
}

/// Runs one detector.
///
/// # Errors
/// As [`detect`].
pub(super) fn detect_with(
    series: &[Point],
    config: &AnomalyConfig,
    detector: Detector,
) -> Result<Vec<Anomaly>> {
    super::prepare(series, config)?;
    let raw_values: Vec<f64> = series.iter().map(|p| p.value).collect();
    let offset = seasonal_offsets(&raw_values, config.season);
    let x: Vec<f64> = raw_values.iter().zip(&offset).map(|(v, o)| v - o).collect();
    let raw = match detector {
        Detector::RobustZ => robust_z(&x, config),
        Detector::Ewma => ewma(&x, config),
        Detector::Cusum => cusum(&x, config),
        Detector::SeasonalEsd => seasonal_esd(&x, config),
        Detector::LevelShift => level_shift(&x, config),
    };
    Ok(super::anomalies(series, &offset, detector, raw))
}

fn robust_z(x: &[f64], c: &AnomalyConfig) -> Flags {
    let mut out = Vec::new();
    for i in c.min_history..x.len() {
        let lo = i.saturating_sub(c.robust_window);
        let Some(win) = x.get(lo..i) else { continue };
        let (m, s) = robust_sigma(win);
        let v = x.get(i).copied().unwrap_or(m);
        let z = (v - m) / s;
        if z.abs() > c.robust_z && (v - m).abs() >= c.absolute_floor {
            out.push((i, m, z, c.robust_z));
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
    let detrended: Vec<f64> = (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half).min(n - season);
            let mut w = x
                .get(lo..lo + season)
                .map(<[f64]>::to_vec)
                .unwrap_or_default();
            x.get(i).copied().unwrap_or(0.0) - median(&mut w)
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
    let mut active: Vec<usize> = (0..n).collect();
    let mut candidates: Vec<(usize, f64, f64)> = Vec::new();
    let mut last_significant = 0usize;
    for k in 1..=max_outliers {
        let vals: Vec<f64> = active.iter().filter_map(|i| x.get(*i).copied()).collect();
        let m = vals.len();
        if m < 3 {
            break;
        }
        let (med, s) = robust_sigma(&vals);
        let Some((pos, r)) = vals
            .iter()
            .enumerate()
            .map(|(p, v)| (p, (v - med).abs() / s))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            break;
        };
        let idx = active.remove(pos);
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

fn level_shift(x: &[f64], c: &AnomalyConfig) -> Flags {
    let w = c.level_shift_window;
    let mut scores: Vec<(usize, f64, f64)> = Vec::new();
    for i in c.min_history.max(w)..x.len().saturating_sub(w - 1) {
        let (Some(before), Some(after)) = (x.get(i - w..i), x.get(i..i + w)) else {
            continue;
        };
        let (mb, sb) = robust_sigma(before);
        let (ma, sa) = robust_sigma(after);
        let s = ((sb * sb + sa * sa) / 2.0).sqrt().max(1e-12);
        let z = (ma - mb) / s;
        scores.push((i, mb, z));
    }
    // Keep local maxima of |z| above the threshold.
    let mut out = Vec::new();
    for (k, (i, mb, z)) in scores.iter().enumerate() {
        let prev = k
            .checked_sub(1)
            .and_then(|p| scores.get(p))
            .map_or(0.0, |s| s.2.abs());
        let next = scores.get(k + 1).map_or(0.0, |s| s.2.abs());
        let after_median = x.get(*i..*i + w).map_or(*mb, |a| {
            let mut a = a.to_vec();
            median(&mut a)
        });
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{DateTime, TimeDelta, Utc};
    use proptest::prelude::*;

    use super::super::{AnomalyConfig, Point};

    fn series(values: &[f64]) -> Vec<Point> {
        let t0 = DateTime::<Utc>::from_timestamp(1_772_366_400, 0).unwrap_or_default();
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Point {
                at: t0 + TimeDelta::hours(i as i64),
                value,
            })
            .collect()
    }

    /// Values with ties (few distinct levels), spikes, shifts and long runs of
    /// one value, so that MAD-zero fallbacks and equal distances happen.
    fn values() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![
                4 => (0i32..6).prop_map(f64::from),
                2 => -50.0f64..50.0,
                1 => Just(0.0),
                1 => (-3i32..3).prop_map(|k| f64::from(k) * 1e6),
            ],
            8..160,
        )
    }

    fn config() -> impl Strategy<Value = AnomalyConfig> {
        (8usize..20, 5usize..40, 1usize..8, 3usize..12, 0.0f64..2.0).prop_map(
            |(min_history, robust_window, season, level_shift_window, floor)| AnomalyConfig {
                min_history,
                robust_window,
                season: season.min(min_history),
                level_shift_window,
                absolute_floor: floor,
                esd_max_share: 0.3,
                ..AnomalyConfig::default()
            },
        )
    }

    /// Equal up to rounding: the same anomalies (index, detector, severity), and
    /// numbers equal to 1e-9 relative (the mean-absolute-deviation fallback sums
    /// in another order; everything else is bit-identical).
    fn same(a: &[super::Anomaly], b: &[super::Anomaly]) -> Result<(), TestCaseError> {
        prop_assert_eq!(a.len(), b.len(), "{:?}\n{:?}", a, b);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
        for (x, y) in a.iter().zip(b) {
            prop_assert_eq!(
                (x.index, x.detector, x.severity),
                (y.index, y.detector, y.severity)
            );
            prop_assert!(close(x.score, y.score), "{:?} vs {:?}", x, y);
            prop_assert!(close(x.expected, y.expected), "{:?} vs {:?}", x, y);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The order-statistics window gives the sort-based median and MAD exactly.
        #[test]
        fn window_median_and_mad_are_exact(
            v in prop::collection::vec(prop_oneof![(-4i32..4).prop_map(f64::from), -1e3f64..1e3], 1..60),
            skip in 0usize..10,
        ) {
            // Both representations: a sorted vector and the tree.
            for capacity in [v.len(), usize::MAX] {
                let mut w = super::super::OrderWindow::new(&v, capacity);
                for i in skip.min(v.len() - 1)..v.len() {
                    w.insert(i);
                }
                let part = &v[skip.min(v.len() - 1)..];
                let (m, mad) = super::median_mad(part);
                prop_assert_eq!(w.median().to_bits(), m.to_bits());
                prop_assert_eq!(w.mad(m).to_bits(), mad.to_bits(), "{:?}", part);
                let (rm, rs) = super::robust_sigma(part);
                let (wm, ws) = w.robust_sigma();
                prop_assert_eq!(wm.to_bits(), rm.to_bits());
                prop_assert!((ws - rs).abs() <= 1e-9 * rs.abs().max(1.0), "{ws} vs {rs}");
            }
        }

        #[test]
        fn detectors_equal_the_reference(v in values(), c in config()) {
            let s = series(&v);
            let new = super::super::detect(&s, &c);
            let old = super::detect(&s, &c);
            match (new, old) {
                (Ok(a), Ok(b)) => same(&a, &b)?,
                (a, b) => prop_assert_eq!(a.err().map(|e| e.to_string()), b.err().map(|e| e.to_string())),
            }
        }

        #[test]
        fn detectors_equal_the_reference_without_ties(
            // Continuous values (not shrunk towards ties) and no seasonal
            // decomposition (which can make values equal): no MAD of zero.
            v in prop::collection::vec(-1e3f64..1e3, 8..200).no_shrink(),
            c in config(),
        ) {
            let c = AnomalyConfig { season: 1, ..c };
            let s = series(&v);
            let new = super::super::detect(&s, &c);
            let old = super::detect(&s, &c);
            match (new, old) {
                // Without a MAD of zero, bit-identical.
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(a, b);
                }
                (a, b) => prop_assert_eq!(a.err().map(|e| e.to_string()), b.err().map(|e| e.to_string())),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Series longer than a sorted window holds: ESD works on the tree.
        #[test]
        fn esd_on_the_tree_equals_the_reference(
            v in prop::collection::vec(
                prop_oneof![3 => (0i32..8).prop_map(f64::from), 1 => -100.0f64..100.0],
                1100..1400,
            ),
        ) {
            let c = AnomalyConfig { esd_max_share: 0.05, ..AnomalyConfig::default() };
            let s = series(&v);
            for d in [super::super::Detector::SeasonalEsd, super::super::Detector::RobustZ] {
                let new = super::super::detect_with(&s, &c, d).unwrap();
                let old = super::detect_with(&s, &c, d).unwrap();
                same(&new, &old)?;
            }
        }
    }
}
