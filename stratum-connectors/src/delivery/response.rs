//! Reading the platforms' answers: error bodies, success bodies, and what to
//! retry (D21).
//!
//! Sources for the shapes read here:
//! - Meta Graph API error object:
//!   <https://developers.facebook.com/docs/graph-api/guides/error-handling>;
//!   Conversions API success body (`events_received`, `messages`, `fbtrace_id`):
//!   <https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api>.
//! - Google Data Manager errors (`google.rpc.Status` with `BadRequest`,
//!   `ErrorInfo`, `RequestInfo` details; fast-fail model):
//!   <https://developers.google.com/data-manager/api/devguides/concepts/understand-errors>;
//!   field paths: <https://cloud.google.com/apis/design/errors> and the
//!   `google.rpc.BadRequest.FieldViolation` reference; success body
//!   (`requestId`): `IngestEventsResponse` in
//!   <https://developers.google.com/data-manager/api/reference/rest/v1/events/ingest>.
//! - TikTok Events API 2.0 (`/open_api/v1.3/event/track/`): body `code`,
//!   `message`, `request_id`.
//! - Snapchat Conversions API v3: `status`, `reason`
//!   (<https://developers.snap.com/api/marketing-api/Conversions-API/UsingTheAPI>).

use serde_json::Value;

use crate::platform::Platform;

/// TikTok's body `code` for "throttled" (retried).
pub const TIKTOK_THROTTLED: i64 = 40100;

/// A platform's reason for refusing a request (or one event of it), from its
/// error body.
///
/// Which fields are set depends on the platform:
///
/// | Field | Meta | Google | TikTok | Snapchat |
/// |---|---|---|---|---|
/// | `code` | `error.code` | `error.code` | `code` | |
/// | `subcode` | `error.error_subcode` | | | |
/// | `status` | | `error.status` | | `status` |
/// | `kind` | `error.type` | | | |
/// | `message` | `error.message` | `error.message` | `message` | `reason` |
/// | `user_title`, `user_message` | `error.error_user_title`, `error.error_user_msg` | | | |
/// | `reason` | | `ErrorInfo.reason` (or the event's `FieldViolation.reason`) | | |
/// | `data` | `error.error_data` | | | |
/// | `violations` | | `BadRequest.fieldViolations` | | |
/// | `trace_id` | `error.fbtrace_id` | `RequestInfo.requestId` | `request_id` | |
///
/// A body that is not the platform's JSON leaves all but `message` empty, and
/// `message` holds its first 200 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformError {
    /// The numeric code (Meta `error.code`, Google `error.code`, TikTok `code`).
    pub code: Option<i64>,
    /// Meta's `error_subcode`.
    pub subcode: Option<i64>,
    /// The symbolic status (Google `error.status`, e.g. `INVALID_ARGUMENT`;
    /// Snapchat `status`, e.g. `INVALID`).
    pub status: Option<String>,
    /// Meta's error `type`, e.g. `OAuthException`.
    pub kind: Option<String>,
    /// The human-readable reason. For an event the platform named (Google field
    /// violations), the descriptions of its violations joined by `"; "`.
    pub message: String,
    /// Meta's `error_user_title`: a short title meant for the end user.
    pub user_title: Option<String>,
    /// Meta's `error_user_msg`: the explanation meant for the end user.
    pub user_message: Option<String>,
    /// A stable machine-readable cause: Google `ErrorInfo.reason` (a Data
    /// Manager `ErrorReason`), or for a named event its first
    /// `FieldViolation.reason` when it has one.
    pub reason: Option<String>,
    /// Meta's `error_data`, as compact JSON text (a string value as is), at most
    /// 500 characters.
    pub data: Option<String>,
    /// Google's `BadRequest.fieldViolations`: every offending field of the
    /// request, or for one event, its own.
    pub violations: Vec<FieldViolation>,
    /// The platform's id for the failed call (Meta `fbtrace_id`, Google
    /// `RequestInfo.requestId`, TikTok `request_id`).
    pub trace_id: Option<String>,
}

/// One offending field of a request, from Google's
/// `google.rpc.BadRequest.fieldViolations[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldViolation {
    /// The path to the field in the request body, e.g.
    /// `events[3].conversionValue`.
    pub field: String,
    /// Why the field is bad.
    pub description: String,
    /// The field-level reason constant (`UPPER_SNAKE_CASE`), when given.
    pub reason: Option<String>,
}

impl FieldViolation {
    /// The position, in the request's `events` array, of the event the path
    /// starts in: `events[3].conversionValue` gives `Some(3)`. `None` for paths
    /// outside `events` (e.g. `destinations[0]`).
    #[must_use]
    pub fn event(&self) -> Option<usize> {
        let rest = self.field.trim().strip_prefix("events[")?;
        let (digits, after) = rest.split_once(']')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !(after.is_empty() || after.starts_with('.') || after.starts_with('[')) {
            return None;
        }
        digits.parse().ok()
    }
}

/// What a platform said when it accepted a request (its 2xx body).
///
/// Meta reports how many events it received (`events_received`), which may be
/// fewer than were sent, and free-text `messages`; the others give an id for
/// the call at most. No platform names events in its success body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Meta's `events_received`.
    pub events_received: Option<u64>,
    /// Meta's `messages` (at most 20, each at most 500 characters).
    pub messages: Vec<String>,
    /// The platform's id for the call (Meta `fbtrace_id`, Google `requestId`,
    /// TikTok `request_id`).
    pub trace_id: Option<String>,
    /// Snapchat's `status`, e.g. `SUCCESS`.
    pub status: Option<String>,
}

/// The longest raw body kept as a message when it is not the platform's JSON.
const RAW_MESSAGE_CHARS: usize = 200;
/// The longest `error_data` or receipt message kept.
const DATA_CHARS: usize = 500;
/// The most receipt messages kept.
const MAX_MESSAGES: usize = 20;

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl PlatformError {
    /// Parses `body` as `platform`'s error document. Never fails: unknown shapes
    /// keep a prefix of the body as the message.
    #[must_use]
    pub fn parse(platform: Platform, body: &[u8]) -> Self {
        let parsed = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| from_json(platform, &v));
        parsed.unwrap_or_else(|| Self {
            message: truncate(&String::from_utf8_lossy(body), RAW_MESSAGE_CHARS),
            ..Self::default()
        })
    }
}

impl Receipt {
    /// Parses `body` as `platform`'s success document. Never fails: anything
    /// missing or of the wrong type is left empty.
    #[must_use]
    pub fn parse(platform: Platform, body: &[u8]) -> Self {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        match platform.as_str() {
            "meta" => Self {
                events_received: v.get("events_received").and_then(|n| match n {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }),
                messages: v
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .take(MAX_MESSAGES)
                            .map(|m| truncate(&plain(m), DATA_CHARS))
                            .collect()
                    })
                    .unwrap_or_default(),
                trace_id: text(&v, "fbtrace_id"),
                ..Self::default()
            },
            "google" => Self {
                trace_id: text(&v, "requestId"),
                ..Self::default()
            },
            "tiktok" => Self {
                trace_id: text(&v, "request_id"),
                ..Self::default()
            },
            _ => Self {
                status: text(&v, "status"),
                ..Self::default()
            },
        }
    }
}

/// A JSON value as text: strings as they are, anything else as compact JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
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
            let mut out = PlatformError {
                code: int(e, "code"),
                subcode: int(e, "error_subcode"),
                status: text(e, "status"),
                kind: text(e, "type"),
                message: text(e, "message").unwrap_or_default(),
                user_title: text(e, "error_user_title"),
                user_message: text(e, "error_user_msg"),
                data: e
                    .get("error_data")
                    .filter(|d| !d.is_null())
                    .map(|d| truncate(&plain(d), DATA_CHARS)),
                trace_id: text(e, "fbtrace_id"),
                ..PlatformError::default()
            };
            if let Some(details) = e.get("details").and_then(Value::as_array) {
                google_details(details, &mut out);
            }
            Some(out)
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

/// Reads the `google.rpc.Status.details` Google documents for Data Manager:
/// `BadRequest` (field violations), `ErrorInfo` (reason), `RequestInfo`
/// (request id). Other detail types are ignored.
fn google_details(details: &[Value], out: &mut PlatformError) {
    for d in details {
        let kind = d.get("@type").and_then(Value::as_str).unwrap_or_default();
        if kind.ends_with("google.rpc.BadRequest") {
            let list = d
                .get("fieldViolations")
                .or_else(|| d.get("field_violations"))
                .and_then(Value::as_array);
            out.violations
                .extend(list.into_iter().flatten().map(|fv| FieldViolation {
                    field: text(fv, "field").unwrap_or_default(),
                    description: text(fv, "description").unwrap_or_default(),
                    reason: text(fv, "reason"),
                }));
        } else if kind.ends_with("google.rpc.ErrorInfo") {
            if out.reason.is_none() {
                out.reason = text(d, "reason");
            }
        } else if kind.ends_with("google.rpc.RequestInfo") && out.trace_id.is_none() {
            out.trace_id = text(d, "requestId").or_else(|| text(d, "request_id"));
        }
    }
}

/// What to do with a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The platform took the request; what its body said.
    Accepted(Receipt),
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
            return Verdict::Accepted(Receipt::parse(platform, body));
        }
        let e = PlatformError::parse(platform, body);
        return match e.code {
            Some(0) => Verdict::Accepted(Receipt::parse(platform, body)),
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

    #[cfg(feature = "meta")]
    #[test]
    fn meta_graph_error_in_full() {
        // The documented Graph error object, with `error_data` as Meta sends it
        // (a JSON-encoded string) and as an object.
        let body = br#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804050,"is_transient":false,"error_user_title":"Event time too old","error_user_msg":"The timestamp for this event is older than 7 days.","error_data":"{\"blame_field_specs\":[[\"data\",\"event_time\"]]}","fbtrace_id":"A1b2C3"}}"#;
        let e = PlatformError::parse(Platform::Meta, body);
        assert_eq!(e.kind.as_deref(), Some("OAuthException"));
        assert_eq!((e.code, e.subcode), (Some(100), Some(2_804_050)));
        assert_eq!(e.user_title.as_deref(), Some("Event time too old"));
        assert_eq!(
            e.user_message.as_deref(),
            Some("The timestamp for this event is older than 7 days.")
        );
        assert_eq!(
            e.data.as_deref(),
            Some(r#"{"blame_field_specs":[["data","event_time"]]}"#)
        );
        assert_eq!(e.trace_id.as_deref(), Some("A1b2C3"));
        // Meta names no event: nothing to attribute.
        assert!(e.violations.is_empty());

        let object = br#"{"error":{"message":"m","code":1,"error_data":{"k":[1,2]}}}"#;
        let e = PlatformError::parse(Platform::Meta, object);
        assert_eq!(e.data.as_deref(), Some(r#"{"k":[1,2]}"#));
        let long = format!(
            r#"{{"error":{{"message":"m","error_data":"{}"}}}}"#,
            "d".repeat(900)
        );
        let e = PlatformError::parse(Platform::Meta, long.as_bytes());
        assert_eq!(e.data.map(|d| d.len()), Some(500));
        let null = br#"{"error":{"message":"m","error_data":null}}"#;
        assert_eq!(PlatformError::parse(Platform::Meta, null).data, None);
    }

    #[cfg(feature = "meta")]
    #[test]
    fn meta_receipt() {
        let body = br#"{"events_received":2,"messages":["one warning"],"fbtrace_id":"Zz9"}"#;
        let Verdict::Accepted(r) = classify(Platform::Meta, 200, body) else {
            panic!("2xx is accepted");
        };
        assert_eq!(r.events_received, Some(2));
        assert_eq!(r.messages, ["one warning"]);
        assert_eq!(r.trace_id.as_deref(), Some("Zz9"));
        // Wrong types are left empty; anything is accepted on 2xx.
        let odd = br#"{"events_received":-1,"messages":"x"}"#;
        assert_eq!(Receipt::parse(Platform::Meta, odd), Receipt::default());
        assert_eq!(
            classify(Platform::Meta, 204, b""),
            Verdict::Accepted(Receipt::default())
        );
        let many: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
        let body = serde_json::json!({ "messages": many }).to_string();
        assert_eq!(
            Receipt::parse(Platform::Meta, body.as_bytes())
                .messages
                .len(),
            20
        );
    }

    #[cfg(feature = "google")]
    #[test]
    fn google_status_with_details() {
        // google.rpc.Status with the details Data Manager documents.
        let body = br#"{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT","details":[
            {"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"INVALID_ARGUMENT","domain":"datamanager.googleapis.com","metadata":{"requestId":"t-1"}},
            {"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"t-1"},
            {"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[
                {"field":"events[1].conversionValue","description":"Conversion value must be positive.","reason":"INVALID_CONVERSION_VALUE"},
                {"field":"events[3].eventTimestamp","description":"Required field is missing."}
            ]},
            {"@type":"type.googleapis.com/google.rpc.Help","links":[{"url":"https://example.com"}]}
        ]}}"#;
        let Verdict::Refused(e) = classify(Platform::Google, 400, body) else {
            panic!("INVALID_ARGUMENT is final");
        };
        assert_eq!(e.status.as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(e.reason.as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(e.trace_id.as_deref(), Some("t-1"));
        assert_eq!(
            e.violations,
            [
                FieldViolation {
                    field: "events[1].conversionValue".into(),
                    description: "Conversion value must be positive.".into(),
                    reason: Some("INVALID_CONVERSION_VALUE".into()),
                },
                FieldViolation {
                    field: "events[3].eventTimestamp".into(),
                    description: "Required field is missing.".into(),
                    reason: None,
                },
            ]
        );
        let positions: Vec<_> = e.violations.iter().map(FieldViolation::event).collect();
        assert_eq!(positions, [Some(1), Some(3)]);
    }

    #[cfg(feature = "google")]
    #[test]
    fn google_receipt_has_the_request_id() {
        let Verdict::Accepted(r) = classify(Platform::Google, 200, br#"{"requestId":"abc-123"}"#)
        else {
            panic!("2xx is accepted");
        };
        assert_eq!(r.trace_id.as_deref(), Some("abc-123"));
        assert_eq!(r.events_received, None);
    }

    #[test]
    fn violation_paths_to_positions() {
        let at = |field: &str| {
            FieldViolation {
                field: field.into(),
                ..FieldViolation::default()
            }
            .event()
        };
        assert_eq!(at("events[0]"), Some(0));
        assert_eq!(at("events[12].userData.userIdentifiers[2]"), Some(12));
        assert_eq!(at("events[7][1]"), Some(7));
        assert_eq!(at("events[3].conversion_value"), Some(3));
        for none in [
            "",
            "events",
            "events[]",
            "events[-1].x",
            "events[1x].x",
            "events[1]x",
            "destinations[0].operatingAccount",
            "audienceMembers[2]",
            "eventsx[1]",
            "events[99999999999999999999999]",
        ] {
            assert_eq!(at(none), None, "{none}");
        }
    }

    #[cfg(feature = "snapchat")]
    #[test]
    fn snapchat_receipt_status() {
        let body = br#"{"status":"SUCCESS","reason":"SUCCESS"}"#;
        let Verdict::Accepted(r) = classify(Platform::Snapchat, 200, body) else {
            panic!("2xx is accepted");
        };
        assert_eq!(r.status.as_deref(), Some("SUCCESS"));
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
        let Verdict::Accepted(receipt) = classify(Platform::TikTok, 200, ok) else {
            panic!("code 0 is accepted");
        };
        assert_eq!(receipt.trace_id.as_deref(), Some("r1"));
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
