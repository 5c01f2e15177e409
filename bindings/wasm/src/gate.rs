//! Health scoring, the gate preview and Segment message parsing: no state, no
//! audit sink (a page previews; the server decides).

use stratum_bindings::gate::{GateRequest, HealthRequest};
use stratum_bindings::message::MessageRequest;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::convert::{from_js, respond};

/// The health report of one scope's signals as of `request.now`.
///
/// # Errors
/// `invalid_json`, `invalid_config` or `invalid_observation` naming the field.
#[wasm_bindgen(js_name = healthScore, unchecked_return_type = "HealthReport")]
pub fn health_score(
    #[wasm_bindgen(unchecked_param_type = "HealthRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: HealthRequest = from_js(request)?;
    respond(stratum_bindings::gate::health_score(&request))
}

/// What a fresh trust gate with `request.config` would decide (a dry run: nothing is
/// recorded, no audit record is written).
///
/// # Errors
/// `invalid_json`, `invalid_config`, `invalid_observation` or `invalid_action`.
#[wasm_bindgen(js_name = gatePreview, unchecked_return_type = "Decision")]
pub fn gate_preview(
    #[wasm_bindgen(unchecked_param_type = "GateRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: GateRequest = from_js(request)?;
    respond(stratum_bindings::gate::gate_preview(&request))
}

/// A Segment-spec message parsed and validated, its time corrected for clock skew
/// against `request.received_at`.
///
/// # Errors
/// `invalid_json`, `invalid_message`, `invalid_timestamp`, `too_large`, ...
#[wasm_bindgen(js_name = parseMessage, unchecked_return_type = "Message")]
pub fn parse_message(
    #[wasm_bindgen(unchecked_param_type = "MessageRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: MessageRequest = from_js(request)?;
    respond(stratum_bindings::message::parse_message(&request))
}
