//! `group` and `alias` messages as identity input: group traits describe the
//! company and never link people; `previousId` may name an earlier user id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
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
