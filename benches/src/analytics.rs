//! Generators for the autopilot and attribution benchmarks.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use stratum_core::analytics::attribution::PathSet;
use stratum_core::autopilot::{CampaignMetrics, DailyMetrics, DeliveryStatus, RuleSet};
use stratum_core::gate::Target;
use stratum_core::health::Signals;

use crate::{Rng, scope, signals};

/// Ad accounts the generated campaigns are spread over.
pub const ACCOUNTS: u32 = 64;

/// `paths` conversion paths over `channels` channels: lengths 1..=8 (short ones
/// most likely), channels drawn with skewed popularity, one journey per path that
/// converts with a probability that depends on the channels it touched (so every
/// channel has a different removal effect).
///
/// # Errors
/// Never for these inputs; propagates [`PathSet::push`].
pub fn conversion_paths(
    paths: usize,
    channels: usize,
    rng: &mut Rng,
) -> stratum_core::Result<PathSet> {
    let names: Vec<String> = (0..channels).map(|i| format!("channel_{i:02}")).collect();
    // Popularity ∝ 1 / (i + 1); conversion lift ∝ a per-channel draw.
    let weights: Vec<f64> = (0..channels).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let lift: Vec<f64> = (0..channels).map(|_| rng.range(0.01, 0.08)).collect();
    let mut set = PathSet::new();
    let mut touches: Vec<&str> = Vec::with_capacity(8);
    for _ in 0..paths {
        touches.clear();
        let mut len = 1;
        while len < 8 && rng.chance(0.55) {
            len += 1;
        }
        let mut p_conv = 0.01;
        for _ in 0..len {
            let mut r = rng.unit() * total;
            let mut pick = channels - 1;
            for (i, w) in weights.iter().enumerate() {
                if r < *w {
                    pick = i;
                    break;
                }
                r -= w;
            }
            p_conv += lift.get(pick).copied().unwrap_or(0.0);
            touches.push(names.get(pick).map_or("channel_00", String::as_str));
        }
        let converted = rng.chance(p_conv.min(0.9));
        set.push(&touches, u64::from(converted), u64::from(!converted))?;
    }
    Ok(set)
}

/// `campaigns` campaigns with `days` days of metrics ending the day before `now`,
/// spread over [`ACCOUNTS`] ad accounts; ROAS varies from about 0.5 to 4 so that
/// the rules of [`rules`] fire on a minority.
pub fn campaign_metrics(
    campaigns: u32,
    days: u32,
    now: DateTime<Utc>,
    rng: &mut Rng,
) -> Vec<CampaignMetrics> {
    let today = now.date_naive();
    let first = today - TimeDelta::days(i64::from(days));
    (0..campaigns)
        .map(|c| {
            let budget = rng.between(50, 2_000);
            let roas = rng.range(0.5, 4.0);
            let cvr = rng.range(0.005, 0.05);
            let days = (0..days)
                .map(|d| {
                    let spend = (budget as f64 * rng.range(0.6, 1.1) * 100.0).round() / 100.0;
                    let impressions = (spend * rng.range(80.0, 200.0)) as u64;
                    let clicks = (impressions as f64 * rng.range(0.005, 0.03)) as u64;
                    let conversions = (clicks as f64 * cvr) as u64;
                    let revenue = spend * roas * rng.range(0.7, 1.3);
                    DailyMetrics {
                        date: first + TimeDelta::days(i64::from(d)),
                        spend: Decimal::new((spend * 100.0) as i64, 2),
                        impressions,
                        clicks,
                        conversions,
                        revenue: Decimal::new((revenue * 100.0) as i64, 2),
                    }
                })
                .collect();
            CampaignMetrics {
                target: Target::new(scope(c % ACCOUNTS), format!("cmp_{c:06}")),
                budget: Some(Decimal::from(budget)),
                bid: Some(Decimal::new(150, 2)),
                status: DeliveryStatus::Active,
                days,
            }
        })
        .collect()
}

/// Signals for every account of [`campaign_metrics`].
pub fn account_signals(now: DateTime<Utc>, rng: &mut Rng) -> Vec<Signals> {
    (0..ACCOUNTS)
        .map(|a| signals(&scope(a), now, rng))
        .collect()
}

/// The benchmark rule set: a budget cut, a budget raise, a pause and a bid rule
/// over 3-, 7-, 14- and 30-day windows.
///
/// # Errors
/// Never: the JSON is valid.
pub fn rules(max_actions_per_run: u32) -> stratum_core::Result<RuleSet> {
    stratum_core::from_json(&format!(
        r#"{{"max_actions_per_run": {max_actions_per_run}, "rules": [
  {{"id": "cut", "conditions": [
      {{"metric": "roas", "window_days": 3, "op": "lt", "value": 1.0}},
      {{"metric": "spend", "window_days": 3, "op": "gt", "value": 200}}],
    "action": {{"type": "change_budget_pct", "pct": "-20"}},
    "safety": {{"min_conversions": 5, "cooldown_hours": 24}}}},
  {{"id": "scale", "conditions": [
      {{"metric": "roas", "window_days": 7, "op": "gt", "value": 3.5}},
      {{"metric": "pacing", "window_days": 7, "op": "gt", "value": 0.95}}],
    "action": {{"type": "change_budget_pct", "pct": "15"}},
    "safety": {{"min_conversions": 20, "cooldown_hours": 48}}}},
  {{"id": "stop", "conditions": [
      {{"metric": "cpa", "window_days": 30, "op": "gt", "value": 400}}],
    "action": {{"type": "pause"}}}},
  {{"id": "bid", "conditions": [
      {{"metric": "ctr", "window_days": 14, "aggregation": "daily_min", "op": "lt", "value": 0.006}}],
    "action": {{"type": "change_bid_pct", "pct": "-10"}}}}
]}}"#
    ))
}
