//! `stratum_cdp::segment`: segments (text and JSON forms, validation against a
//! schema), audiences evaluated over a table, and the one-person audience preview
//! of the surface; the CDP's incremental audiences are methods of `Cdp` (`cdp.rs`).

use napi::Either;
use napi_derive::napi;
use stratum_bindings::segment::{AudienceInput, PersonRequest, SegmentRequest, Table};
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::segment::{AudienceSet, Schema};

use crate::conv::{Json, de, de_or_default, guard, ser};

/// A checked segment condition: from the text form (`Segment.parse`) or the JSON
/// form (`Segment.fromJson`). `JSON.stringify` (and a `segment` of an audience
/// definition) writes its JSON form.
#[napi]
pub struct Segment(pub(crate) stratum_cdp::segment::Segment);

#[napi]
impl Segment {
    /// Parses the text form; a `SegmentSyntaxError` has `line` and `column`.
    #[napi(factory)]
    pub fn parse(text: String) -> napi::Result<Self> {
        guard(|| Ok(Self(stratum_cdp::segment::Segment::parse(&text)?)))
    }

    /// Reads the JSON form: a plain object, or JSON text (a JSON string holds the
    /// text form).
    #[napi(factory)]
    pub fn from_json(
        #[napi(ts_arg_type = "SegmentJson | string")] doc: Either<String, Json>,
    ) -> napi::Result<Self> {
        guard(|| {
            let text = match doc {
                Either::A(text) => text,
                Either::B(Json(text)) => text,
            };
            Ok(Self(stratum_cdp::segment::Segment::from_json(&text)?))
        })
    }

    /// The canonical text form (parses back to the same segment).
    #[napi]
    pub fn to_text(&self) -> String {
        self.0.to_text()
    }

    /// The canonical text form.
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> String {
        self.0.to_text()
    }

    /// The JSON form as a plain object.
    #[napi(ts_return_type = "SegmentJson")]
    pub fn to_json(&self) -> napi::Result<Json> {
        guard(|| ser(self.0.expr()))
    }

    /// The JSON form (`JSON.stringify` calls it).
    #[napi(js_name = "toJSON", ts_return_type = "SegmentJson")]
    pub fn to_json_js(&self) -> napi::Result<Json> {
        guard(|| ser(self.0.expr()))
    }

    /// Whether `other` is the same condition.
    #[napi]
    pub fn equals(&self, other: &Segment) -> bool {
        self.0 == other.0
    }

    /// Checks names and types against `schema`; an `UnknownNameError` suggests
    /// the closest declared name, a `TypeMismatchError` names the condition.
    #[napi]
    pub fn validate(
        &self,
        #[napi(ts_arg_type = "SegmentSchema")] schema: Json,
    ) -> napi::Result<()> {
        guard(|| {
            let schema: Schema = de(&schema)?;
            Ok(self.0.validate(&schema)?)
        })
    }
}

/// Reads a segment from either form (`request.segment`: text, or the JSON form),
/// validates it against `request.schema` when given, and returns the canonical
/// text and the JSON form.
#[napi(ts_return_type = "SegmentForms")]
pub fn read_segment(#[napi(ts_arg_type = "SegmentRequest")] request: Json) -> napi::Result<Json> {
    guard(|| {
        let request: SegmentRequest = de(&request)?;
        ser(&stratum_bindings::segment::read_segment(&request)?)
    })
}

/// The audiences of one person: their messages (any order) resolved and
/// evaluated at `request.now`, membership per audience per resolved profile.
/// Nothing is kept.
#[napi(ts_return_type = "PersonAudiences")]
pub fn person_audiences(
    #[napi(ts_arg_type = "PersonAudiencesRequest")] request: Json,
) -> napi::Result<Json> {
    guard(|| {
        let request: PersonRequest = de(&request)?;
        ser(&stratum_bindings::segment::person_audiences(&request)?)
    })
}

/// Audiences compiled together (`stratum_cdp::segment::AudienceSet`), evaluated
/// over a table of profiles given as columns.
#[napi]
pub struct Audiences(AudienceSet);

#[napi]
impl Audiences {
    /// Compiles `definitions` (`{key, name?, segment}`, the segment as text, its
    /// JSON form or a `Segment`); with `computedTraits`, computed-trait conditions
    /// must name one of them. Audiences that depend on each other are a
    /// `SegmentCycleError`.
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "AudienceDefinition[]")] definitions: Json,
        #[napi(ts_arg_type = "ComputedTraitDefinition[] | null")] computed_traits: Option<Json>,
    ) -> napi::Result<Self> {
        guard(|| {
            let inputs: Vec<AudienceInput> = de(&definitions)?;
            let defs = stratum_bindings::segment::definitions(&inputs)?;
            let computed: Option<ComputedTraits> = match computed_traits {
                None => None,
                Some(Json(text)) if text == "null" => None,
                Some(t) => Some(de_or_default(Some(&t))?),
            };
            Ok(Self(AudienceSet::new(defs, computed.as_ref())?))
        })
    }

    /// The audience keys, in order.
    #[napi]
    pub fn keys(&self) -> Vec<String> {
        self.0.plan().keys().to_vec()
    }

    /// Validates every segment against `schema` (audience references against
    /// this set).
    #[napi]
    pub fn validate(
        &self,
        #[napi(ts_arg_type = "SegmentSchema")] schema: Json,
    ) -> napi::Result<()> {
        guard(|| {
            let schema: Schema = de(&schema)?;
            Ok(self.0.validate(&schema)?)
        })
    }

    /// Full evaluation over `table` (`columns`: name → one value per row;
    /// `computed`: computed trait → column; `consent`: category → column of
    /// booleans, default `consent.<category>`): audience key → one membership per
    /// row.
    #[napi(ts_return_type = "Record<string, boolean[]>")]
    pub fn evaluate(
        &self,
        #[napi(ts_arg_type = "AudienceTable")] table: Json,
    ) -> napi::Result<Json> {
        guard(|| {
            let table: Table = de(&table)?;
            ser(&stratum_bindings::segment::evaluate_set(&self.0, &table)?)
        })
    }
}
