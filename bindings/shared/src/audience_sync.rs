//! Audience sync: from an audience's membership (live, or replayed from its
//! history) to the platform audience-upload bodies of [`crate::audience`] — adds
//! and removes, batched, normalised and hashed by the connectors' rules.
//!
//! * The first sync uploads every consenting member; later syncs send only the
//!   changes since the previous one.
//! * Members whose latest consent for the configured category is not granted are
//!   never uploaded, and are removed when consent is withdrawn.
//! * A removal sends the customer information that was uploaded (kept in the
//!   [`SyncState`]), so a member removed after a merge or a trait change is still
//!   matched by the platform.
//! * A sync of the same membership twice sends nothing the second time, and
//!   [`membership_from_history`] rebuilds the membership from the transitions, so
//!   a sync can be replayed from the history with the same result.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use stratum_cdp::identity::ProfileId;
use stratum_cdp::profile::{Cdp, Profile, ProfileStore};
use stratum_cdp::segment::{Transition, TransitionKind};
use stratum_connectors::payload::audience::Member;
use stratum_connectors::{Field, FieldValue, Normalizer, Platform};

use crate::ErrorReport;
use crate::audience::{Audience, AudienceOptions, AudienceRequest, Operation, build_audience};

/// What to sync where.
///
/// JSON: `{"audience": "repeat_buyers", "platform": "meta", "options": {..},
/// "consent_category": "advertising", "fields": {"email": "email", ..}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// The audience key.
    pub audience: String,
    /// The platform.
    pub platform: Platform,
    /// The platform options (as for [`AudienceRequest`]).
    #[serde(default)]
    pub options: AudienceOptions,
    /// The consent category that allows ad uploads (default `advertising`).
    #[serde(default = "default_category")]
    pub consent_category: String,
    /// Neutral field → the profile trait that holds it (default: `email`,
    /// `phone`, `first_name`, `last_name`, `city`, `state`, `postal_code`,
    /// `country`, `external_id`).
    #[serde(default = "default_fields")]
    pub fields: BTreeMap<Field, String>,
}

fn default_category() -> String {
    "advertising".to_owned()
}

fn default_fields() -> BTreeMap<Field, String> {
    [
        (Field::Email, "email"),
        (Field::Phone, "phone"),
        (Field::FirstName, "first_name"),
        (Field::LastName, "last_name"),
        (Field::City, "city"),
        (Field::State, "state"),
        (Field::Zip, "postal_code"),
        (Field::Country, "country"),
        (Field::ExternalId, "external_id"),
    ]
    .into_iter()
    .map(|(f, t)| (f, t.to_owned()))
    .collect()
}

impl SyncConfig {
    /// A config with the default consent category and field mapping.
    #[must_use]
    pub fn new(audience: &str, platform: Platform, options: AudienceOptions) -> Self {
        SyncConfig {
            audience: audience.to_owned(),
            platform,
            options,
            consent_category: default_category(),
            fields: default_fields(),
        }
    }
}

/// What the platform holds after the syncs so far: each uploaded member with the
/// customer information sent for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Whether a first (full) sync happened.
    pub initialized: bool,
    /// Uploaded members.
    pub uploaded: BTreeMap<ProfileId, Member>,
}

/// The outcome of one sync.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncResult {
    /// Whether this was the first (full) sync.
    pub full: bool,
    /// Profiles added, in order of the add bodies' members.
    pub added: Vec<ProfileId>,
    /// Profiles removed, in order of the remove bodies' members.
    pub removed: Vec<ProfileId>,
    /// Members of the audience not uploaded for lack of consent.
    pub withheld: Vec<ProfileId>,
    /// Members of the audience with no customer information to upload.
    pub unmatched: Vec<ProfileId>,
    /// The add bodies (`None` when nothing is added).
    pub add: Option<Audience>,
    /// The remove bodies (`None` when nothing is removed).
    pub remove: Option<Audience>,
}

/// The membership of `audience` after `history` (transitions in order).
#[must_use]
pub fn membership_from_history<T: std::borrow::Borrow<Transition>>(
    history: impl IntoIterator<Item = T>,
    audience: &str,
) -> BTreeSet<ProfileId> {
    let mut out = BTreeSet::new();
    for t in history {
        let t = t.borrow();
        if t.audience != audience {
            continue;
        }
        match t.kind {
            TransitionKind::Entered => out.insert(t.profile.clone()),
            TransitionKind::Exited => out.remove(&t.profile),
        };
    }
    out
}

fn member_of(config: &SyncConfig, p: &Profile) -> Member {
    let mut m = Member::default();
    for (field, trait_name) in &config.fields {
        let text = match p.trait_value(trait_name) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        m.user.insert(*field, FieldValue::Auto(text));
    }
    m
}

/// Syncs `members` (the audience's current membership, or
/// [`membership_from_history`]) with what `state` says the platform holds; reads
/// each member's profile with `profile`. `state` is updated only when the bodies
/// are built.
///
/// # Errors
/// `invalid_config` for options the platform does not take (see
/// [`build_audience`]); `profile`'s errors.
pub fn sync_audience(
    normalizer: &Normalizer,
    config: &SyncConfig,
    state: &mut SyncState,
    members: &BTreeSet<ProfileId>,
    mut profile: impl FnMut(&ProfileId) -> Result<Option<Profile>, ErrorReport>,
) -> Result<SyncResult, ErrorReport> {
    let full = !state.initialized;
    let mut desired: BTreeMap<ProfileId, Member> = BTreeMap::new();
    let (mut withheld, mut unmatched) = (Vec::new(), Vec::new());
    for id in members {
        let Some(p) = profile(id)? else { continue };
        if p.consent_granted(&config.consent_category) != Some(true) {
            withheld.push(id.clone());
            continue;
        }
        let m = member_of(config, &p);
        if m.user.is_empty() {
            unmatched.push(id.clone());
            continue;
        }
        desired.insert(id.clone(), m);
    }
    // Adds: new members, and members whose information changed (re-sent; the
    // platforms treat an add of a present member as a no-op).
    let added: Vec<(ProfileId, Member)> = desired
        .iter()
        .filter(|(id, m)| state.uploaded.get(*id) != Some(*m))
        .map(|(id, m)| (id.clone(), m.clone()))
        .collect();
    let removed: Vec<(ProfileId, Member)> = state
        .uploaded
        .iter()
        .filter(|(id, _)| !desired.contains_key(*id))
        .map(|(id, m)| (id.clone(), m.clone()))
        .collect();
    let build =
        |op: Operation, list: &[(ProfileId, Member)]| -> Result<Option<Audience>, ErrorReport> {
            if list.is_empty() {
                return Ok(None);
            }
            let request = AudienceRequest {
                platform: config.platform,
                members: list.iter().map(|(_, m)| m.clone()).collect(),
                operation: op,
                options: config.options.clone(),
            };
            build_audience(normalizer, &request).map(Some)
        };
    let add = build(Operation::Add, &added)?;
    let remove = build(Operation::Remove, &removed)?;
    state.initialized = true;
    for (id, _) in &removed {
        state.uploaded.remove(id);
    }
    for (id, m) in &added {
        state.uploaded.insert(id.clone(), m.clone());
    }
    Ok(SyncResult {
        full,
        added: added.into_iter().map(|(id, _)| id).collect(),
        removed: removed.into_iter().map(|(id, _)| id).collect(),
        withheld,
        unmatched,
        add,
        remove,
    })
}

/// What [`sync_cdp_audience`] gives a host: the sync's result and the state to
/// pass to the next sync.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncOutcome {
    /// The bodies and the profiles added, removed, withheld and unmatched.
    pub result: SyncResult,
    /// What the platform holds now.
    pub state: SyncState,
}

/// Syncs audience `config.audience` of `cdp` ([`sync_audience`] with the CDP's
/// profiles): its current members, or with `from_history` its membership replayed
/// from the transitions ([`membership_from_history`]), since `state` (the
/// previous outcome's state; the default for a first, full sync).
///
/// # Errors
/// `unknown_name` when `cdp` has no audiences; the errors of [`sync_audience`].
pub fn sync_cdp_audience<S: ProfileStore>(
    normalizer: &Normalizer,
    cdp: &Cdp<S>,
    config: &SyncConfig,
    mut state: SyncState,
    from_history: bool,
) -> Result<SyncOutcome, ErrorReport> {
    let engine = cdp.audiences().ok_or_else(|| {
        ErrorReport::from(stratum_cdp::Error::UnknownName {
            field: "audience".into(),
            kind: "audience",
            name: config.audience.clone(),
            suggestion: None,
        })
    })?;
    let members: BTreeSet<ProfileId> = if from_history {
        membership_from_history(engine.history(), &config.audience)
    } else {
        engine.members(&config.audience).into_iter().collect()
    };
    let result = sync_audience(normalizer, config, &mut state, &members, |id| {
        cdp.store().get(id).map_err(ErrorReport::from)
    })?;
    Ok(SyncOutcome { result, state })
}
