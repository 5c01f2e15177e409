//! The `Normalizer` class: the per-platform normalisation rules, built once from a
//! `NormalizerConfig`, and every entry point that needs them.

use stratum_bindings::audience::{AudienceRequest, build_audience};
use stratum_bindings::emq::{EmqReportRequest, EmqScoreRequest, emq_report, emq_score};
use stratum_bindings::normalize::{NormalizeRequest, normalize};
use stratum_bindings::payload::{PayloadRequest, build_payloads};
use stratum_bindings::preview::{EmqPreviewRequest, HashRequest, emq_preview, hash_values};
use stratum_bindings::{ErrorReport, from_json};
use stratum_connectors::{Normalizer, NormalizerConfig};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::convert::{from_js, respond, to_js};
use crate::error::js_error;

/// Normalisation and hashing rules of every platform, with the entry points that use
/// them. Build it once (it compiles the rules) and keep it.
#[wasm_bindgen(js_name = Normalizer)]
pub struct WasmNormalizer {
    inner: Normalizer,
}

#[wasm_bindgen(js_class = Normalizer)]
impl WasmNormalizer {
    /// The rules with `config` (`{"phone_region": {"default": "US"}, "today":
    /// "2026-03-01", ...}`); the defaults when `config` is `undefined` or `null`.
    ///
    /// # Errors
    /// `invalid_json` for a config of the wrong shape, `invalid_config` naming the
    /// offending field.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "NormalizerConfig | null | undefined")]
        config: &JsValue,
    ) -> Result<WasmNormalizer, JsValue> {
        let config: NormalizerConfig = if config.is_undefined() || config.is_null() {
            from_json("{}").map_err(|e| js_error(&e))?
        } else {
            from_js(config)?
        };
        let inner = Normalizer::new(config).map_err(|e| js_error(&ErrorReport::from(e)))?;
        Ok(Self { inner })
    }

    /// Normalises (and hashes) each value; an invalid value is dropped with a
    /// warning, never an error.
    ///
    /// # Errors
    /// `invalid_json` for a request of the wrong shape.
    #[wasm_bindgen(unchecked_return_type = "NormalizeResponse")]
    pub fn normalize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NormalizeRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: NormalizeRequest = from_js(request)?;
        to_js(&normalize(&self.inner, &request))
    }

    /// The value to send for each value of one field (`null` when dropped).
    ///
    /// # Errors
    /// `invalid_json` for a request of the wrong shape.
    #[wasm_bindgen(js_name = hashValues, unchecked_return_type = "HashResponse")]
    pub fn hash_values(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HashRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: HashRequest = from_js(request)?;
        to_js(&hash_values(&self.inner, &request))
    }

    /// One event's EMQ score (`stratum-emq-1`) with each key's contribution.
    ///
    /// # Errors
    /// `invalid_json` for a request of the wrong shape.
    #[wasm_bindgen(js_name = emqScore, unchecked_return_type = "EventScore")]
    pub fn emq_score(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EmqScoreRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: EmqScoreRequest = from_js(request)?;
        to_js(&emq_score(&self.inner, &request))
    }

    /// A batch EMQ report: coverage per key, distribution, ranked fixes.
    ///
    /// # Errors
    /// `invalid_json` / `invalid_config` for a bad request.
    #[wasm_bindgen(js_name = emqReport, unchecked_return_type = "BatchReport")]
    pub fn emq_report(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EmqReportRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: EmqReportRequest = from_js(request)?;
        respond(emq_report(&self.inner, &request))
    }

    /// One event's keys (normalised and hashed), score and ranked fixes: what a
    /// page shows while the event is being edited.
    ///
    /// # Errors
    /// `invalid_json` / `invalid_config` for a bad request.
    #[wasm_bindgen(js_name = emqPreview, unchecked_return_type = "EmqPreview")]
    pub fn emq_preview(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EmqPreviewRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: EmqPreviewRequest = from_js(request)?;
        respond(emq_preview(&self.inner, &request))
    }

    /// The platform's conversion-API request bodies for the events as of `now`.
    ///
    /// # Errors
    /// `invalid_json` / `invalid_config` for a bad request.
    #[wasm_bindgen(js_name = buildPayloads, unchecked_return_type = "Payloads")]
    pub fn build_payloads(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PayloadRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: PayloadRequest = from_js(request)?;
        respond(build_payloads(&self.inner, &request))
    }

    /// The platform's audience-upload request bodies for the members.
    ///
    /// # Errors
    /// `invalid_json` / `invalid_config` for a bad request.
    #[wasm_bindgen(js_name = buildAudience, unchecked_return_type = "Audience")]
    pub fn build_audience(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AudienceRequest")] request: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: AudienceRequest = from_js(request)?;
        respond(build_audience(&self.inner, &request))
    }
}
