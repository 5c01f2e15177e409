#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Response curves, the allocator and what-if.

use proptest::prelude::*;
use stratum_core::analytics::allocation::*;

/// Revenue of a known curve: θ = 0.5, s = 2, K = 400, β = 1,000.
fn truth(spend: &[f64]) -> Vec<f64> {
    let mut carry = 0.0;
    spend
        .iter()
        .map(|x| {
            carry = x + 0.5 * carry;
            let p = carry * carry;
            1000.0 * p / (p + 400.0 * 400.0)
        })
        .collect()
}

fn curve(channel: &str, beta: f64, half: f64) -> ResponseCurve {
    ResponseCurve {
        channel: channel.into(),
        theta: 0.0,
        shape: 1.0,
        half_saturation: half,
        beta,
        sigma: 10.0,
    }
}

#[test]
fn fit_recovers_a_noiseless_curve() {
    // Spend alternating over a range so adstock covers low and high saturation.
    let spend: Vec<f64> = (0..40)
        .map(|i| 50.0 + 25.0 * ((i * 7) % 16) as f64)
        .collect();
    let history = ChannelHistory {
        channel: "search".into(),
        revenue: truth(&spend),
        spend,
    };
    let c = ResponseCurve::fit(&history).unwrap();
    // The grid contains θ = 0.5 and s = 2; K is searched in multiples of the median
    // adstock, so predictions (not parameters) are what must match: within 3 %.
    for x in [100.0, 200.0, 300.0] {
        let want = truth(&vec![x; 60])[59];
        let got = c.revenue(x);
        assert!(
            (got - want).abs() <= 0.03 * want,
            "x={x}: fitted {got} vs true {want} ({c:?})"
        );
    }
}

#[test]
fn allocator_equalises_marginal_roas() {
    // Two identical curves: the budget splits evenly; marginal ROAS equal.
    let curves = [curve("a", 1000.0, 200.0), curve("b", 1000.0, 200.0)];
    let bounds = [Bounds {
        min: 0.0,
        max: 1000.0,
    }; 2];
    let a = allocate(&curves, &bounds, 400.0).unwrap();
    assert!(
        (a.spend[0] - 200.0).abs() < 1.0 && (a.spend[1] - 200.0).abs() < 1.0,
        "{a:?}"
    );
    assert!((a.marginal_roas[0] - a.marginal_roas[1]).abs() < 0.01);
    // r(x) = 1000 x / (x + 200): r(200) = 500 each.
    assert!((a.total_revenue - 1000.0).abs() < 1.0);
    // A bound forces spend away from the better channel.
    let tight = [
        Bounds {
            min: 0.0,
            max: 100.0,
        },
        Bounds {
            min: 0.0,
            max: 1000.0,
        },
    ];
    let a = allocate(&curves, &tight, 400.0).unwrap();
    assert!((a.spend[0] - 100.0).abs() < 1e-9 && (a.spend[1] - 300.0).abs() < 1e-6);
    // The interval is ± 1.96 √(10² + 10²).
    let half = 1.96 * 200f64.sqrt();
    assert!((a.interval.1 - a.total_revenue - half).abs() < 1e-9);
}

#[test]
fn what_if_moves_spend() {
    // a saturates early (K = 50), b late (K = 2,000): moving 20 % of a's 1,000 to b
    // gains revenue.
    let curves = [curve("a", 1000.0, 50.0), curve("b", 3000.0, 2000.0)];
    let shift = Shift {
        from: "a".into(),
        to: "b".into(),
        share: 0.2,
    };
    let (before, after) = what_if(&curves, &[1000.0, 100.0], &[shift]).unwrap();
    assert_eq!(after.spend, vec![800.0, 300.0]);
    // before: 1000·1000/1050 + 3000·100/2100 = 952.38 + 142.86; after: 941.18 + 391.30.
    assert!(
        (before.total_revenue - (1000.0 * 1000.0 / 1050.0 + 3000.0 * 100.0 / 2100.0)).abs() < 1e-9
    );
    assert!(after.total_revenue > before.total_revenue);
}

#[test]
fn bad_input_is_typed() {
    let h = |spend: Vec<f64>, revenue: Vec<f64>| ChannelHistory {
        channel: "c".into(),
        spend,
        revenue,
    };
    assert_eq!(
        ResponseCurve::fit(&h(vec![1.0; 3], vec![1.0; 3]))
            .unwrap_err()
            .field(),
        Some("history.spend")
    );
    assert_eq!(
        ResponseCurve::fit(&h(vec![1.0; 10], vec![1.0; 9]))
            .unwrap_err()
            .field(),
        Some("history.revenue")
    );
    let mut nan = vec![1.0; 10];
    nan[4] = f64::NAN;
    assert_eq!(
        ResponseCurve::fit(&h(nan, vec![1.0; 10]))
            .unwrap_err()
            .field(),
        Some("history.spend[4]")
    );
    let mut neg = vec![1.0; 10];
    neg[2] = -5.0;
    assert_eq!(
        ResponseCurve::fit(&h(neg, vec![1.0; 10]))
            .unwrap_err()
            .code(),
        "invalid_observation"
    );
    assert_eq!(
        ResponseCurve::fit(&h(vec![0.0; 10], vec![1.0; 10]))
            .unwrap_err()
            .field(),
        Some("history.spend")
    );
    let curves = [curve("a", 1.0, 1.0)];
    assert_eq!(
        allocate(&curves, &[], 1.0).unwrap_err().field(),
        Some("bounds")
    );
    assert_eq!(
        allocate(&curves, &[Bounds { min: 5.0, max: 1.0 }], 3.0)
            .unwrap_err()
            .field(),
        Some("bounds[0]")
    );
    assert_eq!(
        allocate(&curves, &[Bounds { min: 0.0, max: 1.0 }], 3.0)
            .unwrap_err()
            .field(),
        Some("budget")
    );
    let shift = Shift {
        from: "zz".into(),
        to: "a".into(),
        share: 0.5,
    };
    assert_eq!(
        what_if(&curves, &[1.0], &[shift]).unwrap_err().field(),
        Some("shifts[0].from")
    );
    let shift = Shift {
        from: "a".into(),
        to: "a".into(),
        share: 1.5,
    };
    assert_eq!(
        what_if(&curves, &[1.0], &[shift]).unwrap_err().field(),
        Some("shifts[0].share")
    );
}

proptest! {
    /// The allocator spends the whole budget and never breaks a bound.
    #[test]
    fn allocator_respects_bounds_and_budget(
        raw in proptest::collection::vec((1.0f64..5_000.0, 1.0f64..2_000.0, 0.0f64..500.0, 0.0f64..2_000.0, 0.5f64..3.0), 1..6),
        frac in 0.0f64..=1.0,
    ) {
        let curves: Vec<ResponseCurve> = raw.iter().enumerate()
            .map(|(i, (beta, half, _, _, shape))| ResponseCurve { shape: *shape, ..curve(&format!("c{i}"), *beta, *half) })
            .collect();
        let bounds: Vec<Bounds> = raw.iter().map(|(_, _, min, extra, _)| Bounds { min: *min, max: min + extra }).collect();
        let lo: f64 = bounds.iter().map(|b| b.min).sum();
        let hi: f64 = bounds.iter().map(|b| b.max).sum();
        let budget = lo + frac * (hi - lo);
        let a = allocate(&curves, &bounds, budget).unwrap();
        let spent: f64 = a.spend.iter().sum();
        prop_assert!((spent - budget).abs() <= 1e-6 * budget.max(1.0), "{spent} vs {budget}");
        for (x, b) in a.spend.iter().zip(&bounds) {
            prop_assert!(*x >= b.min - 1e-9 && *x <= b.max + 1e-9, "{x} outside {b:?}");
        }
    }
}
