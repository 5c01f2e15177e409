//! Per-platform EMQ models for `stratum_core::emq` (`stratum-emq-1`, our own
//! heuristic — never a platform's score) and the bridge from normalised fields to
//! the model's keys.
//!
//! A platform's model holds only the keys the platform accepts (PLATFORMS.md §2), so
//! keys it lacks leave both `S` and `R`; remediation text names the platform's own
//! parameter and where its value comes from.
//!
//! ```
//! use stratum_connectors::{emq, Field, FieldValue, Normalizer, NormalizerConfig, Platform, PhoneRegion};
//! use stratum_core::emq::{EmqKey, ReportOptions};
//!
//! let n = Normalizer::new(
//!     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
//! )?;
//! let fields = [
//!     (Field::Email, FieldValue::raw("alice@example.com")),
//!     (Field::Phone, FieldValue::raw("call me")),
//!     (Field::ClientIp, FieldValue::raw("203.0.113.7")),
//!     (Field::UserAgent, FieldValue::raw("Mozilla/5.0")),
//! ];
//! let outcomes: Vec<_> = fields.iter().map(|(f, v)| n.normalize(Platform::Meta, *f, v)).collect();
//! let event = emq::event(&outcomes, Some("order-1"));
//! assert!(event.valid.contains(EmqKey::Email) && event.valid.contains(EmqKey::IpUa));
//! assert!(event.invalid.contains(EmqKey::Phone));
//!
//! let model = emq::model(Platform::Meta);
//! // Meta has every key: Σ_R w = 14; email 3 + IP+UA 2 → 10 · 5 / 14 = 3.6
//! assert_eq!(model.score(&event).score, 3.6);
//! let report = model.report(&[event], &ReportOptions::default())?;
//! assert_eq!(report.fixes[0].key, EmqKey::ClickId);
//! assert!(report.fixes[0].remediation.starts_with("send `fbc`"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::OnceLock;

use stratum_core::emq::{EmqEvent, EmqKey, EmqModel, EmqModelBuilder};

use crate::normalize::{FieldWarning, Normalized, Origin, WarningCode};
use crate::platform::{Field, Platform};

/// The EMQ key a field feeds; IP and user agent feed [`EmqKey::IpUa`] together, and
/// the mobile ad id feeds none.
#[must_use]
pub fn key_of(field: Field) -> Option<EmqKey> {
    Some(match field {
        Field::Email => EmqKey::Email,
        Field::Phone => EmqKey::Phone,
        Field::FirstName => EmqKey::FirstName,
        Field::LastName => EmqKey::LastName,
        Field::City => EmqKey::City,
        Field::State => EmqKey::State,
        Field::Zip => EmqKey::Zip,
        Field::Country => EmqKey::Country,
        Field::Gender => EmqKey::Gender,
        Field::BirthDate => EmqKey::BirthDate,
        Field::ExternalId => EmqKey::ExternalId,
        Field::ClientIp | Field::UserAgent => EmqKey::IpUa,
        Field::ClickId => EmqKey::ClickId,
        Field::BrowserId => EmqKey::BrowserId,
        Field::MobileAdId => return None,
    })
}

/// Where a platform's click and browser ids come from, for remediation text.
fn id_sources(platform: Platform) -> (&'static str, &'static str) {
    match platform {
        #[cfg(feature = "meta")]
        Platform::Meta => (
            "from the `_fbc` cookie, or built from the `fbclid` URL parameter with `meta::fbc_from_fbclid`,",
            "from the `_fbp` cookie",
        ),
        #[cfg(feature = "google")]
        Platform::Google => (
            "from the `gclid` URL parameter (or the `_gcl_aw` cookie)",
            "",
        ),
        #[cfg(feature = "tiktok")]
        Platform::TikTok => (
            "from the `ttclid` URL parameter (valid 7 days)",
            "from the `_ttp` cookie",
        ),
        #[cfg(feature = "snapchat")]
        Platform::Snapchat => ("from the `ScCid` URL parameter", "from the `_scid` cookie"),
    }
}

/// The default `stratum-emq-1` model for `platform`: every key the platform
/// accepts, with the default weights of PLATFORMS.md §5 and the platform's parameter
/// names in remediation text.
#[must_use]
pub fn model(platform: Platform) -> EmqModel {
    model_builder(platform)
        .build()
        // Cannot fail: every platform accepts email, a key of `R` with weight 3.
        .unwrap_or_else(|_| EmqModel::default())
}

/// The default model of `platform` as [`model`] builds it, built once per process
/// and shared: for callers that score one event at a time (a page previewing an
/// event on every keystroke).
///
/// ```
/// use stratum_connectors::{emq, Platform};
/// assert_eq!(emq::shared_model(Platform::Meta), &emq::model(Platform::Meta));
/// ```
#[must_use]
pub fn shared_model(platform: Platform) -> &'static EmqModel {
    static MODELS: [OnceLock<EmqModel>; 4] = [const { OnceLock::new() }; 4];
    let slot: usize = match platform {
        #[cfg(feature = "meta")]
        Platform::Meta => 0,
        #[cfg(feature = "google")]
        Platform::Google => 1,
        #[cfg(feature = "tiktok")]
        Platform::TikTok => 2,
        #[cfg(feature = "snapchat")]
        Platform::Snapchat => 3,
    };
    MODELS[slot].get_or_init(|| model(platform))
}

/// The builder behind [`model`], to change weights before building.
pub fn model_builder(platform: Platform) -> EmqModelBuilder {
    let (click_source, browser_source) = id_sources(platform);
    let defaults = EmqModel::default();
    let mut b = EmqModel::builder(platform.as_str());
    for key in EmqKey::ALL {
        let fields: &[Field] = match key {
            EmqKey::IpUa => &[Field::ClientIp, Field::UserAgent],
            EmqKey::Email => &[Field::Email],
            EmqKey::ClickId => &[Field::ClickId],
            EmqKey::Phone => &[Field::Phone],
            EmqKey::ExternalId => &[Field::ExternalId],
            EmqKey::BrowserId => &[Field::BrowserId],
            EmqKey::BirthDate => &[Field::BirthDate],
            EmqKey::Country => &[Field::Country],
            EmqKey::FirstName => &[Field::FirstName],
            EmqKey::LastName => &[Field::LastName],
            EmqKey::City => &[Field::City],
            EmqKey::Zip => &[Field::Zip],
            EmqKey::State => &[Field::State],
            EmqKey::Gender => &[Field::Gender],
        };
        let specs: Option<Vec<_>> = fields.iter().map(|f| platform.spec(*f)).collect();
        let Some(specs) = specs else { continue };
        let label = specs
            .iter()
            .map(|s| s.key)
            .collect::<Vec<_>>()
            .join("` + `");
        b = match key {
            EmqKey::ClickId => b.key_labelled(key, &label, click_source),
            EmqKey::BrowserId => b.key_labelled(key, &label, browser_source),
            _ => {
                let source = defaults
                    .rules()
                    .iter()
                    .find(|r| r.key == key)
                    .map(|r| r.source.clone())
                    .unwrap_or_default();
                b.key_labelled(key, &label, &source)
            }
        };
    }
    b
}

/// The EMQ view of one event from its normalisation outcomes (one per field given).
///
/// A field counts as valid when it normalised (pre-hashed values are flagged as
/// such), as invalid when it was dropped with a warning other than `empty` or
/// `unsupported_field`, and as missing otherwise. IP + UA is valid only when both
/// are.
#[must_use]
pub fn event(outcomes: &[Result<Normalized, FieldWarning>], event_id: Option<&str>) -> EmqEvent {
    let mut e = EmqEvent::new();
    let (mut ip, mut ua, mut ip_ua_invalid) = (false, false, false);
    for outcome in outcomes {
        match outcome {
            Ok(n) => match n.field {
                Field::ClientIp => ip = true,
                Field::UserAgent => ua = true,
                f => {
                    if let Some(k) = key_of(f) {
                        e.valid.insert(k);
                        if n.origin == Origin::PreHashed {
                            e.pre_hashed.insert(k);
                        }
                    }
                }
            },
            Err(w) => {
                if matches!(w.code, WarningCode::Empty | WarningCode::UnsupportedField) {
                    continue;
                }
                match w.field {
                    Field::ClientIp | Field::UserAgent => ip_ua_invalid = true,
                    f => {
                        if let Some(k) = key_of(f) {
                            e.invalid.insert(k);
                        }
                    }
                }
            }
        }
    }
    if ip && ua {
        e.valid.insert(EmqKey::IpUa);
    } else if ip_ua_invalid {
        e.invalid.insert(EmqKey::IpUa);
    }
    e.event_id = event_id.map(str::to_owned);
    e
}
