//! Shared fixtures and proptest strategies.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::panic
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use stratum_core::gate::*;
use stratum_core::guardrails::{GuardrailConfig, MinDataVolume};
use stratum_core::health::*;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn scope() -> Scope {
    Scope::tenant("acme").platform("meta").ad_account("act_1")
}

/// All five components present and fresh; `emq` drives the score.
pub fn full_signals(scope: &Scope, at: DateTime<Utc>, emq: f64) -> Signals {
    let mut s = Signals::new(scope.clone());
    s.emq = Some(EmqObservation {
        observed_at: at,
        score: emq,
        events: 1_000,
    });
    s.api = Some(ApiObservation {
        observed_at: at,
        total: 1_000,
        succeeded: 1_000,
        p95_latency_ms: 100.0,
        rate_limited: 0,
        server_errors: 0,
        bursts: 0,
    });
    s.events = Some(EventObservation {
        observed_at: at,
        sent: 1_000,
        confirmed: 1_000,
        duplicates: 0,
    });
    s.stability = Some(StabilityObservation {
        observed_at: at,
        incidents: 0,
        error_rates: vec![0.01, 0.01, 0.01],
    });
    s.data_quality = Some(DataQualityObservation {
        observed_at: at,
        total: 1_000,
        valid: 1_000,
        stale: 0,
    });
    s
}

pub fn healthy(at: DateTime<Utc>) -> Signals {
    full_signals(&scope(), at, 9.5)
}

/// Score 0.35×10×emq + 65: emq 1.0 → 68.5 (Degraded); emq 0 and bad API → Unhealthy.
pub fn unhealthy(at: DateTime<Utc>) -> Signals {
    let mut s = full_signals(&scope(), at, 0.0);
    if let Some(a) = &mut s.api {
        a.succeeded = 100;
        a.server_errors = 900;
    }
    if let Some(e) = &mut s.events {
        e.confirmed = 100;
    }
    s
}

pub fn budget(from: i64, to: i64, who: Actor) -> ProposedAction {
    ProposedAction::new(
        ActionKind::BudgetChange {
            from: Decimal::from(from),
            to: Decimal::from(to),
        },
        Target::new(scope(), "cmp_1"),
        who,
    )
}

pub fn pause(who: Actor) -> ProposedAction {
    ProposedAction::new(ActionKind::Pause, Target::new(scope(), "cmp_1"), who)
}

// ---------------------------------------------------------------- strategies

pub fn arb_weights() -> impl Strategy<Value = Weights> {
    prop::array::uniform5(0.0f64..1.0).prop_filter_map("all zero", |w| {
        let sum: f64 = w.iter().sum();
        if sum < 1e-3 {
            return None;
        }
        let mut n = w.map(|x| x / sum);
        // Put the rounding remainder on the largest weight so the sum is 1 ± ulp.
        let rest: f64 = n[1..].iter().sum();
        n[0] = (1.0 - rest).max(0.0);
        Some(Weights {
            emq: n[0],
            api_health: n[1],
            event_loss: n[2],
            platform_stability: n[3],
            data_quality: n[4],
        })
    })
}

pub fn arb_health_config() -> impl Strategy<Value = HealthConfig> {
    (
        arb_weights(),
        1.0f64..100.0,
        0.0f64..1.0,
        prop::bool::ANY,
        1i64..48,
        (1.0f64..5_000.0, 0.0f64..50.0, 0.0f64..20.0),
        (0.0f64..50.0, 0.0f64..20.0),
        (0u64..100, 0u64..100, 0u64..100),
    )
        .prop_filter_map(
            "invalid",
            |(w, healthy, frac, renorm, age_h, api, stab, mins)| {
                HealthConfig::builder()
                    .weights(w)
                    .thresholds(Thresholds {
                        healthy,
                        degraded: healthy * frac,
                    })
                    .missing(if renorm {
                        MissingPolicy::Renormalize
                    } else {
                        MissingPolicy::ScoreZero
                    })
                    .max_signal_age(TimeDelta::hours(age_h))
                    .api(ApiScoring {
                        latency_slo_ms: api.0,
                        latency_penalty_max: api.1,
                        burst_penalty: api.2,
                        burst_penalty_max: api.1,
                        min_calls: mins.0,
                    })
                    .stability(StabilityScoring {
                        incident_penalty: stab.0,
                        volatility_penalty: stab.1,
                        volatility_penalty_max: 50.0,
                        min_samples: 1,
                    })
                    .min_samples(MinSamples {
                        emq_events: mins.0,
                        events_sent: mins.1,
                        quality_events: mins.2,
                    })
                    .build()
                    .ok()
            },
        )
}

pub fn arb_mode() -> impl Strategy<Value = EnforcementMode> {
    prop_oneof![
        Just(EnforcementMode::Advisory),
        Just(EnforcementMode::SoftBlock),
        Just(EnforcementMode::HardBlock),
    ]
}

fn opt_dec(lo: i64, hi: i64) -> impl Strategy<Value = Option<Decimal>> {
    prop::option::of((lo..hi).prop_map(Decimal::from))
}

pub fn arb_guardrails() -> impl Strategy<Value = GuardrailConfig> {
    (
        (
            opt_dec(1, 100),
            opt_dec(1, 1_000),
            opt_dec(1, 200),
            opt_dec(1, 2_000),
        ),
        (opt_dec(0, 50), opt_dec(100, 5_000)),
        prop::option::of(1i64..7_200),
        prop::option::of(1u32..20),
        prop::option::of((0u64..50, 0i64..500)),
    )
        .prop_map(
            |(change, budget, cooldown, per_day, volume)| GuardrailConfig {
                max_change_pct: change.0,
                max_change_abs: change.1,
                max_daily_change_pct: change.2,
                max_daily_change_abs: change.3,
                min_budget: budget.0,
                max_budget: budget.1,
                target_cooldown: cooldown.map(TimeDelta::seconds),
                max_actions_per_day: per_day,
                min_data_volume: volume.map(|(c, s)| MinDataVolume {
                    conversions: c,
                    spend: Decimal::from(s),
                }),
            },
        )
}

pub fn arb_gate_config() -> impl Strategy<Value = TrustGateConfig> {
    (
        arb_health_config(),
        arb_mode(),
        prop::collection::btree_map(
            prop_oneof![
                Just(ActionKindTag::BudgetChange),
                Just(ActionKindTag::BidChange),
                Just(ActionKindTag::Pause),
                Just(ActionKindTag::Resume),
                Just(ActionKindTag::Custom),
            ],
            arb_mode(),
            0..3,
        ),
        0.01f64..1.0,
        (1u32..8, 0u32..8, 0i64..7_200, 1u32..4),
        arb_guardrails(),
    )
        .prop_filter_map(
            "invalid",
            |(health, mode, by_kind, evidence, (window, trip, cooldown, recovery), guardrails)| {
                let mut b = TrustGateConfig::builder()
                    .health(health)
                    .enforcement(mode)
                    .evidence(EvidenceConfig {
                        min_present_weight: evidence,
                    })
                    .hysteresis(HysteresisConfig {
                        window,
                        trip_after: trip.clamp(1, window),
                        cooldown: TimeDelta::seconds(cooldown),
                        recovery_readings: recovery,
                    })
                    .guardrails(guardrails);
                for (k, m) in by_kind {
                    b = b.enforcement_for(k, m);
                }
                b.build().ok()
            },
        )
}

/// Signals with every component optional, values consistent, ages 0..30 h.
pub fn arb_signals(at: DateTime<Utc>) -> impl Strategy<Value = Signals> {
    let age = (0i64..30 * 3600).prop_map(move |s| at - TimeDelta::seconds(s));
    (
        prop::option::of((age.clone(), 0.0f64..=10.0, 0u64..5_000)),
        prop::option::of((
            age.clone(),
            0u64..2_000,
            0.0f64..1.0,
            0.0f64..5_000.0,
            0.0f64..1.0,
            0u32..6,
        )),
        prop::option::of((age.clone(), 0u64..5_000, 0.0f64..1.2, 0.0f64..0.3)),
        prop::option::of((
            age.clone(),
            0u32..5,
            prop::collection::vec(0.0f64..=1.0, 0..12),
        )),
        prop::option::of((age, 0u64..5_000, 0.0f64..=1.0, 0.0f64..=1.0)),
    )
        .prop_map(|(emq, api, ev, stab, dq)| {
            let mut s = Signals::new(scope());
            s.emq = emq.map(|(t, score, events)| EmqObservation {
                observed_at: t,
                score,
                events,
            });
            s.api = api.map(|(t, total, ok, p95, err_share, bursts)| {
                let succeeded = (total as f64 * ok) as u64;
                let failed = total - succeeded;
                let rate_limited = (failed as f64 * err_share) as u64;
                ApiObservation {
                    observed_at: t,
                    total,
                    succeeded,
                    p95_latency_ms: p95,
                    rate_limited,
                    server_errors: failed - rate_limited,
                    bursts,
                }
            });
            s.events = ev.map(|(t, sent, conf, dup)| EventObservation {
                observed_at: t,
                sent,
                confirmed: (sent as f64 * conf) as u64,
                duplicates: (sent as f64 * dup) as u64,
            });
            s.stability = stab.map(|(t, incidents, error_rates)| StabilityObservation {
                observed_at: t,
                incidents,
                error_rates,
            });
            s.data_quality = dq.map(|(t, total, v, st)| {
                let valid = (total as f64 * v) as u64;
                DataQualityObservation {
                    observed_at: t,
                    total,
                    valid,
                    stale: (valid as f64 * st) as u64,
                }
            });
            s
        })
}

pub fn arb_actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        3 => prop::option::of("[a-z_]{1,8}").prop_map(|rule| Actor::Autopilot { rule }),
        1 => "[a-z]{1,6}".prop_map(|name| Actor::System { name }),
        2 => ("u_[0-9]{1,4}", prop_oneof![Just("admin".to_owned()), Just("viewer".to_owned())])
            .prop_map(|(id, role)| Actor::Person { id, role }),
    ]
}

pub fn arb_kind() -> impl Strategy<Value = ActionKind> {
    prop_oneof![
        3 => (0i64..2_000, 0i64..2_000).prop_map(|(f, t)| ActionKind::BudgetChange {
            from: Decimal::new(f * 100, 2),
            to: Decimal::new(t * 100 + 50, 2)
        }),
        1 => (1i64..500, 1i64..500).prop_map(|(f, t)| ActionKind::BidChange {
            from: Decimal::new(f, 2),
            to: Decimal::new(t, 2)
        }),
        1 => Just(ActionKind::Pause),
        1 => Just(ActionKind::Resume),
        1 => ("[a-z_]{1,10}", prop::option::of((0i64..1_000).prop_map(Decimal::from)))
            .prop_map(|(name, magnitude)| ActionKind::Custom { name, magnitude }),
    ]
}

pub fn arb_action() -> impl Strategy<Value = ProposedAction> {
    (
        arb_kind(),
        prop_oneof![Just("cmp_1"), Just("cmp_2"), Just("cmp_3")],
        arb_actor(),
        prop::option::of((0u64..100, 0i64..1_000)),
    )
        .prop_map(|(kind, id, proposer, volume)| {
            let mut a = ProposedAction::new(kind, Target::new(scope(), id), proposer);
            if let Some((c, s)) = volume {
                a = a.with_data_volume(c, Decimal::from(s));
            }
            a
        })
}

/// One step of a random history: minutes since the previous step, signals, an
/// action, and whether an admin grants an override on the action's target first.
pub fn arb_history(len: usize) -> impl Strategy<Value = Vec<(i64, Signals, ProposedAction, bool)>> {
    prop::collection::vec(
        (
            0i64..180,
            arb_signals(t0()),
            arb_action(),
            prop::bool::weighted(0.15),
        ),
        1..len,
    )
}
