//! Shapes for a live preview of one event (a form being filled in, a tag about to
//! fire) and for hashing many values of one field at once.
//!
//! [`emq_preview`] answers, in one call, what a page shows on every keystroke: each
//! field's normalised and hashed key (or why it is dropped), the event's EMQ score
//! with each key's contribution, and the fixes ranked by estimated EMQ gain.
//! [`hash_values`] normalises and hashes a column of values of one field (an e-mail
//! list) and returns only the values to send.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stratum_connectors::{Context, Field, FieldValue, Normalizer, Platform, emq};
use stratum_core::emq::{EventScore, FixSuggestion, ReportOptions};

use crate::ErrorReport;
use crate::emq::EmqEventInput;
use crate::normalize::NormalizeOutcome;

/// Preview one event for `platform`.
///
/// JSON: `{"platform": "meta", "event": {"user": {"email": {"raw":
/// "Ann@Example.com"}}}, "options": {"roas": {...}}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqPreviewRequest {
    /// The platform whose rules and model apply.
    pub platform: Platform,
    /// The event.
    pub event: EmqEventInput,
    /// Report options (a ROAS model turns each fix's gain into a money estimate).
    #[serde(default)]
    pub options: ReportOptions,
}

/// What one event would send and how well it would match.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmqPreview {
    /// Each field of the event's `user`, in field order: the key and value it sends
    /// (`normalized` the text that was hashed), or the warning it is dropped with.
    pub keys: Vec<NormalizeOutcome>,
    /// The event's score with each key's contribution (the same as
    /// [`emq_score`](crate::emq::emq_score) gives).
    pub score: EventScore,
    /// Missing or invalid keys, largest estimated EMQ gain first (the fixes of a
    /// one-event [`emq_report`](crate::emq::emq_report)).
    pub fixes: Vec<FixSuggestion>,
}

/// The keys, score and ranked fixes of one event.
///
/// ```
/// use stratum_bindings::preview::{EmqPreviewRequest, emq_preview};
/// use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};
/// let n = Normalizer::new(
///     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
/// )?;
/// let request: EmqPreviewRequest = serde_json::from_str(
///     r#"{"platform": "meta", "event": {"user": {"email": {"raw": " Ann@Example.com"}}}}"#,
/// )?;
/// let p = emq_preview(&n, &request).map_err(|e| e.message)?;
/// assert_eq!(p.keys[0].normalized.as_deref(), Some("ann@example.com"));
/// assert_eq!(p.score.score, 2.1);
/// assert_eq!(p.fixes[0].key.as_str(), "click_id");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The report's own errors (none for a valid [`ReportOptions`]).
pub fn emq_preview(
    normalizer: &Normalizer,
    request: &EmqPreviewRequest,
) -> Result<EmqPreview, ErrorReport> {
    let platform = request.platform;
    let outcomes: Vec<_> = request
        .event
        .user
        .iter()
        .map(|(f, v)| normalizer.normalize(platform, *f, v))
        .collect();
    let event = emq::event(&outcomes, request.event.event_id.as_deref());
    let model = emq::shared_model(platform);
    let score = model.score(&event);
    let report = model.report(std::slice::from_ref(&event), &request.options)?;
    Ok(EmqPreview {
        keys: outcomes.into_iter().map(NormalizeOutcome::from).collect(),
        score,
        fixes: report.fixes,
    })
}

/// Normalise and hash many values of one field for `platform`.
///
/// JSON: `{"platform": "meta", "field": "email", "values": ["Ann@Example.com",
/// ...]}`. Each value is read as `{"auto": ...}` (a SHA-256 hex digest passes
/// through).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashRequest {
    /// The platform whose rules apply.
    pub platform: Platform,
    /// The field every value is of.
    pub field: Field,
    /// The values, as the caller has them.
    pub values: Vec<String>,
    /// The people's country (ISO 3166-1 alpha-2), which decides how states and zips
    /// are checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The day birth dates are judged at when the normaliser's config fixes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<NaiveDate>,
}

/// The value to send for each value of a [`HashRequest`], in request order: the
/// digest (or normalised text, for a key the platform takes in clear), or `null`
/// for a value that is dropped (use [`normalize`](crate::normalize::normalize) to
/// learn why).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashResponse {
    /// One entry per value.
    pub values: Vec<Option<String>>,
}

/// Each value's key value, as [`normalize`](crate::normalize::normalize) gives it for
/// `{"auto": value}`.
///
/// ```
/// use stratum_bindings::preview::{HashRequest, hash_values};
/// use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};
/// let n = Normalizer::new(
///     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
/// )?;
/// let request: HashRequest = serde_json::from_str(
///     r#"{"platform": "meta", "field": "email", "values": ["Ann@Example.com", "nope"]}"#,
/// )?;
/// let out = hash_values(&n, &request);
/// assert_eq!(out.values[0].as_ref().map(String::len), Some(64));
/// assert_eq!(out.values[1], None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn hash_values(normalizer: &Normalizer, request: &HashRequest) -> HashResponse {
    let ctx = Context {
        country: request.country.as_deref(),
        today: request.today,
    };
    let values = request
        .values
        .iter()
        .map(|v| {
            normalizer
                .normalize_in(
                    request.platform,
                    request.field,
                    &FieldValue::Auto(v.clone()),
                    ctx,
                )
                .ok()
                .map(|n| n.value)
        })
        .collect();
    HashResponse { values }
}
