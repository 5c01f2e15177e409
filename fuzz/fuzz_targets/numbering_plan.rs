//! Differential: the compiled numbering-plan fast path of `stratum-connectors`
//! (`normalize/numbering.rs`) against the `phonenumber` crate it compiles.
//!
//! Input: one byte picks a default region, the rest is the number. Wherever the fast
//! path reads a number, the crate must read the same country calling code and
//! national number (an international number is given to the crate without its
//! punctuation, which carries no meaning there and which the crate misreads when
//! it follows the country code directly), and the fast path's validity, where it
//! decides one, must be the crate's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stratum_connectors::fuzzing;

const REGIONS: [&str; 16] = [
    "US", "GB", "DE", "FR", "IT", "AR", "MX", "BR", "IN", "AU", "JP", "RU", "NZ", "CA", "CN", "ZA",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let region = REGIONS[usize::from(pick) % REGIONS.len()];
    let Some((code, national)) = fuzzing::parse(text, region) else {
        return;
    };
    let oracle = if text.starts_with('+') {
        let digits: String = text
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        phonenumber::parse(None, digits)
    } else {
        let id: phonenumber::country::Id = match region.parse() {
            Ok(id) => id,
            Err(_) => return,
        };
        phonenumber::parse(Some(id), text)
    };
    // The national number is digits, of a length the parser allows.
    assert!(
        (2..17).contains(&national.len()) && national.bytes().all(|b| b.is_ascii_digit()),
        "{text:?} ({region}): +{code} {national}"
    );
    // The crate rejects some numbers libphonenumber reads, after stripping too
    // much of a national prefix (`+82 087 000`).
    let Ok(n) = oracle else {
        return;
    };
    // Where a national or calling-code prefix is stripped, the crate departs from
    // libphonenumber (it strips a national prefix twice, judges lengths without
    // the metadata's general lengths, and reads the prefix with the number's
    // region rather than the calling code's main region); the fast path follows
    // libphonenumber, checked against libphonenumber's own readings in the crate's
    // tests. The two national numbers may then differ; the calling code may not.
    let theirs = n.national().to_string();
    assert_eq!(code, n.code().value(), "{text:?} ({region})");
    if national != theirs {
        return;
    }
    if let Some(valid) = fuzzing::is_valid(code, &national) {
        assert_eq!(
            valid,
            phonenumber::is_valid(&n),
            "validity of {text:?} ({region})"
        );
    }
});
