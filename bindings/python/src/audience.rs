//! `stratum_connectors::payload::audience`: audience-upload request bodies for Meta
//! custom audiences, Google Customer Match (Data Manager), TikTok segment mappings
//! and Snapchat customer lists.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use stratum_connectors::payload::audience::{self as core, AudienceBuilt, Member};
use stratum_connectors::payload::google::Destination;
use stratum_connectors::{FieldWarning, Platform};

use crate::convert::serde_from;
use crate::errors::{connectors_err, guard, input_err, stratum_err};
use crate::locks::{Int, Text};
use crate::normalize::{Normalizer, field, platform, value};

/// A member from a dict of field name → value (`str` auto-detected, a dict in the
/// JSON form, or None for an absent field).
fn member(obj: &Bound<'_, PyAny>, index: usize) -> PyResult<Member> {
    let dict = obj.cast::<PyDict>().map_err(|_| {
        input_err(
            "member",
            format!("members[{index}] must be a dict of field name to value"),
        )
    })?;
    let mut m = Member::default();
    for (k, v) in dict.iter() {
        if v.is_none() {
            continue;
        }
        let name: String = k.extract()?;
        m = m.with(field(&name)?, value(&v, false)?);
    }
    Ok(m)
}

fn warning_dict<'py>(
    py: Python<'py>,
    index: usize,
    w: &FieldWarning,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("index", index)?;
    d.set_item("field", w.field.as_str())?;
    d.set_item("code", w.code.as_str())?;
    d.set_item("message", &w.message)?;
    Ok(d)
}

fn built<'py, R: Serialize>(
    py: Python<'py>,
    b: &AudienceBuilt<R>,
    as_json: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item(
        "requests",
        crate::payload::requests(py, &b.requests, as_json)?,
    )?;
    out.set_item("skipped", &b.skipped)?;
    let warnings = PyList::empty(py);
    for (i, w) in &b.warnings {
        warnings.append(warning_dict(py, *i, w)?)?;
    }
    out.set_item("warnings", warnings)?;
    Ok(out)
}

/// Whether the members join (`add`) or leave (`remove`) the audience.
fn removes(operation: &str) -> PyResult<bool> {
    match operation {
        "add" => Ok(false),
        "remove" => Ok(true),
        other => Err(stratum_err(
            "invalid_config",
            format!("operation is {other:?}; expected \"add\" or \"remove\""),
            Some("operation"),
        )),
    }
}

fn ad_id_kind(name: &str) -> PyResult<core::tiktok::AdIdKind> {
    match name {
        "idfa" => Ok(core::tiktok::AdIdKind::Idfa),
        "aaid" => Ok(core::tiktok::AdIdKind::Aaid),
        other => Err(stratum_err(
            "invalid_config",
            format!("ad_id is {other:?}; expected \"idfa\" or \"aaid\""),
            Some("ad_id"),
        )),
    }
}

/// Builds the audience-upload request bodies of `platform` for `members`.
///
/// `members` is a list of dicts of field name → value (`email`, `phone`,
/// `first_name`, `last_name`, `zip`, `country`, `mobile_ad_id`, ...): a `str` is
/// auto-detected (a 64-hex value passes as already hashed), a dict is the JSON form
/// (`{"raw": ...}`, `{"hashed": {"hex": ...}}`), None is absent. Values are
/// normalised and hashed by the platform's rules and split at its per-call limit
/// (`batch_size`, by default the limit itself: Meta and Google 10,000 records,
/// TikTok 1,000, Snapchat 100,000 identifiers).
///
/// Returns `{"requests", "skipped", "warnings"}`: the bodies as dicts (or JSON
/// strings with `as_json=True`), the indices of members left without any usable
/// identifier (not sent), and each dropped field as `{"index", "field", "code",
/// "message"}`.
///
/// `operation` is `"add"` or `"remove"`. Meta (`/{audience_id}/users`) and
/// Snapchat (`/segments/{id}/users`) take the same body with `POST` to add and
/// `DELETE` to remove; Google the same body at `audienceMembers:ingest` or
/// `:remove`, and needs `destinations`; TikTok names the action in the body, and
/// needs `advertiser_ids` and `audience_ids`, with `ad_id` (`"idfa"` or `"aaid"`)
/// naming the kind of the members' mobile ad ids.
///
/// ```python
/// >>> import hashlib, stratum
/// >>> n = stratum.Normalizer({"phone_region": {"default": "US"}})
/// >>> out = stratum.build_audience(n, "meta", [{"email": "Ann@Example.com"}, {"email": "nope"}])
/// >>> out["requests"][0]["payload"]["data"] == [[hashlib.sha256(b"ann@example.com").hexdigest()]]
/// True
/// >>> out["skipped"], [w["code"] for w in out["warnings"]]
/// ([1], ['invalid_email'])
///
/// ```
#[pyfunction]
#[pyo3(signature = (
    normalizer, platform, members, *, operation = Text("add".to_owned()), destinations = None,
    advertiser_ids = None, audience_ids = None, ad_id = Text("idfa".to_owned()), batch_size = None,
    as_json = false
), text_signature = "(normalizer, platform, members, *, operation='add', destinations=None, \
    advertiser_ids=None, audience_ids=None, ad_id='idfa', batch_size=None, as_json=False)")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_audience<'py>(
    py: Python<'py>,
    normalizer: &Bound<'py, Normalizer>,
    platform: Text,
    members: &Bound<'py, PyAny>,
    operation: Text,
    destinations: Option<&Bound<'py, PyAny>>,
    advertiser_ids: Option<Vec<Text>>,
    audience_ids: Option<Vec<Text>>,
    ad_id: Text,
    batch_size: Option<Int>,
    as_json: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let p = self::platform(&platform)?;
        let remove = removes(&operation)?;
        // Out-of-range sizes are clamped so that the builders' own check refuses them.
        let batch_size = batch_size.map(Int::clamped_usize);
        let members = members
            .try_iter()?
            .enumerate()
            .map(|(i, m)| member(&m?, i))
            .collect::<PyResult<Vec<_>>>()?;
        let n = &normalizer.get().0;
        match p {
            Platform::Meta => {
                let size = batch_size.unwrap_or(core::meta::MAX_RECORDS);
                let b = py.detach(|| core::meta::build(n, &members, size));
                built(py, &b.map_err(connectors_err)?, as_json)
            }
            Platform::Google => {
                let dest: Vec<Destination> = match destinations {
                    Some(d) => serde_from(d, "destinations")?,
                    None => Vec::new(),
                };
                let size = batch_size.unwrap_or(core::google::MAX_MEMBERS);
                let b = py.detach(|| core::google::build(n, &dest, &members, size));
                built(py, &b.map_err(connectors_err)?, as_json)
            }
            Platform::TikTok => {
                let target = core::tiktok::Target {
                    advertiser_ids: advertiser_ids
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| t.0)
                        .collect(),
                    audience_ids: audience_ids
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| t.0)
                        .collect(),
                    ad_id: ad_id_kind(&ad_id)?,
                };
                let action = if remove {
                    core::tiktok::Action::Delete
                } else {
                    core::tiktok::Action::Add
                };
                let size = batch_size.unwrap_or(core::tiktok::MAX_RECORDS);
                let b = py.detach(|| core::tiktok::build(n, &target, action, &members, size));
                built(py, &b.map_err(connectors_err)?, as_json)
            }
            Platform::Snapchat => {
                let size = batch_size.unwrap_or(core::snapchat::MAX_IDENTIFIERS);
                let b = py.detach(|| core::snapchat::build(n, &members, size));
                built(py, &b.map_err(connectors_err)?, as_json)
            }
            #[allow(unreachable_patterns)]
            other => Err(stratum_err(
                "invalid_config",
                format!("no audience builder for {other}"),
                Some("platform"),
            )),
        }
    })
}
