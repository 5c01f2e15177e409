#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pacing: worked examples, platform ceilings, bad input and invariants.

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use stratum_core::analytics::pacing::*;

fn dec(v: i64) -> Decimal {
    Decimal::new(v, 0)
}

#[test]
fn month_with_google_ceiling() {
    // March 2026 has 31 days: budget 100 × 31 = 3,100; ceiling 100 × 30.4 = 3,040.
    // Ten days at 150 = 1,500 after 240 h → 6.25 per hour; 504 h left → 3,150 more,
    // 4,650 in total (150 % of budget): over-pacing, projection capped at 3,040.
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let spend: Vec<SpendPoint> = (1..=10)
        .map(|d| SpendPoint {
            at: start + TimeDelta::days(d),
            spend: dec(150),
        })
        .collect();
    let input = PacingInput::month(
        NaiveDate::from_ymd_opt(2026, 3, 17).unwrap(),
        dec(100),
        Some(OverspendRule::GOOGLE),
        spend,
    )
    .unwrap();
    assert_eq!(input.budget, dec(3_100));
    assert_eq!(input.ceiling, Some(dec(3_040)));
    let r = pace(
        &input,
        start + TimeDelta::days(10),
        &PacingConfig::default(),
    )
    .unwrap();
    assert_eq!(r.spent, dec(1_500));
    assert_eq!(r.projected, dec(3_040));
    assert!((r.pace - 4_650.0 / 3_100.0).abs() < 1e-9);
    assert_eq!(r.status, PacingStatus::OverPacing);
    // Identical days: no spread, so the interval collapses.
    assert_eq!(
        (r.projected_low, r.projected_high),
        (dec(3_040), dec(3_040))
    );
    assert!(
        r.explanation
            .contains("capped at the platform ceiling 3040"),
        "{}",
        r.explanation
    );
}

#[test]
fn under_pacing_and_too_early() {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    // 2 per hour for 12 h against 100/day → 48 projected: under-pacing.
    let spend: Vec<SpendPoint> = (1..=12)
        .map(|h| SpendPoint {
            at: start + TimeDelta::hours(h),
            spend: dec(2),
        })
        .collect();
    let input = PacingInput::day(start, dec(100), None, spend.clone()).unwrap();
    let r = pace(
        &input,
        start + TimeDelta::hours(12),
        &PacingConfig::default(),
    )
    .unwrap();
    assert_eq!(r.projected, dec(48));
    assert_eq!(r.status, PacingStatus::UnderPacing);
    assert_eq!(r.ceiling, None);
    // After one hour (4 % of the day) it is too early to tell.
    let early = PacingInput::day(start, dec(100), None, spend[..1].to_vec()).unwrap();
    let r = pace(
        &early,
        start + TimeDelta::hours(1),
        &PacingConfig::default(),
    )
    .unwrap();
    assert_eq!(r.status, PacingStatus::TooEarly);
}

#[test]
fn bad_input_is_typed() {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let p = |h: i64, v: i64| SpendPoint {
        at: start + TimeDelta::hours(h),
        spend: dec(v),
    };
    let cfg = PacingConfig::default();
    let now = start + TimeDelta::hours(10);
    assert_eq!(
        PacingInput::day(start, dec(0), None, vec![])
            .unwrap_err()
            .field(),
        Some("budget")
    );
    let neg = PacingInput::day(start, dec(100), None, vec![p(1, 5), p(2, -1)]).unwrap();
    assert_eq!(
        pace(&neg, now, &cfg).unwrap_err().field(),
        Some("spend[1].spend")
    );
    let unsorted = PacingInput::day(start, dec(100), None, vec![p(3, 5), p(2, 1)]).unwrap();
    assert_eq!(
        pace(&unsorted, now, &cfg).unwrap_err().field(),
        Some("spend[1].at")
    );
    let future = PacingInput::day(start, dec(100), None, vec![p(11, 5)]).unwrap();
    assert_eq!(
        pace(&future, now, &cfg).unwrap_err().field(),
        Some("spend[0].at")
    );
    let ok = PacingInput::day(start, dec(100), None, vec![p(1, 5)]).unwrap();
    assert_eq!(pace(&ok, start, &cfg).unwrap_err().field(), Some("now"));
    assert_eq!(
        pace(&ok, start + TimeDelta::days(2), &cfg)
            .unwrap_err()
            .code(),
        "invalid_observation"
    );
    let bad = PacingConfig { under: 1.2, ..cfg };
    assert_eq!(pace(&ok, now, &bad).unwrap_err().code(), "invalid_config");
    // No spend at all is valid: nothing spent, projected 0, under-pacing.
    let none = PacingInput::day(start, dec(100), None, vec![]).unwrap();
    let r = pace(&none, now, &cfg).unwrap();
    assert_eq!(
        (r.spent, r.projected, r.status),
        (Decimal::ZERO, Decimal::ZERO, PacingStatus::UnderPacing)
    );
}

proptest! {
    /// spent ≤ low ≤ projected ≤ high ≤ ceiling (when the ceiling is above spend).
    #[test]
    fn projection_is_ordered(hourly in proptest::collection::vec(0i64..5_000, 1..24), budget in 1i64..10_000, google in any::<bool>()) {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let spend: Vec<SpendPoint> = hourly.iter().enumerate()
            .map(|(h, v)| SpendPoint { at: start + TimeDelta::hours(h as i64 + 1), spend: Decimal::new(*v, 2) })
            .collect();
        let now = start + TimeDelta::hours(hourly.len() as i64);
        let input = PacingInput::day(start, dec(budget), google.then_some(OverspendRule::GOOGLE), spend).unwrap();
        let r = pace(&input, now, &PacingConfig::default()).unwrap();
        prop_assert!(r.spent <= r.projected_low || r.ceiling.is_some_and(|c| c < r.spent));
        prop_assert!(r.projected_low <= r.projected && r.projected <= r.projected_high);
        if let Some(c) = r.ceiling {
            prop_assert!(r.projected_high <= c.max(r.spent));
        }
    }
}
