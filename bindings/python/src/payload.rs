//! `stratum_bindings::payload`: conversion-API request bodies for Meta, Google,
//! TikTok and Snapchat from neutral conversion events.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use stratum_bindings::ErrorReport;
use stratum_bindings::payload::{self as surface, PayloadOptions, PayloadRequest};

use crate::convert::{json_text, serde_from, time, to_py};
use crate::errors::{connectors_err, guard, report_err};
use crate::locks::{Arg, Int, Text};
use crate::normalize::{Normalizer, platform};

/// A surface response as a dict; with `texts`, its `requests` replaced by the
/// bodies as compact JSON strings.
pub(crate) fn response<'py, T: Serialize>(
    py: Python<'py>,
    out: &T,
    texts: Option<Result<Vec<String>, ErrorReport>>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = to_py(py, out)?.cast_into::<PyDict>()?;
    if let Some(texts) = texts {
        dict.set_item("requests", PyList::new(py, texts.map_err(report_err)?)?)?;
    }
    Ok(dict)
}

/// Builds the request bodies of `platform` from `events` (a list of
/// `ConversionEvent` dicts) as of `now`. Returns `{"requests", "rejected",
/// "warnings", "event_indices"}`: requests as dicts (or JSON strings with
/// `as_json=True`), rejected events and warnings as `{"index", "code", "field",
/// "message"}`, and for each request the input index of each of its events.
///
/// Google needs `destinations` (a list of `{"operatingAccount": {...},
/// "productDestinationId": ...}`) and takes `consent` and `validate_only`; TikTok
/// needs `event_source_ids` (`{"web": pixel code, "app": app id, "offline": event
/// set id}`, at least one); Meta takes `test_event_code` and `data_processing`
/// (`{"options": ["LDU"], "country": 1, "state": 1000}`). An option of another
/// platform raises `InvalidConfigError`.
#[pyfunction]
#[pyo3(signature = (
    normalizer, platform, events, now = None, *,
    destinations = None, event_source_ids = None, test_event_code = None,
    batch_size = None, data_processing = None, consent = None, validate_only = Arg(false),
    as_json = Arg(false)
), text_signature = "(normalizer, platform, events, now=None, *, destinations=None, \
    event_source_ids=None, test_event_code=None, batch_size=None, data_processing=None, \
    consent=None, validate_only=False, as_json=False)")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_payloads<'py>(
    py: Python<'py>,
    normalizer: Arg<Bound<'py, Normalizer>>,
    platform: Text,
    events: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
    destinations: Option<&Bound<'py, PyAny>>,
    event_source_ids: Option<&Bound<'py, PyAny>>,
    test_event_code: Option<Text>,
    batch_size: Option<Int>,
    data_processing: Option<&Bound<'py, PyAny>>,
    consent: Option<&Bound<'py, PyAny>>,
    validate_only: Arg<bool>,
    as_json: Arg<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let request = PayloadRequest {
            platform: self::platform(&platform)?,
            events: {
                let text = json_text(events)?;
                py.detach(|| stratum_connectors::from_json(&text))
                    .map_err(connectors_err)?
            },
            now: time(now)?,
            options: PayloadOptions {
                batch_size: batch_size.map(|b| b.size("batch_size")).transpose()?,
                test_event_code: test_event_code.map(|t| t.0),
                data_processing: data_processing
                    .map(|d| serde_from(d, "data_processing"))
                    .transpose()?,
                destinations: destinations
                    .map(|d| serde_from(d, "destinations"))
                    .transpose()?
                    .unwrap_or_default(),
                consent: consent.map(|c| serde_from(c, "consent")).transpose()?,
                validate_only: validate_only.0,
                event_source_ids: event_source_ids
                    .map(|d| serde_from(d, "event_source_ids"))
                    .transpose()?,
            },
        };
        let n = &normalizer.get().0;
        let out = py
            .detach(|| surface::build_payloads(n, &request))
            .map_err(report_err)?;
        response(py, &out, as_json.then(|| out.request_texts()))
    })
}
