//! Profiles: last-write-wins traits by event time, merges, unmerge rebuilds, the
//! in-memory store, and the composed `Cdp`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::TimeDelta;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use stratum_cdp::identity::{IdentityConfig, ProfileId};
use stratum_cdp::message::{Message, ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore, Ingested, ProfileStore};

fn msg(json: &serde_json::Value, received_minute: i64) -> Message {
    parse_message(
        json.to_string().as_bytes(),
        at(received_minute),
        &ParseConfig::default(),
    )
    .unwrap()
}

fn identify(mid: &str, minute: i64, user: &str, anon: &str, traits: &serde_json::Value) -> Message {
    let ts = at(minute).to_rfc3339();
    msg(
        &json!({"type":"identify","messageId":mid,"userId":user,"anonymousId":anon,"timestamp":ts,"traits":traits}),
        100,
    )
}

fn cdp() -> Cdp {
    Cdp::new(
        IdentityConfig::default(),
        TimeDelta::hours(24),
        InMemoryProfileStore::new(),
    )
    .unwrap()
}

#[test]
fn last_write_wins_by_event_time_not_arrival() {
    let mut c = cdp();
    // The newer plan arrives first, the older one second: the newer one stays.
    c.ingest(&identify(
        "m2",
        10,
        "u1",
        "a1",
        &json!({"plan":"pro","name":"Ann"}),
    ))
    .unwrap();
    c.ingest(&identify(
        "m1",
        5,
        "u1",
        "a1",
        &json!({"plan":"free","city":"Lyon"}),
    ))
    .unwrap();
    let p = c
        .profile(&c.graph().profile_of(&user("u1")).unwrap())
        .unwrap();
    assert_eq!(p.trait_value("plan"), Some(&json!("pro")));
    assert_eq!(p.trait_value("city"), Some(&json!("Lyon")));
    assert_eq!(p.traits["plan"].message_id, "m2");
    // The late m1 founded the profile (earliest event): the id is prof:m1.
    assert_eq!(p.id, ProfileId("prof:m1".into()));
    assert_eq!(c.store().len().unwrap(), 1);
}

#[test]
fn duplicates_are_dropped_and_merges_combine_traits() {
    let mut c = cdp();
    c.ingest(&identify("m1", 1, "u1", "a1", &json!({"plan":"free"})))
        .unwrap();
    assert_eq!(
        c.ingest(&identify("m1", 1, "u1", "a1", &json!({})))
            .unwrap(),
        Ingested::Duplicate
    );
    let ts = at(2).to_rfc3339();
    c.ingest(&msg(&json!({"type":"identify","messageId":"m2","anonymousId":"a2","timestamp":ts,"traits":{"email":"ann@x.io","plan":"pro"}}), 100)).unwrap();
    assert_eq!(c.store().len().unwrap(), 2);
    let ts = at(3).to_rfc3339();
    let Ingested::Resolved { resolution } = c
        .ingest(&msg(&json!({"type":"track","messageId":"m3","anonymousId":"a2","userId":"u1","event":"Login","timestamp":ts}), 100))
        .unwrap()
    else {
        panic!("resolved");
    };
    assert_eq!(resolution.merged, [ProfileId("prof:m2".into())]);
    assert_eq!(c.store().len().unwrap(), 1);
    let p = c.profile(&ProfileId("prof:m2".into())).unwrap();
    assert_eq!(p.id.0, "prof:m1");
    assert_eq!(p.trait_value("plan"), Some(&json!("pro")));
    assert_eq!(p.trait_value("email"), Some(&json!("ann@x.io")));
    // Unmerge the linking event: the traits split back with the identifiers.
    let r = c.remove_link("m3").unwrap();
    assert_eq!(r.profiles.len(), 2);
    assert_eq!(
        c.profile(&ProfileId("prof:m1".into()))
            .unwrap()
            .trait_value("plan"),
        Some(&json!("free"))
    );
    assert_eq!(
        c.profile(&ProfileId("prof:m2".into()))
            .unwrap()
            .trait_value("plan"),
        Some(&json!("pro"))
    );
    assert_eq!(c.store().len().unwrap(), 2);
    assert_eq!(
        c.profile(&ProfileId("nope".into())).unwrap_err().code(),
        "not_found"
    );
}

type Snapshot = Vec<(Vec<String>, Vec<(String, serde_json::Value)>)>;

fn traits_of(c: &Cdp) -> Snapshot {
    let mut out: Vec<_> = c
        .graph()
        .profiles()
        .into_iter()
        .map(|id| {
            let ids: Vec<String> = c
                .graph()
                .identifiers(&id)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect();
            let p = c.profile(&id).unwrap();
            let traits = p
                .traits
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect();
            (ids, traits)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Profiles and traits do not depend on arrival order, and equal a rebuild from
    /// scratch.
    #[test]
    fn traits_are_order_independent((evs, shuffled) in events_and_permutation(16)) {
        let to_msg = |e: &Ev| {
            let users: Vec<&str> = e.ids.iter().filter(|i| i.kind == stratum_cdp::identity::IdentifierKind::UserId).map(|i| i.value.as_str()).collect();
            let anons: Vec<&str> = e.ids.iter().filter(|i| i.kind == stratum_cdp::identity::IdentifierKind::AnonymousId).map(|i| i.value.as_str()).collect();
            let email = e.ids.iter().find(|i| i.kind == stratum_cdp::identity::IdentifierKind::Email).map(|i| i.value.clone());
            let user = users.first().copied().unwrap_or("");
            let anon = anons.first().copied().unwrap_or("anon-fallback");
            let mut traits = json!({"last": e.message_id, "minute": e.minute});
            if let Some(em) = email { traits["email"] = json!(em); }
            identify(&e.message_id, e.minute, user, anon, &traits)
        };
        let mut a = cdp();
        for e in &evs { a.ingest(&to_msg(e)).unwrap(); }
        let mut b = cdp();
        for e in &shuffled { b.ingest(&to_msg(e)).unwrap(); }
        prop_assert_eq!(traits_of(&a), traits_of(&b));
        prop_assert_eq!(a.store().len().unwrap(), a.graph().profile_count());
        // A host that de-duplicated the stream itself gets the same profiles
        // without the CDP's window (the generated ids are unique).
        let mut c = cdp();
        for e in &shuffled { c.ingest_unique(&to_msg(e)).unwrap(); }
        prop_assert_eq!(traits_of(&a), traits_of(&c));
    }
}

#[test]
fn ingest_unique_neither_checks_nor_fills_the_window() {
    let mut c = cdp();
    let m = identify("m1", 1, "u1", "a1", &json!({"plan":"free"}));
    assert_ne!(c.ingest_unique(&m).unwrap(), Ingested::Duplicate);
    // Not remembered: `ingest` takes the same id as new...
    assert_ne!(c.ingest(&m).unwrap(), Ingested::Duplicate);
    // ...and now that `ingest` remembers it, `ingest_unique` still does not look.
    assert_eq!(c.ingest(&m).unwrap(), Ingested::Duplicate);
    assert_ne!(c.ingest_unique(&m).unwrap(), Ingested::Duplicate);
    assert_eq!(c.store().len().unwrap(), 1);
}

#[test]
fn a_newest_first_backfill_around_a_shared_device_is_applied_directly() {
    // Page views from one shared device, each with its own anonymous id: past the
    // earliest 100 the anonymous-id limit refuses each view's own id.
    let page = |k: i64| {
        msg(
            &json!({"type":"page","messageId":format!("p{k:04}"),"anonymousId":format!("a{k}"),
                "name":"Home","timestamp":at(k).to_rfc3339(),
                "context":{"device":{"id":"kiosk-1"}}}),
            2000,
        )
    };
    let mut in_order = cdp();
    for k in 0..300 {
        in_order.ingest(&page(k)).unwrap();
    }
    let mut backfill = cdp();
    for k in (0..300).rev() {
        let Ingested::Resolved { resolution } = backfill.ingest(&page(k)).unwrap() else {
            panic!("not a duplicate");
        };
        assert_eq!(resolution.recomputed, None, "p{k:04}");
    }
    assert_eq!(backfill.graph().replayed_links(), 0);
    let ids = in_order.graph().profiles();
    assert_eq!(backfill.graph().profiles(), ids);
    for id in &ids {
        assert_eq!(backfill.profile(id).unwrap(), in_order.profile(id).unwrap());
        assert_eq!(
            backfill.graph().explain(id).unwrap(),
            in_order.graph().explain(id).unwrap()
        );
    }
}
