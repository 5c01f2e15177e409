//! Delivery over real HTTP to a scripted server on 127.0.0.1: the requests the
//! server receives (method, path, auth, identical bodies across retries), the
//! number of attempts, the waits asked of the clock, and the reports.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use stratum_connectors::delivery::{
    Clock, Deliverer, DeliveryConfig, Endpoint, EventOutcome, Outcome, RetryPolicy, TransportError,
    UreqTransport,
};
use stratum_connectors::payload::google::{Destination, GoogleBuilder, OperatingAccount};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::payload::snapchat::SnapBuilder;
use stratum_connectors::payload::tiktok::{EventSourceIds, TikTokBuilder};
use stratum_connectors::{ActionSource, ConversionEvent, Field, FieldValue};

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Wait before answering (to provoke a client timeout).
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
        delay: Duration::ZERO,
    }
}

/// What the server received.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers one connection per scripted reply, then stops.
struct Server {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let handle = std::thread::spawn(move || {
            for r in script {
                let (stream, _) = listener.accept().unwrap();
                serve(stream, &r, &log);
            }
        });
        Self {
            base,
            received,
            handle: Some(handle),
        }
    }

    /// Waits for the whole script to be served and returns the requests.
    fn finish(mut self) -> Vec<Received> {
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        self.received.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, r: &Reply, log: &Mutex<Vec<Received>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    log.lock().unwrap().push(Received {
        method,
        target,
        headers,
        body,
    });
    std::thread::sleep(r.delay);
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        r.body.len()
    );
    for (n, v) in &r.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // The client may have given up (timeout): a failed write is expected then.
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(r.body.as_bytes());
    let _ = out.flush();
}

/// A clock that never sleeps: it records the waits and moves on.
struct FakeClock {
    now: DateTime<Utc>,
    slept: Mutex<Vec<Duration>>,
}

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            now: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            slept: Mutex::new(Vec::new()),
        })
    }
    fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Clock for FakeClock {
    fn elapsed(&self) -> Duration {
        self.slept().iter().sum()
    }
    fn now(&self) -> DateTime<Utc> {
        self.now + self.elapsed()
    }
    fn sleep(&self, d: Duration) {
        self.slept.lock().unwrap().push(d);
    }
}

struct Shared(Arc<FakeClock>);

impl Clock for Shared {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep(&self, d: Duration) {
        self.0.sleep(d);
    }
}

fn event(i: usize) -> ConversionEvent {
    ConversionEvent::new("Purchase", common::now(), ActionSource::Website)
        .with_event_id(format!("o-{i}"))
        .with_url("https://shop.example/")
        .with_user(
            Field::Email,
            FieldValue::raw(format!("buyer{i}@example.com")),
        )
        .with_user(Field::ClientIp, FieldValue::raw("203.0.113.7"))
        .with_user(Field::UserAgent, FieldValue::raw("Mozilla/5.0"))
}

/// Fails validation everywhere: no name.
fn invalid() -> ConversionEvent {
    ConversionEvent::new(" ", common::now(), ActionSource::Website)
}

const META_TOKEN: &str = "EAAB+secret/token=";

fn meta_endpoint(server: &Server) -> Endpoint {
    Endpoint::meta("v23.0", "1234567890", META_TOKEN)
        .unwrap()
        .with_base_url(&server.base)
        .unwrap()
}

fn quick(platform_timeout: Duration) -> DeliveryConfig {
    DeliveryConfig {
        retry: RetryPolicy::default(),
        timeout: platform_timeout,
        rate_limit: None,
    }
}

#[test]
fn meta_accepted_with_token_in_query_and_invalid_events_carried_through() {
    let server = Server::start(vec![reply(
        200,
        r#"{"events_received":2,"fbtrace_id":"t"}"#,
    )]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0), invalid(), event(2)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    let got = server.finish();

    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    // The token percent-encoded in the query (+ → %2B, / → %2F, = → %3D).
    assert_eq!(
        got[0].target,
        "/v23.0/1234567890/events?access_token=EAAB%2Bsecret%2Ftoken%3D"
    );
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].body, serde_json::to_vec(&built.requests[0]).unwrap());

    assert_eq!(report.requests.len(), 1);
    assert_eq!(report.requests[0].events, [0, 2]);
    assert_eq!(report.requests[0].outcome, Outcome::Accepted);
    assert_eq!(
        (report.requests[0].attempts, report.requests[0].status),
        (1, Some(200))
    );
    let codes: Vec<(usize, &str)> = report
        .events
        .iter()
        .map(|e| (e.index, e.outcome.code()))
        .collect();
    assert_eq!(
        codes,
        [
            (0, "accepted"),
            (1, "missing_required_field"),
            (2, "accepted")
        ]
    );
    assert_eq!(report.accepted(), 2);
    assert!(!report.all_accepted());
    assert!(clock.slept().is_empty());
}

#[test]
fn meta_400_is_refused_once_with_the_parsed_reason() {
    let body = r#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804016,"fbtrace_id":"AXyz"}}"#;
    let server = Server::start(vec![reply(400, body)]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);

    let r = &report.requests[0];
    assert_eq!((r.attempts, r.retries(), r.status), (1, 0, Some(400)));
    let Outcome::Refused(e) = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert_eq!(e.message, "Invalid parameter");
    assert_eq!((e.code, e.subcode), (Some(100), Some(2_804_016)));
    assert_eq!(e.trace_id.as_deref(), Some("AXyz"));
    assert_eq!(report.events[0].outcome, EventOutcome::Refused(e.clone()));
    assert!(clock.slept().is_empty());
}

fn google_builder(n: &stratum_connectors::Normalizer) -> GoogleBuilder<'_> {
    GoogleBuilder::new(
        n,
        vec![Destination {
            operating_account: OperatingAccount {
                account_type: "GOOGLE_ADS".into(),
                account_id: "1234567890".into(),
            },
            product_destination_id: "987".into(),
        }],
    )
    .unwrap()
}

#[test]
fn google_429_waits_for_retry_after_and_resends_the_same_body() {
    let mut limited = reply(
        429,
        r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    limited.headers.push(("Retry-After", "7".into()));
    // An HTTP-date 3 s after the fake clock's time after the first wait (12:00:07).
    let mut dated = limited.clone();
    dated.headers = vec![("Retry-After", "Sun, 01 Mar 2026 12:00:10 GMT".into())];
    let server = Server::start(vec![limited, dated, reply(200, "{}")]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = google_builder(&n).build(&[event(0), event(1)], common::now());
    let endpoint = Endpoint::google("ya29.oauth")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(Arc::clone(&clock)));
    assert!(d.config().rate_limit.is_some());
    let report = d.deliver(&built).unwrap();
    let got = server.finish();

    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(r.target, "/v1/events:ingest");
        assert_eq!(r.header("authorization"), Some("Bearer ya29.oauth"));
        assert_eq!(r.body, got[0].body);
    }
    assert_eq!(got[0].body, serde_json::to_vec(&built.requests[0]).unwrap());
    assert_eq!(
        clock.slept(),
        [Duration::from_secs(7), Duration::from_secs(3)]
    );
    let r = &report.requests[0];
    assert_eq!(
        (r.outcome.clone(), r.attempts, r.status),
        (Outcome::Accepted, 3, Some(200))
    );
    assert!(report.all_accepted());
    assert!(report.events.iter().all(|e| e.retries == 2));
}

#[test]
fn snapchat_500_then_200_backs_off_within_the_first_bound() {
    let server = Server::start(vec![
        reply(500, r#"{"status":"ERROR","reason":"internal"}"#),
        reply(200, r#"{"status":"VALID"}"#),
    ]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = SnapBuilder::new(&n).build(&[event(0)], common::now());
    let endpoint = Endpoint::snapchat("snap-pixel-1", "snap-token")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint)
        .with_clock(Shared(Arc::clone(&clock)))
        .with_seed(42);
    let report = d.deliver(&built).unwrap();
    let got = server.finish();

    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].target,
        "/v3/snap-pixel-1/events?access_token=snap-token"
    );
    assert_eq!(got[0].body, got[1].body);
    let slept = clock.slept();
    assert_eq!(slept.len(), 1);
    assert!(slept[0] <= Duration::from_millis(500));
    assert_eq!(report.requests[0].outcome, Outcome::Accepted);
    assert_eq!(report.requests[0].attempts, 2);
}

#[test]
fn tiktok_code_40100_is_retried_until_code_0() {
    let server = Server::start(vec![
        reply(
            200,
            r#"{"code":40100,"message":"Too many requests","request_id":"a"}"#,
        ),
        reply(200, r#"{"code":0,"message":"OK","request_id":"b"}"#),
    ]);
    let clock = FakeClock::new();
    let n = common::us();
    let ids = EventSourceIds {
        web: Some("PIXELCODE".into()),
        ..EventSourceIds::default()
    };
    let built = TikTokBuilder::new(&n, ids)
        .unwrap()
        .build(&[event(0), invalid()], common::now());
    let endpoint = Endpoint::tiktok("tt-token")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    let got = server.finish();

    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.target, "/open_api/v1.3/event/track/");
        assert_eq!(r.header("access-token"), Some("tt-token"));
        assert_eq!(r.body, got[0].body);
    }
    assert_eq!(clock.slept().len(), 1);
    assert_eq!(report.requests[0].outcome, Outcome::Accepted);
    assert_eq!(report.events[0].outcome, EventOutcome::Accepted);
    assert_eq!(report.events[0].retries, 1);
    assert_eq!(report.events[1].outcome.code(), "missing_required_field");
}

#[test]
fn tiktok_other_codes_are_final() {
    let server = Server::start(vec![reply(
        200,
        r#"{"code":40002,"message":"Invalid value for event","request_id":"c"}"#,
    )]);
    let n = common::us();
    let ids = EventSourceIds {
        web: Some("PIXELCODE".into()),
        ..EventSourceIds::default()
    };
    let built = TikTokBuilder::new(&n, ids)
        .unwrap()
        .build(&[event(0)], common::now());
    let endpoint = Endpoint::tiktok("tt-token")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(FakeClock::new()));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);
    let Outcome::Refused(e) = &report.requests[0].outcome else {
        panic!()
    };
    assert_eq!(e.code, Some(40002));
    assert_eq!(e.message, "Invalid value for event");
}

#[test]
fn slow_responses_time_out_and_are_retried() {
    let mut slow = reply(200, "{}");
    slow.delay = Duration::from_millis(800);
    let server = Server::start(vec![slow.clone(), slow]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let mut config = quick(Duration::from_millis(100));
    config.retry.max_retries = 1;
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_config(config)
        .with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 2);
    let r = &report.requests[0];
    assert_eq!(
        r.outcome,
        Outcome::Failed(TransportError::Timeout {
            timeout: Duration::from_millis(100)
        })
    );
    assert_eq!((r.attempts, r.status), (2, None));
    assert_eq!(report.events[0].outcome.code(), "timeout");
}

#[test]
fn retries_stop_after_the_configured_count_with_growing_bounds() {
    let server = Server::start(vec![reply(503, "unavailable"); 4]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(Arc::clone(&clock)))
        .with_seed(7);
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 4);
    let r = &report.requests[0];
    assert_eq!((r.attempts, r.status), (4, Some(503)));
    let Outcome::Refused(e) = &r.outcome else {
        panic!()
    };
    assert_eq!(e.message, "unavailable");
    let slept = clock.slept();
    assert_eq!(slept.len(), 3);
    for (i, (d, ms)) in slept.iter().zip([500, 1_000, 2_000]).enumerate() {
        assert!(*d <= Duration::from_millis(ms), "retry {i}: {d:?}");
    }
}

#[test]
fn a_too_long_retry_after_ends_the_retries() {
    let mut limited = reply(429, "{}");
    limited.headers.push(("Retry-After", "3600".into()));
    let server = Server::start(vec![limited]);
    let clock = FakeClock::new();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);
    assert_eq!(report.requests[0].status, Some(429));
    assert!(clock.slept().is_empty());
}

#[test]
fn each_batch_is_one_request_and_events_map_back() {
    let bad = r#"{"error":{"message":"Invalid","code":100}}"#;
    let server = Server::start(vec![reply(200, "{}"), reply(400, bad), reply(200, "{}")]);
    let n = common::us();
    let events = [event(0), event(1), invalid(), event(3), event(4), event(5)];
    let built = MetaBuilder::new(&n)
        .batch_size(2)
        .unwrap()
        .build(&events, common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(FakeClock::new()));
    let report = d.deliver(&built).unwrap();
    let got = server.finish();
    assert_eq!(got.len(), 3);
    for (r, req) in got.iter().zip(&built.requests) {
        assert_eq!(r.body, serde_json::to_vec(req).unwrap());
    }
    let events: Vec<_> = report.requests.iter().map(|r| r.events.clone()).collect();
    assert_eq!(events, [vec![0, 1], vec![3, 4], vec![5]]);
    let codes: Vec<&str> = report.events.iter().map(|e| e.outcome.code()).collect();
    assert_eq!(
        codes,
        [
            "accepted",
            "accepted",
            "missing_required_field",
            "refused",
            "refused",
            "accepted"
        ]
    );
    assert_eq!(report.events[3].request, Some(1));
    assert_eq!(report.events[2].request, None);
}

#[test]
fn connection_refused_is_retried_and_never_shows_the_token() {
    // A port nobody listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = FakeClock::new();
    let endpoint = Endpoint::meta("v23.0", "1", META_TOKEN)
        .unwrap()
        .with_base_url(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    let r = &report.requests[0];
    assert_eq!(r.attempts, 4);
    assert_eq!(r.outcome.code(), "connect");
    assert_eq!(clock.slept().len(), 3);

    let shown = format!(
        "{d:?} {report:?} {}",
        match &r.outcome {
            Outcome::Failed(e) => e.to_string(),
            _ => String::new(),
        }
    );
    assert!(!shown.contains("secret"), "{shown}");
    assert!(!shown.contains("EAAB"), "{shown}");
}

#[test]
fn tokens_are_redacted_from_debug_output() {
    for (e, token) in [
        (
            Endpoint::meta("v23.0", "1", "tok-meta").unwrap(),
            "tok-meta",
        ),
        (Endpoint::google("tok-google").unwrap(), "tok-google"),
        (Endpoint::tiktok("tok-tiktok").unwrap(), "tok-tiktok"),
        (Endpoint::snapchat("p", "tok-snap").unwrap(), "tok-snap"),
    ] {
        let d = Deliverer::new(UreqTransport::new(), e.clone());
        let shown = format!("{e:?} {d:?} {}", e.url());
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}

#[test]
fn invalid_endpoints_and_mismatched_platforms_are_config_errors() {
    assert_eq!(
        Endpoint::meta("v23.0", "12/../34", "t").unwrap_err().code(),
        "invalid_config"
    );
    assert_eq!(Endpoint::google(" ").unwrap_err().code(), "invalid_config");
    let err = Endpoint::tiktok("t")
        .unwrap()
        .with_base_url("ftp://x")
        .unwrap_err();
    assert_eq!(err.field(), Some("base_url"));

    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(UreqTransport::new(), Endpoint::tiktok("t").unwrap());
    let err = d.deliver(&built).unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(!err.to_string().contains("\"t\""));
}

/// An in-memory transport: answers 200 and records the clock's time of each call.
struct Recording {
    clock: Arc<FakeClock>,
    at: Mutex<Vec<Duration>>,
}

impl stratum_connectors::delivery::Transport for Recording {
    fn send(
        &self,
        request: &stratum_connectors::delivery::HttpRequest,
    ) -> Result<stratum_connectors::delivery::HttpResponse, TransportError> {
        assert_eq!(request.timeout, Duration::from_secs(10));
        self.at.lock().unwrap().push(self.clock.elapsed());
        Ok(stratum_connectors::delivery::HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        })
    }
}

#[test]
fn google_requests_are_limited_to_five_per_second() {
    let clock = FakeClock::new();
    let transport = Recording {
        clock: Arc::clone(&clock),
        at: Mutex::new(Vec::new()),
    };
    let n = common::us();
    let events: Vec<ConversionEvent> = (0..12).map(event).collect();
    let built = google_builder(&n)
        .batch_size(1)
        .unwrap()
        .build(&events, common::now());
    assert_eq!(built.requests.len(), 12);
    let d = Deliverer::new(&transport, Endpoint::google("t").unwrap())
        .with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    assert!(report.all_accepted());
    let at = transport.at.lock().unwrap().clone();
    let secs: Vec<u64> = at.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    for t in &at {
        let window = at
            .iter()
            .filter(|u| **u >= *t && **u < *t + Duration::from_secs(1));
        assert!(window.count() <= 5);
    }
}

#[test]
fn other_platforms_are_not_limited_by_default() {
    let clock = FakeClock::new();
    let transport = Recording {
        clock: Arc::clone(&clock),
        at: Mutex::new(Vec::new()),
    };
    let n = common::us();
    let events: Vec<ConversionEvent> = (0..12).map(event).collect();
    let built = SnapBuilder::new(&n)
        .batch_size(1)
        .unwrap()
        .build(&events, common::now());
    let d = Deliverer::new(&transport, Endpoint::snapchat("p", "t").unwrap())
        .with_clock(Shared(Arc::clone(&clock)));
    assert!(d.deliver(&built).unwrap().all_accepted());
    assert_eq!(transport.at.lock().unwrap().len(), 12);
    assert!(clock.slept().is_empty());
}

#[test]
fn a_deliverer_is_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Deliverer<UreqTransport>>();

    let clock = FakeClock::new();
    let transport = Recording {
        clock: Arc::clone(&clock),
        at: Mutex::new(Vec::new()),
    };
    let n = common::us();
    let built = google_builder(&n).build(&[event(0)], common::now());
    let d = Deliverer::new(&transport, Endpoint::google("t").unwrap())
        .with_clock(Shared(Arc::clone(&clock)));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert!(d.deliver(&built).unwrap().all_accepted()));
        }
    });
    assert_eq!(transport.at.lock().unwrap().len(), 4);
}

/// A Data Manager `google.rpc.Status` refusing a request for the fields named.
fn google_invalid(fields: &[(&str, &str)]) -> String {
    let violations: Vec<serde_json::Value> = fields
        .iter()
        .map(|(f, d)| serde_json::json!({ "field": f, "description": d }))
        .collect();
    serde_json::json!({
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "status": "INVALID_ARGUMENT",
            "details": [
                { "@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "req-42" },
                { "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations }
            ]
        }
    })
    .to_string()
}

#[test]
fn google_field_violations_refuse_exactly_the_named_events() {
    // Input 1 fails the builder; batches of 2 give requests [0, 2] and [3, 4].
    let server = Server::start(vec![
        reply(200, r#"{"requestId":"req-41"}"#),
        reply(
            400,
            &google_invalid(&[(
                "events[1].conversionValue",
                "Conversion value must not be negative.",
            )]),
        ),
    ]);
    let clock = FakeClock::new();
    let n = common::us();
    let events = [event(0), invalid(), event(2), event(3), event(4)];
    let built = google_builder(&n)
        .batch_size(2)
        .unwrap()
        .build(&events, common::now());
    assert_eq!(built.event_indices, [vec![0, 2], vec![3, 4]]);
    let endpoint = Endpoint::google("ya29.oauth")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(Arc::clone(&clock)));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 2);
    assert!(clock.slept().is_empty(), "INVALID_ARGUMENT is not retried");

    let first = report.requests[0].receipt.as_ref().unwrap();
    assert_eq!(first.trace_id.as_deref(), Some("req-41"));
    assert_eq!(report.requests[1].receipt, None);
    let Outcome::Refused(request_error) = &report.requests[1].outcome else {
        panic!("{:?}", report.requests[1].outcome)
    };
    assert_eq!(request_error.trace_id.as_deref(), Some("req-42"));

    let codes: Vec<(usize, &str)> = report
        .events
        .iter()
        .map(|e| (e.index, e.outcome.code()))
        .collect();
    assert_eq!(
        codes,
        [
            (0, "accepted"),
            (1, "missing_required_field"),
            (2, "accepted"),
            (3, "unprocessed"),
            (4, "refused"),
        ]
    );
    // Position 1 of the second request is input event 4, not input event 1.
    let EventOutcome::Refused(own) = &report.events[4].outcome else {
        panic!()
    };
    assert_eq!(own.message, "Conversion value must not be negative.");
    assert_eq!(own.violations.len(), 1);
    assert_eq!(own.violations[0].field, "events[1].conversionValue");
    assert_eq!(own.trace_id.as_deref(), Some("req-42"));
    assert_eq!(
        report.events[3].outcome,
        EventOutcome::Unprocessed(request_error.clone())
    );
    assert_eq!(report.events[3].request, Some(1));
    assert_eq!(report.accepted(), 2);
}

#[test]
fn google_refusal_naming_no_event_refuses_every_event() {
    let body = google_invalid(&[(
        "destinations[0].productDestinationId",
        "Unknown destination.",
    )]);
    let server = Server::start(vec![reply(400, &body)]);
    let n = common::us();
    let built = google_builder(&n).build(&[event(0), event(1)], common::now());
    let endpoint = Endpoint::google("t")
        .unwrap()
        .with_base_url(&server.base)
        .unwrap();
    let d = Deliverer::new(UreqTransport::new(), endpoint).with_clock(Shared(FakeClock::new()));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);
    let Outcome::Refused(e) = &report.requests[0].outcome else {
        panic!()
    };
    assert_eq!(e.violations.len(), 1);
    for ev in &report.events {
        assert_eq!(ev.outcome, EventOutcome::Refused(e.clone()));
    }
}

#[test]
fn meta_fewer_events_received_than_sent_is_not_reported_accepted() {
    let server = Server::start(vec![reply(
        200,
        r#"{"events_received":1,"messages":["one event was not received"],"fbtrace_id":"AbC"}"#,
    )]);
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0), event(1)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(FakeClock::new()));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);

    let r = &report.requests[0];
    assert_eq!(r.outcome, Outcome::Accepted);
    let receipt = r.receipt.as_ref().unwrap();
    assert_eq!(receipt.events_received, Some(1));
    assert_eq!(receipt.messages, ["one event was not received"]);
    assert_eq!(receipt.trace_id.as_deref(), Some("AbC"));
    for e in &report.events {
        assert_eq!(
            e.outcome,
            EventOutcome::Unconfirmed {
                received: 1,
                sent: 2
            }
        );
        assert_eq!(e.outcome.code(), "unconfirmed");
    }
    assert_eq!(report.accepted(), 0);
    assert!(!report.all_accepted());
}

#[test]
fn meta_400_carries_the_whole_graph_error_to_every_event() {
    let body = r#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804003,"error_user_title":"Invalid time","error_user_msg":"Send events within 7 days.","error_data":"{\"blame\":\"event_time\"}","fbtrace_id":"AXyz"}}"#;
    let server = Server::start(vec![reply(400, body)]);
    let n = common::us();
    let built = MetaBuilder::new(&n).build(&[event(0), event(1)], common::now());
    let d = Deliverer::new(UreqTransport::new(), meta_endpoint(&server))
        .with_clock(Shared(FakeClock::new()));
    let report = d.deliver(&built).unwrap();
    assert_eq!(server.finish().len(), 1);
    let Outcome::Refused(e) = &report.requests[0].outcome else {
        panic!()
    };
    assert_eq!(e.kind.as_deref(), Some("OAuthException"));
    assert_eq!(e.user_title.as_deref(), Some("Invalid time"));
    assert_eq!(
        e.user_message.as_deref(),
        Some("Send events within 7 days.")
    );
    assert_eq!(e.data.as_deref(), Some(r#"{"blame":"event_time"}"#));
    // Meta names no event: the whole batch is refused with the same reason.
    for ev in &report.events {
        assert_eq!(ev.outcome, EventOutcome::Refused(e.clone()));
    }
    let shown = format!("{report:?}");
    assert!(!shown.contains("secret"), "{shown}");
}
