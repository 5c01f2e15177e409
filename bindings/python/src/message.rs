//! `stratum_cdp::message` and `stratum_cdp::dedup`: Segment-spec messages (one or a
//! batch, with clock-skew correction and per-element results) and de-duplication by
//! `messageId` within a window.

use chrono::TimeDelta;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use stratum_cdp::message::{self as core, ParseConfig};
use stratum_cdp::{dedup, http};

use crate::convert::{json_bytes, json_text, py_time, tag, time, to_py};
use crate::errors::{cdp_err, guard, input_err};
use crate::locks::{Arg, Int, Text, lock};

/// A parser configuration from a dict (`max_message_bytes`, `max_batch_bytes`,
/// `max_future_seconds`, `min_timestamp`, each optional); the defaults when `None`.
/// The crate reads and validates it (errors name the field).
pub(crate) fn parse_config(obj: Option<&Bound<'_, PyAny>>) -> PyResult<ParseConfig> {
    match obj {
        None => Ok(ParseConfig::default()),
        Some(o) => stratum_cdp::from_json(&json_text(o)?).map_err(cdp_err),
    }
}

/// A Segment-spec message from a parsed `Message` (taken as it is), a dict, or JSON
/// text (`str` or `bytes`) received at `received_at` (now when `None`).
pub(crate) fn message_from_py(
    message: &Bound<'_, PyAny>,
    received_at: Option<&Bound<'_, PyAny>>,
    config: &ParseConfig,
) -> PyResult<core::Message> {
    if let Ok(m) = message.cast::<Message>() {
        return Ok(m.get().0.clone());
    }
    let now = time(received_at)?;
    let json = json_bytes(message)?;
    core::parse_message(&json, now, config).map_err(cdp_err)
}

/// One parsed, validated Segment message (`stratum_cdp::message::Message`).
///
/// Times are timezone-aware UTC `datetime`s; `timestamp` is the event time after
/// clock-skew correction, `timestamp_source` says how it was obtained.
#[pyclass(name = "Message", module = "stratum._native", frozen)]
pub(crate) struct Message(pub(crate) core::Message);

#[pymethods]
impl Message {
    /// `identify`, `track`, `page`, `screen`, `group` or `alias`.
    #[getter(r#type)]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The client-generated unique id (`messageId`).
    #[getter]
    fn message_id(&self) -> &str {
        &self.0.message_id
    }

    /// `anonymousId`, if any.
    #[getter]
    fn anonymous_id(&self) -> Option<&str> {
        self.0.anonymous_id.as_deref()
    }

    /// `userId`, if any.
    #[getter]
    fn user_id(&self) -> Option<&str> {
        self.0.user_id.as_deref()
    }

    /// When the event happened, corrected for client clock skew.
    #[getter]
    fn timestamp<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_time(py, &self.0.timestamp)
    }

    /// `client`, `skew_corrected`, `original_timestamp` or `received_at`.
    #[getter]
    fn timestamp_source(&self) -> String {
        tag(&self.0.timestamp_source)
    }

    /// The client's clock at the time of the event (`originalTimestamp`), if sent.
    #[getter]
    fn original_timestamp<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .original_timestamp
            .as_ref()
            .map(|t| py_time(py, t))
            .transpose()
    }

    /// The client's clock when the message was sent (`sentAt`), if sent.
    #[getter]
    fn sent_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.sent_at.as_ref().map(|t| py_time(py, t)).transpose()
    }

    /// When the server received the message.
    #[getter]
    fn received_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_time(py, &self.0.received_at)
    }

    /// The event name (`track`).
    #[getter]
    fn event(&self) -> Option<&str> {
        self.0.event.as_deref()
    }

    /// The page or screen name (`page`, `screen`).
    #[getter]
    fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The page or screen category (`page`, `screen`), if sent.
    #[getter]
    fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }

    /// The channel the client reports (`web`, `mobile`, `server`), if sent.
    #[getter]
    fn channel(&self) -> Option<&str> {
        self.0.channel.as_deref()
    }

    /// The group id (`group`).
    #[getter]
    fn group_id(&self) -> Option<&str> {
        self.0.group_id.as_deref()
    }

    /// The previous id (`alias`).
    #[getter]
    fn previous_id(&self) -> Option<&str> {
        self.0.previous_id.as_deref()
    }

    /// The `context` object, as a dict.
    #[getter]
    fn context<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.context)
    }

    /// The `integrations` object, as a dict.
    #[getter]
    fn integrations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.integrations)
    }

    /// The `traits` (`identify`, `group`), or `context.traits` for other types.
    #[getter]
    fn traits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.traits)
    }

    /// The `properties` (`track`, `page`, `screen`), as a dict; integers keep every
    /// digit (Python `int`), decimals are `float`s (see `properties_json`).
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.properties)
    }

    /// The exact JSON text of `properties` as the client sent it (every digit of
    /// every number; `json.loads(m.properties_json, parse_float=decimal.Decimal)`
    /// keeps decimals exact too).
    #[getter]
    fn properties_json(&self) -> &str {
        self.0.properties.json()
    }

    /// The client library's `_metadata` object, as a dict (empty when not sent).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.metadata)
    }

    /// Every other top-level field the client sent (`writeKey`, `version`, ...), as
    /// a dict.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.extra)
    }

    /// Consent per category (`context.consent.categoryPreferences`): name → allowed.
    #[getter]
    fn consent<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.consent.categories)
    }

    /// The whole message in the crate's JSON form (snake_case names, RFC 3339 times
    /// at full precision).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Message(type={:?}, message_id={:?}, timestamp={:?})",
            self.0.kind.as_str(),
            self.0.message_id,
            self.0.timestamp.to_rfc3339()
        )
    }
}

/// Parses one Segment message (a dict, or JSON as `str` or `bytes`; not a batch)
/// received at `received_at` (now when omitted; a `receivedAt` in the message
/// wins). `config` may set `max_message_bytes` (32 KB), `max_batch_bytes`
/// (4 MB), `max_future_seconds` (one day) and `min_timestamp` (2000-01-01).
///
/// `content_encoding` (the HTTP header's value: `gzip`, `deflate`, `identity`)
/// decodes a `bytes` body first, within the message size limit.
///
/// Raises `InvalidJsonError`, `InvalidMessageError`, `MissingIdentityError`,
/// `InvalidTimestampError`, `TooLargeError` or `InvalidEncodingError`, with
/// `.field` naming the offending field.
///
/// ```python
/// >>> import stratum
/// >>> m = stratum.parse_message(
/// ...     {"type": "track", "messageId": "m1", "userId": "u1", "event": "Signed Up",
/// ...      "originalTimestamp": "2026-03-01T11:59:00Z", "sentAt": "2026-03-01T12:00:00Z"},
/// ...     received_at="2026-03-01T12:00:05Z")
/// >>> m.type, m.event, m.timestamp.isoformat(), m.timestamp_source
/// ('track', 'Signed Up', '2026-03-01T11:59:05+00:00', 'skew_corrected')
///
/// ```
#[pyfunction]
#[pyo3(signature = (message, received_at = None, *, config = None, content_encoding = None))]
pub(crate) fn parse_message(
    message: &Bound<'_, PyAny>,
    received_at: Option<&Bound<'_, PyAny>>,
    config: Option<&Bound<'_, PyAny>>,
    content_encoding: Option<Text>,
) -> PyResult<Message> {
    guard(|| {
        let content_encoding = content_encoding.as_deref();
        let config = parse_config(config)?;
        if content_encoding.is_some() && message.cast::<Message>().is_err() {
            let now = time(received_at)?;
            let body = json_bytes(message)?;
            return http::parse_message_body(
                &body,
                content_encoding,
                core::ReceivedAt::Replay(now),
                &config,
            )
            .map(Message)
            .map_err(cdp_err);
        }
        message_from_py(message, received_at, &config).map(Message)
    })
}

/// Parses a Segment batch (`{"batch": [...], "sentAt": ..., "context": ...}` as a
/// dict, or JSON as `str` or `bytes`) received at `received_at`; `config` as for
/// `parse_message`; `content_encoding` (`gzip`, `deflate`, `identity`) decodes a
/// `bytes` body first, within the batch size limit. The batch-level `sentAt`,
/// `context` and `integrations` apply to elements that lack them.
///
/// Returns `{"messages", "errors"}`: the valid messages in order, and one
/// `{"index", "code", "field", "message"}` per invalid element (an invalid element
/// never affects its neighbours). Raises only when the batch as a whole is unusable
/// (too large, not an object, no `batch` list).
///
/// ```python
/// >>> import stratum
/// >>> out = stratum.parse_batch({"batch": [
/// ...     {"type": "page", "messageId": "m1", "anonymousId": "a1"},
/// ...     {"type": "track", "messageId": "m2", "event": "Click"},
/// ... ]}, received_at="2026-03-01T12:00:00Z")
/// >>> [m.message_id for m in out["messages"]]
/// ['m1']
/// >>> [(e["index"], e["code"], e["field"]) for e in out["errors"]]
/// [(1, 'missing_identity', 'batch[1].userId')]
///
/// ```
#[pyfunction]
#[pyo3(signature = (batch, received_at = None, *, config = None, content_encoding = None))]
pub(crate) fn parse_batch<'py>(
    py: Python<'py>,
    batch: &Bound<'py, PyAny>,
    received_at: Option<&Bound<'py, PyAny>>,
    config: Option<&Bound<'py, PyAny>>,
    content_encoding: Option<Text>,
) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let content_encoding = content_encoding.as_deref();
        let config = parse_config(config)?;
        let now = time(received_at)?;
        let json = json_bytes(batch)?;
        let parsed = py
            .detach(|| {
                http::parse_batch_body(
                    &json,
                    content_encoding,
                    core::ReceivedAt::Replay(now),
                    &config,
                )
            })
            .map_err(cdp_err)?;
        let messages = PyList::empty(py);
        let errors = PyList::empty(py);
        for (index, result) in parsed.results.into_iter().enumerate() {
            match result {
                Ok(m) => messages.append(Message(m))?,
                Err(e) => {
                    let d = PyDict::new(py);
                    d.set_item("index", index)?;
                    d.set_item("code", e.code())?;
                    d.set_item("field", e.field())?;
                    d.set_item("message", e.to_string())?;
                    errors.append(d)?;
                }
            }
        }
        let out = PyDict::new(py);
        out.set_item("messages", messages)?;
        out.set_item("errors", errors)?;
        Ok(out)
    })
}

/// De-duplication by `messageId` (`stratum_cdp::dedup::Deduplicator`): an id seen
/// again within `window_seconds` (default one day) of its first acceptance is a
/// duplicate. Ids older than the window, relative to the latest time seen, are
/// forgotten, so memory is bounded by one window of traffic.
///
/// ```python
/// >>> import stratum
/// >>> d = stratum.Deduplicator(window_seconds=60)
/// >>> d.check("m1", 0), d.check("m1", 30), d.check("m1", 91)
/// (True, False, True)
///
/// ```
/// Safe to share between threads: calls wait for each other.
#[pyclass(name = "Deduplicator", module = "stratum._native", frozen)]
pub(crate) struct Deduplicator(std::sync::Mutex<dedup::Deduplicator>);

#[pymethods]
impl Deduplicator {
    /// Remembers ids for `window_seconds` (positive, at most ten years).
    #[new]
    #[pyo3(
        signature = (window_seconds = Int::Small(86_400)),
        text_signature = "(window_seconds=86400)"
    )]
    fn new(window_seconds: Int) -> PyResult<Self> {
        guard(|| {
            // Out of `TimeDelta`'s range is out of the constructor's range too.
            let window =
                TimeDelta::try_seconds(window_seconds.saturating()).unwrap_or(TimeDelta::MAX);
            dedup::Deduplicator::new(window)
                .map(|d| Self(std::sync::Mutex::new(d)))
                .map_err(cdp_err)
        })
    }

    /// Records a message seen at `at` and returns True the first time within the
    /// window (keep it) or False for a duplicate (drop it). `message` is a
    /// `messageId` or a parsed `Message` (whose `received_at` is the default `at`);
    /// `at` defaults to now for an id.
    #[pyo3(signature = (message, at = None))]
    fn check(&self, message: &Bound<'_, PyAny>, at: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        guard(|| {
            if let Ok(m) = message.cast::<Message>() {
                let m = &m.get().0;
                let at = match at {
                    Some(t) => time(Some(t))?,
                    None => m.received_at,
                };
                return Ok(lock(message.py(), &self.0)?.check(&m.message_id, at));
            }
            let id = message
                .cast::<PyString>()
                .map_err(|_| input_err("message", "expected a messageId (str) or a Message"))?;
            let (id, at) = (id.to_cow()?, time(at)?);
            Ok(lock(message.py(), &self.0)?.check(&id, at))
        })
    }

    /// `check` for each message of a list, in order, each at its `received_at`;
    /// one bool per message (True: keep).
    fn check_messages(
        &self,
        py: Python<'_>,
        messages: Arg<Vec<Bound<'_, Message>>>,
    ) -> PyResult<Vec<bool>> {
        guard(|| {
            let mut d = lock(py, &self.0)?;
            Ok(messages
                .iter()
                .map(|m| {
                    let m = &m.get().0;
                    d.check(&m.message_id, m.received_at)
                })
                .collect())
        })
    }

    /// The configured window, in seconds.
    #[getter]
    fn window_seconds(&self, py: Python<'_>) -> PyResult<i64> {
        guard(|| Ok(lock(py, &self.0)?.window().num_seconds()))
    }

    /// Number of ids currently remembered.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        guard(|| Ok(lock(py, &self.0)?.len()))
    }
}
