//! Logins, tokens, MFA, resets, and the tenant-isolation matrix: every API route ×
//! every role × own and other tenant, from the route table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use stratum_server::auth::{Permission, ROLES, Role, Tokens};
use stratum_server::db::{CreatedTenant, Db};
use stratum_server::{API_ROUTES, Services, secrets, totp};
use tower::ServiceExt as _;

mod common;

const SECRET: [u8; 32] = [7u8; 32];

struct Server {
    _store: common::Store,
    db: Db,
    services: Services,
    app: Router,
    a: CreatedTenant,
    b: CreatedTenant,
}

async fn server() -> Server {
    let store = common::Store::new();
    let db = store.open().await;
    let (a, b) = common::two_tenants(&db, "pro").await;
    let services = Services::start(
        db.clone(),
        stratum_server::Settings::new(
            Tokens::new(&SECRET).unwrap(),
            stratum_server::crypto::KeyRing::parse(
                &stratum_server::crypto::KeyRing::generate("k1").unwrap(),
            )
            .unwrap(),
        ),
    );
    let app = services.router();
    Server {
        _store: store,
        db,
        services,
        app,
        a,
        b,
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let retry = res.headers().get("retry-after").cloned();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(r) = retry {
        v["retry_after_header"] = json!(r.to_str().unwrap());
    }
    (status, v)
}

async fn login(app: &Router, email: &str, password: &str) -> Value {
    let (status, body) = call(
        app,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A user of `tenant` with `role` and a known password.
async fn user(db: &Db, tenant: &str, role: Role, email: &str) -> (String, String) {
    let password = "a long enough password".to_owned();
    let id = secrets::new_id().unwrap();
    let hash = secrets::hash_password(&password).unwrap();
    assert!(
        db.tenant(tenant)
            .add_user(&id, email, &hash, role.as_str(), stratum_server::now())
            .await
            .unwrap()
    );
    (id, password)
}

fn jwt(header: &Value, claims: &Value, key: &[u8]) -> String {
    use hmac::Mac as _;
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let signing = format!("{}.{}", enc(header), enc(claims));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(signing.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing}.{sig}")
}

#[tokio::test]
async fn tokens_refresh_rotation_reuse_and_logout() {
    let s = server().await;
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(pair["expires_in"], 1800);
    assert_eq!(pair["refresh_expires_in"], 7 * 86400);
    assert_eq!(
        call(&s.app, "GET", "/api/v1/users", Some(&access), Value::Null)
            .await
            .0,
        StatusCode::OK
    );

    // Wrong password and unknown email: the same answer.
    for (email, pw) in [
        ("admin@a.example", "wrong password!!"),
        ("nobody@a.example", "whatever password"),
    ] {
        let (status, body) = call(
            &s.app,
            "POST",
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": pw}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("invalid_credentials"))
        );
    }

    // Rotation: the new refresh token works once; the spent one revokes the family.
    let r1 = pair["refresh_token"].as_str().unwrap().to_owned();
    let (status, next) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    let r2 = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("refresh_reused"))
    );
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": r2}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the whole family is revoked"
    );

    // Logout ends every session: access and refresh tokens alike.
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &s.app,
            "POST",
            "/api/v1/auth/logout",
            Some(&access),
            Value::Null
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = call(&s.app, "GET", "/api/v1/users", Some(&access), Value::Null).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_token"))
    );
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair["refresh_token"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_refused() {
    let s = server().await;
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let good = pair["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let now = stratum_server::now().timestamp();
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    // Same claims, re-signed with our key: accepted (the forging helper is right).
    assert_eq!(
        call(
            &s.app,
            "GET",
            "/api/v1/users",
            Some(&jwt(&hs, &claims, &SECRET)),
            Value::Null
        )
        .await
        .0,
        StatusCode::OK
    );

    let mut other_tenant = claims.clone();
    other_tenant["tid"] = json!(s.b.tenant.id);
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 3600);
    expired["exp"] = json!(now - 1800);
    let mut refresh_typed = claims.clone();
    refresh_typed["typ"] = json!("refresh");
    let parts: Vec<&str> = good.split('.').collect();
    let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let tampered_payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(other_tenant.to_string());
    for (name, token) in [
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "alg none with the old signature",
            format!("{none_header}.{}.{}", parts[1], parts[2]),
        ),
        ("wrong key", jwt(&hs, &claims, &[8u8; 32])),
        (
            "tampered claims, original signature",
            format!("{}.{tampered_payload}.{}", parts[0], parts[2]),
        ),
        ("expired", jwt(&hs, &expired, &SECRET)),
        ("not an access token", jwt(&hs, &refresh_typed, &SECRET)),
        (
            "HS512",
            jwt(&json!({"alg": "HS512", "typ": "JWT"}), &claims, &SECRET),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let (status, body) = call(&s.app, "GET", "/api/v1/users", Some(&token), Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
    }
    // A user whose claims name another tenant, validly signed: that tenant has no
    // such user.
    let (status, _) = call(
        &s.app,
        "GET",
        "/api/v1/users",
        Some(&jwt(&hs, &other_tenant, &SECRET)),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn totp_enrolment_login_backup_codes_and_lockout() {
    let s = server().await;
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let (status, enrol) = call(
        &s.app,
        "POST",
        "/api/v1/auth/mfa/enroll",
        Some(&access),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        enrol["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Stratum:admin@a.example?secret=")
    );
    let secret = totp::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    let code = |secret: &[u8]| {
        format!(
            "{:06}",
            totp::code_at(
                secret,
                u64::try_from(stratum_server::now().timestamp()).unwrap()
            )
        )
    };
    let next_code = |secret: &[u8]| {
        format!(
            "{:06}",
            totp::code_at(
                secret,
                u64::try_from(stratum_server::now().timestamp()).unwrap() + totp::STEP
            )
        )
    };
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/mfa/verify",
        Some(&access),
        json!({"code": "000000"}),
    )
    .await;
    assert!(status == StatusCode::BAD_REQUEST || code(&secret) == "000000");
    let (status, verified) = call(
        &s.app,
        "POST",
        "/api/v1/auth/mfa/verify",
        Some(&access),
        json!({"code": code(&secret)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let backup: Vec<String> = verified["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(backup.len(), 10);

    let creds = |extra: Value| {
        let mut v = json!({"email": "admin@a.example", "password": s.a.admin_password});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let (status, body) = call(&s.app, "POST", "/api/v1/auth/login", None, creds(json!({}))).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("mfa_required"))
    );
    // `mfa/verify` used the current step's code; the next step's is accepted
    // (one step of drift), once.
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        creds(json!({"totp_code": next_code(&secret)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A backup code works once.
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        creds(json!({"backup_code": backup[0]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        creds(json!({"backup_code": backup[0]})),
    )
    .await;
    assert_eq!(
        (
            status,
            body["error"]["code"].clone(),
            body["error"]["field"].clone()
        ),
        (
            StatusCode::UNAUTHORIZED,
            json!("invalid_mfa"),
            json!("backup_code")
        ),
        "the spent code's own field"
    );

    // Brute-forcing the code locks the account, even against the right code.
    let wrong = if code(&secret) == "123456" {
        "654321"
    } else {
        "123456"
    };
    for _ in 0..4 {
        let (status, _) = call(
            &s.app,
            "POST",
            "/api/v1/auth/login",
            None,
            creds(json!({"totp_code": wrong})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        creds(json!({"totp_code": code(&secret)})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("account_locked")),
        "{body}"
    );
    assert!(
        body["retry_after_header"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn a_password_reset_token_works_once_and_ends_old_sessions() {
    let s = server().await;
    let (uid, old_pw) = user(&s.db, &s.a.tenant.id, Role::Viewer, "viewer@a.example").await;
    let viewer = login(&s.app, "viewer@a.example", &old_pw).await;
    let admin = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let admin_token = admin["access_token"].as_str().unwrap();
    let (status, reset) = call(
        &s.app,
        "POST",
        &format!("/api/v1/users/{uid}/password-reset"),
        Some(admin_token),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = reset["token"].as_str().unwrap();
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"token": token, "new_password": "short"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("new_password")),
        "the field the request named"
    );
    let new_pw = "a brand new long password";
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"token": token, "new_password": new_pw}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"token": token, "new_password": new_pw}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "single use");
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"email": "viewer@a.example", "password": old_pw}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    login(&s.app, "viewer@a.example", new_pw).await;
    let (status, _) = call(
        &s.app,
        "GET",
        "/api/v1/tenant",
        Some(viewer["access_token"].as_str().unwrap()),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session ended");
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn suspending_a_tenant_stops_its_keys_and_logins() {
    let s = server().await;
    let (_, pw) = user(&s.db, &s.a.tenant.id, Role::Superadmin, "root@a.example").await;
    let root = login(&s.app, "root@a.example", &pw).await;
    let root = root["access_token"].as_str().unwrap();
    let b_admin = login(&s.app, "admin@b.example", &s.b.admin_password).await;
    let (status, _) = call(
        &s.app,
        "POST",
        &format!("/api/v1/admin/tenants/{}/suspend", s.b.tenant.id),
        Some(root),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for token in [
        b_admin["access_token"].as_str().unwrap(),
        s.b.api_key.as_str(),
    ] {
        let (status, body) = call(&s.app, "GET", "/api/v1/tenant", Some(token), Value::Null).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (StatusCode::FORBIDDEN, json!("tenant_suspended"))
        );
    }
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"email": "admin@b.example", "password": s.b.admin_password}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &s.app,
        "POST",
        &format!("/api/v1/admin/tenants/{}/activate", s.b.tenant.id),
        Some(root),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call(
            &s.app,
            "GET",
            "/api/v1/tenant",
            Some(&s.b.api_key),
            Value::Null
        )
        .await
        .0,
        StatusCode::OK
    );
    drop(s.app);
    s.services.shutdown().await;
}

/// Every route of the route table × every role (and an API key) × own and other
/// tenant: allowed where the matrix says so, `403` elsewhere, and `404` for an
/// object of another tenant.
#[tokio::test]
async fn tenant_isolation_matrix() {
    let s = server().await;
    let a = s.a.tenant.id.clone();
    let now = stratum_server::now();
    // Objects of each tenant that `{id}` routes name.
    let (a_user, _) = user(&s.db, &a, Role::Viewer, "target@a.example").await;
    let (b_user, _) = user(&s.db, &s.b.tenant.id, Role::Viewer, "target@b.example").await;
    let spare =
        s.db.create_tenant("Spare", "free", "admin@spare.example", now)
            .await
            .unwrap();

    // (login, password, role): people of every role, and the API key.
    let mut callers: Vec<(String, String, Role)> = Vec::new();
    for role in ROLES {
        let email = format!("{}-user@a.example", role.as_str());
        let (_, pw) = user(&s.db, &a, role, &email).await;
        callers.push((email, pw, role));
    }
    callers.push((String::new(), s.a.api_key.clone(), Role::Viewer));

    let mut checked = 0;
    for (email, password, role) in &callers {
        let is_key = email.is_empty();
        let mut token = if is_key {
            password.clone()
        } else {
            login(&s.app, email, password).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        for &(method, path, permission) in API_ROUTES {
            let allowed = role.can(permission) && !(is_key && permission == Permission::Session);
            for own in [true, false] {
                if !path.contains("{id}") && !own {
                    continue;
                }
                // Fresh objects per call: keys get revoked.
                let (a_key, _) =
                    s.db.tenant(&a)
                        .add_key(secrets::KeyKind::Api, now)
                        .await
                        .unwrap();
                let (b_key, _) =
                    s.db.tenant(&s.b.tenant.id)
                        .add_key(secrets::KeyKind::Api, now)
                        .await
                        .unwrap();
                let id = match (path, own) {
                    (p, true) if p.starts_with("/api/v1/users/") => a_user.clone(),
                    (p, false) if p.starts_with("/api/v1/users/") => b_user.clone(),
                    (p, true) if p.starts_with("/api/v1/keys/") => a_key,
                    (p, false) if p.starts_with("/api/v1/keys/") => b_key,
                    (_, _) => spare.tenant.id.clone(),
                };
                let body = match (method, path) {
                    ("POST", "/api/v1/users") => {
                        json!({"email": format!("new-{checked}@a.example"), "role": "viewer"})
                    }
                    ("POST", "/api/v1/keys") => json!({"kind": "write"}),
                    ("PUT", "/api/v1/admin/tenants/{id}/flags") => json!({"import": true}),
                    ("POST", "/api/v1/admin/tenants") => {
                        json!({"name": "T", "tier": "free", "admin_email": format!("t{checked}@t.example")})
                    }
                    _ => Value::Null,
                };
                let uri = path.replace("{id}", &id);
                let (status, out) = call(&s.app, method, &uri, Some(&token), body).await;
                let what = format!(
                    "{method} {uri} as {role:?} (key: {is_key}, own: {own}): {status} {out}"
                );
                if !allowed {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                    assert_eq!(out["error"]["code"], "forbidden", "{what}");
                } else if !own && permission != Permission::AdminTenants {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
                } else {
                    let not_found_ok = status == StatusCode::NOT_FOUND && path.contains("profiles");
                    assert!(status.is_success() || not_found_ok, "{what}");
                }
                checked += 1;
                // A logout ends the session: log in again for the next routes.
                if path == "/api/v1/auth/logout" && allowed {
                    token = login(&s.app, email, password).await["access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                }
            }
        }
    }
    let per_caller: usize = API_ROUTES
        .iter()
        .map(|(_, path, _)| if path.contains("{id}") { 2 } else { 1 })
        .sum();
    assert_eq!(checked, per_caller * callers.len());
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn feature_flags_follow_the_tier_unless_a_superadmin_overrides_them() {
    let s = server().await;
    let (_, pw) = user(&s.db, &s.a.tenant.id, Role::Superadmin, "root@a.example").await;
    let root = login(&s.app, "root@a.example", &pw).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", s.a.write_key))
    );
    let import = |app: Router, auth: String| async move {
        let req = Request::post("/v1/import")
            .header("authorization", auth)
            .body(Body::from(
                json!({"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": "i1"}]}).to_string(),
            ))
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let body: Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        (status, body)
    };
    // Tenant A is on the free tier: no import.
    let (status, body) = import(s.app.clone(), basic.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("feature_disabled"))
    );
    let (_, t) = call(
        &s.app,
        "GET",
        "/api/v1/tenant",
        Some(&s.a.api_key),
        Value::Null,
    )
    .await;
    assert_eq!(t["flags"], json!({"import": false, "profile_api": true}));
    // Tenant B is on the pro tier: import is on.
    let (_, t) = call(
        &s.app,
        "GET",
        "/api/v1/tenant",
        Some(&s.b.api_key),
        Value::Null,
    )
    .await;
    assert_eq!(t["flags"]["import"], true);

    // A superadmin turns import on for A and the profile API off.
    let flags = format!("/api/v1/admin/tenants/{}/flags", s.a.tenant.id);
    let (status, out) = call(
        &s.app,
        "PUT",
        &flags,
        Some(&root),
        json!({"import": true, "profile_api": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["flags"], json!({"import": true, "profile_api": false}));
    assert_eq!(import(s.app.clone(), basic.clone()).await.0, StatusCode::OK);
    let (status, body) = call(
        &s.app,
        "GET",
        "/api/v1/profiles/lookup?kind=user_id&value=u",
        Some(&s.a.api_key),
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("feature_disabled"))
    );
    // `null` returns to the tier's default.
    let (_, out) = call(
        &s.app,
        "PUT",
        &flags,
        Some(&root),
        json!({"import": null, "profile_api": null}),
    )
    .await;
    assert_eq!(out["flags"], json!({"import": false, "profile_api": true}));
    // Unknown flags and tiers are refused; an admin may not set flags.
    let (status, out) = call(
        &s.app,
        "PUT",
        &flags,
        Some(&root),
        json!({"teleport": true}),
    )
    .await;
    assert_eq!(
        (status, out["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("teleport"))
    );
    let (status, out) = call(
        &s.app,
        "POST",
        "/api/v1/admin/tenants",
        Some(&root),
        json!({"name": "X", "tier": "platinum", "admin_email": "x@x.example"}),
    )
    .await;
    assert_eq!(
        (status, out["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("tier"))
    );
    let admin = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let (status, _) = call(
        &s.app,
        "PUT",
        &flags,
        admin["access_token"].as_str(),
        json!({"import": true}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    drop(s.app);
    s.services.shutdown().await;
}

/// The code of `secret` `steps` steps from now.
fn totp_code(secret: &[u8], steps: u64) -> String {
    let now = u64::try_from(stratum_server::now().timestamp()).unwrap();
    format!("{:06}", totp::code_at(secret, now + steps * totp::STEP))
}

/// Turns MFA on for the holder of `access` (the current step's code verifies);
/// returns the secret, the backup codes and the code that verified.
async fn enable_mfa(app: &Router, access: &str) -> (Vec<u8>, Vec<String>, String) {
    let (status, enrol) = call(
        app,
        "POST",
        "/api/v1/auth/mfa/enroll",
        Some(access),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enrol}");
    let secret = totp::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    let code = totp_code(&secret, 0);
    let (status, verified) = call(
        app,
        "POST",
        "/api/v1/auth/mfa/verify",
        Some(access),
        json!({"code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let backup = verified["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, backup, code)
}

/// Sends `bodies` to `path` all at once; returns the statuses and bodies.
async fn call_parallel(
    app: &Router,
    path: &str,
    token: Option<&str>,
    bodies: Vec<Value>,
) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let (app, path, token) = (app.clone(), path.to_owned(), token.map(str::to_owned));
            tokio::spawn(async move { call(&app, "POST", &path, token.as_deref(), b).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(results: &[(StatusCode, Value)], status: StatusCode) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test]
async fn enrolling_again_while_mfa_is_on_keeps_it_on_until_the_new_secret_is_verified() {
    let s = server().await;
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let (old_secret, backup, _) = enable_mfa(&s.app, &access).await;
    let password_only = json!({"email": "admin@a.example", "password": s.a.admin_password});
    let stored = || async {
        s.db.user_by_email("admin@a.example")
            .await
            .unwrap()
            .unwrap()
    };

    // Without the current factor, enrolling is refused and changes nothing.
    for body in [Value::Null, json!({}), json!({"totp_code": "12345"})] {
        let (status, out) = call(
            &s.app,
            "POST",
            "/api/v1/auth/mfa/enroll",
            Some(&access),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{out}");
        assert!(
            ["mfa_required", "invalid_mfa"].contains(&out["error"]["code"].as_str().unwrap()),
            "{out}"
        );
        assert_eq!(out["error"]["field"], "totp_code");
    }
    let (status, out) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        password_only.clone(),
    )
    .await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("mfa_required")),
        "MFA is still on"
    );

    // With a backup code, a new secret waits; the old one stays in force.
    let (status, enrol) = call(
        &s.app,
        "POST",
        "/api/v1/auth/mfa/enroll",
        Some(&access),
        json!({"backup_code": backup[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enrol}");
    let new_secret = totp::from_base32(enrol["secret"].as_str().unwrap()).unwrap();
    let user = stored().await;
    assert!(user.totp_enabled);
    assert_eq!(user.totp_secret.as_deref(), Some(old_secret.as_slice()));
    assert_eq!(
        user.totp_pending_secret.as_deref(),
        Some(new_secret.as_slice())
    );
    let (status, out) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        password_only.clone(),
    )
    .await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("mfa_required"))
    );
    let mut with_backup = password_only.clone();
    with_backup["backup_code"] = json!(backup[1]);
    let (status, out) = call(&s.app, "POST", "/api/v1/auth/login", None, with_backup).await;
    assert_eq!(status, StatusCode::OK, "the old factor still works: {out}");

    // Verifying the new secret makes it the active one, with new backup codes.
    let (status, verified) = call(
        &s.app,
        "POST",
        "/api/v1/auth/mfa/verify",
        Some(&access),
        json!({"code": totp_code(&new_secret, 1)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let user = stored().await;
    assert!(user.totp_enabled);
    assert_eq!(user.totp_secret.as_deref(), Some(new_secret.as_slice()));
    assert_eq!(user.totp_pending_secret, None);
    let mut old_backup = password_only.clone();
    old_backup["backup_code"] = json!(backup[2]);
    let (status, out) = call(&s.app, "POST", "/api/v1/auth/login", None, old_backup).await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_mfa")),
        "the old backup codes were replaced"
    );
    let mut new_backup = password_only;
    new_backup["backup_code"] = verified["backup_codes"][0].clone();
    let (status, out) = call(&s.app, "POST", "/api/v1/auth/login", None, new_backup).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_cannot_get_past_the_lockout() {
    let s = server().await;
    let max = usize::try_from(stratum_server::auth::MAX_FAILURES).unwrap();

    // 100 wrong passwords at once: exactly five are checked, the rest refused
    // unchecked; then the right password is refused too.
    let (_, right) = user(&s.db, &s.a.tenant.id, Role::Viewer, "many@a.example").await;
    let bodies = (0..100)
        .map(|i| json!({"email": "many@a.example", "password": format!("wrong password {i}")}))
        .collect();
    let out = call_parallel(&s.app, "/api/v1/auth/login", None, bodies).await;
    assert_eq!(count(&out, StatusCode::UNAUTHORIZED), max, "{out:?}");
    assert_eq!(count(&out, StatusCode::TOO_MANY_REQUESTS), 100 - max);
    for (status, body) in &out {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error"]["code"], "account_locked");
            assert!(
                body["retry_after_header"]
                    .as_str()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
                    > 0
            );
        }
    }
    let (status, _) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"email": "many@a.example", "password": right}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // 39 wrong and 1 right at once: the lockout still holds. A right password
    // clears the count, so at most the attempts before it and `max - 1` after
    // it are checked.
    let (_, right) = user(&s.db, &s.a.tenant.id, Role::Viewer, "mixed@a.example").await;
    let mut bodies: Vec<Value> = (0..39)
        .map(|i| json!({"email": "mixed@a.example", "password": format!("wrong password {i}")}))
        .collect();
    bodies.insert(20, json!({"email": "mixed@a.example", "password": right}));
    let out = call_parallel(&s.app, "/api/v1/auth/login", None, bodies).await;
    let checked = count(&out, StatusCode::UNAUTHORIZED) + count(&out, StatusCode::OK);
    assert!(checked < 2 * max, "{checked} checked: {out:?}");
    assert!(count(&out, StatusCode::TOO_MANY_REQUESTS) >= 40 - (2 * max - 1));
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argon2_runs_at_most_the_machines_parallelism_at_once() {
    let s = server().await;
    let limit = secrets::argon2_limit();
    // Unknown emails (the dummy hash), wrong passwords, and user creation.
    let mut bodies: Vec<Value> = (0..4 * limit + 2)
        .map(|i| json!({"email": format!("nobody{i}@a.example"), "password": "a wrong password"}))
        .collect();
    bodies.push(json!({"email": "admin@b.example", "password": "a wrong password"}));
    let out = call_parallel(&s.app, "/api/v1/auth/login", None, bodies).await;
    assert!(
        out.iter().all(|(s, _)| *s == StatusCode::UNAUTHORIZED),
        "{out:?}"
    );
    let admin = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let bodies = (0..limit + 2)
        .map(|i| json!({"email": format!("new{i}@a.example"), "role": "viewer"}))
        .collect();
    let out = call_parallel(
        &s.app,
        "/api/v1/users",
        admin["access_token"].as_str(),
        bodies,
    )
    .await;
    assert!(
        out.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{out:?}"
    );
    let peak = secrets::argon2_peak();
    assert!(peak >= 1 && peak <= limit, "peak {peak}, limit {limit}");
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn a_reused_refresh_token_ends_every_session_of_its_user() {
    let s = server().await;
    let first = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let other = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, rotated) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Another user's session is not touched.
    let bystander = login(&s.app, "admin@b.example", &s.b.admin_password).await;
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("refresh_reused"))
    );
    for pair in [&first, &rotated, &other] {
        let (status, body) = call(
            &s.app,
            "GET",
            "/api/v1/tenant",
            pair["access_token"].as_str(),
            Value::Null,
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("invalid_token")),
            "every access token of the user is refused"
        );
    }
    for refresh in [&rotated["refresh_token"], &other["refresh_token"]] {
        let (status, _) = call(
            &s.app,
            "POST",
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = call(
        &s.app,
        "GET",
        "/api/v1/tenant",
        bystander["access_token"].as_str(),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A new login works.
    login(&s.app, "admin@a.example", &s.a.admin_password).await;
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tenants_with_one_admin_email_create_one() {
    let s = server().await;
    let (_, pw) = user(&s.db, &s.a.tenant.id, Role::Superadmin, "root@a.example").await;
    let root = login(&s.app, "root@a.example", &pw).await;
    let bodies = (0..8)
        .map(|i| json!({"name": format!("Twin {i}"), "tier": "free", "admin_email": "twin@x.example"}))
        .collect();
    let out = call_parallel(
        &s.app,
        "/api/v1/admin/tenants",
        root["access_token"].as_str(),
        bodies,
    )
    .await;
    assert_eq!(count(&out, StatusCode::CREATED), 1, "{out:?}");
    assert_eq!(count(&out, StatusCode::CONFLICT), 7, "{out:?}");
    for (status, body) in &out {
        if *status == StatusCode::CONFLICT {
            assert_eq!(body["error"]["code"], "conflict");
            assert_eq!(body["error"]["field"], "admin_email");
        }
    }
    let twins: Vec<_> =
        s.db.tenants()
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.name.starts_with("Twin "))
            .collect();
    assert_eq!(twins.len(), 1, "no tenant without its admin");
    let (_, created) = out.iter().find(|(s, _)| *s == StatusCode::CREATED).unwrap();
    assert_eq!(created["id"], twins[0].id);
    login(
        &s.app,
        "twin@x.example",
        created["admin_password"].as_str().unwrap(),
    )
    .await;
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_totp_code_is_accepted_once() {
    let s = server().await;
    let pair = login(&s.app, "admin@a.example", &s.a.admin_password).await;
    let (secret, _, spent) = enable_mfa(&s.app, pair["access_token"].as_str().unwrap()).await;
    // The code `mfa/verify` took is spent.
    let (status, body) = call(
        &s.app,
        "POST",
        "/api/v1/auth/login",
        None,
        json!({"email": "admin@a.example", "password": s.a.admin_password, "totp_code": spent}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_mfa"))
    );
    // The next step's code, sent four times at once, opens one session.
    let code = totp_code(&secret, 1);
    let body =
        json!({"email": "admin@a.example", "password": s.a.admin_password, "totp_code": code});
    let out = call_parallel(&s.app, "/api/v1/auth/login", None, vec![body; 4]).await;
    assert_eq!(count(&out, StatusCode::OK), 1, "{out:?}");
    for (status, body) in &out {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"]["code"], "invalid_mfa");
            assert_eq!(body["error"]["field"], "totp_code");
        }
    }
    drop(s.app);
    s.services.shutdown().await;
}
