//! Binding of `gridhedge_core::sizing`: sizes in exact lots with the bound that decided them.

use gridhedge_core::money::Market;
use gridhedge_core::sizing::{self, Size, SizeCap, VarBudget};
use pyo3::prelude::*;

use crate::convert::{self, Number};
use crate::errors::run;
use crate::money::PyMarket;

/// A position size: exact lots and amount, the bound that decided it and the model's amount.
#[pyclass(name = "PositionSize", module = "gridhedge", frozen, get_all)]
pub struct PyPositionSize {
    lots: i64,
    amount: Py<PyAny>,
    bound_by: &'static str,
    raw_amount: f64,
}

#[pymethods]
impl PyPositionSize {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "PositionSize(amount=Decimal('{}'), lots={}, bound_by='{}', raw_amount={})",
            self.amount.bind(py),
            self.lots,
            self.bound_by,
            self.raw_amount
        )
    }
}

/// Per-level sizes of both grid sides.
#[pyclass(name = "LevelSizes", module = "gridhedge", frozen, get_all)]
pub struct PyLevelSizes {
    sell: Py<PyPositionSize>,
    buy: Py<PyPositionSize>,
    levels: usize,
}

#[pymethods]
impl PyLevelSizes {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "LevelSizes(sell={}, buy={}, levels={})",
            self.sell.get().__repr__(py),
            self.buy.get().__repr__(py),
            self.levels
        )
    }
}

fn to_py(py: Python<'_>, m: &Market, s: Size) -> PyResult<PyPositionSize> {
    Ok(PyPositionSize {
        lots: s.lots,
        amount: convert::to_decimal(py, m.lots_to_amount(s.lots))?.unbind(),
        bound_by: s.bound_by.as_str(),
        raw_amount: s.raw_amount,
    })
}

/// The market and the cap (exact when given as int, `Decimal` or string).
fn market_and_cap<'py>(
    market: &Bound<'py, PyAny>,
    max_position_size: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyMarket>, SizeCap)> {
    let py = market.py();
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    let number = convert::number("max_position_size", max_position_size)?;
    let m = &market.get().inner;
    let cap = match number {
        Number::Exact(d) => run(py, || SizeCap::exact(m, d))?,
        Number::Float(x) => run(py, || SizeCap::new(m, x))?,
    };
    Ok((market, cap))
}

/// Volatility-target size: `target_vol / (price x sigma)`, capped and snapped down.
#[pyfunction]
pub fn vol_target_size(
    price: &Bound<'_, PyAny>,
    sigma: &Bound<'_, PyAny>,
    target_vol: &Bound<'_, PyAny>,
    max_position_size: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
) -> PyResult<PyPositionSize> {
    let py = price.py();
    let (market, cap) = market_and_cap(market, max_position_size)?;
    args!(float price, sigma, target_vol);
    let m = &market.get().inner;
    let s = run(py, || {
        sizing::vol_target_size(price, sigma, target_vol, cap, m)
    })?;
    to_py(py, m, s)
}

/// VaR-budget size: the largest size whose normal VaR stays within `share x var_limit`.
#[pyfunction]
#[pyo3(signature = (price, sigma, var_limit, max_position_size, market, confidence = None, horizon = None, share = None, mean = None))]
#[allow(clippy::too_many_arguments)]
pub fn var_budget_size(
    price: &Bound<'_, PyAny>,
    sigma: &Bound<'_, PyAny>,
    var_limit: &Bound<'_, PyAny>,
    max_position_size: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    confidence: Option<&Bound<'_, PyAny>>,
    horizon: Option<&Bound<'_, PyAny>>,
    share: Option<&Bound<'_, PyAny>>,
    mean: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPositionSize> {
    let py = price.py();
    let (market, cap) = market_and_cap(market, max_position_size)?;
    args!(float price, sigma, var_limit);
    optional!(float share = 1.0, confidence = 0.95, horizon = 1.0, mean = 0.0);
    let p = VarBudget {
        sigma,
        var_limit,
        share,
        confidence,
        horizon,
        mean,
    };
    let m = &market.get().inner;
    let s = run(py, || sizing::var_budget_size(p, price, cap, m))?;
    to_py(py, m, s)
}

/// Fractional-Kelly size: `clip(fraction x mu / sigma^2, 0, max_fraction) x equity / price`.
#[pyfunction]
#[pyo3(signature = (price, mu, sigma, equity, max_position_size, market, fraction = None, max_fraction = None))]
#[allow(clippy::too_many_arguments)]
pub fn kelly_size(
    price: &Bound<'_, PyAny>,
    mu: &Bound<'_, PyAny>,
    sigma: &Bound<'_, PyAny>,
    equity: &Bound<'_, PyAny>,
    max_position_size: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    fraction: Option<&Bound<'_, PyAny>>,
    max_fraction: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPositionSize> {
    let py = price.py();
    let (market, cap) = market_and_cap(market, max_position_size)?;
    args!(float price, mu, sigma, equity);
    optional!(float fraction = 0.5, max_fraction = 1.0);
    let m = &market.get().inner;
    let s = run(py, || {
        sizing::kelly_size(price, mu, sigma, equity, fraction, max_fraction, cap, m)
    })?;
    to_py(py, m, s)
}

/// Per-level grid sizes from the hedge-ratio band (DESIGN 'Band').
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn grid_level_sizes(
    exposure: &Bound<'_, PyAny>,
    price: &Bound<'_, PyAny>,
    hedge_ratio: &Bound<'_, PyAny>,
    hedge_ratio_min: &Bound<'_, PyAny>,
    hedge_ratio_max: &Bound<'_, PyAny>,
    num_levels: &Bound<'_, PyAny>,
    max_position_size: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
) -> PyResult<PyLevelSizes> {
    let py = price.py();
    let (market, cap) = market_and_cap(market, max_position_size)?;
    args!(float exposure, price, hedge_ratio, hedge_ratio_min, hedge_ratio_max);
    args!(count num_levels);
    let m = &market.get().inner;
    let s = run(py, || {
        let (lo, hi) = (hedge_ratio_min, hedge_ratio_max);
        sizing::grid_level_sizes(exposure, price, hedge_ratio, lo, hi, num_levels, cap, m)
    })?;
    Ok(PyLevelSizes {
        sell: Py::new(py, to_py(py, m, s.sell)?)?,
        buy: Py::new(py, to_py(py, m, s.buy)?)?,
        levels: s.levels,
    })
}

/// Standard normal quantile of `confidence` in (0, 1) (the `z` of `var_budget_size`).
#[pyfunction]
pub fn normal_quantile(confidence: &Bound<'_, PyAny>) -> PyResult<f64> {
    let py = confidence.py();
    args!(float confidence);
    run(py, || sizing::normal_quantile(confidence))
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPositionSize>()?;
    m.add_class::<PyLevelSizes>()?;
    m.add_function(wrap_pyfunction!(vol_target_size, m)?)?;
    m.add_function(wrap_pyfunction!(var_budget_size, m)?)?;
    m.add_function(wrap_pyfunction!(kelly_size, m)?)?;
    m.add_function(wrap_pyfunction!(grid_level_sizes, m)?)?;
    m.add_function(wrap_pyfunction!(normal_quantile, m)?)?;
    Ok(())
}
