//! Python bindings of Stratum: the native module `stratum._native` of the `stratum`
//! package.
//!
//! One file per crate module; each converts the Python arguments, calls the crate
//! and converts the result back. Configuration and single documents cross the
//! boundary as dicts (through serde's JSON form); batches cross once, as lists or
//! Arrow columns (`arrow`), and run without the GIL. Crate errors become the
//! `stratum.errors` exception of their stable code (`errors`).

mod analytics;
mod arrow;
mod audience;
mod audit;
mod autopilot;
mod backtest;
mod convert;
mod emq;
mod errors;
mod gate;
mod guardrails;
mod health;
mod identity;
mod locks;
mod message;
mod normalize;
mod payload;
mod profile;
mod segment;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(errors::panic_for_test, m)?)?;
    m.add_class::<health::Signals>()?;
    m.add_class::<health::HealthConfig>()?;
    m.add_class::<health::HealthReport>()?;
    m.add_class::<gate::ProposedAction>()?;
    m.add_class::<gate::Decision>()?;
    m.add_class::<gate::TrustGate>()?;
    m.add_class::<guardrails::Guardrails>()?;
    m.add_class::<audit::AuditLog>()?;
    m.add_function(wrap_pyfunction!(audit::verify_chain, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::backtest, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::compare_configs, m)?)?;
    m.add_class::<arrow::ArrowArray>()?;
    m.add_class::<normalize::Normalizer>()?;
    m.add_function(wrap_pyfunction!(normalize::sha256_hex, m)?)?;
    m.add_function(wrap_pyfunction!(emq::emq_score, m)?)?;
    m.add_function(wrap_pyfunction!(emq::emq_report_rows, m)?)?;
    m.add_function(wrap_pyfunction!(emq::emq_report_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(payload::build_payloads, m)?)?;
    m.add_function(wrap_pyfunction!(audience::build_audience, m)?)?;
    m.add_class::<message::Message>()?;
    m.add_function(wrap_pyfunction!(message::parse_message, m)?)?;
    m.add_function(wrap_pyfunction!(message::parse_batch, m)?)?;
    m.add_class::<message::Deduplicator>()?;
    m.add_class::<identity::IdentityGraph>()?;
    m.add_function(wrap_pyfunction!(identity::resolve_links, m)?)?;
    m.add_function(wrap_pyfunction!(identity::resolve_links_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(identity::star_arrow, m)?)?;
    m.add_class::<profile::Cdp>()?;
    m.add_class::<segment::Segment>()?;
    m.add_class::<segment::Audiences>()?;
    m.add_class::<autopilot::Autopilot>()?;
    m.add_function(wrap_pyfunction!(analytics::attribute, m)?)?;
    m.add_function(wrap_pyfunction!(analytics::detect_anomalies, m)?)?;
    let fields: Vec<&str> = stratum_connectors::Field::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    m.add("FIELDS", fields)?;
    let platforms: Vec<&str> = stratum_connectors::Platform::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    m.add("PLATFORMS", platforms)?;
    m.add("ERROR_CODES", stratum_bindings::codes())?;
    Ok(())
}
