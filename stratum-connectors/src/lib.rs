//! # stratum-connectors
//!
//! Customer information for the server-side conversion APIs of Meta, Google, TikTok
//! and Snapchat, normalised and SHA-256 hashed exactly as each platform documents
//! (the normative rules, with our decisions D1–D25 where the platforms are silent,
//! are in `PLATFORMS.md`; every rule has a case in `testdata/normalization.json`).
//!
//! The same input legitimately gives different keys on different platforms:
//!
//! ```
//! use stratum_connectors::{Field, FieldValue, Normalizer, NormalizerConfig, Platform, PhoneRegion};
//!
//! let config = NormalizerConfig::builder()
//!     .phone_region(PhoneRegion::Default("US".into()))
//!     .build()?;
//! let n = Normalizer::new(config)?;
//! let phone = FieldValue::auto("+1 (650) 555-1212");
//! let meta = n.normalize(Platform::Meta, Field::Phone, &phone).unwrap();
//! let google = n.normalize(Platform::Google, Field::Phone, &phone).unwrap();
//! assert_eq!(meta.normalized.as_deref(), Some("16505551212"));
//! assert_eq!(google.normalized.as_deref(), Some("+16505551212"));
//! assert!(meta.value.starts_with("e323ec62"));
//! assert!(google.value.starts_with("1e231c66"));
//!
//! // Already-hashed values pass through and are never hashed twice.
//! let again = n.normalize(Platform::Meta, Field::Phone, &FieldValue::auto(meta.value.clone())).unwrap();
//! assert_eq!(again.value, meta.value);
//! # Ok::<(), stratum_connectors::Error>(())
//! ```
//!
//! [`emq`] supplies the per-platform weights of `stratum_core::emq` (our own
//! `stratum-emq-1` heuristic, not a platform's score) and turns normalisation
//! outcomes into its input.
//!
//! Invalid customer data drops that one field with a typed [`FieldWarning`]; the event
//! is still sent (D2). Invalid configuration is an [`Error`] with a stable
//! [`Error::code`].
//!
//! ## Feature flags
//!
//! | Feature | Default | Enables |
//! |---|---|---|
//! | `meta` | yes | [`Platform::Meta`] and the [`meta`] module (Conversions API `user_data` rules) |
//! | `google` | yes | [`Platform::Google`] (Data Manager rules, base64 digests) |
//! | `tiktok` | yes | [`Platform::TikTok`] (Events API `user` rules) |
//! | `snapchat` | yes | [`Platform::Snapchat`] (Conversions API v3 `user_data` rules) |
//! | `http` | no | the `delivery` module: sending the built requests with retries, rate limits and per-event reports (adds `ureq` with rustls) |
//!
//! Each platform feature compiles on its own (`--no-default-features --features
//! tiktok`). The platform features add no dependencies; `http` adds a blocking
//! HTTP client over rustls (no OpenSSL).

// Without any platform feature the platform enum is empty and most code unreachable.
#![cfg_attr(
    not(any(
        feature = "meta",
        feature = "google",
        feature = "tiktok",
        feature = "snapchat"
    )),
    allow(unused_variables, dead_code, unreachable_code)
)]

#[cfg(feature = "http")]
pub mod delivery;
pub mod emq;
mod error;
mod event;
#[cfg(feature = "google")]
mod google;
#[cfg(feature = "meta")]
pub mod meta;
mod normalize;
pub mod payload;
mod platform;
#[cfg(feature = "snapchat")]
mod snapchat;
#[cfg(feature = "tiktok")]
mod tiktok;

pub use error::{Error, Result, from_json, from_json_slice};
pub use event::{ActionSource, Consent, Content, ConversionEvent};
pub use normalize::{
    Context, ExternalIdMode, FieldValue, FieldWarning, HashEncoding, Hashed, HashedColumn,
    Normalized, Normalizer, NormalizerConfig, NormalizerConfigBuilder, Origin, PhoneRegion,
    WarningCode, sha256_hex,
};
pub use platform::{Field, FieldSpec, Platform, Rule};

/// Internal hooks for the fuzz targets (feature `fuzzing`); not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::normalize::numbering_fuzzing::*;
}

/// The guides in `docs/`, compiled as doctests so that every value they show is
/// checked.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../docs/connectors.md")]
    struct Connectors;
}
