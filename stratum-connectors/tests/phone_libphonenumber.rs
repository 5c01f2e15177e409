//! Phone numbers as people write them (every region's example fixed-line and mobile
//! numbers in E.164, international, national and full-width forms, and with the
//! trunk prefix written after the country code) against the number libphonenumber
//! reads from each: `testdata/phone_libphonenumber.json`, generated with the
//! `phonenumbers` Python package by `testdata/phone_libphonenumber.py`, so the
//! expected numbers do not come from this crate or from the metadata crate it uses.

#![allow(clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use stratum_connectors::{Field, FieldValue, Normalizer, NormalizerConfig, PhoneRegion, Platform};

#[test]
fn every_written_form_reads_as_the_number_libphonenumber_reads() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/phone_libphonenumber.json"
    );
    let text = std::fs::read_to_string(path).expect("the vectors are in testdata");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the vectors are JSON");
    let vectors = doc["vectors"].as_array().expect("a list of vectors");
    assert!(vectors.len() > 3000, "{} vectors", vectors.len());
    let mut normalizers: HashMap<Option<String>, Normalizer> = HashMap::new();
    let mut wrong = Vec::new();
    for v in vectors {
        let region = v["region"].as_str().map(str::to_owned);
        let written = v["text"].as_str().expect("text");
        let e164 = v["e164"].as_str().expect("e164");
        let n = normalizers.entry(region.clone()).or_insert_with(|| {
            let mut config = NormalizerConfig::builder();
            if let Some(r) = &region {
                config = config.phone_region(PhoneRegion::Default(r.clone()));
            }
            Normalizer::new(config.build().expect("a valid config")).expect("the rules compile")
        });
        let got = n.normalize(Platform::Google, Field::Phone, &FieldValue::raw(written));
        let got = match got {
            Ok(v) => v.normalized.unwrap_or_default(),
            Err(w) => format!("dropped: {:?}", w.code),
        };
        if got != e164 {
            wrong.push(format!(
                "{region:?} {written:?}: {got} (libphonenumber: {e164})"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        vectors.len(),
        wrong[..wrong.len().min(40)].join("\n")
    );
}
