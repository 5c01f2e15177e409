//! `stratum_bindings::audience`: audience-upload request bodies for Meta custom
//! audiences, Google Customer Match (Data Manager), TikTok segment mappings and
//! Snapchat customer lists.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use stratum_bindings::audience::{self as surface, AudienceOptions, AudienceRequest, Operation};
use stratum_connectors::payload::audience::Member;

use crate::convert::serde_from;
use crate::errors::{connectors_err, guard, input_err, report_err};
use crate::locks::{Arg, Int, Text};
use crate::normalize::{Normalizer, field, platform, value};
use crate::payload::response;

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
        let name: Text = k.extract()?;
        m = m.with(field(&name)?, value(&v, false)?);
    }
    Ok(m)
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
/// needs `advertiser_ids` and `audience_ids`, with `ad_id` (`"idfa"`, the default,
/// or `"aaid"`) naming the kind of the members' mobile ad ids. An option of another
/// platform raises `InvalidConfigError`.
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
    advertiser_ids = None, audience_ids = None, ad_id = None, batch_size = None,
    as_json = Arg(false)
), text_signature = "(normalizer, platform, members, *, operation='add', destinations=None, \
    advertiser_ids=None, audience_ids=None, ad_id=None, batch_size=None, as_json=False)")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_audience<'py>(
    py: Python<'py>,
    normalizer: Arg<Bound<'py, Normalizer>>,
    platform: Text,
    members: &Bound<'py, PyAny>,
    operation: Text,
    destinations: Option<&Bound<'py, PyAny>>,
    advertiser_ids: Option<Arg<Vec<Text>>>,
    audience_ids: Option<Arg<Vec<Text>>>,
    ad_id: Option<Text>,
    batch_size: Option<Int>,
    as_json: Arg<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let platform = self::platform(&platform)?;
        let operation: Operation = operation.0.parse().map_err(report_err)?;
        let batch_size = batch_size.map(|b| b.size("batch_size")).transpose()?;
        let members = members
            .try_iter()
            .map_err(|_| {
                crate::locks::wrong_type("a list of member dicts", &members.as_borrowed())
            })?
            .enumerate()
            .map(|(i, m)| member(&m?, i))
            .collect::<PyResult<Vec<_>>>()?;
        let request = AudienceRequest {
            platform,
            members,
            operation,
            options: AudienceOptions {
                batch_size,
                destinations: destinations
                    .map(|d| serde_from(d, "destinations"))
                    .transpose()?
                    .unwrap_or_default(),
                advertiser_ids: advertiser_ids
                    .map(|a| a.0)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.0)
                    .collect(),
                audience_ids: audience_ids
                    .map(|a| a.0)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.0)
                    .collect(),
                ad_id: ad_id
                    .map(|t| t.0.parse())
                    .transpose()
                    .map_err(connectors_err)?,
            },
        };
        let n = &normalizer.get().0;
        let out = py
            .detach(|| surface::build_audience(n, &request))
            .map_err(report_err)?;
        response(py, &out, as_json.then(|| out.request_texts()))
    })
}
