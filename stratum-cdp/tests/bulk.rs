//! Bulk resolution: chunked and one-by-one linking agree with a naive
//! connected-components oracle; blocked values never link.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use stratum_cdp::bulk::{BulkResolver, Components};
use stratum_cdp::identity::IdentityConfig;

/// Labels by repeated relaxation: every identifier takes the smallest label of its
/// links until nothing changes (quadratic, obviously correct).
fn oracle(links: &[(String, String)]) -> Vec<Vec<String>> {
    let mut label: BTreeMap<&str, usize> = BTreeMap::new();
    for (a, b) in links {
        let n = label.len();
        label.entry(a).or_insert(n);
        let n = label.len();
        label.entry(b).or_insert(n);
    }
    loop {
        let mut changed = false;
        for (a, b) in links {
            let (la, lb) = (label[a.as_str()], label[b.as_str()]);
            let m = la.min(lb);
            if la != m || lb != m {
                label.insert(a, m);
                label.insert(b, m);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    groups(label.into_iter().map(|(k, v)| (k.to_owned(), v as u32)))
}

fn groups(it: impl Iterator<Item = (String, u32)>) -> Vec<Vec<String>> {
    let mut g: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (k, v) in it {
        g.entry(v).or_default().push(k);
    }
    let mut out: Vec<Vec<String>> = g
        .into_values()
        .map(|mut v| {
            v.sort();
            v
        })
        .collect();
    out.sort();
    out
}

fn partition(c: &Components) -> Vec<Vec<String>> {
    groups(c.iter().filter_map(|(s, l)| l.map(|l| (s.to_owned(), l))))
}

fn links() -> impl Strategy<Value = Vec<(String, String)>> {
    let id = (0u16..60).prop_map(|i| format!("id-{i}"));
    prop::collection::vec((id.clone(), id), 0..300)
}

proptest! {
    #[test]
    fn matches_oracle(links in links()) {
        let mut one = BulkResolver::new();
        for (a, b) in &links {
            one.add_link(a, b).unwrap();
        }
        let mut chunked = BulkResolver::new();
        chunked.add_links(links.iter().map(|(a, b)| (a.as_str(), b.as_str()))).unwrap();
        let (one, chunked) = (one.finish(), chunked.finish());
        let expected = oracle(&links);
        prop_assert_eq!(&partition(&one), &expected);
        prop_assert_eq!(&partition(&chunked), &expected);
        prop_assert_eq!(one.component_count(), expected.len());
        // Labels are dense and numbered by first appearance.
        let firsts: Vec<u32> = one.iter().filter_map(|(_, l)| l).fold(Vec::new(), |mut v, l| {
            if !v.contains(&l) { v.push(l); }
            v
        });
        prop_assert_eq!(firsts, (0..expected.len() as u32).collect::<Vec<_>>());
    }
}

/// One call on a resolver: a link, or a single identifier.
#[derive(Debug, Clone)]
enum Op {
    Link(String, String),
    Single(String),
}

/// Values the default blocklist blocks, in the pool below.
const BLOCKED: [&str; 3] = ["undefined", "null", "0"];

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let id = prop_oneof![
        8 => (0u16..80).prop_map(|i| format!("id-{i}")),
        1 => prop::sample::select(BLOCKED.to_vec()).prop_map(str::to_owned),
    ];
    let op = prop_oneof![
        6 => (id.clone(), id.clone()).prop_map(|(a, b)| Op::Link(a, b)),
        1 => id.prop_map(Op::Single),
    ];
    prop::collection::vec(op, 0..400)
}

proptest! {
    /// Singles, blocked values and every partition count (from the capacity
    /// hint) give the oracle's partition; identifiers come out once each in order
    /// of first appearance, and `label` agrees with `iter`.
    #[test]
    fn singles_blocklist_and_partition_counts(ops in ops(), hint in prop::sample::select(vec![0usize, 1, 5_000, 100_000_000])) {
        let mut r = BulkResolver::with_capacity(hint, 0).with_blocklist(IdentityConfig::default());
        let mut order: Vec<String> = Vec::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let (mut total, mut skipped) = (0u64, 0u64);
        for op in &ops {
            let ends: Vec<&String> = match op {
                Op::Link(a, b) => {
                    r.add_link(a, b).unwrap();
                    total += 1;
                    if BLOCKED.contains(&a.as_str()) || BLOCKED.contains(&b.as_str()) {
                        skipped += 1;
                    } else {
                        links.push((a.clone(), b.clone()));
                    }
                    vec![a, b]
                }
                Op::Single(a) => {
                    r.add_identifier(a).unwrap();
                    vec![a]
                }
            };
            for e in ends {
                if !order.contains(e) {
                    order.push(e.clone());
                }
            }
        }
        let c = r.finish();
        let all: Vec<(String, Option<u32>)> = c.iter().map(|(s, l)| (s.to_owned(), l)).collect();
        prop_assert_eq!(all.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), order.clone());
        prop_assert_eq!(c.len(), order.len());
        prop_assert_eq!(c.link_counts(), (total, skipped));
        for (s, l) in &all {
            prop_assert_eq!(l.is_none(), BLOCKED.contains(&s.as_str()));
            prop_assert_eq!(c.label(s), *l);
        }
        prop_assert_eq!(c.label("never-added"), None);
        // The oracle over unblocked links, plus every unblocked identifier alone.
        let mut with_alone = links.clone();
        for s in order.iter().filter(|s| !BLOCKED.contains(&s.as_str())) {
            with_alone.push((s.clone(), s.clone()));
        }
        let expected = oracle(&with_alone);
        prop_assert_eq!(&partition(&c), &expected);
        prop_assert_eq!(c.component_count(), expected.len());
    }
}

#[test]
fn blocked_values_never_link_and_grow_past_initial_capacity() {
    let mut r = BulkResolver::with_capacity(4, 16).with_blocklist(IdentityConfig::default());
    for i in 0..10_000 {
        r.add_link(&format!("visitor-{i}"), "undefined").unwrap();
        r.add_link(&format!("visitor-{i}"), &format!("user-{}", i / 2))
            .unwrap();
    }
    r.add_link("x", "00000000-0000-0000-0000-000000000000")
        .unwrap();
    assert_eq!(r.occurrence_count(), 2 * 20_001);
    let c = r.finish();
    assert_eq!(c.len(), 10_000 + 5_000 + 3);
    assert_eq!(c.component_count(), 5_000 + 1);
    assert_eq!(c.label("undefined"), None);
    assert_eq!(c.label("visitor-0"), c.label("visitor-1"));
    assert_ne!(c.label("visitor-1"), c.label("visitor-2"));
    assert_eq!(c.link_counts(), (20_001, 10_001));
}

#[test]
fn oversized_identifier_is_a_capacity_error() {
    let mut r = BulkResolver::new();
    let long = "x".repeat(70_000);
    let e = r.add_link("a", &long).unwrap_err();
    assert_eq!(e.code(), "capacity_exceeded");
}
