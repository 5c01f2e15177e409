//! Compact JSON output, byte-for-byte what `serde_json::to_writer` writes, made
//! faster for request bodies.
//!
//! A platform request is mostly strings that need no escaping (hex and base64
//! digests, ids, names): this writer checks eight bytes at a time whether a
//! string needs escaping and copies it whole when it does not; strings that do
//! need escaping, and every number, are written by `serde_json` itself, so the
//! output is identical. The delivery module serialises request bodies with it.
//!
//! ```
//! use stratum_connectors::json;
//!
//! let value = serde_json::json!({"em": ["a1b2"], "n": 3, "q": "say \"hi\""});
//! let mut out = Vec::new();
//! json::to_writer(&mut out, &value)?;
//! assert_eq!(out, serde_json::to_vec(&value)?);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::ser::{self, Error as _, Serialize};

/// The error type: `serde_json`'s, from the value's own `Serialize` impl or an
/// unsupported map key.
pub type Error = serde_json::Error;

/// Appends the compact JSON of `value` to `out`.
///
/// # Errors
///
/// What the value's `Serialize` impl reports, a map key that is not a string,
/// number, boolean or character (as with `serde_json`), or a
/// `serde_json::value::RawValue` (not supported; use `serde_json` for those).
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// The compact JSON of `value`.
///
/// # Errors
///
/// As [`to_writer`].
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    to_writer(&mut out, value)?;
    Ok(out)
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The bytes of a word that are zero get their high bit set, others not (exact
/// as an any-test, bithacks' `haszero`).
const fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Whether a word holds a byte that JSON escapes: below 0x20 (bithacks'
/// `hasless(x, 0x20)`), `"` or `\`.
const fn has_escape(x: u64) -> bool {
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    control | zero_bytes(x ^ (ONES * b'"' as u64)) | zero_bytes(x ^ (ONES * b'\\' as u64)) != 0
}

/// Whether JSON needs an escape in `bytes`: a control character, `"` or `\`.
fn needs_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(w);
        if has_escape(u64::from_ne_bytes(buf)) {
            return true;
        }
    }
    let rest = words.remainder();
    let mut buf = [b'a'; 8];
    buf[..rest.len()].copy_from_slice(rest);
    has_escape(u64::from_ne_bytes(buf))
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    if needs_escape(s.as_bytes()) {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// A number or other scalar, written by `serde_json`.
fn write_scalar<T: Serialize>(out: &mut Vec<u8>, v: T) -> Result<(), Error> {
    serde_json::to_writer(&mut *out, &v)
}

const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// A sequence, map or struct in progress; `close` is written at the end (`]`,
/// `}`, or two of them for enum variants).
struct Compound<'w, 'a> {
    w: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.w.out.push(b',');
        }
    }

    fn finish(self) -> Result<(), Error> {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> Writer<'a> {
    fn open(&'w mut self, prefix: &[u8], close: &'static [u8]) -> Compound<'w, 'a> {
        self.out.extend_from_slice(prefix);
        Compound {
            w: self,
            first: true,
            close,
        }
    }

    /// `{"variant":` before the content of a tuple, newtype or struct variant.
    fn variant_key(&mut self, variant: &str) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant)?;
        self.out.push(b':');
        Ok(())
    }
}

macro_rules! scalars {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<(), Error> {
            write_scalar(self.out, v)
        })*
    };
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    scalars!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_f32: f32, serialize_f64: f64
    );

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        write_scalar(self.out, v)
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_key(variant)?;
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        Ok(self.open(b"[", b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.variant_key(variant)?;
        Ok(self.open(b"[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        Ok(self.open(b"{", b"}"))
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'w, 'a>, Error> {
        if name == RAW_VALUE_TOKEN {
            return Err(Error::custom(
                "serde_json's RawValue is not supported by this writer",
            ));
        }
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.variant_key(variant)?;
        Ok(self.open(b"{", b"}}"))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(MapKey { out: self.w.out })
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.comma();
        write_str(self.w.out, key)?;
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Map keys, as `serde_json` writes them: strings, and numbers, booleans and
/// characters in quotes; anything else is an error.
struct MapKey<'a> {
    out: &'a mut Vec<u8>,
}

impl MapKey<'_> {
    fn quoted<T: Serialize>(self, v: T) -> Result<(), Error> {
        self.out.push(b'"');
        write_scalar(self.out, v)?;
        self.out.push(b'"');
        Ok(())
    }
}

fn key_must_be_a_string() -> Error {
    Error::custom("key must be a string")
}

macro_rules! quoted_keys {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<(), Error> {
            self.quoted(v)
        })*
    };
}

macro_rules! float_keys {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<(), Error> {
            if v.is_finite() {
                self.quoted(v)
            } else {
                Err(Error::custom("float key must be finite"))
            }
        })*
    };
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    quoted_keys!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_bool: bool
    );
    float_keys!(serialize_f32: f32, serialize_f64: f64);

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::Value;

    use super::*;

    fn same<T: Serialize + ?Sized>(v: &T) {
        let ours = to_vec(v).map_err(|e| e.to_string());
        let theirs = serde_json::to_vec(v).map_err(|e| e.to_string());
        assert_eq!(
            ours.as_ref().map(|b| String::from_utf8_lossy(b)),
            theirs.as_ref().map(|b| String::from_utf8_lossy(b))
        );
    }

    #[test]
    fn the_escape_test_is_exact_for_every_byte_in_every_lane() {
        for b in 0u8..=255 {
            for lane in 0..11 {
                let mut bytes = vec![b'a'; 11];
                bytes[lane] = b;
                let expected = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(needs_escape(&bytes), expected, "byte {b:#x} at {lane}");
            }
        }
        // A byte just below 0x20 next to bytes of 0x80 and more (UTF-8).
        assert!(needs_escape("é\u{1f}é".as_bytes()));
        assert!(!needs_escape("ééééé \u{7f}".as_bytes()));
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<f64>, b: Vec<u8> },
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        A,
        B,
        C(u8),
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Wrapper(&'static str);

    #[test]
    fn every_serde_shape_matches_serde_json() {
        same(&Shape::Unit);
        same(&Shape::Newtype(7));
        same(&Shape::Tuple(-3, "x\"y".into()));
        same(&Shape::Struct {
            a: Some(0.1),
            b: vec![1, 2],
        });
        same(&Shape::Struct {
            a: Some(f64::NAN),
            b: vec![],
        });
        same(&(Unit, Wrapper("w"), 'c', '\n', (), None::<u8>, [0u8; 0]));
        same(&(i128::MIN, u128::MAX, f32::MIN_POSITIVE, 1e300_f64, -0.0_f64));
        same(serde_bytes_like(&[0, 255]));
        let unit_keys: BTreeMap<Key, u8> = [(Key::A, 1), (Key::B, 2)].into();
        same(&unit_keys);
        let ints: BTreeMap<i64, bool> = [(-1, true), (2, false)].into();
        same(&ints);
        let bools: BTreeMap<bool, u8> = [(true, 1)].into();
        same(&bools);
        let chars: BTreeMap<char, u8> = [('"', 1)].into();
        same(&chars);
        let floats: BTreeMap<String, BTreeMap<u8, f64>> =
            [("k".to_owned(), [(1, 1.5)].into())].into();
        same(&floats);
    }

    fn serde_bytes_like(b: &[u8]) -> &[u8] {
        b
    }

    #[test]
    fn unsupported_keys_fail_like_serde_json() {
        let seq_keys: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(to_vec(&seq_keys).is_err());
        assert!(serde_json::to_vec(&seq_keys).is_err());
        let nan_keys: BTreeMap<String, u8> = BTreeMap::new();
        same(&nan_keys);
        assert!(to_vec(&BTreeMap::from([(Key::C(1), 1)])).is_err());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[ -~\\x00-\\x1f\"\\\\é]{0,24}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_is_written_as_serde_json_writes_it(v in json_value()) {
            let ours = to_vec(&v).map_err(|e| e.to_string());
            let theirs = serde_json::to_vec(&v).map_err(|e| e.to_string());
            prop_assert_eq!(ours, theirs);
        }
    }
}
