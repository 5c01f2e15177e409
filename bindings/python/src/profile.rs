//! `stratum_cdp::profile`: de-duplication, identity resolution, profile traits and
//! computed traits, composed (`Cdp`).

use std::sync::Mutex;

use chrono::TimeDelta;
use pyo3::prelude::*;
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::{Identifier, ProfileId};
use stratum_cdp::message::ParseConfig;
use stratum_cdp::profile::InMemoryProfileStore;

use crate::convert::{from_json_text, json_of, json_text, time, time_arg, to_py};
use crate::errors::{cdp_err, guard};
use crate::identity::kind;
use crate::locks::{Arg, Int, Text, lock};
use crate::message::message_from_py;

/// Events in, profiles with traits and computed traits out
/// (`stratum_cdp::profile::Cdp` with the in-memory store).
/// Safe to share between threads (and usable from any thread): calls wait for each
/// other.
#[pyclass(name = "Cdp", module = "stratum._native", frozen)]
pub(crate) struct Cdp {
    cdp: Mutex<stratum_cdp::profile::Cdp<InMemoryProfileStore>>,
    parse: ParseConfig,
}

#[pymethods]
impl Cdp {
    /// `computed_traits` is a list of trait definitions (dicts: `name`, `kind`,
    /// `property`, `event`, `filters`, `window_seconds`); `identity` the identity
    /// config; messages with a `messageId` seen within `dedup_window_seconds` are
    /// dropped as duplicates.
    #[new]
    #[pyo3(
        signature = (computed_traits = None, identity = None, dedup_window_seconds = Int::Small(86_400)),
        text_signature = "(computed_traits=None, identity=None, dedup_window_seconds=86400)"
    )]
    fn new(
        computed_traits: Option<&Bound<'_, PyAny>>,
        identity: Option<&Bound<'_, PyAny>>,
        dedup_window_seconds: Int,
    ) -> PyResult<Self> {
        guard(|| {
            let traits: ComputedTraits = match computed_traits {
                None => ComputedTraits::default(),
                Some(t) => stratum_cdp::from_json(&json_text(t)?).map_err(cdp_err)?,
            };
            let identity = crate::identity::identity_config(identity)?;
            // Out of `TimeDelta`'s range is out of the window's range too: the
            // crate refuses it with its own error.
            let window =
                TimeDelta::try_seconds(dedup_window_seconds.saturating()).unwrap_or(TimeDelta::MAX);
            let cdp = stratum_cdp::profile::Cdp::with_computed_traits(
                identity,
                window,
                InMemoryProfileStore::new(),
                traits,
            )
            .map_err(cdp_err)?;
            Ok(Self {
                cdp: Mutex::new(cdp),
                parse: ParseConfig::default(),
            })
        })
    }

    /// Ingests one Segment-spec message (a parsed `Message`, a dict, or JSON as
    /// `str` or `bytes`) received at
    /// `received_at`; returns what happened (`outcome` `duplicate` or `resolved`
    /// with the resolution) as a dict.
    #[pyo3(signature = (message, received_at = None))]
    fn ingest<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        received_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let msg = message_from_py(message, received_at, &self.parse)?;
            let outcome = lock(py, &self.cdp)?.ingest(&msg);
            to_py(py, &outcome.map_err(cdp_err)?)
        })
    }

    /// A profile's record (id and traits) as a dict, following merges.
    fn profile<'py>(&self, py: Python<'py>, profile: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let p = lock(py, &self.cdp)?.profile(&ProfileId(profile.0));
            to_py(py, &p.map_err(cdp_err)?)
        })
    }

    /// The computed traits of a profile at `now`: name → `{"type", "value"}`.
    #[pyo3(signature = (profile, now = None))]
    fn computed_values<'py>(
        &self,
        py: Python<'py>,
        profile: Text,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time(now)?;
            let v = lock(py, &self.cdp)?.computed_values(&ProfileId(profile.0), now);
            to_py(py, &v.map_err(cdp_err)?)
        })
    }

    /// The live profile of an identifier, or None.
    fn profile_of(&self, py: Python<'_>, kind: Text, value: Text) -> PyResult<Option<String>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            Ok(lock(py, &self.cdp)?.graph().profile_of(&id).map(|p| p.0))
        })
    }

    /// Live profile ids.
    fn profiles(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        guard(|| {
            let cdp = lock(py, &self.cdp)?;
            Ok(cdp.graph().profiles().into_iter().map(|p| p.0).collect())
        })
    }

    /// Unmerges: removes an identifier and rebuilds the affected profiles.
    fn remove_identifier<'py>(
        &self,
        py: Python<'py>,
        kind: Text,
        value: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            let changes = lock(py, &self.cdp)?.remove_identifier(&id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }

    /// Configures audiences (a list of dicts `{"key", "name"?, "segment"}`, the
    /// segment as text, a JSON-form dict or a `Segment`), kept up to date as
    /// messages arrive. Must come before the first message.
    fn set_audiences(&self, py: Python<'_>, definitions: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let defs = crate::segment::definitions(definitions)?;
            let done = lock(py, &self.cdp)?.set_audiences(defs);
            done.map_err(cdp_err)
        })
    }

    /// Moves the audience clock to `now` (required: nothing reads the wall clock)
    /// and returns the transitions of the profiles whose windows changed.
    fn advance_time<'py>(
        &self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time_arg(Some(now), "now")?;
            let out = lock(py, &self.cdp)?.advance_time(now);
            to_py(py, &out.map_err(cdp_err)?)
        })
    }

    /// The transitions since the last call (dicts `audience`, `profile`, `kind`,
    /// `at`); with `as_events`, as Segment `track` messages (`Audience Entered` /
    /// `Audience Exited`).
    #[pyo3(signature = (as_events = Arg(false)), text_signature = "($self, as_events=False)")]
    fn take_transitions<'py>(
        &self,
        py: Python<'py>,
        as_events: Arg<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            // Python objects are made once the lock is released: a finalizer run by
            // an allocation may call this object again.
            let text = {
                let mut cdp = lock(py, &self.cdp)?;
                let out = cdp.take_transitions();
                if *as_events {
                    json_of(&stratum_bindings::segment::transition_events(
                        cdp.audiences(),
                        &out,
                    ))
                } else {
                    json_of(&out)
                }
            };
            from_json_text(py, text)
        })
    }

    /// The members of audience `key`, sorted.
    fn audience_members(&self, py: Python<'_>, key: Text) -> PyResult<Vec<String>> {
        guard(|| {
            let cdp = lock(py, &self.cdp)?;
            Ok(cdp
                .audiences()
                .map(|a| a.members(&key).into_iter().map(|p| p.0).collect())
                .unwrap_or_default())
        })
    }

    /// Every transition so far, in order.
    fn audience_history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let text = {
                let cdp = lock(py, &self.cdp)?;
                let h = cdp
                    .audiences()
                    .map(|a| a.history().collect::<Vec<_>>())
                    .unwrap_or_default();
                json_of(&h)
            };
            from_json_text(py, text)
        })
    }

    /// Full (columnar) evaluation of every audience over every tracked profile at
    /// `now`, membership unchanged: audience key → sorted member profile ids.
    fn evaluate_audiences<'py>(
        &self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let now = time_arg(Some(now), "now")?;
            let out = stratum_bindings::segment::members_at(&*lock(py, &self.cdp)?, now);
            to_py(py, &out.map_err(crate::errors::report_err)?)
        })
    }

    /// Audience sync: the upload bodies for `config` (`audience`, `platform`,
    /// `options`, `consent_category`, `fields`) since `state` (the `state` of the
    /// previous call, `None` for a first, full sync). With `from_history`, the
    /// membership is replayed from the transitions. Returns `{"result", "state"}`.
    #[pyo3(
        signature = (normalizer, config, state = None, from_history = Arg(false)),
        text_signature = "($self, normalizer, config, state=None, from_history=False)"
    )]
    fn sync_audience<'py>(
        &self,
        py: Python<'py>,
        normalizer: Arg<Bound<'py, crate::normalize::Normalizer>>,
        config: &Bound<'py, PyAny>,
        state: Option<&Bound<'py, PyAny>>,
        from_history: Arg<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        use stratum_bindings::audience_sync::{SyncConfig, SyncState, sync_cdp_audience};
        guard(|| {
            let config: SyncConfig = stratum_bindings::from_json(&json_text(config)?)
                .map_err(crate::errors::report_err)?;
            let state: SyncState = match state {
                None => SyncState::default(),
                Some(s) if s.is_none() => SyncState::default(),
                Some(s) => stratum_bindings::from_json(&json_text(s)?)
                    .map_err(crate::errors::report_err)?,
            };
            let out = sync_cdp_audience(
                &normalizer.get().0,
                &*lock(py, &self.cdp)?,
                &config,
                state,
                *from_history,
            );
            to_py(py, &out.map_err(crate::errors::report_err)?)
        })
    }

    /// Unmerges: removes the links of one event and rebuilds the affected profiles.
    fn remove_link<'py>(&self, py: Python<'py>, message_id: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let changes = lock(py, &self.cdp)?.remove_link(&message_id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }
}
