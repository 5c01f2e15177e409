//! Node.js bindings of Stratum: the native addon of the `@stratum-sdk/node` package.
//!
//! One file per crate module; each converts the JS arguments, calls the crate (or
//! the host-neutral surface `stratum-bindings`) and converts the result back.
//! Configs and documents cross as plain objects in their JSON form; batches cross
//! once and run off the event loop (Promises). Every error is the surface's error
//! report, which `index.js` throws as the `StratumError` subclass of its code.

// napi registers the exports with the host only outside `cfg(test)`: under test
// (e.g. `cargo clippy --all-targets`) every export looks unused.
#![cfg_attr(test, allow(dead_code))]

mod analytics;
mod audit;
mod cdp;
mod conv;
mod gate;
mod health;
mod normalize;
mod segment;

use napi_derive::napi;

/// The package version.
#[napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every error code a call can reject with (`err.code`).
#[napi(ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    stratum_bindings::codes()
}

/// Every neutral customer-information field.
#[napi(ts_return_type = "Field[]")]
pub fn fields() -> Vec<&'static str> {
    stratum_connectors::Field::ALL
        .iter()
        .map(|f| f.as_str())
        .collect()
}

/// Every platform.
#[napi(ts_return_type = "Platform[]")]
pub fn platforms() -> Vec<&'static str> {
    stratum_connectors::Platform::ALL
        .iter()
        .map(|p| p.as_str())
        .collect()
}

/// Panics inside the native code; lets tests check that a panic becomes an
/// `InternalError` and never takes the process down.
///
/// # Errors
/// Always: the `internal` report of the caught panic.
#[napi(js_name = "_panicForTest")]
pub fn panic_for_test() -> napi::Result<()> {
    conv::guard(|| {
        #[allow(clippy::panic)]
        {
            panic!("deliberate panic")
        }
    })
}
