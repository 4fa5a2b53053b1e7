//! Seeded synthetic market: GARCH-type returns with fat tails and jumps, OHLCV bars, funding rates.
//! Binding of `gridhedge_core::synthetic`.

use std::str::FromStr;

use gridhedge_core::synthetic::{generate, SyntheticParams, Timeframe};
use numpy::{PyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;
use crate::errors::{invalid, run, to_pyerr};

/// `obj` as a u64 seed (any int in 0..2**64).
fn seed(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let py = obj.py();
    let integral = obj.is_instance_of::<pyo3::types::PyInt>()
        || (obj.hasattr("__index__")? && !obj.is_instance_of::<pyo3::types::PyFloat>());
    if !integral || obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(py, "seed", obj.repr()?, "must be an integer"));
    }
    let rule = "must be >= 0 and < 2**64";
    let n: i128 = obj
        .call_method0("__index__")?
        .extract()
        .map_err(|_| invalid(py, "seed", obj.to_string(), rule))?;
    u64::try_from(n).map_err(|_| invalid(py, "seed", n, rule))
}

/// `obj` as an i64 timestamp in ms.
fn millis(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = obj.py();
    if obj.is_instance_of::<pyo3::types::PyBool>() || !obj.hasattr("__index__")? {
        return Err(invalid(
            py,
            field,
            obj.repr()?,
            "must be an integer (ms since the epoch, UTC)",
        ));
    }
    obj.call_method0("__index__")?
        .extract::<i64>()
        .map_err(|_| invalid(py, field, obj.to_string(), "must fit in int64 ms"))
}

/// A dict of numpy arrays: `timestamp`, `open`, `high`, `low`, `close`, `volume`,
/// `funding_time`, `funding_rate` (see `gridhedge.data.synthetic_candles`).
#[pyfunction]
#[pyo3(signature = (seed, bars, timeframe, start, start_price, **params))]
pub fn synthetic_market<'py>(
    py: Python<'py>,
    seed: &Bound<'py, PyAny>,
    bars: &Bound<'py, PyAny>,
    timeframe: &Bound<'py, PyAny>,
    start: &Bound<'py, PyAny>,
    start_price: &Bound<'py, PyAny>,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let seed = self::seed(seed)?;
    let bars = convert::count("bars", bars)?;
    let tf = convert::text("timeframe", timeframe)?;
    let tf = Timeframe::from_str(&tf).map_err(|e| to_pyerr(py, e))?;
    let start = millis("start", start)?;
    let start_price = convert::float("start_price", start_price)?;
    let mut p = SyntheticParams::default();
    if let Some(kw) = params {
        for (key, value) in kw.iter() {
            let key: String = key.extract()?;
            let f = |v: &Bound<'py, PyAny>| convert::float(&key, v);
            match key.as_str() {
                "vol_annual" => p.vol_annual = f(&value)?,
                "drift_annual" => p.drift_annual = f(&value)?,
                "garch_alpha" => p.garch_alpha = f(&value)?,
                "garch_beta" => p.garch_beta = f(&value)?,
                "tail_dof" => p.tail_dof = f(&value)?,
                "stress_share" => p.stress_share = f(&value)?,
                "stress_var_ratio" => p.stress_var_ratio = f(&value)?,
                "stress_hours" => p.stress_hours = f(&value)?,
                "stress_drift" => p.stress_drift = f(&value)?,
                "jumps_per_year" => p.jumps_per_year = f(&value)?,
                "jump_size" => p.jump_size = f(&value)?,
                "jump_down_prob" => p.jump_down_prob = f(&value)?,
                "jump_stress_prob" => p.jump_stress_prob = f(&value)?,
                "volume_median" => p.volume_median = f(&value)?,
                "funding" => {
                    if !value.is_instance_of::<pyo3::types::PyBool>() {
                        return Err(invalid(
                            py,
                            "funding",
                            value.repr()?,
                            "must be True or False",
                        ));
                    }
                    p.funding = value.extract()?;
                }
                _ => {
                    return Err(invalid(
                        py,
                        &key,
                        value.repr()?,
                        "is not a parameter of the synthetic market",
                    ))
                }
            }
        }
    }
    let m = run(py, || generate(seed, bars, tf, start, start_price, &p))?;
    let out = PyDict::new(py);
    let ints = |v: Vec<i64>| -> Bound<'py, PyArray1<i64>> { PyArray::from_vec(py, v) };
    let floats = |v: Vec<f64>| -> Bound<'py, PyArray1<f64>> { PyArray::from_vec(py, v) };
    out.set_item("timestamp", ints(m.timestamp))?;
    out.set_item("open", floats(m.open))?;
    out.set_item("high", floats(m.high))?;
    out.set_item("low", floats(m.low))?;
    out.set_item("close", floats(m.close))?;
    out.set_item("volume", floats(m.volume))?;
    out.set_item("funding_time", ints(m.funding_time))?;
    out.set_item("funding_rate", floats(m.funding_rate))?;
    Ok(out)
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(synthetic_market, m)?)?;
    Ok(())
}
