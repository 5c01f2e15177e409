//! Property tests of the payload builders: any valid event builds on every
//! platform without panicking, is accepted, and round-trips through JSON; any
//! member list splits into TikTok audience calls that keep every member once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use stratum_connectors::payload::audience::{self, Member};
use stratum_connectors::payload::google::{Destination, GoogleBuilder, OperatingAccount};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::payload::snapchat::SnapBuilder;
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder};
use stratum_connectors::{ConversionEvent, Field, FieldValue, from_json};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_events_build_everywhere(events in proptest::collection::vec(common::valid_event(), 1..8)) {
        let n = common::us();
        let now = common::now();
        let meta = MetaBuilder::new(&n).batch_size(3).unwrap().build(&events, now);
        prop_assert!(meta.rejected.is_empty(), "{:?}", meta.rejected);
        prop_assert_eq!(meta.requests.iter().map(|r| r.data.len()).sum::<usize>(), events.len());
        prop_assert!(meta.requests.iter().all(|r| r.data.len() <= 3));

        let google = GoogleBuilder::new(&n, vec![Destination {
            operating_account: OperatingAccount { account_type: "GOOGLE_ADS".into(), account_id: "1".into() },
            product_destination_id: "2".into(),
        }]).unwrap().build(&events, now);
        prop_assert!(google.rejected.is_empty(), "{:?}", google.rejected);
        for r in &google.requests {
            for e in &r.events {
                let ids = e.user_data.as_ref().map_or(0, |u| u.user_identifiers.len());
                prop_assert!(ids <= 10);
            }
        }

        let tiktok = TikTokBuilder::new(&n, EventSourceIds {
            web: Some("P".into()), app: Some("A".into()), offline: Some("O".into()),
        }).unwrap().build(&events, now);
        prop_assert!(tiktok.rejected.is_empty(), "{:?}", tiktok.rejected);
        prop_assert_eq!(tiktok.requests.iter().map(|r| r.data.len()).sum::<usize>(), events.len());

        let snap = SnapBuilder::new(&n).build(&events, now);
        prop_assert!(snap.rejected.is_empty(), "{:?}", snap.rejected);

        for body in [
            serde_json::to_string(&meta.requests).unwrap(),
            serde_json::to_string(&google.requests).unwrap(),
            serde_json::to_string(&tiktok.requests).unwrap(),
            serde_json::to_string(&snap.requests).unwrap(),
        ] {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
        }
    }

    #[test]
    fn events_round_trip_through_json(e in common::valid_event()) {
        let text = serde_json::to_string(&e).unwrap();
        let back: ConversionEvent = from_json(&text).unwrap();
        prop_assert_eq!(back, e);
    }

    #[test]
    fn tiktok_audience_calls_keep_every_member_once(
        members in proptest::collection::vec(
            (
                proptest::option::of(common::text()),
                proptest::option::of(common::text()),
                proptest::option::of(common::text()),
            ),
            0..12,
        ),
        batch in 1usize..5,
    ) {
        let n = common::us();
        let members: Vec<Member> = members
            .into_iter()
            .map(|(e, p, m)| {
                let mut member = Member::default();
                for (field, v) in [(Field::Email, e), (Field::Phone, p), (Field::MobileAdId, m)] {
                    if let Some(v) = v {
                        member = member.with(field, FieldValue::auto(v));
                    }
                }
                member
            })
            .collect();
        let target = audience::tiktok::Target {
            advertiser_ids: vec!["7000000000000000001".into()],
            audience_ids: vec!["1234567".into()],
            ad_id: audience::tiktok::AdIdKind::Idfa,
        };
        let built = audience::tiktok::build(
            &n,
            &target,
            audience::tiktok::Action::Add,
            &members,
            batch,
        )
        .unwrap();
        let sent: usize = built.requests.iter().map(|r| r.batch_data.len()).sum();
        prop_assert_eq!(sent + built.skipped.len(), members.len());
        for r in &built.requests {
            prop_assert!((1..=batch).contains(&r.batch_data.len()));
            prop_assert!(!r.id_schema.is_empty());
            for row in &r.batch_data {
                // One entry per schema type, at least one of them an identifier.
                prop_assert_eq!(row.len(), r.id_schema.len());
                prop_assert!(row.iter().any(|id| id.id.is_some()));
                for id in row {
                    match &id.id {
                        Some(h) => {
                            prop_assert_eq!(h.len(), 64);
                            prop_assert!(h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                            prop_assert_eq!(&id.audience_ids, &target.audience_ids);
                        }
                        None => prop_assert!(id.audience_ids.is_empty()),
                    }
                }
            }
        }
    }
}
