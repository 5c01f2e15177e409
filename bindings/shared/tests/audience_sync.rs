//! Audience sync: membership changes become platform upload bodies; only changes
//! after the first sync; consent gates uploads and withdrawal removes; replaying
//! the history gives the same membership; batches follow the platform limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use stratum_bindings::audience::AudienceOptions;
use stratum_bindings::audience_sync::{
    SyncConfig, SyncState, membership_from_history, sync_audience,
};
use stratum_cdp::identity::{IdentityConfig, ProfileId};
use stratum_cdp::message::{ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore};
use stratum_cdp::segment::AudienceDefinition;
use stratum_connectors::{Normalizer, NormalizerConfig, Platform};

// SHA-256 of the normalised emails (computed independently with Python's hashlib).
const ANN: &str = "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476";
const BOB: &str = "5ff860bf1190596c7188ab851db691f0f3169c453936e9e1eba2f9a47f7a0018";
const CAT: &str = "d2d66462631a2d1b0ca18e8b66dc594a58a1cdd569028e1d97f6be4ff0d5fb68";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn normalizer() -> Normalizer {
    Normalizer::new(NormalizerConfig::builder().build().unwrap()).unwrap()
}

struct World {
    cdp: Cdp,
    n: usize,
}

impl World {
    fn new() -> Self {
        let mut cdp = Cdp::new(
            IdentityConfig::default(),
            TimeDelta::hours(1),
            InMemoryProfileStore::new(),
        )
        .unwrap();
        cdp.set_audiences(vec![
            AudienceDefinition::parse("buyers", r#"performed "Order Completed""#).unwrap(),
        ])
        .unwrap();
        World { cdp, n: 0 }
    }
    fn send(&mut self, mut v: Value) {
        self.n += 1;
        v["messageId"] = json!(format!("m{}", self.n));
        v["timestamp"] = json!(now().to_rfc3339());
        let m = parse_message(v.to_string().as_bytes(), now(), &ParseConfig::default()).unwrap();
        self.cdp.ingest(&m).unwrap();
    }
    fn person(&mut self, user: &str, email: Option<&str>, consent: Option<bool>) {
        let mut v = json!({"type": "identify", "userId": user, "traits": {}});
        if let Some(e) = email {
            v["traits"]["email"] = json!(e);
        }
        if let Some(c) = consent {
            v["context"] = json!({"consent": {"categoryPreferences": {"advertising": c}}});
        }
        self.send(v);
        self.send(json!({"type": "track", "userId": user, "event": "Order Completed"}));
    }
    fn consent(&mut self, user: &str, granted: bool) {
        self.send(
            json!({"type": "track", "userId": user, "event": "Consent Updated",
            "context": {"consent": {"categoryPreferences": {"advertising": granted}}}}),
        );
    }
    fn pid(&self, user: &str) -> ProfileId {
        self.cdp
            .graph()
            .profile_of(&stratum_cdp::identity::Identifier::new(
                stratum_cdp::identity::IdentifierKind::UserId,
                user,
            ))
            .unwrap()
    }
    fn members(&self) -> BTreeSet<ProfileId> {
        self.cdp
            .audiences()
            .unwrap()
            .members("buyers")
            .into_iter()
            .collect()
    }
    fn sync(
        &self,
        config: &SyncConfig,
        state: &mut SyncState,
    ) -> stratum_bindings::audience_sync::SyncResult {
        sync_audience(&normalizer(), config, state, &self.members(), |id| {
            Ok(Some(
                self.cdp
                    .profile(id)
                    .map_err(stratum_bindings::ErrorReport::from)?,
            ))
        })
        .unwrap()
    }
}

fn bodies(a: &Option<stratum_bindings::audience::Audience>) -> String {
    a.as_ref()
        .map(|a| a.to_value().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn only_consenting_members_are_uploaded_and_only_changes_after_the_first_sync() {
    let mut w = World::new();
    w.person("u1", Some("  Ann@Example.com "), Some(true));
    w.person("u2", Some("bob@example.com"), None);
    w.person("u3", None, Some(true));
    let config = SyncConfig::new("buyers", Platform::Meta, AudienceOptions::default());
    let mut state = SyncState::default();

    let r = w.sync(&config, &mut state);
    assert!(r.full);
    assert_eq!(r.added, [w.pid("u1")]);
    assert_eq!(r.withheld, [w.pid("u2")]);
    assert_eq!(r.unmatched, [w.pid("u3")]);
    let add = bodies(&r.add);
    assert!(add.contains(ANN), "{add}");
    assert!(!add.contains(BOB));
    assert!(r.remove.is_none());

    // nothing changed: nothing is sent
    let r = w.sync(&config, &mut state);
    assert!(!r.full);
    assert!(r.add.is_none() && r.remove.is_none() && r.added.is_empty());

    // u2 grants consent: only u2 is added
    w.consent("u2", true);
    let r = w.sync(&config, &mut state);
    assert_eq!(r.added, [w.pid("u2")]);
    let add = bodies(&r.add);
    assert!(add.contains(BOB) && !add.contains(ANN), "{add}");

    // u1 withdraws consent: u1 is removed with the information that was uploaded
    w.consent("u1", false);
    let r = w.sync(&config, &mut state);
    assert_eq!(r.removed, [w.pid("u1")]);
    assert!(r.add.is_none());
    assert!(bodies(&r.remove).contains(ANN));
    assert_eq!(
        state.uploaded.keys().cloned().collect::<Vec<_>>(),
        [w.pid("u2")]
    );
}

#[test]
fn a_sync_replayed_from_the_history_is_the_same() {
    let mut w = World::new();
    w.person("u1", Some("ann@example.com"), Some(true));
    w.person("u2", Some("bob@example.com"), Some(true));
    w.person("u3", Some("cat@example.com"), Some(true));
    let history: Vec<_> = w.cdp.audiences().unwrap().history().collect();
    assert_eq!(membership_from_history(&history, "buyers"), w.members());
    let config = SyncConfig::new("buyers", Platform::Meta, AudienceOptions::default());
    let (mut live, mut replay) = (SyncState::default(), SyncState::default());
    let a = w.sync(&config, &mut live);
    let b = sync_audience(
        &normalizer(),
        &config,
        &mut replay,
        &membership_from_history(&history, "buyers"),
        |id| Ok(Some(w.cdp.profile(id).unwrap())),
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(live, replay);
    // replaying again sends nothing
    let again = sync_audience(
        &normalizer(),
        &config,
        &mut replay,
        &membership_from_history(&history, "buyers"),
        |id| Ok(Some(w.cdp.profile(id).unwrap())),
    )
    .unwrap();
    assert!(again.add.is_none() && again.remove.is_none());
}

#[test]
fn every_platform_gets_batched_hashed_bodies() {
    let mut w = World::new();
    for (u, e) in [
        ("u1", "ann@example.com"),
        ("u2", "bob@example.com"),
        ("u3", "cat@example.com"),
    ] {
        w.person(u, Some(e), Some(true));
    }
    let opts = |v: Value| serde_json::from_value::<AudienceOptions>(v).unwrap();
    let cases = [
        (Platform::Meta, opts(json!({"batch_size": 2}))),
        (
            Platform::Google,
            opts(
                json!({"batch_size": 2, "destinations": [{"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"}, "productDestinationId": "555"}]}),
            ),
        ),
        (
            Platform::TikTok,
            opts(json!({"batch_size": 2, "advertiser_ids": ["7"], "audience_ids": ["9"]})),
        ),
        (Platform::Snapchat, opts(json!({"batch_size": 2}))),
    ];
    for (platform, options) in cases {
        let config = SyncConfig::new("buyers", platform, options);
        let mut state = SyncState::default();
        let r = w.sync(&config, &mut state);
        let add = r.add.as_ref().unwrap();
        assert_eq!(add.request_texts().unwrap().len(), 2, "{platform}");
        let text = bodies(&r.add);
        for h in [ANN, BOB, CAT] {
            assert!(text.contains(h), "{platform}: {text}");
        }
        assert!(
            !text.contains("ann@example.com"),
            "{platform}: raw email sent"
        );
    }
    // an option of another platform is refused by name
    let config = SyncConfig::new(
        "buyers",
        Platform::Meta,
        opts(json!({"advertiser_ids": ["7"]})),
    );
    let e = sync_audience(
        &normalizer(),
        &config,
        &mut SyncState::default(),
        &w.members(),
        |id| Ok(Some(w.cdp.profile(id).unwrap())),
    )
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.field.as_deref()),
        ("invalid_config", Some("advertiser_ids"))
    );
}
