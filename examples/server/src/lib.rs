//! The Stratum reference server: the crates composed into a multi-tenant service
//! with Segment-compatible ingest.
//!
//! * [`db`]: SQLite storage (WAL, every commit synced), migrations, tenant-scoped
//!   queries;
//! * [`writer`]: group commit: an event is acknowledged only once committed;
//! * [`pipeline`]: the committed log fed in order to each tenant's CDP;
//! * [`ingest`]: `/v1/*`, Segment's HTTP tracking API;
//! * `/health`, `/health/live`, `/health/ready`, `/metrics`, and
//!   `/api/v1/tenant` and `/api/v1/profiles/lookup` (API key).
//!
//! [`app`] builds the router apart from `main`, so tests drive it with
//! `tower::ServiceExt::oneshot`; [`Services`] owns the background tasks and stops
//! them in order (HTTP first, then the writer drains, then the pipeline).

/// The guide (`docs/server.md`), rendered with the crate's documentation.
#[doc = include_str!("../../../docs/server.md")]
pub mod guide {}

pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod flags;
pub mod ingest;
pub mod limits;
pub mod log;
pub mod metrics;
mod openapi;
pub mod pipeline;
pub mod secrets;
pub mod totp;
pub mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use stratum_cdp::identity::{Identifier, IdentifierKind};
use stratum_cdp::message::ParseConfig;
use tokio::sync::watch;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::writer::Writer;

/// The server's clock (the crates never read one: the time is passed in).
#[must_use]
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from(std::time::SystemTime::now())
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The group-commit writer.
    pub writer: Writer,
    /// The pipeline (its CDPs answer profile look-ups).
    pub pipeline: Pipeline,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Message limits and time bounds.
    pub parse: ParseConfig,
    /// Signs and checks access tokens.
    pub tokens: auth::Tokens,
    /// Rate limits per key and per tenant.
    pub limits: limits::Limits,
    /// Origins allowed to call from a browser (CORS); none when empty.
    pub cors_origins: Vec<HeaderValue>,
    /// Seals event bodies at rest.
    pub data_keys: crypto::KeyRing,
}

/// What the services are started with.
#[derive(Debug)]
pub struct Settings {
    /// Message limits and time bounds.
    pub parse: ParseConfig,
    /// Signs and checks access tokens.
    pub tokens: auth::Tokens,
    /// Requests per second (and burst) of one key or user.
    pub per_key: limits::Rate,
    /// Requests per second (and burst) of one tenant.
    pub per_tenant: limits::Rate,
    /// Origins allowed to call from a browser (CORS).
    pub cors_origins: Vec<HeaderValue>,
    /// Seals event bodies at rest (the same ring must open them after a restart).
    pub data_keys: crypto::KeyRing,
    /// How long, and how many, `messageId`s are remembered to absorb duplicates.
    pub dedup: writer::DedupSettings,
}

impl Settings {
    /// The defaults with `tokens` and `data_keys`: 32 KiB messages and 4 MiB
    /// batches, 1,000 requests per second per key and 5,000 per tenant, no CORS
    /// origin, duplicates absorbed within 24 hours (at most 2,000,000 ids
    /// remembered).
    #[must_use]
    pub fn new(tokens: auth::Tokens, data_keys: crypto::KeyRing) -> Self {
        Self {
            parse: ParseConfig::default(),
            tokens,
            data_keys,
            per_key: limits::Rate::per_second(1_000),
            per_tenant: limits::Rate::per_second(5_000),
            cors_origins: Vec::new(),
            dedup: writer::DedupSettings::default(),
        }
    }
}

/// The background tasks of a running server and the state its routes share.
#[derive(Debug)]
pub struct Services {
    state: Arc<AppState>,
    writer_task: tokio::task::JoinHandle<()>,
    pipeline_task: tokio::task::JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Services {
    /// Starts the writer and the pipeline over `db`.
    #[must_use]
    pub fn start(db: Db, settings: Settings) -> Self {
        let metrics = Arc::new(Metrics::new());
        let pipeline = Pipeline::new();
        let (handover, handed) = tokio::sync::mpsc::channel(writer::HANDOVER_QUEUE);
        let (writer, writer_task) = Writer::start(
            db.clone(),
            settings.data_keys.clone(),
            settings.dedup,
            Arc::clone(&metrics),
            handover,
            Arc::clone(&pipeline.head),
        );
        let (stop, stopped) = watch::channel(false);
        let pipeline_task = tokio::spawn(pipeline.clone().run(
            db.clone(),
            Arc::clone(&metrics),
            settings.data_keys.clone(),
            handed,
            stopped,
        ));
        let state = Arc::new(AppState {
            db,
            writer,
            pipeline,
            metrics,
            parse: settings.parse,
            tokens: settings.tokens,
            limits: limits::Limits::new(settings.per_key, settings.per_tenant),
            cors_origins: settings.cors_origins,
            data_keys: settings.data_keys,
        });
        Self {
            state,
            writer_task,
            pipeline_task,
            stop,
        }
    }

    /// The shared state.
    #[must_use]
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// The router over the shared state.
    pub fn router(&self) -> Router {
        app(self.state())
    }

    /// Stops the background work once the HTTP server has stopped (every router
    /// dropped): the writer commits what is queued, the pipeline processes every
    /// committed event, and the database is closed.
    pub async fn shutdown(self) {
        let Self {
            state,
            writer_task,
            pipeline_task,
            stop,
        } = self;
        let db = state.db.clone();
        drop(state);
        if let Err(e) = writer_task.await {
            tracing::error!(error = %e, "writer task failed");
        }
        let _ = stop.send(true);
        if let Err(e) = pipeline_task.await {
            tracing::error!(error = %e, "pipeline task failed");
        }
        db.close().await;
    }
}

/// One request of `subject` (a key or user id) in `tenant` against the rate
/// limits.
///
/// # Errors
/// `429 rate_limited` with `Retry-After`.
pub fn rate_limit(state: &AppState, tenant: &str, subject: &str) -> AppResult<()> {
    state
        .limits
        .check(tenant, subject, Instant::now())
        .map_err(|wait| {
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                None,
                format!("too many requests; retry in {wait} s"),
            )
            .with_retry_after(i64::try_from(wait).unwrap_or(i64::MAX))
        })
}

/// The API routes and the permission each needs (the matrix in `docs/server.md`;
/// the tests try every one with every role, in its own tenant and another).
/// `{id}` stands for an object of the caller's tenant.
pub const API_ROUTES: &[(&str, &str, auth::Permission)] = &[
    ("GET", "/api/v1/tenant", auth::Permission::ReadTenant),
    (
        "GET",
        "/api/v1/profiles/lookup?kind=user_id&value=u1",
        auth::Permission::ReadProfiles,
    ),
    ("POST", "/api/v1/auth/logout", auth::Permission::Session),
    ("POST", "/api/v1/auth/mfa/enroll", auth::Permission::Session),
    ("GET", "/api/v1/users", auth::Permission::ManageUsers),
    ("POST", "/api/v1/users", auth::Permission::ManageUsers),
    (
        "POST",
        "/api/v1/users/{id}/password-reset",
        auth::Permission::ManageUsers,
    ),
    ("GET", "/api/v1/keys", auth::Permission::ManageKeys),
    ("POST", "/api/v1/keys", auth::Permission::ManageKeys),
    ("DELETE", "/api/v1/keys/{id}", auth::Permission::ManageKeys),
    (
        "GET",
        "/api/v1/admin/tenants",
        auth::Permission::AdminTenants,
    ),
    (
        "POST",
        "/api/v1/admin/tenants",
        auth::Permission::AdminTenants,
    ),
    (
        "POST",
        "/api/v1/admin/tenants/{id}/suspend",
        auth::Permission::AdminTenants,
    ),
    (
        "PUT",
        "/api/v1/admin/tenants/{id}/flags",
        auth::Permission::AdminTenants,
    ),
];

/// `Ok` when `flag` is on for `tenant`, else `403 feature_disabled`.
///
/// # Errors
/// `403 feature_disabled`; database errors.
pub async fn require_flag(state: &AppState, tenant: &str, flag: flags::Flag) -> AppResult<()> {
    if state.db.tenant(tenant).flag(flag).await? {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "feature_disabled",
            None,
            format!(
                "the feature `{}` is not enabled for this tenant",
                flag.as_str()
            ),
        ))
    }
}

/// Request ids: a per-process random prefix and a counter (no client data).
#[derive(Clone, Debug)]
struct Ids {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl MakeRequestId for Ids {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The router: every route, the request-id, tracing and metrics layers.
pub fn app(state: Arc<AppState>) -> Router {
    let ids = Ids {
        prefix: secrets::new_id()
            .map(|id| id[..8].to_owned())
            .unwrap_or_else(|_| "req".to_owned())
            .into(),
        next: Arc::new(AtomicU64::new(1)),
    };
    let trace = TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<Body>| {
        // The matched route only: paths and queries may carry identifiers.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::info_span!("request", method = %req.method(), route, request_id = id)
    });
    let cors = (!state.cors_origins.is_empty()).then(|| {
        tower_http::cors::CorsLayer::new()
            .allow_origin(state.cors_origins.clone())
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::POST,
                axum::http::Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
                axum::http::header::CONTENT_ENCODING,
            ])
            .max_age(std::time::Duration::from_secs(600))
    });
    Router::new()
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/import", post(ingest::import))
        .route("/v1/track", post(ingest::track))
        .route("/v1/identify", post(ingest::identify))
        .route("/v1/page", post(ingest::page))
        .route("/v1/screen", post(ingest::screen))
        .route("/v1/group", post(ingest::group))
        .route("/v1/alias", post(ingest::alias))
        .route("/api/v1/tenant", get(tenant))
        .route("/api/v1/profiles/lookup", get(profile_lookup))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/mfa/enroll", post(auth::mfa_enroll))
        .route("/api/v1/auth/mfa/verify", post(auth::mfa_verify))
        .route("/api/v1/auth/password-reset", post(auth::password_reset))
        .route("/api/v1/users", get(auth::users).post(auth::create_user))
        .route(
            "/api/v1/users/{id}/password-reset",
            post(auth::issue_password_reset),
        )
        .route("/api/v1/keys", get(auth::keys).post(auth::create_key))
        .route("/api/v1/keys/{id}", axum::routing::delete(auth::revoke_key))
        .route(
            "/api/v1/admin/tenants",
            get(auth::tenants).post(auth::create_tenant),
        )
        .route(
            "/api/v1/admin/tenants/{id}/suspend",
            post(auth::suspend_tenant),
        )
        .route(
            "/api/v1/admin/tenants/{id}/activate",
            post(auth::activate_tenant),
        )
        .route(
            "/api/v1/admin/tenants/{id}/flags",
            axum::routing::put(auth::set_flags),
        )
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .layer(tower::util::option_layer(cors))
        .layer(trace)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(ids))
        .with_state(state)
}

/// The longest request target (path and query) the server reads; a longer one
/// answers `414 uri_too_long`. (The HTTP parser itself refuses targets over 64 KiB
/// before any route sees them, with an empty `414`.)
pub const MAX_URI_BYTES: usize = 8 * 1024;

async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let target = req.uri().path_and_query().map_or("", |p| p.as_str());
    let response = if target.len() > MAX_URI_BYTES {
        AppError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            None,
            format!(
                "the request target is {} bytes; at most {MAX_URI_BYTES} are read",
                target.len()
            ),
        )
        .into_response()
    } else if target.contains("%00") {
        // A NUL (U+0000) in a path segment or a query value: refused on every
        // database alike (PostgreSQL cannot store or compare it).
        AppError::nul_refused(None).into_response()
    } else {
        next.run(req).await
    };
    let response = error_shape(response).await;
    state.metrics.observe_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The metrics label of a method: a standard method's name, `other` for any
/// other (a client may send any token as a method; labels must stay bounded).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The stable code of an error status the handlers did not answer themselves
/// (axum's own rejections: a method the route does not take, a body over a
/// limit, a query or path that does not parse).
fn status_code_name(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => stratum_bindings::INTERNAL,
        _ => "invalid_request",
    }
}

/// The longest text of a rejection kept as the error's message.
const REJECTION_TEXT: usize = 512;

/// Any error answer that is not already the one JSON error shape, turned into it:
/// the same status and headers (`Allow`, `Retry-After`, ...), a stable code for
/// the status, and the rejection's text (if short) as the message.
async fn error_shape(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|t| !t.is_empty());
    let message = match (status, text) {
        (s, _) if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), "error answer without a body");
            "the server failed to handle the request; it has been logged".to_owned()
        }
        (StatusCode::METHOD_NOT_ALLOWED, _) => {
            "this route does not take this method; the Allow header lists those it takes".to_owned()
        }
        (_, Some(t)) => t,
        (s, None) => s.canonical_reason().unwrap_or("invalid request").to_owned(),
    };
    let shaped = AppError::new(status, status_code_name(status), None, message).into_response();
    let (shaped_parts, body) = shaped.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    for (name, value) in &shaped_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
        "this route does not take this method; the Allow header lists those it takes",
    )
}

async fn not_found() -> AppError {
    AppError::not_found("no such route")
}

/// `GET /health`: the process answers; `ready` says whether it can take traffic.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "The process answers", body = crate::openapi::Document), crate::openapi::ApiErrors))]
async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    let ready = state.db.ready().await && state.pipeline.replaying().await.is_none();
    Json(json!({"status": "ok", "ready": ready}))
}

/// `GET /health/live`: the process answers.
#[utoipa::path(get, path = "/health/live", responses((status = 200, description = "The process answers", body = crate::openapi::Document), crate::openapi::ApiErrors))]
async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /health/ready`: the database answers, every migration is applied, and
/// the pipeline has replayed the log as it was at start (`503` with
/// `pipeline_lag_events` until then: profiles would be missing).
#[utoipa::path(get, path = "/health/ready", responses((status = 200, description = "Ready", body = crate::openapi::Document), crate::openapi::ApiErrors))]
async fn ready(State(state): State<Arc<AppState>>) -> AppResult<Json<Value>> {
    if !state.db.ready().await {
        return Err(AppError::unavailable(
            "the database is not reachable or not migrated",
        ));
    }
    if let Some(lag) = state.pipeline.replaying().await {
        return Err(AppError::unavailable(format!(
            "the pipeline is replaying the event log after the start ({lag} events to go); \
             profiles are incomplete until it has"
        ))
        .with_detail("pipeline_lag_events", lag));
    }
    Ok(Json(json!({"status": "ready"})))
}

/// `GET /metrics`: Prometheus / OpenMetrics text.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "The metrics (OpenMetrics text)", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"), crate::openapi::ApiErrors))]
async fn metrics(State(state): State<Arc<AppState>>) -> AppResult<Response> {
    let pool = state.db.pool();
    state.metrics.set_pool(pool.size(), pool.num_idle());
    state.metrics.set_lag(state.pipeline.lag().await);
    let text = state.metrics.encode().map_err(|e| AppError::internal(&e))?;
    Ok((
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /api/v1/tenant`: the key's tenant and the size of its event log.
#[utoipa::path(get, path = "/api/v1/tenant", responses((status = 200, description = "The caller's tenant", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
async fn tenant(State(state): State<Arc<AppState>>, headers: HeaderMap) -> AppResult<Json<Value>> {
    let c = auth::caller(&state, &headers).await?;
    c.require(auth::Permission::ReadTenant)?;
    let scoped = state.db.tenant(&c.tenant_id);
    let t = scoped
        .get()
        .await?
        .ok_or_else(|| AppError::not_found("no such tenant"))?;
    let events = scoped.event_count().await?;
    let flags = flags::effective(&t.tier, &scoped.flag_overrides().await?);
    Ok(Json(json!({
        "id": t.id, "name": t.name, "tier": t.tier, "status": t.status, "events": events,
        "flags": flags,
    })))
}

#[derive(serde::Deserialize)]
struct LookupQuery {
    kind: Option<String>,
    value: Option<String>,
}

/// `GET /api/v1/profiles/lookup?kind=user_id&value=u1`: the profile an identifier
/// resolves to (as far as the pipeline has processed the log).
#[utoipa::path(get, path = "/api/v1/profiles/lookup", params(("kind" = Option<String>, Query, description = "user_id, anonymous_id, email, phone, device_id, advertising_id or click_id"), ("value" = Option<String>, Query, description = "The identifier")), responses((status = 200, description = "The profile", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
async fn profile_lookup(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<LookupQuery>,
) -> AppResult<Json<Value>> {
    let c = auth::caller(&state, &headers).await?;
    c.require(auth::Permission::ReadProfiles)?;
    require_flag(&state, &c.tenant_id, flags::Flag::ProfileApi).await?;
    let tenant = c.tenant_id;
    let (Some(kind), Some(value)) = (q.kind, q.value) else {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "missing_required_field",
            Some("kind"),
            "`kind` (user_id, anonymous_id, email, ...) and `value` are required",
        ));
    };
    let kind: IdentifierKind = serde_json::from_value(Value::String(kind)).map_err(|_| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("kind"),
            "unknown identifier kind: use user_id, anonymous_id, email, phone, device_id, \
             advertising_id or click_id",
        )
    })?;
    let id = Identifier::new(kind, &value);
    let profile = state.pipeline.profiles.lock().await.lookup(&tenant, &id);
    let lag = state
        .pipeline
        .replaying()
        .await
        .unwrap_or(0)
        .max(state.pipeline.lag().await);
    let Some(profile) = profile else {
        // A lag says "not processed yet, perhaps"; none says "does not exist".
        let message = if lag > 0 {
            format!(
                "no profile has this identifier yet: {lag} committed events are not \
                 processed yet; retry later"
            )
        } else {
            "no profile has this identifier".to_owned()
        };
        return Err(AppError::not_found(message).with_detail("pipeline_lag_events", lag));
    };
    Ok(Json(
        json!({"profile": profile, "pipeline_lag_events": lag}),
    ))
}
