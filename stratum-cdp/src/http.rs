//! Message bodies as they arrive over HTTP: decoding per `Content-Encoding`, with a
//! limit on the decoded size, then parsing.
//!
//! The functions here do no I/O: they take the body bytes and the header values
//! the caller's HTTP layer read. The `Content-Type` is not consulted — clients send
//! the same JSON as `application/json`, `text/plain` (`navigator.sendBeacon`) or
//! without one — so any is accepted.
//!
//! Supported encodings: `gzip` (and `x-gzip`; several concatenated members are
//! read as one stream, as `gzip -c a b` writes them), `deflate` (zlib, as HTTP
//! defines it) and `identity`. A list such as `gzip, identity` is undone from the
//! last encoding to the first. The decoded size is checked while decoding, so a
//! small body that would inflate past the limit (a "gzip bomb") stops at the limit
//! with [`Error::TooLarge`] and never takes more memory than the limit.
//!
//! The receive time is passed as a [`ReceivedAt`], which says whose it is: an
//! endpoint receiving messages from clients passes [`ReceivedAt::Server`], so a
//! `receivedAt` in a body is ignored (it would otherwise move the bound on event
//! times, [`ParseConfig::max_future`], as far as the client likes);
//! [`ReceivedAt::Replay`] keeps it, for archives of messages received earlier.
//!
//! ```
//! use std::io::Write as _;
//! use chrono::{TimeZone, Utc};
//! use stratum_cdp::http::parse_batch_body;
//! use stratum_cdp::message::{ParseConfig, ReceivedAt};
//!
//! let json = br#"{"batch": [{"type": "page", "messageId": "m1", "anonymousId": "a1"}]}"#;
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(json)?;
//! let body = gz.finish()?;
//!
//! let received = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
//! let batch = parse_batch_body(&body, Some("gzip"), ReceivedAt::Server(received), &ParseConfig::default())?;
//! assert_eq!(batch.messages().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::io::Read;

use crate::error::{Error, Result};
use crate::message::{
    Batch, Message, MessageType, ParseConfig, ReceivedAt, parse_batch_at, read_message,
};

/// The body decoded per `content_encoding` (the header's value; `None` or empty
/// for none), at most `max_decoded_bytes` long.
///
/// # Errors
/// [`Error::InvalidEncoding`] for an unsupported encoding (field
/// `Content-Encoding`) or a corrupt or truncated body (field `$`);
/// [`Error::TooLarge`] (field `$`) when the decoded body would exceed
/// `max_decoded_bytes` — its `size` is then the size at which decoding stopped, one
/// byte over the limit.
pub fn decode_body<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    max_decoded_bytes: usize,
) -> Result<Cow<'a, [u8]>> {
    let mut out: Cow<'a, [u8]> = Cow::Borrowed(body);
    let encodings: Vec<&str> = content_encoding
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    for enc in encodings.iter().rev() {
        let enc = enc.to_ascii_lowercase();
        out = match enc.as_str() {
            "identity" => out,
            "gzip" | "x-gzip" => Cow::Owned(inflate(
                flate2::read::MultiGzDecoder::new(&out[..]),
                max_decoded_bytes,
                "gzip",
            )?),
            "deflate" => Cow::Owned(inflate(
                flate2::read::ZlibDecoder::new(&out[..]),
                max_decoded_bytes,
                "deflate (zlib)",
            )?),
            other => {
                return Err(Error::InvalidEncoding {
                    field: "Content-Encoding".into(),
                    message: format!("{other:?} is not supported; send gzip, deflate or identity"),
                });
            }
        };
    }
    if out.len() > max_decoded_bytes {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: out.len(),
            limit: max_decoded_bytes,
        });
    }
    Ok(out)
}

fn inflate(reader: impl Read, limit: usize, name: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidEncoding {
            field: "$".into(),
            message: format!("the body is not valid {name} data: {e}"),
        })?;
    if out.len() > limit {
        return Err(Error::TooLarge {
            field: "$".into(),
            size: out.len(),
            limit,
        });
    }
    Ok(out)
}

/// [`parse_batch_at`] of an HTTP body: decoded per `content_encoding` with the
/// batch limit ([`ParseConfig::max_batch_bytes`]) on the decoded size.
///
/// # Errors
/// Those of [`decode_body`] and [`parse_batch_at`].
pub fn parse_batch_body(
    body: &[u8],
    content_encoding: Option<&str>,
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Result<Batch> {
    let json = decode_body(body, content_encoding, config.max_batch_bytes())?;
    parse_batch_at(&json, received_at, config)
}

/// [`parse_message_at`](crate::message::parse_message_at) of an HTTP body:
/// decoded per `content_encoding` with the message limit
/// ([`ParseConfig::max_message_bytes`]) on the decoded size.
///
/// # Errors
/// Those of [`decode_body`] and
/// [`parse_message_at`](crate::message::parse_message_at).
pub fn parse_message_body(
    body: &[u8],
    content_encoding: Option<&str>,
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Result<Message> {
    let json = decode_body(body, content_encoding, config.max_message_bytes())?;
    read_message(&json, received_at, config)
}

/// [`parse_message_body`] for an endpoint of one message type (Segment's
/// `/v1/track`, `/v1/identify`, ...): the type comes from the endpoint when the body
/// has no `type`, and a body whose `type` names another one is refused. The body's
/// bytes are otherwise parsed as sent (no number is re-read), and the message limit
/// applies to the decoded body as sent, before the `type` is added.
///
/// # Errors
/// Those of [`parse_message_body`]; [`Error::InvalidMessage`] (field `type`) when
/// the body's `type` is not `kind`.
pub fn parse_message_body_as(
    kind: MessageType,
    body: &[u8],
    content_encoding: Option<&str>,
    received_at: ReceivedAt,
    config: &ParseConfig,
) -> Result<Message> {
    // The limit is checked here, on what the client sent.
    let json = decode_body(body, content_encoding, config.max_message_bytes())?;
    let typed = with_type(kind, &json)?;
    read_message(&typed, received_at, config)
}

/// `json` with `"type": kind` added as its first member when it has no `type`.
fn with_type<'a>(kind: MessageType, json: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    #[derive(serde::Deserialize)]
    struct TypeOnly {
        #[serde(rename = "type", default)]
        kind: Option<serde_json::Value>,
    }
    // Not an object (or not JSON): the parser reports it with its usual error.
    let Some(open) = json
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .filter(|&i| json[i] == b'{')
    else {
        return Ok(Cow::Borrowed(json));
    };
    let Ok(TypeOnly { kind: sent }) = serde_json::from_slice::<TypeOnly>(json) else {
        return Ok(Cow::Borrowed(json));
    };
    match sent {
        Some(serde_json::Value::String(t)) if t == kind.as_str() => Ok(Cow::Borrowed(json)),
        Some(other) => Err(Error::InvalidMessage {
            field: "type".into(),
            message: format!(
                "this endpoint takes `{}` messages; the body's type is {other}",
                kind.as_str()
            ),
        }),
        None => {
            let rest = &json[open + 1..];
            let empty = rest
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_none_or(|b| *b == b'}');
            let mut out = Vec::with_capacity(json.len() + 20);
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.extend_from_slice(if empty { b"\"" } else { b"\"," });
            out.extend_from_slice(rest);
            Ok(Cow::Owned(out))
        }
    }
}
