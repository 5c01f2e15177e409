//! The routes, driven in process with `tower::ServiceExt::oneshot` over a real
//! SQLite file: ingest (auth, encodings, limits, partial batches, duplicates),
//! the pipeline, the error shape, operations routes, and a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use stratum_server::Services;
use stratum_server::db::CreatedTenant;
use tower::ServiceExt as _;

mod common;

struct Server {
    store: common::Store,
    services: Services,
    app: Router,
    demo: CreatedTenant,
}

/// A fresh store with the demo tenant.
async fn demo_store() -> (common::Store, stratum_server::db::Db, CreatedTenant) {
    let store = common::Store::new();
    let db = store.open().await;
    let demo = db
        .create_tenant("Demo", "free", "admin@demo.local", stratum_server::now())
        .await
        .unwrap();
    (store, db, demo)
}

async fn server() -> Server {
    let (store, db, demo) = demo_store().await;
    let services = Services::start(db, stratum_server::Settings::new(tokens(), data_keys()));
    let app = services.router();
    Server {
        store,
        services,
        app,
        demo,
    }
}

/// One fixed ring for every start of a test (a restart must open the log).
fn data_keys() -> stratum_server::crypto::KeyRing {
    stratum_server::crypto::KeyRing::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .unwrap()
}

fn tokens() -> stratum_server::auth::Tokens {
    stratum_server::auth::Tokens::new(&[7u8; 32]).unwrap()
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn post(path: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", basic(k));
    }
    b.body(body.into()).unwrap()
}

fn get(path: &str, api_key: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {api_key}"))
        .body(Body::empty())
        .unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The profile `kind=value` resolves to, once the pipeline has processed the log.
async fn profile(app: &Router, api_key: &str, kind: &str, value: &str) -> Value {
    for _ in 0..200 {
        let (status, body) = call(
            app,
            get(
                &format!("/api/v1/profiles/lookup?kind={kind}&value={value}"),
                api_key,
            ),
        )
        .await;
        if status == StatusCode::OK && body["pipeline_lag_events"] == 0 {
            return body["profile"].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no profile for {kind}={value}");
}

/// Waits until `/health/ready` answers `200` (the start-up replay is done).
async fn wait_ready(app: &Router) {
    for _ in 0..500 {
        let (status, _) = call(
            app,
            Request::get("/health/ready").body(Body::empty()).unwrap(),
        )
        .await;
        if status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never ready");
}

/// The `/metrics` text (every response carries a request id).
async fn metrics_text(app: &Router) -> String {
    let res = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn events(app: &Router, api_key: &str) -> i64 {
    let (status, body) = call(app, get("/api/v1/tenant", api_key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_i64().unwrap()
}

#[tokio::test]
async fn a_batch_is_committed_resolved_and_its_duplicates_absorbed() {
    let s = server().await;
    let key = s.demo.write_key.as_str();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "Ann@Example.com", "plan": "pro"}},
        {"type": "track", "anonymousId": "a1", "event": "Viewed", "messageId": "m2"},
        {"type": "alias", "previousId": "a1", "userId": "u1", "messageId": "m3"},
    ]});
    let (status, body) = call(&s.app, post("/v1/batch", Some(key), batch.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "accepted": 3, "rejected": []})
    );
    // The alias merged the anonymous visitor into the user.
    let by_anon = profile(&s.app, &s.demo.api_key, "anonymous_id", "a1").await;
    let by_user = profile(&s.app, &s.demo.api_key, "user_id", "u1").await;
    assert_eq!(by_anon["id"], by_user["id"]);
    assert_eq!(by_user["traits"]["plan"]["value"], "pro");
    // The same messages again: absorbed, nothing added.
    let (status, _) = call(&s.app, post("/v1/batch", Some(key), batch.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events(&s.app, &s.demo.api_key).await, 3);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn the_write_key_comes_from_basic_auth_or_the_body_and_nothing_else() {
    let s = server().await;
    let msg = |id: &str| json!({"userId": "u1", "event": "E", "messageId": id});
    // HTTP Basic user, empty password.
    let (status, _) = call(
        &s.app,
        post("/v1/track", Some(&s.demo.write_key), msg("m1").to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // `writeKey` in the body, sent as text/plain (navigator.sendBeacon).
    let mut m = msg("m2");
    m["writeKey"] = json!(s.demo.write_key);
    let req = Request::post("/v1/track")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(Body::from(m.to_string()))
        .unwrap();
    assert_eq!(call(&s.app, req).await.0, StatusCode::OK);
    // No key, an unknown key, the API key in place of the write key.
    for key in [None, Some("wk_unknown"), Some(s.demo.api_key.as_str())] {
        let (status, body) = call(&s.app, post("/v1/track", key, msg("m3").to_string())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // The write key does not open the API.
    let (status, _) = call(&s.app, get("/api/v1/tenant", &s.demo.write_key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(events(&s.app, &s.demo.api_key).await, 2);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn gzip_bodies_limits_and_bad_input_get_the_one_error_shape() {
    let s = server().await;
    let key = s.demo.write_key.as_str();
    // gzip
    let body = json!({"batch": [{"type": "page", "anonymousId": "a1", "messageId": "g1", "name": "Home"}]});
    let req = Request::post("/v1/batch")
        .header("authorization", basic(key))
        .header("content-encoding", "gzip")
        .body(Body::from(gzip(body.to_string().as_bytes())))
        .unwrap();
    let (status, out) = call(&s.app, req).await;
    assert_eq!(
        (status, out["accepted"].clone()),
        (StatusCode::OK, json!(1))
    );

    // Not JSON; a batch over 4 MB; a message over 32 KB (alone and in a batch).
    let (status, out) = call(&s.app, post("/v1/batch", Some(key), "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(out["error"]["code"], "invalid_json");
    let big = "x".repeat(4 * 1024 * 1024 + 1);
    let (status, out) = call(&s.app, post("/v1/batch", Some(key), big)).await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("too_large"))
    );
    let huge = json!({"userId": "u1", "event": "E", "messageId": "h1", "properties": {"blob": "y".repeat(40_000)}});
    let (status, out) = call(&s.app, post("/v1/track", Some(key), huge.to_string())).await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("too_large"))
    );
    let mixed = json!({"batch": [huge, {"type": "track", "userId": "u1", "event": "E", "messageId": "ok1"}, {"type": "track", "event": "E", "messageId": "noid"}]});
    let (status, out) = call(&s.app, post("/v1/batch", Some(key), mixed.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["accepted"], 1);
    let codes: Vec<(i64, String)> = out["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_i64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            (0, "too_large".to_owned()),
            (2, "missing_identity".to_owned())
        ]
    );

    // A one-message endpoint refuses a message of another type.
    let (status, out) = call(
        &s.app,
        post(
            "/v1/identify",
            Some(key),
            json!({"type": "track", "userId": "u1", "event": "E"}).to_string(),
        ),
    )
    .await;
    assert_eq!(
        (status, out["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("type"))
    );

    // Unknown routes and unknown identifier kinds: the same shape.
    let (status, out) = call(&s.app, get("/nope", &s.demo.api_key)).await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, out) = call(
        &s.app,
        get("/api/v1/profiles/lookup?kind=ssn&value=1", &s.demo.api_key),
    )
    .await;
    assert_eq!(
        (status, out["error"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("kind"))
    );
    assert_eq!(events(&s.app, &s.demo.api_key).await, 2);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn operations_routes_answer() {
    let s = server().await;
    wait_ready(&s.app).await;
    let (status, body) = call(
        &s.app,
        Request::get("/health/ready").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));
    let (status, _) = call(
        &s.app,
        Request::get("/health/live").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&s.app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body["ready"].clone()),
        (StatusCode::OK, json!(true))
    );
    call(
        &s.app,
        post(
            "/v1/track",
            Some(&s.demo.write_key),
            json!({"userId": "u", "event": "E", "messageId": "x"}).to_string(),
        ),
    )
    .await;
    let text = metrics_text(&s.app).await;
    for name in [
        "stratum_http_requests_total{route=\"/v1/track\",method=\"POST\",status=\"200\"} 1",
        "stratum_http_request_duration_seconds_bucket",
        "stratum_ingest_events_total{outcome=\"new\"} 1",
        "stratum_pipeline_lag_events",
        "stratum_db_pool_connections",
        "stratum_commit_rows_bucket",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_are_all_committed_exactly_once() {
    let s = server().await;
    let mut tasks = Vec::new();
    for r in 0..16 {
        let app = s.app.clone();
        let key = s.demo.write_key.clone();
        tasks.push(tokio::spawn(async move {
            let batch: Vec<Value> = (0..50)
                .map(|i| json!({"type": "track", "userId": format!("u{}", i % 7), "event": "E", "messageId": format!("r{r}-{i}")}))
                .collect();
            let body = json!({ "batch": batch }).to_string();
            call(&app, post("/v1/batch", Some(&key), body)).await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(events(&s.app, &s.demo.api_key).await, 16 * 50);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn after_a_restart_every_event_is_there_once_and_profiles_are_the_same() {
    let s = server().await;
    let key = s.demo.write_key.clone();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "pro"}},
        {"type": "identify", "anonymousId": "a9", "messageId": "m2", "traits": {"email": "z@example.com"}},
        {"type": "alias", "previousId": "a9", "userId": "u1", "messageId": "m3"},
    ]});
    assert_eq!(
        call(&s.app, post("/v1/batch", Some(&key), batch.to_string()))
            .await
            .0,
        StatusCode::OK
    );
    let before = profile(&s.app, &s.demo.api_key, "user_id", "u1").await;
    let (demo, store) = (s.demo.clone(), s.store);
    drop(s.app);
    s.services.shutdown().await;

    let db = store.open().await;
    let services = Services::start(db, stratum_server::Settings::new(tokens(), data_keys()));
    let app = services.router();
    let after = profile(&app, &demo.api_key, "user_id", "u1").await;
    assert_eq!(after, before);
    assert_eq!(events(&app, &demo.api_key).await, 3);
    // Replays of the same messages after the restart are still absorbed.
    assert_eq!(
        call(&app, post("/v1/batch", Some(&key), batch.to_string()))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(events(&app, &demo.api_key).await, 3);
    drop(app);
    services.shutdown().await;
    drop(store);
}

#[tokio::test]
async fn a_tenant_sees_nothing_of_another_tenant() {
    let s = server().await;
    let other = s
        .services
        .state()
        .db
        .create_tenant(
            "Other",
            "free",
            "admin@other.example",
            stratum_server::now(),
        )
        .await
        .unwrap();
    let msg = json!({"type": "identify", "userId": "shared-id", "messageId": "m1", "traits": {"plan": "pro"}});
    let (status, _) = call(
        &s.app,
        post("/v1/identify", Some(&s.demo.write_key), msg.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mine = profile(&s.app, &s.demo.api_key, "user_id", "shared-id").await;
    assert_eq!(mine["traits"]["plan"]["value"], "pro");
    // The other tenant's key finds nothing of it, and its log is its own.
    let (status, body) = call(
        &s.app,
        get(
            "/api/v1/profiles/lookup?kind=user_id&value=shared-id",
            &other.api_key,
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    assert_eq!(events(&s.app, &other.api_key).await, 0);
    // The same messageId in the other tenant is a different event.
    let (status, _) = call(
        &s.app,
        post("/v1/identify", Some(&other.write_key), msg.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events(&s.app, &other.api_key).await, 1);
    assert_eq!(events(&s.app, &s.demo.api_key).await, 1);
    drop(s.app);
    s.services.shutdown().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_per_key_and_per_tenant() {
    let store = common::Store::new();
    let db = store.open().await;
    let now = stratum_server::now();
    let (a, b) = common::two_tenants(&db, "free").await;
    let (_, second_key) = db
        .tenant(&a.tenant.id)
        .add_key(stratum_server::secrets::KeyKind::Write, now)
        .await
        .unwrap();
    let mut settings = stratum_server::Settings::new(tokens(), data_keys());
    // Slow refills (one token per 100 s), so that the test does not depend on
    // how fast the machine runs it.
    settings.per_key = stratum_server::limits::Rate {
        per_second: 0.01,
        burst: 3.0,
    };
    settings.per_tenant = stratum_server::limits::Rate {
        per_second: 0.01,
        burst: 5.0,
    };
    settings.cors_origins = vec![axum::http::HeaderValue::from_static("https://shop.example")];
    let services = Services::start(db, settings);
    let app = services.router();
    let msg =
        |i: usize| json!({"userId": "u", "event": "E", "messageId": format!("m{i}")}).to_string();
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(call(&app, post("/v1/track", Some(&a.write_key), msg(i))).await);
    }
    assert!(
        statuses[..3].iter().all(|(s, _)| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[3].0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(statuses[3].1["error"]["code"], "rate_limited");
    let res = app
        .clone()
        .oneshot(post("/v1/track", Some(&a.write_key), msg(9)))
        .await
        .unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&retry), "{retry}");
    // Another key of the same tenant: its own bucket, until the tenant's is empty
    // (3 of the tenant's 5 are spent; a refused request takes none).
    assert_eq!(
        call(&app, post("/v1/track", Some(&second_key), msg(10)))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, post("/v1/track", Some(&second_key), msg(11)))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, post("/v1/track", Some(&second_key), msg(12)))
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another tenant is not affected.
    assert_eq!(
        call(&app, post("/v1/track", Some(&b.write_key), msg(1)))
            .await
            .0,
        StatusCode::OK
    );

    // CORS: a preflight from an allowed origin, and none for another.
    let preflight = |origin: &'static str| {
        Request::options("/v1/batch")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let res = app
        .clone()
        .oneshot(preflight("https://shop.example"))
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let res = app
        .clone()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    drop(app);
    services.shutdown().await;
}

/// Event bodies hold raw PII (traits, IPs): none of it is in the database file,
/// and the bodies still feed the pipeline.
#[tokio::test]
async fn event_bodies_are_encrypted_at_rest() {
    let s = server().await;
    let msg = json!({"type": "identify", "userId": "u-secret", "messageId": "p1",
        "traits": {"email": "very.private@example.com", "phone": "+14155550123"},
        "context": {"ip": "198.51.100.77"}});
    let (status, _) = call(
        &s.app,
        post("/v1/identify", Some(&s.demo.write_key), msg.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let p = profile(&s.app, &s.demo.api_key, "user_id", "u-secret").await;
    assert_eq!(p["traits"]["email"]["value"], "very.private@example.com");
    drop(s.app);
    s.services.shutdown().await;
    // What the database holds, read back through SQL (either backend)...
    let db = s.store.open().await;
    let mut tx = db.tenant(&s.demo.tenant.id).begin().await.unwrap();
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM event_blocks")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    db.close().await;
    let mut text = bodies.join("\n");
    // ...and, on SQLite, every byte of the files.
    if let Some(path) = s.store.sqlite_file() {
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    for secret in ["very.private@example.com", "+14155550123", "198.51.100.77"] {
        assert!(!text.contains(secret), "{secret} is stored in clear");
    }
    assert!(text.contains("v1.k1."), "the sealed bodies are there");
}

/// The pipeline takes this process's commits as they are handed over, and reads
/// from the log whatever was not: here, while it is held up, more commits are
/// made than its queue holds. Every event is processed once, in log order.
#[tokio::test]
async fn commits_the_pipeline_could_not_queue_are_read_from_the_log() {
    let s = server().await;
    let n = stratum_server::writer::HANDOVER_QUEUE + 60;
    let held = s.services.state().pipeline.profiles.clone();
    let guard = held.lock().await;
    for i in 0..n {
        // One commit each: every request waits for its own.
        let msg = json!({"type": "identify", "userId": format!("u{}", i / 2),
            "anonymousId": format!("a{i}"), "messageId": format!("m{i}")});
        let (status, body) = call(
            &s.app,
            post("/v1/identify", Some(&s.demo.write_key), msg.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    drop(guard);
    // Pairs of anonymous ids share a user id: one profile per pair, whichever
    // way each event reached the pipeline.
    for i in (0..n).step_by(2) {
        let a = profile(&s.app, &s.demo.api_key, "anonymous_id", &format!("a{i}")).await;
        let b = profile(
            &s.app,
            &s.demo.api_key,
            "anonymous_id",
            &format!("a{}", i + 1),
        )
        .await;
        assert_eq!(a["id"], b["id"], "a{i} and a{}", i + 1);
        assert_eq!(a["id"], format!("prof:m{i}"));
    }
    let processed = metrics_text(&s.app)
        .await
        .lines()
        .find_map(|l| l.strip_prefix("stratum_pipeline_processed_events_total "))
        .map(|v| v.trim().parse::<usize>().unwrap())
        .unwrap();
    assert_eq!(processed, n, "each event processed once");
    // The position reached is recorded for operators while the server runs.
    let db = s.services.state().db.clone();
    let head = db.head().await.unwrap();
    let mut recorded = 0;
    for _ in 0..200 {
        recorded = db.offset(stratum_server::pipeline::CONSUMER).await.unwrap();
        if recorded == head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(recorded, head);
    drop(db);
    drop(s.app);
    s.services.shutdown().await;
}

/// `json` parsed as a message received at `now`.
fn parsed(json: &Value, now: chrono::DateTime<chrono::Utc>) -> stratum_cdp::message::Message {
    stratum_cdp::message::parse_message(
        json.to_string().as_bytes(),
        now,
        &stratum_cdp::message::ParseConfig::default(),
    )
    .unwrap()
}

/// The log's events as (position, `messageId`), in log order.
async fn logged(db: &stratum_server::db::Db) -> Vec<(i64, String)> {
    db.events_after(0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.message_id))
        .collect()
}

/// One event for `tenant`, as a request's block, sealed with `keys`.
fn pending_event(
    keys: &stratum_server::crypto::KeyRing,
    tenant: &str,
    id: &str,
) -> stratum_server::log::Block {
    let now = stratum_server::now();
    let json = json!({"type": "track", "event": "Viewed", "userId": "u1", "messageId": id});
    stratum_server::log::Block::seal(keys, tenant, now, vec![parsed(&json, now)]).unwrap()
}

// `#[tokio::test]` runs on one thread: the three requests queue before the
// writer task runs, so they meet in one group commit.
#[tokio::test]
async fn a_request_the_database_refuses_fails_alone_not_with_its_group() {
    let (_store, db, demo) = demo_store().await;
    let (handover, mut handed) = tokio::sync::mpsc::channel(16);
    let head = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let keys = stratum_server::crypto::KeyRing::parse(
        &stratum_server::crypto::KeyRing::generate("k1").unwrap(),
    )
    .unwrap();
    let (writer, task) = stratum_server::writer::Writer::start(
        db.clone(),
        keys.clone(),
        stratum_server::writer::DedupSettings::default(),
        std::sync::Arc::new(stratum_server::metrics::Metrics::new()),
        handover,
        head,
    );
    // A tenant that does not exist breaks the log's foreign key.
    let (good, bad, after) = tokio::join!(
        writer.write(pending_event(&keys, &demo.tenant.id, "m1")),
        writer.write(pending_event(&keys, "no-such-tenant", "m2")),
        writer.write(pending_event(&keys, &demo.tenant.id, "m3")),
    );
    assert!(good.is_ok(), "{good:?}");
    assert!(
        matches!(bad, Err(stratum_server::writer::WriteError::Database(_))),
        "{bad:?}"
    );
    assert!(after.is_ok(), "{after:?}");
    let logged: Vec<String> = db
        .events_after(0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message_id)
        .collect();
    assert_eq!(logged, ["m1", "m3"], "the log holds the two good events");
    let mut ids = Vec::new();
    while let Ok(c) = handed.try_recv() {
        ids.extend(c.events.into_iter().map(|e| e.message.message_id));
    }
    assert_eq!(ids, ["m1", "m3"]);
    drop(writer);
    task.await.unwrap();
}

#[tokio::test]
async fn the_nul_character_is_refused_as_an_invalid_value_on_every_database() {
    let s = server().await;
    // Any JSON body of the API: a typed 400 before any query.
    let (status, body) = call(
        &s.app,
        post(
            "/api/v1/auth/login",
            None,
            r#"{"email": "\u0019\u0000", "password": "x"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_value");
    // An escaped backslash followed by `u0000` is no NUL: an ordinary failed login.
    let (status, body) = call(
        &s.app,
        post(
            "/api/v1/auth/login",
            None,
            r#"{"email": "a\\u0000@b.c", "password": "x"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Ingest: the one message is refused with its field; in a batch, only it is.
    let key = Some(s.demo.write_key.as_str());
    let (status, body) = call(
        &s.app,
        post(
            "/v1/track",
            key,
            r#"{"event": "E", "userId": "u", "messageId": "m\u0000"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "messageId");
    let batch = r#"{"batch": [
        {"type": "track", "event": "E", "userId": "u", "messageId": "m\u0000"},
        {"type": "track", "event": "E", "userId": "u", "messageId": "ok"}]}"#;
    let (status, body) = call(&s.app, post("/v1/batch", key, batch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 1);
    assert_eq!(body["rejected"][0]["index"], 0);
    assert_eq!(body["rejected"][0]["code"], "invalid_value");
    assert_eq!(body["rejected"][0]["field"], "messageId");
    // A path segment or a query value.
    for path in [
        "/api/v1/keys/%00",
        "/api/v1/profiles/lookup?kind=email&value=a%00b",
    ] {
        let req = Request::delete(path)
            .header("authorization", format!("Bearer {}", s.demo.api_key))
            .body(Body::empty())
            .unwrap();
        let (status, body) = call(&s.app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_value", "{path}");
    }
    // Anything else that reaches the database: PostgreSQL's refusal is the same
    // 400, never a 500 (SQLite simply finds nothing).
    match s.services.state().db.user_by_email("a\0b").await {
        Ok(found) => assert!(found.is_none()),
        Err(e) => {
            let e = stratum_server::error::AppError::from(e);
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            assert_eq!(e.report().code, "invalid_value");
        }
    }
    drop(s.app);
    s.services.shutdown().await;
}

/// The receive time is the server's on every ingest route: a client's
/// `receivedAt` neither widens the bound on event times (a far-future event that
/// would win every trait forever) nor dates what it sends.
#[tokio::test]
async fn a_client_receivedat_is_ignored_on_every_ingest_route() {
    let s = server().await;
    let key = s.demo.write_key.as_str();
    let pin = json!({"userId": "pin1", "messageId": "pin-a", "receivedAt": "9999-12-31T00:00:00Z",
        "timestamp": "9999-12-31T00:00:00Z", "traits": {"plan": "attacker"}});
    let (status, out) = call(&s.app, post("/v1/identify", Some(key), pin.to_string())).await;
    assert_eq!(
        (
            status,
            out["error"]["code"].clone(),
            out["error"]["field"].clone()
        ),
        (
            StatusCode::BAD_REQUEST,
            json!("invalid_timestamp"),
            json!("timestamp")
        ),
        "{out}"
    );
    let mut element = pin.clone();
    element["type"] = json!("identify");
    let batch = json!({"batch": [element]});
    let (status, out) = call(&s.app, post("/v1/batch", Some(key), batch.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["rejected"][0]["code"], "invalid_timestamp");
    // `/v1/import` too (a tenant with the `import` feature).
    let db = s.services.state().db.clone();
    let pro = db
        .create_tenant("Pro", "pro", "admin@pro.example", stratum_server::now())
        .await
        .unwrap();
    let (status, out) = call(
        &s.app,
        post("/v1/import", Some(&pro.write_key), batch.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["rejected"][0]["code"], "invalid_timestamp", "{out}");
    // A past `receivedAt` does not date the message: its traits are as of now.
    let before = stratum_server::now();
    let dated = json!({"userId": "u2", "messageId": "m-past", "receivedAt": "2001-01-01T00:00:00Z",
        "traits": {"plan": "pro"}});
    let (status, out) = call(&s.app, post("/v1/identify", Some(key), dated.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let p = profile(&s.app, &s.demo.api_key, "user_id", "u2").await;
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(p["traits"]["plan"]["timestamp"].clone()).unwrap();
    assert!(at >= before - chrono::TimeDelta::seconds(1), "{p}");
    assert_eq!(events(&s.app, &s.demo.api_key).await, 1);
    drop(s.app);
    s.services.shutdown().await;
}

/// A one-message body without `type` is limited by the bytes the client sent:
/// exactly 32 KiB is taken, one byte more is `too_large` with that size.
#[tokio::test]
async fn a_single_message_of_exactly_the_limit_without_type_is_accepted() {
    let s = server().await;
    let key = s.demo.write_key.as_str();
    let body = |len: usize, id: &str| {
        let head = format!(r#"{{"userId":"u","messageId":"{id}","event":"e","properties":{{"p":""#);
        let tail = r#""}}"#;
        format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
    };
    let exact = body(32_768, "exact");
    assert_eq!(exact.len(), 32_768);
    let (status, out) = call(&s.app, post("/v1/track", Some(key), exact)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = call(&s.app, post("/v1/track", Some(key), body(32_769, "over"))).await;
    assert_eq!(
        (status, out["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("too_large"))
    );
    assert!(
        out["error"]["message"].as_str().unwrap().contains("32769"),
        "{out}"
    );
    drop(s.app);
    s.services.shutdown().await;
}

async fn raw(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: not JSON ({e}): {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, body)
}

/// The router's own rejections (a method a route does not take, a body over the
/// JSON limit, a query or path that does not parse, a request target over
/// 8 KiB) answer in the one error shape, keeping their headers.
#[tokio::test]
async fn the_routers_own_rejections_get_the_one_error_shape() {
    let s = server().await;
    let bearer = format!("Bearer {}", s.demo.api_key);
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            Request::get("/v1/batch").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Request::put("/api/v1/users")
                .header("authorization", &bearer)
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(vec![b' '; 3 * 1024 * 1024]))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            get(
                "/api/v1/profiles/lookup?kind=user_id&kind=email",
                &s.demo.api_key,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Request::delete("/api/v1/keys/%FF")
                .header("authorization", &bearer)
                .body(Body::empty())
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            get(
                &format!(
                    "/api/v1/profiles/lookup?kind=user_id&value={}",
                    "v".repeat(10_000)
                ),
                &s.demo.api_key,
            ),
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
        ),
    ];
    for (req, want, code) in cases {
        let what = format!(
            "{} {}",
            req.method(),
            &req.uri().to_string()[..40.min(req.uri().to_string().len())]
        );
        let (status, headers, body) = raw(&s.app, req).await;
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(headers["content-type"], "application/json", "{what}");
        assert!(headers.contains_key("x-request-id"), "{what}");
        if want == StatusCode::METHOD_NOT_ALLOWED {
            let allow = headers["allow"].to_str().unwrap();
            assert!(
                allow.contains("POST") || allow.contains("GET"),
                "{what}: {allow}"
            );
        }
    }
    // The API document lists the operations routes and these answers.
    let (status, _, doc) = raw(
        &s.app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/metrics", "/api/v1/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    for (path, op) in [
        ("/v1/batch", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/auth/login", "post"),
    ] {
        let responses = &doc["paths"][path][op]["responses"];
        assert!(responses["405"].is_object(), "{path}: {responses}");
        assert!(responses["414"].is_object(), "{path}: {responses}");
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["413"].is_object());
    drop(s.app);
    s.services.shutdown().await;
}

/// Methods outside the standard set share one metrics label, `other`, however
/// many a client invents.
#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics_labels() {
    let s = server().await;
    for i in 0..300 {
        let req = Request::builder()
            .method(axum::http::Method::from_bytes(format!("M{i}X").as_bytes()).unwrap())
            .uri("/v1/batch")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = raw(&s.app, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    }
    let text = metrics_text(&s.app).await;
    assert!(!text.contains("M7X"), "{text}");
    assert!(
        text.contains(
            "stratum_http_requests_total{route=\"/v1/batch\",method=\"other\",status=\"405\"} 300"
        ),
        "{text}"
    );
    drop(s.app);
    s.services.shutdown().await;
}

/// Right after a restart over a large log, the server says it is not ready until
/// the pipeline has replayed the log as it was at start, and a profile it has not
/// reached yet is a `404` that says how far behind it is.
#[tokio::test]
async fn readiness_and_lookups_tell_a_replay_from_a_missing_profile() {
    let s = server().await;
    let key = s.demo.write_key.clone();
    for chunk in 0..10 {
        let batch: Vec<Value> = (0..500)
            .map(|i| json!({"type": "identify", "userId": format!("u{chunk}-{i}"), "messageId": format!("m{chunk}-{i}")}))
            .collect();
        let (status, out) = call(
            &s.app,
            post("/v1/batch", Some(&key), json!({"batch": batch}).to_string()),
        )
        .await;
        assert_eq!(
            (status, out["accepted"].clone()),
            (StatusCode::OK, json!(500))
        );
    }
    // Caught up: an unknown identifier is a 404 with no lag.
    profile(&s.app, &s.demo.api_key, "user_id", "u9-499").await;
    let (status, out) = call(
        &s.app,
        get(
            "/api/v1/profiles/lookup?kind=user_id&value=nobody",
            &s.demo.api_key,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(out["error"]["pipeline_lag_events"], 0, "{out}");
    let (demo, store) = (s.demo.clone(), s.store);
    drop(s.app);
    s.services.shutdown().await;

    let db = store.open().await;
    let services = Services::start(db, stratum_server::Settings::new(tokens(), data_keys()));
    let app = services.router();
    let (status, out) = call(
        &app,
        Request::get("/health/ready").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{out}");
    assert_eq!(out["error"]["code"], "unavailable");
    assert!(
        out["error"]["pipeline_lag_events"].as_i64().unwrap() > 0,
        "{out}"
    );
    let (status, out) = call(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, out["ready"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (status, out) = call(
        &app,
        get(
            "/api/v1/profiles/lookup?kind=user_id&value=u9-499",
            &demo.api_key,
        ),
    )
    .await;
    if status == StatusCode::NOT_FOUND {
        assert!(
            out["error"]["pipeline_lag_events"].as_i64().unwrap() > 0,
            "{out}"
        );
    } else {
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    wait_ready(&app).await;
    let (status, out) = call(
        &app,
        get(
            "/api/v1/profiles/lookup?kind=user_id&value=u9-499",
            &demo.api_key,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    drop(app);
    services.shutdown().await;
    drop(store);
}

/// `messageId` is required (retries are absorbed by it): a message without one
/// is a `400 invalid_message` on `messageId`, alone or in a batch.
#[tokio::test]
async fn a_message_without_a_message_id_is_refused() {
    let s = server().await;
    let key = s.demo.write_key.as_str();
    let (status, out) = call(
        &s.app,
        post(
            "/v1/track",
            Some(key),
            json!({"userId": "u", "event": "e"}).to_string(),
        ),
    )
    .await;
    assert_eq!(
        (
            status,
            out["error"]["code"].clone(),
            out["error"]["field"].clone()
        ),
        (
            StatusCode::BAD_REQUEST,
            json!("invalid_message"),
            json!("messageId")
        ),
        "{out}"
    );
    let batch = json!({"batch": [{"type": "track", "userId": "u", "event": "e"}]});
    let (status, out) = call(&s.app, post("/v1/batch", Some(key), batch.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["rejected"][0]["field"], "batch[0].messageId", "{out}");
    drop(s.app);
    s.services.shutdown().await;
}

/// A batch mixing a repeated `messageId` with new ones: the block is stored
/// without the repeat (sealed again over what is left), and a restart replays
/// it from the log.
#[tokio::test]
async fn a_block_with_a_repeat_is_stored_without_it_and_replays_after_a_restart() {
    let s = server().await;
    let key = s.demo.write_key.clone();
    let first = json!({"batch": [
        {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "free"}},
    ]});
    let second = json!({"batch": [
        {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "free"}},
        {"type": "identify", "userId": "u1", "messageId": "m2", "traits": {"seats": 3}},
        {"type": "track", "userId": "u1", "event": "Paid", "messageId": "m2"},
        {"type": "track", "userId": "u1", "event": "Paid", "messageId": "m3"},
    ]});
    for b in [&first, &second] {
        let (status, out) = call(&s.app, post("/v1/batch", Some(&key), b.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    assert_eq!(events(&s.app, &s.demo.api_key).await, 3);
    let before = profile(&s.app, &s.demo.api_key, "user_id", "u1").await;
    assert_eq!(before["traits"]["seats"]["value"], 3, "{before}");
    let (demo, store) = (s.demo.clone(), s.store);
    drop(s.app);
    s.services.shutdown().await;

    let db = store.open().await;
    assert_eq!(
        logged(&db).await,
        [(1, "m1".into()), (2, "m2".into()), (3, "m3".into())]
    );
    let services = Services::start(db, stratum_server::Settings::new(tokens(), data_keys()));
    let app = services.router();
    assert_eq!(profile(&app, &demo.api_key, "user_id", "u1").await, before);
    drop(app);
    services.shutdown().await;
}

/// The duplicate filter is bounded: past its capacity the oldest ids are
/// forgotten, and one sent again then is taken as new.
#[tokio::test]
async fn past_the_filter_capacity_the_oldest_ids_are_forgotten() {
    let (store, db, demo) = demo_store().await;
    let mut settings = stratum_server::Settings::new(tokens(), data_keys());
    settings.dedup.capacity = 2;
    let services = Services::start(db, settings);
    let app = services.router();
    for id in ["m1", "m2", "m3", "m3", "m1"] {
        let msg = json!({"userId": "u1", "event": "E", "messageId": id});
        let (status, _) = call(
            &app,
            post("/v1/track", Some(&demo.write_key), msg.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // m3 again is absorbed; m1 had been forgotten (m2 and m3 filled the two
    // places), so it is stored a second time.
    assert_eq!(events(&app, &demo.api_key).await, 4);
    drop(app);
    services.shutdown().await;
    drop(store);
}

/// A database written before the log was kept in blocks (one row per message)
/// is migrated in place: its events keep their positions, open, replay into
/// the CDP, and their `messageId`s are still absorbed.
#[tokio::test]
async fn a_log_of_one_message_per_row_is_migrated_and_replayed() {
    let store = common::Store::new();
    // The migrations before the log was kept in blocks.
    let before_blocks = |all: &sqlx::migrate::Migrator| sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            all.iter().filter(|m| m.version < 5).cloned().collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    sqlx::any::install_default_drivers();
    let url = match store.database_url() {
        Some(u) => u.to_owned(),
        None => format!(
            "sqlite://{}?mode=rwc",
            store.dir().join("stratum.db").display()
        ),
    };
    let keys = data_keys();
    let now = stratum_server::now();
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    {
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let all = if store.database_url().is_some() {
            &stratum_server::db::POSTGRES_MIGRATIONS
        } else {
            &stratum_server::db::SQLITE_MIGRATIONS
        };
        before_blocks(all).run(&pool).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        if store.database_url().is_some() {
            sqlx::query("SELECT set_config('stratum.scope', 'all', true)")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO tenants (id, name, tier, status, created_at) \
             VALUES ('t-old', 'Old', 'free', 'active', $1)",
        )
        .bind(&at)
        .execute(&mut *tx)
        .await
        .unwrap();
        let messages = [
            json!({"type": "identify", "userId": "u1", "anonymousId": "a1",
                   "traits": {"plan": "pro"}, "messageId": "old-1"}),
            json!({"type": "track", "anonymousId": "a1", "event": "Paid", "messageId": "old-2"}),
        ];
        for m in messages {
            let message = parsed(&m, now);
            let id = message.message_id.clone();
            let body = keys
                .seal(
                    &serde_json::to_vec(&message).unwrap(),
                    &stratum_server::crypto::event_aad("t-old", &id),
                )
                .unwrap();
            sqlx::query(
                "INSERT INTO events (tenant_id, message_id, kind, received_at, body) \
                 VALUES ('t-old', $1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(message.kind.as_str())
            .bind(&at)
            .bind(&body)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        pool.close().await;
    }

    let db = store.open().await;
    assert_eq!(
        logged(&db).await,
        [(1, "old-1".into()), (2, "old-2".into())]
    );
    assert_eq!(db.tenant("t-old").event_count().await.unwrap(), 2);
    let services = Services::start(db, stratum_server::Settings::new(tokens(), data_keys()));
    let state = services.state();
    let anon = stratum_cdp::identity::Identifier {
        kind: stratum_cdp::identity::IdentifierKind::AnonymousId,
        value: "a1".into(),
    };
    let mut found = None;
    for _ in 0..200 {
        found = state.pipeline.profiles.lock().await.lookup("t-old", &anon);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let p = found.expect("the migrated events replay into the CDP");
    assert_eq!(p.trait_value("plan"), Some(&json!("pro")));
    // An old id sent again is absorbed; a new one goes after the old rows.
    for id in ["old-2", "new-3"] {
        let m = json!({"type": "track", "anonymousId": "a1", "event": "Paid", "messageId": id});
        let block =
            stratum_server::log::Block::seal(&keys, "t-old", now, vec![parsed(&m, now)]).unwrap();
        state.writer.write(block).await.unwrap();
    }
    assert_eq!(
        logged(&state.db).await,
        [
            (1, "old-1".into()),
            (2, "old-2".into()),
            (3, "new-3".into())
        ]
    );
    drop(state);
    services.shutdown().await;
}
