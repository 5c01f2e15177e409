//! # stratum-cdp
//!
//! The customer-data side of Stratum: Segment-spec events in, deterministic and
//! explainable identity resolution, and profiles out.
//!
//! * [`message`]: the Segment message model and parser — typed errors with codes and
//!   the offending field, 32 KB / 4 MB size limits, clock-skew correction,
//!   batches with one result per element, consent categories.
//! * [`http`]: bodies as they arrive over HTTP — gzip / deflate per
//!   `Content-Encoding`, with a limit on the decoded size — parsed as a batch or a
//!   message.
//! * [`dedup`]: de-duplication by `messageId` within a window.
//! * [`identity`]: typed identifiers with priorities, per-type limits and windows,
//!   blocked values, the incremental [`identity::IdentityGraph`] (order-independent,
//!   explainable, reversible), stable profile ids.
//! * [`bulk`]: batch resolution of large link tables (union-find over interned
//!   identifiers).
//! * [`profile`]: profile traits merged last-write-wins by event time, and the
//!   [`profile::ProfileStore`] trait with an in-memory implementation.
//! * [`computed`]: computed traits (counters, sums, averages, extremes, first / last,
//!   most frequent and unique values) with filters and rolling windows, updated
//!   incrementally and combined when profiles merge.
//! * [`segment`]: the segmentation language (text and JSON forms), validation
//!   against a schema, compiled full and incremental evaluation, audiences with
//!   a membership history and `Audience Entered` / `Audience Exited` events.
//!
//! All public types serialise to snake_case JSON with `serde`; time is
//! [`chrono::DateTime<chrono::Utc>`]. Every fallible function returns [`Error`],
//! whose [`Error::code`] is stable.
//!
//! ## Feature flags
//!
//! `stratum-cdp` has no optional features.
//!
//! ## Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use stratum_cdp::identity::{IdentityConfig, IdentityGraph};
//! use stratum_cdp::message::{parse_message, ParseConfig};
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let cfg = ParseConfig::default();
//! let mut graph = IdentityGraph::new(IdentityConfig::default());
//! let a = parse_message(br#"{"type": "page", "messageId": "m1", "anonymousId": "a-1"}"#, now, &cfg)?;
//! let b = parse_message(
//!     br#"{"type": "identify", "messageId": "m2", "anonymousId": "a-1", "userId": "u-1",
//!          "traits": {"email": "Ann@Example.com"}}"#,
//!     now,
//!     &cfg,
//! )?;
//! graph.resolve(&a);
//! let r = graph.resolve(&b);
//! let profile = r.profile.unwrap();
//! assert_eq!(profile.0, "prof:m1");
//! assert_eq!(graph.identifiers(&profile)?.len(), 3);
//! # Ok::<(), stratum_cdp::Error>(())
//! ```

pub mod bulk;
pub mod computed;
pub mod dedup;
mod envelope;
mod error;
pub mod http;
pub mod identity;
mod json_object;
mod json_text;
pub mod message;
pub mod profile;
pub mod segment;
pub mod stars;

pub use error::{Error, Result, from_json, from_json_slice};

/// The guides in `docs/`, compiled as doctests so that every number they show is
/// checked.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../docs/cdp.md")]
    struct Cdp;
}
