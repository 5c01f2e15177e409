//! Audience-upload payloads (PLATFORMS.md §4) from a list of members: Meta custom
//! audience users, Google Customer Match (Data Manager), TikTok segment mappings and
//! Snapchat customer-list segments.
//!
//! Members are hashed per platform rules by the [`Normalizer`]; invalid fields are
//! dropped with a [`FieldWarning`], members left without any identifier are
//! skipped (reported by index), and the rest are split at the per-call limit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::normalize::{FieldValue, FieldWarning, Normalizer};
use crate::platform::{Field, Platform};

/// One audience member: customer information per neutral field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Customer information per field.
    pub user: BTreeMap<Field, FieldValue>,
}

impl Member {
    /// A member with one field.
    #[must_use]
    pub fn with(mut self, field: Field, value: FieldValue) -> Self {
        self.user.insert(field, value);
        self
    }
}

/// The outcome of building audience requests.
///
/// Serialises as `{"requests", "skipped", "warnings"}`, each warning as
/// `{"index", "field", "code", "message"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct AudienceBuilt<R> {
    /// The requests, each within the per-call limit.
    pub requests: Vec<R>,
    /// Indices of members with no usable identifier (not sent).
    pub skipped: Vec<usize>,
    /// Dropped fields, by member index.
    pub warnings: Vec<(usize, FieldWarning)>,
}

impl<R: Serialize> Serialize for AudienceBuilt<R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        struct Row<'a>(usize, &'a FieldWarning);
        impl Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut out = s.serialize_struct("AudienceWarning", 4)?;
                out.serialize_field("index", &self.0)?;
                out.serialize_field("field", self.1.field.as_str())?;
                out.serialize_field("code", self.1.code.as_str())?;
                out.serialize_field("message", &self.1.message)?;
                out.end()
            }
        }

        let rows: Vec<Row<'_>> = self.warnings.iter().map(|(i, w)| Row(*i, w)).collect();
        let mut out = s.serialize_struct("AudienceBuilt", 3)?;
        out.serialize_field("requests", &self.requests)?;
        out.serialize_field("skipped", &self.skipped)?;
        out.serialize_field("warnings", &rows)?;
        out.end()
    }
}

/// Hashed (or, for raw keys, normalised) values of `fields` for one member.
#[cfg_attr(
    not(any(
        feature = "meta",
        feature = "google",
        feature = "tiktok",
        feature = "snapchat"
    )),
    allow(dead_code)
)]
fn keys(
    n: &Normalizer,
    platform: Platform,
    fields: &[Field],
    member: &Member,
    index: usize,
    warnings: &mut Vec<(usize, FieldWarning)>,
) -> Vec<Option<String>> {
    fields
        .iter()
        .map(|f| {
            let v = member.user.get(f)?;
            match n.normalize(platform, *f, v) {
                // D23: Meta's appendix names its library version, not the value; the
                // digest is the same without it.
                Ok(k) => Some(match k.value.split_once('.') {
                    Some((hash, _)) if k.origin == crate::Origin::PreHashed => hash.to_owned(),
                    _ => k.value,
                }),
                Err(w) => {
                    warnings.push((index, w));
                    None
                }
            }
        })
        .collect()
}

/// Meta custom audiences: `POST`/`DELETE /{audience_id}/users`.
#[cfg(feature = "meta")]
pub mod meta {
    use super::{AudienceBuilt, Member, keys};
    use crate::error::Result;
    use crate::normalize::Normalizer;
    use crate::payload::{check_batch_size, chunked};
    use crate::platform::{Field, Platform};
    use serde::Serialize;

    /// At most 10,000 records per call (platform docs).
    pub const MAX_RECORDS: usize = 10_000;

    /// The multi-key schema, in this order; columns no member of a request has are
    /// left out of that request.
    pub const SCHEMA: [(&str, Field); 10] = [
        ("EMAIL", Field::Email),
        ("PHONE", Field::Phone),
        ("FN", Field::FirstName),
        ("LN", Field::LastName),
        ("ZIP", Field::Zip),
        ("CT", Field::City),
        ("ST", Field::State),
        ("COUNTRY", Field::Country),
        ("GEN", Field::Gender),
        ("MADID", Field::MobileAdId),
    ];

    /// The body of one `/{audience_id}/users` call.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct MetaAudienceRequest {
        /// The records.
        pub payload: MetaAudiencePayload,
    }

    /// `payload`: one row per member, one column per schema key; `""` where a
    /// member lacks the key.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct MetaAudiencePayload {
        /// Column names.
        pub schema: Vec<&'static str>,
        /// Rows, at most [`MAX_RECORDS`].
        pub data: Vec<Vec<String>>,
    }

    /// Builds the calls for `members`, `batch_size` (1..=[`MAX_RECORDS`]) rows each.
    /// The same body serves `POST` (add) and `DELETE` (remove).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidConfig`] for a batch size outside 1..=10,000.
    pub fn build(
        n: &Normalizer,
        members: &[Member],
        batch_size: usize,
    ) -> Result<AudienceBuilt<MetaAudienceRequest>> {
        let size = check_batch_size(batch_size, MAX_RECORDS)?;
        let fields = SCHEMA.map(|(_, f)| f);
        let mut warnings = Vec::new();
        let mut skipped = Vec::new();
        let mut rows = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let row = keys(n, Platform::Meta, &fields, m, i, &mut warnings);
            if row.iter().all(Option::is_none) {
                skipped.push(i);
            } else {
                rows.push(row);
            }
        }
        let requests = chunked(rows, size, |chunk| {
            let used: Vec<usize> = (0..SCHEMA.len())
                .filter(|c| chunk.iter().any(|r| r[*c].is_some()))
                .collect();
            MetaAudienceRequest {
                payload: MetaAudiencePayload {
                    schema: used.iter().map(|c| SCHEMA[*c].0).collect(),
                    data: chunk
                        .into_iter()
                        .map(|mut r| {
                            used.iter()
                                .map(|c| r[*c].take().unwrap_or_default())
                                .collect()
                        })
                        .collect(),
                },
            }
        });
        Ok(AudienceBuilt {
            requests,
            skipped,
            warnings,
        })
    }
}

/// Snapchat customer lists: `POST`/`DELETE /v1/segments/{id}/users`.
#[cfg(feature = "snapchat")]
pub mod snapchat {
    use super::{AudienceBuilt, Member};
    use crate::error::Result;
    use crate::normalize::{Normalizer, sha256_hex};
    use crate::payload::{check_batch_size, chunked};
    use crate::platform::{Field, Platform};
    use serde::Serialize;

    /// At most 100,000 identifiers per call (third-party sources).
    pub const MAX_IDENTIFIERS: usize = 100_000;

    /// The body of one `/segments/{id}/users` call: one schema per request.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct SnapAudienceRequest {
        /// One entry.
        pub users: Vec<SnapUsers>,
    }

    /// `users[]`.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct SnapUsers {
        /// `EMAIL_SHA256`, `PHONE_SHA256` or `MOBILE_AD_ID_SHA256`.
        pub schema: [&'static str; 1],
        /// One single-element row per identifier.
        pub data: Vec<[String; 1]>,
    }

    /// Builds the calls for `members`: all emails, then all phones, then all
    /// mobile ad ids (hashed after lowercasing, D17), `batch_size`
    /// (1..=[`MAX_IDENTIFIERS`]) identifiers per call. The same body serves `POST`
    /// and `DELETE`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidConfig`] for a batch size outside 1..=100,000.
    pub fn build(
        n: &Normalizer,
        members: &[Member],
        batch_size: usize,
    ) -> Result<AudienceBuilt<SnapAudienceRequest>> {
        let size = check_batch_size(batch_size, MAX_IDENTIFIERS)?;
        let mut warnings = Vec::new();
        let mut columns: [Vec<[String; 1]>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        let mut skipped = Vec::new();
        let fields = [Field::Email, Field::Phone, Field::MobileAdId];
        for (i, m) in members.iter().enumerate() {
            let row = super::keys(n, Platform::Snapchat, &fields, m, i, &mut warnings);
            if row.iter().all(Option::is_none) {
                skipped.push(i);
            }
            for ((col, v), f) in columns.iter_mut().zip(row).zip(fields) {
                if let Some(v) = v {
                    // The event API sends madid raw; audiences hash it (D17).
                    let v = if f == Field::MobileAdId {
                        sha256_hex(&v)
                    } else {
                        v
                    };
                    col.push([v]);
                }
            }
        }
        let mut requests = Vec::new();
        for (schema, col) in ["EMAIL_SHA256", "PHONE_SHA256", "MOBILE_AD_ID_SHA256"]
            .into_iter()
            .zip(columns)
        {
            requests.extend(chunked(col, size, |data| SnapAudienceRequest {
                users: vec![SnapUsers {
                    schema: [schema],
                    data,
                }],
            }));
        }
        Ok(AudienceBuilt {
            requests,
            skipped,
            warnings,
        })
    }
}

/// Google Customer Match through Data Manager: `v1/audienceMembers:ingest` and
/// `:remove`.
#[cfg(feature = "google")]
pub mod google {
    use super::{AudienceBuilt, Member, keys};
    use crate::error::{Error, Result};
    use crate::normalize::{HashEncoding, Normalizer};
    use crate::payload::google::{AddressInfo, Destination, UserData, UserIdentifier};
    use crate::payload::{check_batch_size, chunked};
    use crate::platform::{Field, Platform};
    use serde::Serialize;

    /// At most 10,000 members per call, each with at most 10 identifiers (platform
    /// docs).
    pub const MAX_MEMBERS: usize = 10_000;

    /// The body of one `audienceMembers:ingest` (or `:remove`) call.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AudienceMembersRequest {
        /// The Customer Match lists.
        pub destinations: Vec<Destination>,
        /// The members, at most [`MAX_MEMBERS`].
        pub audience_members: Vec<AudienceMember>,
        /// `HEX` or `BASE64`, from the normaliser's configuration.
        pub encoding: &'static str,
    }

    /// One of `audienceMembers[]`.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AudienceMember {
        /// Hashed email, phone and address identifiers.
        pub user_data: UserData,
    }

    /// Builds the calls for `members`, `batch_size` (1..=[`MAX_MEMBERS`]) each.
    /// Members are hashed by Google's rules (Gmail dots and `+suffix` removed, `+`
    /// phones, names with inner spaces); an address is sent only with given name,
    /// family name, country and zip together.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty destination list or a batch size
    /// outside 1..=10,000.
    pub fn build(
        n: &Normalizer,
        destinations: &[Destination],
        members: &[Member],
        batch_size: usize,
    ) -> Result<AudienceBuilt<AudienceMembersRequest>> {
        let size = check_batch_size(batch_size, MAX_MEMBERS)?;
        if destinations.is_empty() {
            return Err(Error::config(
                "destinations",
                "is empty; at least one is required",
            ));
        }
        let fields = [
            Field::Email,
            Field::Phone,
            Field::FirstName,
            Field::LastName,
            Field::Country,
            Field::Zip,
        ];
        let mut warnings = Vec::new();
        let mut skipped = Vec::new();
        let mut out = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let mut row = keys(n, Platform::Google, &fields, m, i, &mut warnings).into_iter();
            let mut next = || row.next().flatten();
            let (email, phone) = (next(), next());
            let address = [next(), next(), next(), next()];
            let mut ids = Vec::with_capacity(3);
            if let Some(e) = email {
                ids.push(UserIdentifier::EmailAddress(e));
            }
            if let Some(p) = phone {
                ids.push(UserIdentifier::PhoneNumber(p));
            }
            if let [Some(g), Some(f), Some(r), Some(z)] = address {
                ids.push(UserIdentifier::Address(AddressInfo {
                    given_name: g,
                    family_name: f,
                    region_code: r,
                    postal_code: z,
                }));
            }
            if ids.is_empty() {
                skipped.push(i);
            } else {
                out.push(AudienceMember {
                    user_data: UserData {
                        user_identifiers: ids,
                    },
                });
            }
        }
        let encoding = match n.config().google_encoding() {
            HashEncoding::Hex => "HEX",
            HashEncoding::Base64 => "BASE64",
        };
        let requests = chunked(out, size, |audience_members| AudienceMembersRequest {
            destinations: destinations.to_vec(),
            audience_members,
            encoding,
        });
        Ok(AudienceBuilt {
            requests,
            skipped,
            warnings,
        })
    }
}

/// TikTok custom audiences: `POST open_api/v1.3/segment/mapping/`.
#[cfg(feature = "tiktok")]
pub mod tiktok {
    use super::{AudienceBuilt, Member, keys};
    use crate::error::{Error, Result};
    use crate::normalize::{Context, FieldWarning, Normalizer};
    use crate::payload::{check_batch_size, chunked};
    use crate::platform::{Field, FieldSpec, Platform, Rule};
    use serde::Serialize;

    /// At most 1,000 members per call: TikTok publishes no limit (D24).
    pub const MAX_RECORDS: usize = 1_000;

    /// `action`: whether the members join or leave the audiences.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        /// `add`.
        Add,
        /// `delete`.
        Delete,
    }

    impl Action {
        /// TikTok's name: `add` or `delete`.
        #[must_use]
        pub fn as_str(self) -> &'static str {
            match self {
                Self::Add => "add",
                Self::Delete => "delete",
            }
        }
    }

    /// Which kind of mobile advertising id the members' `mobile_ad_id` is.
    ///
    /// JSON and text: `"idfa"` or `"aaid"`.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AdIdKind {
        /// Apple's IDFA: `IDFA_SHA256`.
        #[default]
        Idfa,
        /// Google's advertising id: `AAID_SHA256`.
        Aaid,
    }

    impl std::fmt::Display for AdIdKind {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(match self {
                Self::Idfa => "idfa",
                Self::Aaid => "aaid",
            })
        }
    }

    /// Parses `"idfa"` or `"aaid"`.
    ///
    /// ```
    /// use stratum_connectors::payload::audience::tiktok::AdIdKind;
    /// assert_eq!("aaid".parse::<AdIdKind>(), Ok(AdIdKind::Aaid));
    /// assert_eq!("gaid".parse::<AdIdKind>().map_err(|e| e.code()), Err("invalid_config"));
    /// ```
    impl std::str::FromStr for AdIdKind {
        type Err = crate::Error;
        fn from_str(s: &str) -> crate::Result<Self> {
            match s {
                "idfa" => Ok(Self::Idfa),
                "aaid" => Ok(Self::Aaid),
                other => Err(crate::Error::config(
                    "ad_id",
                    format!("is {other:?}; expected \"idfa\" or \"aaid\""),
                )),
            }
        }
    }

    /// Where the members go.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Target {
        /// The advertiser accounts (`advertiser_ids`), at least one.
        pub advertiser_ids: Vec<String>,
        /// The audiences each identifier is added to or removed from, at least one.
        pub audience_ids: Vec<String>,
        /// The kind of the members' mobile ad ids.
        pub ad_id: AdIdKind,
    }

    /// The body of one `segment/mapping/` call.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct SegmentMappingRequest {
        /// The advertiser accounts.
        pub advertiser_ids: Vec<String>,
        /// `add` or `delete`.
        pub action: &'static str,
        /// The identifier types, in this order: `EMAIL_SHA256`, `PHONE_SHA256`, then
        /// `IDFA_SHA256` or `AAID_SHA256`; types no member of the request has are
        /// left out.
        pub id_schema: Vec<&'static str>,
        /// One entry per member, at most [`MAX_RECORDS`]; each lists one
        /// identifier per `id_schema` type, in that order.
        pub batch_data: Vec<Vec<SegmentId>>,
    }

    /// One identifier of a member; serialised as `{}` when the member lacks it.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct SegmentId {
        /// The SHA-256 of the normalised identifier, lowercase hex.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        /// The target audiences (empty when `id` is `None`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub audience_ids: Vec<String>,
    }

    /// Builds the calls for `members`, `batch_size` (1..=[`MAX_RECORDS`]) each.
    /// Emails and phones are hashed by TikTok's rules (lowercased emails, `+`
    /// E.164 phones); mobile ad ids are lowercased and hashed (D17).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a batch size outside 1..=1,000, or an empty
    /// or blank advertiser or audience id list.
    pub fn build(
        n: &Normalizer,
        target: &Target,
        action: Action,
        members: &[Member],
        batch_size: usize,
    ) -> Result<AudienceBuilt<SegmentMappingRequest>> {
        let size = check_batch_size(batch_size, MAX_RECORDS)?;
        for (name, ids) in [
            ("advertiser_ids", &target.advertiser_ids),
            ("audience_ids", &target.audience_ids),
        ] {
            if ids.is_empty() || ids.iter().any(|i| i.trim().is_empty()) {
                return Err(Error::config(
                    name,
                    "needs at least one id and no blank ids",
                ));
            }
        }
        let schema = [
            "EMAIL_SHA256",
            "PHONE_SHA256",
            match target.ad_id {
                AdIdKind::Idfa => "IDFA_SHA256",
                AdIdKind::Aaid => "AAID_SHA256",
            },
        ];
        let mut warnings = Vec::new();
        let mut skipped = Vec::new();
        let mut rows = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let mut row = keys(
                n,
                Platform::TikTok,
                &[Field::Email, Field::Phone],
                m,
                i,
                &mut warnings,
            );
            row.push(ad_id(n, m, i, &mut warnings));
            if row.iter().all(Option::is_none) {
                skipped.push(i);
            } else {
                rows.push(row);
            }
        }
        let audience_ids: Vec<String> = target
            .audience_ids
            .iter()
            .map(|a| a.trim().to_owned())
            .collect();
        let advertiser_ids: Vec<String> = target
            .advertiser_ids
            .iter()
            .map(|a| a.trim().to_owned())
            .collect();
        let requests = chunked(rows, size, |chunk| {
            let used: Vec<usize> = (0..schema.len())
                .filter(|c| chunk.iter().any(|r| r[*c].is_some()))
                .collect();
            SegmentMappingRequest {
                advertiser_ids: advertiser_ids.clone(),
                action: action.as_str(),
                id_schema: used.iter().map(|c| schema[*c]).collect(),
                batch_data: chunk
                    .into_iter()
                    .map(|mut r| {
                        used.iter()
                            .map(|c| match r[*c].take() {
                                Some(id) => SegmentId {
                                    id: Some(id),
                                    audience_ids: audience_ids.clone(),
                                },
                                None => SegmentId {
                                    id: None,
                                    audience_ids: Vec::new(),
                                },
                            })
                            .collect()
                    })
                    .collect(),
            }
        });
        Ok(AudienceBuilt {
            requests,
            skipped,
            warnings,
        })
    }

    /// The hashed mobile ad id: TikTok's event table leaves it out, audiences take
    /// its SHA-256 after lowercasing (D17).
    fn ad_id(
        n: &Normalizer,
        member: &Member,
        index: usize,
        warnings: &mut Vec<(usize, FieldWarning)>,
    ) -> Option<String> {
        let v = member.user.get(&Field::MobileAdId)?;
        let spec = FieldSpec::hashed("mobile_ad_id", Rule::MobileAdIdLower);
        match n.normalize_spec(
            Platform::TikTok,
            Field::MobileAdId,
            spec,
            v,
            Context::default(),
        ) {
            Ok(k) => Some(k.value),
            Err(w) => {
                warnings.push((index, w));
                None
            }
        }
    }
}
