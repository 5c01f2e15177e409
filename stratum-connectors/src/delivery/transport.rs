//! One HTTP exchange, behind a trait so that retries, rate limits and reports are
//! tested without a network.

use std::fmt;
use std::time::Duration;

/// The HTTP method of a request (the conversion APIs only take `POST`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `POST`.
    Post,
}

impl Method {
    /// The method as it appears on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
        }
    }
}

/// One HTTP request, fully formed.
///
/// Its `Debug` output shows the URL without its query string and header names
/// without their values: both may carry an access token.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL, query string included.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, sent as is.
    pub body: Vec<u8>,
    /// How long the whole exchange may take, connecting included.
    pub timeout: Duration,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_query(&self.url))
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The URL with its query string replaced by `?[redacted]`.
pub(crate) fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((path, _)) => format!("{path}?[redacted]"),
        None => url.to_owned(),
    }
}

/// One HTTP response: any status, including 4xx and 5xx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (as received) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (compared case-insensitively).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response was received. Messages never contain the request's URL query
/// or headers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host could not be resolved or the connection was refused or reset
    /// before a response.
    #[error("connection failed: {message}")]
    Connect {
        /// What the client reported.
        message: String,
    },
    /// The exchange took longer than the request's timeout.
    #[error("timed out after {} ms", timeout.as_millis())]
    Timeout {
        /// The timeout that was exceeded.
        timeout: Duration,
    },
    /// The TLS handshake or certificate verification failed.
    #[error("TLS failed: {message}")]
    Tls {
        /// What the client reported.
        message: String,
    },
    /// Any other input/output or protocol failure.
    #[error("I/O failed: {message}")]
    Io {
        /// What the client reported.
        message: String,
    },
}

impl TransportError {
    /// The stable code: `connect`, `timeout`, `tls` or `io`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "connect",
            Self::Timeout { .. } => "timeout",
            Self::Tls { .. } => "tls",
            Self::Io { .. } => "io",
        }
    }
}

/// Sends one HTTP request and returns the response, whatever its status.
///
/// Implementations do not retry, follow no redirects and treat 4xx and 5xx as
/// responses, not errors: [`Deliverer`](super::Deliverer) decides what to retry.
pub trait Transport: Send + Sync {
    /// Sends `request` and waits for the whole response.
    ///
    /// # Errors
    ///
    /// A [`TransportError`] when no complete response was received.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request)
    }
}
