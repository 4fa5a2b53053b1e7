//! Binding of `gridhedge_core::portfolio`: covariance with shrinkage, portfolio VaR/CVaR
//! (parametric and historical) with the Euler split, budgets, shrink multipliers, the
//! portfolio drawdown and the every-bar EWMA VaR path. Matrices come in zero-copy (2-D,
//! C-contiguous float64, one row a bar and one column a leg), the work runs with the GIL
//! released.

use gridhedge_core::error::Error;
use gridhedge_core::portfolio::{self, CovMethod};
use numpy::{PyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::convert;
use crate::drawdown::PyMaxDrawdown;
use crate::errors::{invalid, run, to_pyerr};
use crate::var::f64_matrix;

type Pair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

fn confidence(obj: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
    obj.map_or(Ok(0.95), |o| convert::float("confidence", o))
}

fn horizon(obj: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
    obj.map_or(Ok(1), |o| convert::count("horizon", o))
}

/// 'ewma' (with `lam`, default 0.94) or 'rolling' (with `window`, default 500).
fn method(
    py: Python<'_>,
    method: Option<&Bound<'_, PyAny>>,
    lam: Option<&Bound<'_, PyAny>>,
    window: Option<&Bound<'_, PyAny>>,
) -> PyResult<CovMethod> {
    let name = match method {
        Some(o) => convert::text("method", o)?.to_ascii_lowercase(),
        None => "ewma".to_string(),
    };
    match name.as_str() {
        "ewma" => Ok(CovMethod::Ewma {
            lambda: lam.map_or(Ok(0.94), |o| convert::float("lam", o))?,
        }),
        "rolling" => Ok(CovMethod::Rolling {
            window: window.map_or(Ok(500), |o| convert::count("window", o))?,
        }),
        _ => Err(to_pyerr(
            py,
            Error::invalid("method", format!("{name:?}"), "must be 'ewma' or 'rolling'"),
        )),
    }
}

fn matrix<'py>(
    field: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<(PyReadonlyArray2<'py, f64>, usize)> {
    let a = f64_matrix(field, obj)?;
    let n = a.shape()[1];
    if n == 0 {
        return Err(invalid(
            obj.py(),
            field,
            "0 columns",
            "must hold one column per leg",
        ));
    }
    Ok((a, n))
}

/// A portfolio's risk figures (quote currency) with the covariance they came from.
#[pyclass(name = "PortfolioRisk", module = "gridhedge", frozen, get_all)]
pub struct PyPortfolioRisk {
    covariance: Py<PyArray2<f64>>,
    shrinkage: f64,
    effective_bars: f64,
    var: f64,
    cvar: f64,
    sigma: f64,
    marginal: Py<PyArray1<f64>>,
    component: Py<PyArray1<f64>>,
    historical_var: f64,
    historical_cvar: f64,
    standalone: Py<PyArray1<f64>>,
}

#[pymethods]
impl PyPortfolioRisk {
    fn __repr__(&self) -> String {
        format!(
            "PortfolioRisk(var={}, cvar={}, historical_var={}, historical_cvar={}, shrinkage={})",
            self.var, self.cvar, self.historical_var, self.historical_cvar, self.shrinkage
        )
    }
}

/// Every portfolio figure of `exposures` on the aligned `returns` (T x n).
#[pyfunction]
#[pyo3(signature = (returns, exposures, method = None, lam = None, window = None, confidence = None, horizon = None))]
#[allow(clippy::too_many_arguments)]
pub fn portfolio_risk(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    exposures: &Bound<'_, PyAny>,
    method: Option<&Bound<'_, PyAny>>,
    lam: Option<&Bound<'_, PyAny>>,
    window: Option<&Bound<'_, PyAny>>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPortfolioRisk> {
    let (ra, n) = matrix("returns", returns)?;
    let r = convert::slice(py, "returns", &ra)?;
    let wa = convert::f64_array("exposures", exposures)?;
    let w = convert::slice(py, "exposures", &wa)?;
    let m = self::method(py, method, lam, window)?;
    let (c, h) = (self::confidence(confidence)?, self::horizon(horizon)?);
    let p = run(py, || portfolio::portfolio_risk(r, n, w, m, c, h))?;
    Ok(PyPortfolioRisk {
        covariance: PyArray::from_vec(py, p.covariance.matrix)
            .reshape([n, n])?
            .unbind(),
        shrinkage: p.covariance.shrinkage,
        effective_bars: p.covariance.effective_bars,
        var: p.parametric.var,
        cvar: p.parametric.cvar,
        sigma: p.parametric.sigma,
        marginal: PyArray::from_vec(py, p.parametric.marginal).unbind(),
        component: PyArray::from_vec(py, p.parametric.component).unbind(),
        historical_var: p.historical.var,
        historical_cvar: p.historical.cvar,
        standalone: PyArray::from_vec(py, p.standalone).unbind(),
    })
}

/// Covariance of aligned returns with shrinkage toward the diagonal:
/// `(matrix, shrinkage, effective_bars)`.
#[pyfunction]
#[pyo3(signature = (returns, method = None, lam = None, window = None))]
pub fn portfolio_covariance<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    method: Option<&Bound<'py, PyAny>>,
    lam: Option<&Bound<'py, PyAny>>,
    window: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, f64, f64)> {
    let (ra, n) = matrix("returns", returns)?;
    let r = convert::slice(py, "returns", &ra)?;
    let m = self::method(py, method, lam, window)?;
    let c = run(py, || portfolio::covariance(r, n, m))?;
    Ok((
        PyArray::from_vec(py, c.matrix).reshape([n, n])?,
        c.shrinkage,
        c.effective_bars,
    ))
}

fn square<'py>(
    py: Python<'py>,
    covariance: &Bound<'py, PyAny>,
    n: usize,
) -> PyResult<PyReadonlyArray2<'py, f64>> {
    let ca = f64_matrix("covariance", covariance)?;
    let shape = ca.shape();
    if shape[0] != n || shape[1] != n {
        return Err(invalid(
            py,
            "covariance",
            format!("shape ({}, {})", shape[0], shape[1]),
            &format!("must be an {n} x {n} matrix (one row and column per exposure)"),
        ));
    }
    Ok(ca)
}

/// Each leg's share of `var_limit` and the exposure it may hold: `(shares, allowed)`.
#[pyfunction]
#[pyo3(signature = (exposures, covariance, var_limit, weights = None, confidence = None, horizon = None))]
pub fn var_budgets<'py>(
    py: Python<'py>,
    exposures: &Bound<'py, PyAny>,
    covariance: &Bound<'py, PyAny>,
    var_limit: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
) -> PyResult<Pair<'py>> {
    let wa = convert::f64_array("exposures", exposures)?;
    let w = convert::slice(py, "exposures", &wa)?;
    let ca = square(py, covariance, w.len())?;
    let cov = convert::slice(py, "covariance", &ca)?;
    let limit = convert::float("var_limit", var_limit)?;
    let weights_arr = match weights {
        Some(o) if !o.is_none() => Some(convert::f64_array("weights", o)?),
        _ => None,
    };
    let ws = match &weights_arr {
        Some(a) => Some(convert::slice(py, "weights", a)?),
        None => None,
    };
    let (c, h) = (self::confidence(confidence)?, self::horizon(horizon)?);
    let b = run(py, || portfolio::budgets(w, cov, limit, ws, c, h))?;
    let shares: Vec<f64> = b.iter().map(|x| x.share).collect();
    let allowed: Vec<f64> = b.iter().map(|x| x.allowed_exposure).collect();
    Ok((
        PyArray::from_vec(py, shares),
        PyArray::from_vec(py, allowed),
    ))
}

/// Per-leg multipliers in (0, 1] that bring the parametric VaR within `var_limit`, the largest
/// contributors first.
#[pyfunction]
#[pyo3(signature = (exposures, covariance, var_limit, confidence = None, horizon = None))]
pub fn shrink_to_limit<'py>(
    py: Python<'py>,
    exposures: &Bound<'py, PyAny>,
    covariance: &Bound<'py, PyAny>,
    var_limit: &Bound<'py, PyAny>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let wa = convert::f64_array("exposures", exposures)?;
    let w = convert::slice(py, "exposures", &wa)?;
    let ca = square(py, covariance, w.len())?;
    let cov = convert::slice(py, "covariance", &ca)?;
    let limit = convert::float("var_limit", var_limit)?;
    let (c, h) = (self::confidence(confidence)?, self::horizon(horizon)?);
    let m = run(py, || portfolio::shrink(w, cov, limit, c, h))?;
    Ok(PyArray::from_vec(py, m))
}

/// Drawdown of the summed leg equities (T x n): `(equity, current, max)`.
#[pyfunction]
pub fn portfolio_drawdown<'py>(
    py: Python<'py>,
    equity: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyArray1<f64>>, f64, PyMaxDrawdown)> {
    let (ea, n) = matrix("equity", equity)?;
    let e = convert::slice(py, "equity", &ea)?;
    let d = run(py, || portfolio::portfolio_drawdown(e, n))?;
    Ok((PyArray::from_vec(py, d.equity), d.current, d.max.into()))
}

/// Parametric portfolio VaR updated every bar on an EWMA covariance.
#[pyfunction]
#[pyo3(signature = (returns, exposures, lam = None, confidence = None, horizon = None))]
pub fn ewma_var_path<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    exposures: &Bound<'py, PyAny>,
    lam: Option<&Bound<'py, PyAny>>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (ra, n) = matrix("returns", returns)?;
    let r = convert::slice(py, "returns", &ra)?;
    let lambda = lam.map_or(Ok(0.94), |o| convert::float("lam", o))?;
    let (c, h) = (self::confidence(confidence)?, self::horizon(horizon)?);
    let path = if let Ok(wa) = convert::f64_array("exposures", exposures) {
        let w = convert::slice(py, "exposures", &wa)?;
        run(py, || portfolio::ewma_var_path(r, n, w, lambda, c, h))?
    } else {
        let wa = f64_matrix("exposures", exposures)?;
        let w = convert::slice(py, "exposures", &wa)?;
        run(py, || portfolio::ewma_var_path(r, n, w, lambda, c, h))?
    };
    Ok(PyArray::from_vec(py, path))
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPortfolioRisk>()?;
    m.add_function(wrap_pyfunction!(portfolio_risk, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio_covariance, m)?)?;
    m.add_function(wrap_pyfunction!(var_budgets, m)?)?;
    m.add_function(wrap_pyfunction!(shrink_to_limit, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio_drawdown, m)?)?;
    m.add_function(wrap_pyfunction!(ewma_var_path, m)?)?;
    Ok(())
}
