//! Conversions at the boundary: JS values ⇄ serde types (through the crates' one
//! `from_json` path), times, errors and Promises.
//!
//! Every error crosses as a napi error whose message is the surface's
//! [`ErrorReport`] as JSON behind [`MARK`]; `index.js` turns it into the
//! `StratumError` subclass of its code, with `.code` and `.field`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{
    AsyncTask, Either, FromNapiValue, Function, Object, ToNapiValue, TypeName, ValidateNapiValue,
    ValueType,
};
use napi::sys;
use napi::{Env, Task};
use napi::{JsString, JsValue, Unknown};
use serde::Serialize;
use serde::de::DeserializeOwned;
use stratum_bindings::ErrorReport;

/// The prefix of a native error message that carries an [`ErrorReport`].
pub(crate) const MARK: &str = "\u{1}stratum:";

/// A time argument: a JS `Date` or RFC 3339 text with an offset; absent means now.
pub(crate) type Time = Option<Either<DateTime<Utc>, String>>;

/// The napi error carrying `report`.
/// A `segment_syntax` report also carries its `line` and `column`.
pub(crate) fn napi_err(report: &ErrorReport) -> napi::Error {
    let mut doc = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    if let (Some((line, column)), Some(o)) = (report.position(), doc.as_object_mut()) {
        o.insert("line".to_owned(), line.into());
        o.insert("column".to_owned(), column.into());
    }
    let text = serde_json::to_string(&doc).unwrap_or_else(|_| report.message.clone());
    napi::Error::new(napi::Status::GenericFailure, format!("{MARK}{text}"))
}

/// Runs `f`, turning its report into a napi error and a panic into an `internal`
/// one (a panic never unwinds into Node).
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, ErrorReport>) -> napi::Result<T> {
    caught(f).map_err(|e| napi_err(&e))
}

/// Runs `f`, turning a panic into an `internal` report.
pub(crate) fn caught<T>(f: impl FnOnce() -> Result<T, ErrorReport>) -> Result<T, ErrorReport> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(ErrorReport::internal(format!(
            "internal error (please report it with the input): {detail}"
        )))
    })
}

/// A crate type from a plain JS object (its JSON form), with the crates' JSON paths
/// and validation errors.
pub(crate) fn de<T: DeserializeOwned>(value: &Json) -> Result<T, ErrorReport> {
    stratum_bindings::from_json(&value.0)
}

/// An optional crate type, its default when absent (`undefined` or `null`).
pub(crate) fn de_or_default<T: DeserializeOwned + Default>(
    value: Option<&Json>,
) -> Result<T, ErrorReport> {
    match value {
        None => Ok(T::default()),
        Some(Json(text)) if text == "null" => Ok(T::default()),
        Some(v) => de(v),
    }
}

/// `null`.
pub(crate) fn null() -> Json {
    Json("null".to_owned())
}

/// A serialisable value as a plain JS object.
pub(crate) fn ser<T: Serialize + ?Sized>(value: &T) -> Result<Json, ErrorReport> {
    serde_json::to_string(value)
        .map(Json)
        .map_err(|e| ErrorReport::internal(e.to_string()))
}

/// A point in time from a `Date` or RFC 3339 text (field `field` in errors).
pub(crate) fn time_arg(
    value: Option<Either<DateTime<Utc>, String>>,
    field: &str,
) -> Result<DateTime<Utc>, ErrorReport> {
    match value {
        None => Ok(Utc::now()),
        Some(Either::A(t)) => Ok(t),
        Some(Either::B(s)) => Ok(stratum_core::time::parse_rfc3339(field, &s)?),
    }
}

/// [`time_arg`] for an argument named `now`.
pub(crate) fn time(value: Time) -> Result<DateTime<Utc>, ErrorReport> {
    time_arg(value, "now")
}

/// Locks `m`; a poisoned lock (an earlier panic inside a call) is `internal`.
pub(crate) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, ErrorReport> {
    m.lock().map_err(|_| {
        ErrorReport::internal(
            "internal error: an earlier call on this object failed inside the native code and \
             may have left it inconsistent; create a new object (please report it with the input)",
        )
    })
}

/// A plain JS value in its JSON form (objects, arrays, strings, finite numbers,
/// booleans, `null`). It crosses the boundary as JSON text: V8's own
/// `JSON.stringify` on the way in (serde then reads the text with the crates' JSON
/// paths), `JSON.parse` on the way out. Measured faster than building or walking
/// the value property by property through Node-API (`docs/node.md`).
pub struct Json(pub(crate) String);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ValidateNapiValue for Json {}

/// `JSON[name]` of the current realm.
fn json_fn<'env>(
    env: &'env Env,
    name: &str,
) -> napi::Result<Function<'env, Unknown<'env>, Unknown<'env>>> {
    let global = env.get_global()?;
    let json: Object<'_> = global.get_named_property("JSON")?;
    json.get_named_property(name)
}

fn not_data() -> napi::Error {
    napi_err(&ErrorReport::new(
        "invalid_json",
        None,
        "invalid input: the value is not JSON data (undefined, a function or a symbol)",
    ))
}

// The only `unsafe` of the crate: napi hands the conversions a raw (env, value)
// pair, valid for the duration of the call.
impl FromNapiValue for Json {
    unsafe fn from_napi_value(env: sys::napi_env, napi_val: sys::napi_value) -> napi::Result<Self> {
        let env = Env::from_raw(env);
        // SAFETY: `napi_val` is the live argument napi is converting.
        let value = unsafe { Unknown::from_raw_unchecked(env.raw(), napi_val) };
        let text = json_fn(&env, "stringify")?.call(value)?;
        if text.get_type()? != ValueType::String {
            return Err(not_data());
        }
        Ok(Self(
            JsString::from_unknown(text)?.into_utf8()?.into_owned()?,
        ))
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let text = env.create_string(&val.0)?;
        let parsed = json_fn(&env, "parse")?.call(text.to_unknown())?;
        Ok(parsed.raw())
    }
}

/// Work run on the libuv thread pool, off the event loop; its Promise resolves to
/// the result or rejects with the typed error.
pub struct Job(Option<Box<dyn FnOnce() -> Result<Json, ErrorReport> + Send>>);

impl Task for Job {
    type Output = Json;
    type JsValue = Json;

    fn compute(&mut self) -> napi::Result<Json> {
        match self.0.take() {
            Some(f) => guard(f),
            None => Err(napi_err(&ErrorReport::internal("a task ran twice"))),
        }
    }

    fn resolve(&mut self, _env: Env, output: Json) -> napi::Result<Json> {
        Ok(output)
    }
}

/// A Promise of `f`'s result, computed off the event loop.
pub(crate) fn job(
    f: impl FnOnce() -> Result<Json, ErrorReport> + Send + 'static,
) -> AsyncTask<Job> {
    AsyncTask::new(Job(Some(Box::new(f))))
}
