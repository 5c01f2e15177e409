//! Who is calling and what they may do: roles and one permission matrix, JWT
//! access tokens (30 minutes) and refresh tokens (7 days, rotated on every use; a
//! reused one ends every session of its user), logout, TOTP MFA (each code
//! accepted once) with single-use backup codes and a lockout after repeated
//! failures, and password resets.
//!
//! A login attempt is counted before its password is checked, in one statement
//! ([`crate::db::TenantDb::reserve_login_attempt`]), so parallel attempts cannot
//! get past the lockout; Argon2 runs through [`secrets::run_argon2`], never more than
//! the machine's parallelism at once.
//!
//! Access tokens are HS256 JWTs signed with the server's secret (from
//! `STRATUM_JWT_SECRET`, a file, or generated once into the data directory); only
//! HS256 is accepted, so `alg: none` and other algorithms are refused. Expiry is
//! checked against the server's clock passed in, and a token issued before the
//! user's last logout or password change no longer counts. The role is read from
//! the database on every request, so a role change applies at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::db::{CreateError, TenantDb, User};
use crate::error::{AppError, AppResult};
use crate::secrets::{self, KeyKind};
use crate::totp;

/// How long an access token lasts.
pub const ACCESS_TTL: TimeDelta = TimeDelta::minutes(30);
/// How long a refresh token lasts.
pub const REFRESH_TTL: TimeDelta = TimeDelta::days(7);
/// How long a password-reset token lasts.
pub const RESET_TTL: TimeDelta = TimeDelta::hours(1);
/// Consecutive failed logins (password or second factor) before a lockout.
pub const MAX_FAILURES: i64 = 5;
/// How long a lockout lasts.
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(15);
/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Backup codes issued when MFA is enabled.
pub const BACKUP_CODES: usize = 10;

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operates the service: every tenant.
    Superadmin,
    /// Runs one tenant: its users and keys.
    Admin,
    /// Works with one tenant's data.
    MediaBuyer,
    /// Reads one tenant's data.
    Viewer,
}

/// Every role, in matrix order.
pub const ROLES: [Role; 4] = [
    Role::Superadmin,
    Role::Admin,
    Role::MediaBuyer,
    Role::Viewer,
];

impl Role {
    /// The stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Superadmin => "superadmin",
            Self::Admin => "admin",
            Self::MediaBuyer => "media_buyer",
            Self::Viewer => "viewer",
        }
    }

    /// A role from its stored spelling.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        ROLES.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role grants `p` (the one permission matrix).
    #[must_use]
    pub fn can(self, p: Permission) -> bool {
        use Permission as P;
        match self {
            Self::Superadmin => true,
            Self::Admin => !matches!(p, P::AdminTenants),
            Self::MediaBuyer | Self::Viewer => {
                matches!(p, P::ReadTenant | P::ReadProfiles | P::Session)
            }
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Manage one's own session and second factor (people only).
    Session,
    /// Read the tenant and its figures.
    ReadTenant,
    /// Read profiles.
    ReadProfiles,
    /// Manage the tenant's users.
    ManageUsers,
    /// Manage the tenant's write and API keys.
    ManageKeys,
    /// List, create, suspend and reactivate tenants.
    AdminTenants,
}

/// Every permission, in matrix order.
pub const PERMISSIONS: [Permission; 6] = [
    Permission::Session,
    Permission::ReadTenant,
    Permission::ReadProfiles,
    Permission::ManageUsers,
    Permission::ManageKeys,
    Permission::AdminTenants,
];

/// The authenticated caller of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant the caller acts in.
    pub tenant_id: String,
    /// The caller's role (an API key acts as a `viewer`).
    pub role: Role,
    /// The user, for a person (none for an API key).
    pub user_id: Option<String>,
}

impl Caller {
    /// `Ok` when the caller's role grants `p`, else `403 forbidden`.
    ///
    /// # Errors
    /// `403` with code `forbidden`.
    pub fn require(&self, p: Permission) -> AppResult<()> {
        let allowed = self.role.can(p) && (p != Permission::Session || self.user_id.is_some());
        if allowed {
            Ok(())
        } else {
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
                format!("the role `{}` may not do this", self.role.as_str()),
            ))
        }
    }

    fn user(&self) -> AppResult<&str> {
        self.user_id.as_deref().ok_or_else(|| {
            AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
                "only a person may do this",
            )
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    tid: String,
    iat: i64,
    exp: i64,
    typ: String,
    /// The issue time in microseconds: a session ended at a given instant
    /// refuses every token issued up to it, and none issued after.
    iat_us: i64,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(..)")
    }
}

impl Tokens {
    /// Tokens signed with `secret` (at least 32 bytes).
    ///
    /// # Errors
    /// A shorter secret.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the token secret must be at least 32 bytes".to_owned());
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    fn issue(&self, user: &User, now: DateTime<Utc>) -> AppResult<String> {
        let claims = Claims {
            sub: user.id.clone(),
            tid: user.tenant_id.clone(),
            iat: now.timestamp(),
            exp: (now + ACCESS_TTL).timestamp(),
            typ: "access".to_owned(),
            iat_us: now.timestamp_micros(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(&e))
    }

    fn check(&self, token: &str, now: DateTime<Utc>) -> AppResult<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the clock passed in.
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| invalid_token("the access token is not valid"))?;
        let c = data.claims;
        if c.typ != "access" {
            return Err(invalid_token("not an access token"));
        }
        if now.timestamp() >= c.exp {
            return Err(invalid_token("the access token has expired"));
        }
        Ok(c)
    }
}

fn invalid_token(message: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "invalid_token", None, message)
}

fn invalid_credentials() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
        "wrong email or password",
    )
}

fn suspended() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "tenant_suspended",
        None,
        "the tenant is suspended",
    )
}

/// The caller of a request: `Authorization: Bearer <access token or API key>`.
///
/// # Errors
/// `401` without credentials or with invalid ones; `403` for a suspended tenant.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> AppResult<Caller> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| {
            AppError::unauthorized("credentials are required: `Authorization: Bearer <token>`")
        })?;
    if token.starts_with("ak_") {
        return match state.db.key_owner(token, KeyKind::Api).await? {
            Some(o) if o.tenant_active => {
                crate::rate_limit(state, &o.tenant_id, &o.key_id)?;
                Ok(Caller {
                    tenant_id: o.tenant_id,
                    role: Role::Viewer,
                    user_id: None,
                })
            }
            Some(_) => Err(suspended()),
            None => Err(AppError::unauthorized("unknown or revoked API key")),
        };
    }
    let now = crate::now();
    let claims = state.tokens.check(token, now)?;
    let scoped = state.db.tenant(&claims.tid);
    let user = scoped
        .user(&claims.sub)
        .await?
        .ok_or_else(|| invalid_token("the user no longer exists"))?;
    if user
        .tokens_valid_after
        .is_some_and(|after| claims.iat_us <= after.timestamp_micros())
    {
        return Err(invalid_token(
            "the session has ended (logout or password change)",
        ));
    }
    let tenant = scoped
        .get()
        .await?
        .ok_or_else(|| invalid_token("no such tenant"))?;
    if tenant.status != "active" {
        return Err(suspended());
    }
    let role =
        Role::parse(&user.role).ok_or_else(|| AppError::internal(&"a stored role is unknown"))?;
    Ok(Caller {
        tenant_id: user.tenant_id,
        role,
        user_id: Some(user.id),
    })
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
            "the body is not UTF-8",
        )
    })?;
    if crate::error::escapes_nul(bytes) {
        return Err(AppError::nul_refused(None));
    }
    stratum_bindings::from_json(text).map_err(AppError::bad_request)
}

async fn issue_pair(
    state: &AppState,
    user: &User,
    family: &str,
    now: DateTime<Utc>,
) -> AppResult<Value> {
    let access = state.tokens.issue(user, now)?;
    let refresh = secrets::new_token("rt_").map_err(|e| AppError::internal(&e))?;
    state
        .db
        .tenant(&user.tenant_id)
        .add_refresh_token(
            &user.id,
            family,
            &secrets::key_hash(&refresh),
            now + REFRESH_TTL,
            now,
        )
        .await?;
    Ok(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL.num_seconds(),
        "refresh_token": refresh,
        "refresh_expires_in": REFRESH_TTL.num_seconds(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    /// The login.
    email: String,
    /// The password.
    password: String,
    /// The current TOTP code, when MFA is on.
    #[serde(default)]
    totp_code: Option<String>,
    /// A single-use backup code, instead of a TOTP code.
    #[serde(default)]
    backup_code: Option<String>,
}

/// A hash to verify against when the email is unknown, so that both cases take
/// the same time (computed once, through [`secrets::run_argon2`]).
async fn dummy_hash() -> AppResult<String> {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_try_init(|| secrets::hash_password_bounded("not a real password".to_owned()))
        .await
        .cloned()
        .map_err(|e| AppError::internal(&e))
}

fn account_locked(retry: i64) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "account_locked",
        None,
        format!("too many failed logins; retry in {retry} s"),
    )
    .with_retry_after(retry)
}

/// Counts an attempt at a user's credentials before they are checked (see
/// [`TenantDb::reserve_login_attempt`]); `429 account_locked` when the user is
/// locked, and then nothing may be checked.
async fn reserve_attempt(
    scoped: &TenantDb<'_>,
    user_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if scoped
        .reserve_login_attempt(user_id, MAX_FAILURES, now, now + LOCKOUT)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let until = scoped
        .user(user_id)
        .await?
        .and_then(|u| u.locked_until)
        .filter(|u| *u > now);
    Err(account_locked(
        until.map_or(1, |u| (u - now).num_seconds().max(1)),
    ))
}

fn mfa_required() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "mfa_required",
        Some("totp_code"),
        "this account requires a one-time code (`totp_code`) or a backup code (`backup_code`)",
    )
}

fn invalid_mfa(field: &str, message: &str) -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_mfa",
        Some(field),
        message,
    )
}

/// Checks a user's second factor: a TOTP code of the active secret, accepted
/// once (a code whose step is not later than the last accepted one is refused),
/// or a single-use backup code. The attempt must have been reserved.
async fn second_factor(
    scoped: &TenantDb<'_>,
    user: &User,
    totp_code: Option<&str>,
    backup_code: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match (totp_code, backup_code) {
        (Some(code), _) => {
            let step = user.totp_secret.as_deref().and_then(|secret| {
                u64::try_from(now.timestamp())
                    .ok()
                    .and_then(|t| totp::verify_step(secret, code, t))
                    .and_then(|step| i64::try_from(step).ok())
            });
            match step {
                Some(step) if scoped.accept_totp_step(&user.id, step).await? => Ok(()),
                _ => Err(invalid_mfa(
                    "totp_code",
                    "wrong one-time code, or one used already (wait for the next one)",
                )),
            }
        }
        (None, Some(code)) => {
            if scoped
                .use_backup_code(&user.id, &secrets::key_hash(code.trim()), now)
                .await?
            {
                Ok(())
            } else {
                Err(invalid_mfa("backup_code", "wrong or spent backup code"))
            }
        }
        (None, None) => Err(mfa_required()),
    }
}

/// The stored form of a login: trimmed, lower case.
fn login_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// [`login_email`] for a new login, which must look like an e-mail address.
fn new_login_email(raw: &str, field: &str) -> AppResult<String> {
    let email = login_email(raw);
    if !email.contains('@') || email.len() > 254 {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(field),
            "not an email address",
        ));
    }
    Ok(email)
}

/// `POST /api/v1/auth/login`: `{"email", "password", "totp_code"?, "backup_code"?}`.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body(content = Login, content_type = "application/json"), responses((status = 200, description = "An access and a refresh token", body = crate::openapi::Document), crate::openapi::ApiErrors))]
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    bytes: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let req: Login = body(&bytes)?;
    let now = crate::now();
    let Some(user) = state.db.user_by_email(&login_email(&req.email)).await? else {
        // The same Argon2 work as a wrong password, so both take as long.
        let _ = secrets::verify_password_bounded(req.password, dummy_hash().await?).await;
        return Err(invalid_credentials());
    };
    let scoped = state.db.tenant(&user.tenant_id);
    // Counted before the slow check: parallel attempts each take a place, and
    // none is checked once the limit is reached.
    reserve_attempt(&scoped, &user.id, now).await?;
    if !secrets::verify_password_bounded(req.password, user.password_hash.clone()).await {
        return Err(invalid_credentials());
    }
    if user.totp_enabled {
        second_factor(
            &scoped,
            &user,
            req.totp_code.as_deref(),
            req.backup_code.as_deref(),
            now,
        )
        .await?;
    }
    scoped.clear_login_failures(&user.id).await?;
    let tenant = scoped.get().await?.ok_or_else(invalid_credentials)?;
    if tenant.status != "active" {
        return Err(suspended());
    }
    let family = secrets::new_id().map_err(|e| AppError::internal(&e))?;
    Ok(Json(issue_pair(&state, &user, &family, now).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Refresh {
    /// The refresh token of the last pair.
    refresh_token: String,
}

/// `POST /api/v1/auth/refresh`: `{"refresh_token"}` → a new pair; the old token is
/// spent. Presenting a spent token again means it may have been stolen: every
/// session of its user ends (all refresh tokens revoked, all access tokens
/// issued so far refused).
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body(content = Refresh, content_type = "application/json"), responses((status = 200, description = "A new pair", body = crate::openapi::Document), crate::openapi::ApiErrors))]
pub(crate) async fn refresh(
    State(state): State<Arc<AppState>>,
    bytes: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let req: Refresh = body(&bytes)?;
    let now = crate::now();
    let Some(token) = state
        .db
        .refresh_token(&secrets::key_hash(&req.refresh_token))
        .await?
    else {
        return Err(invalid_token("unknown refresh token"));
    };
    let scoped = state.db.tenant(&token.tenant_id);
    if token.revoked || token.expires_at <= now {
        return Err(invalid_token(
            "the refresh token has expired or was revoked",
        ));
    }
    if token.used || !scoped.use_refresh_token(&token.id, now).await? {
        scoped.revoke_user_tokens(&token.user_id, now).await?;
        tracing::warn!(family = %token.family_id, "refresh token reused: every session of its user ended");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "refresh_reused",
            None,
            "this refresh token was already used, so it may have been stolen: every session \
             of its user has ended (all refresh and access tokens); log in again",
        ));
    }
    let user = scoped
        .user(&token.user_id)
        .await?
        .ok_or_else(|| invalid_token("the user no longer exists"))?;
    let tenant = scoped
        .get()
        .await?
        .ok_or_else(|| invalid_token("no such tenant"))?;
    if tenant.status != "active" {
        return Err(suspended());
    }
    Ok(Json(
        issue_pair(&state, &user, &token.family_id, now).await?,
    ))
}

/// `POST /api/v1/auth/logout`: ends every session of the caller (refresh tokens
/// revoked, access tokens no longer accepted).
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204, description = "Every session ended"), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::Session)?;
    state
        .db
        .tenant(&c.tenant_id)
        .revoke_user_tokens(c.user()?, crate::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Enroll {
    /// The current TOTP code, when MFA is on.
    #[serde(default)]
    totp_code: Option<String>,
    /// A single-use backup code, instead of a TOTP code.
    #[serde(default)]
    backup_code: Option<String>,
}

/// `POST /api/v1/auth/mfa/enroll`: a new TOTP secret for the caller (its URI for an
/// authenticator app), pending until confirmed with `mfa/verify`. While MFA is
/// on, the body must prove the current factor (`{"totp_code"}` or
/// `{"backup_code"}`, counted like a login attempt), and the active secret stays
/// in force until the new one is verified.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enroll", request_body(content = Option<Enroll>, content_type = "application/json"), responses((status = 200, description = "The TOTP secret and its URI", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn mfa_enroll(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::Session)?;
    let req: Enroll = if bytes.iter().all(u8::is_ascii_whitespace) {
        Enroll::default()
    } else {
        body(&bytes)?
    };
    let scoped = state.db.tenant(&c.tenant_id);
    let user = scoped
        .user(c.user()?)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    if user.totp_enabled {
        let (totp_code, backup_code) = (req.totp_code.as_deref(), req.backup_code.as_deref());
        if totp_code.is_none() && backup_code.is_none() {
            return Err(mfa_required());
        }
        let now = crate::now();
        reserve_attempt(&scoped, &user.id, now).await?;
        second_factor(&scoped, &user, totp_code, backup_code, now).await?;
        scoped.clear_login_failures(&user.id).await?;
    }
    let secret = secrets::random_bytes::<20>().map_err(|e| AppError::internal(&e))?;
    scoped.set_pending_totp_secret(&user.id, &secret).await?;
    Ok(Json(json!({
        "secret": totp::base32(&secret),
        "otpauth_uri": totp::otpauth_uri("Stratum", &user.email, &secret),
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Code {
    /// The six-digit code the authenticator shows.
    #[schema(pattern = "^[0-9]{6}$")]
    code: String,
}

/// `POST /api/v1/auth/mfa/verify`: `{"code"}` of the pending secret from the
/// authenticator: that secret becomes the active one, MFA is then required at
/// login, and new single-use backup codes are returned once (the old ones stop
/// working).
#[utoipa::path(post, path = "/api/v1/auth/mfa/verify", request_body(content = Code, content_type = "application/json"), responses((status = 200, description = "MFA on; the backup codes", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn mfa_verify(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::Session)?;
    let req: Code = body(&bytes)?;
    let scoped = state.db.tenant(&c.tenant_id);
    let user = scoped
        .user(c.user()?)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    let Some(secret) = &user.totp_pending_secret else {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "mfa_not_enrolled",
            None,
            "no secret awaits verification: start with POST /api/v1/auth/mfa/enroll",
        ));
    };
    let now = crate::now();
    let wrong_code = || {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_mfa",
            Some("code"),
            "wrong one-time code, or one used already (wait for the next one)",
        )
    };
    let Some(step) = u64::try_from(now.timestamp())
        .ok()
        .and_then(|t| totp::verify_step(secret, &req.code, t))
        .and_then(|step| i64::try_from(step).ok())
    else {
        return Err(wrong_code());
    };
    let mut codes = Vec::with_capacity(BACKUP_CODES);
    let mut hashes = Vec::with_capacity(BACKUP_CODES);
    for _ in 0..BACKUP_CODES {
        let code =
            totp::base32(&secrets::random_bytes::<10>().map_err(|e| AppError::internal(&e))?);
        hashes.push((
            secrets::new_id().map_err(|e| AppError::internal(&e))?,
            secrets::key_hash(&code),
        ));
        codes.push(code);
    }
    if !scoped.enable_totp(&user.id, secret, step, &hashes).await? {
        // The code's step was used already, or the secret was enrolled again
        // meanwhile (then this code is of a secret that no longer waits).
        return Err(wrong_code());
    }
    Ok(Json(json!({"mfa_enabled": true, "backup_codes": codes})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetConfirm {
    /// The reset token.
    token: String,
    /// The new password (at least 12 characters).
    #[schema(min_length = 12)]
    new_password: String,
}

fn check_password(p: &str, field: &str) -> AppResult<()> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some(field),
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

async fn hash(password: String) -> AppResult<String> {
    secrets::hash_password_bounded(password)
        .await
        .map_err(|e| AppError::internal(&e))
}

/// `POST /api/v1/auth/password-reset`: `{"token", "new_password"}`: a reset token
/// (single use, one hour) sets a new password and ends every session.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", request_body(content = ResetConfirm, content_type = "application/json"), responses((status = 204, description = "Password set"), crate::openapi::ApiErrors))]
pub(crate) async fn password_reset(
    State(state): State<Arc<AppState>>,
    bytes: axum::body::Bytes,
) -> AppResult<StatusCode> {
    let req: ResetConfirm = body(&bytes)?;
    check_password(&req.new_password, "new_password")?;
    let now = crate::now();
    let Some((tenant, user)) = state
        .db
        .take_password_reset(&secrets::key_hash(&req.token), now)
        .await?
    else {
        return Err(invalid_token("unknown, used or expired reset token"));
    };
    let h = hash(req.new_password).await?;
    state
        .db
        .tenant(&tenant)
        .set_password(&user, &h, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{id}/password-reset` (manage users): a reset token for a
/// user of the caller's tenant, returned once (deliver it to the person).
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", params(("id" = String, Path, description = "User id")), responses((status = 200, description = "A reset token", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn issue_password_reset(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageUsers)?;
    let scoped = state.db.tenant(&c.tenant_id);
    let user = scoped
        .user(&user_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    let token = secrets::new_token("pr_").map_err(|e| AppError::internal(&e))?;
    let expires = crate::now() + RESET_TTL;
    scoped
        .add_password_reset(&user.id, &secrets::key_hash(&token), expires)
        .await?;
    Ok(Json(
        json!({"token": token, "expires_in": RESET_TTL.num_seconds()}),
    ))
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "email": u.email, "role": u.role, "mfa_enabled": u.totp_enabled})
}

/// `GET /api/v1/users` (manage users).
#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, description = "The tenant's users", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn users(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageUsers)?;
    let users = state.db.tenant(&c.tenant_id).users().await?;
    Ok(Json(
        json!({"users": users.iter().map(user_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// The login: an e-mail address.
    #[schema(pattern = "@", max_length = 254)]
    email: String,
    /// The role.
    role: Role,
}

/// `POST /api/v1/users` (manage users): `{"email", "role"}`; the first password is
/// returned once. Only a superadmin may create a superadmin.
#[utoipa::path(post, path = "/api/v1/users", request_body(content = NewUser, content_type = "application/json"), responses((status = 201, description = "The user and a first password", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageUsers)?;
    let req: NewUser = body(&bytes)?;
    if req.role == Role::Superadmin && c.role != Role::Superadmin {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Some("role"),
            "only a superadmin may create a superadmin",
        ));
    }
    let email = new_login_email(&req.email, "email")?;
    let password = secrets::new_password().map_err(|e| AppError::internal(&e))?;
    let h = hash(password.clone()).await?;
    let id = secrets::new_id().map_err(|e| AppError::internal(&e))?;
    let scoped = state.db.tenant(&c.tenant_id);
    if !scoped
        .add_user(&id, &email, &h, req.role.as_str(), crate::now())
        .await?
    {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            Some("email"),
            "this email already has a login",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "email": email, "role": req.role, "password": password})),
    ))
}

/// `GET /api/v1/keys` (manage keys): the tenant's keys (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/keys", responses((status = 200, description = "The tenant's keys", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn keys(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageKeys)?;
    Ok(Json(
        json!({"keys": state.db.tenant(&c.tenant_id).keys().await?}),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    /// `write` (ingest) or `api` (the REST API).
    #[schema(pattern = "^(write|api)$")]
    kind: String,
}

/// `POST /api/v1/keys` (manage keys): `{"kind": "write" | "api"}`; the key is
/// returned once.
#[utoipa::path(post, path = "/api/v1/keys", request_body(content = NewKey, content_type = "application/json"), responses((status = 201, description = "The key, shown once", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn create_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageKeys)?;
    let req: NewKey = body(&bytes)?;
    let kind = match req.kind.as_str() {
        "write" => KeyKind::Write,
        "api" => KeyKind::Api,
        _ => {
            return Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_value",
                Some("kind"),
                "`write` or `api`",
            ));
        }
    };
    let (id, key) = state
        .db
        .tenant(&c.tenant_id)
        .add_key(kind, crate::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "kind": kind.as_str(), "key": key})),
    ))
}

/// `DELETE /api/v1/keys/{id}` (manage keys): revokes a key at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", params(("id" = String, Path, description = "Key id")), responses((status = 204, description = "Revoked"), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn revoke_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::ManageKeys)?;
    if state
        .db
        .tenant(&c.tenant_id)
        .revoke_key(&id, crate::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found("no such live key"))
    }
}

/// `GET /api/v1/admin/tenants` (superadmin).
#[utoipa::path(get, path = "/api/v1/admin/tenants", responses((status = 200, description = "Every tenant", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn tenants(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::AdminTenants)?;
    let list: Vec<Value> = state
        .db
        .tenants()
        .await?
        .into_iter()
        .map(|t| json!({"id": t.id, "name": t.name, "tier": t.tier, "status": t.status}))
        .collect();
    Ok(Json(json!({"tenants": list})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenant {
    /// Its display name.
    name: String,
    /// `free`, `pro` or `enterprise`.
    #[schema(pattern = "^(free|pro|enterprise)$")]
    tier: String,
    /// Its admin's login: an e-mail address.
    #[schema(pattern = "@", max_length = 254)]
    admin_email: String,
}

/// `POST /api/v1/admin/tenants` (superadmin): a tenant with its admin, a write key
/// and an API key (the secrets returned once).
#[utoipa::path(post, path = "/api/v1/admin/tenants", request_body(content = NewTenant, content_type = "application/json"), responses((status = 201, description = "The tenant and its secrets, shown once", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn create_tenant(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::AdminTenants)?;
    let req: NewTenant = body(&bytes)?;
    if !crate::flags::TIERS.contains(&req.tier.as_str()) {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            Some("tier"),
            format!("the tier is one of {}", crate::flags::TIERS.join(", ")),
        ));
    }
    let email = new_login_email(&req.admin_email, "admin_email")?;
    let conflict = || {
        AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            Some("admin_email"),
            "this email already has a login",
        )
    };
    // A quick refusal before hashing a password; the transaction below decides.
    if state.db.user_by_email(&email).await?.is_some() {
        return Err(conflict());
    }
    let t = match state
        .db
        .create_tenant(&req.name, &req.tier, &email, crate::now())
        .await
    {
        Ok(t) => t,
        // Another request took the email since the check above: nothing was
        // created.
        Err(CreateError::EmailTaken) => return Err(conflict()),
        Err(CreateError::Db(e)) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": t.tenant.id, "name": t.tenant.name, "tier": t.tenant.tier, "status": t.tenant.status,
            "admin_email": t.admin_email, "admin_password": t.admin_password,
            "write_key": t.write_key, "api_key": t.api_key,
        })),
    ))
}

async fn set_status(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    status: &str,
) -> AppResult<Json<Value>> {
    let c = caller(state, headers).await?;
    c.require(Permission::AdminTenants)?;
    if !state.db.tenant(id).set_status(status).await? {
        return Err(AppError::not_found("no such tenant"));
    }
    Ok(Json(json!({"id": id, "status": status})))
}

/// `POST /api/v1/admin/tenants/{id}/suspend` (superadmin): the tenant's keys and
/// logins stop working at once.
#[utoipa::path(post, path = "/api/v1/admin/tenants/{id}/suspend", params(("id" = String, Path, description = "Tenant id")), responses((status = 200, description = "Suspended", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn suspend_tenant(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    set_status(&state, &headers, &id, "suspended").await
}

/// `POST /api/v1/admin/tenants/{id}/activate` (superadmin).
#[utoipa::path(post, path = "/api/v1/admin/tenants/{id}/activate", params(("id" = String, Path, description = "Tenant id")), responses((status = 200, description = "Active", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn activate_tenant(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    set_status(&state, &headers, &id, "active").await
}

/// `PUT /api/v1/admin/tenants/{id}/flags` (superadmin): `{"flag": true | false |
/// null}` per flag to override (`null` returns to the tier's default); answers
/// the tenant's flags.
#[utoipa::path(put, path = "/api/v1/admin/tenants/{id}/flags", request_body(content = crate::openapi::Document, content_type = "application/json"), params(("id" = String, Path, description = "Tenant id")), responses((status = 200, description = "The tenant's flags", body = crate::openapi::Document), crate::openapi::ApiErrors), security(("bearer" = [])))]
pub(crate) async fn set_flags(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let c = caller(&state, &headers).await?;
    c.require(Permission::AdminTenants)?;
    let req: std::collections::BTreeMap<String, Option<bool>> = body(&bytes)?;
    for name in req.keys() {
        if crate::flags::Flag::parse(name).is_none() {
            let known: Vec<&str> = crate::flags::FLAGS.iter().map(|f| f.as_str()).collect();
            return Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_value",
                Some(name),
                format!("unknown flag; the flags are {}", known.join(", ")),
            ));
        }
    }
    let scoped = state.db.tenant(&id);
    let tenant = scoped
        .get()
        .await?
        .ok_or_else(|| AppError::not_found("no such tenant"))?;
    for (name, value) in &req {
        scoped.set_flag(name, *value).await?;
    }
    let flags = crate::flags::effective(&tenant.tier, &scoped.flag_overrides().await?);
    Ok(Json(json!({"id": id, "tier": tenant.tier, "flags": flags})))
}
