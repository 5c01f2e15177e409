//! Segments (text and JSON forms, validation against a schema), audiences over a
//! table of profiles, and the preview of one person's audiences: no CDP is kept, no
//! clock is read (`now` is an argument).

use stratum_bindings::ErrorReport;
use stratum_bindings::segment::{PersonRequest, SegmentRequest, TableRequest};
use stratum_cdp::segment::Schema;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::convert::{from_js, json_text, respond, text_arg, to_js};
use crate::error::js_error;

fn thrown(e: stratum_cdp::Error) -> JsValue {
    js_error(&ErrorReport::from(e))
}

/// A checked segment condition: from the text form (`Segment.parse`) or the JSON
/// form (`Segment.fromJson`). `JSON.stringify` writes its JSON form.
#[wasm_bindgen(js_name = Segment)]
pub struct WasmSegment {
    inner: stratum_cdp::segment::Segment,
}

#[wasm_bindgen(js_class = Segment)]
impl WasmSegment {
    /// Parses the text form.
    ///
    /// # Errors
    /// `segment_syntax` (with `line` and `column`), `segment_limit`,
    /// `type_mismatch`; `invalid_json` for an argument that is not a string or
    /// holds a lone UTF-16 surrogate.
    pub fn parse(
        #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue,
    ) -> Result<WasmSegment, JsValue> {
        let text = text_arg(text, "the segment's text form")?;
        let inner = stratum_cdp::segment::Segment::parse(&text).map_err(thrown)?;
        Ok(Self { inner })
    }

    /// Reads the JSON form (a plain object).
    ///
    /// # Errors
    /// `invalid_json` for a document of the wrong shape; `segment_limit`,
    /// `type_mismatch`.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(
        #[wasm_bindgen(unchecked_param_type = "SegmentJson")] doc: &JsValue,
    ) -> Result<WasmSegment, JsValue> {
        let text = json_text(doc)?;
        let inner = stratum_cdp::segment::Segment::from_json(&text).map_err(thrown)?;
        Ok(Self { inner })
    }

    /// The canonical text form (parses back to the same segment).
    #[wasm_bindgen(js_name = toText)]
    #[must_use]
    pub fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// The JSON form as a plain object.
    ///
    /// # Errors
    /// `internal` only (a tree that cannot be written).
    #[wasm_bindgen(js_name = toJson, unchecked_return_type = "SegmentJson")]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.expr())
    }

    /// The JSON form (`JSON.stringify` calls it).
    ///
    /// # Errors
    /// As [`WasmSegment::to_json`].
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "SegmentJson")]
    pub fn to_json_js(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.expr())
    }

    /// Checks names and types against `schema`.
    ///
    /// # Errors
    /// `unknown_name` (the message suggests the closest declared name),
    /// `type_mismatch`; `invalid_json` for a schema of the wrong shape.
    pub fn validate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SegmentSchema")] schema: &JsValue,
    ) -> Result<(), JsValue> {
        let schema: Schema = from_js(schema)?;
        self.inner.validate(&schema).map_err(thrown)
    }
}

/// Reads a segment from either form (`request.segment`: the text form as a
/// string, or the JSON form), validates it against `request.schema` when given,
/// and returns its canonical text and JSON form.
///
/// # Errors
/// `segment_syntax`, `segment_limit`, `type_mismatch`, `unknown_name`,
/// `invalid_json`.
#[wasm_bindgen(js_name = readSegment, unchecked_return_type = "SegmentForms")]
pub fn read_segment(
    #[wasm_bindgen(unchecked_param_type = "SegmentRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: SegmentRequest = from_js(request)?;
    respond(stratum_bindings::segment::read_segment(&request))
}

/// The audiences of one person, previewed: `request.messages` (any order)
/// resolved in a CDP in memory and evaluated at `request.now`; membership per
/// audience per resolved profile. Nothing is kept.
///
/// # Errors
/// A segment's errors, `segment_cycle`, `unknown_name`; a message's parse errors.
#[wasm_bindgen(js_name = personAudiences, unchecked_return_type = "PersonAudiences")]
pub fn person_audiences(
    #[wasm_bindgen(unchecked_param_type = "PersonAudiencesRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: PersonRequest = from_js(request)?;
    respond(stratum_bindings::segment::person_audiences(&request))
}

/// Compiles `request.audiences` and evaluates them over `request.table` (profiles
/// as columns, one value per row): audience key → one membership per row.
///
/// # Errors
/// A segment's errors, `segment_cycle`; `unknown_name` for a missing column or
/// an event condition (a table has no event history).
#[wasm_bindgen(js_name = evaluateTable, unchecked_return_type = "Record<string, boolean[]>")]
pub fn evaluate_table(
    #[wasm_bindgen(unchecked_param_type = "TableRequest")] request: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: TableRequest = from_js(request)?;
    respond(stratum_bindings::segment::evaluate_table(&request))
}
