//! Normalisation and hashing of customer-information values for one platform.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stratum_connectors::{
    Context, Field, FieldValue, FieldWarning, Normalized, Normalizer, Origin, Platform, WarningCode,
};

/// Normalise (and hash, where the platform wants a digest) `values` for `platform`.
///
/// JSON: `{"platform": "meta", "values": [{"field": "email", "value": {"raw":
/// "Ann@Example.com"}, "country": "US"}], "today": "2026-03-01"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeRequest {
    /// The platform whose rules apply.
    pub platform: Platform,
    /// The values, each of one field.
    pub values: Vec<NormalizeValue>,
    /// The day birth dates are judged at when the normaliser's config fixes none
    /// (without either, only the 1900-01-01 lower bound applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<NaiveDate>,
}

/// One value of a [`NormalizeRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeValue {
    /// The neutral field.
    pub field: Field,
    /// The value, in the JSON form of [`FieldValue`] (`{"raw": ...}`, `{"auto":
    /// ...}`, `{"hashed": {"hex": ...}}`, `{"date": "1990-02-01"}`).
    pub value: FieldValue,
    /// The person's country (ISO 3166-1 alpha-2), which decides how states and zips
    /// are checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The outcome of each value, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NormalizeResponse {
    /// One outcome per value.
    pub results: Vec<NormalizeOutcome>,
}

/// A value's outcome: `value` set (with `key`, `normalized`, `origin`) when the value
/// is sent, `warning` and `message` set when it is dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NormalizeOutcome {
    /// The field.
    pub field: Field,
    /// The platform's key (`em`), when sent.
    pub key: Option<&'static str>,
    /// The value to send (digest or normalised text), when sent.
    pub value: Option<String>,
    /// The normalised text that was hashed, when hashed here.
    pub normalized: Option<String>,
    /// Where the sent value came from.
    pub origin: Option<Origin>,
    /// A doubt about a value that is still sent (`phone_not_valid`: possible for its
    /// country but not valid in the numbering-plan metadata).
    pub note: Option<WarningCode>,
    /// Why the value was dropped.
    pub warning: Option<WarningCode>,
    /// The explanation of the warning.
    pub message: Option<String>,
}

impl From<Result<Normalized, FieldWarning>> for NormalizeOutcome {
    fn from(r: Result<Normalized, FieldWarning>) -> Self {
        match r {
            Ok(n) => Self {
                field: n.field,
                key: Some(n.key),
                value: Some(n.value),
                normalized: n.normalized,
                origin: Some(n.origin),
                note: n.note,
                warning: None,
                message: None,
            },
            Err(w) => Self {
                field: w.field,
                key: None,
                value: None,
                normalized: None,
                origin: None,
                note: None,
                warning: Some(w.code),
                message: Some(w.message),
            },
        }
    }
}

/// Normalises every value of `request`; invalid values are dropped with a warning,
/// never an error (PLATFORMS.md D2).
///
/// ```
/// use stratum_bindings::normalize::{NormalizeRequest, normalize};
/// use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};
/// let n = Normalizer::new(
///     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
/// )?;
/// let request: NormalizeRequest = serde_json::from_str(r#"{"platform": "meta", "values": [
///     {"field": "email", "value": {"raw": " Ann@Example.com "}},
///     {"field": "email", "value": {"raw": "nope"}}]}"#)?;
/// let out = normalize(&n, &request);
/// assert_eq!(out.results[0].normalized.as_deref(), Some("ann@example.com"));
/// assert!(out.results[1].value.is_none() && out.results[1].warning.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn normalize(normalizer: &Normalizer, request: &NormalizeRequest) -> NormalizeResponse {
    let results = request
        .values
        .iter()
        .map(|v| {
            let ctx = Context {
                country: v.country.as_deref(),
                today: request.today,
            };
            normalizer
                .normalize_in(request.platform, v.field, &v.value, ctx)
                .into()
        })
        .collect();
    NormalizeResponse { results }
}
