//! Binding of `gridhedge_core::volatility`: per-bar volatility estimators, single values and
//! series. Arrays come in zero-copy (1-D C-contiguous float64) and go out as numpy arrays that
//! own the core's buffer (no copy); the GIL is released while computing.

use gridhedge_core::volatility::{self as vol, range};
use numpy::{PyArray, PyArray1};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::run;

type Out<'py> = PyResult<Bound<'py, PyArray1<f64>>>;

fn window(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    convert::count("window", obj)
}

fn lam(obj: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
    match obj {
        None => Ok(vol::EWMA_LAMBDA_DEFAULT),
        Some(o) => convert::float("lam", o),
    }
}

fn atr_window(obj: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
    match obj {
        None => Ok(range::ATR_WINDOW_DEFAULT),
        Some(o) => convert::count("window", o),
    }
}

/// Borrow named float64 arrays zero-copy, then call `$body` with their slices.
macro_rules! with_slices {
    ($py:ident, [$($name:ident),+], $body:expr) => {{
        $(let $name = convert::f64_array(stringify!($name), $name)?;)+
        $(let $name = convert::slice($py, stringify!($name), &$name)?;)+
        $body
    }};
}

/// Close-to-close volatility: sample std (ddof=1) of `returns`.
#[pyfunction]
#[pyo3(signature = (returns, nan_policy = None))]
pub fn close_to_close_vol(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let policy = convert::nan_policy(nan_policy)?;
    with_slices!(
        py,
        [returns],
        run(py, || vol::close_to_close(returns, policy))
    )
}

/// Rolling close-to-close volatility over `window` returns.
#[pyfunction]
#[pyo3(signature = (returns, window, nan_policy = None))]
pub fn close_to_close_vol_rolling<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> Out<'py> {
    let policy = convert::nan_policy(nan_policy)?;
    let w = self::window(window)?;
    let v = with_slices!(py, [returns], {
        run(py, || vol::close_to_close_rolling(returns, w, policy))?
    });
    Ok(PyArray::from_vec(py, v))
}

/// EWMA (RiskMetrics) volatility after the whole series.
#[pyfunction]
#[pyo3(signature = (returns, lam = None, nan_policy = None))]
pub fn ewma_vol(
    py: Python<'_>,
    returns: &Bound<'_, PyAny>,
    lam: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let policy = convert::nan_policy(nan_policy)?;
    let l = self::lam(lam)?;
    with_slices!(py, [returns], run(py, || vol::ewma(returns, l, policy)))
}

/// EWMA (RiskMetrics) volatility series, one value per return.
#[pyfunction]
#[pyo3(signature = (returns, lam = None, nan_policy = None))]
pub fn ewma_vol_series<'py>(
    py: Python<'py>,
    returns: &Bound<'py, PyAny>,
    lam: Option<&Bound<'py, PyAny>>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> Out<'py> {
    let policy = convert::nan_policy(nan_policy)?;
    let l = self::lam(lam)?;
    let v = with_slices!(py, [returns], {
        run(py, || vol::ewma_series(returns, l, policy))?
    });
    Ok(PyArray::from_vec(py, v))
}

/// Parkinson volatility from highs and lows.
#[pyfunction]
#[pyo3(signature = (high, low, nan_policy = None))]
pub fn parkinson_vol(
    py: Python<'_>,
    high: &Bound<'_, PyAny>,
    low: &Bound<'_, PyAny>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let policy = convert::nan_policy(nan_policy)?;
    with_slices!(
        py,
        [high, low],
        run(py, || range::parkinson(high, low, policy))
    )
}

/// Rolling Parkinson volatility over `window` candles.
#[pyfunction]
#[pyo3(signature = (high, low, window, nan_policy = None))]
pub fn parkinson_vol_rolling<'py>(
    py: Python<'py>,
    high: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    window: &Bound<'py, PyAny>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> Out<'py> {
    let policy = convert::nan_policy(nan_policy)?;
    let w = self::window(window)?;
    let v = with_slices!(py, [high, low], {
        run(py, || range::parkinson_rolling(high, low, w, policy))?
    });
    Ok(PyArray::from_vec(py, v))
}

/// Define the single-value and rolling bindings of an OHLC estimator.
macro_rules! ohlc_estimator {
    ($single:ident, $rolling:ident, $core_single:path, $core_rolling:path, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (open, high, low, close, nan_policy = None))]
        pub fn $single(
            py: Python<'_>,
            open: &Bound<'_, PyAny>,
            high: &Bound<'_, PyAny>,
            low: &Bound<'_, PyAny>,
            close: &Bound<'_, PyAny>,
            nan_policy: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<f64> {
            let policy = convert::nan_policy(nan_policy)?;
            with_slices!(py, [open, high, low, close], {
                run(py, || $core_single(open, high, low, close, policy))
            })
        }

        #[doc = $doc]
        #[doc = " Rolling over `window`."]
        #[pyfunction]
        #[pyo3(signature = (open, high, low, close, window, nan_policy = None))]
        pub fn $rolling<'py>(
            py: Python<'py>,
            open: &Bound<'py, PyAny>,
            high: &Bound<'py, PyAny>,
            low: &Bound<'py, PyAny>,
            close: &Bound<'py, PyAny>,
            window: &Bound<'py, PyAny>,
            nan_policy: Option<&Bound<'py, PyAny>>,
        ) -> Out<'py> {
            let policy = convert::nan_policy(nan_policy)?;
            let w = self::window(window)?;
            let v = with_slices!(py, [open, high, low, close], {
                run(py, || $core_rolling(open, high, low, close, w, policy))?
            });
            Ok(PyArray::from_vec(py, v))
        }
    };
}

ohlc_estimator!(
    garman_klass_vol,
    garman_klass_vol_rolling,
    range::garman_klass,
    range::garman_klass_rolling,
    "Garman-Klass volatility from OHLC candles."
);
ohlc_estimator!(
    rogers_satchell_vol,
    rogers_satchell_vol_rolling,
    range::rogers_satchell,
    range::rogers_satchell_rolling,
    "Rogers-Satchell volatility from OHLC candles."
);
ohlc_estimator!(
    yang_zhang_vol,
    yang_zhang_vol_rolling,
    range::yang_zhang,
    range::yang_zhang_rolling,
    "Yang-Zhang volatility from OHLC candles."
);

/// Wilder's ATR after the last candle (price units).
#[pyfunction]
#[pyo3(signature = (high, low, close, window = None, nan_policy = None))]
pub fn atr(
    py: Python<'_>,
    high: &Bound<'_, PyAny>,
    low: &Bound<'_, PyAny>,
    close: &Bound<'_, PyAny>,
    window: Option<&Bound<'_, PyAny>>,
    nan_policy: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let policy = convert::nan_policy(nan_policy)?;
    let w = atr_window(window)?;
    with_slices!(py, [high, low, close], {
        run(py, || range::atr(high, low, close, w, policy))
    })
}

/// Wilder's ATR series (price units).
#[pyfunction]
#[pyo3(signature = (high, low, close, window = None, nan_policy = None))]
pub fn atr_series<'py>(
    py: Python<'py>,
    high: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    close: &Bound<'py, PyAny>,
    window: Option<&Bound<'py, PyAny>>,
    nan_policy: Option<&Bound<'py, PyAny>>,
) -> Out<'py> {
    let policy = convert::nan_policy(nan_policy)?;
    let w = atr_window(window)?;
    let v = with_slices!(py, [high, low, close], {
        run(py, || range::atr_series(high, low, close, w, policy))?
    });
    Ok(PyArray::from_vec(py, v))
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(close_to_close_vol, m)?)?;
    m.add_function(wrap_pyfunction!(close_to_close_vol_rolling, m)?)?;
    m.add_function(wrap_pyfunction!(ewma_vol, m)?)?;
    m.add_function(wrap_pyfunction!(ewma_vol_series, m)?)?;
    m.add_function(wrap_pyfunction!(parkinson_vol, m)?)?;
    m.add_function(wrap_pyfunction!(parkinson_vol_rolling, m)?)?;
    m.add_function(wrap_pyfunction!(garman_klass_vol, m)?)?;
    m.add_function(wrap_pyfunction!(garman_klass_vol_rolling, m)?)?;
    m.add_function(wrap_pyfunction!(rogers_satchell_vol, m)?)?;
    m.add_function(wrap_pyfunction!(rogers_satchell_vol_rolling, m)?)?;
    m.add_function(wrap_pyfunction!(yang_zhang_vol, m)?)?;
    m.add_function(wrap_pyfunction!(yang_zhang_vol_rolling, m)?)?;
    m.add_function(wrap_pyfunction!(atr, m)?)?;
    m.add_function(wrap_pyfunction!(atr_series, m)?)?;
    Ok(())
}
