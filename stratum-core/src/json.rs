//! JSON in: the one path from a document to a validated type, shared by the three
//! crates.
//!
//! Reading a document is two steps:
//!
//! 1. **parse**: serde reads the document into the type's raw form, tracking the JSON
//!    path of every value ([`serde_path_to_error`]); a document of the wrong shape
//!    fails here with the path of the offending value;
//! 2. **validate**: the raw form becomes the type through its `TryFrom<Raw>`
//!    implementation (the type's validation), which returns the crate's typed error.
//!
//! A type with validation declares its raw form with [`validated_deserialize!`](crate::validated_deserialize)
//! (instead of `#[serde(try_from = "...")]`, which would turn the typed error into
//! text). Plain `serde_json` still validates such a type, but only the crates'
//! `from_json` functions ([`crate::from_json`], `stratum_cdp::from_json`,
//! `stratum_connectors::from_json`) give the validation error back with its kind and
//! field.
//!
//! ```
//! use stratum_core::{Error, from_json, health::HealthConfig};
//! // wrong shape: `invalid_json` with the JSON path of the value
//! let e = from_json::<HealthConfig>(r#"{"thresholds": {"healthy": "high"}}"#).unwrap_err();
//! assert_eq!((e.code(), e.field()), ("invalid_json", Some("thresholds.healthy")));
//! // right shape, invalid value: the validation's own kind and field
//! let e = from_json::<HealthConfig>(r#"{"thresholds": {"healthy": 10, "degraded": 50}}"#)
//!     .unwrap_err();
//! assert_eq!((e.code(), e.field()), ("invalid_config", Some("health.thresholds.degraded")));
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::fmt::{Display, Write as _};

use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error as _};

thread_local! {
    /// The typed error of the validation that made the current parse fail.
    static REJECTED: RefCell<Option<Rejection>> = const { RefCell::new(None) };
}

struct Rejection {
    /// The error as serde received it (its `Display`).
    message: String,
    error: Box<dyn Any>,
}

/// Reads `Raw` from `d`, then validates it into `T` with `TryFrom`.
///
/// A validation failure reaches serde as text (serde errors are text); the typed
/// error is kept aside for the `from_json` in progress on this thread, which returns
/// it instead of the text.
///
/// # Errors
/// The deserialiser's error when `Raw` cannot be read or `T::try_from` fails.
pub fn validated<'de, D, Raw, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    Raw: Deserialize<'de>,
    T: TryFrom<Raw>,
    T::Error: Display + 'static,
{
    let raw = Raw::deserialize(d)?;
    T::try_from(raw).map_err(|e| {
        let message = e.to_string();
        let err = D::Error::custom(&message);
        REJECTED.with(|r| {
            *r.borrow_mut() = Some(Rejection {
                message,
                error: Box::new(e),
            });
        });
        err
    })
}

/// Implements `Deserialize` for a validated type: read its raw form, then validate
/// with `TryFrom<raw>` ([`validated`]).
///
/// ```
/// use stratum_core::validated_deserialize;
/// #[derive(serde::Deserialize)]
/// struct RawPercent(f64);
/// struct Percent(f64);
/// impl TryFrom<RawPercent> for Percent {
///     type Error = stratum_core::Error;
///     fn try_from(r: RawPercent) -> stratum_core::Result<Self> {
///         if (0.0..=100.0).contains(&r.0) {
///             Ok(Percent(r.0))
///         } else {
///             Err(stratum_core::Error::InvalidConfig {
///                 field: "percent".into(),
///                 message: format!("must be in 0..=100, got {}", r.0),
///             })
///         }
///     }
/// }
/// validated_deserialize!(Percent, RawPercent);
///
/// let e = stratum_core::from_json::<Percent>("250").err().unwrap();
/// assert_eq!((e.code(), e.field()), ("invalid_config", Some("percent")));
/// assert_eq!(stratum_core::from_json::<Percent>("25").ok().map(|p| p.0), Some(25.0));
/// ```
#[macro_export]
macro_rules! validated_deserialize {
    ($ty:ty, $raw:ty) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::json::validated::<D, $raw, $ty>(d)
            }
        }
    };
}

/// Why a document did not become a value (see [`parse`]).
#[derive(Debug)]
pub struct Failure {
    /// JSON path of the offending value (`thresholds.healthy`, `rules[2].id`), or
    /// `None` when the problem is the document as a whole (not JSON, wrong type at
    /// the top).
    pub path: Option<String>,
    /// The parser's message, with line and column.
    pub message: String,
    rejected: Option<Box<dyn Any>>,
}

impl Failure {
    /// The typed error of the validation that failed, when it is an `E` (the error
    /// type of the crate that owns the validated type).
    ///
    /// # Errors
    /// `self` back when the failure was not a validation, or another crate's.
    pub fn validation<E: 'static>(mut self) -> Result<E, Self> {
        match self.rejected.take().map(|b| b.downcast::<E>()) {
            Some(Ok(e)) => Ok(*e),
            Some(Err(other)) => {
                self.rejected = Some(other);
                Err(self)
            }
            None => Err(self),
        }
    }
}

/// Parses `json` into `T` (the parse step, then each validated type's validation).
///
/// # Errors
/// A [`Failure`] with the JSON path and message, carrying the typed validation
/// error when a validation failed (recover it with [`Failure::validation`]).
pub fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, Failure> {
    REJECTED.with(|r| r.borrow_mut().take());
    let mut de = serde_json::Deserializer::from_slice(json);
    let out = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => de.end().map(|()| v).map_err(|e| (None, e)),
        Err(e) => Err((render_path(e.path()), e.into_inner())),
    };
    let rejected = REJECTED.with(|r| r.borrow_mut().take());
    out.map_err(|(path, e)| {
        let message = e.to_string();
        // Only the rejection that ended the parse counts (not one an untagged enum
        // recovered from while trying its variants).
        let rejected = rejected
            .filter(|r| message.starts_with(&r.message))
            .map(|r| r.error);
        Failure {
            path,
            message,
            rejected,
        }
    })
}

/// `a.b[2].c` from serde's path; `None` for the document itself.
fn render_path(path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            // A key that could not be read: the path ends at its parent.
            Segment::Unknown => break,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The last segment of `T`'s type name (`TrustGateConfig`), for
/// `InvalidJson::what`.
#[must_use]
pub fn type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
