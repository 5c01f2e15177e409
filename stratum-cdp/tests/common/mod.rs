//! Shared fixtures and proptest strategies.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::panic
)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use stratum_cdp::identity::{Identifier, IdentifierKind};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(minutes)
}

pub fn id(kind: IdentifierKind, v: &str) -> Identifier {
    Identifier::new(kind, v)
}

pub fn user(v: &str) -> Identifier {
    id(IdentifierKind::UserId, v)
}
pub fn anon(v: &str) -> Identifier {
    id(IdentifierKind::AnonymousId, v)
}
pub fn email(v: &str) -> Identifier {
    id(IdentifierKind::Email, v)
}

/// One generated event: message id, minute offset, identifiers.
#[derive(Debug, Clone)]
pub struct Ev {
    pub message_id: String,
    pub minute: i64,
    pub ids: Vec<Identifier>,
}

fn identifier() -> impl Strategy<Value = Identifier> {
    prop_oneof![
        (0u8..6).prop_map(|i| user(&format!("u{i}"))),
        (0u8..12).prop_map(|i| anon(&format!("a{i}"))),
        (0u8..8).prop_map(|i| email(&format!("e{i}@x.io"))),
        (0u8..4).prop_map(|i| id(IdentifierKind::DeviceId, &format!("d{i}"))),
        Just(anon("undefined")),
        Just(id(IdentifierKind::AdvertisingId, "0000-0000")),
    ]
}

/// Up to `n` events with unique message ids, 1–4 identifiers each, timestamps in a
/// small range so that ties happen.
pub fn events(n: usize) -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec((0i64..20, prop::collection::vec(identifier(), 1..4)), 1..n).prop_map(
        |v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (minute, ids))| Ev {
                    message_id: format!("m{i:03}"),
                    minute,
                    ids,
                })
                .collect()
        },
    )
}

/// `events` plus a permutation of them.
pub fn events_and_permutation(n: usize) -> impl Strategy<Value = (Vec<Ev>, Vec<Ev>)> {
    events(n).prop_flat_map(|evs| {
        let shuffled = Just(evs.clone()).prop_shuffle();
        (Just(evs), shuffled)
    })
}
