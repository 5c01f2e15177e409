//! Segment-compatible ingest: `POST /v1/batch`, `/v1/import` and the one-message
//! endpoints `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`,
//! `/v1/alias`.
//!
//! The write key is the HTTP Basic user (empty password) or the body's `writeKey`.
//! Bodies may be gzip- or deflate-encoded and are read as JSON whatever their
//! `Content-Type`. Decoding, limits and parsing are `stratum_cdp::http`'s; a
//! batch's invalid messages are reported by index while its valid ones are
//! written; a `messageId` the tenant already sent is absorbed. A `200` is sent
//! only once every accepted message is committed and synced to disk.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_ENCODING};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use stratum_cdp::http::{decode_body, parse_message_body_as};
use stratum_cdp::message::{Message, MessageType, ReceivedAt, parse_batch_at};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::log::Block;
use crate::secrets::KeyKind;
use crate::writer::WriteError;

/// The raw body, at most `limit` bytes as sent (a compressed body is limited again
/// once decoded).
async fn read_body(body: Body, limit: usize) -> AppResult<Vec<u8>> {
    match axum::body::to_bytes(body, limit.saturating_add(1)).await {
        Ok(b) if b.len() <= limit => Ok(b.to_vec()),
        _ => Err(AppError::bad_request(
            stratum_cdp::Error::TooLarge {
                field: "$".into(),
                size: limit.saturating_add(1),
                limit,
            }
            .into(),
        )),
    }
}

/// The write key of a request: the Basic user, else the body's `writeKey`.
fn write_key<'a>(headers: &HeaderMap, json: &'a [u8]) -> Option<Cow<'a, str>> {
    if let Some(auth) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = auth.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
        return (!user.is_empty()).then(|| Cow::Owned(user.to_owned()));
    }
    #[derive(serde::Deserialize)]
    struct KeyOnly<'a> {
        #[serde(rename = "writeKey", borrow, default)]
        write_key: Option<Cow<'a, str>>,
    }
    serde_json::from_slice::<KeyOnly<'a>>(json)
        .ok()
        .and_then(|k| k.write_key)
        .filter(|k| !k.is_empty())
}

/// The tenant a write key opens, once the key and the tenant are within their
/// rate limits.
async fn tenant_of(state: &AppState, headers: &HeaderMap, json: &[u8]) -> AppResult<String> {
    let Some(key) = write_key(headers, json) else {
        return Err(AppError::unauthorized(
            "a write key is required: the HTTP Basic user (empty password) or `writeKey` in the body",
        ));
    };
    match state.db.key_owner(&key, KeyKind::Write).await? {
        Some(owner) if owner.tenant_active => {
            crate::rate_limit(state, &owner.tenant_id, &owner.key_id)?;
            Ok(owner.tenant_id)
        }
        Some(_) => Err(AppError::new(
            axum::http::StatusCode::FORBIDDEN,
            "tenant_suspended",
            None,
            "the tenant of this write key is suspended",
        )),
        None => Err(AppError::unauthorized("unknown or revoked write key")),
    }
}

/// The block of a request's accepted messages (their bodies hold raw PII:
/// traits, IPs; they are sealed).
fn block(
    state: &AppState,
    tenant: &str,
    received_at: chrono::DateTime<chrono::Utc>,
    messages: Vec<Message>,
) -> AppResult<Block> {
    Block::seal(&state.data_keys, tenant, received_at, messages).map_err(|e| match e {
        crate::log::BlockError::Nul => AppError::nul_refused(Some("messageId")),
        other => AppError::internal(&other),
    })
}

async fn commit(state: &AppState, block: Block) -> AppResult<()> {
    state.writer.write(block).await.map_err(|e| match e {
        WriteError::Stopped => AppError::unavailable("the server is shutting down; retry"),
        WriteError::Database(d) => AppError::internal(&d),
    })
}

fn encoding(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok())
}

/// A request's JSON, decoded with `decoded_limit` on its decoded size (a
/// compressed body is read up to the batch limit), and the tenant its write key
/// opens.
async fn received(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    decoded_limit: usize,
) -> AppResult<(Vec<u8>, String)> {
    let raw = read_body(body, state.parse.max_batch_bytes()).await?;
    let json = decode_body(&raw, encoding(headers), decoded_limit)?.into_owned();
    let tenant = tenant_of(state, headers, &json).await?;
    Ok((json, tenant))
}

/// `POST /v1/batch`: `{"batch": [...], "context": ..., "writeKey": ...}`.
#[utoipa::path(post, path = "/v1/batch", request_body(content = crate::openapi::BatchRequest, content_type = "application/json"), responses((status = 200, description = "The valid messages are committed", body = crate::openapi::BatchResponse), crate::openapi::IngestErrors), security(("write_key" = [])))]
pub(crate) async fn batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Value>> {
    batch_of(state, headers, body, false).await
}

async fn batch_of(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Body,
    import: bool,
) -> AppResult<Json<Value>> {
    let now = crate::now();
    let cfg = &state.parse;
    let (json, tenant) = received(&state, &headers, body, cfg.max_batch_bytes()).await?;
    if import {
        crate::require_flag(&state, &tenant, crate::flags::Flag::Import).await?;
    }
    // The server's clock is the receive time on every route, `/v1/import`
    // included: write keys are public, and a client's `receivedAt` would move the
    // bound on event times (an import keeps its messages' past `timestamp`s).
    let parsed = parse_batch_at(&json, ReceivedAt::Server(now), cfg)?;
    let mut messages = Vec::with_capacity(parsed.results.len());
    let mut rejected: Vec<Value> = Vec::new();
    for (index, result) in parsed.results.into_iter().enumerate() {
        match result {
            Ok(m) if crate::log::check_message_id(&m.message_id).is_err() => {
                let e = AppError::nul_refused(Some("messageId"));
                let r = e.report();
                rejected.push(
                    json!({"index": index, "code": r.code, "field": r.field, "message": r.message}),
                );
            }
            Ok(m) => messages.push(m),
            Err(e) => {
                let mut v = json!({"index": index, "code": e.code(), "message": e.to_string()});
                if let Some(f) = e.field() {
                    v["field"] = json!(f);
                }
                rejected.push(v);
            }
        }
    }
    state.metrics.count_rejected(rejected.len() as u64);
    let accepted = messages.len();
    commit(&state, block(&state, &tenant, now, messages)?).await?;
    Ok(Json(
        json!({"success": true, "accepted": accepted, "rejected": rejected}),
    ))
}

/// `POST /v1/import`: a batch of historical messages (as `/v1/batch`), for
/// tenants with the `import` feature.
#[utoipa::path(post, path = "/v1/import", request_body(content = crate::openapi::BatchRequest, content_type = "application/json"), responses((status = 200, description = "The valid messages are committed", body = crate::openapi::BatchResponse), crate::openapi::IngestErrors), security(("write_key" = [])))]
pub(crate) async fn import(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Value>> {
    batch_of(state, headers, body, true).await
}

async fn single(
    kind: MessageType,
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Value>> {
    let now = crate::now();
    let cfg = &state.parse;
    let (json, tenant) = received(&state, &headers, body, cfg.max_message_bytes()).await?;
    let message = match parse_message_body_as(kind, &json, None, ReceivedAt::Server(now), cfg) {
        Ok(m) => m,
        Err(e) => {
            state.metrics.count_rejected(1);
            return Err(e.into());
        }
    };
    commit(&state, block(&state, &tenant, now, vec![message])?).await?;
    Ok(Json(json!({"success": true})))
}

macro_rules! single_endpoint {
    ($name:ident, $kind:expr, $path:literal) => {
        #[doc = concat!("`POST ", $path, "`: one message; the type comes from the endpoint.")]
        #[utoipa::path(post, path = $path, request_body(content = crate::openapi::MessageRequest, content_type = "application/json"), responses((status = 200, description = "Committed", body = crate::openapi::Success), crate::openapi::IngestErrors), security(("write_key" = [])))]
        pub(crate) async fn $name(
            State(state): State<Arc<AppState>>,
            headers: HeaderMap,
            body: Body,
        ) -> AppResult<Json<Value>> {
            single($kind, state, headers, body).await
        }
    };
}

single_endpoint!(track, MessageType::Track, "/v1/track");
single_endpoint!(identify, MessageType::Identify, "/v1/identify");
single_endpoint!(page, MessageType::Page, "/v1/page");
single_endpoint!(screen, MessageType::Screen, "/v1/screen");
single_endpoint!(group, MessageType::Group, "/v1/group");
single_endpoint!(alias, MessageType::Alias, "/v1/alias");
