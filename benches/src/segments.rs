//! Generated profiles and segments for the segment benchmarks: 1 M profiles of 20
//! traits (8 floats, 6 integers with 5 % missing, 4 strings with 2 % missing, 2
//! booleans) and 10 event counters (computed traits), and 50 segments of 2 to 4
//! conditions written both in the segment language and as the equivalent Polars
//! expression (missing values handled the way segments do: only `!=` holds).

// Generated data always fits the table and the grammar: a failure is a bug in
// the generator, and a benchmark may stop on it.
#![allow(clippy::expect_used)]

use stratum_cdp::segment::{AudienceDefinition, Column, ProfileTable};

use crate::Rng;

/// Float trait columns.
pub const FLOATS: usize = 8;
/// Integer trait columns.
pub const INTS: usize = 6;
/// String trait columns.
pub const STRS: usize = 4;
/// Boolean trait columns.
pub const BOOLS: usize = 2;
/// Event counters (computed-trait columns).
pub const COUNTERS: usize = 10;

const WORDS: [&str; 8] = [
    "pro",
    "free",
    "team",
    "trial",
    "enterprise",
    "edu",
    "partner",
    "legacy",
];

/// The generated columns.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// Rows.
    pub rows: usize,
    /// `f0..f7`.
    pub floats: Vec<Vec<f64>>,
    /// `i0..i5`.
    pub ints: Vec<Vec<Option<i64>>>,
    /// `s0..s3`.
    pub strs: Vec<Vec<Option<String>>>,
    /// `b0..b1`.
    pub bools: Vec<Vec<Option<bool>>>,
    /// `c0..c9`.
    pub counters: Vec<Vec<Option<i64>>>,
}

impl Profiles {
    /// `rows` profiles from `rng`.
    #[must_use]
    pub fn generate(rng: &mut Rng, rows: usize) -> Self {
        let floats = (0..FLOATS)
            .map(|_| {
                (0..rows)
                    .map(|_| (rng.range(0.0, 1000.0) * 100.0).round() / 100.0)
                    .collect()
            })
            .collect();
        let ints = (0..INTS)
            .map(|_| {
                (0..rows)
                    .map(|_| (!rng.chance(0.05)).then(|| rng.below(100) as i64))
                    .collect()
            })
            .collect();
        let strs = (0..STRS)
            .map(|_| {
                (0..rows)
                    .map(|_| (!rng.chance(0.02)).then(|| WORDS[rng.below(8) as usize].to_owned()))
                    .collect()
            })
            .collect();
        let bools = (0..BOOLS)
            .map(|_| (0..rows).map(|_| Some(rng.chance(0.3))).collect())
            .collect();
        let counters = (0..COUNTERS)
            .map(|_| (0..rows).map(|_| Some(rng.below(20) as i64)).collect())
            .collect();
        Profiles {
            rows,
            floats,
            ints,
            strs,
            bools,
            counters,
        }
    }

    /// The columns as a segment [`ProfileTable`] (counters as computed traits).
    #[must_use]
    pub fn table(&self) -> ProfileTable {
        let mut t = ProfileTable::new(self.rows);
        let ok = "columns have the table's length";
        for (i, c) in self.floats.iter().enumerate() {
            t.add_trait(&format!("f{i}"), Column::F64(c.clone()))
                .expect(ok);
        }
        for (i, c) in self.ints.iter().enumerate() {
            t.add_trait(&format!("i{i}"), Column::I64(c.clone()))
                .expect(ok);
        }
        for (i, c) in self.strs.iter().enumerate() {
            t.add_trait(&format!("s{i}"), Column::Str(c.clone()))
                .expect(ok);
        }
        for (i, c) in self.bools.iter().enumerate() {
            t.add_trait(&format!("b{i}"), Column::Bool(c.clone()))
                .expect(ok);
        }
        for (i, c) in self.counters.iter().enumerate() {
            t.add_computed(&format!("c{i}"), Column::I64(c.clone()))
                .expect(ok);
        }
        t
    }

    /// The columns as CSV text (header first; missing values empty).
    #[must_use]
    pub fn csv(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        names.extend((0..FLOATS).map(|i| format!("f{i}")));
        names.extend((0..INTS).map(|i| format!("i{i}")));
        names.extend((0..STRS).map(|i| format!("s{i}")));
        names.extend((0..BOOLS).map(|i| format!("b{i}")));
        names.extend((0..COUNTERS).map(|i| format!("c{i}")));
        let mut out = names.join(",");
        out.push('\n');
        for r in 0..self.rows {
            let mut cells: Vec<String> = Vec::with_capacity(names.len());
            cells.extend(self.floats.iter().map(|c| format!("{}", c[r])));
            let opt = |v: &Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            cells.extend(self.ints.iter().map(|c| opt(&c[r])));
            cells.extend(self.strs.iter().map(|c| c[r].clone().unwrap_or_default()));
            cells.extend(
                self.bools
                    .iter()
                    .map(|c| c[r].map(|b| b.to_string()).unwrap_or_default()),
            );
            cells.extend(self.counters.iter().map(|c| opt(&c[r])));
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// One generated segment: its text and the equivalent Polars expression.
#[derive(Debug, Clone)]
pub struct GeneratedSegment {
    /// The audience key.
    pub key: String,
    /// The segment text.
    pub text: String,
    /// The Polars expression (Python source, `pl` imported).
    pub polars: String,
}

fn condition(rng: &mut Rng) -> (String, String) {
    match rng.below(6) {
        0 | 1 => {
            let c = rng.below(FLOATS as u64);
            let v = rng.below(1000);
            let (op, pop) = [(">", ">"), ("<=", "<="), (">=", ">=")][rng.below(3) as usize];
            (
                format!("f{c} {op} {v}.5"),
                format!("(pl.col(\"f{c}\") {pop} {v}.5)"),
            )
        }
        2 => {
            let c = rng.below(INTS as u64);
            let v = rng.below(100);
            if rng.chance(0.2) {
                (
                    format!("i{c} != {v}"),
                    format!("(pl.col(\"i{c}\") != {v}).fill_null(True)"),
                )
            } else {
                (
                    format!("i{c} >= {v}"),
                    format!("(pl.col(\"i{c}\") >= {v}).fill_null(False)"),
                )
            }
        }
        3 => {
            let c = rng.below(STRS as u64);
            let w = WORDS[rng.below(8) as usize];
            match rng.below(3) {
                0 => (
                    format!("s{c} = \"{w}\""),
                    format!("(pl.col(\"s{c}\") == \"{w}\").fill_null(False)"),
                ),
                1 => {
                    let w2 = WORDS[rng.below(8) as usize];
                    (
                        format!("s{c} in [\"{w}\", \"{w2}\"]"),
                        format!("pl.col(\"s{c}\").is_in([\"{w}\", \"{w2}\"]).fill_null(False)"),
                    )
                }
                _ => {
                    let p = &w[..2];
                    (
                        format!("s{c} starts_with \"{p}\""),
                        format!("pl.col(\"s{c}\").str.starts_with(\"{p}\").fill_null(False)"),
                    )
                }
            }
        }
        4 => {
            let c = rng.below(BOOLS as u64);
            (
                format!("b{c} = true"),
                format!("(pl.col(\"b{c}\") == True).fill_null(False)"),
            )
        }
        _ => {
            let c = rng.below(COUNTERS as u64);
            let v = rng.below(20);
            (
                format!("computed c{c} >= {v}"),
                format!("(pl.col(\"c{c}\") >= {v}).fill_null(False)"),
            )
        }
    }
}

/// `n` segments of 2 to 4 conditions: `A and B`, `A and (B or C)`,
/// `A and not B and C`, `(A or B) and (C or D)`.
#[must_use]
pub fn segments(rng: &mut Rng, n: usize) -> Vec<GeneratedSegment> {
    (0..n)
        .map(|i| {
            let mut c = || condition(rng);
            let (a, b, cc, d) = (c(), c(), c(), c());
            let (text, polars) = match i % 4 {
                0 => (format!("{} and {}", a.0, b.0), format!("{} & {}", a.1, b.1)),
                1 => (
                    format!("{} and ({} or {})", a.0, b.0, cc.0),
                    format!("{} & ({} | {})", a.1, b.1, cc.1),
                ),
                2 => (
                    format!("{} and not {} and {}", a.0, b.0, cc.0),
                    format!("{} & ~{} & {}", a.1, b.1, cc.1),
                ),
                _ => (
                    format!("({} or {}) and ({} or {})", a.0, b.0, cc.0, d.0),
                    format!("({} | {}) & ({} | {})", a.1, b.1, cc.1, d.1),
                ),
            };
            GeneratedSegment {
                key: format!("seg{i}"),
                text,
                polars,
            }
        })
        .collect()
}

/// The segments as audience definitions.
///
/// # Panics
/// If a generated text does not parse (a bug in the generator).
#[must_use]
pub fn definitions(segs: &[GeneratedSegment]) -> Vec<AudienceDefinition> {
    segs.iter()
        .map(|s| AudienceDefinition::parse(&s.key, &s.text).expect("generated segments parse"))
        .collect()
}

/// The 50 audiences of the incremental benchmarks, every one referencing
/// `Order Completed`: windowed counts, filtered counts, `never ... between`, and
/// traits (`plan`, `age`, `vip`).
#[must_use]
pub fn event_definitions() -> Vec<AudienceDefinition> {
    (0..50)
        .map(|i| {
            let text = match i % 5 {
                0 => format!(
                    r#"performed "Order Completed" at least {} times within 30d"#,
                    1 + i % 7
                ),
                1 => format!(
                    r#"performed "Order Completed" where properties.total > {} and plan = "pro""#,
                    10 * i
                ),
                2 => format!(
                    r#"performed "Order Completed" at most {} times within 7d or age >= {}"#,
                    i % 4,
                    20 + i
                ),
                3 => format!(
                    r#"never performed "Order Completed" between 1d and {}d ago"#,
                    2 + i % 9
                ),
                _ => format!(
                    r#"performed "Order Completed" exactly {} times and vip = true"#,
                    i % 6
                ),
            };
            AudienceDefinition::parse(&format!("a{i}"), &text).expect("valid")
        })
        .collect()
}
