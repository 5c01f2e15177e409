//! Audience-upload request bodies for every platform: one request type with the
//! options of each platform, one response type.

use serde::{Deserialize, Serialize};
use stratum_connectors::payload::audience::google::AudienceMembersRequest;
use stratum_connectors::payload::audience::meta::MetaAudienceRequest;
use stratum_connectors::payload::audience::snapchat::SnapAudienceRequest;
use stratum_connectors::payload::audience::tiktok::{
    Action, AdIdKind, SegmentMappingRequest, Target,
};
use stratum_connectors::payload::audience::{self as aud, AudienceBuilt, Member};
use stratum_connectors::payload::google::Destination;
use stratum_connectors::{Normalizer, Platform};

use crate::ErrorReport;

/// Whether the members join or leave the audience.
///
/// Text and JSON: `"add"` or `"remove"`.
///
/// ```
/// use stratum_bindings::audience::Operation;
/// assert_eq!("remove".parse::<Operation>().ok(), Some(Operation::Remove));
/// assert_eq!(Operation::Add.to_string(), "add");
/// let e = "delete".parse::<Operation>().err();
/// assert_eq!(e.and_then(|e| e.field), Some("operation".to_owned()));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The members join the audience.
    #[default]
    Add,
    /// The members leave the audience.
    Remove,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Add => "add",
            Self::Remove => "remove",
        })
    }
}

impl std::str::FromStr for Operation {
    type Err = ErrorReport;
    fn from_str(s: &str) -> Result<Self, ErrorReport> {
        match s {
            "add" => Ok(Self::Add),
            "remove" => Ok(Self::Remove),
            other => Err(ErrorReport::config(
                "operation",
                format!("is {other:?}; expected \"add\" or \"remove\""),
            )),
        }
    }
}

/// Build the audience-upload bodies of `platform` for `members`.
///
/// JSON: `{"platform": "meta", "members": [{"user": {"email": {"raw": ...}}}],
/// "operation": "add", "options": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceRequest {
    /// The platform whose API the bodies are for.
    pub platform: Platform,
    /// The members, each with customer information per neutral field.
    pub members: Vec<Member>,
    /// Add (default) or remove. Meta and Snapchat take the same body for both (the
    /// host sends it with `POST` or `DELETE`), Google at `audienceMembers:ingest` or
    /// `:remove`; TikTok names the action in the body.
    #[serde(default)]
    pub operation: Operation,
    /// Platform options.
    #[serde(default)]
    pub options: AudienceOptions,
}

/// The options of the audience builders. An option of another platform than the
/// request's is an error (`invalid_config` naming it, without the `options.`
/// prefix, as for [`PayloadOptions`](crate::payload::PayloadOptions)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceOptions {
    /// Members per request, at most the platform's limit (default: the limit:
    /// Meta and Google 10,000 records, TikTok 1,000, Snapchat 100,000 identifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Google (required): the audience destinations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Destination>,
    /// TikTok (required): the advertiser accounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advertiser_ids: Vec<String>,
    /// TikTok (required): the audiences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience_ids: Vec<String>,
    /// TikTok: the kind of the members' mobile ad ids (`idfa`, the default, or
    /// `aaid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_id: Option<AdIdKind>,
}

/// The outcome for one platform: serialises as `{"requests", "skipped",
/// "warnings"}` (see [`AudienceBuilt`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Audience {
    /// Meta custom audience `/{audience_id}/users`.
    Meta(AudienceBuilt<MetaAudienceRequest>),
    /// Google Data Manager `audienceMembers:ingest` / `:remove`.
    Google(AudienceBuilt<AudienceMembersRequest>),
    /// TikTok `segment/mapping/`.
    TikTok(AudienceBuilt<SegmentMappingRequest>),
    /// Snapchat `/segments/{id}/users`.
    Snapchat(AudienceBuilt<SnapAudienceRequest>),
}

impl Audience {
    /// Each request body as compact JSON text, ready to send.
    ///
    /// # Errors
    /// An [`INTERNAL`](crate::INTERNAL) report if a body cannot be serialised (a bug).
    pub fn request_texts(&self) -> Result<Vec<String>, ErrorReport> {
        match self {
            Self::Meta(b) => crate::payload::texts(&b.requests),
            Self::Google(b) => crate::payload::texts(&b.requests),
            Self::TikTok(b) => crate::payload::texts(&b.requests),
            Self::Snapchat(b) => crate::payload::texts(&b.requests),
        }
    }

    /// The response as a JSON value (the shape every host returns).
    ///
    /// # Errors
    /// An [`INTERNAL`](crate::INTERNAL) report if it cannot be serialised (a bug).
    pub fn to_value(&self) -> Result<serde_json::Value, ErrorReport> {
        serde_json::to_value(self).map_err(|e| ErrorReport::internal(e.to_string()))
    }
}

fn foreign(platform: Platform, option: &str, owner: &str) -> ErrorReport {
    ErrorReport::config(
        option,
        format!("is a {owner} option; {platform} does not take it"),
    )
}

/// Builds the audience-upload bodies of `request.platform`: values are normalised
/// and hashed by the platform's rules, invalid fields dropped with a warning,
/// members without any usable identifier skipped, the rest split at the per-call
/// limit.
///
/// # Errors
/// `invalid_config` naming the option (`batch_size`, `destinations`,
/// `advertiser_ids`, ...) when the request cannot be served.
pub fn build_audience(
    normalizer: &Normalizer,
    request: &AudienceRequest,
) -> Result<Audience, ErrorReport> {
    let p = request.platform;
    let o = &request.options;
    let members = &request.members;
    if p != Platform::Google && !o.destinations.is_empty() {
        return Err(foreign(p, "destinations", "google"));
    }
    if p != Platform::TikTok {
        if !o.advertiser_ids.is_empty() {
            return Err(foreign(p, "advertiser_ids", "tiktok"));
        }
        if !o.audience_ids.is_empty() {
            return Err(foreign(p, "audience_ids", "tiktok"));
        }
        if o.ad_id.is_some() {
            return Err(foreign(p, "ad_id", "tiktok"));
        }
    }
    let err = ErrorReport::from;
    match p {
        Platform::Meta => {
            let size = o.batch_size.unwrap_or(aud::meta::MAX_RECORDS);
            aud::meta::build(normalizer, members, size)
                .map(Audience::Meta)
                .map_err(err)
        }
        Platform::Google => {
            let size = o.batch_size.unwrap_or(aud::google::MAX_MEMBERS);
            aud::google::build(normalizer, &o.destinations, members, size)
                .map(Audience::Google)
                .map_err(err)
        }
        Platform::TikTok => {
            let target = Target {
                advertiser_ids: o.advertiser_ids.clone(),
                audience_ids: o.audience_ids.clone(),
                ad_id: o.ad_id.unwrap_or_default(),
            };
            let action = match request.operation {
                Operation::Add => Action::Add,
                Operation::Remove => Action::Delete,
            };
            let size = o.batch_size.unwrap_or(aud::tiktok::MAX_RECORDS);
            aud::tiktok::build(normalizer, &target, action, members, size)
                .map(Audience::TikTok)
                .map_err(err)
        }
        Platform::Snapchat => {
            let size = o.batch_size.unwrap_or(aud::snapchat::MAX_IDENTIFIERS);
            aud::snapchat::build(normalizer, members, size)
                .map(Audience::Snapchat)
                .map_err(err)
        }
        #[allow(unreachable_patterns)]
        other => Err(ErrorReport::config(
            "platform",
            format!("no audience builder for {other}"),
        )),
    }
}
