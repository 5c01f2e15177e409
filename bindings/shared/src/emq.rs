//! Event Match Quality (`stratum-emq-1`, our own heuristic, not a platform's score)
//! of events as the caller has them: one event's score, or a batch report with
//! ranked fixes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stratum_connectors::{Field, FieldValue, Normalizer, Platform, emq};
use stratum_core::emq::{BatchReport, EmqEvent, EventScore, ReportOptions};

use crate::ErrorReport;

/// One event's customer information, in the JSON form of the conversion events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqEventInput {
    /// Customer information per neutral field.
    #[serde(default)]
    pub user: BTreeMap<Field, FieldValue>,
    /// The event id (batch reports count duplicates by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// Score one event for `platform`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqScoreRequest {
    /// The platform whose model applies.
    pub platform: Platform,
    /// The event.
    pub event: EmqEventInput,
}

/// Report on a batch of events for `platform`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqReportRequest {
    /// The platform whose model applies.
    pub platform: Platform,
    /// The events.
    pub events: Vec<EmqEventInput>,
    /// Report options (a ROAS model turns gains into money estimates).
    #[serde(default)]
    pub options: ReportOptions,
}

fn event_of(n: &Normalizer, p: Platform, e: &EmqEventInput) -> EmqEvent {
    let outcomes: Vec<_> = e.user.iter().map(|(f, v)| n.normalize(p, *f, v)).collect();
    emq::event(&outcomes, e.event_id.as_deref())
}

/// The score of one event, with each key's contribution.
///
/// ```
/// use stratum_bindings::emq::{EmqScoreRequest, emq_score};
/// use stratum_connectors::{Normalizer, NormalizerConfig, PhoneRegion};
/// let n = Normalizer::new(
///     NormalizerConfig::builder().phone_region(PhoneRegion::Default("US".into())).build()?,
/// )?;
/// let request: EmqScoreRequest = serde_json::from_str(
///     r#"{"platform": "meta", "event": {"user": {"email": {"raw": "ann@example.com"}}}}"#,
/// )?;
/// assert_eq!(emq_score(&n, &request).model, "stratum-emq-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn emq_score(normalizer: &Normalizer, request: &EmqScoreRequest) -> EventScore {
    let event = event_of(normalizer, request.platform, &request.event);
    emq::shared_model(request.platform).score(&event)
}

/// A batch report: coverage per key, the score distribution and ranked fixes.
///
/// # Errors
/// The report's own errors (none for a valid [`ReportOptions`]) as an
/// [`ErrorReport`].
pub fn emq_report(
    normalizer: &Normalizer,
    request: &EmqReportRequest,
) -> Result<BatchReport, ErrorReport> {
    let events: Vec<EmqEvent> = request
        .events
        .iter()
        .map(|e| event_of(normalizer, request.platform, e))
        .collect();
    Ok(emq::shared_model(request.platform).report(&events, &request.options)?)
}
