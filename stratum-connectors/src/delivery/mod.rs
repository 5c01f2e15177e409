//! Sending the built requests to the platforms (feature `http`, PLATFORMS.md §3).
//!
//! A [`Deliverer`] sends each request of a [`Built`] to one [`Endpoint`] through a
//! [`Transport`] ([`UreqTransport`] in production: blocking, rustls, no OpenSSL),
//! retrying exactly as D21 says: connection errors, timeouts, 429, 5xx, Google
//! `RESOURCE_EXHAUSTED`/`UNAVAILABLE` and TikTok body code 40100 are retried with
//! exponential backoff and full jitter (500 ms base, 30 s cap, 3 retries) or after
//! the `Retry-After` the platform asked for; every other 4xx is final. The body is
//! the same bytes on every attempt. Google requests also pass a client-side
//! [`RateLimit`] (5 per second, 10 in flight) shared by every thread using the
//! deliverer.
//!
//! The outcome is a [`DeliveryReport`]: one [`RequestReport`] per request and one
//! [`EventReport`] per input event, including the events the builder rejected
//! before sending, so that every event is accounted for. Where the platform's
//! documented response names events, the report follows it event by event
//! ([`RequestReport::event_outcomes`]): Google Data Manager field violations
//! (`events[3].conversionValue`) mark exactly the events named as refused, with
//! their own reasons, and the rest of that request as
//! [`EventOutcome::Unprocessed`]; a Meta `events_received` below the number sent
//! marks the request's events [`EventOutcome::Unconfirmed`].
//!
//! Access tokens are [`Secret`]s: never in `Debug` output, reports or error
//! messages.
//!
//! ```no_run
//! use stratum_connectors::delivery::{Deliverer, Endpoint, UreqTransport};
//! use stratum_connectors::payload::meta::MetaBuilder;
//! use stratum_connectors::{ConversionEvent, Normalizer, NormalizerConfig, PhoneRegion};
//!
//! let config = NormalizerConfig::builder()
//!     .phone_region(PhoneRegion::Default("US".into()))
//!     .build()?;
//! let normalizer = Normalizer::new(config)?;
//! let events: Vec<ConversionEvent> = Vec::new(); // the events to send
//! let built = MetaBuilder::new(&normalizer).build(&events, chrono::Utc::now());
//!
//! let endpoint = Endpoint::meta("v23.0", "1234567890", "EAAB...")?;
//! let deliverer = Deliverer::new(UreqTransport::new(), endpoint);
//! let report = deliverer.deliver(&built)?;
//! for event in &report.events {
//!     println!("event {}: {}", event.index, event.outcome.code());
//! }
//! # Ok::<(), stratum_connectors::Error>(())
//! ```

mod attribute;
mod http;
mod limiter;
mod response;
mod retry;
mod transport;

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::payload::Built;
use crate::platform::Platform;

pub use http::{MAX_RESPONSE_BYTES, UreqTransport};
pub use limiter::RateLimit;
pub use response::{FieldViolation, PlatformError, Receipt, TIKTOK_THROTTLED};
pub use retry::{Clock, RetryPolicy, SystemClock, parse_retry_after};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};

use limiter::Limiter;
use response::{Verdict, classify};
use retry::XorShift;

/// A credential. Its `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token.
    #[must_use]
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for building a request.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How a platform takes its token.
// Which variants are built depends on the platform features.
#[allow(dead_code)]
#[derive(Clone, Debug, PartialEq, Eq)]
enum Auth {
    /// `?access_token=` (Meta, Snapchat).
    Query(Secret),
    /// `Authorization: Bearer` (Google OAuth).
    Bearer(Secret),
    /// `Access-Token:` (TikTok).
    AccessTokenHeader(Secret),
}

impl Auth {
    fn secret(&self) -> &Secret {
        match self {
            Self::Query(s) | Self::Bearer(s) | Self::AccessTokenHeader(s) => s,
        }
    }
}

/// Where and how one platform's requests are sent: URL and credentials.
///
/// `Debug` redacts the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    platform: Platform,
    base: String,
    path: String,
    auth: Auth,
}

/// An id or version placed in a URL path: ASCII letters, digits, `.`, `_`, `-`.
#[cfg(any(feature = "meta", feature = "snapchat"))]
fn path_segment(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Error::config(
            field,
            "must be non-empty ASCII letters, digits, `.`, `_` or `-`",
        ));
    }
    Ok(v.to_owned())
}

fn token(field: &str, value: &str) -> Result<Secret> {
    if value.trim().is_empty() || value.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::config(
            field,
            "must be a non-empty token without control characters",
        ));
    }
    Ok(Secret(value.trim().to_owned()))
}

impl Endpoint {
    /// Meta Conversions API: `POST graph.facebook.com/{api_version}/{pixel_id}/events`
    /// with `access_token` in the query.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty or non-ASCII version or pixel id, or an
    /// empty token.
    #[cfg(feature = "meta")]
    pub fn meta(
        api_version: &str,
        pixel_id: &str,
        access_token: impl Into<String>,
    ) -> Result<Self> {
        let ver = path_segment("api_version", api_version)?;
        let pixel = path_segment("pixel_id", pixel_id)?;
        Ok(Self {
            platform: Platform::Meta,
            base: "https://graph.facebook.com".into(),
            path: format!("/{ver}/{pixel}/events"),
            auth: Auth::Query(token("access_token", &access_token.into())?),
        })
    }

    /// Google Data Manager: `POST datamanager.googleapis.com/v1/events:ingest` with
    /// an OAuth 2.0 access token (obtained and refreshed by the caller) as bearer.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty token.
    #[cfg(feature = "google")]
    pub fn google(oauth_token: impl Into<String>) -> Result<Self> {
        Ok(Self {
            platform: Platform::Google,
            base: "https://datamanager.googleapis.com".into(),
            path: "/v1/events:ingest".into(),
            auth: Auth::Bearer(token("oauth_token", &oauth_token.into())?),
        })
    }

    /// TikTok Events API: `POST business-api.tiktok.com/open_api/v1.3/event/track/`
    /// with header `Access-Token`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty token.
    #[cfg(feature = "tiktok")]
    pub fn tiktok(access_token: impl Into<String>) -> Result<Self> {
        Ok(Self {
            platform: Platform::TikTok,
            base: "https://business-api.tiktok.com".into(),
            path: "/open_api/v1.3/event/track/".into(),
            auth: Auth::AccessTokenHeader(token("access_token", &access_token.into())?),
        })
    }

    /// Snapchat Conversions API v3: `POST tr.snapchat.com/v3/{pixel or app id}/events`
    /// with `access_token` in the query.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty or non-ASCII id, or an empty token.
    #[cfg(feature = "snapchat")]
    pub fn snapchat(pixel_or_app_id: &str, access_token: impl Into<String>) -> Result<Self> {
        let id = path_segment("pixel_or_app_id", pixel_or_app_id)?;
        Ok(Self {
            platform: Platform::Snapchat,
            base: "https://tr.snapchat.com".into(),
            path: format!("/v3/{id}/events"),
            auth: Auth::Query(token("access_token", &access_token.into())?),
        })
    }

    /// Replaces the scheme and host (e.g. `http://127.0.0.1:8080` for a test
    /// server); the platform's path is kept.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] unless `base` starts with `http://` or `https://`
    /// and has no query or fragment.
    pub fn with_base_url(mut self, base: &str) -> Result<Self> {
        let b = base.trim().trim_end_matches('/');
        let host = b
            .strip_prefix("https://")
            .or_else(|| b.strip_prefix("http://"));
        if host.is_none_or(|h| h.is_empty() || h.contains(['?', '#', ' '])) {
            return Err(Error::config(
                "base_url",
                format!("is {b:?}; expected http:// or https:// and a host, without query"),
            ));
        }
        b.clone_into(&mut self.base);
        Ok(self)
    }

    /// The platform these requests are for.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The URL requests go to, without the token.
    #[must_use]
    pub fn url(&self) -> String {
        format!("{}{}", self.base, self.path)
    }

    fn request(&self, body: Vec<u8>, timeout: Duration) -> HttpRequest {
        let mut url = self.url();
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        match &self.auth {
            Auth::Query(s) => {
                url.push_str("?access_token=");
                url.push_str(&percent_encode(s.expose()));
            }
            Auth::Bearer(s) => {
                headers.push(("Authorization".into(), format!("Bearer {}", s.expose())));
            }
            Auth::AccessTokenHeader(s) => {
                headers.push(("Access-Token".into(), s.expose().to_owned()));
            }
        }
        HttpRequest {
            method: Method::Post,
            url,
            headers,
            body,
            timeout,
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A request type built by [`crate::payload`] that a [`Deliverer`] can send.
pub trait Payload: Serialize {
    /// The platform the request is for.
    const PLATFORM: Platform;
    /// How many events the request carries.
    fn event_count(&self) -> usize;
}

#[cfg(feature = "meta")]
impl Payload for crate::payload::meta::MetaRequest {
    const PLATFORM: Platform = Platform::Meta;
    fn event_count(&self) -> usize {
        self.data.len()
    }
}

#[cfg(feature = "google")]
impl Payload for crate::payload::google::IngestEventsRequest {
    const PLATFORM: Platform = Platform::Google;
    fn event_count(&self) -> usize {
        self.events.len()
    }
}

#[cfg(feature = "tiktok")]
impl Payload for crate::payload::tiktok::TikTokRequest {
    const PLATFORM: Platform = Platform::TikTok;
    fn event_count(&self) -> usize {
        self.data.len()
    }
}

#[cfg(feature = "snapchat")]
impl Payload for crate::payload::snapchat::SnapRequest {
    const PLATFORM: Platform = Platform::Snapchat;
    fn event_count(&self) -> usize {
        self.data.len()
    }
}

/// Timeouts, retries and rate limit for one platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Retry timing.
    pub retry: RetryPolicy,
    /// Per attempt, connecting included (Meta 1,500 ms, others 10 s).
    pub timeout: Duration,
    /// The client-side limit, if any (Google only by default).
    pub rate_limit: Option<RateLimit>,
}

impl DeliveryConfig {
    /// The defaults of D21 for `platform`.
    #[must_use]
    pub fn for_platform(platform: Platform) -> Self {
        let (timeout, rate_limit) = match platform.as_str() {
            "meta" => (Duration::from_millis(1_500), None),
            "google" => (Duration::from_secs(10), Some(RateLimit::GOOGLE)),
            _ => (Duration::from_secs(10), None),
        };
        Self {
            retry: RetryPolicy::default(),
            timeout,
            rate_limit,
        }
    }
}

/// The final outcome of one request.
// One per request, next to a network round trip: boxing the error would only
// make matching on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The platform accepted it.
    Accepted,
    /// The platform refused it, finally or after the retries ran out.
    Refused(PlatformError),
    /// No response after the retries ran out.
    Failed(TransportError),
}

impl Outcome {
    /// `accepted`, `refused`, or the transport error's code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused(_) => "refused",
            Self::Failed(e) => e.code(),
        }
    }
}

/// What happened to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestReport {
    /// Its index in [`Built::requests`] (0 for [`Deliverer::send`]).
    pub request: usize,
    /// The input indices of its events.
    pub events: Vec<usize>,
    /// The final outcome.
    pub outcome: Outcome,
    /// Attempts made, at least 1.
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub status: Option<u16>,
    /// What the platform's success body said (`None` unless accepted).
    pub receipt: Option<Receipt>,
}

impl RequestReport {
    /// Attempts after the first.
    #[must_use]
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// The final outcome of one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// Sent in a request the platform accepted, and nothing in its answer
    /// suggests this event was left out.
    Accepted,
    /// The platform refused this event. Either it named the event (Google field
    /// violations: the error then holds this event's own violations and their
    /// descriptions as its message), or it refused the whole request without
    /// saying which event was at fault (Meta and TikTok refuse a whole batch for
    /// one bad event; any platform for a request-level problem such as a bad
    /// token): the error is then the request's.
    Refused(PlatformError),
    /// Sent in a request the platform refused because of *other* events it
    /// named (Google's fast-fail model: nothing of the request was processed).
    /// This event was not delivered, was not found at fault, and can be sent
    /// again once the named events are fixed or removed. Holds the request's
    /// error.
    Unprocessed(PlatformError),
    /// Sent in a request the platform accepted, but the platform reported
    /// receiving fewer events than were sent (Meta `events_received`) without
    /// saying which: this event may or may not have been taken.
    Unconfirmed {
        /// Events the platform reported receiving.
        received: u64,
        /// Events in the request.
        sent: usize,
    },
    /// Its request got no response.
    Failed(TransportError),
    /// Not sent: it failed validation in the builder.
    Invalid(Error),
}

impl EventOutcome {
    /// `accepted`, `refused`, `unprocessed`, `unconfirmed`, the transport
    /// error's code, or the validation error's code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused(_) => "refused",
            Self::Unprocessed(_) => "unprocessed",
            Self::Unconfirmed { .. } => "unconfirmed",
            Self::Failed(e) => e.code(),
            Self::Invalid(e) => e.code(),
        }
    }
}

/// What happened to one input event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventReport {
    /// Its index in the builder's input.
    pub index: usize,
    /// The request that carried it (`None` when it was not sent).
    pub request: Option<usize>,
    /// The outcome.
    pub outcome: EventOutcome,
    /// Retries of its request.
    pub retries: u32,
    /// The last HTTP status of its request.
    pub status: Option<u16>,
}

/// The outcome of [`Deliverer::deliver`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// One per request, in order.
    pub requests: Vec<RequestReport>,
    /// One per input event, by index.
    pub events: Vec<EventReport>,
}

impl DeliveryReport {
    /// Whether every event was sent and accepted.
    #[must_use]
    pub fn all_accepted(&self) -> bool {
        self.events
            .iter()
            .all(|e| e.outcome == EventOutcome::Accepted)
    }

    /// How many events were accepted.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.outcome == EventOutcome::Accepted)
            .count()
    }
}

/// Sends requests to one [`Endpoint`] with retries, rate limit and reports.
///
/// Share it between threads by reference: the rate limit is per deliverer.
pub struct Deliverer<T, C = SystemClock> {
    transport: T,
    clock: C,
    endpoint: Endpoint,
    config: DeliveryConfig,
    limiter: Option<Limiter>,
    rng: Mutex<XorShift>,
}

impl<T, C> fmt::Debug for Deliverer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliverer")
            .field("endpoint", &self.endpoint)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Deliverer<T> {
    /// A deliverer with the platform's default [`DeliveryConfig`], the system
    /// clock and jitter seeded from the OS.
    #[must_use]
    pub fn new(transport: T, endpoint: Endpoint) -> Self {
        let config = DeliveryConfig::for_platform(endpoint.platform);
        Self {
            transport,
            clock: SystemClock::default(),
            limiter: config.rate_limit.map(Limiter::new),
            endpoint,
            config,
            rng: Mutex::new(XorShift::from_os()),
        }
    }
}

impl<T: Transport, C: Clock> Deliverer<T, C> {
    /// Replaces the timeouts, retry policy and rate limit.
    #[must_use]
    pub fn with_config(mut self, config: DeliveryConfig) -> Self {
        self.limiter = config.rate_limit.map(Limiter::new);
        self.config = config;
        self
    }

    /// Replaces the clock (tests use one that does not really sleep).
    #[must_use]
    pub fn with_clock<C2: Clock>(self, clock: C2) -> Deliverer<T, C2> {
        Deliverer {
            transport: self.transport,
            clock,
            endpoint: self.endpoint,
            config: self.config,
            limiter: self.limiter,
            rng: self.rng,
        }
    }

    /// Seeds the jitter, for reproducible delays.
    #[must_use]
    pub fn with_seed(self, seed: u64) -> Self {
        Self {
            rng: Mutex::new(XorShift::new(seed)),
            ..self
        }
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &DeliveryConfig {
        &self.config
    }

    /// The endpoint.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends every request of `built`, one after the other, and accounts for
    /// every input event, the builder's rejected ones included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the requests are for another platform than
    /// the endpoint's; nothing is sent then.
    pub fn deliver<R: Payload>(&self, built: &Built<R>) -> Result<DeliveryReport> {
        self.check_platform::<R>()?;
        let mut requests = Vec::with_capacity(built.requests.len());
        let mut events = Vec::new();
        for (i, r) in built.requests.iter().enumerate() {
            let indices = built.event_indices.get(i).cloned().unwrap_or_default();
            let report = self.send_one(i, r, indices)?;
            let outcomes = report.event_outcomes();
            events.extend(report.events.iter().zip(outcomes).map(|(&index, outcome)| {
                EventReport {
                    index,
                    request: Some(i),
                    outcome,
                    retries: report.retries(),
                    status: report.status,
                }
            }));
            requests.push(report);
        }
        events.extend(built.rejected.iter().map(|r| EventReport {
            index: r.index,
            request: None,
            outcome: EventOutcome::Invalid(r.error.clone()),
            retries: 0,
            status: None,
        }));
        events.sort_by_key(|e| e.index);
        Ok(DeliveryReport { requests, events })
    }

    /// Sends one request (with retries); its events are numbered from 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the request is for another platform than the
    /// endpoint's.
    pub fn send<R: Payload>(&self, request: &R) -> Result<RequestReport> {
        self.check_platform::<R>()?;
        self.send_one(0, request, (0..request.event_count()).collect())
    }

    fn check_platform<R: Payload>(&self) -> Result<()> {
        if R::PLATFORM != self.endpoint.platform {
            return Err(Error::config(
                "endpoint",
                format!(
                    "is for {}, the requests are for {}",
                    self.endpoint.platform.as_str(),
                    R::PLATFORM.as_str()
                ),
            ));
        }
        Ok(())
    }

    fn send_one<R: Payload>(
        &self,
        index: usize,
        request: &R,
        events: Vec<usize>,
    ) -> Result<RequestReport> {
        let body = serde_json::to_vec(request).map_err(|e| Error::InvalidJson {
            what: "request",
            field: None,
            message: e.to_string(),
        })?;
        let http = self.endpoint.request(body, self.config.timeout);
        let (outcome, attempts, status, receipt) = self.exchange(&http);
        Ok(RequestReport {
            request: index,
            events,
            outcome,
            attempts,
            status,
            receipt,
        })
    }

    /// Sends `http` until it is accepted, refused, or the retries run out.
    fn exchange(&self, http: &HttpRequest) -> (Outcome, u32, Option<u16>, Option<Receipt>) {
        let policy = self.config.retry;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let permit = self.limiter.as_ref().map(|l| l.acquire(&self.clock));
            let result = self.transport.send(http);
            drop(permit);
            let (last, status, retry_after) = match result {
                Ok(resp) => match classify(self.endpoint.platform, resp.status, &resp.body) {
                    Verdict::Accepted(receipt) => {
                        return (
                            Outcome::Accepted,
                            attempts,
                            Some(resp.status),
                            Some(receipt),
                        );
                    }
                    Verdict::Refused(e) => {
                        return (Outcome::Refused(e), attempts, Some(resp.status), None);
                    }
                    Verdict::Retry(e) => {
                        let after = resp
                            .header("retry-after")
                            .and_then(|v| parse_retry_after(v, self.clock.now()));
                        (Outcome::Refused(e), Some(resp.status), after)
                    }
                },
                Err(e) => (Outcome::Failed(self.scrub(e)), None, None),
            };
            let retry = attempts - 1;
            if retry >= policy.max_retries {
                return (last, attempts, status, None);
            }
            let delay = match retry_after {
                Some(d) if d > policy.max_retry_after => return (last, attempts, status, None),
                Some(d) => d,
                None => {
                    let random = self
                        .rng
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .next_u64();
                    policy.backoff(retry, random)
                }
            };
            self.clock.sleep(delay);
        }
    }

    /// Removes the token from a transport's message, however it was spelled.
    fn scrub(&self, e: TransportError) -> TransportError {
        let secret = self.endpoint.auth.secret().expose();
        let encoded = percent_encode(secret);
        let clean = |m: String| {
            m.replace(secret, "[redacted]")
                .replace(&encoded, "[redacted]")
        };
        match e {
            TransportError::Connect { message } => TransportError::Connect {
                message: clean(message),
            },
            TransportError::Tls { message } => TransportError::Tls {
                message: clean(message),
            },
            TransportError::Io { message } => TransportError::Io {
                message: clean(message),
            },
            other => other,
        }
    }
}
