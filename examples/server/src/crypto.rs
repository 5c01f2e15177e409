//! Encryption at rest of what must be kept raw: each event body in the log is
//! sealed with AES-256-GCM before it is written.
//!
//! Each sealed value has its own key, derived with HKDF-SHA-256 from a data key
//! and 32 random bytes (stored with the value), so no key ever encrypts twice and
//! nonces cannot repeat however many values are sealed. The tenant id and the
//! `messageId` are authenticated with the value (a body moved to another row does
//! not open). The stored form is `v1.<key id>.<base64(salt ‖ ciphertext ‖ tag)>`.
//!
//! Rotation: the data keys are a ring, the first one sealing new values and every
//! one opening the values sealed with it; add a new key in front and keep the old
//! ones for as long as values sealed with them are kept.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The key ring is malformed.
    #[error("invalid data keys: {0}")]
    Keys(String),
    /// The value was sealed with a key that is not in the ring.
    #[error("the value was sealed with data key {0:?}, which is not configured")]
    UnknownKey(String),
    /// The value is not a sealed value, or it was altered, or it belongs to
    /// another row.
    #[error("the value does not open: it is malformed, altered, or not this row's")]
    Corrupt,
    /// The OS random source failed.
    #[error("the operating system's random source failed")]
    Random,
}

const INFO: &[&[u8]] = &[b"stratum-server event body v1"];

/// The data keys: the first seals, all open.
#[derive(Clone)]
pub struct KeyRing {
    current: String,
    keys: HashMap<String, [u8; 32]>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl KeyRing {
    /// A ring from its text form: `id:base64key,id:base64key,...`, the first key
    /// sealing new values; each key 32 bytes, each id `[A-Za-z0-9_-]+`.
    ///
    /// # Errors
    /// [`CryptoError::Keys`] for a malformed ring.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut keys = HashMap::new();
        let mut current = None;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part
                .split_once(':')
                .ok_or_else(|| CryptoError::Keys("each key is `id:base64`".into()))?;
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(CryptoError::Keys(format!(
                    "key id {id:?} is not [A-Za-z0-9_-]+"
                )));
            }
            let bytes: [u8; 32] = STANDARD
                .decode(key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    CryptoError::Keys(format!("key {id:?} is not 32 bytes of base64"))
                })?;
            if keys.insert(id.to_owned(), bytes).is_some() {
                return Err(CryptoError::Keys(format!("key id {id:?} appears twice")));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or_else(|| CryptoError::Keys("no key".into()))?;
        Ok(Self { current, keys })
    }

    /// A new ring of one random key named `id`, in its text form.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate(id: &str) -> Result<String, CryptoError> {
        let key = crate::secrets::random_bytes::<32>().map_err(|_| CryptoError::Random)?;
        Ok(format!("{id}:{}", STANDARD.encode(key)))
    }

    /// The id of the key that seals.
    #[must_use]
    pub fn current(&self) -> &str {
        &self.current
    }

    fn cipher(key: &[u8; 32], salt: &[u8]) -> Result<LessSafeKey, CryptoError> {
        let prk = Salt::new(HKDF_SHA256, salt).extract(key);
        let okm = prk
            .expand(INFO, &AES_256_GCM)
            .map_err(|_| CryptoError::Corrupt)?;
        Ok(LessSafeKey::new(UnboundKey::from(okm)))
    }

    /// `plaintext` sealed with the current key, bound to `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, CryptoError> {
        let key = self.keys.get(&self.current).ok_or(CryptoError::Corrupt)?;
        let salt = crate::secrets::random_bytes::<32>().map_err(|_| CryptoError::Random)?;
        let cipher = Self::cipher(key, &salt)?;
        let mut data = plaintext.to_vec();
        // Each derived key seals exactly one value: a fixed nonce is safe.
        cipher
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(aad),
                &mut data,
            )
            .map_err(|_| CryptoError::Corrupt)?;
        let mut out = Vec::with_capacity(salt.len() + data.len());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&data);
        Ok(format!("v1.{}.{}", self.current, STANDARD.encode(out)))
    }

    /// The plaintext of a sealed value bound to `aad`.
    ///
    /// # Errors
    /// [`CryptoError::UnknownKey`] for a key not in the ring,
    /// [`CryptoError::Corrupt`] for anything that does not open.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Corrupt);
        };
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let raw = STANDARD.decode(b64).map_err(|_| CryptoError::Corrupt)?;
        if raw.len() < 32 + 16 {
            return Err(CryptoError::Corrupt);
        }
        let (salt, data) = raw.split_at(32);
        let cipher = Self::cipher(key, salt)?;
        let mut data = data.to_vec();
        let plain = cipher
            .open_in_place(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(aad),
                &mut data,
            )
            .map_err(|_| CryptoError::Corrupt)?;
        Ok(plain.to_vec())
    }
}

/// The authenticated data binding an event body to its row.
#[must_use]
pub fn event_aad(tenant_id: &str, message_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(tenant_id.len() + message_id.len() + 1);
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(message_id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ring(text: &str) -> KeyRing {
        KeyRing::parse(text).unwrap()
    }

    #[test]
    fn seal_open_tamper_rebind_and_rotate() {
        let k1 = KeyRing::generate("k1").unwrap();
        let k2 = KeyRing::generate("k2").unwrap();
        let old = ring(&k1);
        let aad = event_aad("t1", "m1");
        let sealed = old.seal(br#"{"email":"ann@example.com"}"#, &aad).unwrap();
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("ann@example.com"));
        assert_eq!(
            old.open(&sealed, &aad).unwrap(),
            br#"{"email":"ann@example.com"}"#
        );
        // Two seals of the same value differ (fresh salt, fresh key).
        assert_ne!(old.seal(b"x", &aad).unwrap(), old.seal(b"x", &aad).unwrap());

        // Another row's data, a flipped byte, a truncated value: nothing opens.
        assert_eq!(
            old.open(&sealed, &event_aad("t2", "m1")),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(
            old.open(&sealed, &event_aad("t1", "m2")),
            Err(CryptoError::Corrupt)
        );
        let mut raw = STANDARD.decode(&sealed[6..]).unwrap();
        raw[40] ^= 1;
        assert_eq!(
            old.open(&format!("v1.k1.{}", STANDARD.encode(&raw)), &aad),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(
            old.open(&sealed[..sealed.len() - 4], &aad),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(old.open("plain text", &aad), Err(CryptoError::Corrupt));

        // Rotation: k2 seals, k1 still opens what it sealed; without k1 it cannot.
        let rotated = ring(&format!("{k2},{k1}"));
        assert_eq!(rotated.current(), "k2");
        assert!(rotated.seal(b"y", &aad).unwrap().starts_with("v1.k2."));
        assert!(rotated.open(&sealed, &aad).is_ok());
        assert_eq!(
            ring(&k2).open(&sealed, &aad),
            Err(CryptoError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn malformed_rings_are_refused() {
        for bad in [
            "",
            "k1",
            "k1:notbase64!",
            "k1:AAAA",
            "bad id:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(
                matches!(KeyRing::parse(bad), Err(CryptoError::Keys(_))),
                "{bad:?}"
            );
        }
        let k = KeyRing::generate("a").unwrap();
        assert!(matches!(
            KeyRing::parse(&format!("{k},{k}")),
            Err(CryptoError::Keys(_))
        ));
    }
}
