//! `stratum_connectors::payload`: conversion-API request bodies for Meta, Google,
//! TikTok and Snapchat from neutral conversion events.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use stratum_connectors::payload::{self as core, Built, EventWarning};
use stratum_connectors::{ConversionEvent, Platform};

use crate::convert::{json_text, serde_from, time, to_py};
use crate::errors::{connectors_err, guard, stratum_err};
use crate::locks::{Int, Text};
use crate::normalize::{Normalizer, platform};

fn warning_message(w: &EventWarning) -> String {
    match w {
        EventWarning::Field { warning, .. } => warning.to_string(),
        EventWarning::MissingEventId { .. } => {
            "no event_id: the platform cannot deduplicate this event against the Pixel".to_owned()
        }
        EventWarning::OldEvent { age_days, .. } => format!("the event is {age_days} days old"),
        other => other.code().to_owned(),
    }
}

/// Request bodies as dicts, or as compact JSON strings with `as_json`.
pub(crate) fn requests<'py, R: Serialize>(
    py: Python<'py>,
    requests: &[R],
    as_json: bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for r in requests {
        if as_json {
            let text = serde_json::to_string(r).ok().ok_or_else(|| {
                stratum_err("internal", "a request is not serialisable".into(), None)
            })?;
            out.append(text)?;
        } else {
            out.append(to_py(py, r)?)?;
        }
    }
    Ok(out)
}

fn built<'py, R: Serialize>(
    py: Python<'py>,
    b: &Built<R>,
    as_json: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("requests", requests(py, &b.requests, as_json)?)?;
    let rejected = PyList::empty(py);
    for r in &b.rejected {
        let d = PyDict::new(py);
        d.set_item("index", r.index)?;
        d.set_item("code", r.error.code())?;
        d.set_item("field", r.error.field())?;
        d.set_item("message", r.error.to_string())?;
        rejected.append(d)?;
    }
    out.set_item("rejected", rejected)?;
    let warnings = PyList::empty(py);
    for w in &b.warnings {
        let d = PyDict::new(py);
        d.set_item("index", w.index())?;
        d.set_item("code", w.code())?;
        d.set_item("message", warning_message(w))?;
        warnings.append(d)?;
    }
    out.set_item("warnings", warnings)?;
    Ok(out)
}

/// Builds the request bodies of `platform` from `events` (a list of
/// `ConversionEvent` dicts) as of `now`. Returns `{"requests", "rejected",
/// "warnings"}`: requests as dicts (or JSON strings with `as_json=True`), rejected
/// events with their error `code`, `field` and `message`, and non-fatal warnings.
///
/// Google needs `destinations` (a list of `{"operatingAccount": {...},
/// "productDestinationId": ...}`); TikTok needs `event_source_ids` (`{"web": pixel
/// code, "app": app id, "offline": event set id}`, at least one).
#[pyfunction]
#[pyo3(signature = (
    normalizer, platform, events, now = None, *,
    destinations = None, event_source_ids = None, test_event_code = None,
    batch_size = None, as_json = false
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_payloads<'py>(
    py: Python<'py>,
    normalizer: &Bound<'py, Normalizer>,
    platform: Text,
    events: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
    destinations: Option<&Bound<'py, PyAny>>,
    event_source_ids: Option<std::collections::HashMap<Text, Text>>,
    test_event_code: Option<Text>,
    batch_size: Option<Int>,
    as_json: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let n = &normalizer.get().0;
        let now = time(now)?;
        // Out-of-range sizes are clamped so that the builders' own check refuses them.
        let batch_size = batch_size.map(Int::clamped_usize);
        let text = json_text(events)?;
        let events: Vec<ConversionEvent> = py
            .detach(|| stratum_connectors::from_json(&text))
            .map_err(connectors_err)?;
        match self::platform(&platform)? {
            Platform::Meta => {
                let mut b = core::meta::MetaBuilder::new(n);
                if let Some(code) = test_event_code {
                    b = b.test_event_code(code.0);
                }
                if let Some(size) = batch_size {
                    b = b.batch_size(size).map_err(connectors_err)?;
                }
                built(py, &py.detach(|| b.build(&events, now)), as_json)
            }
            Platform::Google => {
                let dest: Vec<core::google::Destination> = match destinations {
                    Some(d) => serde_from(d, "destinations")?,
                    None => Vec::new(),
                };
                let mut b = core::google::GoogleBuilder::new(n, dest).map_err(connectors_err)?;
                if let Some(size) = batch_size {
                    b = b.batch_size(size).map_err(connectors_err)?;
                }
                let out = py.detach(|| b.build(&events, now));
                built(py, &out, as_json)
            }
            Platform::TikTok => {
                let ids = event_source_ids.unwrap_or_default();
                let ids = core::tiktok::EventSourceIds {
                    web: ids.get("web").map(|t| t.0.clone()),
                    app: ids.get("app").map(|t| t.0.clone()),
                    offline: ids.get("offline").map(|t| t.0.clone()),
                };
                let mut b = core::tiktok::TikTokBuilder::new(n, ids).map_err(connectors_err)?;
                if let Some(size) = batch_size {
                    b = b.batch_size(size).map_err(connectors_err)?;
                }
                built(py, &py.detach(|| b.build(&events, now)), as_json)
            }
            Platform::Snapchat => {
                let mut b = core::snapchat::SnapBuilder::new(n);
                if let Some(size) = batch_size {
                    b = b.batch_size(size).map_err(connectors_err)?;
                }
                built(py, &py.detach(|| b.build(&events, now)), as_json)
            }
            #[allow(unreachable_patterns)]
            other => Err(stratum_err(
                "invalid_config",
                format!("no payload builder for {other}"),
                Some("platform"),
            )),
        }
    })
}
