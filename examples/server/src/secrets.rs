//! Secrets: write keys and API keys (random from the OS, stored as a SHA-256,
//! compared in constant time) and passwords (Argon2id).
//!
//! Argon2 is slow and large on purpose (about 19 MiB per computation), so the
//! server never runs it on an async worker or without bound: every hash and
//! verification of a request goes through [`run_argon2`], which runs it on the
//! blocking pool behind a semaphore of [`argon2_limit`] permits (the machine's
//! parallelism). A request waiting for a permit holds no Argon2 memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a key opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ingest (`/v1/*`): a Segment write key.
    Write,
    /// The tenant's REST API (`/api/v1/*`).
    Api,
}

impl KeyKind {
    /// The stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Api => "api",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Write => "wk_",
            Self::Api => "ak_",
        }
    }
}

/// A failure of the operating system's random source.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

/// `n` random bytes from the operating system.
///
/// # Errors
/// When the OS random source fails.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| RandomError(e.to_string()))?;
    Ok(out)
}

/// A new key of `kind`: its prefix (`wk_` or `ak_`) and 32 random bytes, base64url.
///
/// # Errors
/// When the OS random source fails.
pub fn new_key(kind: KeyKind) -> Result<String, RandomError> {
    new_token(kind.prefix())
}

/// A new secret token: `prefix` and 32 random bytes, base64url.
///
/// # Errors
/// When the OS random source fails.
pub fn new_token(prefix: &str) -> Result<String, RandomError> {
    let bytes = random_bytes::<32>()?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A new random identifier (128 bits, hex).
///
/// # Errors
/// When the OS random source fails.
pub fn new_id() -> Result<String, RandomError> {
    Ok(hex(&random_bytes::<16>()?))
}

/// A new password for a first login: 18 random bytes, base64url (24 characters).
///
/// # Errors
/// When the OS random source fails.
pub fn new_password() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// The stored form of a key: hex SHA-256 (keys are long and random, so a fast
/// hash does not help a guesser).
#[must_use]
pub fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Whether two stored key hashes are equal, in constant time.
#[must_use]
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The first characters of a key, kept to tell keys apart in listings.
#[must_use]
pub fn display_prefix(key: &str) -> String {
    key.chars().take(10).collect()
}

/// A password's Argon2id hash (PHC string, random salt from the OS).
///
/// # Errors
/// When the OS random source fails or hashing fails.
pub fn hash_password(password: &str) -> Result<String, RandomError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e: password_hash::Error| RandomError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| RandomError(e.to_string()))
}

/// Whether `password` matches the stored Argon2 `hash` (false for a malformed hash).
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A failure of a bounded Argon2 computation.
#[derive(Debug, thiserror::Error)]
pub enum Argon2Error {
    /// The OS random source failed (hashing needs a salt).
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The computation's task panicked or was cancelled.
    #[error("the password computation did not finish: {0}")]
    Task(String),
}

/// How many Argon2 computations may run at once: the machine's parallelism.
#[must_use]
pub fn argon2_limit() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn argon2_permits() -> &'static Arc<tokio::sync::Semaphore> {
    static PERMITS: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(argon2_limit())))
}

/// Argon2 computations running now.
static ARGON2_RUNNING: AtomicUsize = AtomicUsize::new(0);
/// The most that ever ran at once.
static ARGON2_PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most Argon2 computations that ever ran at once in this process (never more
/// than [`argon2_limit`]).
#[must_use]
pub fn argon2_peak() -> usize {
    ARGON2_PEAK.load(Ordering::Relaxed)
}

/// Runs one Argon2 computation `f` on the blocking pool once one of
/// [`argon2_limit`] permits is free. The permit is held until `f` returns, even
/// when the caller stops waiting, so no more than the limit ever run at once.
///
/// # Errors
/// [`Argon2Error::Task`] when the task panicked or the runtime is shutting down.
pub async fn run_argon2<T, F>(f: F) -> Result<T, Argon2Error>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let permit = Arc::clone(argon2_permits())
        .acquire_owned()
        .await
        .map_err(|e| Argon2Error::Task(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let running = ARGON2_RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        ARGON2_PEAK.fetch_max(running, Ordering::SeqCst);
        let out = f();
        ARGON2_RUNNING.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        out
    })
    .await
    .map_err(|e| Argon2Error::Task(e.to_string()))
}

/// [`hash_password`] through [`run_argon2`].
///
/// # Errors
/// As [`hash_password`] and [`run_argon2`].
pub async fn hash_password_bounded(password: String) -> Result<String, Argon2Error> {
    Ok(run_argon2(move || hash_password(&password)).await??)
}

/// [`verify_password`] through [`run_argon2`]; false when the computation failed.
pub async fn verify_password_bounded(password: String, hash: String) -> bool {
    run_argon2(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hash_to_hex_sha256() {
        let a = new_key(KeyKind::Write).unwrap();
        let b = new_key(KeyKind::Write).unwrap();
        assert!(a.starts_with("wk_") && a.len() == 3 + 43, "{a}");
        assert_ne!(a, b);
        assert!(new_key(KeyKind::Api).unwrap().starts_with("ak_"));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_hash(&key_hash(&a), &key_hash(&a)));
        assert!(!same_hash(&key_hash(&a), &key_hash(&b)));
        assert!(!same_hash("ab", "abc"));
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    /// However many computations are asked for at once, at most `argon2_limit`
    /// run together, and every one completes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn argon2_runs_at_most_the_limit_at_once() {
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let limit = argon2_limit();
        let tasks: Vec<_> = (0..limit * 4 + 3)
            .map(|_| {
                tokio::spawn(run_argon2(|| {
                    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                    PEAK.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    RUNNING.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let peak = PEAK.load(Ordering::SeqCst);
        assert!(peak >= 1 && peak <= limit, "peak {peak}, limit {limit}");
        assert!(argon2_peak() <= limit);
        let h = hash_password_bounded("correct horse".to_owned())
            .await
            .unwrap();
        assert!(verify_password_bounded("correct horse".to_owned(), h.clone()).await);
        assert!(!verify_password_bounded("correct horsf".to_owned(), h).await);
    }
}
