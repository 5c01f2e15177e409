//! Segment evaluation: incremental (through `Cdp`) == full (compiled, columnar)
//! == a deliberately simple reference evaluator, over random profiles, events,
//! consent changes, merges, unmerges and times; membership history; the
//! `Audience Entered` / `Audience Exited` events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use stratum_cdp::computed::{ComputedTraits, ComputedValue, TraitEvent};
use stratum_cdp::identity::{IdentityConfig, ProfileId};
use stratum_cdp::message::{Message, MessageType, ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore, Profile};
use stratum_cdp::segment::{
    AudienceDefinition, CmpOp, Count, Expr, Literal, TransitionKind, Window,
};

const AUDIENCES: &[(&str, &str)] = &[
    ("pro", r#"plan = "pro""#),
    (
        "big_buyers",
        r#"performed "Order Completed" at least 2 times within 3d where properties.total > 50"#,
    ),
    ("no_login_today", r#"never performed "Login" within 1d"#),
    ("lapsed", r#"performed "Login" between 1d and 3d ago"#),
    (
        "pro_small",
        r#"in audience "pro" and not in audience "big_buyers""#,
    ),
    ("ads_adults", r#"consent "ads" and age >= 30"#),
    (
        "weekly",
        r#"computed orders_week >= 1 or performed "Order Completed" exactly 1 time"#,
    ),
    (
        "free_or_x",
        r#"plan in ["free", "team"] or email starts_with "x""#,
    ),
];

fn computed() -> ComputedTraits {
    serde_json::from_value(json!([
        {"name": "orders_week", "kind": "count", "event": "Order Completed", "window_seconds": 604800}
    ]))
    .unwrap()
}

thread_local! {
    /// Whether the audiences include the one on a windowed computed trait (which
    /// makes every profile time-dependent, so it is also tested without).
    static WITH_COMPUTED: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

fn defs() -> Vec<AudienceDefinition> {
    let with = WITH_COMPUTED.with(std::cell::Cell::get);
    AUDIENCES
        .iter()
        .filter(|(k, _)| with || *k != "weekly")
        .map(|(k, t)| AudienceDefinition::parse(k, t).unwrap())
        .collect()
}

fn cdp() -> Cdp {
    let mut c = Cdp::with_computed_traits(
        IdentityConfig::default(),
        TimeDelta::hours(24),
        InMemoryProfileStore::new(),
        computed(),
    )
    .unwrap();
    c.set_audiences(defs()).unwrap();
    c
}

fn msg(v: Value, now: DateTime<Utc>) -> Message {
    parse_message(v.to_string().as_bytes(), now, &ParseConfig::default()).unwrap()
}

// ---- the reference: a tree walk over the profile and its event list ----

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn lit_f64(l: &Literal) -> f64 {
    match l {
        Literal::Number(d) => d.to_string().parse().unwrap(),
        _ => f64::NAN,
    }
}

fn cmp_value(v: Option<&Value>, op: CmpOp, lit: Option<&Literal>) -> bool {
    let v = v.filter(|v| !v.is_null());
    match (op, lit) {
        (CmpOp::Exists, _) => v.is_some(),
        (CmpOp::Eq, Some(Literal::String(s))) => v.and_then(Value::as_str) == Some(s.as_str()),
        (CmpOp::Gt, Some(l)) => v.and_then(num).is_some_and(|x| x > lit_f64(l)),
        (CmpOp::Ge, Some(l)) => v.and_then(num).is_some_and(|x| x >= lit_f64(l)),
        (CmpOp::In, Some(Literal::List(items))) => items.iter().any(
            |i| matches!(i, Literal::String(s) if v.and_then(Value::as_str) == Some(s.as_str())),
        ),
        (CmpOp::StartsWith, Some(Literal::String(s))) => v
            .and_then(Value::as_str)
            .is_some_and(|x| x.starts_with(s.as_str())),
        other => panic!("reference does not know {other:?}"),
    }
}

fn in_window(ts: DateTime<Utc>, w: Option<Window>, now: DateTime<Utc>) -> bool {
    match w {
        None => true,
        Some(Window::Within { seconds }) => ts > now - TimeDelta::seconds(seconds) && ts <= now,
        Some(Window::Between {
            from_seconds,
            to_seconds,
        }) => {
            ts > now - TimeDelta::seconds(to_seconds)
                && ts <= now - TimeDelta::seconds(from_seconds)
        }
    }
}

fn reference(
    e: &Expr,
    p: &Profile,
    events: &[TraitEvent],
    now: DateTime<Utc>,
    defs: &[AudienceDefinition],
) -> bool {
    match e {
        Expr::And(xs) => xs.iter().all(|x| reference(x, p, events, now, defs)),
        Expr::Or(xs) => xs.iter().any(|x| reference(x, p, events, now, defs)),
        Expr::Not(x) => !reference(x, p, events, now, defs),
        Expr::Trait(pr) => cmp_value(p.trait_value(&pr.name), pr.op, pr.value.as_ref()),
        Expr::Computed(pr) => {
            let v = p.computed_values(&computed(), now);
            let n = match &v[&pr.name] {
                ComputedValue::Count(n) => json!(n),
                other => panic!("{other:?}"),
            };
            cmp_value(Some(&n), pr.op, pr.value.as_ref())
        }
        Expr::Event(ev) => {
            let n = events
                .iter()
                .filter(|x| x.name.as_deref() == Some(ev.event.as_str()))
                .filter(|x| in_window(x.timestamp, ev.window, now))
                .filter(|x| {
                    ev.filters
                        .iter()
                        .all(|f| cmp_value(x.properties.get(&f.name), f.op, f.value.as_ref()))
                })
                .count() as u64;
            match ev.count {
                Count::AtLeast(k) => n >= u64::from(k),
                Count::AtMost(k) => n <= u64::from(k),
                Count::Exactly(k) => n == u64::from(k),
            }
        }
        Expr::InAudience(k) => {
            let d = defs.iter().find(|d| d.key == *k).unwrap();
            reference(d.segment.expr(), p, events, now, defs)
        }
        Expr::Consent(c) => p.consent_granted(c) == Some(true),
    }
}

/// Incremental membership == full evaluation == the reference, for every
/// tracked profile at `now`.
fn check_all(c: &Cdp, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    let eng = c.audiences().unwrap();
    let (ids, bits) = c.evaluate_audiences(now).unwrap();
    let defs = defs();
    for (row, id) in ids.iter().enumerate() {
        let p = c.profile(id).unwrap();
        prop_assert_eq!(&p.id, id, "tracked profile is live");
        let events = c.profile_events(id).unwrap();
        for (a, d) in defs.iter().enumerate() {
            let want = reference(d.segment.expr(), &p, &events, now, &defs);
            prop_assert_eq!(bits[a].get(row), want, "full {} {:?}", d.key, id);
            prop_assert_eq!(
                eng.is_member(id, &d.key),
                want,
                "incremental {} {:?}",
                d.key,
                id
            );
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Op {
    Identify {
        user: u8,
        anon: u8,
        plan: u8,
        age: u8,
        email: u8,
    },
    Track {
        who: (bool, u8),
        login: bool,
        total: u8,
        ago_h: u16,
    },
    Consent {
        anon: u8,
        ads: bool,
    },
    Unmerge {
        anon: u8,
    },
    Advance {
        hours: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0u8..3, 0u8..4, 0u8..3, 20u8..40, 0u8..3).prop_map(|(user, anon, plan, age, email)| Op::Identify {
            user,
            anon,
            plan,
            age,
            email
        }),
        3 => (any::<bool>(), 0u8..4, any::<bool>(), 0u8..120, 0u16..100).prop_map(|(u, i, login, total, ago_h)| Op::Track {
            who: (u, i),
            login,
            total,
            ago_h
        }),
        1 => (0u8..4, any::<bool>()).prop_map(|(anon, ads)| Op::Consent { anon, ads }),
        1 => (0u8..4).prop_map(|anon| Op::Unmerge { anon }),
        1 => (0u16..80).prop_map(|hours| Op::Advance { hours }),
    ]
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut c = cdp();
    let mut now = at(0);
    for (i, op) in ops.iter().enumerate() {
        let mid = format!("m{i}");
        let ts = now.to_rfc3339();
        match op {
            Op::Identify {
                user,
                anon,
                plan,
                age,
                email,
            } => {
                let plan = ["pro", "free", "team"][*plan as usize];
                let email =
                    ["xavier@example.com", "ann@example.com", "bob@example.com"][*email as usize];
                c.ingest(&msg(
                    json!({"type": "identify", "messageId": mid, "userId": format!("u{user}"),
                    "anonymousId": format!("a{anon}"), "timestamp": ts,
                    "traits": {"plan": plan, "age": age, "email": email}}),
                    now,
                ))
                .unwrap();
            }
            Op::Track {
                who,
                login,
                total,
                ago_h,
            } => {
                let event = if *login { "Login" } else { "Order Completed" };
                let when = (now - TimeDelta::hours(i64::from(*ago_h))).max(at(-200 * 60));
                let mut m = json!({"type": "track", "messageId": mid, "event": event,
                    "timestamp": when.to_rfc3339(), "properties": {"total": total}});
                if who.0 {
                    m["userId"] = json!(format!("u{}", who.1 % 3));
                } else {
                    m["anonymousId"] = json!(format!("a{}", who.1));
                }
                c.ingest(&msg(m, now)).unwrap();
            }
            Op::Consent { anon, ads } => {
                c.ingest(&msg(
                    json!({"type": "track", "messageId": mid, "event": "Consent Changed",
                    "anonymousId": format!("a{anon}"), "timestamp": ts,
                    "context": {"consent": {"categoryPreferences": {"ads": ads}}}}),
                    now,
                ))
                .unwrap();
            }
            Op::Unmerge { anon } => {
                let _ = c.remove_identifier(&common::anon(&format!("a{anon}")));
            }
            Op::Advance { hours } => {
                now += TimeDelta::hours(i64::from(*hours));
                c.advance_time(now).unwrap();
                check_all(&c, now)?;
            }
        }
    }
    now += TimeDelta::hours(1);
    c.advance_time(now).unwrap();
    check_all(&c, now)?;
    // The history holds exactly the transitions produced, in order.
    let produced = c.take_transitions();
    let eng = c.audiences().unwrap();
    prop_assert_eq!(eng.history().collect::<Vec<_>>(), produced);
    prop_assert_eq!(eng.history_len(), eng.history().len());
    // The history replays to the current membership: per audience and profile,
    // transitions alternate, starting with an entry.
    let mut state: std::collections::BTreeMap<(String, ProfileId), bool> = Default::default();
    for t in eng.history() {
        let cur = state
            .entry((t.audience.clone(), t.profile.clone()))
            .or_default();
        prop_assert_eq!(*cur, t.kind == TransitionKind::Exited, "{:?}", t);
        *cur = t.kind == TransitionKind::Entered;
    }
    for ((a, p), member) in state {
        prop_assert_eq!(eng.is_member(&p, &a), member);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn incremental_equals_full_equals_reference(ops in proptest::collection::vec(op(), 1..40)) {
        WITH_COMPUTED.with(|w| w.set(true));
        run(&ops)?;
    }

    #[test]
    fn incremental_equals_full_equals_reference_with_event_timers_only(ops in proptest::collection::vec(op(), 1..40)) {
        WITH_COMPUTED.with(|w| w.set(false));
        run(&ops)?;
    }
}

#[test]
fn the_history_keeps_times_to_the_nanosecond_and_each_kind() {
    use stratum_cdp::segment::{AudienceEngine, AudienceSet};
    let set = AudienceSet::new(
        vec![
            AudienceDefinition::parse("pro", r#"plan = "pro""#).unwrap(),
            AudienceDefinition::parse("not_pro", r#"not plan = "pro""#).unwrap(),
        ],
        None,
    )
    .unwrap();
    let mut eng = AudienceEngine::new(set);
    let computed = ComputedTraits::default();
    let t1 = DateTime::from_timestamp(1_772_366_400, 123_456_789).unwrap();
    let t2 = DateTime::from_timestamp(-86_400 * 365 * 50, 999_999_999).unwrap();
    let mut p = Profile::new(ProfileId("p:1".into()));
    let mut produced = eng.evaluate(&p, &computed, t2);
    p.apply_traits(json!({"plan": "pro"}).as_object().unwrap(), t1, "m1");
    produced.extend(eng.evaluate(&p, &computed, t1));
    produced.extend(eng.remove(&p.id, t1));
    assert_eq!(produced.len(), 4, "{produced:?}");
    assert_eq!(eng.history().collect::<Vec<_>>(), produced);
    assert_eq!(produced[0].at, t2);
    assert_eq!(produced[1].at, t1);
}

#[test]
fn a_window_sliding_past_an_event_exits_only_on_advance_time() {
    let mut c = cdp();
    let now = at(0);
    for (i, h) in [(0, 2), (1, 1)] {
        c.ingest(&msg(
            json!({"type": "track", "messageId": format!("o{i}"), "userId": "u1",
            "event": "Order Completed", "timestamp": (now - TimeDelta::hours(h)).to_rfc3339(),
            "properties": {"total": 80}}),
            now,
        ))
        .unwrap();
    }
    let p = c.graph().profile_of(&user("u1")).unwrap();
    let eng = c.audiences().unwrap();
    assert!(eng.is_member(&p, "big_buyers"));
    let entered: Vec<_> = c
        .take_transitions()
        .into_iter()
        .filter(|t| t.audience == "big_buyers")
        .collect();
    assert_eq!(entered.len(), 1);
    assert_eq!(
        (entered[0].kind, entered[0].at),
        (TransitionKind::Entered, now)
    );
    // 3 days minus 2 hours later, the first order is still inside: no change
    let t1 = now + TimeDelta::hours(70) - TimeDelta::minutes(1);
    assert!(
        c.advance_time(t1)
            .unwrap()
            .iter()
            .all(|t| t.audience != "big_buyers")
    );
    // once it is 3 days old it leaves the window, and the profile exits at that time
    let t2 = now + TimeDelta::hours(70);
    let out = c.advance_time(t2).unwrap();
    let exits: Vec<_> = out.iter().filter(|t| t.audience == "big_buyers").collect();
    assert_eq!(exits.len(), 1);
    assert_eq!((exits[0].kind, exits[0].at), (TransitionKind::Exited, t2));
    // the clock never goes back
    assert_eq!(c.advance_time(now).unwrap_err().code(), "invalid_timestamp");
}

#[test]
fn transitions_are_segment_track_events() {
    let mut c = cdp();
    let now = at(0);
    c.ingest(&msg(
        json!({"type": "identify", "messageId": "i1", "userId": "u1",
        "timestamp": now.to_rfc3339(), "traits": {"plan": "pro"}}),
        now,
    ))
    .unwrap();
    let t = c
        .take_transitions()
        .into_iter()
        .find(|t| t.audience == "pro")
        .unwrap();
    let ev = t.to_track_event(Some("Pro plan"));
    let m = parse_message(ev.to_string().as_bytes(), now, &ParseConfig::default()).unwrap();
    assert_eq!(m.kind, MessageType::Track);
    assert_eq!(m.event.as_deref(), Some("Audience Entered"));
    assert_eq!(m.properties.map()["audience_key"], json!("pro"));
    assert_eq!(m.properties.map()["audience_name"], json!("Pro plan"));
    assert_eq!(m.timestamp, now);
    // a merge moves events and retires a profile: it exits what it was in
    c.ingest(&msg(
        json!({"type": "identify", "messageId": "i2", "anonymousId": "a1",
        "timestamp": now.to_rfc3339(), "traits": {"plan": "pro"}}),
        now,
    ))
    .unwrap();
    let anon_profile = c.graph().profile_of(&anon("a1")).unwrap();
    c.take_transitions();
    c.ingest(&msg(
        json!({"type": "identify", "messageId": "i3", "anonymousId": "a1", "userId": "u1",
        "timestamp": now.to_rfc3339()}),
        now,
    ))
    .unwrap();
    let out = c.take_transitions();
    assert!(out.iter().any(|t| t.profile == anon_profile
        && t.audience == "pro"
        && t.kind == TransitionKind::Exited));
}

#[test]
fn audiences_must_be_set_before_ingesting() {
    let mut c = Cdp::new(
        IdentityConfig::default(),
        TimeDelta::hours(1),
        InMemoryProfileStore::new(),
    )
    .unwrap();
    c.ingest(&msg(
        json!({"type": "identify", "messageId": "i1", "userId": "u1",
        "timestamp": at(0).to_rfc3339()}),
        at(0),
    ))
    .unwrap();
    let e = c.set_audiences(defs()).unwrap_err();
    assert_eq!(e.code(), "invalid_config");
    // computed-trait conditions must name a definition
    let mut c = Cdp::new(
        IdentityConfig::default(),
        TimeDelta::hours(1),
        InMemoryProfileStore::new(),
    )
    .unwrap();
    let e = c.set_audiences(defs()).unwrap_err();
    assert_eq!(e.code(), "unknown_name");
}

/// A profile whose next change moves with every event (each order slides the
/// window's end): the engine's schedule of due times is rebuilt many times over,
/// and the exit still comes exactly once, at the right time, on `advance_time`.
#[test]
fn a_due_time_rescheduled_many_times_exits_once() {
    use stratum_cdp::segment::{AudienceDefinition, AudienceEngine, AudienceSet, TransitionKind};
    let set = AudienceSet::new(
        vec![
            AudienceDefinition::parse("recent", r#"performed "Order Completed" within 1d"#)
                .unwrap(),
        ],
        None,
    )
    .unwrap();
    let mut engine = AudienceEngine::new(set);
    let computed = stratum_cdp::computed::ComputedTraits::default();
    let t0 = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 1, 0, 0, 0).unwrap();
    // Many profiles, each ordering again and again: every evaluation moves its due time.
    let profiles: Vec<Profile> = (0..20)
        .map(|i| Profile::new(ProfileId(format!("p{i}"))))
        .collect();
    let mut last = t0;
    for round in 0..200i64 {
        for (k, p) in profiles.iter().enumerate() {
            last = t0 + chrono::TimeDelta::minutes(round * 20 + k as i64);
            let e = stratum_cdp::computed::TraitEvent {
                name: Some("Order Completed".into()),
                timestamp: last,
                message_id: format!("m{round}-{k}"),
                properties: serde_json::Map::new(),
            };
            engine.record_event(&p.id, &e);
            let out = engine.evaluate(p, &computed, last);
            assert_eq!(out.len(), usize::from(round == 0), "{round} {k}");
        }
    }
    // Nothing is due before the last order of each profile is a day old.
    let early = engine
        .advance_time(last + chrono::TimeDelta::hours(23), &computed, |_| Ok(None))
        .unwrap();
    assert!(early.is_empty(), "{early:?}");
    let exits = engine
        .advance_time(last + chrono::TimeDelta::days(2), &computed, |_| Ok(None))
        .unwrap();
    assert_eq!(exits.len(), profiles.len());
    assert!(exits.iter().all(|t| t.kind == TransitionKind::Exited));
    let again = engine
        .advance_time(last + chrono::TimeDelta::days(3), &computed, |_| Ok(None))
        .unwrap();
    assert!(again.is_empty());
}
