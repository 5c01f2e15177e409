//! `stratum_cdp::identity` and `stratum_cdp::bulk`: incremental identity resolution
//! (an explainable, reversible graph) and bulk resolution of link tables.

use std::sync::Mutex;

use arrow_array::builder::{BooleanBuilder, StringBuilder, UInt32Builder};
use arrow_array::{Array as _, BooleanArray};
use pyo3::prelude::*;
use stratum_cdp::bulk::BulkResolver;
use stratum_cdp::identity::{Identifier, IdentifierKind, IdentityConfig, ProfileId};
use stratum_cdp::message::ParseConfig;
use stratum_cdp::stars::{Star, star};

use crate::arrow::{ArrowArray, Chunked, import_chunks};
use crate::convert::{json_text, time, to_py};
use crate::errors::{cdp_err, guard, input_err};
use crate::locks::{Arg, Text, lock};
use crate::message::message_from_py;

pub(crate) fn identity_config(obj: Option<&Bound<'_, PyAny>>) -> PyResult<IdentityConfig> {
    match obj {
        None => Ok(IdentityConfig::default()),
        Some(o) => stratum_cdp::from_json(&json_text(o)?).map_err(cdp_err),
    }
}

/// An identifier kind from its name (`user_id`, `email`, ..., or `external:<type>`).
pub(crate) fn kind(name: &str) -> PyResult<IdentifierKind> {
    name.parse().map_err(cdp_err)
}

/// The incremental identity graph (`stratum_cdp::identity::IdentityGraph`):
/// order-independent, explainable and reversible.
/// Safe to share between threads: calls wait for each other.
#[pyclass(name = "IdentityGraph", module = "stratum._native", frozen)]
pub(crate) struct IdentityGraph {
    graph: Mutex<stratum_cdp::identity::IdentityGraph>,
    parse: ParseConfig,
}

#[pymethods]
impl IdentityGraph {
    /// `config` as a dict (identifier rules, blocked values, caps); default rules
    /// when omitted.
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            Ok(Self {
                graph: Mutex::new(stratum_cdp::identity::IdentityGraph::new(identity_config(
                    config,
                )?)),
                parse: ParseConfig::default(),
            })
        })
    }

    /// Resolves one Segment-spec message (a parsed `Message`, a dict, or JSON as
    /// `str` or `bytes`) received at
    /// `received_at`; returns the resolution (profile, accepted, dropped, blocked,
    /// merges) as a dict.
    #[pyo3(signature = (message, received_at = None))]
    fn identify<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        received_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let msg = message_from_py(message, received_at, &self.parse)?;
            let resolution = lock(py, &self.graph)?.resolve(&msg);
            to_py(py, &resolution)
        })
    }

    /// Links identifiers (`[(kind, value), ...]`, values normalised per kind) seen
    /// together in one event `message_id` at `timestamp`; returns the resolution.
    #[pyo3(signature = (message_id, identifiers, timestamp = None))]
    fn link<'py>(
        &self,
        py: Python<'py>,
        message_id: Text,
        identifiers: Arg<Vec<(Text, Text)>>,
        timestamp: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let at = time(timestamp)?;
            let ids = identifiers
                .iter()
                .map(|(k, v)| Ok(Identifier::new(kind(k)?, v)))
                .collect::<PyResult<Vec<_>>>()?;
            let resolution = lock(py, &self.graph)?.link(&message_id, at, ids);
            to_py(py, &resolution)
        })
    }

    /// The live profile id of an identifier, or None.
    fn profile_of(&self, py: Python<'_>, kind: Text, value: Text) -> PyResult<Option<String>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            Ok(lock(py, &self.graph)?.profile_of(&id).map(|p| p.0))
        })
    }

    /// A profile's identifiers as `{"kind", "value"}` dicts.
    fn identifiers<'py>(&self, py: Python<'py>, profile: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let ids = lock(py, &self.graph)?.identifiers(&ProfileId(profile.0));
            to_py(py, &ids.map_err(cdp_err)?)
        })
    }

    /// Why a profile's identifiers are together (links and merges), as a dict.
    fn explain<'py>(&self, py: Python<'py>, profile: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let e = lock(py, &self.graph)?.explain(&ProfileId(profile.0));
            to_py(py, &e.map_err(cdp_err)?)
        })
    }

    /// The explanation as human-readable text.
    fn explain_text(&self, py: Python<'_>, profile: Text) -> PyResult<String> {
        guard(|| {
            let text = lock(py, &self.graph)?
                .explain(&ProfileId(profile.0))
                .map(|e| e.explain());
            text.map_err(cdp_err)
        })
    }

    /// Unmerges: removes an identifier (e.g. a shared device id) and recomputes the
    /// profiles it joined; returns what changed as a dict.
    fn remove_identifier<'py>(
        &self,
        py: Python<'py>,
        kind: Text,
        value: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            let changes = lock(py, &self.graph)?.remove_identifier(&id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }

    /// Undoes `remove_identifier`.
    fn restore_identifier<'py>(
        &self,
        py: Python<'py>,
        kind: Text,
        value: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let id = Identifier::new(self::kind(&kind)?, &value);
            let changes = lock(py, &self.graph)?.restore_identifier(&id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }

    /// Unmerges: removes the links of one event and recomputes; returns what changed.
    fn remove_link<'py>(&self, py: Python<'py>, message_id: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let changes = lock(py, &self.graph)?.remove_link(&message_id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }

    /// Undoes `remove_link`.
    fn restore_link<'py>(&self, py: Python<'py>, message_id: Text) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let changes = lock(py, &self.graph)?.restore_link(&message_id);
            to_py(py, &changes.map_err(cdp_err)?)
        })
    }

    /// Live profile ids.
    fn profiles(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        guard(|| {
            let graph = lock(py, &self.graph)?;
            Ok(graph.profiles().into_iter().map(|p| p.0).collect())
        })
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        guard(|| Ok(lock(py, &self.graph)?.profile_count()))
    }
}

/// A resolver sized for about one new identifier per link.
fn resolver(blocklist: bool, links: usize) -> BulkResolver {
    let r = BulkResolver::with_capacity(links, 0);
    if blocklist {
        r.with_blocklist(IdentityConfig::default())
    } else {
        r
    }
}

/// Bulk resolution of a link table given as two Arrow string columns (objects with
/// `__arrow_c_array__` or `__arrow_c_stream__`, same length; a null end adds the other end alone). Returns
/// `(identifiers, labels)`: every distinct identifier in order of first
/// appearance and its component label (null for blocked values such as
/// `"undefined"`). With `smallest`, a component is labelled by its smallest
/// identifier (a string column) instead of a number.
#[pyfunction]
#[pyo3(
    signature = (left, right, *, blocklist = Arg(true), smallest = Arg(false)),
    text_signature = "(left, right, *, blocklist=True, smallest=False)"
)]
pub(crate) fn resolve_links_arrow(
    py: Python<'_>,
    left: &Bound<'_, PyAny>,
    right: &Bound<'_, PyAny>,
    blocklist: Arg<bool>,
    smallest: Arg<bool>,
) -> PyResult<(ArrowArray, ArrowArray)> {
    guard(|| {
        let (a, b) = (import_chunks(left)?, import_chunks(right)?);
        py.detach(|| {
            let (l, r) = (Chunked::of(&a)?, Chunked::of(&b)?);
            if l.len() != r.len() {
                return Err(input_err(
                    "columns",
                    "both columns must have the same length",
                ));
            }
            let mut res = resolver(*blocklist, l.len());
            let mut rows = l.iter().zip(r.iter()).peekable();
            loop {
                // Runs of complete pairs go through the batched path.
                res.add_links(std::iter::from_fn(|| {
                    rows.next_if(|(x, y)| x.is_some() && y.is_some())
                        .and_then(|(x, y)| x.zip(y))
                }))
                .map_err(cdp_err)?;
                match rows.next() {
                    None => break,
                    Some((Some(x), None) | (None, Some(x))) => {
                        res.add_identifier(x).map_err(cdp_err)?;
                    }
                    Some(_) => {}
                }
            }
            let c = res.finish();
            let mut ids = StringBuilder::with_capacity(c.len(), c.len() * 16);
            if *smallest {
                let roots = c.smallest();
                let mut labels = StringBuilder::with_capacity(c.len(), c.len() * 16);
                for (id, label) in c.iter() {
                    ids.append_value(id);
                    labels.append_option(label.and_then(|l| roots.get(l as usize)));
                }
                return Ok((
                    ArrowArray::strings(ids.finish()),
                    ArrowArray::strings(labels.finish()),
                ));
            }
            let mut labels = UInt32Builder::with_capacity(c.len());
            for (id, label) in c.iter() {
                ids.append_value(id);
                labels.append_option(label);
            }
            Ok((
                ArrowArray::strings(ids.finish()),
                ArrowArray(std::sync::Arc::new(labels.finish())),
            ))
        })
    })
}

/// One operation of the large-star / small-star alternation
/// (`stratum_cdp::stars`) over one partition's rows `(node, neighbour, changed)`,
/// given as Arrow columns (strings, strings, booleans; every row of a node in this
/// call; a row with a null is skipped). Returns the edges `(u, v, changed)` with
/// `u < v`.
#[pyfunction]
pub(crate) fn star_arrow(
    py: Python<'_>,
    kind: Text,
    nodes: &Bound<'_, PyAny>,
    neighbours: &Bound<'_, PyAny>,
    changed: &Bound<'_, PyAny>,
) -> PyResult<(ArrowArray, ArrowArray, ArrowArray)> {
    guard(|| {
        let kind: Star = kind.parse().map_err(cdp_err)?;
        let (a, b, c) = (
            import_chunks(nodes)?,
            import_chunks(neighbours)?,
            import_chunks(changed)?,
        );
        py.detach(|| {
            let (n, o) = (Chunked::of(&a)?, Chunked::of(&b)?);
            let flags = c
                .iter()
                .map(|chunk| {
                    chunk
                        .as_any()
                        .downcast_ref::<BooleanArray>()
                        .ok_or_else(|| input_err("changed", "must be a boolean column"))
                })
                .collect::<PyResult<Vec<_>>>()?;
            let flag_count: usize = flags.iter().map(|f| f.len()).sum();
            if n.len() != o.len() || n.len() != flag_count {
                return Err(input_err(
                    "columns",
                    "the three columns must have the same length",
                ));
            }
            let flags = flags
                .iter()
                .flat_map(|f| (0..f.len()).map(move |i| f.is_valid(i) && f.value(i)));
            let rows: Vec<(&str, &str, bool)> = n
                .iter()
                .zip(o.iter())
                .zip(flags)
                .filter_map(|((x, y), f)| Some((x?, y?, f)))
                .collect();
            let edges = star(kind, rows);
            let bytes: usize = edges.iter().map(|e| e.u.len().max(e.v.len())).sum();
            if i32::try_from(bytes).is_err() {
                return Err(input_err(
                    "partition",
                    "its edges hold more than 2 GiB of identifiers; spread them over more partitions",
                ));
            }
            let mut us = StringBuilder::with_capacity(edges.len(), bytes);
            let mut vs = StringBuilder::with_capacity(edges.len(), bytes);
            let mut cs = BooleanBuilder::with_capacity(edges.len());
            for e in &edges {
                us.append_value(e.u);
                vs.append_value(e.v);
                cs.append_value(e.changed);
            }
            Ok((
                ArrowArray::strings(us.finish()),
                ArrowArray::strings(vs.finish()),
                ArrowArray(std::sync::Arc::new(cs.finish())),
            ))
        })
    })
}

/// Bulk resolution of a link table given as a list of `(a, b)` string pairs;
/// returns `(identifier, component label)` pairs (label None for blocked values).
#[pyfunction]
#[pyo3(signature = (links, *, blocklist = Arg(true)), text_signature = "(links, *, blocklist=True)")]
pub(crate) fn resolve_links(
    py: Python<'_>,
    links: Arg<Vec<(Text, Text)>>,
    blocklist: Arg<bool>,
) -> PyResult<Vec<(String, Option<u32>)>> {
    guard(|| {
        py.detach(|| {
            let mut res = resolver(*blocklist, links.len());
            res.add_links(links.iter().map(|(a, b)| (&**a, &**b)))
                .map_err(cdp_err)?;
            let c = res.finish();
            Ok(c.iter().map(|(id, l)| (id.to_owned(), l)).collect())
        })
    })
}
