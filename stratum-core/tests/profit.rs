#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Profit, ROAS and POAS in exact decimals.

use proptest::prelude::*;
use rust_decimal::Decimal;
use stratum_core::analytics::profit::*;

fn line(id: &str, revenue: i64, cogs: i64, fees: i64, spend: i64) -> ProfitLine {
    ProfitLine {
        id: id.into(),
        revenue: Decimal::new(revenue, 2),
        cogs: Decimal::new(cogs, 2),
        fees: Decimal::new(fees, 2),
        spend: Decimal::new(spend, 2),
    }
}

#[test]
fn totals_and_ratios_golden() {
    // a: 1000 − 400 − 50 = 550 gross, − 250 = 300; ROAS 4, POAS 2.2.
    // b: 300 − 200 − 30 = 70 gross, − 100 = −30; ROAS 3, POAS 0.7.
    // total: 1300 − 600 − 80 = 620 gross, − 350 = 270; ROAS 1300/350 = 3.7143, POAS 620/350 = 1.7714.
    let r = profit(&[
        line("a", 100_000, 40_000, 5_000, 25_000),
        line("b", 30_000, 20_000, 3_000, 10_000),
    ])
    .unwrap();
    assert_eq!(r.lines[1].profit, Decimal::new(-30, 0));
    assert_eq!(r.lines[1].poas, Some(Decimal::new(7, 1)));
    assert_eq!(r.total.gross_profit, Decimal::new(620, 0));
    assert_eq!(r.total.profit, Decimal::new(270, 0));
    assert_eq!(r.total.roas, Some(Decimal::new(37143, 4)));
    assert_eq!(r.total.poas, Some(Decimal::new(17714, 4)));
    // No spend: no ratios.
    let r = profit(&[line("organic", 5_000, 1_000, 0, 0)]).unwrap();
    assert_eq!((r.total.roas, r.total.poas), (None, None));
    // JSON: cogs and fees default to zero.
    let l: ProfitLine =
        stratum_core::from_json(r#"{"id": "x", "revenue": "10", "spend": "5"}"#).unwrap();
    assert_eq!(profit(&[l]).unwrap().total.poas, Some(Decimal::new(2, 0)));
}

#[test]
fn bad_input_is_typed() {
    let e = profit(&[line("a", 100, 0, 0, 0), line("b", 100, 0, 0, -1)]).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_observation", Some("lines[1].spend"))
    );
    assert_eq!(
        profit(&[line(" ", 1, 0, 0, 0)]).unwrap_err().field(),
        Some("lines[0].id")
    );
    let huge = ProfitLine {
        revenue: Decimal::MAX,
        ..line("a", 0, 0, 0, 0)
    };
    assert_eq!(
        profit(&[huge.clone(), huge]).unwrap_err().field(),
        Some("lines")
    );
    assert_eq!(profit(&[]).unwrap().total.profit, Decimal::ZERO);
}

proptest! {
    /// Line profits add up to the total profit exactly.
    #[test]
    fn line_profits_sum_to_total(raw in proptest::collection::vec((0i64..10_000_000, 0i64..5_000_000, 0i64..1_000_000, 0i64..5_000_000), 0..20)) {
        let lines: Vec<ProfitLine> = raw.iter().enumerate().map(|(i, (r, c, f, s))| line(&format!("l{i}"), *r, *c, *f, *s)).collect();
        let report = profit(&lines).unwrap();
        let sum: Decimal = report.lines.iter().map(|l| l.profit).sum();
        prop_assert_eq!(sum, report.total.profit);
        for l in &report.lines {
            prop_assert_eq!(l.profit, l.revenue - l.cogs - l.fees - l.spend);
        }
    }
}
