//! `stratum_connectors` normalisation: one value, a list, or an Arrow string column
//! per platform and field.

use arrow_array::builder::StringBuilder;
use arrow_array::{Array as _, StringArray};
use arrow_buffer::{NullBuffer, NullBufferBuilder, OffsetBuffer};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use stratum_connectors::{
    Context, Field, FieldValue, FieldWarning, HashedColumn, Normalized, NormalizerConfig, Platform,
};

use crate::arrow::{ArrowArray, Strings, import_chunks};
use crate::convert::{connectors_from, reduce, serde_from, tag, to_py};
use crate::errors::{connectors_err, guard, input_err};
use crate::locks::{Arg, Callback, Int, Text};

/// Values (None where dropped or null) and warning codes (None where kept or null).
type ListOutcome = (Vec<Option<String>>, Vec<Option<&'static str>>);

/// Rows between two calls of a `progress` callback.
const PROGRESS_EVERY: usize = 65_536;

/// A platform from its name or alias (`meta`, `google`, `tiktok`, `snapchat`, `snap`).
pub(crate) fn platform(name: &str) -> PyResult<Platform> {
    name.parse().map_err(connectors_err)
}

/// A field from its name or a platform's key for it (`email`, `em`, `hashedEmail`, ...).
pub(crate) fn field(name: &str) -> PyResult<Field> {
    name.parse().map_err(connectors_err)
}

/// A value: a `str` is auto-detected (or raw with `raw=True`); a dict is the JSON form
/// (`{"raw": ...}`, `{"hashed": {"hex": ...}}`, `{"date": "1990-02-01"}`).
pub(crate) fn value(obj: &Bound<'_, PyAny>, raw: bool) -> PyResult<FieldValue> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?.into_owned();
        return Ok(if raw {
            FieldValue::Raw(s)
        } else {
            FieldValue::Auto(s)
        });
    }
    serde_from(obj, "field value")
}

fn outcome_dict<'py>(
    py: Python<'py>,
    out: &Result<Normalized, FieldWarning>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match out {
        Ok(n) => {
            d.set_item("field", n.field.as_str())?;
            d.set_item("key", n.key)?;
            d.set_item("value", &n.value)?;
            d.set_item("normalized", n.normalized.as_deref())?;
            d.set_item("origin", tag(&n.origin))?;
            d.set_item("note", n.note.map(|c| c.as_str()))?;
            d.set_item("warning", py.None())?;
            d.set_item("message", py.None())?;
        }
        Err(w) => {
            d.set_item("field", w.field.as_str())?;
            d.set_item("key", py.None())?;
            d.set_item("value", py.None())?;
            d.set_item("normalized", py.None())?;
            d.set_item("origin", py.None())?;
            d.set_item("note", py.None())?;
            d.set_item("warning", w.code.as_str())?;
            d.set_item("message", &w.message)?;
        }
    }
    Ok(d)
}

fn call_progress(progress: Option<&Callback>, done: usize, total: usize) -> PyResult<()> {
    match progress {
        Some(cb) => Python::attach(|py| cb.0.call1(py, (done, total)).map(drop)),
        None => Ok(()),
    }
}

/// Normalises and hashes customer information per platform
/// (`stratum_connectors::Normalizer`).
#[pyclass(name = "Normalizer", module = "stratum._native", frozen)]
pub(crate) struct Normalizer(pub(crate) stratum_connectors::Normalizer);

#[pymethods]
impl Normalizer {
    /// `config` as a dict: `phone_region` (`{"default": "US"}` or
    /// `"require_international"`, required), `external_id_mode`, `google_encoding`,
    /// `today`.
    #[new]
    fn new(config: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(|| {
            let config: NormalizerConfig = connectors_from(config)?;
            stratum_connectors::Normalizer::new(config)
                .map(Self)
                .map_err(connectors_err)
        })
    }

    /// The config as a dict (the form the constructor takes).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.0.config())
    }

    /// Pickling support: rebuilt from its config by the constructor, so a normaliser
    /// built once on a driver can be shipped to workers.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        reduce(slf.as_any(), slf.get().0.config())
    }

    /// One value → a dict `{field, key, value, normalized, origin, note, warning,
    /// message}`; a dropped value has `value` None and a `warning` code; a kept but
    /// doubtful one has a `note` code (e.g. `phone_not_valid`).
    #[pyo3(
        signature = (platform, field, value, *, raw = Arg(false), country = None),
        text_signature = "($self, platform, field, value, *, raw=False, country=None)"
    )]
    fn normalize<'py>(
        &self,
        py: Python<'py>,
        platform: Text,
        field: Text,
        value: &Bound<'py, PyAny>,
        raw: Arg<bool>,
        country: Option<Text>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let (p, f, v) = (
                self::platform(&platform)?,
                self::field(&field)?,
                self::value(value, *raw)?,
            );
            let country = country.as_deref();
            // The host's day bounds birth dates unless the config fixes one.
            let today = Some(chrono::Utc::now().date_naive());
            let out = self.0.normalize_in(p, f, &v, Context { country, today });
            outcome_dict(py, &out)
        })
    }

    /// A list of `str | None` → `(values, warnings)`: the platform values (None where
    /// dropped or null) and the warning codes (None where kept or null).
    #[pyo3(
        signature = (platform, field, values, *, raw = Arg(false), progress = None),
        text_signature = "($self, platform, field, values, *, raw=False, progress=None)"
    )]
    fn normalize_list(
        &self,
        py: Python<'_>,
        platform: Text,
        field: Text,
        values: Arg<Vec<Option<Text>>>,
        raw: Arg<bool>,
        progress: Option<Callback>,
    ) -> PyResult<ListOutcome> {
        guard(|| {
            let (p, f) = (self::platform(&platform)?, self::field(&field)?);
            py.detach(|| {
                let (values, raw) = (&values.0, raw.0);
                let total = values.len();
                let mut out = Vec::with_capacity(total);
                let mut warnings = Vec::with_capacity(total);
                for (k, block) in values.chunks(PROGRESS_EVERY).enumerate() {
                    if k > 0 {
                        call_progress(progress.as_ref(), k * PROGRESS_EVERY, total)?;
                    }
                    let rows: Vec<Option<&str>> = block.iter().map(Option::as_deref).collect();
                    let parts = self.block(
                        p,
                        f,
                        &rows,
                        raw,
                        cores(),
                        |n| (Vec::with_capacity(n), Vec::with_capacity(n)),
                        |(vs, ws), v, w| {
                            vs.push(v);
                            ws.push(w);
                        },
                    );
                    for (vs, ws) in parts {
                        out.extend(vs);
                        warnings.extend(ws);
                    }
                }
                call_progress(progress.as_ref(), total, total)?;
                Ok((out, warnings))
            })
        })
    }

    /// Arrow string chunks (objects with `__arrow_c_array__` or `__arrow_c_stream__`,
    /// such as pyarrow arrays or polars series) → `(values, warnings)`
    /// as two Arrow string arrays, one row per input row. The input is read without
    /// copying and the work runs without the GIL, on `threads` threads (default:
    /// every core; 1 where the caller already runs one task per core, as Spark's
    /// workers do).
    #[pyo3(
        signature = (platform, field, chunks, *, raw = Arg(false), progress = None, threads = None),
        text_signature = "($self, platform, field, chunks, *, raw=False, progress=None, threads=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn normalize_arrow(
        &self,
        py: Python<'_>,
        platform: Text,
        field: Text,
        chunks: Arg<Vec<Bound<'_, PyAny>>>,
        raw: Arg<bool>,
        progress: Option<Callback>,
        threads: Option<Int>,
    ) -> PyResult<(ArrowArray, ArrowArray)> {
        guard(|| {
            let (p, f) = (self::platform(&platform)?, self::field(&field)?);
            let threads = threads.map(|t| t.size("threads")).transpose()?;
            let raw = raw.0;
            let mut arrays = Vec::with_capacity(chunks.len());
            for c in chunks.iter() {
                arrays.extend(import_chunks(c)?);
            }
            py.detach(|| {
                let columns = arrays
                    .iter()
                    .map(Strings::of)
                    .collect::<PyResult<Vec<_>>>()?;
                let total: usize = columns.iter().map(Strings::len).sum();
                let threads = threads.unwrap_or_else(cores).max(1);
                // Hashed fields have one width: every thread writes its rows' digests
                // in place into one buffer that becomes the result column.
                if let Some(width) = self.0.hashed_width(p, f) {
                    let mut column = HashedColumn::new(width, total);
                    let fits = blocks(&columns, total, progress.as_ref(), |rows| {
                        Ok(self
                            .0
                            .hash_column_into(p, f, rows, !raw, threads, &mut column))
                    })?;
                    if fits {
                        let (values, warnings) = hashed_arrays(column)?;
                        return Ok((ArrowArray::strings(values), ArrowArray::strings(warnings)));
                    }
                }
                let mut parts = Vec::new();
                blocks(&columns, total, progress.as_ref(), |rows| {
                    parts.extend(self.block(
                        p,
                        f,
                        rows,
                        raw,
                        threads,
                        |n| {
                            (
                                StringBuilder::with_capacity(n, n * 64),
                                StringBuilder::new(),
                            )
                        },
                        |(vs, ws), v, w| {
                            vs.append_option(v);
                            ws.append_option(w);
                        },
                    ));
                    Ok(true)
                })?;
                let (mut values, mut warnings): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
                Ok((
                    ArrowArray::strings(concat_strings(&mut values)?),
                    ArrowArray::strings(concat_strings(&mut warnings)?),
                ))
            })
        })
    }
}

/// Hands the rows of `columns` to `each` in blocks of [`PROGRESS_EVERY`], calling
/// `progress` between blocks and at the end; stops early (returning `false`) when
/// `each` does.
/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn blocks(
    columns: &[Strings<'_>],
    total: usize,
    progress: Option<&Callback>,
    mut each: impl FnMut(&[Option<&str>]) -> PyResult<bool>,
) -> PyResult<bool> {
    let mut done = 0;
    for col in columns {
        let mut start = 0;
        while start < col.len() {
            let end = (start + PROGRESS_EVERY).min(col.len());
            if done > 0 {
                call_progress(progress, done, total)?;
            }
            let rows: Vec<Option<&str>> = (start..end).map(|i| col.get(i)).collect();
            if !each(&rows)? {
                return Ok(false);
            }
            done += end - start;
            start = end;
        }
    }
    call_progress(progress, total, total)?;
    Ok(true)
}

/// A hashed column as Arrow arrays without copying its digests: offsets step by
/// the width, dropped rows are null (their slots hold zeros, which Arrow allows
/// under a null).
fn hashed_arrays(column: HashedColumn) -> PyResult<(StringArray, StringArray)> {
    let width = column.width();
    let (values, kept, warnings) = column.into_parts();
    let too_large = || input_err("result", "more than 2 GiB of digests in one column");
    let step = i32::try_from(width).map_err(|_| too_large())?;
    i32::try_from(values.len()).map_err(|_| too_large())?;
    let offsets: Vec<i32> = (0..=kept.len())
        .scan(0i32, |at, i| {
            let o = *at;
            if i < kept.len() {
                *at += step;
            }
            Some(o)
        })
        .collect();
    let nulls = (!kept.iter().all(|k| *k)).then(|| NullBuffer::from(kept));
    let values = StringArray::try_new(OffsetBuffer::new(offsets.into()), values.into(), nulls)
        .map_err(|e| input_err("result", e))?;
    let mut codes = StringBuilder::with_capacity(warnings.len(), 0);
    for w in warnings {
        codes.append_option(w.map(|c| c.as_str()));
    }
    Ok((values, codes.finish()))
}

impl Normalizer {
    /// Normalises one block of optional rows on `threads` threads
    /// ([`stratum_connectors::Normalizer::normalize_chunked`]): each thread takes a
    /// contiguous part, makes its sink with `sink(rows)` and hands it each row's
    /// `(value, warning code)` through `emit`, in order (`None` rows give `None`
    /// twice); the sinks come back in input order.
    #[allow(clippy::too_many_arguments)]
    fn block<S: Send>(
        &self,
        p: Platform,
        f: Field,
        rows: &[Option<&str>],
        raw: bool,
        threads: usize,
        sink: impl Fn(usize) -> S + Sync,
        emit: impl Fn(&mut S, Option<String>, Option<&'static str>) + Sync,
    ) -> Vec<S> {
        self.0.normalize_chunked(rows, threads, |n, chunk| {
            let mut s = sink(chunk.len());
            for row in chunk {
                match row.map(|text| n.normalize_str(p, f, text, !raw)) {
                    Some(Ok(k)) => emit(&mut s, Some(k.value), None),
                    Some(Err(w)) => emit(&mut s, None, Some(w.code.as_str())),
                    None => emit(&mut s, None, None),
                }
            }
            s
        })
    }
}

/// The string builders of consecutive parts as one array: the parts' bytes are
/// copied whole and their offsets shifted (no per-row work beyond that).
fn concat_strings(parts: &mut [StringBuilder]) -> PyResult<StringArray> {
    let arrays: Vec<StringArray> = parts.iter_mut().map(StringBuilder::finish).collect();
    if let [one] = arrays.as_slice() {
        return Ok(one.clone());
    }
    let too_large = || input_err("result", "more than 2 GiB of strings in one column");
    let len = arrays.iter().map(|a| a.len()).sum();
    let bytes: usize = arrays.iter().map(|a| a.value_data().len()).sum();
    i32::try_from(bytes).map_err(|_| too_large())?;
    let mut values: Vec<u8> = Vec::with_capacity(bytes);
    let mut offsets: Vec<i32> = Vec::with_capacity(len + 1);
    offsets.push(0);
    let mut nulls = NullBufferBuilder::new(len);
    for a in &arrays {
        let base = i32::try_from(values.len()).map_err(|_| too_large())?;
        let offs = a.value_offsets();
        let (Some(&first), Some(&last)) = (offs.first(), offs.last()) else {
            continue;
        };
        let used = usize::try_from(first)
            .ok()
            .zip(usize::try_from(last).ok())
            .and_then(|(f, l)| a.value_data().get(f..l))
            .ok_or_else(too_large)?;
        values.extend_from_slice(used);
        offsets.extend(
            offs.get(1..)
                .unwrap_or_default()
                .iter()
                .map(|o| o - first + base),
        );
        match a.nulls() {
            Some(n) => nulls.append_buffer(n),
            None => nulls.append_n_non_nulls(a.len()),
        }
    }
    StringArray::try_new(
        OffsetBuffer::new(offsets.into()),
        values.into(),
        nulls.finish(),
    )
    .map_err(|e| input_err("result", e))
}

/// Lowercase hex SHA-256 of a string, as the platforms expect it.
#[pyfunction]
pub(crate) fn sha256_hex(text: Text) -> String {
    stratum_connectors::sha256_hex(&text)
}
