//! Bytes -> normaliser for email addresses (Meta/TikTok/Snap rule and Google's gmail rule), on every platform. No panic, idempotent,
//! never hashed twice (see `normalize/mod.rs`).
#![no_main]

mod normalize;

use libfuzzer_sys::fuzz_target;
use stratum_connectors::Field;

fuzz_target!(|data: &[u8]| {
    normalize::check(&[Field::Email], data);
});
