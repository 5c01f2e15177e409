//! Shared helpers for the Stratum benchmarks: a tiny deterministic PRNG and
//! generators of realistic signals, proposed actions, gate configurations and
//! backtest history.
//!
//! Everything is a pure function of a seed, so two runs (and two configs in a
//! comparison) see exactly the same data.
//!
//! * [`signals`] / [`observe`]: one scope's observations: mostly healthy, sometimes
//!   degraded or unhealthy, sometimes with components missing (telemetry gaps, low
//!   volume, a full telemetry outage).
//! * [`action`] / [`reshape_action`]: budget and bid changes, pauses, resumes and
//!   custom actions on a handful of campaigns per account, proposed mostly by the
//!   autopilot.
//! * [`connectors`]: emails, phone numbers and EMQ events for the connector and EMQ
//!   benchmarks.
//! * [`History`]: a lazily generated, time-ordered stream of backtest steps for
//!   many accounts (one step per account and hour, one action per step) that
//!   mutates per-account steps in place instead of materialising them.

pub mod analytics;
pub mod segments;

use std::fmt::Write as _;
use std::rc::Rc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use stratum_core::backtest::BacktestStep;
use stratum_core::gate::{
    ActionKind, ActionKindTag, Actor, DataVolume, EnforcementMode, EvidenceConfig,
    HysteresisConfig, ProposedAction, Target, TrustGateConfig,
};
use stratum_core::guardrails::{GuardrailConfig, MinDataVolume};
use stratum_core::health::{
    ApiObservation, DataQualityObservation, EmqObservation, EventObservation, HealthConfig, Scope,
    Signals, StabilityObservation, Thresholds,
};

/// The seed every benchmark and the year-long backtest use.
pub const SEED: u64 = 0x5354_5241_5455_4D21;

/// Campaigns per ad account that actions target.
pub const CAMPAIGNS_PER_ACCOUNT: u32 = 8;

/// Ad accounts per tenant in generated scopes.
pub const ACCOUNTS_PER_TENANT: u32 = 20;

/// Error-rate samples per stability observation.
pub const ERROR_RATE_SAMPLES: usize = 6;

/// A small, fast, deterministic PRNG (SplitMix64). Not for cryptography.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in `lo..hi`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A uniform integer in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..hi` (`lo` when the range is empty).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo))
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An independent generator derived from this one.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64() ^ 0xD1B5_4A32_D192_ED03)
    }
}

/// The first instant of generated history: 2026-01-01T00:00:00Z.
#[must_use]
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The scope of ad account number `account`: tenants of
/// [`ACCOUNTS_PER_TENANT`] accounts, spread over three platforms.
#[must_use]
pub fn scope(account: u32) -> Scope {
    let platform = match account % 3 {
        0 => "meta",
        1 => "google",
        _ => "tiktok",
    };
    Scope::tenant(format!("tenant_{:03}", account / ACCOUNTS_PER_TENANT))
        .platform(platform)
        .ad_account(format!("act_{account:05}"))
}

/// The condition of a scope's telemetry, which shapes its observations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Good match quality, few errors, little event loss.
    Healthy,
    /// Noticeably worse numbers: scores land mostly between 40 and 70.
    Degraded,
    /// An incident: scores land mostly below 40.
    Unhealthy,
}

impl Condition {
    /// An independent draw: 85 % healthy, 10 % degraded, 5 % unhealthy.
    pub fn draw(rng: &mut Rng) -> Self {
        let r = rng.unit();
        if r < 0.85 {
            Condition::Healthy
        } else if r < 0.95 {
            Condition::Degraded
        } else {
            Condition::Unhealthy
        }
    }

    /// The condition an hour later (a Markov chain that stays healthy about 90 %
    /// of the time, with incidents lasting a few hours).
    pub fn next(self, rng: &mut Rng) -> Self {
        let r = rng.unit();
        match self {
            Condition::Healthy if r < 0.015 => Condition::Degraded,
            Condition::Healthy if r < 0.018 => Condition::Unhealthy,
            Condition::Degraded if r < 0.25 => Condition::Healthy,
            Condition::Degraded if r < 0.30 => Condition::Unhealthy,
            Condition::Unhealthy if r < 0.20 => Condition::Degraded,
            Condition::Unhealthy if r < 0.25 => Condition::Healthy,
            same => same,
        }
    }
}

/// Value ranges of the observations under one condition.
struct Profile {
    emq: (f64, f64),
    api_success: (f64, f64),
    p95_ms: (f64, f64),
    max_bursts: u64,
    confirmed: (f64, f64),
    incident_chance: f64,
    max_incidents: u64,
    error_rate: (f64, f64),
    valid: (f64, f64),
    stale: (f64, f64),
    missing_chance: f64,
}

const HEALTHY: Profile = Profile {
    emq: (7.0, 9.6),
    api_success: (0.985, 1.0),
    p95_ms: (150.0, 950.0),
    max_bursts: 1,
    confirmed: (0.95, 1.0),
    incident_chance: 0.01,
    max_incidents: 1,
    error_rate: (0.002, 0.012),
    valid: (0.97, 1.0),
    stale: (0.0, 0.01),
    missing_chance: 0.02,
};

const DEGRADED: Profile = Profile {
    emq: (4.0, 7.0),
    api_success: (0.88, 0.98),
    p95_ms: (800.0, 1_700.0),
    max_bursts: 3,
    confirmed: (0.75, 0.95),
    incident_chance: 0.3,
    max_incidents: 1,
    error_rate: (0.01, 0.06),
    valid: (0.82, 0.96),
    stale: (0.02, 0.06),
    missing_chance: 0.06,
};

const UNHEALTHY: Profile = Profile {
    emq: (0.5, 4.0),
    api_success: (0.4, 0.9),
    p95_ms: (1_500.0, 6_000.0),
    max_bursts: 6,
    confirmed: (0.3, 0.8),
    incident_chance: 0.8,
    max_incidents: 3,
    error_rate: (0.03, 0.25),
    valid: (0.4, 0.85),
    stale: (0.05, 0.2),
    missing_chance: 0.1,
};

fn profile(condition: Condition) -> &'static Profile {
    match condition {
        Condition::Healthy => &HEALTHY,
        Condition::Degraded => &DEGRADED,
        Condition::Unhealthy => &UNHEALTHY,
    }
}

/// `share` of `n`, rounded down.
fn part(n: u64, share: f64) -> u64 {
    ((n as f64) * share.clamp(0.0, 1.0)) as u64
}

/// An observation time up to 15 minutes before `at`.
fn observed(at: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    at - TimeDelta::seconds(rng.below(900) as i64)
}

/// Fresh observations for `scope` at `at`, with a condition drawn by
/// [`Condition::draw`].
pub fn signals(scope: &Scope, at: DateTime<Utc>, rng: &mut Rng) -> Signals {
    let mut s = Signals::new(scope.clone());
    let condition = Condition::draw(rng);
    observe(&mut s, at, condition, rng);
    s
}

/// Overwrites every observation of `signals` with a new reading at `at` under
/// `condition`, reusing its allocations. Observations are stamped up to 15 minutes
/// before `at`; each component may be missing (a telemetry gap), about 3 % of
/// readings have low volume (so some components count too few samples), and about
/// 1 % are a telemetry outage where only EMQ arrives.
pub fn observe(signals: &mut Signals, at: DateTime<Utc>, condition: Condition, rng: &mut Rng) {
    let p = profile(condition);
    let outage = rng.chance(0.01);
    let volume = if rng.chance(0.03) {
        rng.between(10, 120)
    } else {
        rng.between(800, 25_000)
    };

    signals.emq = (!rng.chance(p.missing_chance)).then(|| EmqObservation {
        observed_at: observed(at, rng),
        score: rng.range(p.emq.0, p.emq.1),
        events: volume,
    });

    let present = !outage && !rng.chance(p.missing_chance);
    signals.api = present.then(|| {
        let total = rng.between(100, 5_000);
        let succeeded = part(total, rng.range(p.api_success.0, p.api_success.1));
        let failed = total - succeeded;
        let rate_limited = part(failed, rng.range(0.0, 0.6));
        let server_errors = part(failed - rate_limited, rng.range(0.2, 0.9));
        ApiObservation {
            observed_at: observed(at, rng),
            total,
            succeeded,
            p95_latency_ms: rng.range(p.p95_ms.0, p.p95_ms.1),
            rate_limited,
            server_errors,
            bursts: rng.below(p.max_bursts + 1) as u32,
        }
    });

    let present = !outage && !rng.chance(p.missing_chance);
    signals.events = present.then(|| {
        let sent = volume;
        let duplicates = part(sent, rng.range(0.0, 0.01));
        let unique = sent - duplicates;
        // Platforms occasionally confirm slightly more than was sent.
        let confirmed = if rng.chance(0.005) {
            unique + rng.below(5)
        } else {
            part(unique, rng.range(p.confirmed.0, p.confirmed.1))
        };
        EventObservation {
            observed_at: observed(at, rng),
            sent,
            confirmed,
            duplicates,
        }
    });

    let present = !outage && !rng.chance(p.missing_chance);
    let mut rates = signals
        .stability
        .take()
        .map(|o| o.error_rates)
        .unwrap_or_default();
    signals.stability = if present {
        rates.clear();
        rates.extend((0..ERROR_RATE_SAMPLES).map(|_| rng.range(p.error_rate.0, p.error_rate.1)));
        let incidents = if rng.chance(p.incident_chance) {
            1 + rng.below(p.max_incidents) as u32
        } else {
            0
        };
        Some(StabilityObservation {
            observed_at: observed(at, rng),
            incidents,
            error_rates: rates,
        })
    } else {
        None
    };

    let present = !outage && !rng.chance(p.missing_chance);
    signals.data_quality = present.then(|| {
        let total = volume;
        let valid = part(total, rng.range(p.valid.0, p.valid.1));
        let stale = part(valid, rng.range(p.stale.0, p.stale.1));
        DataQualityObservation {
            observed_at: observed(at, rng),
            total,
            valid,
            stale,
        }
    });
}

/// Stamps every present observation of `signals` at `at` (so a gate takes the
/// same numbers as a new reading).
pub fn restamp(signals: &mut Signals, at: DateTime<Utc>) {
    if let Some(o) = &mut signals.emq {
        o.observed_at = at;
    }
    if let Some(o) = &mut signals.api {
        o.observed_at = at;
    }
    if let Some(o) = &mut signals.events {
        o.observed_at = at;
    }
    if let Some(o) = &mut signals.stability {
        o.observed_at = at;
    }
    if let Some(o) = &mut signals.data_quality {
        o.observed_at = at;
    }
}

/// Typical daily budgets of an account's campaigns, in cents.
const BASE_BUDGET_CENTS: [i64; CAMPAIGNS_PER_ACCOUNT as usize] = [
    5_000, 12_000, 25_000, 40_000, 80_000, 150_000, 300_000, 500_000,
];

const RULES: [&str; 4] = [
    "roas_above_target",
    "cpa_above_target",
    "pacing_under",
    "frequency_cap",
];

/// A proposed action on one of [`CAMPAIGNS_PER_ACCOUNT`] campaigns of `scope`
/// (see [`reshape_action`] for the mix).
pub fn action(scope: &Scope, rng: &mut Rng) -> ProposedAction {
    let mut a = ProposedAction::new(
        ActionKind::Pause,
        Target::new(scope.clone(), String::with_capacity(8)),
        Actor::autopilot(),
    );
    reshape_action(&mut a, rng);
    a
}

/// Turns `action` into a new proposal within the same scope, reusing the target's
/// allocation: 60 % budget changes (mostly within ±30 %, some larger), 20 % bid
/// changes, 8 % pauses, 7 % resumes and 5 % custom actions; proposed 80 % by the
/// autopilot, 12 % by a system job and 8 % by a person; 92 % carry data-volume
/// evidence.
pub fn reshape_action(action: &mut ProposedAction, rng: &mut Rng) {
    let campaign = rng.below(u64::from(CAMPAIGNS_PER_ACCOUNT)) as usize;
    action.target.id.clear();
    let _ = write!(action.target.id, "cmp_{campaign}");

    let r = rng.unit();
    action.kind = if r < 0.60 {
        let base = BASE_BUDGET_CENTS[campaign];
        let from = base * (90 + rng.below(21) as i64) / 100;
        let pct = change_pct(rng, 30, 45);
        ActionKind::BudgetChange {
            from: Decimal::new(from, 2),
            to: Decimal::new(from * (100 + pct) / 100, 2),
        }
    } else if r < 0.80 {
        let from = rng.between(50, 2_000) as i64;
        let pct = change_pct(rng, 25, 40);
        ActionKind::BidChange {
            from: Decimal::new(from, 2),
            to: Decimal::new(from * (100 + pct) / 100, 2),
        }
    } else if r < 0.88 {
        ActionKind::Pause
    } else if r < 0.95 {
        ActionKind::Resume
    } else {
        ActionKind::Custom {
            name: "creative_rotation".to_owned(),
            magnitude: rng
                .chance(0.5)
                .then(|| Decimal::new(rng.between(1, 50) as i64, 0)),
        }
    };

    let r = rng.unit();
    action.proposer = if r < 0.80 {
        Actor::Autopilot {
            rule: Some(RULES[rng.below(RULES.len() as u64) as usize].to_owned()),
        }
    } else if r < 0.92 {
        Actor::System {
            name: "scheduler".to_owned(),
        }
    } else {
        Actor::person(format!("u_{}", rng.between(1, 40)), "media_buyer")
    };

    action.data_volume = rng.chance(0.92).then(|| DataVolume {
        conversions: rng.below(300),
        spend: Decimal::new(rng.between(0, 800_000) as i64, 2),
    });
}

/// A change in percent: 90 % within `±usual`, otherwise up to `±large`.
fn change_pct(rng: &mut Rng, usual: u64, large: u64) -> i64 {
    let limit = if rng.chance(0.9) { usual } else { large };
    let magnitude = rng.between(1, limit + 1) as i64;
    if rng.chance(0.6) {
        magnitude
    } else {
        -magnitude
    }
}

/// The guardrails a typical tenant runs with: ±30 % per change, ±50 % net per day,
/// budgets within 10..50,000, a 2-hour cooldown per campaign, at most 400 executed
/// actions per tenant per day, and at least 20 conversions and 100 of spend behind
/// an automated proposal.
#[must_use]
pub fn guardrails() -> GuardrailConfig {
    GuardrailConfig {
        max_change_pct: Some(Decimal::new(30, 0)),
        max_change_abs: Some(Decimal::new(2_000, 0)),
        max_daily_change_pct: Some(Decimal::new(50, 0)),
        max_daily_change_abs: None,
        min_budget: Some(Decimal::new(10, 0)),
        max_budget: Some(Decimal::new(50_000, 0)),
        target_cooldown: Some(TimeDelta::hours(2)),
        max_actions_per_day: Some(400),
        min_data_volume: Some(MinDataVolume {
            conversions: 20,
            spend: Decimal::new(100, 0),
        }),
    }
}

/// The baseline gate configuration: default health scoring, soft-blocking
/// guardrails from [`guardrails`], pauses advisory only.
///
/// # Errors
/// Only if the configuration were invalid, which it is not.
pub fn gate_config() -> stratum_core::Result<TrustGateConfig> {
    TrustGateConfig::builder()
        .enforcement(EnforcementMode::SoftBlock)
        .enforcement_for(ActionKindTag::Pause, EnforcementMode::Advisory)
        .guardrails(guardrails())
        .build()
}

/// A stricter variant of [`gate_config`]: healthy from 80 (degraded from 50),
/// 80 % of the signal weight required, one bad reading trips the gate, recovery
/// needs 5 healthy readings and 2 hours, and budget changes hard-block.
///
/// # Errors
/// Only if the configuration were invalid, which it is not.
pub fn strict_config() -> stratum_core::Result<TrustGateConfig> {
    let health = HealthConfig::builder()
        .thresholds(Thresholds {
            healthy: 80.0,
            degraded: 50.0,
        })
        .build()?;
    gate_config()?
        .to_builder()
        .health(health)
        .evidence(EvidenceConfig {
            min_present_weight: 0.8,
        })
        .hysteresis(HysteresisConfig {
            window: 5,
            trip_after: 1,
            cooldown: TimeDelta::hours(2),
            recovery_readings: 5,
        })
        .enforcement_for(ActionKindTag::BudgetChange, EnforcementMode::HardBlock)
        .build()
}

/// One account of a [`History`].
#[derive(Debug)]
struct Account {
    step: Rc<BacktestStep>,
    condition: Condition,
}

/// A lazily generated backtest history: for each hour, one step per account (in
/// account order), each with one proposed action. Steps are in non-decreasing time
/// order.
///
/// The iterator yields `Rc<BacktestStep>` (which `stratum_core::backtest::run` and
/// `compare` accept through `Borrow`). Each account's step is mutated in place
/// once the consumer has dropped the previous one, so a history of millions of
/// steps needs memory for one step per account only. Collecting it still works:
/// a step that is still referenced is copied before being changed.
#[derive(Debug)]
pub struct History {
    accounts: Vec<Account>,
    hours: u32,
    hour: u32,
    next: usize,
    start: DateTime<Utc>,
    rng: Rng,
}

impl History {
    /// `accounts` accounts observed hourly for `hours` hours from [`epoch`].
    #[must_use]
    pub fn new(accounts: u32, hours: u32, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let start = epoch();
        let accounts = (0..accounts)
            .map(|i| {
                let scope = scope(i);
                let actions = vec![action(&scope, &mut rng)];
                Account {
                    step: Rc::new(BacktestStep {
                        at: start,
                        signals: Signals::new(scope),
                        actions,
                    }),
                    condition: Condition::draw(&mut rng),
                }
            })
            .collect();
        History {
            accounts,
            hours,
            hour: 0,
            next: 0,
            start,
            rng,
        }
    }

    /// Steps (and evaluations: one action per step) still to come.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        let per_hour = self.accounts.len() as u64;
        let hours_left = u64::from(self.hours.saturating_sub(self.hour));
        (per_hour * hours_left).saturating_sub(self.next as u64)
    }

    /// All steps as owned values (for small histories that are replayed many times).
    #[must_use]
    pub fn materialise(self) -> Vec<BacktestStep> {
        self.map(|s| BacktestStep::clone(&s)).collect()
    }
}

impl Iterator for History {
    type Item = Rc<BacktestStep>;

    fn next(&mut self) -> Option<Rc<BacktestStep>> {
        if self.hour >= self.hours || self.accounts.is_empty() {
            return None;
        }
        let at = self.start + TimeDelta::hours(i64::from(self.hour));
        let account = &mut self.accounts[self.next];
        account.condition = account.condition.next(&mut self.rng);
        let step = Rc::make_mut(&mut account.step);
        step.at = at;
        observe(&mut step.signals, at, account.condition, &mut self.rng);
        if let Some(a) = step.actions.first_mut() {
            reshape_action(a, &mut self.rng);
        }
        let out = Rc::clone(&account.step);
        self.next += 1;
        if self.next == self.accounts.len() {
            self.next = 0;
            self.hour += 1;
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining()).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for History {}

#[cfg(test)]
mod tests {
    use super::*;
    use stratum_core::backtest;
    use stratum_core::health::HealthStatus;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::new(SEED);
        let mut b = Rng::new(SEED);
        for _ in 0..1_000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(a.below(7) < 7);
            let x = a.between(10, 20);
            assert!((10..20).contains(&x));
            b.unit();
            b.below(7);
            b.between(10, 20);
        }
    }

    #[test]
    fn generated_signals_and_actions_are_valid_and_mostly_healthy() {
        let mut rng = Rng::new(SEED);
        let cfg = HealthConfig::default();
        let now = epoch();
        let mut healthy = 0;
        let mut incomplete = 0;
        for i in 0..2_000 {
            let scope = scope(i % 50);
            let s = signals(&scope, now, &mut rng);
            let report = cfg.score(&s, now);
            assert!(report.is_ok(), "{report:?}");
            if let Ok(r) = report {
                healthy += usize::from(r.status == HealthStatus::Healthy);
                incomplete += usize::from(!r.missing.is_empty());
            }
            let a = action(&scope, &mut rng);
            assert!(a.validate().is_ok(), "{a:?}");
        }
        assert!(healthy > 1_300 && healthy < 1_900, "{healthy}");
        assert!(incomplete > 50 && incomplete < 600, "{incomplete}");
    }

    #[test]
    fn history_streams_valid_steps_in_time_order() {
        let cfg = gate_config();
        assert!(cfg.is_ok());
        let Ok(cfg) = cfg else { return };
        let history = History::new(7, 30, SEED);
        assert_eq!(history.len(), 210);
        let report = backtest::run(&cfg, history);
        assert!(report.is_ok(), "{report:?}");
        if let Ok(r) = report {
            assert_eq!(r.totals.decisions, 210);
            assert_eq!(r.totals.readings, 210);
        }
        let a = History::new(3, 5, SEED).materialise();
        let b = History::new(3, 5, SEED).materialise();
        assert_eq!(a.len(), 15);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(strict_config().is_ok());
    }
}

/// Connector and EMQ inputs: customer emails and phone numbers in the shapes real
/// forms produce, and EMQ events with realistic key coverage.
pub mod connectors {
    use super::Rng;
    use stratum_core::emq::{EmqEvent, EmqKey};

    const FIRST: [&str; 8] = [
        "john",
        "Maria",
        "li.wei",
        "Anna-Lena",
        "o.connor",
        "SAM",
        "yuki",
        "fatima",
    ];
    const DOMAINS: [&str; 6] = [
        "gmail.com",
        "Example.COM",
        "yahoo.co.uk",
        "outlook.com",
        "acme-corp.io",
        "web.de",
    ];

    /// `n` emails: mixed case, sometimes with surrounding spaces or a `+tag`.
    #[must_use]
    pub fn emails(n: usize, rng: &mut Rng) -> Vec<String> {
        (0..n)
            .map(|_| {
                let name = FIRST[rng.below(FIRST.len() as u64) as usize];
                let domain = DOMAINS[rng.below(DOMAINS.len() as u64) as usize];
                let tag = if rng.chance(0.1) { "+promo" } else { "" };
                let pad = if rng.chance(0.2) { " " } else { "" };
                format!("{pad}{name}{}{tag}@{domain}{pad}", rng.below(10_000))
            })
            .collect()
    }

    /// `n` phone numbers, international and US-national, in typical form layouts.
    #[must_use]
    pub fn phones(n: usize, rng: &mut Rng) -> Vec<String> {
        (0..n)
            .map(|_| {
                let line = rng.between(1000, 9999);
                match rng.below(4) {
                    0 => format!("+1 (650) 253-{line}"),
                    1 => format!("(212) 555-{line}"),
                    2 => format!("+44 20 7946 {line}"),
                    _ => format!("+49 30 1234{line}"),
                }
            })
            .collect()
    }

    /// `n` Meta website purchases with 10 raw user fields each (email, phone, first
    /// and last name, city, state, zip, country, IP, user agent), an id, a URL, a
    /// value and two items, at `at`.
    #[must_use]
    pub fn conversion_events(
        n: usize,
        at: chrono::DateTime<chrono::Utc>,
        rng: &mut Rng,
    ) -> Vec<stratum_connectors::ConversionEvent> {
        use rust_decimal::Decimal;
        use stratum_connectors::{ActionSource, Content, ConversionEvent, Field, FieldValue};
        const LAST: [&str; 4] = ["Smith", "O\u{2019}Connor", "van der Berg", "M\u{fc}ller"];
        const CITIES: [(&str, &str, &str); 3] = [
            ("San Francisco", "California", "94105-1234"),
            ("New York", "NY", "10001"),
            ("Austin", "tx", "73301"),
        ];
        let emails = emails(n, rng);
        let phones = phones(n, rng);
        emails
            .into_iter()
            .zip(phones)
            .enumerate()
            .map(|(i, (email, phone))| {
                let (city, state, zip) = CITIES[rng.below(CITIES.len() as u64) as usize];
                let first = FIRST[rng.below(FIRST.len() as u64) as usize];
                let last = LAST[rng.below(LAST.len() as u64) as usize];
                let raw = |s: &str| FieldValue::raw(s);
                ConversionEvent::new("Purchase", at, ActionSource::Website)
                    .with_event_id(format!("order-{i}"))
                    .with_url("https://shop.example/checkout")
                    .with_user(Field::Email, FieldValue::Raw(email))
                    .with_user(Field::Phone, FieldValue::Raw(phone))
                    .with_user(Field::FirstName, raw(first))
                    .with_user(Field::LastName, raw(last))
                    .with_user(Field::City, raw(city))
                    .with_user(Field::State, raw(state))
                    .with_user(Field::Zip, raw(zip))
                    .with_user(Field::Country, raw("US"))
                    .with_user(
                        Field::ClientIp,
                        FieldValue::Raw(format!("203.0.113.{}", rng.below(256))),
                    )
                    .with_user(
                        Field::UserAgent,
                        raw("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"),
                    )
                    .with_value(Decimal::new(rng.between(100, 100_000) as i64, 2), "USD")
                    .with_content(Content::new("SKU-1", 2, Decimal::new(1250, 2)))
                    .with_content(Content::new("SKU-2", 1, Decimal::new(999, 2)))
            })
            .collect()
    }

    /// `n` EMQ events: email on 85 %, IP + UA on 90 %, browser id on 60 %, click id
    /// on 25 %, phone on 40 % (5 % invalid), names and zip on 30 %, country on 50 %;
    /// ids from a pool with about 2 % repeats.
    #[must_use]
    pub fn emq_events(n: usize, rng: &mut Rng) -> Vec<EmqEvent> {
        let shares = [
            (EmqKey::Email, 0.85),
            (EmqKey::IpUa, 0.90),
            (EmqKey::BrowserId, 0.60),
            (EmqKey::ClickId, 0.25),
            (EmqKey::Phone, 0.40),
            (EmqKey::FirstName, 0.30),
            (EmqKey::LastName, 0.30),
            (EmqKey::Zip, 0.30),
            (EmqKey::Country, 0.50),
        ];
        (0..n)
            .map(|i| {
                let mut e = EmqEvent::new();
                for (k, p) in shares {
                    if rng.chance(p) {
                        e = e.with(k);
                    }
                }
                if rng.chance(0.05) {
                    e = e.with_invalid(EmqKey::Phone);
                }
                let id = if rng.chance(0.02) {
                    rng.below(i as u64 + 1)
                } else {
                    i as u64
                };
                e.with_event_id(format!("evt_{id:08}"))
            })
            .collect()
    }
}

/// A generated link table for bulk identity resolution: string identifier pairs
/// shaped like a CDP's event-derived links.
///
/// Per profile 2–5 identifiers (an anonymous UUID, then a user id, an email, a
/// device id and a phone number; mean 2.45), star-linked from the anonymous id;
/// 38 % of those links are followed by a repeat (the same visitor identified
/// again); four hub identifiers (a shared test email, a support address, an
/// all-zero advertising id and a shared kiosk device) take one link in 4,000.
/// Links are shuffled. At 10 M links: about 5 M profiles and 12.2 M distinct
/// identifiers.
#[derive(Debug, Clone)]
pub struct LinkTable {
    /// The two string columns, stored in link order (as read from a file or an
    /// Arrow table): text and end offsets.
    cols: [(String, Vec<u32>); 2],
    identifiers: usize,
    profiles: usize,
}

/// The hub identifiers of [`LinkTable`].
pub const HUBS: [&str; 4] = [
    "test@example.com",
    "support@shop.example",
    "00000000-0000-0000-0000-000000000000",
    "dev-shared-kiosk",
];

impl LinkTable {
    /// Generates `links` links (exactly) from `seed`.
    #[must_use]
    pub fn generate(links: usize, seed: u64) -> Self {
        use std::fmt::Write as _;
        let mut rng = Rng::new(seed);
        let mut text = String::with_capacity(links * 26);
        let mut ends: Vec<u32> = Vec::with_capacity(links * 6 / 5);
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(links);
        let mut profiles = 0usize;
        let push = |text: &String, ends: &mut Vec<u32>| -> u32 {
            ends.push(text.len() as u32);
            (ends.len() - 1) as u32
        };
        let hubs: Vec<u32> = HUBS
            .iter()
            .map(|h| {
                text.push_str(h);
                push(&text, &mut ends)
            })
            .collect();
        let hub_links = links / 4_000;
        while pairs.len() + hub_links < links {
            let p = profiles;
            profiles += 1;
            let k = match rng.below(100) {
                0..70 => 2,
                70..90 => 3,
                90..95 => 4,
                _ => 5,
            };
            let mut ids = [0u32; 5];
            for (j, slot) in ids.iter_mut().enumerate().take(k) {
                let r = rng.next_u64();
                let _ = match j {
                    0 => write!(
                        text,
                        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                        r >> 32,
                        (r >> 16) & 0xffff,
                        r & 0xffff,
                        (r >> 48) ^ 0x4000,
                        r & 0xffff_ffff_ffff
                    ),
                    1 => write!(text, "user_{p}"),
                    2 => write!(text, "p{p}@mail.example"),
                    3 => write!(text, "dev-{r:016x}"),
                    _ => write!(text, "+1555{:07}", r % 10_000_000),
                };
                *slot = push(&text, &mut ends);
            }
            for &other in &ids[1..k] {
                pairs.push((ids[0], other));
                if rng.chance(0.38) {
                    pairs.push((ids[rng.below(k as u64) as usize], other));
                }
            }
        }
        pairs.truncate(links - hub_links);
        let first = ends.len() as u64;
        for i in 0..hub_links {
            let hub = hubs[i % hubs.len()];
            // Some identifier of a random profile (an index past the hubs).
            let other = 4 + rng.below(first - 4) as u32;
            pairs.push((other, hub));
        }
        for i in (1..pairs.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            pairs.swap(i, j);
        }
        let ident = |i: u32| -> &str {
            let i = i as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            &text[start..ends[i] as usize]
        };
        let mut distinct = vec![false; ends.len()];
        let mut cols: [(String, Vec<u32>); 2] = Default::default();
        for (c, col) in cols.iter_mut().enumerate() {
            col.0.reserve(text.len());
            col.1.reserve(pairs.len());
            for &(a, b) in &pairs {
                let i = if c == 0 { a } else { b };
                distinct[i as usize] = true;
                col.0.push_str(ident(i));
                col.1.push(col.0.len() as u32);
            }
            col.0.shrink_to_fit();
        }
        LinkTable {
            cols,
            identifiers: distinct.iter().filter(|&&d| d).count(),
            profiles,
        }
    }

    /// Number of links.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cols[0].1.len()
    }

    /// Whether there are no links.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of profiles generated (before hubs join some of them).
    #[must_use]
    pub fn profiles(&self) -> usize {
        self.profiles
    }

    /// Number of distinct identifiers in the links.
    #[must_use]
    pub fn identifiers(&self) -> usize {
        self.identifiers
    }

    /// All links, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let [(at, ae), (bt, be)] = &self.cols;
        let mut a0 = 0usize;
        let mut b0 = 0usize;
        ae.iter().zip(be).map(move |(&a1, &b1)| {
            let (a1, b1) = (a1 as usize, b1 as usize);
            let pair = (&at[a0..a1], &bt[b0..b1]);
            a0 = a1;
            b0 = b1;
            pair
        })
    }

    /// Bytes of heap the table holds.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.cols
            .iter()
            .map(|(t, e)| t.capacity() + e.capacity() * 4)
            .sum()
    }
}

/// Readings of this process from `/proc` (Linux), for the benchmark binaries.
pub mod procfs {
    /// A `kB` field of `/proc/self/status` (e.g. `VmHWM:`), in bytes.
    #[must_use]
    pub fn status_kb(field: &str) -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = s.lines().find(|l| l.starts_with(field))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// Nanoseconds this thread has spent on a CPU (`/proc/thread-self/schedstat`):
    /// on a shared machine, the time the work itself took.
    #[must_use]
    pub fn cpu_ns() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        s.split_whitespace().next()?.parse().ok()
    }

    /// Nanoseconds all threads of this process (live and ended) have spent on a
    /// CPU: the user and system time of `/proc/self/stat` (fields 14 and 15, for
    /// the whole process, in clock ticks of 10 ms, so 10 ms resolution).
    #[must_use]
    pub fn process_cpu_ns() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) may hold spaces; fields count from after it.
        let rest = s.rsplit_once(')')?.1;
        // Field 14 (utime) is the 12th after the name; field 15 (stime) follows.
        let mut f = rest.split_whitespace();
        let utime: u64 = f.nth(11)?.parse().ok()?;
        let stime: u64 = f.next()?.parse().ok()?;
        Some((utime + stime) * 10_000_000)
    }
}
