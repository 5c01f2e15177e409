//! Segmentation: a small text language and an equivalent JSON form, validation
//! against a declared schema, compilation of many segments to one plan, full
//! (columnar) and incremental evaluation, and audiences with a membership
//! history.
//!
//! ```
//! use stratum_cdp::segment::Segment;
//!
//! let s = Segment::parse(
//!     r#"performed "Order Completed" at least 2 times within 30d where properties.total > 50
//!        and plan = "pro" and not in audience "churned""#,
//! )?;
//! // The canonical text parses back to the same tree, and so does the JSON form.
//! assert_eq!(Segment::parse(&s.to_text())?, s);
//! assert_eq!(Segment::from_json(&s.to_json())?, s);
//!
//! let e = Segment::parse("plan = ").unwrap_err();
//! assert_eq!(e.code(), "segment_syntax");
//! # Ok::<(), stratum_cdp::Error>(())
//! ```
//!
//! The grammar, the semantics of each condition and the error codes are in
//! `docs/segments.md`.

mod ast;
mod audience;
mod parse;
mod plan;
mod print;
mod schema;
mod value;

use serde::{Deserialize, Serialize};

pub use ast::{CmpOp, Count, EventCondition, Expr, Literal, Predicate, Window};
pub use audience::{
    AudienceDefinition, AudienceEngine, AudienceSet, MAX_AUDIENCES, ProfileTable, Transition,
    TransitionKind,
};
pub use plan::{Bitmap, Column, Plan};
pub use schema::{Schema, ValueType};

use crate::error::Result;

/// Limits on segments (each breach is [`crate::Error::SegmentLimit`]).
pub mod limits {
    /// Longest segment text, in bytes.
    pub const MAX_TEXT_BYTES: usize = 64 * 1024;
    /// Deepest nesting of `and` / `or` / `not` / parentheses.
    pub const MAX_DEPTH: usize = 32;
    /// Longest string literal, in bytes.
    pub const MAX_STRING_BYTES: usize = 4096;
    /// Longest number literal, in characters.
    pub const MAX_NUMBER_CHARS: usize = 64;
    /// Most elements in a list literal.
    pub const MAX_LIST_LEN: usize = 1000;
    /// Most conditions under one `and` / `or`, or filters on one event condition.
    pub const MAX_CHILDREN: usize = 256;
    /// Largest count in an event condition.
    pub const MAX_COUNT: u32 = 1_000_000;
    /// Longest window: ten years, in seconds.
    pub const MAX_WINDOW_SECONDS: i64 = crate::computed::MAX_WINDOW_SECONDS;
    /// Longest trait, event, property, audience or category name, in bytes.
    pub const MAX_NAME_BYTES: usize = 256;
}

/// A checked segment condition: parsed from text, or read from JSON, with the
/// limits and operator / literal fit checked.
///
/// JSON: the tree ([`Expr`]) or, as a JSON string, the text form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Segment(Expr);

impl<'de> Deserialize<'de> for Segment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Tree(Expr),
        }
        match Form::deserialize(d)? {
            Form::Text(t) => Segment::parse(&t).map_err(serde::de::Error::custom),
            Form::Tree(e) => Segment::new(e).map_err(serde::de::Error::custom),
        }
    }
}

impl Segment {
    /// Parses the text form.
    ///
    /// # Errors
    /// [`crate::Error::SegmentSyntax`] with line, column and what was expected;
    /// [`crate::Error::SegmentLimit`]; [`crate::Error::TypeMismatch`] for an
    /// operator given a literal it does not take.
    pub fn parse(text: &str) -> Result<Self> {
        Self::new(parse::parse(text)?)
    }

    /// Checks a tree (limits, operator / literal fit, `and` / `or` of at least two).
    ///
    /// # Errors
    /// [`crate::Error::SegmentLimit`], [`crate::Error::TypeMismatch`].
    pub fn new(expr: Expr) -> Result<Self> {
        schema::check(&expr)?;
        Ok(Segment(expr))
    }

    /// Reads the JSON form (a tree, or the text form as a JSON string).
    ///
    /// # Errors
    /// [`crate::Error::InvalidJson`] for a document of the wrong shape; the
    /// errors of [`Segment::new`] / [`Segment::parse`].
    pub fn from_json(json: &str) -> Result<Self> {
        let expr: Expr = crate::from_json(json).or_else(|e| {
            // the text form as a JSON string
            match serde_json::from_str::<String>(json) {
                Ok(text) => parse::parse(&text),
                Err(_) => Err(e),
            }
        })?;
        Self::new(expr)
    }

    pub(crate) fn check(&self) -> Result<()> {
        schema::check(&self.0)
    }

    /// The canonical text form (parses back to the same tree).
    #[must_use]
    pub fn to_text(&self) -> String {
        print::to_text(&self.0)
    }

    /// The JSON form (the tree).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// The tree.
    #[must_use]
    pub fn expr(&self) -> &Expr {
        &self.0
    }

    /// Validates names and types against `schema`. Audience references are not
    /// checked here (see [`AudienceSet::validate`]).
    ///
    /// # Errors
    /// [`crate::Error::UnknownName`] with the closest declared name as a
    /// suggestion; [`crate::Error::TypeMismatch`].
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        schema::validate(&self.0, schema, None)
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::str::FromStr for Segment {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}
