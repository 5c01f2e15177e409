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
    raw: Box<RawValue>,
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
        Self::from_raw(raw)
    }

    /// The object `raw` (validated, then kept as text).
    pub(crate) fn from_raw(raw: &RawValue) -> Result<Self, serde_json::Error> {
        // Parsing validates what a lenient skip would let through (lone surrogates)
        // and checks that it is an object; the map is not kept.
        let map: Map<String, Value> = serde_json::from_str(raw.get())?;
        Ok(JsonObject {
            raw: raw.to_owned(),
            empty: map.is_empty(),
            parsed: OnceLock::new(),
        })
    }

    /// The object `raw`, already validated as an object by the caller.
    pub(crate) fn validated(raw: &RawValue, empty: bool) -> Self {
        JsonObject {
            raw: raw.to_owned(),
            empty,
            parsed: OnceLock::new(),
        }
    }

    /// The object's exact JSON text, as the client sent it (or as `serde_json`
    /// writes it for an object built from a map).
    #[must_use]
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The parsed view (built on first use).
    #[must_use]
    pub fn map(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| {
            // The text was validated as an object when this value was built.
            serde_json::from_str(self.raw.get()).unwrap_or_default()
        })
    }

    /// The parsed view, owned.
    #[must_use]
    pub fn into_map(self) -> Map<String, Value> {
        match self.parsed.into_inner() {
            Some(m) => m,
            None => serde_json::from_str(self.raw.get()).unwrap_or_default(),
        }
    }

    /// Whether the object has no member (without parsing it).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.empty
    }
}

impl Default for JsonObject {
    fn default() -> Self {
        Map::new().into()
    }
}

impl From<Map<String, Value>> for JsonObject {
    fn from(map: Map<String, Value>) -> Self {
        let text = Value::Object(map).to_string();
        let raw = RawValue::from_string(text)
            .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).unwrap_or_default());
        let parsed = OnceLock::new();
        let empty = raw.get() == "{}";
        JsonObject { raw, empty, parsed }
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
        self.raw.get() == other.raw.get()
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw.get())
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        JsonObject::from_raw(&raw).map_err(serde::de::Error::custom)
    }
}
