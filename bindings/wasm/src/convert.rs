//! JavaScript values ↔ the surface's requests and responses, through their JSON
//! form: the argument is checked (see [`json_text`]), written with `JSON.stringify`
//! and read with the crates' one `from_json` (JSON path on shape errors, typed
//! validation errors); the response is written by serde and read back with
//! `JSON.parse`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use stratum_bindings::ErrorReport;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::js_error;

// The check runs in JavaScript: one walk of the argument, no call across the
// boundary per value. It returns `undefined`, or `[field, message]` for the first
// value `JSON.stringify` would silently change or drop. The rules and messages are
// those of the Node package (`bindings/node/index.js`, `check`), plus the values
// only JSON loses: invalid `Date`s and non-plain objects (a `Map`, a `Set`, a typed
// array, ...).
#[wasm_bindgen(inline_js = r#"
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = typeof String.prototype.isWellFormed === "function"
  ? (s) => s.isWellFormed() : (s) => !LONE.test(s);
const tagOf = (v) => Object.prototype.toString.call(v).slice(8, -1);
function walk(value, path, depth) {
  switch (typeof value) {
    case "string":
      return wellFormed(value) ? undefined
        : [path, `invalid text at ${path}: it holds a lone UTF-16 surrogate, which is not valid Unicode`];
    case "number":
      return Number.isFinite(value) ? undefined
        : [path, `invalid number at ${path}: ${value} is not a finite number`];
    case "bigint":
      return [path, `invalid number at ${path}: a BigInt is not accepted; pass a number or a decimal string`];
    case "function":
    case "symbol":
      return [path, `invalid value at ${path}: a ${typeof value} is not data`];
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return undefined;
  if (depth > 128) return [path, `invalid value at ${path}: nested more than 128 levels deep`];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === "string") {
        if (wellFormed(v)) continue;
      } else if (typeof v === "number") {
        if (Number.isFinite(v)) continue;
      } else if (v === null || typeof v === "boolean") {
        continue;
      } else if (v === undefined) {
        return [`${path}[${i}]`, `invalid value at ${path}[${i}]: undefined is not data; use null`];
      }
      const bad = walk(v, `${path}[${i}]`, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const tag = tagOf(value);
    if (tag === "Date") {
      return Number.isNaN(value.getTime())
        ? [path, `invalid time at ${path}: an invalid Date (its time is NaN); pass a valid Date or an RFC 3339 text`]
        : undefined;
    }
    // A value that writes its own JSON form (a Segment, ...).
    if (typeof value.toJSON === "function") return undefined;
    if (tag === "Number" || tag === "String" || tag === "Boolean") return walk(value.valueOf(), path, depth);
    // A class instance or another realm's plain object is written field by field;
    // anything else (Map, Set, typed arrays, RegExp, Error, ...) would be emptied.
    if (tag !== "Object") {
      return [path, `invalid value at ${path}: a ${tag} is not JSON data; pass a plain object, an array, a string, a number, a boolean or null`];
    }
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined || v === null || typeof v === "boolean") continue;
    if (typeof v === "string" && wellFormed(v)) continue;
    if (typeof v === "number" && Number.isFinite(v)) continue;
    const bad = walk(v, `${path}.${key}`, depth + 1);
    if (bad) return bad;
  }
  return undefined;
}
export function stratum_check(value, path) {
  return walk(value, path, 0);
}
"#)]
extern "C" {
    fn stratum_check(value: &JsValue, path: &str) -> JsValue;
}

/// The path of the (only) argument in error fields, as in the Node package.
const ARG: &str = "arguments[0]";

fn invalid(field: Option<&str>, message: impl Into<String>) -> JsValue {
    js_error(&ErrorReport::new("invalid_json", field, message))
}

/// Refuses a value JSON would silently change: non-finite numbers, invalid
/// `Date`s, `Map`s, `Set`s and other non-plain objects, lone surrogates,
/// `undefined` in arrays, functions, symbols, `BigInt`s; an `invalid_json` error
/// whose field is the value's path (`arguments[0].event.user`).
fn check(value: &JsValue) -> Result<(), JsValue> {
    let bad = stratum_check(value, ARG);
    if bad.is_undefined() {
        return Ok(());
    }
    let bad = js_sys::Array::from(&bad);
    let field = bad.get(0).as_string();
    Err(invalid(
        field.as_deref(),
        bad.get(1).as_string().unwrap_or_default(),
    ))
}

/// The JSON text of a JavaScript value (a plain object; a `Date` reads as its ISO
/// text), after [`check`].
pub(crate) fn json_text(value: &JsValue) -> Result<String, JsValue> {
    check(value)?;
    let text = js_sys::JSON::stringify(value).map_err(|e| {
        let why = js_sys::Error::from(e).message();
        invalid(
            None,
            format!("the argument cannot be read as JSON: {}", String::from(why)),
        )
    })?;
    text.as_string().ok_or_else(|| {
        invalid(
            None,
            "the argument is not a JSON value (undefined, a function or a symbol); pass a plain object",
        )
    })
}

/// A text argument: a string holding valid Unicode (no lone surrogate), or an
/// `invalid_json` error; `what` names what the text is.
pub(crate) fn text_arg(value: &JsValue, what: &str) -> Result<String, JsValue> {
    if !value.is_string() {
        let kind = value.js_typeof().as_string().unwrap_or_default();
        let kind = if value.is_null() {
            "null".to_owned()
        } else {
            kind
        };
        return Err(invalid(
            Some(ARG),
            format!("invalid value at {ARG}: expected a string ({what}), got {kind}"),
        ));
    }
    check(value)?;
    value
        .as_string()
        .ok_or_else(|| invalid(Some(ARG), format!("invalid text at {ARG}")))
}

/// Reads a request from a JavaScript value (a plain object; a `Date` reads as its
/// ISO text).
pub(crate) fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, JsValue> {
    let text = json_text(value)?;
    stratum_bindings::from_json(&text).map_err(|e| js_error(&e))
}

/// Writes a response as a plain JavaScript value.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| js_error(&ErrorReport::internal(e.to_string())))?;
    js_sys::JSON::parse(&text).map_err(|_| {
        js_error(&ErrorReport::internal(
            "a response could not be read back as JSON",
        ))
    })
}

/// A surface result as a JavaScript value or a thrown error.
pub(crate) fn respond<T: Serialize>(result: Result<T, ErrorReport>) -> Result<JsValue, JsValue> {
    match result {
        Ok(v) => to_js(&v),
        Err(e) => Err(js_error(&e)),
    }
}
