//! Binding of `gridhedge_core::var`: VaR and CVaR (historical, parametric, filtered historical,
//! Monte Carlo, rolling, position and portfolio). Arrays come in zero-copy, the work runs with
//! the GIL released, arrays go out without a copy.

use std::str::FromStr;

use gridhedge_core::error::Error;
use gridhedge_core::series::NanPolicy;
use gridhedge_core::var::{
    self, monte_carlo::McDistribution, rolling::RollingDistribution, QuantileMethod, VarCvar,
};
use numpy::{PyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{invalid, run, to_pyerr};

/// Quantile method argument: None means 'linear'.
fn method(obj: Option<&Bound<'_, PyAny>>) -> PyResult<QuantileMethod> {
    match obj {
        None => Ok(QuantileMethod::Linear),
        Some(o) => {
            QuantileMethod::from_str(&convert::text("method", o)?).map_err(|e| to_pyerr(o.py(), e))
        }
    }
}

/// The tail every VaR estimator takes: `(confidence, horizon, nan_policy)`, None meaning
/// 0.95, 1 bar and 'raise'.
fn tail(
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, usize, NanPolicy)> {
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    Ok((c, h, convert::nan_policy(nan_policy)?))
}

/// 'normal' or 't' (None means 'normal').
fn is_student_t(obj: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    let Some(o) = obj else { return Ok(false) };
    let s = convert::text("distribution", o)?;
    match s.to_ascii_lowercase().as_str() {
        "normal" => Ok(false),
        "t" | "student_t" => Ok(true),
        _ => Err(to_pyerr(
            o.py(),
            Error::invalid("distribution", format!("{s:?}"), "must be 'normal' or 't'"),
        )),
    }
}

/// `obj` as a read-only, C-contiguous, two-dimensional float64 array (no copy, no cast).
pub(crate) fn f64_matrix<'py>(
    field: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray2<'py, f64>> {
    let py = obj.py();
    let rule = "must be a two-dimensional, C-contiguous numpy float64 array";
    let Ok(array) = obj.extract::<PyReadonlyArray2<'py, f64>>() else {
        let described = match (obj.getattr("dtype"), obj.getattr("ndim")) {
            (Ok(dtype), Ok(ndim)) => format!("array of dtype {dtype} with {ndim} dimension(s)"),
            _ => format!("<{}>", obj.get_type().name()?),
        };
        return Err(invalid(py, field, described, rule));
    };
    if !array.is_c_contiguous() {
        return Err(invalid(py, field, "a non-contiguous float64 array", rule));
    }
    Ok(array)
}

fn pair(v: VarCvar) -> (f64, f64) {
    (v.var, v.cvar)
}

/// Historical VaR and CVaR (positive loss fractions): numpy-exact quantile of `-returns`.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, method = None, nan_policy = None))]
pub fn historical_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    method: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    let m = self::method(method)?;
    run(py, || var::historical(returns, c, h, m, p)).map(pair)
}

/// Normal VaR and CVaR from the sample mean and standard deviation.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, nan_policy = None))]
pub fn normal_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    run(py, || var::normal(returns, c, h, p)).map(pair)
}

/// Student-t VaR and CVaR (t scaled to the sample std) and the df used.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, df = None, nan_policy = None))]
pub fn student_t_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    df: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    optional!(float df);
    let (v, nu) = run(py, || var::student_t(returns, c, h, df, p))?;
    Ok((v.var, v.cvar, nu))
}

/// Cornish-Fisher VaR and CVaR.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, nan_policy = None))]
pub fn cornish_fisher_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    run(py, || var::cornish_fisher(returns, c, h, p)).map(pair)
}

/// (mean, std ddof=1, skew bias=False, excess kurtosis bias=False) of a return series.
#[pyfunction]
#[pyo3(signature = (returns, nan_policy = None))]
pub fn return_moments(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64, f64, f64)> {
    args!(py, slice returns);
    let p = convert::nan_policy(nan_policy)?;
    let m = run(py, || var::moments::moments(returns, 1, p))?;
    Ok((m.mean, m.std, m.skew, m.excess_kurtosis))
}

/// Filtered historical VaR and CVaR with a caller-supplied volatility series.
#[pyfunction]
#[pyo3(signature = (returns, sigma, confidence = None, horizon = None, sigma_now = None, method = None, nan_policy = None))]
#[allow(clippy::too_many_arguments)]
pub fn filtered_historical_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    sigma: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    sigma_now: Option<&Bound<'_, PyAny>>,
    method: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns, sigma);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    optional!(float sigma_now);
    let m = self::method(method)?;
    run(py, || {
        var::filtered_historical(returns, sigma, sigma_now, c, h, m, p)
    })
    .map(pair)
}

/// Filtered historical VaR and CVaR with the built-in EWMA volatility.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, lam = None, method = None, nan_policy = None))]
pub fn ewma_filtered_historical_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    lam: Option<&Bound<'_, PyAny>>,
    method: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    optional!(float lam = var::filtered::RISKMETRICS_LAMBDA);
    let m = self::method(method)?;
    run(py, || {
        var::ewma_filtered_historical(returns, lam, c, h, m, p)
    })
    .map(pair)
}

/// Monte Carlo VaR and CVaR from a fitted normal or Student-t, seeded.
#[pyfunction]
#[pyo3(signature = (returns, confidence = None, horizon = None, n_paths = None, distribution = None, df = None, seed = None, nan_policy = None))]
#[allow(clippy::too_many_arguments)]
pub fn monte_carlo_var(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    n_paths: Option<&Bound<'_, PyAny>>,
    distribution: Option<&Bound<'_, PyAny>>,
    df: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<(f64, f64)> {
    args!(py, slice returns);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    optional!(count n_paths = 100_000, seed = 0);
    optional!(float df);
    let dist = if is_student_t(distribution)? {
        McDistribution::StudentT { df }
    } else {
        McDistribution::Normal
    };
    run(py, || {
        var::monte_carlo(returns, c, h, n_paths, dist, seed as u64, p)
    })
    .map(|(v, _)| pair(v))
}

type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Rolling historical VaR and CVaR, together, in parallel.
#[pyfunction]
#[pyo3(signature = (returns, window, confidence = None, horizon = None, method = None, nan_policy = None))]
pub fn rolling_historical_var<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
    method: Option<&Bound<'py, PyAny>>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<ArrayPair<'py>> {
    args!(py, slice returns);
    args!(count window);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    let m = self::method(method)?;
    let out = run(py, || var::rolling_historical(returns, window, c, h, m, p))?;
    Ok((
        PyArray::from_vec(py, out.var),
        PyArray::from_vec(py, out.cvar),
    ))
}

type VarAndCount<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<u64>>);

/// The policy's horizon VaR (filtered historical simulation on overlapping horizon sums)
/// after each return, and the number of horizon sums behind each.
#[pyfunction]
#[pyo3(signature = (returns, horizon, window, confidence))]
pub fn fhs_horizon_var<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    horizon: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    confidence: &Bound<'py, PyAny>,
) -> PyResult<VarAndCount<'py>> {
    let array = convert::f64_array("returns", returns)?;
    let r = convert::slice(py, "returns", &array)?;
    let h = convert::count("horizon", horizon)?;
    let w = convert::count("window", window)?;
    let c = convert::float("confidence", confidence)?;
    let (var, held) = run(py, || var::horizon::fhs_horizon_series(r, h, w, c))?;
    Ok((PyArray::from_vec(py, var), PyArray::from_vec(py, held)))
}

/// Rolling normal or Student-t VaR and CVaR.
#[pyfunction]
#[pyo3(signature = (returns, window, confidence = None, horizon = None, distribution = None, df = None, nan_policy = None))]
#[allow(clippy::too_many_arguments)]
pub fn rolling_parametric_var<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
    distribution: Option<&Bound<'py, PyAny>>,
    df: Option<&Bound<'py, PyAny>>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> PyResult<ArrayPair<'py>> {
    args!(py, slice returns);
    args!(count window);
    let (c, h, p) = tail(confidence, horizon, nan_policy)?;
    optional!(float df);
    let dist = if is_student_t(distribution)? {
        let Some(df) = df else {
            return Err(invalid(
                py,
                "df",
                "None",
                "must be given for a rolling Student-t (it is not fitted per window)",
            ));
        };
        RollingDistribution::StudentT(df)
    } else {
        RollingDistribution::Normal
    };
    let out = run(py, || {
        var::rolling_parametric(returns, window, c, h, dist, p)
    })?;
    Ok((
        PyArray::from_vec(py, out.var),
        PyArray::from_vec(py, out.cvar),
    ))
}

/// Position VaR in quote currency: |size| x price x var_pct.
#[pyfunction]
pub fn position_var(
    py: Python<'_>,
    size: &Bound<'_, PyAny>,
    price: &Bound<'_, PyAny>,
    var_pct: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    args!(float size, price, var_pct);
    run(py, || var::position_var(size, price, var_pct))
}

/// A portfolio's delta-normal VaR and its Euler decomposition (quote currency).
#[pyclass(name = "PortfolioVar", module = "gridhedge", frozen, get_all)]
pub struct PyPortfolioVar {
    var: f64,
    cvar: f64,
    sigma: f64,
    marginal: Py<PyArray1<f64>>,
    component: Py<PyArray1<f64>>,
}

#[pymethods]
impl PyPortfolioVar {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "PortfolioVar(var={}, cvar={}, sigma={}, assets={})",
            self.var,
            self.cvar,
            self.sigma,
            self.marginal.bind(py).len()
        )
    }
}

/// Portfolio VaR, CVaR, marginal and component VaR from exposures and a covariance matrix.
#[pyfunction]
#[pyo3(signature = (exposures, covariance, confidence = None, horizon = None))]
pub fn portfolio_var(
    py: Python<'_>,
    exposures: &Bound<'_, PyAny>,
    covariance: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPortfolioVar> {
    args!(py, slice exposures);
    let ca = f64_matrix("covariance", covariance)?;
    let shape = ca.shape();
    if shape[0] != exposures.len() || shape[1] != exposures.len() {
        let n = exposures.len();
        return Err(invalid(
            py,
            "covariance",
            format!("shape ({}, {})", shape[0], shape[1]),
            &format!("must be an {n} x {n} matrix (one row and column per exposure)"),
        ));
    }
    let cov = convert::slice(py, "covariance", &ca)?;
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let p = run(py, || var::portfolio_var(exposures, cov, c, h))?;
    Ok(PyPortfolioVar {
        var: p.var,
        cvar: p.cvar,
        sigma: p.sigma,
        marginal: PyArray::from_vec(py, p.marginal).unbind(),
        component: PyArray::from_vec(py, p.component).unbind(),
    })
}

/// Covariance matrix from volatilities and a correlation matrix.
#[pyfunction]
pub fn covariance_from_correlation<'py>(
    py: Python<'py>,
    vols: &Bound<'py, PyAny>,
    correlation: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    args!(py, slice vols);
    let ra = f64_matrix("correlation", correlation)?;
    let shape = ra.shape();
    let n = vols.len();
    if shape[0] != n || shape[1] != n {
        return Err(invalid(
            py,
            "correlation",
            format!("shape ({}, {})", shape[0], shape[1]),
            &format!("must be an {n} x {n} matrix (one row and column per vol)"),
        ));
    }
    let rho = convert::slice(py, "correlation", &ra)?;
    let cov = run(py, || var::covariance_from_correlation(vols, rho))?;
    PyArray::from_vec(py, cov).reshape([n, n])
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPortfolioVar>()?;
    m.add_function(wrap_pyfunction!(historical_var, m)?)?;
    m.add_function(wrap_pyfunction!(normal_var, m)?)?;
    m.add_function(wrap_pyfunction!(student_t_var, m)?)?;
    m.add_function(wrap_pyfunction!(cornish_fisher_var, m)?)?;
    m.add_function(wrap_pyfunction!(return_moments, m)?)?;
    m.add_function(wrap_pyfunction!(filtered_historical_var, m)?)?;
    m.add_function(wrap_pyfunction!(ewma_filtered_historical_var, m)?)?;
    m.add_function(wrap_pyfunction!(monte_carlo_var, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_historical_var, m)?)?;
    m.add_function(wrap_pyfunction!(fhs_horizon_var, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_parametric_var, m)?)?;
    m.add_function(wrap_pyfunction!(position_var, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio_var, m)?)?;
    m.add_function(wrap_pyfunction!(covariance_from_correlation, m)?)?;
    Ok(())
}
