#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_range_loop
)]
//! Attribution models: worked examples, invariants and bad input.

use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use stratum_core::analytics::attribution::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// P1: A → B converts once; P2: A ends without converting; P3: B converts once.
fn small() -> PathSet {
    let mut p = PathSet::new();
    p.push(&["A", "B"], 1, 0).unwrap();
    p.push(&["A"], 0, 1).unwrap();
    p.push(&["B"], 1, 0).unwrap();
    p
}

#[test]
fn heuristic_models_golden() {
    let p = small();
    let last = attribute(&p, &Model::LastClick).unwrap();
    assert_eq!(last.credits, [0.0, 2.0]);
    let first = attribute(&p, &Model::FirstClick).unwrap();
    assert_eq!(first.credits, [1.0, 1.0]);
    let linear = attribute(&p, &Model::Linear).unwrap();
    assert_eq!(linear.credits, [0.5, 1.5]);
    let mut q = PathSet::new();
    q.push(&["search", "social", "display", "email"], 10, 0)
        .unwrap();
    let pos = attribute(
        &q,
        &Model::PositionBased {
            first: 0.4,
            last: 0.4,
        },
    )
    .unwrap();
    // 40 % / 10 % / 10 % / 40 % of 10.
    for (c, want) in pos.credits.iter().zip([4.0, 1.0, 1.0, 4.0]) {
        assert!(close(*c, want, 1e-12), "{pos:?}");
    }
}

#[test]
fn time_decay_golden() {
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let path = ConversionPath {
        touchpoints: vec![
            Touchpoint {
                channel: "A".into(),
                at: t - TimeDelta::hours(24),
            },
            Touchpoint {
                channel: "B".into(),
                at: t,
            },
        ],
        conversions: 3,
        non_conversions: 0,
        converted_at: None,
    };
    let set = PathSet::from_paths(std::slice::from_ref(&path)).unwrap();
    // Weights 2^-1 and 2^0 → A gets 1/3 of 3 = 1, B gets 2.
    let a = attribute(
        &set,
        &Model::TimeDecay {
            half_life_hours: 24.0,
        },
    )
    .unwrap();
    assert!(close(a.credits[0], 1.0, 1e-12) && close(a.credits[1], 2.0, 1e-12));
    // JSON form.
    let json = serde_json::to_string(&path).unwrap();
    assert!(json.contains(r#""at":"2026-03-01T12:00:00Z""#), "{json}");
}

#[test]
fn markov_golden() {
    // start→A 2, start→B 1, A→B 1, A→null 1, B→conv 2.
    // P(A) = ½, P(B) = 1, P(start) = ⅔·½ + ⅓·1 = ⅔.
    // Without A: P = ⅓ → effect ½. Without B: P(A) = 0 → P = 0 → effect 1.
    // Credits: 2 × ½ / 1.5 = ⅔ and 2 × 1 / 1.5 = 4/3.
    let chain = MarkovChain::fit(&small()).unwrap();
    assert!(close(
        chain.conversion_probability(None).unwrap(),
        2.0 / 3.0,
        1e-12
    ));
    let e = chain.removal_effects().unwrap();
    assert!(close(e[0], 0.5, 1e-12) && close(e[1], 1.0, 1e-12));
    let a = attribute(&small(), &Model::Markov).unwrap();
    assert!(close(a.credits[0], 2.0 / 3.0, 1e-12) && close(a.credits[1], 4.0 / 3.0, 1e-12));
}

#[test]
fn shapley_golden() {
    // v(∅)=0, v{A}=0/1=0, v{B}=1/1=1, v{A,B}=2/3.
    // φA = ½(0−0) + ½(⅔−1) = −⅙ ; φB = ½(1−0) + ½(⅔−0) = ⅚.
    // Credits: 2·(−⅙)/(⅔) = −0.5 and 2·(⅚)/(⅔) = 2.5.
    let a = attribute(
        &small(),
        &Model::Shapley {
            samples: 100,
            seed: 1,
        },
    )
    .unwrap();
    assert!(
        close(a.credits[0], -0.5, 1e-12) && close(a.credits[1], 2.5, 1e-12),
        "{a:?}"
    );
    assert_eq!(a.error_bound, None);
}

/// `n` channels, each path three touches hopping over the channels (with
/// returns, so the chain is one large cycle set: the slowest case to solve).
fn many_channels(n: usize) -> PathSet {
    let mut p = PathSet::new();
    for i in 0..n {
        let names = [
            format!("ch{}", i % n),
            format!("ch{}", (i * 7 + 1) % n),
            format!("ch{}", (i * 13 + 5) % n),
        ];
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        p.push(&refs, (i % 3) as u64, 1).unwrap();
    }
    p
}

#[test]
fn markov_on_20000_channels_is_a_typed_error_not_an_abort() {
    // Before: a dense 20,001² matrix (3.2 GB) per solve aborted the process.
    let p = many_channels(20_000);
    let e = attribute(&p, &Model::Markov).unwrap_err();
    assert_eq!(e.code(), "invalid_observation");
    assert_eq!(e.field(), Some("paths"));
    assert!(e.to_string().contains("at most 2000 channels"), "{e}");
}

#[test]
fn markov_at_the_channel_cap_answers() {
    let p = many_channels(MAX_MARKOV_CHANNELS);
    let a = attribute(&p, &Model::Markov).unwrap();
    assert_eq!(a.credits.len(), MAX_MARKOV_CHANNELS);
    let sum: f64 = a.credits.iter().sum();
    assert!(close(sum, p.total_conversions(), 1e-6), "{sum}");
}

#[test]
fn bad_input_is_typed() {
    let empty = PathSet::new();
    assert_eq!(
        attribute(&empty, &Model::Linear).unwrap_err().code(),
        "invalid_observation"
    );
    let mut none = PathSet::new();
    none.push(&["A"], 0, 5).unwrap();
    assert_eq!(
        attribute(&none, &Model::Markov).unwrap_err().field(),
        Some("paths")
    );
    let mut p = PathSet::new();
    assert_eq!(
        p.push(&[], 1, 0).unwrap_err().field(),
        Some("paths[0].touchpoints")
    );
    assert_eq!(
        p.push(&["A"], 0, 0).unwrap_err().field(),
        Some("paths[0].conversions")
    );
    assert_eq!(
        p.push(&["A", " "], 1, 0).unwrap_err().field(),
        Some("paths[0].touchpoints[1].channel")
    );
    assert!(p.is_empty());
    p.push(&["A"], 1, 0).unwrap();
    let e = attribute(
        &p,
        &Model::TimeDecay {
            half_life_hours: 24.0,
        },
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("paths"));
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = attribute(&p, &Model::TimeDecay { half_life_hours: h }).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_config", Some("model.half_life_hours"))
        );
    }
    for (f, l) in [(0.6, 0.6), (-0.1, 0.5), (f64::NAN, 0.2), (0.0, 0.0)] {
        let e = attribute(&p, &Model::PositionBased { first: f, last: l }).unwrap_err();
        assert_eq!(e.code(), "invalid_config");
    }
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let unsorted = ConversionPath {
        touchpoints: vec![
            Touchpoint {
                channel: "A".into(),
                at: t,
            },
            Touchpoint {
                channel: "B".into(),
                at: t - TimeDelta::hours(1),
            },
        ],
        conversions: 1,
        non_conversions: 0,
        converted_at: None,
    };
    let e = PathSet::from_paths(&[unsorted]).unwrap_err();
    assert_eq!(e.field(), Some("paths[0].touchpoints[1].at"));
    // Unknown model names are JSON errors with a code.
    let e = stratum_core::from_json::<Model>(r#"{"type": "magic"}"#).unwrap_err();
    assert_eq!(e.code(), "invalid_json");
}

fn arb_paths(channels: usize, max_paths: usize) -> impl Strategy<Value = PathSet> {
    proptest::collection::vec(
        (
            proptest::collection::vec(0..channels, 1..6),
            0u64..20,
            0u64..20,
        ),
        1..max_paths,
    )
    .prop_filter_map("needs a conversion", move |raw| {
        let names: Vec<String> = (0..channels).map(|i| format!("ch{i}")).collect();
        let mut set = PathSet::new();
        let mut any = false;
        for (touches, c, u) in raw {
            if c + u == 0 {
                continue;
            }
            any |= c > 0;
            let t: Vec<&str> = touches.iter().map(|i| names[*i].as_str()).collect();
            set.push(&t, c, u).ok()?;
        }
        any.then_some(set)
    })
}

/// A 64-bit LCG for the simulation oracle, independent of the library's sampler.
struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Fraction of `walks` random walks from start that convert, with `removed` acting as null.
fn simulate(chain: &MarkovChain, removed: Option<usize>, walks: u32, seed: u64) -> f64 {
    let n = chain.channels();
    let rows: Vec<Option<Vec<f64>>> = (0..=n).map(|s| chain.row(s)).collect();
    let mut rng = Lcg(seed);
    let mut converted = 0u32;
    for _ in 0..walks {
        let mut state = 0usize;
        for _ in 0..10_000 {
            let Some(row) = &rows[state] else { break };
            let u = rng.uniform();
            let mut acc = 0.0;
            let mut next = row.len() - 1; // null by default (rounding)
            for (j, p) in row.iter().enumerate() {
                acc += p;
                if u < acc {
                    next = j;
                    break;
                }
            }
            if next == n {
                converted += 1;
                break;
            }
            if next == n + 1 || removed == Some(next) {
                break;
            }
            state = next + 1;
        }
    }
    f64::from(converted) / f64::from(walks)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every model's credits sum to the total conversions.
    #[test]
    fn credits_sum_to_total(set in arb_paths(6, 12), seed in any::<u64>()) {
        let total = set.total_conversions();
        for model in [
            Model::LastClick,
            Model::FirstClick,
            Model::Linear,
            Model::PositionBased { first: 0.4, last: 0.4 },
            Model::Markov,
            Model::Shapley { samples: 50, seed },
        ] {
            let a = attribute(&set, &model).unwrap();
            let sum: f64 = a.credits.iter().sum();
            prop_assert!(close(sum, total, 1e-9 * total.max(1.0)), "{model:?}: {sum} vs {total}");
        }
    }

    /// Sampled Shapley values (17 channels) also sum exactly to the total.
    #[test]
    fn sampled_shapley_sums_to_total(set in arb_paths(17, 20), seed in any::<u64>()) {
        prop_assume!(set.channels().len() > EXACT_SHAPLEY_MAX_CHANNELS);
        let a = attribute(&set, &Model::Shapley { samples: 40, seed }).unwrap();
        let sum: f64 = a.credits.iter().sum();
        prop_assert!(close(sum, set.total_conversions(), 1e-9 * set.total_conversions()));
        prop_assert_eq!(a.error_bound.map(|b| b.len()), Some(set.channels().len()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// The exact absorbing-chain solution matches a seeded 40,000-walk simulation:
    /// the standard error of a proportion is at most 0.5/√40,000 = 0.0025, so 0.015
    /// is six standard errors.
    #[test]
    fn markov_exact_matches_simulation(set in arb_paths(5, 15), seed in any::<u64>()) {
        let chain = MarkovChain::fit(&set).unwrap();
        for removed in std::iter::once(None).chain((0..chain.channels()).map(Some)) {
            let exact = chain.conversion_probability(removed).unwrap();
            let sim = simulate(&chain, removed, 40_000, seed);
            prop_assert!(close(exact, sim, 0.015), "{removed:?}: exact {exact} vs simulated {sim}");
        }
    }
}

/// Sampled Shapley values land within a few reported error bounds of the exact
/// values, computed here by brute force over all 2^16 coalitions.
#[test]
fn sampled_shapley_within_error_bound() {
    let n = 16usize;
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let mut rng = Lcg(7);
    let mut set = PathSet::new();
    let mut raw = Vec::new();
    // Every channel appears alone once so the interned order is c0..c15.
    for i in 0..n {
        set.push(&[names[i].as_str()], 1 + (i as u64 % 3), 2)
            .unwrap();
        raw.push((1u32 << i, 1.0 + (i % 3) as f64, 3.0 + (i % 3) as f64));
    }
    for _ in 0..300 {
        let len = 1 + (rng.uniform() * 4.0) as usize;
        let t: Vec<usize> = (0..len)
            .map(|_| (rng.uniform() * n as f64) as usize)
            .collect();
        let conv = (rng.uniform() * 5.0) as u64;
        let null = 1 + (rng.uniform() * 5.0) as u64;
        let tn: Vec<&str> = t.iter().map(|i| names[*i].as_str()).collect();
        set.push(&tn, conv, null).unwrap();
        raw.push((
            t.iter().fold(0u32, |m, i| m | 1 << i),
            conv as f64,
            (conv + null) as f64,
        ));
    }
    let size = 1usize << n;
    let v = |mask: usize| -> f64 {
        // Brute force: sum over all path groups contained in mask.
        let (mut cc, mut aa) = (0.0, 0.0);
        for (m, cv, al) in &raw {
            if (*m as usize) & !mask == 0 {
                cc += cv;
                aa += al;
            }
        }
        if aa > 0.0 { cc / aa } else { 0.0 }
    };
    let vs: Vec<f64> = (0..size).map(v).collect();
    let mut fact = vec![1.0f64; n + 1];
    for i in 1..=n {
        fact[i] = fact[i - 1] * i as f64;
    }
    let mut phi = vec![0.0; n];
    for mask in 0..size {
        let s = mask.count_ones() as usize;
        for (i, p) in phi.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                *p += fact[s] * fact[n - s - 1] / fact[n] * (vs[mask | 1 << i] - vs[mask]);
            }
        }
    }
    let total = set.total_conversions();
    let v_all = vs[size - 1];
    let got = attribute(
        &set,
        &Model::Shapley {
            samples: 4_000,
            seed: 42,
        },
    )
    .unwrap();
    let bound = got.error_bound.clone().unwrap();
    for i in 0..n {
        let exact = total * phi[i] / v_all;
        // 1.96 SE is a 95 % interval; 3 × that is far beyond chance failures.
        assert!(
            (got.credits[i] - exact).abs() <= 3.0 * bound[i] + 1e-9,
            "channel {i}: sampled {} exact {exact} bound {}",
            got.credits[i],
            bound[i]
        );
    }
}
