//! `stratum_cdp::segment`: segments (parse, JSON form, validation) and audiences
//! (full evaluation over Arrow columns of a table or frame); the CDP's
//! incremental audiences are methods of `Cdp` (`profile`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stratum_bindings::segment::{ColumnKind, table_columns};
use stratum_cdp::computed::ComputedTraits;
use stratum_cdp::segment::{AudienceDefinition, AudienceSet, Column, ProfileTable, Schema};

use crate::arrow::{ArrowArray, Chunked, import_chunks};
use crate::convert::{json_text, to_py};
use crate::errors::{cdp_err, guard, input_err};
use crate::locks::Text;

/// A segment condition (`stratum_cdp::segment::Segment`): from the text form
/// (`Segment.parse`) or the JSON form (`Segment.from_json`).
#[pyclass(name = "Segment", module = "stratum._native", frozen, eq)]
#[derive(PartialEq)]
pub(crate) struct Segment(pub(crate) stratum_cdp::segment::Segment);

#[pymethods]
impl Segment {
    /// Parses the text form; `SegmentSyntaxError` has `line` and `column`.
    #[staticmethod]
    fn parse(text: Text) -> PyResult<Self> {
        guard(|| {
            stratum_cdp::segment::Segment::parse(&text)
                .map(Self)
                .map_err(cdp_err)
        })
    }

    /// Reads the JSON form: a dict, JSON text, or the text form as a JSON string.
    #[staticmethod]
    fn from_json(doc: &Bound<'_, PyAny>) -> PyResult<Self> {
        guard(|| {
            stratum_cdp::segment::Segment::from_json(&json_text(doc)?)
                .map(Self)
                .map_err(cdp_err)
        })
    }

    /// The canonical text form (parses back to the same segment).
    fn to_text(&self) -> String {
        self.0.to_text()
    }

    /// The JSON form as text.
    fn to_json(&self) -> String {
        self.0.to_json()
    }

    /// The JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_py(py, self.0.expr()))
    }

    /// Checks names and types against a schema dict (`traits`, `events`,
    /// `computed`: name → type); `UnknownNameError` suggests the closest name,
    /// `TypeMismatchError` names the condition.
    fn validate(&self, schema: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let schema: Schema = stratum_cdp::from_json(&json_text(schema)?).map_err(cdp_err)?;
            self.0.validate(&schema).map_err(cdp_err)
        })
    }

    fn __str__(&self) -> String {
        self.0.to_text()
    }

    fn __repr__(&self) -> String {
        format!("Segment.parse({:?})", self.0.to_text())
    }
}

/// Audience definitions from Python: dicts `{"key", "name"?, "segment"}` where
/// `segment` is text, a JSON-form dict or a `Segment`.
pub(crate) fn definitions(defs: &Bound<'_, PyAny>) -> PyResult<Vec<AudienceDefinition>> {
    let mut out = Vec::new();
    let items = defs.try_iter().map_err(|_| {
        crate::locks::wrong_type("a list of audience definitions", &defs.as_borrowed())
    })?;
    for (i, d) in items.enumerate() {
        let d = d?;
        let d = d.cast::<PyDict>().map_err(|_| {
            input_err(
                "audiences",
                format!("element {i} is not a dict with `key` and `segment`"),
            )
        })?;
        let key: Text = d
            .get_item("key")?
            .ok_or_else(|| input_err("audiences", format!("element {i} has no `key`")))?
            .extract()?;
        let name: Option<Text> = d.get_item("name")?.map(|n| n.extract()).transpose()?;
        let seg = d
            .get_item("segment")?
            .ok_or_else(|| input_err("audiences", format!("element {i} has no `segment`")))?;
        let segment = if let Ok(s) = seg.cast::<Segment>() {
            s.get().0.clone()
        } else if let Ok(t) = seg.extract::<Text>() {
            stratum_cdp::segment::Segment::parse(&t).map_err(cdp_err)?
        } else {
            stratum_cdp::segment::Segment::from_json(&json_text(&seg)?).map_err(cdp_err)?
        };
        out.push(AudienceDefinition {
            key: key.0,
            name: name.map(|n| n.0),
            segment,
        });
    }
    Ok(out)
}

/// Named segments compiled together (`stratum_cdp::segment::AudienceSet`),
/// evaluated over a table of profiles.
#[pyclass(name = "Audiences", module = "stratum._native", frozen)]
pub(crate) struct Audiences(AudienceSet);

#[pymethods]
impl Audiences {
    /// `definitions`: a list of dicts `{"key", "name"?, "segment"}` (`segment` as
    /// text, a JSON-form dict or a `Segment`); `computed_traits`: their names are
    /// then checked. Cycles are `SegmentCycleError`.
    #[new]
    #[pyo3(signature = (definitions, computed_traits = None))]
    fn new(
        definitions: &Bound<'_, PyAny>,
        computed_traits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        guard(|| {
            let defs = self::definitions(definitions)?;
            let computed: Option<ComputedTraits> = computed_traits
                .map(|t| -> PyResult<_> { stratum_cdp::from_json(&json_text(t)?).map_err(cdp_err) })
                .transpose()?;
            AudienceSet::new(defs, computed.as_ref())
                .map(Self)
                .map_err(cdp_err)
        })
    }

    /// The audience keys, in order.
    fn keys(&self) -> Vec<String> {
        self.0.plan().keys().to_vec()
    }

    /// Validates every segment against a schema dict.
    fn validate(&self, schema: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let schema: Schema = stratum_cdp::from_json(&json_text(schema)?).map_err(cdp_err)?;
            self.0.validate(&schema).map_err(cdp_err)
        })
    }

    /// Full evaluation over `table` (a pyarrow `Table`, a polars or pandas
    /// `DataFrame`, or any mapping of column name → Arrow column): trait
    /// columns by name, computed traits as `computed` name → column name, consent
    /// as `consent` category → column name. Returns key → a boolean Arrow
    /// column (`ArrowArray`; `pyarrow.array(...)` / `polars.Series(...)` read it).
    #[pyo3(signature = (table, computed = None, consent = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        computed: Option<HashMap<Text, Text>>,
        consent: Option<HashMap<Text, Text>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let mut cols: Vec<(ColumnKind, String, Column)> = Vec::new();
            let mut rows: Option<usize> = None;
            let map = |m: Option<HashMap<Text, Text>>| -> BTreeMap<String, String> {
                m.into_iter().flatten().map(|(k, v)| (k.0, v.0)).collect()
            };
            for (kind, name, column) in table_columns(&self.0, &map(computed), &map(consent)) {
                let obj = table.get_item(&column).map_err(|_| {
                    cdp_err(stratum_cdp::Error::UnknownName {
                        field: "table".into(),
                        kind: "column",
                        name: column.clone(),
                        suggestion: None,
                    })
                })?;
                let col = column_of(&obj, &column)?;
                if let Some(r) = rows
                    && r != col.len()
                {
                    return Err(input_err(
                        "table",
                        format!("column {column:?} has {} rows, not {r}", col.len()),
                    ));
                }
                rows = Some(col.len());
                cols.push((kind, name, col));
            }
            let mut t = ProfileTable::new(rows.unwrap_or(0));
            for (kind, name, col) in cols {
                match (kind, col) {
                    (ColumnKind::Trait, c) => t.add_trait(&name, c),
                    (ColumnKind::Computed, c) => t.add_computed(&name, c),
                    (ColumnKind::Consent, Column::Bool(b)) => t.add_consent(&name, b),
                    (ColumnKind::Consent, _) => Err(stratum_cdp::Error::TypeMismatch {
                        field: format!("consent.{name}"),
                        message: "a consent column must be boolean".into(),
                    }),
                }
                .map_err(cdp_err)?;
            }
            let set = &self.0;
            let bits = py.detach(|| set.evaluate(&t)).map_err(cdp_err)?;
            let out = PyDict::new(py);
            for (key, b) in self.0.plan().keys().iter().zip(bits) {
                let arr: ArrayRef = Arc::new(BooleanArray::from(b.to_bools()));
                out.set_item(key, ArrowArray(arr))?;
            }
            Ok(out)
        })
    }
}

/// An Arrow column (or a pandas `Series`, through pyarrow) as a segment column.
fn column_of(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Column> {
    let chunks = if obj.hasattr("__arrow_c_stream__")? || obj.hasattr("__arrow_c_array__")? {
        import_chunks(obj)?
    } else {
        // pandas Series and other array-likes, through pyarrow
        let pa = obj.py().import("pyarrow").map_err(|_| {
            input_err(
                "column",
                format!("{name:?} is not an Arrow column and pyarrow is not installed"),
            )
        })?;
        let arr = pa.call_method1("array", (obj,))?;
        import_chunks(&arr)?
    };
    let dt = chunks
        .first()
        .map_or(DataType::Null, |c| c.data_type().clone());
    let bad = || {
        input_err(
            "column",
            format!(
                "{name:?} has the Arrow type {dt}; segments read numbers, booleans, strings and timestamps"
            ),
        )
    };
    macro_rules! ints {
        ($t:ty) => {
            Column::I64(
                chunks
                    .iter()
                    .flat_map(|c| c.as_primitive::<$t>().iter())
                    .map(|v| v.and_then(|x| i64::try_from(x).ok()))
                    .collect(),
            )
        };
    }
    macro_rules! times {
        ($t:ty, $f:expr) => {
            Column::Timestamp(
                chunks
                    .iter()
                    .flat_map(|c| c.as_primitive::<$t>().iter())
                    .map(|v| v.and_then($f))
                    .collect(),
            )
        };
    }
    Ok(match &dt {
        DataType::Float64 => Column::F64(
            chunks
                .iter()
                .flat_map(|c| c.as_primitive::<Float64Type>().iter())
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
        ),
        DataType::Float32 => Column::F64(
            chunks
                .iter()
                .flat_map(|c| c.as_primitive::<Float32Type>().iter())
                .map(|v| v.map_or(f64::NAN, f64::from))
                .collect(),
        ),
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Boolean => {
            Column::Bool(chunks.iter().flat_map(|c| c.as_boolean().iter()).collect())
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => Column::Str(
            Chunked::of(&chunks)?
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
        ),
        DataType::Timestamp(TimeUnit::Second, _) => {
            times!(TimestampSecondType, |s: i64| {
                DateTime::<Utc>::from_timestamp(s, 0)
            })
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            times!(
                TimestampMillisecondType,
                DateTime::<Utc>::from_timestamp_millis
            )
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            times!(
                TimestampMicrosecondType,
                DateTime::<Utc>::from_timestamp_micros
            )
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            times!(TimestampNanosecondType, |n: i64| Some(
                DateTime::<Utc>::from_timestamp_nanos(n)
            ))
        }
        _ => return Err(bad()),
    })
}
