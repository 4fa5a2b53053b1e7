//! Binding of `gridhedge_core::stops`: stops snapped on the safe side, as exact ticks and
//! `Decimal` prices.

use std::str::FromStr;

use gridhedge_core::money::Market;
use gridhedge_core::stops::{self, PositionSide, Stop, Trail};
use numpy::{PyArray, PyArray1};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{run, to_pyerr};
use crate::money::{prices_of, PyMarket};

/// A stop: the position it protects, its order side, exact price and unsnapped level.
#[pyclass(name = "Stop", module = "gridhedge", frozen, get_all)]
pub struct PyStop {
    side: &'static str,
    order_side: &'static str,
    level: f64,
    price_ticks: i64,
    price: Py<PyAny>,
    distance_pct: f64,
}

#[pymethods]
impl PyStop {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Stop(side='{}', order_side='{}', price=Decimal('{}'), level={}, distance_pct={})",
            self.side,
            self.order_side,
            self.price.bind(py),
            self.level,
            self.distance_pct
        )
    }
}

/// A trailing stop path: unsnapped levels, exact ticks and their nearest float prices.
#[pyclass(name = "TrailingStop", module = "gridhedge", frozen, get_all)]
pub struct PyTrailingStop {
    side: &'static str,
    levels: Py<PyArray1<f64>>,
    ticks: Py<PyArray1<i64>>,
    prices: Py<PyArray1<f64>>,
}

#[pymethods]
impl PyTrailingStop {
    fn __len__(&self, py: Python<'_>) -> usize {
        numpy::PyUntypedArrayMethods::len(self.ticks.bind(py))
    }
}

fn position(py: Python<'_>, side: &Bound<'_, PyAny>) -> PyResult<PositionSide> {
    let s = convert::text("side", side)?;
    PositionSide::from_str(&s).map_err(|e| to_pyerr(py, e))
}

fn to_py(py: Python<'_>, m: &Market, s: Stop) -> PyResult<PyStop> {
    Ok(PyStop {
        side: s.position.as_str(),
        order_side: s.position.stop_side().as_str(),
        level: s.level,
        price_ticks: s.ticks,
        price: convert::to_decimal(py, m.ticks_to_price(s.ticks))?.unbind(),
        distance_pct: s.distance_pct,
    })
}

/// Volatility scale `sigma / sigma_long_run` clipped to `[min_scale, max_scale]`.
#[pyfunction]
#[pyo3(signature = (sigma, sigma_long_run, min_scale = None, max_scale = None))]
pub fn stop_scale(
    sigma: &Bound<'_, PyAny>,
    sigma_long_run: &Bound<'_, PyAny>,
    min_scale: Option<&Bound<'_, PyAny>>,
    max_scale: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let py = sigma.py();
    args!(float sigma, sigma_long_run);
    optional!(float min_scale = 0.5, max_scale = 2.0);
    run(py, || {
        stops::stop_scale(sigma, sigma_long_run, min_scale, max_scale)
    })
}

/// Stop `distance_pct` away from `price`, snapped on the safe side.
#[pyfunction]
pub fn stop_at(
    price: &Bound<'_, PyAny>,
    distance_pct: &Bound<'_, PyAny>,
    side: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
) -> PyResult<PyStop> {
    let py = price.py();
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    args!(float price, distance_pct);
    let side = position(py, side)?;
    let m = &market.get().inner;
    let s = run(py, || stops::stop_at(price, distance_pct, side, m))?;
    to_py(py, m, s)
}

/// `stop_loss_pct` scaled by current / long-run volatility, placed from `price`.
#[pyfunction]
#[pyo3(signature = (price, stop_loss_pct, sigma, sigma_long_run, side, market, min_scale = None, max_scale = None))]
#[allow(clippy::too_many_arguments)]
pub fn vol_scaled_stop(
    price: &Bound<'_, PyAny>,
    stop_loss_pct: &Bound<'_, PyAny>,
    sigma: &Bound<'_, PyAny>,
    sigma_long_run: &Bound<'_, PyAny>,
    side: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    min_scale: Option<&Bound<'_, PyAny>>,
    max_scale: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyStop> {
    let py = price.py();
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    args!(float price, stop_loss_pct, sigma, sigma_long_run);
    optional!(float min_scale = 0.5, max_scale = 2.0);
    let side = position(py, side)?;
    let m = &market.get().inner;
    let stop = run(py, || {
        let (pct, lo, hi) = (stop_loss_pct, min_scale, max_scale);
        stops::vol_scaled_stop(price, pct, sigma, sigma_long_run, lo, hi, side, m)
    })?;
    to_py(py, m, stop)
}

/// Stop `multiple` ATRs from `price`, snapped on the safe side.
#[pyfunction]
pub fn atr_stop(
    price: &Bound<'_, PyAny>,
    atr: &Bound<'_, PyAny>,
    multiple: &Bound<'_, PyAny>,
    side: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
) -> PyResult<PyStop> {
    let py = price.py();
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    args!(float price, atr, multiple);
    let side = position(py, side)?;
    let m = &market.get().inner;
    let stop = run(py, || stops::atr_stop(price, atr, multiple, side, m))?;
    to_py(py, m, stop)
}

/// Trailing stop path over `prices`: give `trail_pct`, or `atr` (array) and `multiple`.
#[pyfunction]
#[pyo3(signature = (prices, side, market, trail_pct = None, atr = None, multiple = None))]
pub fn trailing_stop(
    py: Python<'_>,
    prices: &Bound<'_, PyAny>,
    side: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    trail_pct: Option<&Bound<'_, PyAny>>,
    atr: Option<&Bound<'_, PyAny>>,
    multiple: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyTrailingStop> {
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    let side = position(py, side)?;
    args!(py, slice prices);
    let none = |v: Option<&Bound<'_, PyAny>>| v.is_none_or(|v| v.is_none());
    let rule = "give either trail_pct, or atr and multiple";
    let atr_array = match (none(trail_pct), none(atr), none(multiple)) {
        (false, true, true) => None,
        (true, false, false) => atr.map(|a| convert::f64_array("atr", a)).transpose()?,
        (false, _, _) => {
            return Err(crate::errors::invalid(
                py,
                "trail_pct",
                "given with atr",
                rule,
            ))
        }
        _ => return Err(crate::errors::invalid(py, "trail_pct", "None", rule)),
    };
    optional!(float trail_pct, multiple);
    let atr_data = match &atr_array {
        Some(a) => Some(convert::slice(py, "atr", a)?),
        None => None,
    };
    let m = &market.get().inner;
    let (t, stop_prices) = run(py, || {
        let trail = match (trail_pct, atr_data, multiple) {
            (Some(p), _, _) => Trail::Pct(p),
            (None, Some(atr), Some(k)) => Trail::Atr { atr, multiple: k },
            _ => Trail::Pct(f64::NAN),
        };
        let t = stops::trailing_stop(prices, side, trail, m)?;
        let p = prices_of(m, &t.ticks);
        Ok((t, p))
    })?;
    Ok(PyTrailingStop {
        side: side.as_str(),
        levels: PyArray::from_vec(py, t.levels).unbind(),
        ticks: PyArray::from_vec(py, t.ticks).unbind(),
        prices: PyArray::from_vec(py, stop_prices).unbind(),
    })
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStop>()?;
    m.add_class::<PyTrailingStop>()?;
    m.add_function(wrap_pyfunction!(stop_scale, m)?)?;
    m.add_function(wrap_pyfunction!(stop_at, m)?)?;
    m.add_function(wrap_pyfunction!(vol_scaled_stop, m)?)?;
    m.add_function(wrap_pyfunction!(atr_stop, m)?)?;
    m.add_function(wrap_pyfunction!(trailing_stop, m)?)?;
    Ok(())
}
