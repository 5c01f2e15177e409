//! [`JsonObject`]: a JSON object kept exactly as the client wrote it.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object kept as the exact text the client sent — numbers keep every digit
/// (integers beyond 64 bits, long decimals), key order and escapes are untouched —
/// with a parsed view.
///
/// The parsed view ([`JsonObject::map`], or `Deref` to
/// `serde_json::Map<String, Value>`) is built on first use and kept; in it, numbers
/// beyond `i64`/`u64` become the nearest `f64`, as in any `serde_json::Value`.
/// [`JsonObject::json`] is always exact, and serialising a `JsonObject` with
/// `serde_json` writes that text unchanged. Until its view is used a `JsonObject`
/// costs little more than its text, which keeps a parsed batch close to the size of
/// its input.
///
/// ```
/// use stratum_cdp::message::JsonObject;
///
/// let o = JsonObject::from_json(r#"{"order_id": 18446744073709551617, "total": 0.1000000000000000055511}"#)?;
/// assert_eq!(o.json(), r#"{"order_id": 18446744073709551617, "total": 0.1000000000000000055511}"#);
/// assert_eq!(serde_json::to_string(&o)?, o.json());
/// assert_eq!(o["total"], 0.1); // the parsed view is an f64
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JsonObject {
    /// The text, validated as an object; empty for the `{}` of
    /// [`JsonObject::default`], which then costs no allocation.
    text: Box<str>,
    empty: bool,
    parsed: OnceLock<Map<String, Value>>,
}

impl JsonObject {
    /// The object written in `json`, kept as it is.
    ///
    /// # Errors
    /// A `serde_json` error when `json` is not valid JSON or not an object.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let raw: &RawValue = serde_json::from_str(json)?;
        Self::from_raw(raw.get())
    }

    /// The object `raw`, the text of one JSON value (validated, then kept).
    fn from_raw(raw: &str) -> Result<Self, serde_json::Error> {
        // Parsing validates what a lenient skip would let through (lone surrogates)
        // and checks that it is an object; the map is not kept.
        let map: Map<String, Value> = serde_json::from_str(raw)?;
        Ok(Self::validated(raw, map.is_empty()))
    }

    /// The object written in `text`, already validated as an object (that parses
    /// into a `serde_json::Map`, without surrounding whitespace) by the caller.
    pub(crate) fn validated(text: &str, empty: bool) -> Self {
        Self::validated_owned(text.into(), empty)
    }

    /// As [`JsonObject::validated`], taking the text.
    pub(crate) fn validated_owned(text: Box<str>, empty: bool) -> Self {
        JsonObject {
            text,
            empty,
            parsed: OnceLock::new(),
        }
    }

    /// The object's exact JSON text, as the client sent it (or as `serde_json`
    /// writes it for an object built from a map).
    #[must_use]
    pub fn json(&self) -> &str {
        if self.text.is_empty() {
            "{}"
        } else {
            &self.text
        }
    }

    /// The parsed view (built on first use).
    #[must_use]
    pub fn map(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| {
            // The text was validated as an object when this value was built.
            serde_json::from_str(self.json()).unwrap_or_default()
        })
    }

    /// The parsed view, owned.
    #[must_use]
    pub fn into_map(self) -> Map<String, Value> {
        let JsonObject { text, parsed, .. } = self;
        match parsed.into_inner() {
            Some(m) => m,
            None if text.is_empty() => Map::new(),
            None => serde_json::from_str(&text).unwrap_or_default(),
        }
    }

    /// Whether the object has no member (without parsing it).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.empty
    }
}

impl Default for JsonObject {
    /// `{}`.
    fn default() -> Self {
        Self::validated_owned(Box::default(), true)
    }
}

impl From<Map<String, Value>> for JsonObject {
    fn from(map: Map<String, Value>) -> Self {
        let empty = map.is_empty();
        // A `Value` always serialises (its numbers are finite, its keys strings).
        Self::validated_owned(Value::Object(map).to_string().into_boxed_str(), empty)
    }
}

impl Deref for JsonObject {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        self.map()
    }
}

impl PartialEq for JsonObject {
    /// Equal when the texts are equal.
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for JsonObject {
    /// The text as it is, through [`RawValue`] (which `serde_json` writes
    /// unchanged): finding the value's extent costs one skim of the text.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue =
            serde_json::from_str(self.json()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let map: Map<String, Value> =
            serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self::validated_owned(raw.into(), map.is_empty()))
    }
}
