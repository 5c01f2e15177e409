//! The Arrow C data interface at the boundary (`__arrow_c_array__` and
//! `__arrow_c_stream__` PyCapsules): string columns in without copying, new string
//! columns out.
//!
//! This is the one module that needs `unsafe`: reading the C structs a producer
//! hands over in a capsule.
#![allow(unsafe_code)]

use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray, make_array};
use arrow_schema::{DataType, Field};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyTuple};

use crate::errors::input_err;

const SCHEMA_NAME: &std::ffi::CStr = c"arrow_schema";
const ARRAY_NAME: &std::ffi::CStr = c"arrow_array";
const STREAM_NAME: &std::ffi::CStr = c"arrow_array_stream";

/// Imports an Arrow array (`__arrow_c_array__`) or every chunk of an Arrow stream
/// (`__arrow_c_stream__`: a polars `Series`, a pyarrow `ChunkedArray`, ...) without
/// copying their buffers.
pub(crate) fn import_chunks(obj: &Bound<'_, PyAny>) -> PyResult<Vec<ArrayRef>> {
    if obj.hasattr("__arrow_c_array__")? {
        return Ok(vec![import_array(obj)?]);
    }
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(input_err(
            "column",
            format!(
                "{} implements neither `__arrow_c_array__` nor `__arrow_c_stream__`",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let ptr = capsule
        .pointer_checked(Some(STREAM_NAME))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: the capsule name guarantees an `ArrowArrayStream`; `from_raw` moves it
    // out (the capsule keeps a released struct) and releases it when dropped.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr()) };
    let fail = |stream: &mut FFI_ArrowArrayStream, what: &str| {
        let detail = stream
            .get_last_error
            // SAFETY: the producer's callback on its own live stream; a non-null
            // result is a NUL-terminated string valid until the next call.
            .map(|f| unsafe { f(stream) })
            .filter(|p| !p.is_null())
            .map(|p| {
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        input_err("Arrow stream", format!("{what} failed: {detail}"))
    };
    let mut schema = FFI_ArrowSchema::empty();
    let get_schema = stream
        .get_schema
        .ok_or_else(|| fail(&mut stream, "get_schema"))?;
    // SAFETY: callbacks of a live stream, writing into structs we own.
    if unsafe { get_schema(&mut stream, &mut schema) } != 0 {
        return Err(fail(&mut stream, "get_schema"));
    }
    let get_next = stream
        .get_next
        .ok_or_else(|| fail(&mut stream, "get_next"))?;
    let mut chunks = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: as above.
        if unsafe { get_next(&mut stream, &mut array) } != 0 {
            return Err(fail(&mut stream, "get_next"));
        }
        if array.is_released() {
            return Ok(chunks);
        }
        // SAFETY: `array` was produced for `schema` by the stream.
        let data = unsafe { arrow_array::ffi::from_ffi(array, &schema) }
            .map_err(|e| input_err("Arrow stream", e))?;
        chunks.push(make_array(data));
    }
}

/// Imports an object implementing `__arrow_c_array__` (pyarrow `Array`, nanoarrow,
/// arro3, ...) without copying its buffers.
pub(crate) fn import_array(obj: &Bound<'_, PyAny>) -> PyResult<ArrayRef> {
    let tuple = obj.call_method0("__arrow_c_array__").map_err(|_| {
        input_err(
            "column",
            format!(
                "{} does not implement the Arrow PyCapsule interface (`__arrow_c_array__`)",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
        )
    })?;
    let tuple = tuple.cast::<PyTuple>()?;
    let schema_capsule = tuple.get_item(0)?;
    let schema_capsule = schema_capsule.cast::<PyCapsule>()?;
    let array_capsule = tuple.get_item(1)?;
    let array_capsule = array_capsule.cast::<PyCapsule>()?;
    let schema_ptr = schema_capsule
        .pointer_checked(Some(SCHEMA_NAME))?
        .cast::<FFI_ArrowSchema>();
    let array_ptr = array_capsule
        .pointer_checked(Some(ARRAY_NAME))?
        .cast::<FFI_ArrowArray>();
    // SAFETY: the capsule names guarantee (by the PyCapsule interface's contract)
    // that the pointers are an `ArrowSchema` and an `ArrowArray`; the schema is only
    // borrowed, and `from_raw` moves the array out, leaving a released struct behind
    // for the capsule's destructor.
    let data = unsafe {
        let schema = schema_ptr.as_ref();
        let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr());
        arrow_array::ffi::from_ffi(array, schema)
    }
    .map_err(|e| input_err("Arrow array", e))?;
    Ok(make_array(data))
}

/// Read access to the string values of any Arrow string layout.
pub(crate) enum Strings<'a> {
    /// `utf8`.
    Small(&'a StringArray),
    /// `large_utf8`.
    Large(&'a LargeStringArray),
    /// `utf8_view` (polars' layout).
    View(&'a StringViewArray),
    /// An all-null column.
    Null(usize),
}

impl<'a> Strings<'a> {
    /// Views `array` as strings, or explains which types are accepted.
    pub(crate) fn of(array: &'a ArrayRef) -> PyResult<Self> {
        let any = array.as_any();
        match array.data_type() {
            DataType::Utf8 => any.downcast_ref().map(Self::Small),
            DataType::LargeUtf8 => any.downcast_ref().map(Self::Large),
            DataType::Utf8View => any.downcast_ref().map(Self::View),
            DataType::Null => Some(Self::Null(array.len())),
            _ => None,
        }
        .ok_or_else(|| {
            input_err(
                "column",
                format!(
                    "the Arrow type is {}; a string column (utf8, large_utf8 or utf8_view) is required",
                    array.data_type()
                ),
            )
        })
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Small(a) => a.len(),
            Self::Large(a) => a.len(),
            Self::View(a) => a.len(),
            Self::Null(n) => *n,
        }
    }

    /// Row `i`, `None` when null.
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Self::Small(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Self::View(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Null(_) => None,
        }
    }
}

/// The string values of a column made of several chunks, in order.
pub(crate) struct Chunked<'a> {
    parts: Vec<Strings<'a>>,
}

impl<'a> Chunked<'a> {
    /// Views every chunk as strings.
    pub(crate) fn of(chunks: &'a [ArrayRef]) -> PyResult<Self> {
        Ok(Self {
            parts: chunks.iter().map(Strings::of).collect::<PyResult<_>>()?,
        })
    }

    /// Number of rows over all chunks.
    pub(crate) fn len(&self) -> usize {
        self.parts.iter().map(Strings::len).sum()
    }

    /// The rows in order, `None` for nulls.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Option<&'a str>> + '_ {
        self.parts
            .iter()
            .flat_map(|p| (0..p.len()).map(move |i| p.get(i)))
    }
}

/// An Arrow array produced by Stratum, exported through `__arrow_c_array__`
/// (`pyarrow.array(x)`, `polars.Series(x)` and other consumers accept it).
#[pyclass(name = "ArrowArray", module = "stratum._native", frozen)]
pub(crate) struct ArrowArray(pub(crate) ArrayRef);

impl ArrowArray {
    /// Wraps a string column.
    pub(crate) fn strings(values: StringArray) -> Self {
        Self(Arc::new(values))
    }
}

#[pymethods]
impl ArrowArray {
    /// The Arrow PyCapsule interface: `(schema capsule, array capsule)`.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        // The requested schema is a hint; consumers cast when it differs.
        let _ = requested_schema;
        let field = Field::new("", self.0.data_type().clone(), true);
        let schema = FFI_ArrowSchema::try_from(&field).map_err(|e| input_err("Arrow schema", e))?;
        let array = FFI_ArrowArray::new(&self.0.to_data());
        let schema = PyCapsule::new_with_value(py, schema, SCHEMA_NAME)?;
        let array = PyCapsule::new_with_value(py, array, ARRAY_NAME)?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }
}
