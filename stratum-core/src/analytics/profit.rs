//! Profit per campaign or product, in exact decimal money: revenue minus cost of
//! goods, fees and ad spend, with ROAS (revenue / spend) and POAS (gross profit /
//! spend, where gross profit is revenue minus cost of goods and fees).
//!
//! ```
//! use rust_decimal::Decimal;
//! use stratum_core::analytics::profit::{profit, ProfitLine};
//!
//! let line = ProfitLine {
//!     id: "cmp_1".into(),
//!     revenue: Decimal::new(1_000_00, 2),
//!     cogs: Decimal::new(400_00, 2),
//!     fees: Decimal::new(50_00, 2),
//!     spend: Decimal::new(250_00, 2),
//! };
//! let report = profit(&[line])?;
//! let r = &report.lines[0];
//! assert_eq!(r.gross_profit, Decimal::new(550_00, 2)); // 1000 − 400 − 50
//! assert_eq!(r.profit, Decimal::new(300_00, 2)); // 550 − 250
//! assert_eq!(r.roas, Some(Decimal::new(4, 0))); // 1000 / 250
//! assert_eq!(r.poas, Some(Decimal::new(22, 1))); // 550 / 250
//! # Ok::<(), stratum_core::Error>(())
//! ```

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Money of one campaign or product over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfitLine {
    /// Campaign or product id.
    pub id: String,
    /// Revenue.
    pub revenue: Decimal,
    /// Cost of goods sold.
    #[serde(default)]
    pub cogs: Decimal,
    /// Payment, marketplace and shipping fees.
    #[serde(default)]
    pub fees: Decimal,
    /// Ad spend.
    pub spend: Decimal,
}

/// Profit of one line (or the total).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfitFigures {
    /// Line id (`total` for the total).
    pub id: String,
    /// Revenue.
    pub revenue: Decimal,
    /// Cost of goods sold.
    pub cogs: Decimal,
    /// Fees.
    pub fees: Decimal,
    /// Ad spend.
    pub spend: Decimal,
    /// Revenue − cost of goods − fees.
    pub gross_profit: Decimal,
    /// Gross profit − ad spend.
    pub profit: Decimal,
    /// Revenue / spend, to four decimals (`None` without spend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roas: Option<Decimal>,
    /// Gross profit / spend, to four decimals (`None` without spend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poas: Option<Decimal>,
}

/// Profit per line and in total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfitReport {
    /// One entry per input line, in order.
    pub lines: Vec<ProfitFigures>,
    /// The sum of all lines.
    pub total: ProfitFigures,
}

/// Computes profit, ROAS and POAS per line and in total.
///
/// # Errors
/// [`Error::InvalidObservation`] on `lines[i].<field>` for an empty id or a negative
/// amount, and on `lines` when a sum overflows the decimal range.
pub fn profit(lines: &[ProfitLine]) -> Result<ProfitReport> {
    let mut out = Vec::with_capacity(lines.len());
    let mut sum = [Decimal::ZERO; 4];
    let overflow = || Error::observation("lines", "amounts overflow the decimal range");
    for (i, l) in lines.iter().enumerate() {
        if l.id.trim().is_empty() {
            return Err(Error::observation(
                format!("lines[{i}].id"),
                "must be non-empty",
            ));
        }
        let amounts = [
            ("revenue", l.revenue),
            ("cogs", l.cogs),
            ("fees", l.fees),
            ("spend", l.spend),
        ];
        for ((name, v), acc) in amounts.iter().zip(sum.iter_mut()) {
            if *v < Decimal::ZERO {
                return Err(Error::observation(
                    format!("lines[{i}].{name}"),
                    format!("must be zero or more, got {v}"),
                ));
            }
            *acc = acc.checked_add(*v).ok_or_else(overflow)?;
        }
        out.push(figures(&l.id, l.revenue, l.cogs, l.fees, l.spend).ok_or_else(overflow)?);
    }
    let [revenue, cogs, fees, spend] = sum;
    let total = figures("total", revenue, cogs, fees, spend).ok_or_else(overflow)?;
    Ok(ProfitReport { lines: out, total })
}

fn figures(
    id: &str,
    revenue: Decimal,
    cogs: Decimal,
    fees: Decimal,
    spend: Decimal,
) -> Option<ProfitFigures> {
    let gross_profit = revenue.checked_sub(cogs)?.checked_sub(fees)?;
    let profit = gross_profit.checked_sub(spend)?;
    let ratio = |n: Decimal| -> Option<Decimal> {
        if spend.is_zero() {
            None
        } else {
            n.checked_div(spend).map(|r| r.round_dp(4).normalize())
        }
    };
    Some(ProfitFigures {
        id: id.to_owned(),
        revenue,
        cogs,
        fees,
        spend,
        gross_profit,
        profit,
        roas: ratio(revenue),
        poas: ratio(gross_profit),
    })
}
