//! Bytes -> normaliser for external ids, IPs, user agents, click, browser and mobile ad ids, and hash pass-through, on every platform. No panic, idempotent,
//! never hashed twice (see `normalize/mod.rs`).
#![no_main]

mod normalize;

use libfuzzer_sys::fuzz_target;
use stratum_connectors::Field;

fuzz_target!(|data: &[u8]| {
    normalize::check(
        &[
            Field::ExternalId,
            Field::ClientIp,
            Field::UserAgent,
            Field::ClickId,
            Field::BrowserId,
            Field::MobileAdId,
        ],
        data,
    );
});
