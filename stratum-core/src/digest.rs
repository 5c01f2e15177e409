//! SHA-256 digests and the canonical binary encoding they are computed over.
//!
//! Config hashes, input digests and audit-record hashes are all SHA-256 over the
//! *canonical encoding* of a value: a compact, unambiguous binary form produced by
//! walking the value's `serde::Serialize` implementation. The encoding is specified
//! in `docs/audit.md` so that an independent verifier can re-implement it:
//!
//! | value | encoding |
//! |---|---|
//! | unit, `None` | `0x00` |
//! | `Some(v)` | `0x01` then `v` |
//! | bool | `0x00` / `0x01` |
//! | unsigned integer | LEB128 varint |
//! | signed integer | zig-zag, then LEB128 varint |
//! | float | `f64` bits, 8 bytes little-endian |
//! | string, bytes | varint length, then the UTF-8 / raw bytes |
//! | sequence, map | varint length, then the items (map: key, value) |
//! | struct | for each field present: varint field position, value; then `0xFF` |
//! | enum variant | varint variant index, then the content as above |
//! | timestamp | zig-zag varint seconds since the Unix epoch, varint nanoseconds |
//! | digest | varint length (32), then the 32 raw bytes |
//!
//! Field positions count fields skipped because they are empty, so adding a new
//! optional field at the end of a struct keeps every earlier hash valid.

use std::fmt;

use serde::ser::{self, Serialize};
use serde::{Deserialize, Deserializer, Serializer};

use crate::error::{Error, Result};

/// A SHA-256 digest. Serialises as 64 lowercase hex characters in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The all-zero digest, used as the `prev_hash` of the first audit record.
    pub const ZERO: Digest = Digest([0; 32]);

    /// The digest as 64 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        // Written by index into a fixed buffer: the loop has no bounds checks
        // and stays tight even where the crate is optimised for size (WASM).
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xF)];
        }
        // Always ASCII.
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }

    /// Parses 64 hex characters (either case).
    ///
    /// # Errors
    /// [`Error::InvalidJson`] when the text is not exactly 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let bytes = hex.as_bytes();
        let bad = || Error::InvalidJson {
            what: "Digest",
            field: None,
            message: format!("expected 64 hex characters, got {:?}", truncate(hex)),
        };
        if bytes.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or_else(bad)?;
            let lo = hex_val(pair[1]).ok_or_else(bad)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Digest(out))
    }

    /// SHA-256 of raw bytes.
    #[must_use]
    pub fn of_bytes(bytes: &[u8]) -> Self {
        sha256(bytes)
    }

    /// SHA-256 of the canonical encoding of `value` (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidJson`] only if `value`'s `Serialize` implementation itself
    /// fails; every type of this crate encodes infallibly.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        let mut buf = Vec::with_capacity(256);
        encode_into(value, &mut buf)?;
        Ok(sha256(&buf))
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// One-shot SHA-256.
///
/// On x86-64 CPUs with the SHA extensions, RustCrypto's `sha2` (which uses them)
/// hashes short inputs about 1.7 times as fast as ring; elsewhere ring's assembly
/// is the faster one. The feature check is a cached load.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn sha256(bytes: &[u8]) -> Digest {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sha") {
        return sha256_rustcrypto(bytes);
    }
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Digest(out)
}

/// One-shot SHA-256 with RustCrypto's `sha2` (hardware SHA where the CPU has it).
#[cfg(any(target_arch = "wasm32", target_arch = "x86_64"))]
fn sha256_rustcrypto(bytes: &[u8]) -> Digest {
    use sha2::Digest as _;
    Digest(sha2::Sha256::digest(bytes).into())
}

/// One-shot SHA-256 (RustCrypto on wasm32).
#[cfg(target_arch = "wasm32")]
pub(crate) fn sha256(bytes: &[u8]) -> Digest {
    sha256_rustcrypto(bytes)
}

/// Appends the canonical encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    value
        .serialize(&mut Encoder { out })
        .map_err(|e| Error::InvalidJson {
            what: "canonical encoding",
            field: None,
            message: e.0,
        })
}

/// Error raised by a `Serialize` implementation while encoding.
#[derive(Debug)]
pub(crate) struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

const STRUCT_END: u8 = 0xFF;

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    #[inline]
    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.out.extend_from_slice(b);
    }
}

/// Sequence state: a known length was written up front, or the items go to a
/// scratch buffer and are counted.
struct SeqEncoder<'a, 'b> {
    enc: &'b mut Encoder<'a>,
    scratch: Option<(Vec<u8>, u64)>,
}

impl SeqEncoder<'_, '_> {
    fn item<T: Serialize + ?Sized>(&mut self, v: &T) -> std::result::Result<(), EncodeError> {
        match &mut self.scratch {
            None => v.serialize(&mut *self.enc),
            Some((buf, n)) => {
                *n += 1;
                v.serialize(&mut Encoder { out: buf })
            }
        }
    }

    fn finish(self) {
        if let Some((buf, n)) = self.scratch {
            self.enc.varint(n);
            self.enc.out.extend_from_slice(&buf);
        }
    }
}

struct StructEncoder<'a, 'b> {
    enc: &'b mut Encoder<'a>,
    position: u64,
}

impl StructEncoder<'_, '_> {
    fn field<T: Serialize + ?Sized>(&mut self, v: &T) -> std::result::Result<(), EncodeError> {
        let p = self.position;
        self.position += 1;
        self.enc.varint(p);
        v.serialize(&mut *self.enc)
    }

    fn end(self) {
        self.enc.out.push(STRUCT_END);
    }
}

type R = std::result::Result<(), EncodeError>;

impl<'a, 'b> Serializer for &'b mut Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = SeqEncoder<'a, 'b>;
    type SerializeTuple = SeqEncoder<'a, 'b>;
    type SerializeTupleStruct = SeqEncoder<'a, 'b>;
    type SerializeTupleVariant = SeqEncoder<'a, 'b>;
    type SerializeMap = SeqEncoder<'a, 'b>;
    type SerializeStruct = StructEncoder<'a, 'b>;
    type SerializeStructVariant = StructEncoder<'a, 'b>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> R {
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.zigzag(i64::from(v));
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.zigzag(i64::from(v));
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.zigzag(i64::from(v));
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.zigzag(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.varint(u64::from(v));
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.varint(u64::from(v));
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.varint(u64::from(v));
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.varint(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.varint(u64::from(u32::from(v)));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.out.push(0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        self.out.push(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.out.push(0);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        self.out.push(0);
        Ok(())
    }
    fn serialize_unit_variant(self, _n: &'static str, idx: u32, _v: &'static str) -> R {
        self.varint(u64::from(idx));
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        idx: u32,
        _v: &'static str,
        value: &T,
    ) -> R {
        self.varint(u64::from(idx));
        value.serialize(self)
    }
    fn serialize_seq(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, EncodeError> {
        Ok(match len {
            Some(n) => {
                self.varint(n as u64);
                SeqEncoder {
                    enc: self,
                    scratch: None,
                }
            }
            None => SeqEncoder {
                enc: self,
                scratch: Some((Vec::new(), 0)),
            },
        })
    }
    fn serialize_tuple(
        self,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTuple, EncodeError> {
        Ok(SeqEncoder {
            enc: self,
            scratch: None,
        })
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, EncodeError> {
        Ok(SeqEncoder {
            enc: self,
            scratch: None,
        })
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        idx: u32,
        _v: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, EncodeError> {
        self.varint(u64::from(idx));
        Ok(SeqEncoder {
            enc: self,
            scratch: None,
        })
    }
    fn serialize_map(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, EncodeError> {
        self.serialize_seq(len)
    }
    fn serialize_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStruct, EncodeError> {
        Ok(StructEncoder {
            enc: self,
            position: 0,
        })
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        idx: u32,
        _v: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, EncodeError> {
        self.varint(u64::from(idx));
        Ok(StructEncoder {
            enc: self,
            position: 0,
        })
    }
}

impl ser::SerializeSeq for SeqEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.item(v)
    }
    fn end(self) -> R {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for SeqEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.item(v)
    }
    fn end(self) -> R {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for SeqEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.item(v)
    }
    fn end(self) -> R {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for SeqEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.item(v)
    }
    fn end(self) -> R {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeMap for SeqEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> R {
        self.item(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        // A map entry is one counted item: undo the count the key added.
        if let Some((_, n)) = &mut self.scratch {
            *n -= 1;
        }
        self.item(v)
    }
    fn end(self) -> R {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for StructEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, v: &T) -> R {
        self.field(v)
    }
    fn skip_field(&mut self, _key: &'static str) -> R {
        self.position += 1;
        Ok(())
    }
    fn end(self) -> R {
        StructEncoder::end(self);
        Ok(())
    }
}

impl ser::SerializeStructVariant for StructEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, v: &T) -> R {
        self.field(v)
    }
    fn skip_field(&mut self, _key: &'static str) -> R {
        self.position += 1;
        Ok(())
    }
    fn end(self) -> R {
        StructEncoder::end(self);
        Ok(())
    }
}

/// Serde adapter for `DateTime<Utc>` fields: RFC 3339 with nanoseconds in JSON,
/// seconds + nanoseconds in the canonical encoding.
pub(crate) mod ts {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        t: &DateTime<Utc>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        } else {
            s.serialize_newtype_struct("Timestamp", &(t.timestamp(), t.timestamp_subsec_nanos()))
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid RFC 3339 timestamp {s:?}: {e} (expected e.g. 2026-01-31T12:00:00Z)"
                ))
            })
    }

    /// The same for `Option<DateTime<Utc>>`.
    pub(crate) mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        struct W<'a>(&'a DateTime<Utc>);
        impl Serialize for W<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                super::serialize(self.0, s)
            }
        }

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&W(t)),
                None => s.serialize_none(),
            }
        }

        #[derive(Deserialize)]
        struct D(#[serde(with = "super")] DateTime<Utc>);

        pub(crate) fn deserialize<'de, De: Deserializer<'de>>(
            d: De,
        ) -> std::result::Result<Option<DateTime<Utc>>, De::Error> {
            Ok(Option::<D>::deserialize(d)?.map(|w| w.0))
        }
    }
}

/// A timestamp wrapper that serialises like the `ts` adapter (for hashing tuples).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ts(pub(crate) chrono::DateTime<chrono::Utc>);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        ts::serialize(&self.0, s)
    }
}

/// Serde adapter for durations as whole seconds (`chrono::TimeDelta`).
pub(crate) mod secs {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        d: &TimeDelta,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<TimeDelta, D::Error> {
        let v = i64::deserialize(d)?;
        TimeDelta::try_seconds(v).ok_or_else(|| {
            serde::de::Error::custom(format!("duration of {v} seconds is out of range"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vectors() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            Digest::of_bytes(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Digest::of_bytes(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[cfg(target_arch = "x86_64")]
    proptest::proptest! {
        #[test]
        fn both_backends_agree(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let ring = ring::digest::digest(&ring::digest::SHA256, &bytes);
            let (rustcrypto, chosen) = (sha256_rustcrypto(&bytes), sha256(&bytes));
            proptest::prop_assert_eq!(rustcrypto.0.as_slice(), ring.as_ref());
            proptest::prop_assert_eq!(chosen.0.as_slice(), ring.as_ref());
        }
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let d = Digest::of_bytes(b"stratum");
        assert_eq!(Digest::from_hex(&d.to_hex()).ok(), Some(d));
        assert_eq!(Digest::from_hex(&d.to_hex().to_uppercase()).ok(), Some(d));
        assert!(Digest::from_hex("abc").is_err());
        assert!(Digest::from_hex(&"g".repeat(64)).is_err());
    }

    #[derive(serde::Serialize)]
    struct Pair {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<u8>,
    }

    #[test]
    fn skipped_fields_keep_positions_distinct() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        encode_into(
            &Pair {
                a: Some(1),
                b: None,
            },
            &mut x,
        )
        .ok();
        encode_into(
            &Pair {
                a: None,
                b: Some(1),
            },
            &mut y,
        )
        .ok();
        assert_eq!(x, vec![0, 1, 1, STRUCT_END]);
        assert_eq!(y, vec![1, 1, 1, STRUCT_END]);
    }

    #[test]
    fn varints_and_strings() {
        let mut out = Vec::new();
        encode_into(&(300u64, -1i64, "hé"), &mut out).ok();
        assert_eq!(out, vec![0xAC, 0x02, 0x01, 3, b'h', 0xC3, 0xA9]);
    }
}
