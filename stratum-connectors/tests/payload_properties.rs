//! Property tests of the payload builders: any valid event builds on every
//! platform without panicking, is accepted, and round-trips through JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use stratum_connectors::payload::google::{Destination, GoogleBuilder, OperatingAccount};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::payload::snapchat::SnapBuilder;
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder};
use stratum_connectors::{ConversionEvent, from_json};

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
}
