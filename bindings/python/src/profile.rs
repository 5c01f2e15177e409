//! `stratum_cdp::profile`: de-duplication, identity resolution, profile traits and
//! computed traits, composed (`Cdp`).

use chrono::TimeDelta;
use pyo3::prelude::*;
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::identity::{Identifier, ProfileId};
use stratum_cdp::message::ParseConfig;
use stratum_cdp::profile::InMemoryProfileStore;

use crate::convert::{json_text, time, to_py};
use crate::errors::{cdp_err, guard};
use crate::identity::kind;
use crate::message::message_from_py;

/// Events in, profiles with traits and computed traits out
/// (`stratum_cdp::profile::Cdp` with the in-memory store).
#[pyclass(name = "Cdp", module = "stratum._native", unsendable)]
pub(crate) struct Cdp {
    cdp: stratum_cdp::profile::Cdp<InMemoryProfileStore>,
    parse: ParseConfig,
}

#[pymethods]
impl Cdp {
    /// `computed_traits` is a list of trait definitions (dicts: `name`, `kind`,
    /// `property`, `event`, `filters`, `window_seconds`); `identity` the identity
    /// config; messages with a `messageId` seen within `dedup_window_seconds` are
    /// dropped as duplicates.
    #[new]
    #[pyo3(signature = (computed_traits = None, identity = None, dedup_window_seconds = 86_400))]
    fn new(
        computed_traits: Option<&Bound<'_, PyAny>>,
        identity: Option<&Bound<'_, PyAny>>,
        dedup_window_seconds: i64,
    ) -> PyResult<Self> {
        guard(|| {
            let traits: ComputedTraits = match computed_traits {
                None => ComputedTraits::default(),
                Some(t) => stratum_cdp::from_json(&json_text(t)?).map_err(cdp_err)?,
            };
            let identity = crate::identity::identity_config(identity)?;
            let cdp = stratum_cdp::profile::Cdp::with_computed_traits(
                identity,
                TimeDelta::seconds(dedup_window_seconds),
                InMemoryProfileStore::new(),
                traits,
            )
            .map_err(cdp_err)?;
            Ok(Self {
                cdp,
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
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        received_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let msg = message_from_py(message, received_at, &self.parse)?;
            to_py(py, &self.cdp.ingest(&msg).map_err(cdp_err)?)
        })
    }

    /// A profile's record (id and traits) as a dict, following merges.
    fn profile<'py>(&self, py: Python<'py>, profile: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let p = self
                .cdp
                .profile(&ProfileId(profile.to_owned()))
                .map_err(cdp_err)?;
            to_py(py, &p)
        })
    }

    /// The computed traits of a profile at `now`: name → `{"type", "value"}`.
    #[pyo3(signature = (profile, now = None))]
    fn computed_values<'py>(
        &self,
        py: Python<'py>,
        profile: &str,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let v = self
                .cdp
                .computed_values(&ProfileId(profile.to_owned()), time(now)?)
                .map_err(cdp_err)?;
            to_py(py, &v)
        })
    }

    /// The live profile of an identifier, or None.
    fn profile_of(&self, kind: &str, value: &str) -> PyResult<Option<String>> {
        Ok(self
            .cdp
            .graph()
            .profile_of(&Identifier::new(self::kind(kind)?, value))
            .map(|p| p.0))
    }

    /// Live profile ids.
    fn profiles(&self) -> Vec<String> {
        self.cdp
            .graph()
            .profiles()
            .into_iter()
            .map(|p| p.0)
            .collect()
    }

    /// Unmerges: removes an identifier and rebuilds the affected profiles.
    fn remove_identifier<'py>(
        &mut self,
        py: Python<'py>,
        kind: &str,
        value: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let id = Identifier::new(self::kind(kind)?, value);
            to_py(py, &self.cdp.remove_identifier(&id).map_err(cdp_err)?)
        })
    }

    /// Unmerges: removes the links of one event and rebuilds the affected profiles.
    fn remove_link<'py>(
        &mut self,
        py: Python<'py>,
        message_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_py(py, &self.cdp.remove_link(message_id).map_err(cdp_err)?))
    }
}
