//! Binding of `gridhedge_core::hedge`: OLS / EWMA / rolling hedge ratio, hedge effectiveness,
//! funding carry.

use gridhedge_core::hedge;
use numpy::{PyArray, PyArray1};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::run;

/// Minimum-variance hedge ratio: OLS beta of spot returns on futures returns.
#[pyfunction]
#[pyo3(signature = (spot, futures, nan_policy = None))]
pub fn ols_beta(
    spot: &Bound<'_, PyAny>,
    futures: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let py = spot.py();
    let policy = convert::nan_policy(nan_policy)?;
    args!(py, slice spot, futures);
    run(py, || hedge::ols_beta(spot, futures, policy))
}

/// EWMA hedge ratio series (pandas `ewm(alpha=1-lam, adjust=False)` moments).
#[pyfunction]
#[pyo3(signature = (spot, futures, lam = None, min_periods = None, nan_policy = None))]
pub fn ewma_beta<'py>(
    py: Python<'py>,
    spot: &Bound<'py, PyAny>,
    futures: &Bound<'py, PyAny>,
    lam: Option<&Bound<'py, PyAny>>,
    min_periods: Option<&Bound<'py, PyAny>>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let policy = convert::nan_policy(nan_policy)?;
    optional!(float lam = 0.94);
    optional!(count min_periods = 2);
    args!(py, slice spot, futures);
    let v = run(py, || {
        hedge::ewma_beta(spot, futures, lam, min_periods, policy)
    })?;
    Ok(PyArray::from_vec(py, v))
}

/// Rolling OLS hedge ratio over `window` bars (O(n)).
#[pyfunction]
pub fn rolling_beta<'py>(
    py: Python<'py>,
    spot: &Bound<'py, PyAny>,
    futures: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    args!(count window);
    args!(py, slice spot, futures);
    let v = run(py, || hedge::rolling_beta(spot, futures, window))?;
    Ok(PyArray::from_vec(py, v))
}

/// Hedge effectiveness `1 - Var(spot - h futures) / Var(spot)`; `hedge_ratio` None = OLS beta.
#[pyfunction]
#[pyo3(signature = (spot, futures, hedge_ratio = None, nan_policy = None))]
pub fn hedge_effectiveness(
    spot: &Bound<'_, PyAny>,
    futures: &Bound<'_, PyAny>,
    hedge_ratio: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let py = spot.py();
    let policy = convert::nan_policy(nan_policy)?;
    optional!(float hedge_ratio);
    args!(py, slice spot, futures);
    run(py, || {
        hedge::hedge_effectiveness(spot, futures, hedge_ratio, policy)
    })
}

/// Funding carry in quote currency: `-position x price x sum(rates)`; a number `rates` is a
/// constant rate over `periods` funding intervals.
#[pyfunction]
#[pyo3(signature = (position, price, rates, periods = None))]
pub fn funding_carry(
    position: &Bound<'_, PyAny>,
    price: &Bound<'_, PyAny>,
    rates: &Bound<'_, PyAny>,
    periods: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let py = position.py();
    args!(float position, price);
    if rates.is_instance_of::<pyo3::types::PyString>() || !rates.hasattr("__len__")? {
        args!(float rates);
        optional!(count periods = 1);
        return run(py, || {
            hedge::funding_carry_constant(position, price, rates, periods)
        });
    }
    if let Some(p) = periods.filter(|p| !p.is_none()) {
        return Err(crate::errors::invalid(
            py,
            "periods",
            p.repr()?,
            "must be omitted when rates is an array (one rate per interval)",
        ));
    }
    args!(py, slice rates);
    run(py, || hedge::funding_carry(position, price, rates))
}

/// Add this module's functions to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ols_beta, m)?)?;
    m.add_function(wrap_pyfunction!(ewma_beta, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_beta, m)?)?;
    m.add_function(wrap_pyfunction!(hedge_effectiveness, m)?)?;
    m.add_function(wrap_pyfunction!(funding_carry, m)?)?;
    Ok(())
}
