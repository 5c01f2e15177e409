//! Arbitrary link sequences -> the identity graph. Invariants: per-type limits and
//! the identifier cap are never exceeded; blocked values never link; the state
//! does not depend on arrival order (reversed order gives the same profiles);
//! unmerge then re-add (by link and by identifier) gives the original partition.
#![no_main]

use std::collections::BTreeMap;

use chrono::{TimeDelta, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig, IdentityGraph};

const VALUES: [&str; 8] = ["a", "b", "c", "d", "null", "0000", "e", "f"];

fn identifier(byte: u8) -> Identifier {
    let kind = match byte % 5 {
        0 => IdentifierKind::UserId,
        1 => IdentifierKind::AnonymousId,
        2 => IdentifierKind::Email,
        3 => IdentifierKind::DeviceId,
        _ => IdentifierKind::External("crm".into()),
    };
    Identifier::new(kind, VALUES[(byte / 5) as usize % VALUES.len()])
}

type Event = (String, i64, Vec<Identifier>);

fn build(config: &IdentityConfig, events: &[Event]) -> IdentityGraph {
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let mut g = IdentityGraph::new(config.clone());
    for (m, minute, ids) in events {
        g.link(m, t0 + TimeDelta::minutes(*minute), ids.clone());
    }
    g
}

fn snapshot(g: &IdentityGraph) -> BTreeMap<Identifier, String> {
    g.partition()
        .into_iter()
        .flatten()
        .map(|i| {
            let p = g
                .profile_of(&i)
                .expect("partitioned identifiers have a profile");
            (i, p.0)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // Each event: [minute, count, ids...].
    let mut events: Vec<Event> = Vec::new();
    let mut rest = data;
    while let [minute, count, tail @ ..] = rest {
        let n = (*count as usize % 4 + 1).min(tail.len());
        let ids = tail[..n].iter().map(|&b| identifier(b)).collect();
        events.push((format!("m{}", events.len()), i64::from(*minute % 16), ids));
        rest = &tail[n..];
        if events.len() >= 24 {
            break;
        }
    }
    if events.is_empty() {
        return;
    }
    let config = IdentityConfig::default()
        .with_caps(6, 3)
        .expect("valid caps");
    let g = build(&config, &events);
    for part in g.partition() {
        assert!(part.len() <= 6);
        let mut per_kind: BTreeMap<&IdentifierKind, u32> = BTreeMap::new();
        for i in &part {
            assert!(config.blocked(i).is_none(), "blocked {i} linked");
            *per_kind.entry(&i.kind).or_default() += 1;
        }
        for (k, n) in per_kind {
            assert!(n <= config.rule_for(k).limit, "{k}: {n}");
        }
    }
    let before = snapshot(&g);
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(snapshot(&build(&config, &reversed)), before);

    let mut g = g;
    let pick = data.len() % events.len();
    let (m, _, ids) = &events[pick];
    g.remove_link(m).expect("known link");
    g.restore_link(m).expect("known link");
    assert_eq!(snapshot(&g), before);
    if let Some(i) = ids.iter().find(|i| config.blocked(i).is_none()) {
        g.remove_identifier(i).expect("known identifier");
        assert_eq!(g.profile_of(i), None);
        g.restore_identifier(i).expect("known identifier");
        assert_eq!(snapshot(&g), before);
    }
});
