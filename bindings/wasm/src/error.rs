//! `ErrorReport` → a JavaScript `Error` with `.code` and `.field`; the panic hook.

use stratum_bindings::ErrorReport;
use wasm_bindgen::JsValue;

/// The `Error` a report is thrown as: `name` `StratumError`, `message` the report's
/// message, `code` and `field` (a string or `null`); a `segment_syntax` error also
/// has `line` and `column` (numbers).
pub(crate) fn js_error(report: &ErrorReport) -> JsValue {
    let error = js_sys::Error::new(&report.message);
    error.set_name("StratumError");
    let field = match &report.field {
        Some(f) => JsValue::from_str(f),
        None => JsValue::NULL,
    };
    // Setting a property of a fresh ordinary object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &report.code.as_str().into());
    let _ = js_sys::Reflect::set(&error, &"field".into(), &field);
    if let Some((line, column)) = report.position() {
        let _ = js_sys::Reflect::set(&error, &"line".into(), &line.into());
        let _ = js_sys::Reflect::set(&error, &"column".into(), &column.into());
    }
    error.into()
}

/// A panic is a bug: instead of aborting the module with a bare `RuntimeError`, it
/// is thrown as an `internal` error carrying the panic message. The module's memory
/// may hold a half-finished call afterwards, so a page should load the module again
/// after an `internal` error.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let report = ErrorReport::internal(format!(
            "internal error in stratum-wasm (a bug; please report it): {info}"
        ));
        wasm_bindgen::throw_val(js_error(&report));
    }));
}
