//! Identity resolution: rules, blocking, limits and refusals, explanations, stable
//! ids, unmerge, and the order-independence properties.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use stratum_cdp::bulk::BulkResolver;
use stratum_cdp::identity::*;
use stratum_cdp::message::{ParseConfig, parse_message};

fn graph() -> IdentityGraph {
    IdentityGraph::new(IdentityConfig::default())
}

fn build(config: &IdentityConfig, evs: &[Ev]) -> IdentityGraph {
    let mut g = IdentityGraph::new(config.clone());
    for e in evs {
        g.link(&e.message_id, at(e.minute), e.ids.clone());
    }
    g
}

/// Partition plus the id of the profile holding each identifier.
fn snapshot(g: &IdentityGraph) -> (Vec<Vec<Identifier>>, BTreeMap<Identifier, ProfileId>) {
    let mut owner = BTreeMap::new();
    for part in g.partition() {
        for i in part {
            let p = g.profile_of(&i).unwrap();
            owner.insert(i, p);
        }
    }
    (g.partition(), owner)
}

/// Everything the graph says about its live profiles: identifiers, the events
/// that linked them with what each accepted and dropped, and the merge records.
fn full_state(g: &IdentityGraph) -> Vec<Explanation> {
    g.profiles().iter().map(|p| g.explain(p).unwrap()).collect()
}

#[test]
fn extracts_typed_identifiers_and_ignores_ip() {
    let json = br#"{"type":"identify","messageId":"m1","userId":" u1 ","anonymousId":"a1",
      "traits":{"email":" Ann@Example.COM ","phone":"+1 (555) 010-9999"},
      "context":{"ip":"10.0.0.1","device":{"id":"dev-1","advertisingId":"00000000-0000-0000-0000-000000000000"},
        "page":{"url":"https://shop.example/?utm_source=x&gclid=G-1#top"},
        "externalIds":[{"id":"crm-9","type":"crm_id","collection":"users","encoding":"none"}]}}"#;
    let m = parse_message(json, t0(), &ParseConfig::default()).unwrap();
    let ids: Vec<String> = identifiers(&m).iter().map(ToString::to_string).collect();
    assert_eq!(
        ids,
        [
            "user_id:u1",
            "anonymous_id:a1",
            "email:ann@example.com",
            "phone:+15550109999",
            "device_id:dev-1",
            "advertising_id:00000000-0000-0000-0000-000000000000",
            "click_id:G-1",
            "external:crm_id:crm-9",
        ]
    );
    let mut g = graph();
    let r = g.resolve(&m);
    // The all-zero advertising id is blocked; the rest link into one profile.
    assert_eq!(r.accepted.len(), 7);
    assert_eq!(r.blocked.len(), 1);
    assert_eq!(
        r.blocked[0].reason,
        BlockReason::Pattern {
            pattern: BlockedPattern::AllZeros
        }
    );
    assert_eq!(r.profile, Some(ProfileId("prof:m1".into())));
}

#[test]
fn blocked_values_never_link() {
    let mut g = graph();
    g.link("m1", at(0), vec![user("u1"), email("null")]);
    g.link("m2", at(1), vec![user("u2"), email("NULL")]);
    let r = g.link("m3", at(2), vec![user("u3"), anon("undefined"), anon("  ")]);
    assert_eq!(g.profile_count(), 3);
    assert_eq!(r.blocked.len(), 2);
    assert_eq!(r.blocked[1].reason, BlockReason::Empty);
    let cfg = IdentityConfig::default()
        .with_blocked_patterns(vec![BlockedPattern::Glob("*@example.com".into())]);
    let mut g = IdentityGraph::new(cfg);
    g.link("m1", at(0), vec![user("u1"), email("test@EXAMPLE.com")]);
    g.link("m2", at(1), vec![user("u2"), email("test@example.com")]);
    assert_eq!(g.profile_count(), 2);
}

#[test]
fn merges_are_recorded_and_explained() {
    let mut g = graph();
    g.link("m1", at(0), vec![anon("a1")]);
    g.link("m2", at(1), vec![anon("a2"), email("ann@x.io")]);
    let r = g.link("m3", at(2), vec![anon("a1"), email("ann@x.io"), user("u1")]);
    assert_eq!(r.profile, Some(ProfileId("prof:m1".into())));
    assert_eq!(r.merged, [ProfileId("prof:m2".into())]);
    assert_eq!(r.retired, r.merged);
    // The absorbed id redirects to the survivor (founded earliest).
    assert_eq!(
        g.canonical(&ProfileId("prof:m2".into())),
        Some(ProfileId("prof:m1".into()))
    );
    let ex = g.explain(&ProfileId("prof:m2".into())).unwrap();
    assert_eq!(ex.profile.0, "prof:m1");
    assert_eq!(ex.identifiers.len(), 4);
    let ids: Vec<&str> = ex.links.iter().map(|l| l.message_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(ex.merges.len(), 1);
    let m = &ex.merges[0];
    assert_eq!(
        (
            m.survivor.0.as_str(),
            m.absorbed.0.as_str(),
            m.message_id.as_str()
        ),
        ("prof:m1", "prof:m2", "m3")
    );
    assert_eq!(m.via, [user("u1"), email("ann@x.io"), anon("a1")]);
    let text = ex.explain();
    assert!(text.contains("merged prof:m2 into prof:m1 by m3"), "{text}");
    assert_eq!(
        g.explain(&ProfileId("nope".into())).unwrap_err().code(),
        "not_found"
    );
}

#[test]
fn limit_refuses_merge_and_drops_lowest_priority() {
    // Two users share a device: user_id's limit is 1, so the second event cannot
    // merge the two; device_id (priority 5) is dropped, not user_id (priority 1).
    let mut g = graph();
    let d = id(IdentifierKind::DeviceId, "shared-tablet");
    g.link("m1", at(0), vec![user("u1"), d.clone()]);
    let r = g.link("m2", at(1), vec![user("u2"), d.clone()]);
    assert_eq!(r.accepted, [user("u2")]);
    assert_eq!(r.dropped.len(), 1);
    assert_eq!(r.dropped[0].identifier, d);
    assert_eq!(r.dropped[0].profile, Some(ProfileId("prof:m1".into())));
    assert_eq!(
        r.dropped[0].reason,
        DropReason::LimitExceeded {
            kind: IdentifierKind::UserId,
            limit: 1,
            would_hold: 2
        }
    );
    assert_eq!(g.profile_count(), 2);
    let ex = g.explain(&r.profile.unwrap()).unwrap();
    assert_eq!(ex.links[0].dropped[0].identifier, d);
}

#[test]
fn email_limit_of_five() {
    let mut g = graph();
    for i in 0..7 {
        g.link(
            &format!("m{i}"),
            at(i),
            vec![user("u1"), email(&format!("e{i}@x.io"))],
        );
    }
    let p = g.profile_of(&user("u1")).unwrap();
    let emails = g
        .identifiers(&p)
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IdentifierKind::Email)
        .count();
    assert_eq!(emails, 5);
    // The 6th and 7th emails were refused and stay unlinked.
    assert_eq!(g.profile_of(&email("e5@x.io")), None);
}

#[test]
fn windowed_limit_counts_recent_additions_only() {
    let rules = vec![
        IdentifierRule {
            kind: IdentifierKind::UserId,
            priority: 1,
            limit: 1,
            window_seconds: None,
        },
        IdentifierRule {
            kind: IdentifierKind::DeviceId,
            priority: 2,
            limit: 2,
            window_seconds: Some(3600),
        },
    ];
    let cfg = IdentityConfig::new(
        rules,
        IdentityConfig::default().rule_for(&IdentifierKind::External("x".into())),
    )
    .unwrap();
    let mut g = IdentityGraph::new(cfg);
    let dev = |i: u32| id(IdentifierKind::DeviceId, &format!("d{i}"));
    g.link("m1", at(0), vec![user("u"), dev(1)]);
    g.link("m2", at(10), vec![user("u"), dev(2)]);
    let r = g.link("m3", at(20), vec![user("u"), dev(3)]);
    assert_eq!(
        r.dropped.len(),
        1,
        "third device within the hour is refused"
    );
    let r = g.link("m4", at(75), vec![user("u"), dev(4)]);
    assert!(
        r.dropped.is_empty(),
        "d1 joined 75 min ago, outside the window: {r:?}"
    );
}

#[test]
fn caps_on_identifiers_and_merges() {
    let cfg = IdentityConfig::default().with_caps(3, 1).unwrap();
    let mut g = IdentityGraph::new(cfg.clone());
    g.link("m1", at(0), vec![anon("a1"), anon("a2"), anon("a3")]);
    let r = g.link("m2", at(1), vec![anon("a1"), anon("a4")]);
    assert_eq!(r.dropped[0].reason, DropReason::MaxIdentifiers { limit: 3 });
    let mut g = IdentityGraph::new(cfg);
    g.link("m1", at(0), vec![anon("a1")]);
    g.link("m2", at(1), vec![anon("a2")]);
    g.link("m3", at(2), vec![anon("a3")]);
    let r = g.link("m4", at(3), vec![anon("a1"), anon("a2")]);
    assert_eq!(r.merged.len(), 1);
    let r = g.link("m5", at(4), vec![anon("a1"), anon("a3")]);
    assert_eq!(r.dropped[0].reason, DropReason::MaxMerges { limit: 1 });
}

#[test]
fn earliest_timestamp_wins_then_message_id_whatever_the_arrival_order() {
    // Both events claim anonymous id `a` for a different user; only one can have it.
    let a_first = [
        ("m2", 5, vec![user("u2"), anon("a")]),
        ("m9", 3, vec![user("u9"), anon("a")]),
    ];
    for order in [[0, 1], [1, 0]] {
        let mut g = graph();
        for &k in &order {
            let (m, t, ids) = &a_first[k];
            g.link(m, at(*t), ids.clone());
        }
        // m9 is earlier (minute 3) so u9 keeps `a`, although m2 has the smaller id.
        assert_eq!(g.profile_of(&anon("a")), g.profile_of(&user("u9")));
        assert_eq!(g.profile_of(&anon("a")).unwrap().0, "prof:m9");
    }
    // Same timestamp: the smaller message id wins.
    for order in [[0, 1], [1, 0]] {
        let evs = [
            ("mB", vec![user("u2"), anon("a")]),
            ("mA", vec![user("u1"), anon("a")]),
        ];
        let mut g = graph();
        for &k in &order {
            g.link(evs[k].0, at(0), evs[k].1.clone());
        }
        assert_eq!(g.profile_of(&anon("a")), g.profile_of(&user("u1")));
    }
}

#[test]
fn late_event_recomputes_and_redirects() {
    let mut g = graph();
    g.link("m5", at(5), vec![anon("a1"), email("e@x.io")]);
    // An event from earlier arrives late: it becomes the founder, the old id
    // redirects to the new one.
    let r = g.link("m1", at(1), vec![anon("a1")]);
    // It only founds the profile earlier: applied directly, no replay.
    assert_eq!(r.recomputed, None);
    assert_eq!(r.profile, Some(ProfileId("prof:m1".into())));
    assert_eq!(r.retired, [ProfileId("prof:m5".into())]);
    assert_eq!(
        g.canonical(&ProfileId("prof:m5".into())),
        Some(ProfileId("prof:m1".into()))
    );
}

#[test]
fn late_event_that_connects_apart_sets_recomputes() {
    let mut g = graph();
    g.link("m5", at(5), vec![anon("a1")]);
    g.link("m6", at(6), vec![anon("a2")]);
    g.link("m7", at(7), vec![anon("a1"), anon("a2")]);
    // Earlier than the merge, joining a1 and a2: the merge moves to m3.
    let r = g.link("m3", at(3), vec![anon("a1"), anon("a2")]);
    let rec = r.recomputed.unwrap();
    assert_eq!(rec.profiles, [ProfileId("prof:m3".into())]);
    assert_eq!(g.replayed_links(), 4);
    let e = g.explain(&ProfileId("prof:m3".into())).unwrap();
    assert_eq!(e.merges.len(), 0);
}

/// `n` events of `users` people, each carrying its person's anonymous id and,
/// from time to time, the user id and email (an identify): the shape of a
/// backfill.
fn backfill(n: usize, users: usize) -> Vec<Ev> {
    (0..n)
        .map(|k| {
            let u = k % users;
            let mut ids = vec![anon(&format!("anon-{u}"))];
            if k % 7 == 3 {
                ids.push(user(&format!("user-{u}")));
                ids.push(email(&format!("p{u}@x.io")));
            } else if k % 3 == 1 {
                ids.push(user(&format!("user-{u}")));
            }
            Ev {
                message_id: format!("m{k:06}"),
                minute: k as i64,
                ids,
            }
        })
        .collect()
}

#[test]
fn newest_first_backfill_replays_nothing() {
    let evs = backfill(4_000, 20);
    let mut g = graph();
    for e in evs.iter().rev() {
        let r = g.link(&e.message_id, at(e.minute), e.ids.clone());
        assert_eq!(r.recomputed, None, "{}", e.message_id);
    }
    // Before, each event replayed its person's whole history: n² / (2 · users).
    assert_eq!(g.replayed_links(), 0);
    assert_eq!(
        full_state(&g),
        full_state(&build(&IdentityConfig::default(), &evs))
    );
}

#[test]
fn shuffled_backfill_replays_a_bounded_number_of_links() {
    let evs = backfill(4_000, 20);
    let mut shuffled = evs.clone();
    // A fixed pseudo-random permutation (Fisher–Yates over a small LCG).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for k in (1..shuffled.len()).rev() {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        shuffled.swap(k, (x >> 33) as usize % (k + 1));
    }
    let g = build(&IdentityConfig::default(), &shuffled);
    // Only events that come before their person's first identify and carry the
    // user id can connect sets that were apart; a late one replays its person.
    assert!(g.replayed_links() <= 4_000, "{}", g.replayed_links());
    assert_eq!(
        full_state(&g),
        full_state(&build(&IdentityConfig::default(), &evs))
    );
}

#[test]
fn unmerge_by_identifier_and_link_recomputes_and_restores() {
    let mut g = graph();
    g.link("m1", at(0), vec![user("u1"), email("family@x.io")]);
    g.link("m2", at(1), vec![anon("a2"), email("family@x.io")]);
    g.link("m3", at(2), vec![anon("a2"), anon("a3")]);
    let before = snapshot(&g);
    assert_eq!(g.profile_count(), 1);
    let r = g.remove_identifier(&email("family@x.io")).unwrap();
    assert_eq!(
        r.profiles,
        [ProfileId("prof:m1".into()), ProfileId("prof:m2".into())]
    );
    assert_eq!(g.profile_of(&email("family@x.io")), None);
    assert_eq!(g.profile_of(&anon("a3")), Some(ProfileId("prof:m2".into())));
    // Later events carrying the removed identifier drop it.
    let r = g.link("m4", at(3), vec![user("u1"), email("family@x.io")]);
    assert_eq!(r.dropped[0].reason, DropReason::Removed);
    g.remove_link("m4").unwrap();
    g.restore_identifier(&email("family@x.io")).unwrap();
    assert_eq!(snapshot(&g), before);
    let r = g.remove_link("m2").unwrap();
    assert_eq!(r.profiles.len(), 2);
    assert_eq!(g.profile_of(&anon("a2")), Some(ProfileId("prof:m3".into())));
    g.restore_link("m2").unwrap();
    assert_eq!(snapshot(&g), before);
    assert_eq!(g.remove_link("zz").unwrap_err().code(), "not_found");
    assert_eq!(
        g.remove_identifier(&user("zz")).unwrap_err().code(),
        "not_found"
    );
}

#[test]
fn duplicates_and_consent() {
    let mut g = graph();
    g.link("m1", at(0), vec![user("u1")]);
    let r = g.link("m1", at(0), vec![user("u2")]);
    assert!(r.duplicate);
    assert_eq!(g.profile_count(), 1);
    let mut g = IdentityGraph::new(
        IdentityConfig::default().with_required_consent(Some("Personalization".into())),
    );
    let json = br#"{"type":"identify","messageId":"m1","userId":"u1","anonymousId":"a1",
        "context":{"consent":{"categoryPreferences":{"Personalization":false}}}}"#;
    let m = parse_message(json, t0(), &ParseConfig::default()).unwrap();
    let r = g.resolve(&m);
    assert!(r.consent_denied);
    assert_eq!(g.profile_count(), 0);
}

#[test]
fn config_is_validated_and_round_trips() {
    let c = IdentityConfig::default();
    assert_eq!(c.rule_for(&IdentifierKind::Email).limit, 5);
    assert_eq!(
        c.rule_for(&IdentifierKind::External("crm".into())).priority,
        4
    );
    let json = serde_json::to_string(&c).unwrap();
    let back: IdentityConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    let bad = r#"{"rules":[{"kind":"email","priority":1,"limit":0}]}"#;
    let e = serde_json::from_str::<IdentityConfig>(bad).unwrap_err();
    assert!(e.to_string().contains("rules[0].limit"), "{e}");
    let dup = vec![
        IdentifierRule {
            kind: IdentifierKind::Email,
            priority: 1,
            limit: 1,
            window_seconds: None,
        },
        IdentifierRule {
            kind: IdentifierKind::Email,
            priority: 2,
            limit: 1,
            window_seconds: None,
        },
    ];
    let e =
        IdentityConfig::new(dup, c.rule_for(&IdentifierKind::External("x".into()))).unwrap_err();
    assert_eq!(e.field(), Some("rules[1].kind"));
    assert_eq!(
        c.with_caps(0, 1).unwrap_err().field(),
        Some("max_identifiers_per_profile")
    );
}

fn no_limits() -> IdentityConfig {
    let kinds = [
        IdentifierKind::UserId,
        IdentifierKind::AnonymousId,
        IdentifierKind::Email,
        IdentifierKind::DeviceId,
        IdentifierKind::AdvertisingId,
    ];
    let rules = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| IdentifierRule {
            kind: k.clone(),
            priority: i as u32 + 1,
            limit: u32::MAX,
            window_seconds: None,
        })
        .collect();
    IdentityConfig::new(
        rules,
        IdentityConfig::default().rule_for(&IdentifierKind::External("x".into())),
    )
    .unwrap()
    .with_caps(u32::MAX, u32::MAX)
    .unwrap()
}

/// Two emails per profile within an hour, at most 6 identifiers, 2 merges.
fn windowed() -> IdentityConfig {
    let mut rules = IdentityConfig::default().rules().to_vec();
    for r in &mut rules {
        if r.kind == IdentifierKind::Email {
            r.limit = 2;
            r.window_seconds = Some(3_600);
        }
    }
    IdentityConfig::new(
        rules,
        IdentityConfig::default().rule_for(&IdentifierKind::External("x".into())),
    )
    .unwrap()
    .with_caps(6, 2)
    .unwrap()
}

/// Events of four people, each with an anonymous id per device (two devices),
/// a user id and two emails, plus a family email they share; an event carries one to three of them. Minutes
/// spread over four hours so that windows matter.
fn people_and_permutation(n: usize) -> impl Strategy<Value = (Vec<Ev>, Vec<Ev>)> {
    let one = (0usize..4, 0i64..240, prop::collection::vec(0u8..6, 1..4));
    prop::collection::vec(one, 1..n)
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(k, (p, minute, picks))| Ev {
                    message_id: format!("m{k:03}"),
                    minute,
                    ids: picks
                        .into_iter()
                        .map(|w| match w {
                            0 | 1 => anon(&format!("a{p}-{w}")),
                            2 => user(&format!("u{p}")),
                            3 | 4 => email(&format!("p{p}-{w}@x.io")),
                            _ => email("family@x.io"),
                        })
                        .collect(),
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|evs| {
            let shuffled = Just(evs.clone()).prop_shuffle();
            (Just(evs), shuffled)
        })
}

/// Small limits that bind often: 3 anonymous ids, 2 emails, 2 devices per
/// profile; with `caps`, at most 7 identifiers and 3 merges.
fn small_limits(caps: bool) -> IdentityConfig {
    let mut rules = IdentityConfig::default().rules().to_vec();
    for r in &mut rules {
        match r.kind {
            IdentifierKind::AnonymousId => r.limit = 3,
            IdentifierKind::Email | IdentifierKind::DeviceId => r.limit = 2,
            _ => {}
        }
    }
    let c = IdentityConfig::new(
        rules,
        IdentityConfig::default().rule_for(&IdentifierKind::External("x".into())),
    )
    .unwrap();
    if caps { c.with_caps(7, 3).unwrap() } else { c }
}

/// Events around shared identifiers (a hub device, a family email, the two), each
/// with one or two identifiers of its own (anonymous ids mostly, sometimes an
/// email or a user id, which come before the shared ones in priority order) and
/// now and then an anonymous id of another event: the shape where a limit decides
/// something in every component and late events are applied directly.
fn hubs_and_permutation(n: usize) -> impl Strategy<Value = (Vec<Ev>, Vec<Ev>)> {
    let one = (
        prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
        0i64..40,
        prop::collection::vec(
            prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
            1..3,
        ),
        prop::option::weighted(0.1, any::<prop::sample::Index>()),
    );
    prop::collection::vec(one, 1..n)
        .prop_map(|v| {
            let n = v.len();
            v.into_iter()
                .enumerate()
                .map(|(k, (hub, minute, own, reuse))| {
                    let mut ids = match hub {
                        0 => vec![id(IdentifierKind::DeviceId, "hub")],
                        1 => vec![id(IdentifierKind::DeviceId, "hub"), email("family@x.io")],
                        2 => vec![email("family@x.io")],
                        _ => vec![id(IdentifierKind::DeviceId, "hub-2")],
                    };
                    for (j, w) in own.into_iter().enumerate() {
                        ids.push(match w {
                            0 => anon(&format!("a{k}-{j}")),
                            1 => email(&format!("e{k}-{j}@x.io")),
                            _ => user(&format!("u{k}")),
                        });
                    }
                    if let Some(r) = reuse {
                        ids.push(anon(&format!("a{}-0", r.index(n))));
                    }
                    Ev {
                        message_id: format!("m{k:03}"),
                        minute,
                        ids,
                    }
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|evs| {
            let shuffled = Just(evs.clone()).prop_shuffle();
            (Just(evs), shuffled)
        })
}

#[test]
fn a_newest_first_backfill_around_a_shared_identifier_replays_nothing() {
    // Each event: the shared device and its own anonymous id. Past the earliest
    // 100, the anonymous-id limit refuses each event's own id. More distinct
    // identifiers than the cap of 500 per profile, which the profile never nears.
    let hub = id(IdentifierKind::DeviceId, "hub");
    let evs: Vec<Ev> = (0..700)
        .map(|k| Ev {
            message_id: format!("m{k:04}"),
            minute: k,
            ids: vec![hub.clone(), anon(&format!("a{k}"))],
        })
        .collect();
    let cfg = IdentityConfig::default();
    let sorted = build(&cfg, &evs);
    let mut newest_first = evs.clone();
    newest_first.reverse();
    let g = build(&cfg, &newest_first);
    assert_eq!(g.replayed_links(), 0);
    assert_eq!(full_state(&g), full_state(&sorted));
    assert_eq!(g.profiles(), [ProfileId("prof:m0000".into())]);
    assert_eq!(g.profile_of(&anon("a99")), g.profile_of(&hub));
    assert_eq!(g.profile_of(&anon("a100")), None);
    // Any other order too, the state is the sorted build's.
    let mut shuffled = evs;
    let mut s = 0x9E37_79B9_7F4A_7C15_u64;
    for k in (1..shuffled.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        shuffled.swap(k, (s % (k as u64 + 1)) as usize);
    }
    let g = build(&cfg, &shuffled);
    assert_eq!(full_state(&g), full_state(&sorted));
}

fn check_limits(g: &IdentityGraph) {
    let cfg = g.config();
    for part in g.partition() {
        assert!(part.len() <= cfg.max_identifiers_per_profile() as usize);
        let mut per_kind: BTreeMap<&IdentifierKind, u32> = BTreeMap::new();
        for i in &part {
            assert!(cfg.blocked(i).is_none(), "blocked {i} was linked");
            *per_kind.entry(&i.kind).or_default() += 1;
        }
        for (k, n) in per_kind {
            assert!(n <= cfg.rule_for(k).limit, "{k}: {n} in {part:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With limits in play the state (partition, owner ids) still does not depend
    /// on arrival order: it always equals the canonical-order replay.
    #[test]
    fn order_independent_with_limits((evs, shuffled) in events_and_permutation(24)) {
        let cfg = IdentityConfig::default();
        let a = build(&cfg, &evs);
        let b = build(&cfg, &shuffled);
        prop_assert_eq!(snapshot(&a), snapshot(&b));
        check_limits(&a);
    }

    /// Any arrival order gives exactly the state of the canonical-order build:
    /// the same profiles, links, outcomes and merge records, with the default
    /// limits, with none, and with a windowed limit.
    #[test]
    fn any_permutation_equals_the_sorted_build((evs, shuffled) in events_and_permutation(24)) {
        let mut sorted = evs;
        sorted.sort_by(|a, b| (a.minute, &a.message_id).cmp(&(b.minute, &b.message_id)));
        for cfg in [IdentityConfig::default(), no_limits(), windowed()] {
            let a = build(&cfg, &sorted);
            let b = build(&cfg, &shuffled);
            prop_assert_eq!(a.replayed_links(), 0);
            prop_assert_eq!(full_state(&a), full_state(&b));
        }
    }

    /// The same for people with many events and few identifiers (the fast paths).
    #[test]
    fn any_permutation_of_people_equals_the_sorted_build(
        (evs, shuffled) in people_and_permutation(60),
    ) {
        let mut sorted = evs.clone();
        sorted.sort_by(|a, b| (a.minute, &a.message_id).cmp(&(b.minute, &b.message_id)));
        for cfg in [IdentityConfig::default(), no_limits(), windowed()] {
            let a = build(&cfg, &sorted);
            let b = build(&cfg, &shuffled);
            prop_assert_eq!(full_state(&a), full_state(&b));
            for e in &evs {
                for i in &e.ids {
                    prop_assert_eq!(a.profile_of(i), b.profile_of(i));
                }
            }
        }
    }

    /// The same around shared identifiers with small limits, where a limit decides
    /// something in most components (late events applied directly when the
    /// component keeps its shape, replayed otherwise).
    #[test]
    fn any_permutation_around_shared_identifiers_equals_the_sorted_build(
        (evs, shuffled) in hubs_and_permutation(40),
    ) {
        let mut sorted = evs.clone();
        sorted.sort_by(|a, b| (a.minute, &a.message_id).cmp(&(b.minute, &b.message_id)));
        for cfg in [small_limits(false), small_limits(true), IdentityConfig::default(), windowed()] {
            let a = build(&cfg, &sorted);
            let b = build(&cfg, &shuffled);
            prop_assert_eq!(full_state(&a), full_state(&b));
            for e in &evs {
                for i in &e.ids {
                    prop_assert_eq!(a.profile_of(i), b.profile_of(i));
                }
            }
        }
    }

    /// Without limits the partition equals the connected components of the links
    /// (computed independently by the bulk resolver), in any order.
    #[test]
    fn no_limits_partition_is_connected_components((evs, shuffled) in events_and_permutation(24)) {
        let cfg = no_limits();
        let g = build(&cfg, &shuffled);
        // Blocked values are filtered here with the typed rules; the bulk resolver
        // sees only `kind:value` names.
        let mut bulk = BulkResolver::new();
        for e in &evs {
            let ids: Vec<String> = e.ids.iter().filter(|i| cfg.blocked(i).is_none()).map(ToString::to_string).collect();
            for w in ids.windows(2) {
                bulk.add_link(&w[0], &w[1]).unwrap();
            }
            if let Some(first) = ids.first() {
                bulk.add_identifier(first).unwrap();
            }
        }
        let c = bulk.finish();
        let mut groups: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (s, l) in c.iter() {
            groups.entry(l.unwrap()).or_default().push(s.to_owned());
        }
        let mut expected: Vec<Vec<String>> = groups.into_values().filter(|g| !g.is_empty()).map(|mut g| { g.sort(); g }).collect();
        expected.sort();
        let mut got: Vec<Vec<String>> = g.partition().into_iter().map(|p| { let mut v: Vec<String> = p.iter().map(ToString::to_string).collect(); v.sort(); v }).collect();
        got.sort();
        prop_assert_eq!(got, expected);
    }

    /// Unmerge then re-add gives the original partition (by link and by identifier).
    #[test]
    fn unmerge_then_restore_is_identity(evs in events(20), pick in any::<prop::sample::Index>()) {
        let mut g = build(&IdentityConfig::default(), &evs);
        let before = snapshot(&g);
        let e = pick.get(&evs);
        g.remove_link(&e.message_id).unwrap();
        check_limits(&g);
        g.restore_link(&e.message_id).unwrap();
        prop_assert_eq!(&snapshot(&g), &before);
        if let Some(i) = e.ids.iter().find(|i| g.config().blocked(i).is_none()) {
            g.remove_identifier(i).unwrap();
            prop_assert_eq!(g.profile_of(i), None);
            check_limits(&g);
            g.restore_identifier(i).unwrap();
            prop_assert_eq!(&snapshot(&g), &before);
        }
    }

    /// After a removal the state equals a fresh build of the remaining events.
    #[test]
    fn unmerge_equals_rebuild_without_the_link(evs in events(20), pick in any::<prop::sample::Index>()) {
        let cfg = IdentityConfig::default();
        let mut g = build(&cfg, &evs);
        let k = pick.index(evs.len());
        g.remove_link(&evs[k].message_id).unwrap();
        let mut rest = evs.clone();
        rest.remove(k);
        prop_assert_eq!(snapshot(&g).0, snapshot(&build(&cfg, &rest)).0);
    }
}
