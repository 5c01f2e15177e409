//! The host-neutral surface under every Stratum binding (Python, Node, WASM) and the
//! reference server.
//!
//! Each entry point a binding exposes is one function here taking a serde request
//! type and returning a serde response type or an [`ErrorReport`]: a host converts
//! its own values to the request (or reads it from JSON), calls the function and
//! converts the response back. Nothing here reads a clock: every request that needs
//! the time carries `now`.
//!
//! | entry point | request | response |
//! |---|---|---|
//! | [`payload::build_payloads`] | [`payload::PayloadRequest`] | [`payload::Payloads`] |
//! | [`audience::build_audience`] | [`audience::AudienceRequest`] | [`audience::Audience`] |
//! | [`normalize::normalize`] | [`normalize::NormalizeRequest`] | [`normalize::NormalizeResponse`] |
//! | [`emq::emq_score`] | [`emq::EmqScoreRequest`] | [`EventScore`](stratum_core::emq::EventScore) |
//! | [`emq::emq_report`] | [`emq::EmqReportRequest`] | [`BatchReport`](stratum_core::emq::BatchReport) |
//! | [`gate::health_score`] | [`gate::HealthRequest`] | [`HealthReport`](stratum_core::health::HealthReport) |
//! | [`gate::gate_preview`], [`gate::gate_decide`] | [`gate::GateRequest`] | [`Decision`](stratum_core::gate::Decision) |
//! | [`message::parse_message`] | [`message::MessageRequest`] | [`Message`](stratum_cdp::message::Message) |
//! | [`preview::emq_preview`] | [`preview::EmqPreviewRequest`] | [`preview::EmqPreview`] |
//! | [`preview::hash_values`] | [`preview::HashRequest`] | [`preview::HashResponse`] |
//! | [`batch::parse_batch`] | a batch body as received | [`batch::ParsedBatch`] |
//! | [`segment::read_segment`] | [`segment::SegmentRequest`] | [`segment::SegmentForms`] |
//! | [`segment::person_audiences`] | [`segment::PersonRequest`] | [`segment::PersonAudiences`] |
//! | [`segment::evaluate_table`] | [`segment::TableRequest`] | audience key → one membership per row |
//!
//! [`from_json`] reads any request from JSON text with the crates' one path (JSON
//! path on shape errors, typed validation errors), as an [`ErrorReport`].
//!
//! Errors of every crate become one [`ErrorReport`] `{code, field, message}`;
//! [`codes`] lists every code a binding must map.
//!
//! The same request → response vectors (`testdata/surface/*.json`) run against this
//! crate (`tests/vectors.rs`) and against every binding.

pub mod audience;
pub mod audience_sync;
pub mod batch;
pub mod emq;
mod error;
pub mod gate;
pub mod message;
pub mod normalize;
pub mod payload;
pub mod preview;
pub mod segment;

pub use error::{ErrorReport, INTERNAL, codes, from_json};

/// The guide `docs/bindings.md`, compiled as a doctest so that its example runs.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../../docs/bindings.md")]
    struct Bindings;
}
