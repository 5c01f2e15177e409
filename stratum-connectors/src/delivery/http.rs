//! [`Transport`] over `ureq`: blocking, rustls with the webpki roots, no OpenSSL.

use std::fmt;
use std::io;

use super::transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};

/// The largest response body read (1 MiB): the platforms answer with a few
/// hundred bytes, and nothing larger is useful in a report.
pub const MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// The HTTP client used in production: one connection pool, shared by every
/// request. Cheap to clone.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport").finish_non_exhaustive()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl UreqTransport {
    /// A client that returns 4xx and 5xx as responses and follows no redirects.
    #[must_use]
    pub fn new() -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("stratum-connectors/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = match request.method {
            Method::Post => self
                .agent
                .post(request.url.as_str())
                .config()
                .timeout_global(Some(request.timeout))
                .build(),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let map = |e: ureq::Error| map_error(e, request);
        let response = builder.send(request.body.as_slice()).map_err(map)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(map)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn map_error(e: ureq::Error, request: &HttpRequest) -> TransportError {
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout {
            timeout: request.timeout,
        },
        ureq::Error::HostNotFound => TransportError::Connect {
            message: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => TransportError::Connect {
            message: "connection failed".into(),
        },
        ureq::Error::Tls(m) => TransportError::Tls { message: m.into() },
        ureq::Error::Rustls(e) => TransportError::Tls {
            message: e.to_string(),
        },
        ureq::Error::Pem(e) => TransportError::Tls {
            message: e.to_string(),
        },
        ureq::Error::BadUri(_) => TransportError::Io {
            message: "invalid URL".into(),
        },
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout {
                timeout: request.timeout,
            },
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::AddrNotAvailable => TransportError::Connect {
                message: e.to_string(),
            },
            _ => TransportError::Io {
                message: e.to_string(),
            },
        },
        other => TransportError::Io {
            message: other.to_string(),
        },
    }
}
