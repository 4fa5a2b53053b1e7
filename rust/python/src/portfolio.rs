//! Binding of `gridhedge_core::portfolio`: covariance with shrinkage, portfolio VaR/CVaR
//! (parametric and historical) with the Euler split, budgets, shrink multipliers, the
//! portfolio drawdown and the every-bar EWMA VaR path. Matrices come in zero-copy (2-D,
//! C-contiguous float64, one row a bar and one column a leg), the work runs with the GIL
//! released.

use gridhedge_core::error::Error;
use gridhedge_core::portfolio::{self, CovMethod};
use numpy::{PyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert;
use crate::drawdown::PyMaxDrawdown;
use crate::errors::{invalid, run, to_pyerr};
use crate::var::f64_matrix;

type Pair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

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
    args!(py, slice exposures);
    let m = self::method(py, method, lam, window)?;
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let p = run(py, || portfolio::portfolio_risk(r, n, exposures, m, c, h))?;
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
    args!(py, slice exposures);
    let ca = square(py, covariance, exposures.len())?;
    let cov = convert::slice(py, "covariance", &ca)?;
    args!(float var_limit);
    let weights_arr = match weights {
        Some(o) if !o.is_none() => Some(convert::f64_array("weights", o)?),
        _ => None,
    };
    let ws = match &weights_arr {
        Some(a) => Some(convert::slice(py, "weights", a)?),
        None => None,
    };
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let b = run(py, || {
        portfolio::budgets(exposures, cov, var_limit, ws, c, h)
    })?;
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
    args!(py, slice exposures);
    let ca = square(py, covariance, exposures.len())?;
    let cov = convert::slice(py, "covariance", &ca)?;
    args!(float var_limit);
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let m = run(py, || portfolio::shrink(exposures, cov, var_limit, c, h))?;
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
    optional!(float lam = 0.94);
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let path = if let Ok(wa) = convert::f64_array("exposures", exposures) {
        let w = convert::slice(py, "exposures", &wa)?;
        run(py, || portfolio::ewma_var_path(r, n, w, lam, c, h))?
    } else {
        let wa = f64_matrix("exposures", exposures)?;
        let w = convert::slice(py, "exposures", &wa)?;
        run(py, || portfolio::ewma_var_path(r, n, w, lam, c, h))?
    };
    Ok(PyArray::from_vec(py, path))
}

/// Each leg's own VaR limit under the budget, never above its `configured` limit (see
/// `gridhedge_core::portfolio::leg_var_limits`).
#[pyfunction]
#[pyo3(signature = (exposures, covariance, var_limit, configured, weights = None, confidence = None, horizon = None))]
#[allow(clippy::too_many_arguments)]
pub fn leg_var_limits<'py>(
    py: Python<'py>,
    exposures: &Bound<'py, PyAny>,
    covariance: &Bound<'py, PyAny>,
    var_limit: &Bound<'py, PyAny>,
    configured: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    confidence: Option<&Bound<'py, PyAny>>,
    horizon: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    args!(py, slice exposures);
    let ca = square(py, covariance, exposures.len())?;
    let cov = convert::slice(py, "covariance", &ca)?;
    args!(float var_limit);
    let cfa = convert::f64_array("configured", configured)?;
    let cf = convert::slice(py, "configured", &cfa)?;
    let weights_arr = match weights {
        Some(o) if !o.is_none() => Some(convert::f64_array("weights", o)?),
        _ => None,
    };
    let ws = match &weights_arr {
        Some(a) => Some(convert::slice(py, "weights", a)?),
        None => None,
    };
    let (c, h) = convert::confidence_horizon(confidence, horizon)?;
    let v = run(py, || {
        portfolio::leg_var_limits(exposures, cov, var_limit, ws, c, h, cf)
    })?;
    Ok(PyArray::from_vec(py, v))
}

fn rows<'py>(
    py: Python<'py>,
    n: usize,
    rb: &[portfolio::backtest::Rebalance],
    pick: impl Fn(&portfolio::backtest::Rebalance) -> &[f64],
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let flat: Vec<f64> = rb.iter().flat_map(|r| pick(r).iter().copied()).collect();
    PyArray::from_vec(py, flat).reshape([rb.len(), n])
}

/// The portfolio backtester over aligned series, one `BacktestSpec`, `Market` and data tuple
/// `(timestamp, open, high, low, close, volume, funding_time, funding_rate)` per leg (GIL
/// released). Returns a dict: `legs` (one `backtest` result dict per leg), `rebalances` (columns;
/// per-leg figures as `R x n` arrays), `reasons` (`bar`, `reason`), `equity` (summed per bar)
/// and `metrics`.
#[pyfunction]
#[pyo3(signature = (specs, markets, data, *, var_limit, max_drawdown, confidence, horizon, method, lam, window, lookback_bars, weights, start, cadence, record_events = None, record_series = None))]
#[allow(clippy::too_many_arguments)]
pub fn portfolio_backtest<'py>(
    py: Python<'py>,
    specs: &Bound<'py, PyAny>,
    markets: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    var_limit: &Bound<'py, PyAny>,
    max_drawdown: &Bound<'py, PyAny>,
    confidence: &Bound<'py, PyAny>,
    horizon: &Bound<'py, PyAny>,
    method: &Bound<'py, PyAny>,
    lam: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    lookback_bars: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    start: &Bound<'py, PyAny>,
    cadence: &Bound<'py, PyAny>,
    record_events: Option<&Bound<'py, PyAny>>,
    record_series: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::backtest::{arrays, result_dict, PyBacktestSpec};
    use crate::money::PyMarket;
    use gridhedge_core::backtest::Record;
    use gridhedge_core::portfolio::backtest::{self as pbt, PortfolioBacktestConfig};

    let list = |field: &str, obj: &Bound<'py, PyAny>| -> PyResult<Vec<Bound<'py, PyAny>>> {
        obj.try_iter()
            .map_err(|_| {
                invalid(
                    py,
                    field,
                    "a non-sequence",
                    "must be a sequence (one per leg)",
                )
            })?
            .collect::<PyResult<Vec<_>>>()
    };
    let spec_objs = list("specs", specs)?;
    let market_objs = list("markets", markets)?;
    let data_objs = list("data", data)?;
    let mut legs = Vec::with_capacity(spec_objs.len());
    for s in &spec_objs {
        legs.push(
            convert::instance::<PyBacktestSpec>("specs", "BacktestSpec", s)?
                .get()
                .inner
                .clone(),
        );
    }
    let mut mks = Vec::with_capacity(market_objs.len());
    for m in &market_objs {
        mks.push(
            convert::instance::<PyMarket>("markets", "Market", m)?
                .get()
                .inner
                .clone(),
        );
    }
    let mut held = Vec::with_capacity(data_objs.len());
    for (i, d) in data_objs.iter().enumerate() {
        let cols = list(&format!("data[{i}]"), d)?;
        if cols.len() != 8 {
            return Err(invalid(
                py,
                &format!("data[{i}]"),
                format!("{} array(s)", cols.len()),
                "must be (timestamp, open, high, low, close, volume, funding_time, funding_rate)",
            ));
        }
        held.push(arrays(
            &cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6], &cols[7],
        )?);
    }
    let series = held
        .iter()
        .map(|a| a.series(py))
        .collect::<PyResult<Vec<_>>>()?;
    let m = self::method(py, Some(method), Some(lam), Some(window))?;
    let weights = match weights {
        Some(o) if !o.is_none() => {
            let a = convert::f64_array("weights", o)?;
            Some(a.as_array().iter().copied().collect::<Vec<f64>>())
        }
        _ => None,
    };
    let cfg = PortfolioBacktestConfig {
        legs,
        var_limit: convert::float("var_limit", var_limit)?,
        max_drawdown: convert::float("max_drawdown", max_drawdown)?,
        confidence: convert::float("confidence", confidence)?,
        horizon_bars: convert::count("horizon", horizon)?,
        method: m,
        lookback_bars: convert::count("lookback_bars", lookback_bars)?,
        weights,
        start: convert::count("start", start)?,
        cadence: convert::count("cadence", cadence)?,
    };
    let record = Record {
        events: record_events.map_or(Ok(true), |v| convert::boolean("record_events", v))?,
        series: record_series.map_or(Ok(true), |v| convert::boolean("record_series", v))?,
    };
    let r = run(py, || pbt::run(&cfg, &mks, &series, record))?;
    let n = cfg.legs.len();
    let out = PyDict::new(py);
    let legs_out = PyList::empty(py);
    for (i, leg) in r.legs.into_iter().enumerate() {
        legs_out.append(result_dict(py, &mks[i], leg)?)?;
    }
    out.set_item("legs", legs_out)?;
    let rb = &r.rebalances;
    let reb = PyDict::new(py);
    reb.set_item(
        "bar",
        PyArray::from_vec(py, rb.iter().map(|x| x.bar as i64).collect()),
    )?;
    for (k, f) in [
        (
            "var",
            (|x: &pbt::Rebalance| x.var) as fn(&pbt::Rebalance) -> f64,
        ),
        ("cvar", |x| x.cvar),
        ("historical_var", |x| x.historical_var),
        ("var_after", |x| x.var_after),
        ("drawdown", |x| x.drawdown),
        ("equity", |x| x.equity),
    ] {
        reb.set_item(k, PyArray::from_vec(py, rb.iter().map(f).collect()))?;
    }
    reb.set_item("halted", PyList::new(py, rb.iter().map(|x| x.halted))?)?;
    reb.set_item("exposure", rows(py, n, rb, |x| &x.exposures)?)?;
    reb.set_item("component", rows(py, n, rb, |x| &x.components)?)?;
    reb.set_item("share", rows(py, n, rb, |x| &x.shares)?)?;
    reb.set_item("multiplier", rows(py, n, rb, |x| &x.multipliers)?)?;
    reb.set_item("band_scale", rows(py, n, rb, |x| &x.band_scales)?)?;
    reb.set_item("var_limit", rows(py, n, rb, |x| &x.var_limits)?)?;
    out.set_item("rebalances", reb)?;
    let reasons = PyDict::new(py);
    reasons.set_item(
        "bar",
        PyArray::from_vec(py, r.reasons.iter().map(|(b, _)| *b as i64).collect()),
    )?;
    reasons.set_item(
        "reason",
        PyList::new(py, r.reasons.iter().map(|(_, w)| w.as_str()))?,
    )?;
    out.set_item("reasons", reasons)?;
    out.set_item("equity", PyArray::from_vec(py, r.equity))?;
    let mt = &r.metrics;
    let md = PyDict::new(py);
    md.set_item("rebalances", mt.rebalances)?;
    md.set_item("rebalances_shrunk", mt.rebalances_shrunk)?;
    md.set_item("rebalances_budgeted", mt.rebalances_budgeted)?;
    md.set_item("max_var", mt.max_var)?;
    md.set_item("max_var_after_shrink", mt.max_var_after_shrink)?;
    md.set_item("worst_drawdown", mt.worst_drawdown)?;
    md.set_item("halted", mt.halted)?;
    md.set_item("halt_bar", if mt.halted { Some(mt.halt_bar) } else { None })?;
    md.set_item("initial_equity", mt.initial_equity)?;
    md.set_item("final_equity", mt.final_equity)?;
    md.set_item("total_return", mt.total_return)?;
    md.set_item("max_drawdown", mt.max_drawdown)?;
    out.set_item("metrics", md)?;
    Ok(out)
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
    m.add_function(wrap_pyfunction!(leg_var_limits, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio_backtest, m)?)?;
    Ok(())
}
