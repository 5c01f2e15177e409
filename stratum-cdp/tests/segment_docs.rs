//! Executes every example of `docs/segments.md`: `segment` blocks parse, print
//! and parse back to the same tree; a `json` block right after one is its exact
//! JSON form (a golden test of every construct); `segment-error` blocks fail with
//! the code on their first line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stratum_cdp::segment::Segment;

const DOC: &str = include_str!("../../docs/segments.md");

/// `(info string, body)` of every fenced block, in order.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in DOC.lines() {
        match (&mut cur, line.strip_prefix("```")) {
            (None, Some(info)) => cur = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => out.extend(cur.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn every_example_in_the_guide_runs() {
    let blocks = blocks();
    let (mut segments, mut goldens, mut errors) = (0, 0, 0);
    for (i, (info, body)) in blocks.iter().enumerate() {
        match info.as_str() {
            "segment" => {
                segments += 1;
                let s = Segment::parse(body).unwrap_or_else(|e| panic!("{body}: {e}"));
                assert_eq!(Segment::parse(&s.to_text()).unwrap(), s, "{body}");
                assert_eq!(Segment::from_json(&s.to_json()).unwrap(), s, "{body}");
                if let Some((next, json)) = blocks.get(i + 1)
                    && next == "json"
                {
                    goldens += 1;
                    let want = Segment::from_json(json).unwrap_or_else(|e| panic!("{json}: {e}"));
                    assert_eq!(s, want, "{body}");
                    let a: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
                    let b: serde_json::Value = serde_json::from_str(json).unwrap();
                    assert_eq!(a, b, "{body}");
                }
            }
            "segment-error" => {
                errors += 1;
                let (code, text) = body.split_once('\n').unwrap();
                let e = Segment::parse(text).expect_err(text);
                assert_eq!(e.code(), code.trim(), "{text}: {e}");
            }
            _ => {}
        }
    }
    assert!(
        segments >= 15 && goldens >= 15 && errors >= 5,
        "{segments} {goldens} {errors}"
    );
}
