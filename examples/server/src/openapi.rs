//! The OpenAPI 3.1 document (`GET /api/v1/openapi.json`), generated from the
//! handlers' annotations and the schemas below.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::AppState;

/// The one error shape.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ErrorDetail {
    /// A stable code (the crates' codes and the server's).
    code: String,
    /// What is wrong and what is allowed.
    message: String,
    /// The offending field, when the error is about one.
    field: Option<String>,
    /// Events committed but not processed yet, on a profile look-up's `404` and a
    /// `503` of `/health/ready` during the start-up replay: a profile may exist
    /// once they are.
    pipeline_lag_events: Option<u64>,
}

/// A Segment batch: `batch` holds the messages; `context` and `integrations`
/// apply to each message that does not set them; `writeKey` when not sent as the
/// Basic user.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub(crate) struct BatchRequest {
    #[schema(value_type = Vec<Object>)]
    batch: Vec<Value>,
    #[schema(value_type = Option<Object>)]
    context: Option<Value>,
    #[schema(value_type = Option<Object>)]
    integrations: Option<Value>,
    writeKey: Option<String>,
}

/// A batch's outcome: the valid messages were committed; the invalid ones are
/// listed by index.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct BatchResponse {
    success: bool,
    accepted: u64,
    rejected: Vec<Rejected>,
}

/// A message of a batch that was not accepted.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Rejected {
    index: u64,
    code: String,
    message: String,
    field: Option<String>,
}

/// One Segment message (`track`, `identify`, ...); its `type` may be left out.
#[derive(ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub(crate) struct MessageRequest(Value);

/// Success.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Success {
    success: bool,
}

/// A JSON document (see the route's description).
#[derive(ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub(crate) struct Document(Value);

/// The error answers of the API routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ApiErrors {
    /// Invalid input.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid credentials.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Not permitted, the feature is off, or the tenant is suspended.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object in the caller's tenant.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The route does not take this method (`method_not_allowed`); see `Allow`.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// Conflict.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is over the limit (`too_large`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The request target (path and query) is over 8 KiB (`uri_too_long`).
    #[response(status = 414)]
    UriTooLong(ErrorBody),
    /// Rate limited or locked; see `Retry-After`.
    #[response(status = 429)]
    TooMany(ErrorBody),
    /// Unavailable (shutting down, database unreachable).
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The error answers of the ingest routes.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum IngestErrors {
    /// Not JSON, too large, or invalid.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or unknown write key.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The tenant is suspended, or the feature is off.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The route does not take this method (`method_not_allowed`); see `Allow`.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// The request target (path and query) is over 8 KiB (`uri_too_long`).
    #[response(status = 414)]
    UriTooLong(ErrorBody),
    /// Rate limited; see `Retry-After`.
    #[response(status = 429)]
    TooMany(ErrorBody),
    /// Shutting down.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or API key")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Stratum reference server", description = "Multi-tenant service with Segment-compatible ingest (docs/server.md)."),
    paths(
        crate::ingest::batch, crate::ingest::import, crate::ingest::track, crate::ingest::identify,
        crate::ingest::page, crate::ingest::screen, crate::ingest::group, crate::ingest::alias,
        crate::tenant, crate::profile_lookup,
        crate::auth::login, crate::auth::refresh, crate::auth::logout, crate::auth::mfa_enroll,
        crate::auth::mfa_verify, crate::auth::password_reset, crate::auth::issue_password_reset,
        crate::auth::users, crate::auth::create_user, crate::auth::keys, crate::auth::create_key,
        crate::auth::revoke_key, crate::auth::tenants, crate::auth::create_tenant,
        crate::auth::suspend_tenant, crate::auth::activate_tenant, crate::auth::set_flags,
        crate::health, crate::live, crate::ready, crate::metrics, document,
    ),
    components(schemas(ErrorBody, ErrorDetail, BatchRequest, BatchResponse, Rejected, MessageRequest, Success, Document)),
    modifiers(&Security),
)]
pub(crate) struct Api;

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "The OpenAPI 3.1 document of the server", body = Document), ApiErrors))]
pub(crate) async fn document(State(_): State<Arc<AppState>>) -> Json<utoipa::openapi::OpenApi> {
    Json(Api::openapi())
}
