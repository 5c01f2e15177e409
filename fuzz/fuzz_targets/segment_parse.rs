//! Bytes -> segment text. Parsing never panics; an error carries one of the
//! crate's codes; a parsed segment prints to text that parses back to the same
//! tree and prints the same (text -> tree -> text -> tree is stable), and its JSON
//! form reads back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stratum_cdp::Error;
use stratum_cdp::segment::Segment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let s = match Segment::parse(text) {
        Ok(s) => s,
        Err(e) => {
            assert!(Error::CODES.contains(&e.code()), "{e:?}");
            let _ = e.to_string();
            return;
        }
    };
    let printed = s.to_text();
    let back = Segment::parse(&printed).expect("printed text parses");
    assert_eq!(back, s, "{printed}");
    assert_eq!(back.to_text(), printed);
    let json = s.to_json();
    let from_json = Segment::from_json(&json).expect("JSON form reads back");
    assert_eq!(from_json, s, "{json}");
});
