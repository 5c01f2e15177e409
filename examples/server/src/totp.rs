//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA-1, 30-second
//! steps, 6 digits), as authenticator apps implement them, and the `otpauth://`
//! URI they scan.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step.
pub const STEP: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;

/// HOTP (RFC 4226 section 5.3): the `digits`-digit code of `counter`.
#[must_use]
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this cannot happen.
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let bin = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The code of the step holding `unix_seconds`.
#[must_use]
pub fn code_at(secret: &[u8], unix_seconds: u64) -> u32 {
    hotp(secret, unix_seconds / STEP, DIGITS)
}

/// Whether `code` (six digits) is the code of the current step or of the steps
/// just before and after it (clock drift), compared in constant time.
#[must_use]
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> bool {
    verify_step(secret, code, unix_seconds).is_some()
}

/// The step whose code `code` is, among the current step and the steps just
/// before and after it (clock drift), compared in constant time; `None` when it
/// is none of them. A verifier refuses a step it accepted already (RFC 6238
/// section 5.2), so it keeps the last step it accepted.
#[must_use]
pub fn verify_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    use subtle::ConditionallySelectable as _;
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = unix_seconds / STEP;
    let mut ok = subtle::Choice::from(0);
    let mut matched = 0u64;
    for counter in [step.saturating_sub(1), step, step.saturating_add(1)] {
        let expected = format!(
            "{:0width$}",
            hotp(secret, counter, DIGITS),
            width = DIGITS as usize
        );
        let this = expected.as_bytes().ct_eq(code.as_bytes());
        // The latest matching step, should two steps share a code.
        matched.conditional_assign(&counter, this);
        ok |= this;
    }
    bool::from(ok).then_some(matched)
}

/// RFC 4648 base32 without padding (the form authenticator apps take).
#[must_use]
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Bytes from RFC 4648 base32 (upper or lower case, padding and spaces ignored);
/// `None` for another character.
#[must_use]
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/...` URI of a secret (Google Authenticator's key-URI format).
#[must_use]
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits), secret "12345678901234567890".
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(hotp(secret, t / STEP, 8), code, "T = {t}");
        }
        // Six digits are the last six of the eight.
        assert_eq!(code_at(secret, 59), 287_082);
    }

    /// RFC 4226 appendix D: HOTP values for counters 0..9.
    #[test]
    fn rfc_4226_test_vectors() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), *code);
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_nothing_else() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = |t: u64| format!("{:06}", code_at(secret, t));
        assert!(verify(secret, &code(now), now));
        assert!(verify(secret, &code(now - STEP), now));
        assert!(verify(secret, &code(now + STEP), now));
        assert!(!verify(secret, &code(now - 2 * STEP), now));
        assert!(!verify(secret, &code(now + 2 * STEP), now));
        assert_eq!(verify_step(secret, &code(now), now), Some(now / STEP));
        assert_eq!(
            verify_step(secret, &code(now - STEP), now),
            Some(now / STEP - 1)
        );
        assert_eq!(
            verify_step(secret, &code(now + STEP), now),
            Some(now / STEP + 1)
        );
        assert_eq!(verify_step(secret, &code(now + 2 * STEP), now), None);
        for bad in ["", "12345", "1234567", "abcdef", " 12 34 "] {
            assert!(!verify(secret, bad, now), "{bad:?}");
        }
    }

    /// RFC 4648 section 10.
    #[test]
    fn base32_rfc_4648_vectors() {
        for (input, out) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(input.as_bytes()), out);
            assert_eq!(from_base32(out).as_deref(), Some(input.as_bytes()));
            assert_eq!(
                from_base32(&out.to_lowercase()).as_deref(),
                Some(input.as_bytes())
            );
        }
        assert_eq!(from_base32("MZXW6==="), Some(b"foo".to_vec()));
        assert_eq!(from_base32("MZ1W"), None);
        assert!(
            otpauth_uri("Stratum", "ann@example.com", b"foobar").starts_with(
                "otpauth://totp/Stratum:ann@example.com?secret=MZXW6YTBOI&issuer=Stratum"
            )
        );
    }
}
