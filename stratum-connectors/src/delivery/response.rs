//! Reading the platforms' answers: error bodies and what to retry (D21).

use serde_json::Value;

use crate::platform::Platform;

/// TikTok's body `code` for "throttled" (retried).
pub const TIKTOK_THROTTLED: i64 = 40100;

/// A platform's reason for refusing a request, from its error body.
///
/// Which fields are set depends on the platform: Meta `error.message`, `code`,
/// `error_subcode`, `fbtrace_id`; Google `error.status`, `message`, `code`;
/// TikTok `code`, `message`, `request_id`; Snapchat `status`, `reason`. A body that is
/// not the platform's JSON leaves all but `message` empty, and `message` holds
/// its first 200 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformError {
    /// The numeric code (Meta `error.code`, Google `error.code`, TikTok `code`).
    pub code: Option<i64>,
    /// Meta's `error_subcode`.
    pub subcode: Option<i64>,
    /// The symbolic status (Google `error.status`, e.g. `INVALID_ARGUMENT`;
    /// Snapchat `status`, e.g. `INVALID`).
    pub status: Option<String>,
    /// The human-readable reason.
    pub message: String,
    /// The platform's id for the failed call (Meta `fbtrace_id`, TikTok `request_id`).
    pub trace_id: Option<String>,
}

/// The longest raw body kept as a message when it is not the platform's JSON.
const RAW_MESSAGE_CHARS: usize = 200;

impl PlatformError {
    /// Parses `body` as `platform`'s error document. Never fails: unknown shapes
    /// keep a prefix of the body as the message.
    #[must_use]
    pub fn parse(platform: Platform, body: &[u8]) -> Self {
        let parsed = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| from_json(platform, &v));
        parsed.unwrap_or_else(|| Self {
            message: String::from_utf8_lossy(body)
                .chars()
                .take(RAW_MESSAGE_CHARS)
                .collect(),
            ..Self::default()
        })
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn from_json(platform: Platform, v: &Value) -> Option<PlatformError> {
    match platform.as_str() {
        // Meta and Google nest everything under `error`.
        "meta" | "google" => {
            let e = v.get("error")?;
            if !e.is_object() {
                return Some(PlatformError {
                    message: text(v, "error")?,
                    ..PlatformError::default()
                });
            }
            Some(PlatformError {
                code: int(e, "code"),
                subcode: int(e, "error_subcode"),
                status: text(e, "status"),
                message: text(e, "message").unwrap_or_default(),
                trace_id: text(e, "fbtrace_id"),
            })
        }
        "tiktok" => Some(PlatformError {
            code: Some(int(v, "code")?),
            message: text(v, "message").unwrap_or_default(),
            trace_id: text(v, "request_id"),
            ..PlatformError::default()
        }),
        _ => {
            let status = text(v, "status");
            let reason = text(v, "reason").or_else(|| text(v, "message"));
            if status.is_none() && reason.is_none() {
                return None;
            }
            Some(PlatformError {
                status,
                message: reason.unwrap_or_default(),
                ..PlatformError::default()
            })
        }
    }
}

/// What to do with a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The platform took the request.
    Accepted,
    /// Worth sending again (D21).
    Retry(PlatformError),
    /// Final: the request is refused.
    Refused(PlatformError),
}

/// Classifies a response per D21: 429, 5xx, Google `RESOURCE_EXHAUSTED` and
/// `UNAVAILABLE`, TikTok 40100 are retried; every other 4xx is final. TikTok
/// answers 200 with a body `code`: 0 is accepted, anything else refused.
pub(crate) fn classify(platform: Platform, status: u16, body: &[u8]) -> Verdict {
    let tiktok = platform.as_str() == "tiktok";
    if (200..300).contains(&status) {
        if !tiktok {
            return Verdict::Accepted;
        }
        let e = PlatformError::parse(platform, body);
        return match e.code {
            Some(0) => Verdict::Accepted,
            Some(TIKTOK_THROTTLED) => Verdict::Retry(e),
            _ => Verdict::Refused(e),
        };
    }
    let e = PlatformError::parse(platform, body);
    let retry = status == 429
        || (500..600).contains(&status)
        || (platform.as_str() == "google"
            && matches!(
                e.status.as_deref(),
                Some("RESOURCE_EXHAUSTED" | "UNAVAILABLE")
            ))
        || (tiktok && e.code == Some(TIKTOK_THROTTLED));
    if retry {
        Verdict::Retry(e)
    } else {
        Verdict::Refused(e)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[cfg(feature = "meta")]
    #[test]
    fn meta_error_body() {
        let body = br#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804003,"fbtrace_id":"AbC123"}}"#;
        let e = PlatformError::parse(Platform::Meta, body);
        assert_eq!(e.code, Some(100));
        assert_eq!(e.subcode, Some(2_804_003));
        assert_eq!(e.message, "Invalid parameter");
        assert_eq!(e.trace_id.as_deref(), Some("AbC123"));
        assert_eq!(classify(Platform::Meta, 400, body), Verdict::Refused(e));
    }

    #[cfg(feature = "google")]
    #[test]
    fn google_statuses() {
        let exhausted =
            br#"{"error":{"code":429,"message":"Quota","status":"RESOURCE_EXHAUSTED"}}"#;
        assert!(matches!(
            classify(Platform::Google, 429, exhausted),
            Verdict::Retry(_)
        ));
        // The status alone decides, whatever the HTTP code.
        let unavailable = br#"{"error":{"code":503,"message":"down","status":"UNAVAILABLE"}}"#;
        assert!(matches!(
            classify(Platform::Google, 400, unavailable),
            Verdict::Retry(_)
        ));
        let invalid = br#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#;
        let Verdict::Refused(e) = classify(Platform::Google, 400, invalid) else {
            panic!("4xx must not be retried");
        };
        assert_eq!(e.status.as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(e.code, Some(400));
    }

    #[cfg(feature = "tiktok")]
    #[test]
    fn tiktok_body_codes() {
        let ok = br#"{"code":0,"message":"OK","request_id":"r1"}"#;
        assert_eq!(classify(Platform::TikTok, 200, ok), Verdict::Accepted);
        let throttled = br#"{"code":40100,"message":"Too many requests","request_id":"r2"}"#;
        assert!(matches!(
            classify(Platform::TikTok, 200, throttled),
            Verdict::Retry(_)
        ));
        let bad = br#"{"code":40002,"message":"Invalid param","request_id":"r3"}"#;
        let Verdict::Refused(e) = classify(Platform::TikTok, 200, bad) else {
            panic!("a non-zero code is refused");
        };
        assert_eq!((e.code, e.trace_id.as_deref()), (Some(40002), Some("r3")));
        // 200 without a code is not a success.
        assert!(matches!(
            classify(Platform::TikTok, 200, b"<html>"),
            Verdict::Refused(_)
        ));
    }

    #[cfg(feature = "snapchat")]
    #[test]
    fn snapchat_status_reason() {
        let body = br#"{"status":"INVALID","reason":"event_time is required"}"#;
        let e = PlatformError::parse(Platform::Snapchat, body);
        assert_eq!(e.status.as_deref(), Some("INVALID"));
        assert_eq!(e.message, "event_time is required");
    }

    #[test]
    fn never_retries_other_4xx() {
        for p in Platform::ALL {
            for status in (400..500).filter(|s| *s != 429) {
                let v = classify(*p, status, br#"{"error":{"message":"x"}}"#);
                assert!(matches!(v, Verdict::Refused(_)), "{p:?} {status}");
            }
            for status in [429, 500, 502, 503, 504, 599] {
                assert!(
                    matches!(classify(*p, status, b""), Verdict::Retry(_)),
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn raw_bodies_are_kept_short() {
        let long = "x".repeat(1000);
        for p in Platform::ALL {
            let e = PlatformError::parse(*p, long.as_bytes());
            assert_eq!(e.message.len(), 200);
        }
    }
}
