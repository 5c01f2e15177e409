//! Segments and audiences for hosts: a segment read from either form (and
//! validated against a schema), the audiences of one person evaluated from their
//! messages, audiences evaluated over a table of profiles, and the views of a CDP's audiences every host returns (members at a
//! time, transitions as `Audience Entered` / `Audience Exited` events).
//!
//! A segment arrives as its text form (a string) or its JSON form (an object);
//! either way a bad one is a typed error (`segment_syntax` with the field
//! `line:column`, `unknown_name`, `type_mismatch`, `segment_limit`), never
//! `invalid_json`. The language is in `docs/segments.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::{IdentityConfig, ProfileId};
use stratum_cdp::message::{ParseConfig, parse_message};
use stratum_cdp::profile::{Cdp, InMemoryProfileStore, ProfileStore};
use stratum_cdp::segment::{
    AudienceDefinition, AudienceEngine, AudienceSet, Bitmap, Column, ProfileTable, Schema, Segment,
    Transition,
};

use crate::ErrorReport;

/// A segment in either form.
///
/// JSON: the text form as a string (`"plan = \"pro\""`) or the JSON form as an
/// object (`{"trait": {"name": "plan", "op": "eq", "value": {"string": "pro"}}}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SegmentInput {
    /// The text form.
    Text(String),
    /// The JSON form.
    Json(Value),
}

impl SegmentInput {
    /// The checked segment.
    ///
    /// # Errors
    /// `segment_syntax` (field `line:column`), `segment_limit`, `type_mismatch`,
    /// or `invalid_json` for a JSON form of the wrong shape.
    pub fn read(&self) -> Result<Segment, ErrorReport> {
        Ok(match self {
            Self::Text(text) => Segment::parse(text)?,
            Self::Json(doc) => Segment::from_json(&doc.to_string())?,
        })
    }
}

/// One audience as a host gives it.
///
/// JSON: `{"key": "repeat_buyers", "name": "Repeat buyers", "segment":
/// "performed \"Order Completed\" at least 2 times"}`, the segment in either form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    /// The stable key.
    pub key: String,
    /// A display name (the key when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The condition, in either form.
    pub segment: SegmentInput,
}

/// The audience definitions of `inputs`, each segment read with typed errors.
///
/// # Errors
/// The first segment's error ([`SegmentInput::read`]).
pub fn definitions(inputs: &[AudienceInput]) -> Result<Vec<AudienceDefinition>, ErrorReport> {
    inputs
        .iter()
        .map(|a| {
            Ok(AudienceDefinition {
                key: a.key.clone(),
                name: a.name.clone(),
                segment: a.segment.read()?,
            })
        })
        .collect()
}

/// Read a segment, optionally validating it against a schema.
///
/// JSON: `{"segment": "plan = \"pro\"", "schema": {"traits": {"plan": "string"}}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    /// The segment, in either form.
    pub segment: SegmentInput,
    /// The declared traits, events and computed traits (`docs/segments.md`);
    /// no validation of names when absent.
    #[serde(default)]
    pub schema: Option<Schema>,
}

/// A segment's two forms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentForms {
    /// The canonical text form (parses back to the same segment).
    pub text: String,
    /// The JSON form (the tree).
    pub json: Value,
}

impl SegmentForms {
    /// The forms of `segment`.
    ///
    /// # Errors
    /// `internal` if the tree cannot be written as JSON (a bug).
    pub fn of(segment: &Segment) -> Result<Self, ErrorReport> {
        Ok(SegmentForms {
            text: segment.to_text(),
            json: serde_json::to_value(segment.expr())
                .map_err(|e| ErrorReport::internal(e.to_string()))?,
        })
    }
}

/// Reads a segment from either form, validates it against the schema when one
/// is given, and returns its canonical text and JSON forms.
///
/// ```
/// use stratum_bindings::segment::{SegmentRequest, read_segment};
/// let request: SegmentRequest = serde_json::from_str(
///     r#"{"segment": "plan  =  'x'", "schema": {"traits": {"plan": "string"}}}"#,
/// )?;
/// let e = read_segment(&request).err();
/// assert_eq!(e.as_ref().map(|e| e.code.as_str()), Some("segment_syntax"));
/// assert_eq!(e.and_then(|e| e.position()), Some((1, 10)));
///
/// let request: SegmentRequest = serde_json::from_str(
///     r#"{"segment": {"trait": {"name": "plan", "op": "eq", "value": {"string": "pro"}}}}"#,
/// )?;
/// assert_eq!(read_segment(&request).map(|f| f.text).ok().as_deref(), Some(r#"plan = "pro""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The errors of [`SegmentInput::read`]; `unknown_name` (the closest declared
/// name in the message) and `type_mismatch` from the schema.
pub fn read_segment(request: &SegmentRequest) -> Result<SegmentForms, ErrorReport> {
    let segment = request.segment.read()?;
    if let Some(schema) = &request.schema {
        segment.validate(schema)?;
    }
    SegmentForms::of(&segment)
}

/// Evaluate the audiences of one person from their messages.
///
/// JSON: `{"audiences": [{"key", "name", "segment"}], "computed_traits": [...],
/// "messages": [{"type": "identify", ...}, {"type": "track", ...}], "now":
/// "2026-03-01T12:00:00Z"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    /// The audiences.
    pub audiences: Vec<AudienceInput>,
    /// Computed-trait definitions the segments may read (`docs/cdp.md`).
    #[serde(default)]
    pub computed_traits: ComputedTraits,
    /// The person's Segment-spec messages (`identify`, `track`, `page`, ...), in
    /// any order; each is parsed as received at `now`.
    pub messages: Vec<Value>,
    /// The evaluation time (windows end here).
    pub now: DateTime<Utc>,
}

/// One resolved profile's membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileMembership {
    /// The profile id.
    pub profile: ProfileId,
    /// Audience key → whether the profile is a member.
    pub audiences: BTreeMap<String, bool>,
}

/// The audiences of the profiles the messages resolved to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonAudiences {
    /// Each profile (sorted by id) with its membership of every audience. The
    /// messages of one person usually resolve to one profile; messages the
    /// identity graph cannot link give several.
    pub profiles: Vec<ProfileMembership>,
    /// Audience key → the member profiles, sorted.
    pub members: BTreeMap<String, Vec<ProfileId>>,
}

/// Evaluates the audiences of one person: a CDP in memory with the audiences and
/// computed traits, every message ingested (identity resolution, traits,
/// consent, events; duplicates by `messageId` dropped), then a full evaluation at
/// `now`. Nothing is kept, and nothing reads a clock.
///
/// ```
/// use stratum_bindings::segment::{PersonRequest, person_audiences};
/// let request: PersonRequest = serde_json::from_str(r#"{
///     "audiences": [{"key": "pro", "segment": "plan = \"pro\""},
///                   {"key": "buyers", "segment": "performed \"Order Completed\" within 7d"}],
///     "messages": [
///         {"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-2",
///          "timestamp": "2026-02-20T10:00:00Z"},
///         {"type": "identify", "userId": "u-1", "messageId": "m-1",
///          "timestamp": "2026-02-01T10:00:00Z", "traits": {"plan": "pro"}}
///     ],
///     "now": "2026-03-01T12:00:00Z"
/// }"#)?;
/// let out = person_audiences(&request).map_err(|e| e.message)?;
/// assert_eq!(out.profiles.len(), 1);
/// assert_eq!(out.profiles[0].audiences["pro"], true);
/// assert_eq!(out.profiles[0].audiences["buyers"], false); // the order is 9 days old
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A segment's errors; `unknown_name` for a computed trait or an audience that
/// is not defined, `segment_cycle`; a message's parse errors (`invalid_message`,
/// `missing_identity`, `invalid_timestamp`, ...), its index in the message.
pub fn person_audiences(request: &PersonRequest) -> Result<PersonAudiences, ErrorReport> {
    let mut cdp = Cdp::with_computed_traits(
        IdentityConfig::default(),
        chrono::TimeDelta::days(1),
        InMemoryProfileStore::new(),
        request.computed_traits.clone(),
    )?;
    cdp.set_audiences(definitions(&request.audiences)?)?;
    let config = ParseConfig::default();
    for (i, doc) in request.messages.iter().enumerate() {
        let message =
            parse_message(doc.to_string().as_bytes(), request.now, &config).map_err(|e| {
                let mut report = ErrorReport::from(e);
                report.message = format!("messages[{i}]: {}", report.message);
                report
            })?;
        cdp.ingest(&message)?;
    }
    let (ids, bits) = cdp.evaluate_audiences(request.now)?;
    let members = group(&cdp, &ids, bits);
    let mut profiles: BTreeMap<ProfileId, BTreeMap<String, bool>> = BTreeMap::new();
    for id in ids {
        let of = members
            .iter()
            .map(|(key, m)| (key.clone(), m.binary_search(&id).is_ok()))
            .collect();
        profiles.insert(id, of);
    }
    Ok(PersonAudiences {
        profiles: profiles
            .into_iter()
            .map(|(profile, audiences)| ProfileMembership { profile, audiences })
            .collect(),
        members,
    })
}

/// Full evaluation of every audience of `cdp` over its profiles at `now`
/// ([`Cdp::evaluate_audiences`]), membership unchanged: audience key → the
/// member profiles, sorted. Empty when no audiences are configured.
///
/// # Errors
/// Store errors.
pub fn members_at<S: ProfileStore>(
    cdp: &Cdp<S>,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<ProfileId>>, ErrorReport> {
    let (ids, bits) = cdp.evaluate_audiences(now)?;
    Ok(group(cdp, &ids, bits))
}

/// Audience key → the profiles of `ids` whose bit is set, sorted.
fn group<S: ProfileStore>(
    cdp: &Cdp<S>,
    ids: &[ProfileId],
    bits: Vec<Bitmap>,
) -> BTreeMap<String, Vec<ProfileId>> {
    let keys = cdp
        .audiences()
        .map(|a| a.audiences().plan().keys().to_vec())
        .unwrap_or_default();
    keys.into_iter()
        .zip(bits)
        .map(|(key, b)| {
            let mut m: Vec<ProfileId> = ids
                .iter()
                .enumerate()
                .filter(|(i, _)| b.get(*i))
                .map(|(_, p)| p.clone())
                .collect();
            m.sort();
            (key, m)
        })
        .collect()
}

/// `transitions` as Segment-spec `track` messages (`Audience Entered` /
/// `Audience Exited`, [`Transition::to_track_event`]), each with its audience's
/// display name from `engine`'s definitions.
#[must_use]
pub fn transition_events(
    engine: Option<&AudienceEngine>,
    transitions: &[Transition],
) -> Vec<Value> {
    let defs = engine.map(|e| e.audiences().definitions()).unwrap_or(&[]);
    transitions
        .iter()
        .map(|t| {
            let name = defs
                .iter()
                .find(|d| d.key == t.audience)
                .and_then(|d| d.name.as_deref());
            t.to_track_event(name)
        })
        .collect()
}

/// Evaluate audiences over a table of profiles, one row per profile.
///
/// JSON: `{"audiences": [{"key", "name", "segment"}], "computed_traits": [...],
/// "table": {"columns": {"plan": ["pro", null], "ltv": [150.5, 20]}, "computed":
/// {"orders_30d": "orders"}, "consent": {"advertising": "ads_ok"}}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRequest {
    /// The audiences.
    pub audiences: Vec<AudienceInput>,
    /// Computed-trait definitions: when given, computed-trait conditions must name
    /// one of them.
    #[serde(default)]
    pub computed_traits: Option<ComputedTraits>,
    /// The profiles.
    pub table: Table,
}

/// What a table column holds for an audience set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A trait's values.
    Trait,
    /// A computed trait's values.
    Computed,
    /// A consent category's preferences (booleans).
    Consent,
}

/// The columns a table must hold for `set`, in plan order: what each holds, the
/// trait, computed trait or consent category it holds it for, and the column's
/// name: a trait's own name; a computed trait's name unless `computed` maps it to
/// another column; `consent.<category>` unless `consent` maps it. Event conditions
/// read no column (evaluating a table refuses them by name).
#[must_use]
pub fn table_columns(
    set: &AudienceSet,
    computed: &BTreeMap<String, String>,
    consent: &BTreeMap<String, String>,
) -> Vec<(ColumnKind, String, String)> {
    set.inputs()
        .into_iter()
        .filter_map(|(kind, name)| {
            let (kind, column) = match kind {
                "trait" => (ColumnKind::Trait, name.clone()),
                "computed" => (
                    ColumnKind::Computed,
                    computed.get(&name).unwrap_or(&name).clone(),
                ),
                "consent" => (
                    ColumnKind::Consent,
                    consent
                        .get(&name)
                        .cloned()
                        .unwrap_or_else(|| format!("consent.{name}")),
                ),
                _ => return None,
            };
            Some((kind, name, column))
        })
        .collect()
}

/// A table of profiles as JSON columns, and which column holds each computed
/// trait and consent category.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Column name → one JSON value per row (`null` is missing). A trait condition
    /// reads the column of the trait's name.
    pub columns: BTreeMap<String, Vec<Value>>,
    /// Computed-trait name → column name (default: the trait's name).
    #[serde(default)]
    pub computed: BTreeMap<String, String>,
    /// Consent category → column name of booleans (default: `consent.<category>`).
    #[serde(default)]
    pub consent: BTreeMap<String, String>,
}

impl Table {
    /// The [`ProfileTable`] `set` reads: each trait, computed-trait and consent
    /// input from its column.
    ///
    /// # Errors
    /// `unknown_name` (kind `column`) for a missing column; `invalid_config` for
    /// columns of different lengths; `type_mismatch` for a consent column holding
    /// anything but booleans and `null`.
    pub fn profile_table(&self, set: &AudienceSet) -> Result<ProfileTable, ErrorReport> {
        let column = |name: &str| -> Result<&Vec<Value>, ErrorReport> {
            self.columns.get(name).ok_or_else(|| {
                ErrorReport::from(stratum_cdp::Error::UnknownName {
                    field: "columns".into(),
                    kind: "column",
                    name: name.to_owned(),
                    suggestion: None,
                })
            })
        };
        let json = |values: &Vec<Value>| {
            Column::Json(
                values
                    .iter()
                    .map(|v| (!v.is_null()).then(|| v.clone()))
                    .collect(),
            )
        };
        let rows = self.columns.values().map(Vec::len).max().unwrap_or(0);
        let mut table = ProfileTable::new(rows);
        for (kind, name, col) in table_columns(set, &self.computed, &self.consent) {
            match kind {
                ColumnKind::Trait => table.add_trait(&name, json(column(&col)?))?,
                ColumnKind::Computed => table.add_computed(&name, json(column(&col)?))?,
                ColumnKind::Consent => {
                    let values = column(&col)?
                        .iter()
                        .map(|v| match v {
                            Value::Null => Ok(None),
                            Value::Bool(b) => Ok(Some(*b)),
                            other => Err(ErrorReport::from(stratum_cdp::Error::TypeMismatch {
                                field: format!("columns.{col}"),
                                message: format!(
                                    "a consent column holds booleans (or null), not {other}"
                                ),
                            })),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    table.add_consent(&name, values)?;
                }
            }
        }
        Ok(table)
    }
}

/// Full evaluation of `set` over `table`: audience key → one membership per row.
///
/// # Errors
/// The errors of [`Table::profile_table`] and [`AudienceSet::evaluate`] (an event
/// condition cannot read a table: give its count as a computed-trait column).
pub fn evaluate_set(
    set: &AudienceSet,
    table: &Table,
) -> Result<BTreeMap<String, Vec<bool>>, ErrorReport> {
    let profiles = table.profile_table(set)?;
    let bits = set.evaluate(&profiles)?;
    Ok(set
        .plan()
        .keys()
        .iter()
        .zip(bits)
        .map(|(key, b)| (key.clone(), b.to_bools()))
        .collect())
}

/// Compiles the audiences of `request` and evaluates them over its table
/// (column by column, [`AudienceSet::evaluate`]): audience key → one membership
/// per row.
///
/// # Errors
/// A segment's errors, `segment_cycle`, `unknown_name`; the errors of
/// [`evaluate_set`].
pub fn evaluate_table(request: &TableRequest) -> Result<BTreeMap<String, Vec<bool>>, ErrorReport> {
    let set = AudienceSet::new(
        definitions(&request.audiences)?,
        request.computed_traits.as_ref(),
    )?;
    evaluate_set(&set, &request.table)
}
