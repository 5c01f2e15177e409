//! Bytes -> normaliser for city, state, zip and country (lookup tables and US/Canadian checks), on every platform. No panic, idempotent,
//! never hashed twice (see `normalize/mod.rs`).
#![no_main]

mod normalize;

use libfuzzer_sys::fuzz_target;
use stratum_connectors::Field;

fuzz_target!(|data: &[u8]| {
    normalize::check(
        &[Field::City, Field::State, Field::Zip, Field::Country],
        data,
    );
});
