//! The real binary on 127.0.0.1: first start (secrets shown once), ingest over
//! HTTP, graceful shutdown on SIGTERM with every acknowledged event kept, and a
//! second start over the same data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

struct Running {
    child: Child,
    addr: String,
    lines: Vec<String>,
}

impl Drop for Running {
    /// A test that fails leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn start(store: &common::Store) -> Running {
    start_with(store, &[])
}

/// As [`start`], with more environment variables.
// The child is waited for by `terminate` or by `Running`'s `Drop`.
#[allow(clippy::zombie_processes)]
fn start_with(store: &common::Store, env: &[(&str, &str)]) -> Running {
    let data = store.dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stratum-server"));
    store.configure(&mut cmd);
    cmd.envs(env.iter().copied());
    let mut child = cmd
        .env("STRATUM_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(data.join("server.log"))
                .unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the server exited: {lines:?}"
        );
        let line = line.trim_end().to_owned();
        if let Some(addr) = line.strip_prefix("stratum-server listening on http://") {
            let addr = addr.to_owned();
            lines.push(line);
            return Running { child, addr, lines };
        }
        lines.push(line);
    }
}

/// One HTTP/1.1 request; the status and the body as JSON.
fn http(addr: &str, method: &str, path: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn secret(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(|v| v.split_whitespace().last().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{label} not in {lines:?}"))
}

fn basic(key: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// Posts `ids` as one batch of track messages; whether the server answered `200`.
fn post_batch(addr: &str, key: &str, user: &str, ids: &[String]) -> Option<bool> {
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "track", "userId": user, "event": "E", "messageId": id}))
        .collect();
    let body = json!({ "batch": batch }).to_string();
    let mut s = TcpStream::connect(addr).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let req = format!(
        "POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        basic(key),
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    Some(s.read_to_string(&mut raw).is_ok() && raw.starts_with("HTTP/1.1 200"))
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn first_start_ingest_sigterm_and_second_start() {
    let store = common::Store::new();
    let mut first = start(&store);
    let write_key = secret(&first.lines, "write key:");
    let api_key = secret(&first.lines, "API key:");
    assert!(write_key.starts_with("wk_") && api_key.starts_with("ak_"));
    assert!(
        first
            .lines
            .iter()
            .any(|l| l.contains("admin login: admin@demo.local / "))
    );

    // Requests from several threads while the server is told to stop: every
    // acknowledged event must be in the log afterwards.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (addr, key, acked) = (first.addr.clone(), write_key.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for r in 0..25 {
                    let ids: Vec<String> = (0..20).map(|i| format!("t{t}-{r}-{i}")).collect();
                    match post_batch(&addr, &key, "u1", &ids) {
                        None => return,
                        Some(true) => {
                            acked.fetch_add(20, std::sync::atomic::Ordering::SeqCst);
                        }
                        Some(false) => {}
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let status = terminate(&mut first.child);
    assert!(status.success(), "{status:?}");
    for t in threads {
        t.join().unwrap();
    }
    let acked = acknowledged.load(std::sync::atomic::Ordering::SeqCst);
    assert!(acked > 0, "no request was acknowledged before the stop");

    let mut second = start(&store);
    assert!(
        !second.lines.iter().any(|l| l.contains("write key")),
        "secrets are shown on the first start only: {:?}",
        second.lines
    );
    let (status, tenant) = http(
        &second.addr,
        "GET",
        "/api/v1/tenant",
        Some(&format!("Bearer {api_key}")),
        "",
    );
    assert_eq!(status, 200, "{tenant}");
    let stored = usize::try_from(tenant["events"].as_i64().unwrap()).unwrap();
    assert!(stored >= acked, "{stored} stored < {acked} acknowledged");
    // The write key from the first start still works.
    let (status, _) = http(
        &second.addr,
        "POST",
        "/v1/track",
        Some(&basic(&write_key)),
        &json!({"userId": "u2", "event": "E", "messageId": "after"}).to_string(),
    );
    assert_eq!(status, 200);
    // Ready once the start-up replay is done.
    let ready = (0..250).any(|_| {
        let (status, _) = http(&second.addr, "GET", "/health/ready", None, "");
        status == 200 || {
            std::thread::sleep(Duration::from_millis(20));
            false
        }
    });
    assert!(ready);
    // Over the socket too, the router's refusals have the error shape.
    let (status, body) = http(&second.addr, "GET", "/v1/batch", None, "");
    assert_eq!(
        (status, &body["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    let long = format!(
        "/api/v1/profiles/lookup?kind=user_id&value={}",
        "v".repeat(10_000)
    );
    let (status, body) = http(&second.addr, "GET", &long, None, "");
    assert_eq!(
        (status, &body["error"]["code"]),
        (414, &json!("uri_too_long"))
    );
    let (status, body) = http(&second.addr, "BREW", "/v1/batch", None, "");
    assert_eq!(
        (status, &body["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    assert!(terminate(&mut second.child).success());
}

/// `kill -9` during sustained ingest, 20 times over the same data: after each
/// restart every acknowledged event is in the log once, and the pipeline has
/// processed each event of the log exactly once.
#[test]
fn kill_9_during_ingest_loses_no_acknowledged_event() {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let store = common::Store::new();
    let first = start(&store);
    let write_key = secret(&first.lines, "write key:");
    drop(first); // killed by Drop
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    for round in 0..20 {
        let before = acknowledged.lock().unwrap().len();
        let mut running = start(&store);
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (addr, key, acked, stop) = (
                    running.addr.clone(),
                    write_key.clone(),
                    acknowledged.clone(),
                    stop.clone(),
                );
                std::thread::spawn(move || {
                    let mut r = 0;
                    while !stop.load(Ordering::SeqCst) {
                        r += 1;
                        let ids: Vec<String> =
                            (0..25).map(|i| format!("k{round}-{t}-{r}-{i}")).collect();
                        match post_batch(&addr, &key, &format!("u{t}"), &ids) {
                            None => return,
                            Some(true) => acked.lock().unwrap().extend(ids),
                            Some(false) => {}
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100 + (round * 37) % 300));
        // However slow the machine, each round kills a server that has
        // acknowledged something (and is acknowledging more).
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < before + 50 {
            assert!(
                Instant::now() < deadline,
                "round {round}: nothing acknowledged"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        running.child.kill().unwrap(); // SIGKILL
        running.child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() >= 1000, "only {} acknowledged", acked.len());

    // A last start: the log holds every acknowledged event, each once, and the
    // pipeline processes each event of the log once.
    let last = start(&store);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored: Vec<String> = rt.block_on(async {
        let db = store.open().await;
        let events = db.events_after(0).await.unwrap();
        db.close().await;
        events.into_iter().map(|e| e.message_id).collect()
    });
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "an event is stored twice");
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| !unique.contains(id))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _) = http(&last.addr, "GET", "/health/live", None, "");
        assert_eq!(status, 200);
        let mut s = TcpStream::connect(&last.addr).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let value = |name: &str| -> Option<usize> {
            raw.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|v| v.parse().ok())
        };
        if value("stratum_pipeline_lag_events") == Some(0)
            && value("stratum_pipeline_processed_events_total") == Some(stored.len())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pipeline did not process the log once:\n{raw}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(last);
}

/// Posts one message to a single-message route; the status.
fn post_one(addr: &str, key: &str, route: &str, msg: &Value) -> u16 {
    http(addr, "POST", route, Some(&basic(key)), &msg.to_string()).0
}

/// Two server processes on one database: messages about the same people arrive
/// through both, in both orders, with duplicates sent to both. Each process
/// replays the one log in its order, so both resolve every identity to the same
/// profile; each event is stored once, and each process processes it once.
#[test]
fn two_processes_on_one_database_agree_on_every_profile() {
    let store = common::Store::new();
    let a = start(&store);
    let write_key = secret(&a.lines, "write key:");
    let api_key = secret(&a.lines, "API key:");
    let b = start(&store);
    assert!(
        !b.lines.iter().any(|l| l.contains("write key")),
        "the second process found the first tenant: {:?}",
        b.lines
    );
    let people = 40;
    let threads: Vec<_> = [&a.addr, &b.addr]
        .into_iter()
        .enumerate()
        .map(|(side, addr)| {
            let (addr, key) = (addr.clone(), write_key.clone());
            std::thread::spawn(move || {
                for p in 0..people {
                    // Each side sends half of a person's messages (side 0 the
                    // identify and the alias, side 1 the two tracks, the later
                    // first), and both send the shared `dup-` message.
                    let mut msgs = [
                        (
                            "/v1/identify",
                            json!({"userId": format!("u{p}"), "anonymousId": format!("a{p}"),
                                   "traits": {"email": format!("p{p}@example.com")},
                                   "messageId": format!("id-{p}")}),
                        ),
                        (
                            "/v1/track",
                            json!({"anonymousId": format!("a{p}"), "event": "Viewed",
                                   "messageId": format!("tr-{p}")}),
                        ),
                        (
                            "/v1/alias",
                            json!({"previousId": format!("old{p}"), "userId": format!("u{p}"),
                                   "messageId": format!("al-{p}")}),
                        ),
                        (
                            "/v1/track",
                            json!({"userId": format!("old{p}"), "event": "Paid",
                                   "messageId": format!("pd-{p}")}),
                        ),
                    ];
                    if side == 1 {
                        msgs.reverse();
                    }
                    for (i, (route, msg)) in msgs.iter().enumerate() {
                        if i % 2 == 0 {
                            assert_eq!(post_one(&addr, &key, route, msg), 200, "{msg}");
                        }
                    }
                    let dup = json!({"userId": format!("u{p}"), "event": "Dup",
                                     "messageId": format!("dup-{p}")});
                    assert_eq!(post_one(&addr, &key, "/v1/track", &dup), 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let auth = format!("Bearer {api_key}");
    let expected_events = i64::from(people) * 5;
    for running in [&a, &b] {
        let (status, tenant) = http(&running.addr, "GET", "/api/v1/tenant", Some(&auth), "");
        assert_eq!(status, 200, "{tenant}");
        assert_eq!(
            tenant["events"], expected_events,
            "each event is stored once"
        );
    }
    // Both processes catch up with the log and see the same profiles.
    let deadline = Instant::now() + Duration::from_secs(60);
    let lookup = |addr: &str, kind: &str, value: &str| {
        http(
            addr,
            "GET",
            &format!("/api/v1/profiles/lookup?kind={kind}&value={value}"),
            Some(&auth),
            "",
        )
    };
    for p in 0..people {
        let ids = [
            ("anonymous_id", format!("a{p}")),
            ("user_id", format!("u{p}")),
            ("user_id", format!("old{p}")),
            ("email", format!("p{p}@example.com")),
        ];
        loop {
            // Every identifier of the person, in each process: one profile.
            let seen: Vec<(u16, Value)> = [&a.addr, &b.addr]
                .iter()
                .flat_map(|addr| ids.iter().map(|(kind, value)| lookup(addr, kind, value)))
                .collect();
            let settled = seen
                .iter()
                .all(|(s, v)| *s == 200 && v["pipeline_lag_events"] == 0)
                && seen
                    .windows(2)
                    .all(|w| w[0].1["profile"] == w[1].1["profile"]);
            if settled {
                assert_eq!(
                    seen[0].1["profile"]["traits"]["email"]["value"],
                    format!("p{p}@example.com")
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the processes did not agree on person {p}: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    drop(a);
    drop(b);
}

/// `STRATUM_DEDUP_CAPACITY` reaches the writer: with room for 1,000 ids, the
/// oldest is forgotten after 1,001 and stored again, while a recent one is
/// still absorbed.
#[test]
fn the_duplicate_filter_capacity_is_a_setting() {
    let store = common::Store::new();
    let running = start_with(&store, &[("STRATUM_DEDUP_CAPACITY", "1000")]);
    let write_key = secret(&running.lines, "write key:");
    let api_key = secret(&running.lines, "API key:");
    let ids: Vec<String> = (0..1001).map(|i| format!("m{i}")).collect();
    assert_eq!(
        post_batch(&running.addr, &write_key, "u1", &ids),
        Some(true)
    );
    for id in ["m0", "m1000"] {
        assert_eq!(
            post_batch(&running.addr, &write_key, "u1", &[id.to_owned()]),
            Some(true)
        );
    }
    let (status, tenant) = http(
        &running.addr,
        "GET",
        "/api/v1/tenant",
        Some(&format!("Bearer {api_key}")),
        "",
    );
    assert_eq!(status, 200, "{tenant}");
    assert_eq!(tenant["events"], 1002, "m0 stored again, m1000 absorbed");
}
