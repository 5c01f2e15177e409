//! `group` and `alias` messages as identity input: group traits describe the
//! company and never link people; `previousId` may name an earlier user id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use stratum_cdp::identity::*;
use stratum_cdp::message::{Message, ParseConfig, parse_message};

fn msg(json: &str) -> Message {
    parse_message(json.as_bytes(), t0(), &ParseConfig::default()).unwrap()
}

/// The `group` call analytics.js and analytics-python send: the company's
/// documented traits, `email` and `phone` included.
fn group_call(mid: &str, anon: &str) -> String {
    format!(
        r#"{{"type":"group","messageId":"{mid}","anonymousId":"{anon}","groupId":"acme-1",
        "traits":{{"name":"Acme Inc","email":"billing@acme.example","phone":"+1 555 0100",
        "industry":"Manufacturing","employees":420,"plan":"enterprise"}},
        "context":{{"library":{{"name":"analytics.js","version":"2.11.1"}}}}}}"#
    )
}

#[test]
fn group_traits_never_merge_two_members() {
    let mut g = IdentityGraph::new(IdentityConfig::default());
    let a = g.resolve(&msg(&group_call("g1", "visitor-a")));
    let b = g.resolve(&msg(&group_call("g2", "visitor-b")));
    assert_eq!(a.accepted, [anon("visitor-a")]);
    assert_eq!(b.accepted, [anon("visitor-b")]);
    assert!(b.merged.is_empty() && b.dropped.is_empty());
    assert_ne!(a.profile, b.profile);
    assert_eq!(g.profile_count(), 2);
    assert_eq!(g.profile_of(&email("billing@acme.example")), None);
}

#[test]
fn group_traits_do_not_use_a_members_email_limit() {
    // Six members of one company: with the email limit of 5, group traits used as
    // identifiers would have dropped links of later members.
    let mut g = IdentityGraph::new(IdentityConfig::default());
    for i in 0..6 {
        let r = g.resolve(&msg(&group_call(&format!("g{i}"), &format!("v{i}"))));
        assert!(r.dropped.is_empty(), "{r:?}");
        assert_eq!(r.accepted, [anon(&format!("v{i}"))]);
    }
    assert_eq!(g.profile_count(), 6);
}

#[test]
fn a_members_own_context_traits_still_identify_them() {
    let m = msg(
        r#"{"type":"group","messageId":"g1","userId":"u-1","groupId":"acme-1",
        "traits":{"email":"billing@acme.example"},
        "context":{"traits":{"email":"Ann@Example.com"}}}"#,
    );
    // The message's traits stay the group's.
    assert_eq!(m.traits["email"], "billing@acme.example");
    let ids = identifiers(&m);
    assert_eq!(ids, [user("u-1"), email("ann@example.com")]);
    // Without its own traits a group message does not take the member's as the
    // group's.
    let m = msg(
        r#"{"type":"group","messageId":"g2","userId":"u-1","groupId":"acme-1",
        "context":{"traits":{"email":"ann@example.com"}}}"#,
    );
    assert!(m.traits.is_empty());
    assert_eq!(identifiers(&m), [user("u-1"), email("ann@example.com")]);
}

fn at_min(json: &str, minute: i64) -> Message {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut v = v.as_object().unwrap().clone();
    v.insert("timestamp".into(), at(minute).to_rfc3339().into());
    parse_message(
        serde_json::to_string(&v).unwrap().as_bytes(),
        at(60),
        &ParseConfig::default(),
    )
    .unwrap()
}

const IDENTIFY_LEGACY: &str = r#"{"type":"identify","messageId":"i-legacy","userId":"legacy-42","traits":{"email":"old@example.com"}}"#;
const IDENTIFY_NEW: &str = r#"{"type":"identify","messageId":"i-new","userId":"u-7","traits":{"email":"new@example.com"}}"#;
const ALIAS: &str =
    r#"{"type":"alias","messageId":"al-1","userId":"u-7","previousId":"legacy-42"}"#;

#[test]
fn alias_from_an_earlier_user_id_merges_the_profiles() {
    let mut g = IdentityGraph::new(IdentityConfig::default());
    let legacy = g.resolve(&at_min(IDENTIFY_LEGACY, 0)).profile.unwrap();
    g.resolve(&at_min(IDENTIFY_NEW, 1));
    let r = g.resolve(&at_min(ALIAS, 2));
    assert!(r.dropped.is_empty(), "{r:?}");
    assert_eq!(r.accepted, [user("legacy-42"), user("u-7")]);
    assert_eq!(g.profile_count(), 1);
    let p = g.profile_of(&user("u-7")).unwrap();
    assert_eq!(p, legacy);
    assert_eq!(g.profile_of(&email("old@example.com")), Some(p.clone()));
    // The merge is explained by the alias.
    let ex = g.explain(&p).unwrap();
    assert_eq!(ex.merges.len(), 1);
    assert_eq!(ex.merges[0].message_id, "al-1");
    assert_eq!(ex.merges[0].via, [user("legacy-42"), user("u-7")]);
    // No anonymous id was made up from the previous user id.
    assert_eq!(g.profile_of(&anon("legacy-42")), None);
}

#[test]
fn an_alias_arriving_before_the_previous_user_id_merges_once_it_is_named() {
    let mut g = IdentityGraph::new(IdentityConfig::default());
    g.resolve(&at_min(IDENTIFY_NEW, 1));
    // The alias arrives first: `legacy-42` is not known yet.
    let r = g.resolve(&at_min(ALIAS, 2));
    assert_eq!(r.accepted, [user("u-7"), anon("legacy-42")]);
    // The previous id's own identify arrives late (a backfill).
    let r = g.resolve(&at_min(IDENTIFY_LEGACY, 0));
    assert!(r.dropped.is_empty(), "{r:?}");
    assert_eq!(g.profile_count(), 1);
    let p = g.profile_of(&user("u-7")).unwrap();
    assert_eq!(g.profile_of(&user("legacy-42")), Some(p.clone()));
    assert_eq!(g.profile_of(&email("old@example.com")), Some(p.clone()));
    // The alias is re-read with the user id: no anonymous id is left behind.
    assert_eq!(g.profile_of(&anon("legacy-42")), None);
    let ex = g.explain(&p).unwrap();
    assert!(
        ex.merges
            .iter()
            .any(|m| m.message_id == "al-1" && m.via == [user("legacy-42"), user("u-7")]),
        "{ex:?}"
    );
}

#[test]
fn an_aliased_profile_keeps_working_and_stays_protected() {
    let mut g = IdentityGraph::new(IdentityConfig::default());
    g.resolve(&at_min(IDENTIFY_LEGACY, 0));
    g.resolve(&at_min(ALIAS, 1));
    let p = g.profile_of(&user("legacy-42")).unwrap();
    assert_eq!(g.profile_of(&user("u-7")), Some(p.clone()));
    // Later events of either id still link to the profile.
    for (i, uid) in ["u-7", "legacy-42"].iter().enumerate() {
        let m = at_min(
            &format!(
                r#"{{"type":"identify","messageId":"later-{i}","userId":"{uid}","traits":{{"email":"x{i}@example.com"}}}}"#
            ),
            5 + i as i64,
        );
        let r = g.resolve(&m);
        assert!(r.dropped.is_empty(), "{r:?}");
        assert_eq!(r.profile, Some(p.clone()));
    }
    // A third user id through an ordinary event is still refused by the limit.
    let r = g.resolve(&at_min(
        r#"{"type":"identify","messageId":"other","userId":"u-9","traits":{"email":"x0@example.com"}}"#,
        9,
    ));
    assert_eq!(r.dropped.len(), 1, "{r:?}");
    assert_eq!(r.dropped[0].identifier, email("x0@example.com"));
    assert!(matches!(
        r.dropped[0].reason,
        DropReason::LimitExceeded {
            kind: IdentifierKind::UserId,
            limit: 1,
            would_hold: 3
        }
    ));
    assert_ne!(r.profile, Some(p));
}

#[test]
fn alias_from_an_anonymous_id_merges_as_before() {
    let mut g = IdentityGraph::new(IdentityConfig::default());
    g.resolve(&at_min(
        r#"{"type":"page","messageId":"pv","anonymousId":"anon-1"}"#,
        0,
    ));
    let r = g.resolve(&at_min(
        r#"{"type":"alias","messageId":"al","userId":"u-1","previousId":"anon-1"}"#,
        1,
    ));
    assert_eq!(r.accepted, [user("u-1"), anon("anon-1")]);
    assert_eq!(g.profile_of(&user("u-1")), g.profile_of(&anon("anon-1")));
}

#[test]
fn the_aliased_result_does_not_depend_on_arrival_order() {
    // Any arrival order, the alias before the previous id's identify included.
    let msgs = [
        at_min(IDENTIFY_LEGACY, 0),
        at_min(IDENTIFY_NEW, 3),
        at_min(ALIAS, 1),
        at_min(
            r#"{"type":"track","messageId":"t","userId":"u-7","event":"e","context":{"traits":{"email":"t@example.com"}}}"#,
            2,
        ),
    ];
    let orders: [[usize; 4]; 8] = [
        [0, 1, 2, 3],
        [0, 2, 1, 3],
        [0, 3, 2, 1],
        [1, 0, 2, 3],
        [3, 1, 0, 2],
        [2, 0, 1, 3],
        [2, 3, 1, 0],
        [1, 2, 3, 0],
    ];
    let mut results = Vec::new();
    for order in orders {
        let mut g = IdentityGraph::new(IdentityConfig::default());
        for i in order {
            g.resolve(&msgs[i]);
        }
        assert_eq!(g.profile_count(), 1, "{order:?}");
        results.push((g.partition(), g.profile_of(&user("u-7"))));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the arrival order (the alias before or after the events that name
    /// its previous id as a user id) and the event times, the graph ends up the same.
    #[test]
    fn alias_results_do_not_depend_on_arrival_order(
        order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
        minutes in prop::collection::vec(0i64..30, 8),
    ) {
        let jsons = [
            IDENTIFY_LEGACY.to_owned(),
            IDENTIFY_NEW.to_owned(),
            ALIAS.to_owned(),
            r#"{"type":"page","messageId":"p-1","anonymousId":"anon-1","userId":"u-7"}"#.to_owned(),
            r#"{"type":"identify","messageId":"i-other","userId":"u-9","traits":{"email":"old@example.com"}}"#.to_owned(),
            r#"{"type":"track","messageId":"t-1","userId":"legacy-42","event":"e","context":{"traits":{"email":"t@example.com"}}}"#.to_owned(),
            // Self-aliases: `previousId` is the alias's own `userId`.
            r#"{"type":"alias","messageId":"al-self-9","userId":"u-9","previousId":"u-9"}"#.to_owned(),
            r#"{"type":"alias","messageId":"al-self-new","userId":"u-new","previousId":"u-new"}"#.to_owned(),
        ];
        let msgs: Vec<Message> = jsons.iter().zip(&minutes).map(|(j, &m)| at_min(j, m)).collect();
        let mut reference = IdentityGraph::new(IdentityConfig::default());
        for m in &msgs {
            reference.resolve(m);
        }
        let mut g = IdentityGraph::new(IdentityConfig::default());
        for &i in &order {
            g.resolve(&msgs[i]);
        }
        prop_assert_eq!(g.partition(), reference.partition());
        prop_assert_eq!(g.profile_of(&user("u-7")), reference.profile_of(&user("u-7")));
        prop_assert_eq!(g.profile_of(&anon("legacy-42")), None);
        prop_assert_eq!(g.profile_of(&anon("u-9")), None);
        prop_assert_eq!(g.profile_of(&anon("u-new")), None);
    }
}

#[test]
fn a_self_alias_links_only_its_user_id_in_every_order() {
    let identify = at_min(r#"{"type":"identify","messageId":"m1","userId":"u35"}"#, 0);
    let alias = at_min(
        r#"{"type":"alias","messageId":"m2","userId":"u35","previousId":"u35"}"#,
        1,
    );
    for order in [[&identify, &alias], [&alias, &identify]] {
        let mut g = IdentityGraph::new(IdentityConfig::default());
        for m in order {
            g.resolve(m);
        }
        assert_eq!(g.partition(), [vec![user("u35")]]);
        assert_eq!(g.profile_of(&anon("u35")), None);
        assert_eq!(
            g.profile_of(&user("u35")),
            Some(ProfileId("prof:m1".into()))
        );
    }
    // Alone, a self-alias names one user id.
    let mut g = IdentityGraph::new(IdentityConfig::default());
    assert_eq!(g.resolve(&alias).accepted, [user("u35")]);
}

#[test]
fn group_membership_is_recorded_on_the_member_profile() {
    use chrono::TimeDelta;
    use stratum_cdp::profile::{Cdp, InMemoryProfileStore};
    let mut cdp = Cdp::new(
        IdentityConfig::default(),
        TimeDelta::hours(24),
        InMemoryProfileStore::new(),
    )
    .unwrap();
    cdp.ingest(&msg(&group_call("g1", "visitor-a"))).unwrap();
    cdp.ingest(&msg(&group_call("g2", "visitor-b"))).unwrap();
    let a = cdp.graph().profile_of(&anon("visitor-a")).unwrap();
    let b = cdp.graph().profile_of(&anon("visitor-b")).unwrap();
    assert_ne!(a, b);
    for p in [&a, &b] {
        let profile = cdp.profile(p).unwrap();
        assert_eq!(profile.groups.iter().collect::<Vec<_>>(), ["acme-1"]);
        // The company's traits are not the member's.
        assert!(profile.traits.is_empty(), "{profile:?}");
    }
    // Visitor a later identifies; an earlier page view (arriving late) joins the
    // same person and the membership survives the recomputation.
    cdp.ingest(&at_min(
        r#"{"type":"identify","messageId":"id-a","anonymousId":"visitor-a","userId":"u-a"}"#,
        5,
    ))
    .unwrap();
    cdp.ingest(&at_min(
        r#"{"type":"group","messageId":"g3","userId":"u-a","groupId":"beta-2"}"#,
        6,
    ))
    .unwrap();
    cdp.ingest(&at_min(
        r#"{"type":"page","messageId":"late","anonymousId":"visitor-a","userId":"u-a"}"#,
        -30,
    ))
    .unwrap();
    let p = cdp.graph().profile_of(&user("u-a")).unwrap();
    let groups: Vec<String> = cdp.profile(&p).unwrap().groups.into_iter().collect();
    assert_eq!(groups, ["acme-1", "beta-2"]);
}
