//! Conversion-API request bodies for every platform: one request type with the
//! options of each platform, one response type.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stratum_connectors::payload::Built;
use stratum_connectors::payload::google::{Destination, GoogleBuilder, IngestEventsRequest};
use stratum_connectors::payload::meta::{DataProcessing, MetaBuilder, MetaRequest};
use stratum_connectors::payload::snapchat::{SnapBuilder, SnapRequest};
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder, TikTokRequest};
use stratum_connectors::{Consent, ConversionEvent, Normalizer, Platform};

use crate::ErrorReport;

/// Build the request bodies of `platform` for `events` as of `now`.
///
/// JSON: `{"platform": "meta", "now": "2026-03-01T12:05:00Z", "events": [...],
/// "options": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadRequest {
    /// The platform whose API the bodies are for.
    pub platform: Platform,
    /// The neutral conversion events.
    pub events: Vec<ConversionEvent>,
    /// The time the events are judged against (age, future tolerance).
    pub now: DateTime<Utc>,
    /// Platform options.
    #[serde(default)]
    pub options: PayloadOptions,
}

/// The options of the payload builders. An option of another platform than the
/// request's is an error (`invalid_config` naming it), not silently ignored.
/// Errors about an option name it without the `options.` prefix (`batch_size`),
/// as hosts that take options as keyword arguments spell it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadOptions {
    /// Events per request, at most the platform's limit (default: the limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Meta: `test_event_code`, to see the events in Events Manager's test tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_event_code: Option<String>,
    /// Meta: data processing options (Limited Data Use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_processing: Option<DataProcessingOptions>,
    /// Google (required): the conversion destinations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Destination>,
    /// Google: the consent sent with every event that has none of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// Google: `validateOnly` (the API checks the request and stores nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_only: bool,
    /// TikTok (at least one required): the event sources of the advertiser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_ids: Option<EventSourceIds>,
}

/// Meta's data processing options in Meta's own terms: `options` `[]` or `["LDU"]`,
/// with `country`/`state` `0`/`0` (geolocate) or `1`/`1000` (California).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProcessingOptions {
    /// `[]` (LDU off) or `["LDU"]`.
    pub options: Vec<String>,
    /// `data_processing_options_country`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<u32>,
    /// `data_processing_options_state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<u32>,
}

/// The outcome for one platform: serialises as `{"requests", "rejected",
/// "warnings", "event_indices"}` (see [`Built`]), the requests in the platform's
/// documented JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Payloads {
    /// Meta Conversions API.
    Meta(Built<MetaRequest>),
    /// Google Data Manager `events:ingest`.
    Google(Built<IngestEventsRequest>),
    /// TikTok Events API.
    TikTok(Built<TikTokRequest>),
    /// Snapchat Conversions API.
    Snapchat(Built<SnapRequest>),
}

impl Payloads {
    /// Each request body as compact JSON text, ready to send.
    ///
    /// # Errors
    /// An [`INTERNAL`](crate::INTERNAL) report if a body cannot be serialised (a bug).
    pub fn request_texts(&self) -> Result<Vec<String>, ErrorReport> {
        match self {
            Self::Meta(b) => texts(&b.requests),
            Self::Google(b) => texts(&b.requests),
            Self::TikTok(b) => texts(&b.requests),
            Self::Snapchat(b) => texts(&b.requests),
        }
    }

    /// The response as a JSON value (the shape every host returns).
    ///
    /// # Errors
    /// An [`INTERNAL`](crate::INTERNAL) report if it cannot be serialised (a bug).
    pub fn to_value(&self) -> Result<serde_json::Value, ErrorReport> {
        serde_json::to_value(self).map_err(|e| ErrorReport::internal(e.to_string()))
    }
}

pub(crate) fn texts<R: Serialize>(requests: &[R]) -> Result<Vec<String>, ErrorReport> {
    requests
        .iter()
        .map(|r| serde_json::to_string(r).map_err(|e| ErrorReport::internal(e.to_string())))
        .collect()
}

/// An option given for a platform that does not take it.
fn foreign(platform: Platform, option: &str, owner: &str) -> ErrorReport {
    ErrorReport::config(
        option,
        format!("is a {owner} option; {platform} does not take it"),
    )
}

/// Builds the request bodies of `request.platform`.
///
/// Events that fail the platform's rules are returned as rejected rows, not as an
/// error; the error is for a request that cannot be served at all (an invalid
/// option, a missing Google destination or TikTok event source).
///
/// ```
/// use stratum_bindings::payload::{PayloadRequest, build_payloads};
/// use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};
/// let n = Normalizer::new(
///     NormalizerConfig::builder()
///         .phone_region(PhoneRegion::Default("US".into()))
///         .build()?,
/// )?;
/// let request: PayloadRequest = serde_json::from_str(r#"{
///     "platform": "snapchat", "now": "2026-03-01T12:05:00Z",
///     "events": [{"event_name": "Purchase", "event_time": "2026-03-01T12:00:00Z",
///                 "action_source": "website", "event_id": "o-1",
///                 "user": {"email": {"raw": "ann@example.com"}}}]}"#)?;
/// let out = build_payloads(&n, &request).map_err(|e| e.message)?.to_value().map_err(|e| e.message)?;
/// assert_eq!(out["requests"].as_array().map(Vec::len), Some(1));
/// assert_eq!(out["rejected"], serde_json::json!([]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// `invalid_config` naming the option (`batch_size`, `destinations`, ...) when the
/// request cannot be served.
pub fn build_payloads(
    normalizer: &Normalizer,
    request: &PayloadRequest,
) -> Result<Payloads, ErrorReport> {
    let p = request.platform;
    let o = &request.options;
    let events = &request.events;
    let now = request.now;
    // Options of other platforms.
    if p != Platform::Meta {
        if o.test_event_code.is_some() {
            return Err(foreign(p, "test_event_code", "meta"));
        }
        if o.data_processing.is_some() {
            return Err(foreign(p, "data_processing", "meta"));
        }
    }
    if p != Platform::Google {
        if !o.destinations.is_empty() {
            return Err(foreign(p, "destinations", "google"));
        }
        if o.consent.is_some() {
            return Err(foreign(p, "consent", "google"));
        }
        if o.validate_only {
            return Err(foreign(p, "validate_only", "google"));
        }
    }
    if p != Platform::TikTok && o.event_source_ids.is_some() {
        return Err(foreign(p, "event_source_ids", "tiktok"));
    }
    match p {
        Platform::Meta => {
            let mut b = MetaBuilder::new(normalizer);
            if let Some(code) = &o.test_event_code {
                b = b.test_event_code(code.clone());
            }
            if let Some(dp) = &o.data_processing {
                let options: Vec<&str> = dp.options.iter().map(String::as_str).collect();
                let dp =
                    DataProcessing::from_parts(&options, dp.country, dp.state).map_err(|e| {
                        let mut r = ErrorReport::from(e);
                        r.field = Some("data_processing".to_owned());
                        r
                    })?;
                b = b.data_processing(dp);
            }
            if let Some(size) = o.batch_size {
                b = b.batch_size(size).map_err(ErrorReport::from)?;
            }
            Ok(Payloads::Meta(b.build(events, now)))
        }
        Platform::Google => {
            let mut b = GoogleBuilder::new(normalizer, o.destinations.clone())?;
            if let Some(size) = o.batch_size {
                b = b.batch_size(size).map_err(ErrorReport::from)?;
            }
            if let Some(consent) = o.consent {
                b = b.consent(consent);
            }
            b = b.validate_only(o.validate_only);
            Ok(Payloads::Google(b.build(events, now)))
        }
        Platform::TikTok => {
            let ids = o.event_source_ids.clone().unwrap_or_default();
            let mut b = TikTokBuilder::new(normalizer, ids)?;
            if let Some(size) = o.batch_size {
                b = b.batch_size(size).map_err(ErrorReport::from)?;
            }
            Ok(Payloads::TikTok(b.build(events, now)))
        }
        Platform::Snapchat => {
            let mut b = SnapBuilder::new(normalizer);
            if let Some(size) = o.batch_size {
                b = b.batch_size(size).map_err(ErrorReport::from)?;
            }
            Ok(Payloads::Snapchat(b.build(events, now)))
        }
        #[allow(unreachable_patterns)]
        other => Err(ErrorReport::config(
            "platform",
            format!("no payload builder for {other}"),
        )),
    }
}
