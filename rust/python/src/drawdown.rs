//! Binding of `gridhedge_core::drawdown`: high-water mark, drawdown (<= 0), max drawdown.

use gridhedge_core::drawdown::{self, MaxDrawdown};
use numpy::{PyArray, PyArray1};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::run;

/// The worst drawdown (a fraction in [-1, 0]) with its peak, trough, recovery and duration.
#[pyclass(name = "MaxDrawdown", module = "gridhedge", frozen, get_all)]
pub struct PyMaxDrawdown {
    drawdown: f64,
    peak: usize,
    trough: usize,
    recovery: Option<usize>,
    duration: usize,
}

#[pymethods]
impl PyMaxDrawdown {
    fn __repr__(&self) -> String {
        let recovery = self
            .recovery
            .map_or_else(|| "None".to_string(), |r| r.to_string());
        format!(
            "MaxDrawdown(drawdown={}, peak={}, trough={}, recovery={}, duration={})",
            self.drawdown, self.peak, self.trough, recovery, self.duration
        )
    }
}

impl From<MaxDrawdown> for PyMaxDrawdown {
    fn from(m: MaxDrawdown) -> Self {
        PyMaxDrawdown {
            drawdown: m.drawdown,
            peak: m.peak,
            trough: m.trough,
            recovery: m.recovery,
            duration: m.duration,
        }
    }
}

/// Apply a core series function to the `equity` argument.
fn on_equity<T: Send>(
    equity: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(&[f64], gridhedge_core::series::NanPolicy) -> gridhedge_core::Result<T> + Send,
) -> PyResult<T> {
    let py = equity.py();
    let policy = convert::nan_policy(nan_policy)?;
    let array = convert::f64_array("equity", equity)?;
    let data = convert::slice(py, "equity", &array)?;
    run(py, || f(data, policy))
}

/// Running maximum of the equity curve (quote currency).
#[pyfunction]
#[pyo3(signature = (equity, nan_policy = None))]
pub fn high_water_mark<'py>(
    py: Python<'py>,
    equity: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let v = on_equity(equity, nan_policy, drawdown::high_water_mark)?;
    Ok(PyArray::from_vec(py, v))
}

/// Drawdown series `equity / high_water_mark - 1`, in [-1, 0].
#[pyfunction(name = "drawdown")]
#[pyo3(signature = (equity, nan_policy = None))]
pub fn drawdown_series<'py>(
    py: Python<'py>,
    equity: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let v = on_equity(equity, nan_policy, drawdown::drawdown)?;
    Ok(PyArray::from_vec(py, v))
}

/// Bars since the last bar at the high-water mark (0 at the mark).
#[pyfunction]
#[pyo3(signature = (equity, nan_policy = None))]
pub fn drawdown_duration<'py>(
    py: Python<'py>,
    equity: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let v = on_equity(equity, nan_policy, drawdown::drawdown_duration)?;
    let v: Vec<i64> = v.into_iter().map(|d| d as i64).collect();
    Ok(PyArray::from_vec(py, v))
}

/// The worst drawdown of the equity curve and where it happened.
#[pyfunction]
#[pyo3(signature = (equity, nan_policy = None))]
pub fn max_drawdown(
    equity: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyMaxDrawdown> {
    Ok(on_equity(equity, nan_policy, drawdown::max_drawdown)?.into())
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMaxDrawdown>()?;
    m.add_function(wrap_pyfunction!(high_water_mark, m)?)?;
    m.add_function(wrap_pyfunction!(drawdown_series, m)?)?;
    m.add_function(wrap_pyfunction!(drawdown_duration, m)?)?;
    m.add_function(wrap_pyfunction!(max_drawdown, m)?)?;
    Ok(())
}
