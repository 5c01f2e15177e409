//! Differential: the phone rule's reading of a number (`normalize/phone.rs` and
//! `normalize/numbering.rs`, over the metadata tables written from the `phonenumber`
//! crate) against that crate's own parser.
//!
//! Input: one byte picks a default region, the rest is the number. Wherever both
//! read a number, they read the same country calling code (an international
//! number is given to the crate without its punctuation, which carries no meaning
//! there and which the crate misreads when it follows the country code directly;
//! a number written with a leading `00` is international here, PLATFORMS.md §1,
//! and is given to the crate as `+…`), and where they read the same national
//! number, a number valid here is valid to the crate (which matches a prefix of
//! the number where libphonenumber matches all of it, so not the other way round).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stratum_connectors::fuzzing;

const REGIONS: [&str; 16] = [
    "US", "GB", "DE", "FR", "IT", "AR", "MX", "BR", "IN", "AU", "JP", "RU", "NZ", "CA", "CN", "ZA",
];

/// The oracle's parser compiles the metadata's regular expressions into a cache of
/// 100, which the random regions of the inputs keep evicting: recompiling took two
/// thirds of the target's time. One large enough for every pattern of the metadata
/// compiles each once per process.
fn init() {
    if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
        *cache = regex_cache::RegexCache::new(1 << 16);
    }
}

fuzz_target!(init: init(), |data: &[u8]| {
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
    // The oracle below keeps ASCII digits only; digits of other scripts (which the
    // phone rule reads as the ASCII digits they stand for, checked by its tests)
    // would be lost from the crate's copy.
    if text.chars().any(|c| c.is_numeric() && !c.is_ascii_digit()) {
        return;
    }
    // An extension (`x`, `ext`, `#`, `;`) is cut wherever it starts and other
    // letters drop the number (D3); the crate reads both its own way.
    if text
        .chars()
        .any(|c| c.is_alphabetic() || c == '#' || c == ';')
    {
        return;
    }
    let body = text.trim_start_matches(|c: char| !(c == '+' || c.is_ascii_digit()));
    let international = body.starts_with('+') || body.starts_with("00");
    let oracle = if international {
        let rest = body
            .strip_prefix("00")
            .unwrap_or_else(|| body.trim_start_matches('+'));
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        phonenumber::parse(None, format!("+{digits}"))
    } else {
        let id: phonenumber::country::Id = match region.parse() {
            Ok(id) => id,
            Err(_) => return,
        };
        phonenumber::parse(Some(id), text)
    };
    // The national number is digits, of a length the parser allows.
    assert!(
        (2..=17).contains(&national.len()) && national.bytes().all(|b| b.is_ascii_digit()),
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
    // The crate matches a number type's pattern against a prefix of the number,
    // libphonenumber (and the phone rule) against the whole number: a number
    // valid here is valid to the crate, not always the other way round (`1361500080`
    // from AU). Validity itself is compared with libphonenumber's in the crate's
    // tests.
    if fuzzing::is_valid(code, &national) {
        assert!(phonenumber::is_valid(&n), "validity of {text:?} ({region})");
    }
});
