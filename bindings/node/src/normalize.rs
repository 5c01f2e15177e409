//! Normalisation and hashing per platform, EMQ, conversion and audience payloads
//! (`stratum-connectors` through the host-neutral surface).

use std::sync::Arc;

use chrono::Utc;
use napi::JsString;
use napi::bindgen_prelude::FromNapiValue;
use napi::bindgen_prelude::{Array, AsyncTask, Buffer, Either, Uint8Array};
use napi::{Env, Task, ValueType};
use napi_derive::napi;
use stratum_bindings::{ErrorReport, audience, emq, normalize as surface, payload};
use stratum_connectors::{Context, Field, FieldValue, NormalizerConfig, Platform};

use crate::conv::{Job, Json, de, guard, job, napi_err, ser};

fn platform(name: &str) -> Result<Platform, ErrorReport> {
    Ok(name.parse::<Platform>()?)
}

fn field(name: &str) -> Result<Field, ErrorReport> {
    Ok(name.parse::<Field>()?)
}

/// Options of `Normalizer.normalize`.
#[napi(object)]
pub struct NormalizeOptions {
    /// Take the value as raw text even when it looks like a digest.
    pub raw: Option<bool>,
    /// The person's country (ISO 3166-1 alpha-2), which decides how states and
    /// zips are checked.
    pub country: Option<String>,
}

/// Options of `Normalizer.normalizeList`.
#[napi(object)]
pub struct NormalizeListOptions {
    /// Take every value as raw text even when it looks like a digest.
    pub raw: Option<bool>,
}

/// The outcome of `Normalizer.normalizeList`, row for row: the value to send (or
/// `null`) and the warning code of a dropped row (or `null`).
#[napi(object, object_from_js = false)]
pub struct NormalizedList {
    /// The digest or normalised text per row; `null` for a dropped or `null` row.
    pub values: Vec<Option<String>>,
    /// The warning code per dropped row (`null` otherwise).
    #[napi(ts_type = "Array<WarningCode | null>")]
    pub warnings: Vec<Option<&'static str>>,
}

/// The per-platform normaliser: rules, hashing and the phone region.
#[napi]
pub struct Normalizer(pub(crate) Arc<stratum_connectors::Normalizer>);

#[napi]
impl Normalizer {
    /// A normaliser with `config` (its JSON form, e.g. `{"phone_region":
    /// {"default": "US"}}`).
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "NormalizerConfig")] config: Json) -> napi::Result<Self> {
        guard(|| {
            let config: NormalizerConfig = de(&config)?;
            Ok(Self(Arc::new(stratum_connectors::Normalizer::new(config)?)))
        })
    }

    /// Normalises (and hashes, where the platform wants a digest) one value of
    /// `field` for `platform`. A string is taken as raw text, or as a digest when it
    /// looks like one (unless `raw`); an object is the JSON form of a field value
    /// (`{"raw": ...}`, `{"hashed": {"hex": ...}}`, `{"date": "1990-02-01"}`).
    #[napi(ts_return_type = "NormalizeOutcome")]
    pub fn normalize(
        &self,
        #[napi(ts_arg_type = "Platform")] platform: String,
        #[napi(ts_arg_type = "Field")] field: String,
        #[napi(ts_arg_type = "string | FieldValue")] value: Either<String, Json>,
        options: Option<NormalizeOptions>,
    ) -> napi::Result<Json> {
        guard(|| {
            let (p, f) = (self::platform(&platform)?, self::field(&field)?);
            let raw = options.as_ref().and_then(|o| o.raw).unwrap_or(false);
            let v = match value {
                Either::A(s) if raw => FieldValue::Raw(s),
                Either::A(s) => FieldValue::Auto(s),
                Either::B(v) => de(&v)?,
            };
            let country = options.as_ref().and_then(|o| o.country.as_deref());
            // The host's day bounds birth dates unless the config fixes one.
            let today = Some(Utc::now().date_naive());
            let out = self.0.normalize_in(p, f, &v, Context { country, today });
            ser(&surface::NormalizeOutcome::from(out))
        })
    }

    /// Normalises a list of values of one field on every core, off the event loop.
    /// `values` is an array of strings (`null` rows stay `null`) or a `Buffer` of
    /// UTF-8 lines (one value per `\n`-separated line, no copy into JS strings).
    #[napi(ts_return_type = "Promise<NormalizedList>")]
    pub fn normalize_list(
        &self,
        #[napi(ts_arg_type = "Platform")] platform: String,
        #[napi(ts_arg_type = "Field")] field: String,
        #[napi(ts_arg_type = "Array<string | null> | Uint8Array")] values: Either<
            Array<'_>,
            napi::bindgen_prelude::Uint8Array,
        >,
        options: Option<NormalizeListOptions>,
    ) -> napi::Result<AsyncTask<ListJob>> {
        let (p, f) = guard(|| Ok((self::platform(&platform)?, self::field(&field)?)))?;
        let raw = options.and_then(|o| o.raw).unwrap_or(false);
        let rows = Self::rows_of(values)?;
        Ok(AsyncTask::new(ListJob {
            normalizer: Arc::clone(&self.0),
            platform: p,
            field: f,
            raw,
            rows: Some(rows),
        }))
    }

    /// Normalises and hashes a column of one hashed field (emails, phones, names,
    /// ...) into one buffer of fixed-width digests, on every core, off the event
    /// loop: no JS string per row on the way in (pass a `Buffer` of lines) nor on
    /// the way out.
    #[napi(ts_return_type = "Promise<HashedColumn>")]
    pub fn hash_column(
        &self,
        #[napi(ts_arg_type = "Platform")] platform: String,
        #[napi(ts_arg_type = "Field")] field: String,
        #[napi(ts_arg_type = "Array<string | null> | Uint8Array")] values: Either<
            Array<'_>,
            Uint8Array,
        >,
        options: Option<NormalizeListOptions>,
    ) -> napi::Result<AsyncTask<ColumnJob>> {
        let (p, f) = guard(|| Ok((self::platform(&platform)?, self::field(&field)?)))?;
        let raw = options.and_then(|o| o.raw).unwrap_or(false);
        let rows = Self::rows_of(values)?;
        Ok(AsyncTask::new(ColumnJob {
            normalizer: Arc::clone(&self.0),
            platform: p,
            field: f,
            raw,
            rows: Some(rows),
        }))
    }
}

impl Normalizer {
    fn rows_of(values: Either<Array<'_>, Uint8Array>) -> napi::Result<Rows> {
        Ok(match values {
            Either::A(arr) => Rows::Strings(strings(&arr)?),
            Either::B(buf) => Rows::Lines(buf.to_vec()),
        })
    }
}

/// Reads an array of strings (or `null`/`undefined` rows), refusing any string
/// that holds a lone UTF-16 surrogate (which a plain UTF-8 conversion would
/// silently replace with U+FFFD).
fn strings(arr: &Array<'_>) -> napi::Result<Vec<Option<String>>> {
    let n = arr.len();
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let Some(item) = arr.get::<napi::Unknown<'_>>(i)? else {
            out.push(None);
            continue;
        };
        match item.get_type()? {
            ValueType::Null | ValueType::Undefined => out.push(None),
            ValueType::String => {
                let s = JsString::from_unknown(item)?;
                let text = s.into_utf8()?.into_owned()?;
                if text.contains('\u{FFFD}') {
                    // Tell a real U+FFFD from a replaced lone surrogate.
                    let units = s.into_utf16()?;
                    if String::from_utf16(units.as_slice()).is_err() {
                        return Err(row_err(
                            i,
                            "holds a lone UTF-16 surrogate, which is not valid Unicode",
                        ));
                    }
                }
                out.push(Some(text));
            }
            other => {
                return Err(row_err(
                    i,
                    &format!("is a {other}; expected a string or null"),
                ));
            }
        }
    }
    Ok(out)
}

fn row_err(i: u32, what: &str) -> napi::Error {
    napi_err(&ErrorReport::new(
        "invalid_json",
        Some(&format!("values[{i}]")),
        format!("invalid input: values[{i}] {what}"),
    ))
}

enum Rows {
    Strings(Vec<Option<String>>),
    Lines(Vec<u8>),
}

/// The rows of a batch as text: an array's strings, or a buffer's lines.
fn row_refs(rows: Option<&Rows>) -> Result<Vec<Option<&str>>, ErrorReport> {
    match rows {
        Some(Rows::Strings(v)) => Ok(v.iter().map(Option::as_deref).collect()),
        Some(Rows::Lines(bytes)) => {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                ErrorReport::new(
                    "invalid_json",
                    Some("values"),
                    format!("invalid input: the buffer is not UTF-8 ({e})"),
                )
            })?;
            let body = text.strip_suffix('\n').unwrap_or(text);
            Ok(if body.is_empty() {
                Vec::new()
            } else {
                body.split('\n').map(Some).collect()
            })
        }
        None => Err(ErrorReport::internal("a task ran twice")),
    }
}

/// The outcome of `Normalizer.hashColumn`: every row's digest in one buffer.
#[napi(object, object_from_js = false)]
pub struct HashedColumn {
    /// Bytes per digest: 64 (hex) or 44 (base64, Google's option).
    pub width: u32,
    /// `rows × width` bytes of ASCII: row `i`'s digest at `i × width`, zeros where
    /// the row has none.
    pub digests: Buffer,
    /// 1 where the row has a digest, 0 where it was dropped or `null`.
    pub kept: Uint8Array,
    /// The dropped rows, with the warning code of each.
    pub dropped: Vec<DroppedRow>,
}

/// A row `Normalizer.hashColumn` dropped.
#[napi(object, object_from_js = false)]
pub struct DroppedRow {
    /// The row's index.
    pub index: u32,
    /// Why it was dropped.
    #[napi(ts_type = "WarningCode")]
    pub code: &'static str,
}

/// The work of `Normalizer.hashColumn`.
pub struct ColumnJob {
    normalizer: Arc<stratum_connectors::Normalizer>,
    platform: Platform,
    field: Field,
    raw: bool,
    rows: Option<Rows>,
}

type ColumnParts = (u32, Vec<u8>, Vec<u8>, Vec<DroppedRow>);

impl Task for ColumnJob {
    type Output = ColumnParts;
    type JsValue = HashedColumn;

    fn compute(&mut self) -> napi::Result<ColumnParts> {
        let rows = self.rows.take();
        guard(|| {
            let rows = row_refs(rows.as_ref())?;
            let (p, f) = (self.platform, self.field);
            let not_hashed = || {
                ErrorReport::config(
                    "field",
                    format!(
                        "invalid config: {p} does not send `{f}` as a fixed-width digest; use normalizeList"
                    ),
                )
            };
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            let column = self
                .normalizer
                .hash_column(p, f, &rows, !self.raw, threads)
                .ok_or_else(not_hashed)?;
            let width = u32::try_from(column.width()).map_err(|_| not_hashed())?;
            let (digests, kept, warnings) = column.into_parts();
            let dropped = warnings
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    let code = w.as_ref()?.as_str();
                    Some(DroppedRow {
                        index: u32::try_from(i).unwrap_or(u32::MAX),
                        code,
                    })
                })
                .collect();
            Ok((
                width,
                digests,
                kept.into_iter().map(u8::from).collect(),
                dropped,
            ))
        })
    }

    fn resolve(
        &mut self,
        _env: Env,
        (width, digests, kept, dropped): ColumnParts,
    ) -> napi::Result<HashedColumn> {
        Ok(HashedColumn {
            width,
            digests: digests.into(),
            kept: kept.into(),
            dropped,
        })
    }
}

/// The work of `Normalizer.normalizeList`.
pub struct ListJob {
    normalizer: Arc<stratum_connectors::Normalizer>,
    platform: Platform,
    field: Field,
    raw: bool,
    rows: Option<Rows>,
}

type ListParts = (Vec<Option<String>>, Vec<Option<&'static str>>);

impl Task for ListJob {
    type Output = ListParts;
    type JsValue = NormalizedList;

    fn compute(&mut self) -> napi::Result<ListParts> {
        let rows = self.rows.take();
        guard(|| {
            let rows = row_refs(rows.as_ref())?;
            let (p, f, detect) = (self.platform, self.field, !self.raw);
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            let parts = self
                .normalizer
                .normalize_chunked(&rows, threads, |n, chunk| {
                    let mut vs = Vec::with_capacity(chunk.len());
                    let mut ws = Vec::with_capacity(chunk.len());
                    for row in chunk {
                        match row.map(|text| n.normalize_str(p, f, text, detect)) {
                            Some(Ok(k)) => {
                                vs.push(Some(k.value));
                                ws.push(None);
                            }
                            Some(Err(w)) => {
                                vs.push(None);
                                ws.push(Some(w.code.as_str()));
                            }
                            None => {
                                vs.push(None);
                                ws.push(None);
                            }
                        }
                    }
                    (vs, ws)
                });
            let mut values = Vec::with_capacity(rows.len());
            let mut warnings = Vec::with_capacity(rows.len());
            for (vs, ws) in parts {
                values.extend(vs);
                warnings.extend(ws);
            }
            Ok((values, warnings))
        })
    }

    fn resolve(
        &mut self,
        _env: Env,
        (values, warnings): ListParts,
    ) -> napi::Result<NormalizedList> {
        Ok(NormalizedList { values, warnings })
    }
}

/// Lowercase hex SHA-256 of a string's UTF-8, as the platforms expect it.
#[napi]
pub fn sha256_hex(text: String) -> String {
    stratum_connectors::sha256_hex(&text)
}

/// Normalises every value of a surface request (`{"platform", "values": [{"field",
/// "value", "country"}], "today"}`); invalid values come back with a warning.
#[napi(
    ts_args_type = "normalizer: Normalizer, request: NormalizeRequest",
    ts_return_type = "NormalizeResponse"
)]
pub fn normalize_values(normalizer: &Normalizer, request: Json) -> napi::Result<Json> {
    guard(|| {
        let request: surface::NormalizeRequest = de(&request)?;
        ser(&surface::normalize(&normalizer.0, &request))
    })
}

/// The EMQ score of one event (`{"platform", "event": {"user", "event_id"}}`),
/// with each key's contribution.
#[napi(
    ts_args_type = "normalizer: Normalizer, request: EmqScoreRequest",
    ts_return_type = "EventScore"
)]
pub fn emq_score(normalizer: &Normalizer, request: Json) -> napi::Result<Json> {
    guard(|| {
        let request: emq::EmqScoreRequest = de(&request)?;
        ser(&emq::emq_score(&normalizer.0, &request))
    })
}

/// The EMQ report of a batch (`{"platform", "events", "options"}`): coverage per
/// key, the score distribution and ranked fixes; off the event loop.
#[napi(
    ts_args_type = "normalizer: Normalizer, request: EmqReportRequest",
    ts_return_type = "Promise<EmqReport>"
)]
pub fn emq_report(normalizer: &Normalizer, request: Json) -> AsyncTask<Job> {
    let n = Arc::clone(&normalizer.0);
    job(move || {
        let request: emq::EmqReportRequest = de(&request)?;
        ser(&emq::emq_report(&n, &request)?)
    })
}

/// The conversion-API request bodies of a platform (`{"platform", "now", "events",
/// "options"}`); rejected events come back as rows, not errors. Off the event loop.
#[napi(
    ts_args_type = "normalizer: Normalizer, request: PayloadRequest",
    ts_return_type = "Promise<Payloads>"
)]
pub fn build_payloads(normalizer: &Normalizer, request: Json) -> AsyncTask<Job> {
    let n = Arc::clone(&normalizer.0);
    job(move || {
        let request: payload::PayloadRequest = de(&request)?;
        payload::build_payloads(&n, &request)?
            .to_value()
            .and_then(|v| ser(&v))
    })
}

/// The audience-upload request bodies of a platform (`{"platform", "members",
/// "operation", "options"}`). Off the event loop.
#[napi(
    ts_args_type = "normalizer: Normalizer, request: AudienceRequest",
    ts_return_type = "Promise<Audience>"
)]
pub fn build_audience(normalizer: &Normalizer, request: Json) -> AsyncTask<Job> {
    let n = Arc::clone(&normalizer.0);
    job(move || {
        let request: audience::AudienceRequest = de(&request)?;
        audience::build_audience(&n, &request)?
            .to_value()
            .and_then(|v| ser(&v))
    })
}
