//! Budget allocation: per-channel response curves (geometric adstock + Hill
//! saturation) fitted to history, an allocator that equalises marginal ROAS under a
//! total budget and per-channel bounds, and a what-if simulator.
//!
//! The curve of a channel with per-period spend `x` is, in steady state,
//! `revenue(x) = β · a^s / (a^s + K^s)` with `a = x / (1 − θ)` the adstocked spend.
//! [`ResponseCurve::fit`] searches `θ` (carry-over), `s` (shape) and `K` (half
//! saturation) on a grid and solves `β` by least squares for each; the residual
//! standard deviation gives the intervals of [`what_if`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Fewest periods a fit accepts.
pub const MIN_PERIODS: usize = 8;

/// A channel's spend and revenue per period (oldest first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelHistory {
    /// Channel name.
    pub channel: String,
    /// Spend per period, ≥ 0.
    pub spend: Vec<f64>,
    /// Revenue per period, ≥ 0.
    pub revenue: Vec<f64>,
}

/// A fitted response curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseCurve {
    /// Channel name.
    pub channel: String,
    /// Adstock carry-over θ in `[0, 0.9]`.
    pub theta: f64,
    /// Hill shape `s`.
    pub shape: f64,
    /// Half-saturation point `K` (adstocked spend).
    pub half_saturation: f64,
    /// Scale `β` (revenue at full saturation).
    pub beta: f64,
    /// Residual standard deviation of the fit (revenue per period).
    pub sigma: f64,
}

impl ResponseCurve {
    /// Fits a curve to `history`.
    ///
    /// # Errors
    /// [`Error::InvalidObservation`] on `history.<field>` for fewer than
    /// [`MIN_PERIODS`] periods, lengths that differ, non-finite or negative values,
    /// or a channel that never spent.
    pub fn fit(history: &ChannelHistory) -> Result<ResponseCurve> {
        let h = history;
        if h.channel.trim().is_empty() {
            return Err(Error::observation("history.channel", "must be non-empty"));
        }
        if h.spend.len() < MIN_PERIODS {
            return Err(Error::observation(
                "history.spend",
                format!(
                    "needs at least {MIN_PERIODS} periods, got {}",
                    h.spend.len()
                ),
            ));
        }
        if h.revenue.len() != h.spend.len() {
            return Err(Error::observation(
                "history.revenue",
                format!(
                    "must have as many periods as spend ({}), got {}",
                    h.spend.len(),
                    h.revenue.len()
                ),
            ));
        }
        for (name, v) in [("spend", &h.spend), ("revenue", &h.revenue)] {
            if let Some((i, x)) = v
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_finite() || **x < 0.0)
            {
                return Err(Error::observation(
                    format!("history.{name}[{i}]"),
                    format!("must be finite and ≥ 0, got {x}"),
                ));
            }
        }
        if h.spend.iter().all(|x| *x == 0.0) {
            return Err(Error::observation(
                "history.spend",
                format!(
                    "channel {:?} never spent, so no response can be fitted",
                    h.channel
                ),
            ));
        }
        let fit = |theta: f64, shape: f64, half: f64| -> Option<(f64, f64)> {
            let (mut hy, mut hh, mut carry) = (0.0, 0.0, 0.0);
            let mut hills = Vec::with_capacity(h.spend.len());
            for (x, y) in h.spend.iter().zip(&h.revenue) {
                carry = x + theta * carry;
                let p = carry.powf(shape);
                let v = p / (p + half.powf(shape));
                hy += v * y;
                hh += v * v;
                hills.push(v);
            }
            if hh <= 0.0 || !hh.is_finite() {
                return None;
            }
            let beta = (hy / hh).max(0.0);
            let sse = hills
                .iter()
                .zip(&h.revenue)
                .map(|(v, y)| (y - beta * v).powi(2))
                .sum::<f64>();
            sse.is_finite().then_some((sse, beta))
        };
        // (sse, theta, shape, half, beta)
        let mut best: Option<(f64, f64, f64, f64, f64)> = None;
        type Best = Option<(f64, f64, f64, f64, f64)>;
        let consider = |best: &mut Best, theta: f64, shape: f64, half: f64| {
            if let Some((sse, beta)) = fit(theta, shape, half)
                && best.is_none_or(|b| sse < b.0)
            {
                *best = Some((sse, theta, shape, half, beta));
            }
        };
        // Coarse grid: K in multiples of the median adstocked spend.
        for t in 0..=9 {
            let theta = f64::from(t) / 10.0;
            let mut carry = 0.0;
            let mut ad: Vec<f64> = h
                .spend
                .iter()
                .map(|x| {
                    carry = x + theta * carry;
                    carry
                })
                .filter(|a| *a > 0.0)
                .collect();
            let med = super::anomaly::median(&mut ad).max(1e-9);
            for shape in [0.5, 1.0, 1.5, 2.0, 3.0] {
                for k in [0.25, 0.5, 1.0, 2.0, 4.0, 8.0] {
                    consider(&mut best, theta, shape, med * k);
                }
            }
        }
        // Two rounds of local refinement around the best point.
        for round in 0..2 {
            let Some((_, theta0, shape0, half0, _)) = best else {
                break;
            };
            let scale = if round == 0 { 1.0 } else { 0.25 };
            for dt in -5..=5 {
                let theta = (theta0 + f64::from(dt) * 0.02 * scale).clamp(0.0, 0.9);
                for ds in -4..=4 {
                    let shape = (shape0 + f64::from(ds) * 0.125 * scale).max(0.25);
                    for dk in -8..=8 {
                        consider(
                            &mut best,
                            theta,
                            shape,
                            half0 * (f64::from(dk) * scale / 8.0).exp2(),
                        );
                    }
                }
            }
        }
        let dof = (h.spend.len() as f64 - 4.0).max(1.0);
        best.map(|(sse, theta, shape, half_saturation, beta)| ResponseCurve {
            channel: h.channel.clone(),
            theta,
            shape,
            half_saturation,
            beta,
            sigma: (sse / dof).sqrt(),
        })
        .ok_or_else(|| Error::observation("history.spend", "no response curve fits this history"))
    }

    /// Expected revenue per period at a steady spend of `x` per period.
    #[must_use]
    pub fn revenue(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let a = x / (1.0 - self.theta);
        let p = a.powf(self.shape);
        self.beta * p / (p + self.half_saturation.powf(self.shape))
    }
}

/// Spend limits of one channel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Least spend.
    pub min: f64,
    /// Most spend.
    pub max: f64,
}

/// An allocation with its expected revenue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// Spend per channel, in the curves' order.
    pub spend: Vec<f64>,
    /// Expected revenue per channel.
    pub revenue: Vec<f64>,
    /// Marginal ROAS per channel at the allocation (revenue of the next unit).
    pub marginal_roas: Vec<f64>,
    /// Total expected revenue.
    pub total_revenue: f64,
    /// 95 % interval of the total (± 1.96 × √Σσ²).
    pub interval: (f64, f64),
}

/// Steps the budget above the minimums is split into.
const STEPS: usize = 2_000;

/// Splits `budget` over the channels to maximise expected revenue: every channel
/// starts at its minimum and each of 2,000 equal increments goes to the channel with
/// the highest marginal ROAS that is below its maximum, which equalises marginal
/// ROAS where the bounds allow. The whole budget is spent and no bound is broken.
///
/// # Errors
/// [`Error::InvalidConfig`] on `bounds` / `budget` for a count that differs from
/// the curves, bounds with `0 ≤ min ≤ max` broken or non-finite, or a budget outside
/// `Σ min ..= Σ max`.
pub fn allocate(curves: &[ResponseCurve], bounds: &[Bounds], budget: f64) -> Result<Allocation> {
    if bounds.len() != curves.len() || curves.is_empty() {
        return Err(Error::config(
            "bounds",
            format!(
                "needs one entry per curve ({}), got {}",
                curves.len(),
                bounds.len()
            ),
        ));
    }
    for (i, b) in bounds.iter().enumerate() {
        if !(b.min.is_finite() && b.max.is_finite() && b.min >= 0.0 && b.min <= b.max) {
            return Err(Error::config(
                format!("bounds[{i}]"),
                format!("must satisfy 0 ≤ min ≤ max, got {} and {}", b.min, b.max),
            ));
        }
    }
    let lo: f64 = bounds.iter().map(|b| b.min).sum();
    let hi: f64 = bounds.iter().map(|b| b.max).sum();
    if !budget.is_finite() || budget < lo || budget > hi {
        return Err(Error::config(
            "budget",
            format!("must be within the bounds' total {lo}..={hi}, got {budget}"),
        ));
    }
    let mut spend: Vec<f64> = bounds.iter().map(|b| b.min).collect();
    let mut left = budget - lo;
    let step = left / STEPS as f64;
    while left > 0.0 {
        let inc = step.min(left).max(0.0);
        let pick = curves
            .iter()
            .zip(&spend)
            .zip(bounds)
            .enumerate()
            .filter(|(_, ((_, x), b))| **x < b.max)
            .map(|(i, ((c, x), b))| {
                let d = inc.min(b.max - x);
                (
                    i,
                    d,
                    (c.revenue(x + d) - c.revenue(*x)) / d.max(f64::MIN_POSITIVE),
                )
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((i, d, _)) = pick else { break };
        if let Some(x) = spend.get_mut(i) {
            *x += d;
        }
        left -= d;
        if d <= 0.0 {
            break;
        }
    }
    Ok(evaluate(curves, spend))
}

fn evaluate(curves: &[ResponseCurve], spend: Vec<f64>) -> Allocation {
    let revenue: Vec<f64> = curves
        .iter()
        .zip(&spend)
        .map(|(c, x)| c.revenue(*x))
        .collect();
    let marginal_roas = curves
        .iter()
        .zip(&spend)
        .map(|(c, x)| {
            let h = (x * 1e-4).max(1e-6);
            (c.revenue(x + h) - c.revenue(*x)) / h
        })
        .collect();
    let total_revenue: f64 = revenue.iter().sum();
    let half = 1.96 * curves.iter().map(|c| c.sigma * c.sigma).sum::<f64>().sqrt();
    Allocation {
        spend,
        revenue,
        marginal_roas,
        total_revenue,
        interval: ((total_revenue - half).max(0.0), total_revenue + half),
    }
}

/// "Move `share` of `from`'s spend to `to`".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Channel giving spend.
    pub from: String,
    /// Channel receiving it.
    pub to: String,
    /// Share of `from`'s spend moved, in `(0, 1]`.
    pub share: f64,
}

/// Expected revenue of the current spend and of the spend after `shifts`, applied in
/// order.
///
/// # Errors
/// [`Error::InvalidConfig`] on `spend` for a count that differs from the curves or a
/// negative / non-finite spend; on `shifts[i].*` for unknown channels or shares
/// outside `(0, 1]`.
pub fn what_if(
    curves: &[ResponseCurve],
    spend: &[f64],
    shifts: &[Shift],
) -> Result<(Allocation, Allocation)> {
    if spend.len() != curves.len() {
        return Err(Error::config(
            "spend",
            format!(
                "needs one entry per curve ({}), got {}",
                curves.len(),
                spend.len()
            ),
        ));
    }
    if let Some((i, x)) = spend
        .iter()
        .enumerate()
        .find(|(_, x)| !x.is_finite() || **x < 0.0)
    {
        return Err(Error::config(
            format!("spend[{i}]"),
            format!("must be finite and ≥ 0, got {x}"),
        ));
    }
    let mut after = spend.to_vec();
    let find = |name: &str, field: String| {
        curves
            .iter()
            .position(|c| c.channel == name)
            .ok_or_else(|| Error::config(field, format!("unknown channel {name:?}")))
    };
    for (i, s) in shifts.iter().enumerate() {
        let f = find(&s.from, format!("shifts[{i}].from"))?;
        let t = find(&s.to, format!("shifts[{i}].to"))?;
        if !(s.share > 0.0 && s.share <= 1.0) {
            return Err(Error::config(
                format!("shifts[{i}].share"),
                format!("must be in (0, 1], got {}", s.share),
            ));
        }
        let moved = after.get(f).copied().unwrap_or(0.0) * s.share;
        if let Some(x) = after.get_mut(f) {
            *x -= moved;
        }
        if let Some(x) = after.get_mut(t) {
            *x += moved;
        }
    }
    Ok((evaluate(curves, spend.to_vec()), evaluate(curves, after)))
}
