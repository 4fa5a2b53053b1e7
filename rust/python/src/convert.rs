//! Python arguments to core values: numbers given as float, int, `Decimal` or decimal string,
//! and numpy arrays checked for dtype, dimension and layout, each failure naming its argument.

use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString};
use rust_decimal::Decimal;

use crate::errors::invalid;

/// A number argument: its exact decimal form when given as int, `Decimal` or string.
pub enum Number {
    Float(f64),
    Exact(Decimal),
}

impl Number {
    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Float(x) => *x,
            Number::Exact(d) => d.to_string().parse().unwrap_or(f64::NAN),
        }
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// `obj` as a number: float, int, `decimal.Decimal` or a decimal string.
pub fn number(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Number> {
    let py = obj.py();
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Number::Float(obj.extract::<f64>()?));
    }
    let text = if obj.is_instance_of::<PyString>() {
        obj.extract::<String>()?
    } else if obj.is_instance_of::<PyInt>()
        || obj.is_instance(&py.import("decimal")?.getattr("Decimal")?)?
    {
        obj.str()?.to_string()
    } else if let Some(index) = (!obj.is_instance_of::<pyo3::types::PyBool>())
        .then(|| obj.call_method0("__index__").ok())
        .flatten()
    {
        index.str()?.to_string()
    } else if let Some(x) = (!obj.is_instance_of::<pyo3::types::PyBool>())
        .then(|| obj.call_method0("__float__").ok())
        .flatten()
        .and_then(|f| f.extract::<f64>().ok())
    {
        return Ok(Number::Float(x));
    } else {
        return Err(invalid(
            py,
            field,
            format!("<{}>", type_name(obj)),
            "must be a number (float, int, Decimal or decimal string)",
        ));
    };
    match Decimal::from_str_exact(text.trim()) {
        Ok(d) => Ok(Number::Exact(d)),
        Err(_) => match text.trim().parse::<f64>() {
            // NaN, inf and huge values keep their float form so the core can name the rule
            Ok(x) => Ok(Number::Float(x)),
            Err(_) => Err(invalid(
                py,
                field,
                format!("{text:?}"),
                "must be a decimal number",
            )),
        },
    }
}

/// `obj` as a float (any accepted number form).
pub fn float(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    Ok(number(field, obj)?.to_f64())
}

/// `obj` as an exact decimal string (floats use their shortest repr, as typed).
pub fn decimal_text(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyFloat>() {
        return Ok(obj.repr()?.to_string());
    }
    Ok(match number(field, obj)? {
        Number::Exact(d) => d.to_string(),
        Number::Float(x) => x.to_string(),
    })
}

/// `obj` as a string.
pub fn text(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyString>() {
        return obj.extract();
    }
    Err(invalid(obj.py(), field, obj.repr()?, "must be a string"))
}

/// `obj` as an instance of the pyclass `T` (named `what` in the error).
pub fn instance<'py, T: pyo3::PyClass>(
    field: &str,
    what: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, T>> {
    match obj.cast::<T>() {
        Ok(v) => Ok(v.clone()),
        Err(_) => Err(invalid(
            obj.py(),
            field,
            format!("<{}>", type_name(obj)),
            &format!("must be a gridhedge.{what}"),
        )),
    }
}

/// `obj` as a signed 64-bit integer (ticks, lots, sequence numbers).
pub fn int64(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = obj.py();
    let index = if obj.is_instance_of::<pyo3::types::PyBool>() || obj.is_instance_of::<PyFloat>() {
        None
    } else {
        obj.call_method0("__index__").ok()
    };
    let Some(index) = index else {
        return Err(invalid(py, field, obj.repr()?, "must be an integer"));
    };
    index.extract::<i64>().map_err(|_| {
        invalid(
            py,
            field,
            obj.to_string(),
            "must fit in a signed 64-bit integer",
        )
    })
}

/// `obj` as a bool (only True or False).
pub fn boolean(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return obj.extract();
    }
    Err(invalid(
        obj.py(),
        field,
        obj.repr()?,
        "must be True or False",
    ))
}

/// `obj` as a non-negative count.
pub fn count(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    let py = obj.py();
    let index = if obj.is_instance_of::<pyo3::types::PyBool>() || obj.is_instance_of::<PyFloat>() {
        None
    } else {
        obj.call_method0("__index__").ok()
    };
    let Some(index) = index else {
        return Err(invalid(py, field, obj.repr()?, "must be an integer"));
    };
    let n: i128 = index
        .extract()
        .map_err(|_| invalid(py, field, obj.to_string(), "must fit in 128 bits"))?;
    usize::try_from(n).map_err(|_| invalid(py, field, n, "must be >= 0"))
}

/// `obj` as a read-only, C-contiguous, one-dimensional float64 array (no copy, no cast).
pub fn f64_array<'py>(
    field: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, f64>> {
    let py = obj.py();
    let rule = "must be a one-dimensional, C-contiguous numpy float64 array";
    let Ok(array) = obj.extract::<PyReadonlyArray1<'py, f64>>() else {
        let described = match (obj.getattr("dtype"), obj.getattr("ndim")) {
            (Ok(dtype), Ok(ndim)) => format!("array of dtype {dtype} with {ndim} dimension(s)"),
            _ => format!("<{}>", type_name(obj)),
        };
        return Err(invalid(py, field, described, rule));
    };
    if !array.is_c_contiguous() {
        return Err(invalid(py, field, "a non-contiguous float64 array", rule));
    }
    Ok(array)
}

/// `obj` as a read-only, C-contiguous int64 array of any shape.
pub fn i64_array<'py>(
    field: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<numpy::PyReadonlyArrayDyn<'py, i64>> {
    let py = obj.py();
    let rule = "must be a C-contiguous numpy int64 array";
    let Ok(array) = obj.extract::<numpy::PyReadonlyArrayDyn<'py, i64>>() else {
        let described = match obj.getattr("dtype") {
            Ok(dtype) => format!("array of dtype {dtype}"),
            _ => format!("<{}>", type_name(obj)),
        };
        return Err(invalid(py, field, described, rule));
    };
    if !array.is_c_contiguous() {
        return Err(invalid(py, field, "a non-contiguous int64 array", rule));
    }
    Ok(array)
}

/// A Python `decimal.Decimal` with the exact value of `d`.
pub fn to_decimal<'py>(py: Python<'py>, d: Decimal) -> PyResult<Bound<'py, PyAny>> {
    py.import("decimal")?
        .getattr("Decimal")?
        .call1((d.to_string(),))
}

/// `array.as_slice()` after the layout checks above (never fails then).
pub fn slice<'a, T: numpy::Element>(
    py: Python<'_>,
    field: &str,
    array: &'a numpy::PyReadonlyArray<'_, T, impl numpy::ndarray::Dimension>,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| invalid(py, field, "a non-contiguous array", "must be C-contiguous"))
}

/// A mutable slice of a freshly allocated (so C-contiguous) array.
pub fn slice_mut<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    py: Python<'_>,
    array: &'a mut numpy::PyReadwriteArray<'_, T, D>,
) -> PyResult<&'a mut [T]> {
    array.as_slice_mut().map_err(|_| {
        invalid(
            py,
            "output",
            "a non-contiguous array",
            "must be C-contiguous",
        )
    })
}

/// `obj` (None or a string) as a NaN policy; None means 'raise'.
#[allow(dead_code)] // used by the series-taking bindings (volatility, var, ...)
pub fn nan_policy(obj: Option<&Bound<'_, PyAny>>) -> PyResult<gridhedge_core::series::NanPolicy> {
    use std::str::FromStr;
    match obj {
        None => Ok(gridhedge_core::series::NanPolicy::Raise),
        Some(o) => {
            let s = text("nan_policy", o)?;
            gridhedge_core::series::NanPolicy::from_str(&s)
                .map_err(|e| crate::errors::to_pyerr(o.py(), e))
        }
    }
}

/// The risk horizon every VaR takes: `(confidence, horizon)`, absent or None meaning 0.95 and
/// one bar.
pub fn confidence_horizon(
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, usize)> {
    optional!(float confidence = 0.95);
    optional!(count horizon = 1);
    Ok((confidence, horizon))
}
