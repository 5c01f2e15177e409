//! `stratum-cdp`: Segment-spec messages, de-duplication, the identity graph and the
//! CDP (profiles, computed traits, audiences and audience sync).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use napi::Either;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi_derive::napi;
use stratum_bindings::ErrorReport;
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig, ProfileId};
use stratum_cdp::message::{self as core, ParseConfig};
use stratum_cdp::profile::InMemoryProfileStore;
use stratum_cdp::{dedup, http};

use stratum_bindings::audience_sync::{SyncConfig, SyncState, sync_cdp_audience};
use stratum_bindings::segment::AudienceInput;

use crate::conv::{Job, Json, caught, de, de_or_default, guard, job, lock, ser, time_arg};
use crate::normalize::Normalizer;

type Body = Either<String, Either<Buffer, Json>>;

/// Options of `parseMessage` and `parseBatch`.
#[napi(object)]
pub struct ParseOptions {
    /// Parser limits (the defaults when absent).
    #[napi(ts_type = "ParseConfig")]
    pub config: Option<Json>,
    /// The body's `Content-Encoding` (`gzip`, `deflate`, `identity`), for a body
    /// as received over HTTP.
    pub content_encoding: Option<String>,
}

fn body_bytes(body: Body) -> Vec<u8> {
    match body {
        Either::A(s) => s.into_bytes(),
        Either::B(Either::A(b)) => b.to_vec(),
        Either::B(Either::B(v)) => v.0.into_bytes(),
    }
}

fn parse_options(o: Option<ParseOptions>) -> Result<(ParseConfig, Option<String>), ErrorReport> {
    match o {
        None => Ok((ParseConfig::default(), None)),
        Some(o) => Ok((de_or_default(o.config.as_ref())?, o.content_encoding)),
    }
}

fn message_of(
    body: Body,
    received_at: Option<Either<DateTime<Utc>, String>>,
    config: &ParseConfig,
) -> Result<core::Message, ErrorReport> {
    let now = time_arg(received_at, "received_at")?;
    Ok(core::parse_message(&body_bytes(body), now, config)?)
}

/// Parses and validates one Segment-spec message (text, a `Buffer` as received or
/// a plain object), its timestamp corrected for client clock skew.
#[napi(ts_return_type = "Message")]
pub fn parse_message(
    #[napi(ts_arg_type = "string | Buffer | Record<string, unknown>")] body: Body,
    received_at: Option<Either<DateTime<Utc>, String>>,
    options: Option<ParseOptions>,
) -> napi::Result<Json> {
    guard(|| {
        let (config, encoding) = parse_options(options)?;
        if encoding.is_some() {
            let now = time_arg(received_at, "received_at")?;
            let m = http::parse_message_body(
                &body_bytes(body),
                encoding.as_deref(),
                core::ReceivedAt::Replay(now),
                &config,
            )?;
            return ser(&m);
        }
        ser(&message_of(body, received_at, &config)?)
    })
}

/// Parses a Segment batch document (`{"batch": [...]}`) off the event loop;
/// resolves to the valid messages and one error row per invalid one.
#[napi(ts_return_type = "Promise<ParsedBatch>")]
pub fn parse_batch(
    #[napi(ts_arg_type = "string | Buffer | Record<string, unknown>")] body: Body,
    received_at: Option<Either<DateTime<Utc>, String>>,
    options: Option<ParseOptions>,
) -> AsyncTask<Job> {
    let prepared = caught(|| {
        let (config, encoding) = parse_options(options)?;
        Ok((time_arg(received_at, "received_at")?, config, encoding))
    });
    let bytes = body_bytes(body);
    job(move || {
        let (now, config, encoding) = prepared?;
        let parsed =
            stratum_bindings::batch::parse_batch(&bytes, encoding.as_deref(), now, &config)?;
        ser(&parsed)
    })
}

/// Drops repeated `messageId`s within a time window.
#[napi]
pub struct Deduplicator(Mutex<dedup::Deduplicator>);

#[napi]
impl Deduplicator {
    /// A de-duplicator remembering ids for `windowSeconds` (default one day).
    #[napi(constructor)]
    pub fn new(window_seconds: Option<f64>) -> napi::Result<Self> {
        guard(|| {
            let secs = window_seconds.unwrap_or(86_400.0);
            if !secs.is_finite() || secs.fract() != 0.0 {
                return Err(ErrorReport::config(
                    "window_seconds",
                    format!("invalid config: `window_seconds` is {secs}; expected whole seconds"),
                ));
            }
            let window = TimeDelta::try_seconds(secs as i64).unwrap_or(TimeDelta::MAX);
            Ok(Self(Mutex::new(dedup::Deduplicator::new(window)?)))
        })
    }

    /// Whether `messageId` (or a parsed message's id, at its `received_at`) is new
    /// (`true`) or a repeat within the window (`false`).
    #[napi]
    pub fn check(
        &self,
        #[napi(ts_arg_type = "string | Message")] message: Either<String, Json>,
        at: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<bool> {
        guard(|| match message {
            Either::A(id) => {
                let at = time_arg(at, "at")?;
                Ok(lock(&self.0)?.check(&id, at))
            }
            Either::B(m) => {
                let m: core::Message = serde_json::from_str(&m.0).map_err(|e| {
                    ErrorReport::new(
                        "invalid_json",
                        Some("message"),
                        format!("invalid message: {e}"),
                    )
                })?;
                let at = match at {
                    Some(_) => time_arg(at, "at")?,
                    None => m.received_at,
                };
                Ok(lock(&self.0)?.check(&m.message_id, at))
            }
        })
    }

    /// The window, in seconds.
    #[napi(getter)]
    pub fn window_seconds(&self) -> napi::Result<f64> {
        guard(|| Ok(lock(&self.0)?.window().num_seconds() as f64))
    }

    /// The number of ids remembered.
    #[napi(getter)]
    pub fn size(&self) -> napi::Result<f64> {
        guard(|| Ok(lock(&self.0)?.len() as f64))
    }
}

fn kind(name: &str) -> Result<IdentifierKind, ErrorReport> {
    Ok(name.parse::<IdentifierKind>()?)
}

/// One identifier of `IdentityGraph.link`.
#[napi(object)]
pub struct IdentifierInput {
    /// The identifier kind (`user_id`, `anonymous_id`, `email`, ...).
    pub kind: String,
    /// The identifier's value.
    pub value: String,
}

/// Incremental identity resolution: an explainable, reversible graph.
#[napi]
pub struct IdentityGraph {
    graph: Arc<Mutex<stratum_cdp::identity::IdentityGraph>>,
    parse: ParseConfig,
}

#[napi]
impl IdentityGraph {
    /// A graph with `config` (limits, blocklist; the defaults when absent).
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "IdentityConfig")] config: Option<Json>) -> napi::Result<Self> {
        guard(|| {
            let config: IdentityConfig = de_or_default(config.as_ref())?;
            Ok(Self {
                graph: Arc::new(Mutex::new(stratum_cdp::identity::IdentityGraph::new(
                    config,
                ))),
                parse: ParseConfig::default(),
            })
        })
    }

    /// Resolves the identifiers of one message; returns the resolution.
    #[napi(ts_return_type = "Resolution")]
    pub fn identify(
        &self,
        #[napi(ts_arg_type = "string | Buffer | Record<string, unknown>")] message: Body,
        received_at: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let m = message_of(message, received_at, &self.parse)?;
            ser(&lock(&self.graph)?.resolve(&m))
        })
    }

    /// Links `identifiers` seen together in message `messageId`.
    #[napi(ts_return_type = "Resolution")]
    pub fn link(
        &self,
        message_id: String,
        identifiers: Vec<IdentifierInput>,
        timestamp: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let at = time_arg(timestamp, "timestamp")?;
            let ids = identifiers
                .iter()
                .map(|i| Ok(Identifier::new(kind(&i.kind)?, &i.value)))
                .collect::<Result<Vec<_>, ErrorReport>>()?;
            ser(&lock(&self.graph)?.link(&message_id, at, ids))
        })
    }

    /// The profile an identifier belongs to, or `null`.
    #[napi]
    pub fn profile_of(&self, kind: String, value: String) -> napi::Result<Option<String>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            Ok(lock(&self.graph)?.profile_of(&id).map(|p| p.0))
        })
    }

    /// The identifiers of `profile`.
    #[napi(ts_return_type = "IdentifierInfo[]")]
    pub fn identifiers(&self, profile: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.graph)?.identifiers(&ProfileId(profile))?))
    }

    /// Why the identifiers of `profile` belong together (each link, with its
    /// message).
    #[napi(ts_return_type = "ProfileExplanation")]
    pub fn explain(&self, profile: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.graph)?.explain(&ProfileId(profile))?))
    }

    /// [`explain`](Self::explain) as human-readable text.
    #[napi]
    pub fn explain_text(&self, profile: String) -> napi::Result<String> {
        guard(|| Ok(lock(&self.graph)?.explain(&ProfileId(profile))?.explain()))
    }

    /// Removes an identifier (and the merges it caused); returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn remove_identifier(&self, kind: String, value: String) -> napi::Result<Json> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            ser(&lock(&self.graph)?.remove_identifier(&id)?)
        })
    }

    /// Restores a removed identifier; returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn restore_identifier(&self, kind: String, value: String) -> napi::Result<Json> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            ser(&lock(&self.graph)?.restore_identifier(&id)?)
        })
    }

    /// Removes the links of message `messageId`; returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn remove_link(&self, message_id: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.graph)?.remove_link(&message_id)?))
    }

    /// Restores the links of message `messageId`; returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn restore_link(&self, message_id: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.graph)?.restore_link(&message_id)?))
    }

    /// Every profile id.
    #[napi]
    pub fn profiles(&self) -> napi::Result<Vec<String>> {
        guard(|| {
            Ok(lock(&self.graph)?
                .profiles()
                .into_iter()
                .map(|p| p.0)
                .collect())
        })
    }

    /// The number of profiles.
    #[napi(getter)]
    pub fn size(&self) -> napi::Result<f64> {
        guard(|| Ok(lock(&self.graph)?.profile_count() as f64))
    }
}

/// Options of the `Cdp` constructor.
#[napi(object)]
pub struct CdpOptions {
    /// Computed-trait definitions.
    #[napi(ts_type = "ComputedTraitDefinition[]")]
    pub computed_traits: Option<Json>,
    /// The identity graph's config.
    #[napi(ts_type = "IdentityConfig")]
    pub identity: Option<Json>,
    /// The de-duplication window in seconds (default one day).
    pub dedup_window_seconds: Option<f64>,
}

/// De-duplication, identity resolution, profile traits and computed traits,
/// composed.
#[napi]
pub struct Cdp {
    cdp: Mutex<stratum_cdp::profile::Cdp<InMemoryProfileStore>>,
    parse: ParseConfig,
}

#[napi]
impl Cdp {
    /// A CDP with in-memory profiles.
    #[napi(constructor)]
    pub fn new(options: Option<CdpOptions>) -> napi::Result<Self> {
        guard(|| {
            let (traits, identity, window) = match &options {
                None => (None, None, None),
                Some(o) => (
                    o.computed_traits.as_ref(),
                    o.identity.as_ref(),
                    o.dedup_window_seconds,
                ),
            };
            let traits: ComputedTraits = de_or_default(traits)?;
            let identity: IdentityConfig = de_or_default(identity)?;
            let secs = window.unwrap_or(86_400.0);
            if !secs.is_finite() || secs.fract() != 0.0 {
                return Err(ErrorReport::config(
                    "dedup_window_seconds",
                    format!(
                        "invalid config: `dedup_window_seconds` is {secs}; expected whole seconds"
                    ),
                ));
            }
            let window = TimeDelta::try_seconds(secs as i64).unwrap_or(TimeDelta::MAX);
            let cdp = stratum_cdp::profile::Cdp::with_computed_traits(
                identity,
                window,
                InMemoryProfileStore::new(),
                traits,
            )?;
            Ok(Self {
                cdp: Mutex::new(cdp),
                parse: ParseConfig::default(),
            })
        })
    }

    /// Ingests one message: de-duplication, identity, profile traits; returns the
    /// outcome.
    #[napi(ts_return_type = "IngestOutcome")]
    pub fn ingest(
        &self,
        #[napi(ts_arg_type = "string | Buffer | Record<string, unknown>")] message: Body,
        received_at: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let m = message_of(message, received_at, &self.parse)?;
            ser(&lock(&self.cdp)?.ingest(&m)?)
        })
    }

    /// The profile `profile` (traits, identifiers, events).
    #[napi(ts_return_type = "Profile")]
    pub fn profile(&self, profile: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.cdp)?.profile(&ProfileId(profile))?))
    }

    /// The computed-trait values of `profile` as of `now`.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn computed_values(
        &self,
        profile: String,
        now: Option<Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Json> {
        guard(|| {
            let now = time_arg(now, "now")?;
            ser(&lock(&self.cdp)?.computed_values(&ProfileId(profile), now)?)
        })
    }

    /// The profile an identifier belongs to, or `null`.
    #[napi]
    pub fn profile_of(&self, kind: String, value: String) -> napi::Result<Option<String>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            Ok(lock(&self.cdp)?.graph().profile_of(&id).map(|p| p.0))
        })
    }

    /// Every profile id.
    #[napi]
    pub fn profiles(&self) -> napi::Result<Vec<String>> {
        guard(|| {
            Ok(lock(&self.cdp)?
                .graph()
                .profiles()
                .into_iter()
                .map(|p| p.0)
                .collect())
        })
    }

    /// Removes an identifier; returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn remove_identifier(&self, kind: String, value: String) -> napi::Result<Json> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            ser(&lock(&self.cdp)?.remove_identifier(&id)?)
        })
    }

    /// Removes the links of message `messageId`; returns the changes.
    #[napi(ts_return_type = "ProfileChanges")]
    pub fn remove_link(&self, message_id: String) -> napi::Result<Json> {
        guard(|| ser(&lock(&self.cdp)?.remove_link(&message_id)?))
    }

    /// Configures audiences (`{key, name?, segment}`, the segment as text, its JSON
    /// form or a `Segment`), kept up to date as messages arrive. Must come before
    /// the first message.
    #[napi]
    pub fn set_audiences(
        &self,
        #[napi(ts_arg_type = "AudienceDefinition[]")] definitions: Json,
    ) -> napi::Result<()> {
        guard(|| {
            let inputs: Vec<AudienceInput> = de(&definitions)?;
            let defs = stratum_bindings::segment::definitions(&inputs)?;
            Ok(lock(&self.cdp)?.set_audiences(defs)?)
        })
    }

    /// Moves the audience clock to `now` (nothing reads the wall clock) and
    /// returns the transitions of the profiles whose windows changed.
    #[napi(ts_return_type = "Transition[]")]
    pub fn advance_time(&self, now: Either<DateTime<Utc>, String>) -> napi::Result<Json> {
        guard(|| {
            let now = time_arg(Some(now), "now")?;
            ser(&lock(&self.cdp)?.advance_time(now)?)
        })
    }

    /// The transitions since the last call; with `asEvents`, as Segment `track`
    /// messages (`Audience Entered` / `Audience Exited`).
    #[napi(
        ts_generic_types = "E extends boolean = false",
        ts_args_type = "asEvents?: E",
        ts_return_type = "E extends true ? AudienceEvent[] : Transition[]"
    )]
    pub fn take_transitions(&self, as_events: Option<bool>) -> napi::Result<Json> {
        guard(|| {
            let mut cdp = lock(&self.cdp)?;
            let out = cdp.take_transitions();
            if as_events == Some(true) {
                ser(&stratum_bindings::segment::transition_events(
                    cdp.audiences(),
                    &out,
                ))
            } else {
                ser(&out)
            }
        })
    }

    /// The members of audience `key`, sorted.
    #[napi]
    pub fn audience_members(&self, key: String) -> napi::Result<Vec<String>> {
        guard(|| {
            Ok(lock(&self.cdp)?
                .audiences()
                .map(|a| a.members(&key).into_iter().map(|p| p.0).collect())
                .unwrap_or_default())
        })
    }

    /// Every transition so far, in order.
    #[napi(ts_return_type = "Transition[]")]
    pub fn audience_history(&self) -> napi::Result<Json> {
        guard(|| {
            let cdp = lock(&self.cdp)?;
            let history: Vec<_> = cdp
                .audiences()
                .map(|a| a.history().collect())
                .unwrap_or_default();
            ser(&history)
        })
    }

    /// Full evaluation of every audience over every profile at `now`, membership
    /// unchanged: audience key → member profile ids, sorted.
    #[napi(ts_return_type = "Record<string, string[]>")]
    pub fn evaluate_audiences(&self, now: Either<DateTime<Utc>, String>) -> napi::Result<Json> {
        guard(|| {
            let now = time_arg(Some(now), "now")?;
            let cdp = lock(&self.cdp)?;
            ser(&stratum_bindings::segment::members_at(&cdp, now)?)
        })
    }

    /// Audience sync: the upload bodies for `config` since `state` (the `state` of
    /// the previous sync; absent for a first, full sync). With `fromHistory`, the
    /// membership is replayed from the transitions.
    #[napi(ts_return_type = "AudienceSync")]
    pub fn sync_audience(
        &self,
        normalizer: &Normalizer,
        #[napi(ts_arg_type = "AudienceSyncConfig")] config: Json,
        #[napi(ts_arg_type = "AudienceSyncState | null")] state: Option<Json>,
        options: Option<SyncOptions>,
    ) -> napi::Result<Json> {
        guard(|| {
            let config: SyncConfig = de(&config)?;
            let state: SyncState = de_or_default(state.as_ref())?;
            let from_history = options.and_then(|o| o.from_history).unwrap_or(false);
            let cdp = lock(&self.cdp)?;
            ser(&sync_cdp_audience(
                &normalizer.0,
                &cdp,
                &config,
                state,
                from_history,
            )?)
        })
    }
}

/// Options of `Cdp.syncAudience`.
#[napi(object)]
pub struct SyncOptions {
    /// Replay the membership from the transitions instead of the current members.
    pub from_history: Option<bool>,
}
