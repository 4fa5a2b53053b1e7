//! Binding of `gridhedge_core::var_backtest`: exceptions, Kupiec, Christoffersen and the full
//! backtest. Arrays come in zero-copy and the work runs with the GIL released.

use gridhedge_core::var_backtest::{self as bt, Backtest, LrTest};
use numpy::{PyArray, PyArray1, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::convert;
use crate::errors::{invalid, run};

/// `obj` as a read-only, C-contiguous, one-dimensional numpy bool array.
fn bool_array<'py>(field: &str, obj: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray1<'py, bool>> {
    let py = obj.py();
    let rule = "must be a one-dimensional, C-contiguous numpy bool array";
    let Ok(array) = obj.extract::<PyReadonlyArray1<'py, bool>>() else {
        let described = match (obj.getattr("dtype"), obj.getattr("ndim")) {
            (Ok(dtype), Ok(ndim)) => format!("array of dtype {dtype} with {ndim} dimension(s)"),
            _ => format!("<{}>", obj.get_type().name()?),
        };
        return Err(invalid(py, field, described, rule));
    };
    if !array.is_c_contiguous() {
        return Err(invalid(py, field, "a non-contiguous bool array", rule));
    }
    Ok(array)
}

/// The VaR argument: a float64 array of the returns' length (borrowed), or one number for
/// every bar.
enum VarArg<'py> {
    Array(PyReadonlyArray1<'py, f64>),
    Scalar(Vec<f64>),
}

impl<'py> VarArg<'py> {
    fn new(obj: &Bound<'py, PyAny>, n: usize) -> PyResult<Self> {
        if obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyInt>() {
            return Ok(VarArg::Scalar(vec![convert::float("var", obj)?; n]));
        }
        Ok(VarArg::Array(convert::f64_array("var", obj)?))
    }

    fn slice(&self, py: Python<'_>) -> PyResult<&[f64]> {
        match self {
            VarArg::Array(a) => convert::slice(py, "var", a),
            VarArg::Scalar(v) => Ok(v),
        }
    }
}

fn pair(t: LrTest) -> (f64, f64) {
    (t.lr, t.p_value)
}

/// Exceptions: `-returns > var`, as a bool array.
#[pyfunction]
#[pyo3(signature = (returns, var, nan_policy = None))]
pub fn var_exceptions<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    var: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    args!(py, slice returns);
    let va = VarArg::new(var, returns.len())?;
    let v = va.slice(py)?;
    let p = convert::nan_policy(nan_policy)?;
    let out = run(py, || bt::exceptions(returns, v, p))?;
    Ok(PyArray::from_vec(py, out))
}

/// Kupiec POF: (LR, p-value).
#[pyfunction]
#[pyo3(signature = (n_obs, n_exceptions, confidence = None))]
pub fn kupiec_pof(
    py: Python<'_>,
    n_obs: &Bound<'_, PyAny>,
    n_exceptions: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(count n_obs, n_exceptions);
    optional!(float confidence = 0.95);
    run(py, || {
        bt::kupiec_pof(n_obs as u64, n_exceptions as u64, confidence)
    })
    .map(pair)
}

/// Christoffersen independence: (LR, p-value).
#[pyfunction]
pub fn christoffersen_independence(
    py: Python<'_>,
    exceptions: &Bound<'_, PyAny>,
) -> PyResult<(f64, f64)> {
    let array = bool_array("exceptions", exceptions)?;
    let e = convert::slice(py, "exceptions", &array)?;
    run(py, || bt::christoffersen_independence(e)).map(pair)
}

/// Christoffersen conditional coverage: (LR_pof + LR_ind, p-value with 2 df).
#[pyfunction]
#[pyo3(signature = (exceptions, confidence = None))]
pub fn conditional_coverage(
    py: Python<'_>,
    exceptions: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    let array = bool_array("exceptions", exceptions)?;
    let e = convert::slice(py, "exceptions", &array)?;
    optional!(float confidence = 0.95);
    run(py, || bt::conditional_coverage(e, confidence)).map(pair)
}

/// A VaR backtest's results.
#[pyclass(name = "VarBacktest", module = "gridhedge", frozen, get_all)]
pub struct PyVarBacktest {
    n_obs: u64,
    n_exceptions: u64,
    exception_rate: f64,
    expected_exceptions: f64,
    lr_pof: f64,
    p_pof: f64,
    lr_ind: f64,
    p_ind: f64,
    lr_cc: f64,
    p_cc: f64,
    n00: u64,
    n01: u64,
    n10: u64,
    n11: u64,
    exceptions: Py<PyArray1<bool>>,
}

#[pymethods]
impl PyVarBacktest {
    fn __repr__(&self) -> String {
        format!(
            "VarBacktest(n_obs={}, n_exceptions={}, expected_exceptions={}, p_pof={:.4}, p_ind={:.4}, p_cc={:.4})",
            self.n_obs, self.n_exceptions, self.expected_exceptions, self.p_pof, self.p_ind, self.p_cc
        )
    }
}

/// Full VaR backtest of `returns` against `var` forecasts.
#[pyfunction]
#[pyo3(signature = (returns, var, confidence = None, nan_policy = None))]
pub fn var_backtest(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    var: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyVarBacktest> {
    args!(py, slice returns);
    let va = VarArg::new(var, returns.len())?;
    let v = va.slice(py)?;
    optional!(float confidence = 0.95);
    let p = convert::nan_policy(nan_policy)?;
    let b: Backtest = run(py, || bt::backtest(returns, v, confidence, p))?;
    Ok(PyVarBacktest {
        n_obs: b.n_obs,
        n_exceptions: b.n_exceptions,
        exception_rate: b.exception_rate,
        expected_exceptions: b.expected_exceptions,
        lr_pof: b.pof.lr,
        p_pof: b.pof.p_value,
        lr_ind: b.independence.lr,
        p_ind: b.independence.p_value,
        lr_cc: b.conditional_coverage.lr,
        p_cc: b.conditional_coverage.p_value,
        n00: b.transitions.n00,
        n01: b.transitions.n01,
        n10: b.transitions.n10,
        n11: b.transitions.n11,
        exceptions: PyArray::from_vec(py, b.exceptions).unbind(),
    })
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVarBacktest>()?;
    m.add_function(wrap_pyfunction!(var_exceptions, m)?)?;
    m.add_function(wrap_pyfunction!(kupiec_pof, m)?)?;
    m.add_function(wrap_pyfunction!(christoffersen_independence, m)?)?;
    m.add_function(wrap_pyfunction!(conditional_coverage, m)?)?;
    m.add_function(wrap_pyfunction!(var_backtest, m)?)?;
    Ok(())
}
