//! The browser binding of Stratum (`stratum-wasm`), built with wasm-bindgen for
//! `wasm32-unknown-unknown`.
//!
//! A thin layer over the host-neutral surface (`stratum-bindings`): each function
//! turns a JavaScript value into the surface's request (through its JSON form, with
//! the crates' one `from_json`), calls the surface and turns the response back into a
//! plain JavaScript object. Errors are `Error` objects with `.code` and `.field`
//! (the codes of [`stratum_bindings::codes`]); a bug that would panic is turned into
//! an `internal` error by the panic hook installed when the module starts.
//!
//! | JavaScript | surface |
//! |---|---|
//! | `new Normalizer(config?)` | `Normalizer::new` with a `NormalizerConfig` |
//! | `normalizer.normalize(req)` | [`stratum_bindings::normalize::normalize`] |
//! | `normalizer.hashValues(req)` | [`stratum_bindings::preview::hash_values`] |
//! | `normalizer.emqScore(req)` | [`stratum_bindings::emq::emq_score`] |
//! | `normalizer.emqReport(req)` | [`stratum_bindings::emq::emq_report`] |
//! | `normalizer.emqPreview(req)` | [`stratum_bindings::preview::emq_preview`] |
//! | `normalizer.buildPayloads(req)` | [`stratum_bindings::payload::build_payloads`] |
//! | `normalizer.buildAudience(req)` | [`stratum_bindings::audience::build_audience`] |
//! | `healthScore(req)` | [`stratum_bindings::gate::health_score`] |
//! | `gatePreview(req)` | [`stratum_bindings::gate::gate_preview`] (a dry run, nothing recorded) |
//! | `parseMessage(req)` | [`stratum_bindings::message::parse_message`] |
//! | `Segment.parse(text)`, `Segment.fromJson(doc)`, `toText`, `toJson`, `validate` | `stratum_cdp::segment::Segment` |
//! | `readSegment(req)` | [`stratum_bindings::segment::read_segment`] |
//! | `evaluateTable(req)` | [`stratum_bindings::segment::evaluate_table`] |
//! | `personAudiences(req)` | [`stratum_bindings::segment::person_audiences`] (a preview: `now` in the request) |
//! | `errorCodes()` | [`stratum_bindings::codes`] |
//!
//! Nothing here reads a clock: every request that needs the time carries `now`.

mod convert;
mod error;
mod gate;
mod normalizer;
mod segment;
mod types;

use wasm_bindgen::prelude::wasm_bindgen;

pub use gate::{gate_preview, health_score, parse_message};
pub use normalizer::WasmNormalizer;
pub use segment::{WasmSegment, evaluate_table, person_audiences, read_segment};

/// Installs the panic hook (a panic becomes a thrown `internal` error); runs once
/// when the module is instantiated.
#[wasm_bindgen(start)]
fn start() {
    error::install_panic_hook();
}

/// Every error code an error of this package can carry (`error.code`).
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
#[must_use]
pub fn error_codes() -> Vec<String> {
    stratum_bindings::codes()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The version of the package (the workspace version).
#[wasm_bindgen]
#[must_use]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
