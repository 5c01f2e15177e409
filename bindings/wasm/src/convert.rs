//! JavaScript values ↔ the surface's requests and responses, through their JSON
//! form: `JSON.stringify` of the argument read with the crates' one `from_json`
//! (JSON path on shape errors, typed validation errors), and the response written
//! by serde and read back with `JSON.parse`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use stratum_bindings::ErrorReport;
use wasm_bindgen::JsValue;

use crate::error::js_error;

/// Reads a request from a JavaScript value (a plain object; a `Date` reads as its
/// ISO text).
pub(crate) fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, JsValue> {
    let text = js_sys::JSON::stringify(value).map_err(|e| {
        let why = js_sys::Error::from(e).message();
        js_error(&ErrorReport::new(
            "invalid_json",
            None,
            format!("the argument cannot be read as JSON: {}", String::from(why)),
        ))
    })?;
    let Some(text) = text.as_string() else {
        return Err(js_error(&ErrorReport::new(
            "invalid_json",
            None,
            "the argument is not a JSON value (undefined, a function or a symbol); pass a plain object",
        )));
    };
    stratum_bindings::from_json(&text).map_err(|e| js_error(&e))
}

/// Writes a response as a plain JavaScript value.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| js_error(&ErrorReport::internal(e.to_string())))?;
    js_sys::JSON::parse(&text).map_err(|_| {
        js_error(&ErrorReport::internal(
            "a response could not be read back as JSON",
        ))
    })
}

/// A surface result as a JavaScript value or a thrown error.
pub(crate) fn respond<T: Serialize>(result: Result<T, ErrorReport>) -> Result<JsValue, JsValue> {
    match result {
        Ok(v) => to_js(&v),
        Err(e) => Err(js_error(&e)),
    }
}
