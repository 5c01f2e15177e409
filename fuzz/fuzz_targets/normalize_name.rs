//! Bytes -> normaliser for first and last names (Meta's punctuation-free rule and Google's prefix/suffix rule), on every platform. No panic, idempotent,
//! never hashed twice (see `normalize/mod.rs`).
#![no_main]

mod normalize;

use libfuzzer_sys::fuzz_target;
use stratum_connectors::Field;

fuzz_target!(|data: &[u8]| {
    normalize::check(&[Field::FirstName, Field::LastName], data);
});
