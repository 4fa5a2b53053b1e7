//! `PolicyEngine`, `BacktestSpec`, `backtest` and `sweep`: binding of
//! `gridhedge_core::policy::PolicyEngine` and `gridhedge_core::backtest`.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gridhedge_core::backtest::{self as core_bt, BacktestConfig, Metrics, Record, Series};
use gridhedge_core::fills::FillParams;
use gridhedge_core::policy::PolicyEngine;
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rust_decimal::Decimal;

use crate::convert;
use crate::errors::{run, to_pyerr};
use crate::money::PyMarket;
use crate::policy::{decision_to_py, PyDecision, PyPolicyConfig};

/// The policy with incrementally updated statistics: feed it the candle window at each
/// decision (only bars newer than the last one seen are ingested). The bot and the backtester
/// both decide through one, so their decisions agree exactly.
#[pyclass(name = "PolicyEngine", module = "gridhedge")]
pub struct PyPolicyEngine {
    inner: PolicyEngine,
}

fn i64_vec(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    let a = convert::i64_array(field, obj)?;
    Ok(a.as_array().iter().copied().collect())
}

#[pymethods]
impl PyPolicyEngine {
    #[new]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        market: &Bound<'_, PyAny>,
        history_bars: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let history_bars = convert::count("history_bars", history_bars)?;
        let cfg = convert::instance::<PyPolicyConfig>("config", "PolicyConfig", config)?;
        let m = convert::instance::<PyMarket>("market", "Market", market)?;
        let inner = PolicyEngine::new(cfg.get().inner.clone(), m.get().inner.clone(), history_bars)
            .map_err(|e| to_pyerr(py, e))?;
        Ok(PyPolicyEngine { inner })
    }

    /// Replace the policy configuration (statistics carry over unless the estimator or the
    /// support/resistance switch changed).
    fn set_config(&mut self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<()> {
        let cfg = convert::instance::<PyPolicyConfig>("config", "PolicyConfig", config)?;
        self.inner
            .set_config(cfg.get().inner.clone())
            .map_err(|e| to_pyerr(py, e))
    }

    /// Candles in the engine's window.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Ingest the window's new bars and decide (see `gridhedge._core.decide` for the book and
    /// state arguments). `timestamp` is the candles' open times (int64 ms).
    #[pyo3(signature = (price, timestamp, open, high, low, close, volume, funding_rate, spot_amount, futures_lots, equity, high_water_mark, center_ticks = None, ref_short_lots = None, halted = None, state = None))]
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        py: Python<'_>,
        price: &Bound<'_, PyAny>,
        timestamp: &Bound<'_, PyAny>,
        open: &Bound<'_, PyAny>,
        high: &Bound<'_, PyAny>,
        low: &Bound<'_, PyAny>,
        close: &Bound<'_, PyAny>,
        volume: &Bound<'_, PyAny>,
        funding_rate: &Bound<'_, PyAny>,
        spot_amount: &Bound<'_, PyAny>,
        futures_lots: &Bound<'_, PyAny>,
        equity: &Bound<'_, PyAny>,
        high_water_mark: &Bound<'_, PyAny>,
        center_ticks: Option<&Bound<'_, PyAny>>,
        ref_short_lots: Option<&Bound<'_, PyAny>>,
        halted: Option<&Bound<'_, PyAny>>,
        state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDecision> {
        let ts = i64_vec("timestamp", timestamp)?;
        args!(py, slice open, high, low, close, volume);
        args!(float price, funding_rate);
        let (book, state) = crate::policy::book_and_state(
            spot_amount,
            futures_lots,
            equity,
            high_water_mark,
            center_ticks,
            ref_short_lots,
            halted,
            state,
        )?;
        let engine = &mut self.inner;
        let d = run(py, || {
            engine.sync(&ts, open, high, low, close, volume)?;
            engine.decide(price, funding_rate, &book, &state, true)
        })?;
        decision_to_py(py, self.inner.market(), d)
    }
}

/// One backtest's settings: the policy, the fill model, the cadence and the book.
#[pyclass(name = "BacktestSpec", module = "gridhedge", frozen)]
#[derive(Clone)]
pub struct PyBacktestSpec {
    pub(crate) inner: BacktestConfig,
}

fn decimal(py: Python<'_>, field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    let text = convert::decimal_text(field, obj)?;
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| crate::errors::invalid(py, field, text, "must be a finite decimal"))
}

#[pymethods]
impl PyBacktestSpec {
    #[new]
    #[pyo3(signature = (policy, *, history_bars, cadence, start, spot_amount, cash, maker_fee, taker_fee, participation, max_active_orders, bot_id, symbol, plain_grid = None, baseline_rebalance_bars = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        policy: &Bound<'_, PyAny>,
        history_bars: &Bound<'_, PyAny>,
        cadence: &Bound<'_, PyAny>,
        start: &Bound<'_, PyAny>,
        spot_amount: &Bound<'_, PyAny>,
        cash: &Bound<'_, PyAny>,
        maker_fee: &Bound<'_, PyAny>,
        taker_fee: &Bound<'_, PyAny>,
        participation: &Bound<'_, PyAny>,
        max_active_orders: &Bound<'_, PyAny>,
        bot_id: &Bound<'_, PyAny>,
        symbol: &Bound<'_, PyAny>,
        plain_grid: Option<&Bound<'_, PyAny>>,
        baseline_rebalance_bars: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        optional!(count baseline_rebalance_bars = 0);
        optional!(boolean plain_grid = false);
        args!(count history_bars, cadence, start, max_active_orders);
        args!(text bot_id, symbol);
        let cfg = convert::instance::<PyPolicyConfig>("policy", "PolicyConfig", policy)?;
        args!(float participation, maker_fee, taker_fee);
        let fill =
            FillParams::new(participation, maker_fee, taker_fee).map_err(|e| to_pyerr(py, e))?;
        Ok(PyBacktestSpec {
            inner: BacktestConfig {
                policy: cfg.get().inner.clone(),
                fill,
                history_bars,
                cadence,
                start,
                spot_amount: decimal(py, "spot_amount", spot_amount)?,
                cash: decimal(py, "cash", cash)?,
                max_active_orders,
                bot_id,
                symbol,
                plain_grid,
                baseline_rebalance_bars,
            },
        })
    }

    #[getter]
    fn cadence(&self) -> usize {
        self.inner.cadence
    }

    #[getter]
    fn start(&self) -> usize {
        self.inner.start
    }

    /// The spot inventory (base units) as an exact decimal string.
    #[getter]
    fn spot_amount(&self) -> String {
        self.inner.spot_amount.to_string()
    }

    /// The bot id its client order ids are scoped to.
    #[getter]
    fn bot_id(&self) -> String {
        self.inner.bot_id.clone()
    }

    #[getter]
    fn symbol(&self) -> String {
        self.inner.symbol.clone()
    }

    #[getter]
    fn plain_grid(&self) -> bool {
        self.inner.plain_grid
    }

    /// The plain grid's level prices in ticks and its order size in lots, for the run's
    /// starting close (see `plain_grid`).
    fn plain_levels(
        &self,
        py: Python<'_>,
        market: &Bound<'_, PyAny>,
        close: f64,
    ) -> PyResult<(Vec<i64>, i64)> {
        let m = convert::instance::<PyMarket>("market", "Market", market)?;
        core_bt::plain_levels(&self.inner, &m.get().inner, close).map_err(|e| to_pyerr(py, e))
    }
}

/// Borrowed candle and funding arrays.
pub(crate) struct Arrays<'py> {
    ts: numpy::PyReadonlyArrayDyn<'py, i64>,
    ohlcv: [PyReadonlyArray1<'py, f64>; 5],
    ft: numpy::PyReadonlyArrayDyn<'py, i64>,
    fr: PyReadonlyArray1<'py, f64>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn arrays<'py>(
    timestamp: &Bound<'py, PyAny>,
    open: &Bound<'py, PyAny>,
    high: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    close: &Bound<'py, PyAny>,
    volume: &Bound<'py, PyAny>,
    funding_time: &Bound<'py, PyAny>,
    funding_rate: &Bound<'py, PyAny>,
) -> PyResult<Arrays<'py>> {
    Ok(Arrays {
        ts: convert::i64_array("timestamp", timestamp)?,
        ohlcv: [
            convert::f64_array("open", open)?,
            convert::f64_array("high", high)?,
            convert::f64_array("low", low)?,
            convert::f64_array("close", close)?,
            convert::f64_array("volume", volume)?,
        ],
        ft: convert::i64_array("funding_time", funding_time)?,
        fr: convert::f64_array("funding_rate", funding_rate)?,
    })
}

impl Arrays<'_> {
    pub(crate) fn series(&self, py: Python<'_>) -> PyResult<Series<'_>> {
        fn flat<'a>(
            py: Python<'_>,
            field: &str,
            a: &'a numpy::PyReadonlyArrayDyn<'_, i64>,
        ) -> PyResult<&'a [i64]> {
            a.as_slice().map_err(|_| {
                crate::errors::invalid(py, field, "a non-contiguous array", "must be contiguous")
            })
        }
        Ok(Series {
            timestamp: flat(py, "timestamp", &self.ts)?,
            open: convert::slice(py, "open", &self.ohlcv[0])?,
            high: convert::slice(py, "high", &self.ohlcv[1])?,
            low: convert::slice(py, "low", &self.ohlcv[2])?,
            close: convert::slice(py, "close", &self.ohlcv[3])?,
            volume: convert::slice(py, "volume", &self.ohlcv[4])?,
            funding_time: flat(py, "funding_time", &self.ft)?,
            funding_rate: convert::slice(py, "funding_rate", &self.fr)?,
        })
    }
}

fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in metric_fields(m) {
        d.set_item(k, v)?;
    }
    for (k, v) in count_fields(m) {
        d.set_item(k, v)?;
    }
    d.set_item("halted", m.halted)?;
    d.set_item("halt_bar", m.halt_bar)?;
    Ok(d)
}

fn metric_fields(m: &Metrics) -> [(&'static str, f64); 38] {
    [
        ("initial_equity", m.initial_equity),
        ("final_equity", m.final_equity),
        ("total_return", m.total_return),
        ("annual_return", m.annual_return),
        ("sharpe", m.sharpe),
        ("sortino", m.sortino),
        ("max_drawdown", m.max_drawdown),
        ("calmar", m.calmar),
        ("hedge_effectiveness", m.hedge_effectiveness),
        ("funding_pnl", m.funding_pnl),
        ("fees", m.fees),
        ("realized_pnl", m.realized_pnl),
        ("traded_notional", m.traded_notional),
        ("mean_hedge_ratio", m.mean_hedge_ratio),
        ("kupiec_lr", m.kupiec_lr),
        ("kupiec_p_value", m.kupiec_p_value),
        (
            "var_exception_rate",
            if m.var_observations > 0 {
                m.var_exceptions as f64 / m.var_observations as f64
            } else {
                f64::NAN
            },
        ),
        ("pnl", m.pnl),
        ("min_equity", m.min_equity),
        ("bar_seconds", m.bar_ms as f64 / 1000.0),
        ("pnl_spot", m.pnl_spot),
        ("pnl_grid", m.pnl_grid),
        ("pnl_drift", m.pnl_drift),
        ("pnl_fees", m.pnl_fees),
        ("pnl_funding", m.pnl_funding),
        ("unhedged_pnl", m.unhedged_pnl),
        ("static_pnl", m.static_pnl),
        ("static_fees", m.static_fees),
        ("static_funding", m.static_funding),
        ("excess_pnl", m.excess_pnl),
        ("kupiec_p_95", m.kupiec_p_95),
        ("christoffersen_p_95", m.christoffersen_p_95),
        ("conditional_coverage_p_95", m.conditional_coverage_p_95),
        ("kupiec_p_99", m.kupiec_p_99),
        ("christoffersen_p_99", m.christoffersen_p_99),
        ("conditional_coverage_p_99", m.conditional_coverage_p_99),
        (
            "var95_exception_rate",
            ratio(m.var95_exceptions, m.bars.saturating_sub(1)),
        ),
        (
            "var99_exception_rate",
            ratio(m.var99_exceptions, m.bars.saturating_sub(1)),
        ),
    ]
}

fn ratio(a: usize, b: usize) -> f64 {
    if b > 0 {
        a as f64 / b as f64
    } else {
        f64::NAN
    }
}

fn count_fields(m: &Metrics) -> [(&'static str, usize); 12] {
    [
        ("bars", m.bars),
        ("decisions", m.decisions),
        ("decisions_kept", m.decisions_kept),
        ("orders_placed", m.orders_placed),
        ("orders_cancelled", m.orders_cancelled),
        ("fills", m.fills),
        ("var_observations", m.var_observations),
        ("var_exceptions", m.var_exceptions),
        ("gaps", m.gaps),
        ("missing_bars", m.missing_bars),
        ("var95_exceptions", m.var95_exceptions),
        ("var99_exceptions", m.var99_exceptions),
    ]
}

/// Run one backtest (GIL released). Returns a dict: `metrics` (dict), `events` / `orders` /
/// `fills` (dicts of columns; prices and amounts as exact decimal strings, ticks and lots as
/// ints) and `series` (dict of float64 arrays over bars `first_bar..n`).
#[pyfunction]
#[pyo3(signature = (spec, market, timestamp, open, high, low, close, volume, funding_time, funding_rate, *, record_events = None, record_series = None))]
#[allow(clippy::too_many_arguments)]
pub fn backtest<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyAny>,
    market: &Bound<'py, PyAny>,
    timestamp: &Bound<'py, PyAny>,
    open: &Bound<'py, PyAny>,
    high: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    close: &Bound<'py, PyAny>,
    volume: &Bound<'py, PyAny>,
    funding_time: &Bound<'py, PyAny>,
    funding_rate: &Bound<'py, PyAny>,
    record_events: Option<&Bound<'py, PyAny>>,
    record_series: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    optional!(boolean record_events = true, record_series = true);
    let spec = convert::instance::<PyBacktestSpec>("spec", "BacktestSpec", spec)?;
    let m = convert::instance::<PyMarket>("market", "Market", market)?;
    let a = arrays(
        timestamp,
        open,
        high,
        low,
        close,
        volume,
        funding_time,
        funding_rate,
    )?;
    let data = a.series(py)?;
    let (cfg, mk) = (&spec.get().inner, &m.get().inner);
    let record = Record {
        events: record_events,
        series: record_series,
    };
    let r = run(py, || core_bt::run(cfg, mk, &data, record))?;
    result_dict(py, mk, r)
}

/// A run's result as the dict `backtest` returns: numbers only, one numpy array per column,
/// handed over without a copy (no Python object per order, fill or bar). `orders`: `role`
/// (uint8 `g`/`r`/`x`), `side` (uint8 `s`/`b`), `level` (int32), `sequence` (uint64), `kind`
/// (uint8 index into `kinds`), `price_ticks`, `amount_lots`, `filled_lots`, `placed_bar`,
/// `cancelled_bar` (int64, -1: never cancelled); `fills`: `bar`, `order` (the order's row, or
/// the plain grid's level index), `side` (uint8), `price_ticks`, `lots` (int64), `price`,
/// `amount`, `fee` (float64), `maker` (bool); `series`: float64 arrays over bars
/// `first_bar..n`. The event log is derived from `orders` and `fills` (see
/// `gridhedge.backtest.engine`).
pub(crate) fn result_dict<'py>(
    py: Python<'py>,
    mk: &gridhedge_core::money::Market,
    r: core_bt::BacktestResult,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("metrics", metrics_dict(py, &r.metrics)?)?;
    out.set_item("first_bar", r.first_bar)?;
    out.set_item(
        "kinds",
        PyList::new(py, core_bt::KIND_CODES.iter().map(|k| k.as_str()))?,
    )?;
    let o = r.orders;
    let orders = PyDict::new(py);
    orders.set_item("role", o.role.into_pyarray(py))?;
    orders.set_item("side", o.side.into_pyarray(py))?;
    orders.set_item("level", o.level.into_pyarray(py))?;
    orders.set_item("sequence", o.sequence.into_pyarray(py))?;
    orders.set_item("kind", o.kind.into_pyarray(py))?;
    orders.set_item("price_ticks", o.price_ticks.into_pyarray(py))?;
    orders.set_item("amount_lots", o.amount_lots.into_pyarray(py))?;
    orders.set_item("filled_lots", o.filled_lots.into_pyarray(py))?;
    orders.set_item("placed_bar", o.placed_bar.into_pyarray(py))?;
    orders.set_item("cancelled_bar", o.cancelled_bar.into_pyarray(py))?;
    out.set_item("orders", orders)?;
    let f = &r.fills;
    let fills = PyDict::new(py);
    let col_i64 = |g: &dyn Fn(&core_bt::FillRow) -> i64| f.iter().map(g).collect::<Vec<i64>>();
    let col_f64 = |g: &dyn Fn(&core_bt::FillRow) -> f64| f.iter().map(g).collect::<Vec<f64>>();
    fills.set_item("bar", col_i64(&|x| x.bar as i64).into_pyarray(py))?;
    fills.set_item("order", col_i64(&|x| x.order as i64).into_pyarray(py))?;
    fills.set_item(
        "side",
        f.iter()
            .map(|x| match x.side {
                gridhedge_core::Side::Sell => b's',
                gridhedge_core::Side::Buy => b'b',
            })
            .collect::<Vec<u8>>()
            .into_pyarray(py),
    )?;
    fills.set_item("price_ticks", col_i64(&|x| x.price_ticks).into_pyarray(py))?;
    fills.set_item("lots", col_i64(&|x| x.lots).into_pyarray(py))?;
    fills.set_item(
        "price",
        col_f64(&|x| mk.ticks_to_f64(x.price_ticks)).into_pyarray(py),
    )?;
    fills.set_item(
        "amount",
        col_f64(&|x| mk.lots_to_f64(x.lots)).into_pyarray(py),
    )?;
    fills.set_item("fee", col_f64(&|x| x.fee).into_pyarray(py))?;
    fills.set_item(
        "maker",
        f.iter()
            .map(|x| x.maker)
            .collect::<Vec<bool>>()
            .into_pyarray(py),
    )?;
    out.set_item("fills", fills)?;
    let series = PyDict::new(py);
    series.set_item("equity", r.equity.into_pyarray(py))?;
    series.set_item("hedge_ratio", r.hedge_ratio.into_pyarray(py))?;
    series.set_item("position", r.position.into_pyarray(py))?;
    series.set_item("var_forecast", r.var_forecast.into_pyarray(py))?;
    series.set_item("center", r.center.into_pyarray(py))?;
    series.set_item("funding", r.funding.into_pyarray(py))?;
    series.set_item("var95", r.var95.into_pyarray(py))?;
    series.set_item("var99", r.var99.into_pyarray(py))?;
    series.set_item("static_equity", r.static_equity.into_pyarray(py))?;
    series.set_item("unhedged_equity", r.unhedged_equity.into_pyarray(py))?;
    out.set_item("series", series)?;
    Ok(out)
}

/// Run every spec over the same data on `threads` rayon threads (0: all cores), metrics only,
/// the GIL released. `progress(done, total)` is called from the calling thread about every
/// 0.1 s. Returns a dict of metric columns (float64 / int64 arrays, in spec order) and an
/// `error` list (None, or the message of a run that failed). With `bootstrap_resamples`
/// (>= 100) each row also gets the excess over the static hedge's moving-block-bootstrap 95%
/// interval and t-statistic (`excess_ci_low`, `excess_ci_high`, `excess_t`; NaN for a failed
/// or too short run), as `backtest` with the same `seed` gives them. `share_statistics`
/// (default True) computes the market statistics once per decision for the specs that share
/// their statistics settings; False runs every spec on its own (the benches' baseline; the
/// same results).
#[pyfunction]
#[pyo3(signature = (specs, market, timestamp, open, high, low, close, volume, funding_time, funding_rate, *, threads = None, progress = None, bootstrap_resamples = None, seed = None, share_statistics = None))]
#[allow(clippy::too_many_arguments)]
pub fn sweep<'py>(
    py: Python<'py>,
    specs: &Bound<'py, PyAny>,
    market: &Bound<'py, PyAny>,
    timestamp: &Bound<'py, PyAny>,
    open: &Bound<'py, PyAny>,
    high: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    close: &Bound<'py, PyAny>,
    volume: &Bound<'py, PyAny>,
    funding_time: &Bound<'py, PyAny>,
    funding_rate: &Bound<'py, PyAny>,
    threads: Option<&Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
    bootstrap_resamples: Option<&Bound<'py, PyAny>>,
    seed: Option<&Bound<'py, PyAny>>,
    share_statistics: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    optional!(count threads = 0);
    optional!(boolean share_statistics = true);
    let statistics = if share_statistics {
        core_bt::Statistics::Shared
    } else {
        core_bt::Statistics::PerConfig
    };
    let bootstrap = match bootstrap_resamples {
        Some(v) if !v.is_none() => {
            let n = convert::count("bootstrap_resamples", v)?;
            if n < 100 {
                return Err(crate::errors::invalid(
                    py,
                    "bootstrap_resamples",
                    n,
                    "must be >= 100",
                ));
            }
            optional!(count seed = 0);
            Some((n, seed as u64))
        }
        _ => None,
    };
    let items: Vec<Bound<'py, PyAny>> = specs.extract().map_err(|_| {
        crate::errors::invalid(py, "specs", "not a list", "must be a list of BacktestSpec")
    })?;
    let specs = items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            convert::instance::<PyBacktestSpec>(&format!("specs[{i}]"), "BacktestSpec", s)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let m = convert::instance::<PyMarket>("market", "Market", market)?;
    let a = arrays(
        timestamp,
        open,
        high,
        low,
        close,
        volume,
        funding_time,
        funding_rate,
    )?;
    let data = a.series(py)?;
    let configs: Vec<BacktestConfig> = specs.iter().map(|s| s.borrow().inner.clone()).collect();
    drop(specs);
    let mk = &m.get().inner;
    let total = configs.len();
    let done = AtomicUsize::new(0);
    let mut callback_error: Option<PyErr> = None;
    let results = {
        let (configs, data, done) = (&configs, &data, &done);
        let progress = progress.as_ref();
        let callback_error = &mut callback_error;
        run(py, move || {
            if progress.is_none() {
                // nothing to report: run on this thread, no polling
                return core_bt::sweep_with(
                    configs, mk, data, threads, done, bootstrap, statistics,
                );
            }
            std::thread::scope(|s| {
                let caller = std::thread::current();
                let worker = s.spawn(move || {
                    let r = core_bt::sweep_with(
                        configs, mk, data, threads, done, bootstrap, statistics,
                    );
                    caller.unpark(); // wake the reporting loop now, not at its next tick
                    r
                });
                let mut last = usize::MAX;
                let mut report = |now: usize| {
                    if let (Some(cb), None) = (progress, callback_error.as_ref()) {
                        if now != last {
                            last = now;
                            if let Err(e) =
                                Python::attach(|py| cb.call1(py, (now, total)).map(drop))
                            {
                                *callback_error = Some(e);
                            }
                        }
                    }
                };
                while !worker.is_finished() {
                    std::thread::park_timeout(Duration::from_millis(100));
                    report(done.load(Ordering::Relaxed));
                }
                report(total);
                worker.join().unwrap_or_else(|_| {
                    Err(gridhedge_core::Error::numerical(
                        "sweep",
                        "a worker thread panicked",
                    ))
                })
            })
        })?
    };
    if let Some(e) = callback_error {
        return Err(e);
    }
    let out = PyDict::new(py);
    let ok: Vec<Metrics> = results
        .iter()
        .map(|r| r.as_ref().map_or(Metrics::default(), |(m, _)| *m))
        .collect();
    if bootstrap.is_some() {
        type Field = fn(&core_bt::baseline::Excess) -> f64;
        let fields: [(&str, Field); 3] = [
            ("excess_ci_low", |e| e.ci_low),
            ("excess_ci_high", |e| e.ci_high),
            ("excess_t", |e| e.t_stat),
        ];
        for (k, get) in fields {
            let col: Vec<f64> = results
                .iter()
                .map(|r| match r {
                    Ok((_, Some(e))) => get(e),
                    _ => f64::NAN,
                })
                .collect();
            out.set_item(k, col.into_pyarray(py))?;
        }
    }
    let zero = Metrics::default();
    for (i, (k, _)) in metric_fields(&zero).iter().enumerate() {
        let col: Vec<f64> = results
            .iter()
            .zip(&ok)
            .map(|(r, m)| {
                if r.is_ok() {
                    metric_fields(m)[i].1
                } else {
                    f64::NAN
                }
            })
            .collect();
        out.set_item(*k, col.into_pyarray(py))?;
    }
    for (i, (k, _)) in count_fields(&zero).iter().enumerate() {
        let col: Vec<i64> = ok.iter().map(|m| count_fields(m)[i].1 as i64).collect();
        out.set_item(*k, col.into_pyarray(py))?;
    }
    out.set_item("halted", PyList::new(py, ok.iter().map(|m| m.halted))?)?;
    out.set_item(
        "error",
        PyList::new(
            py,
            results
                .iter()
                .map(|r| r.as_ref().err().map(|e| e.to_string())),
        )?,
    )?;
    Ok(out)
}

/// The excess of the `grid` equity curve over `baseline` (same bars) with a moving-block
/// bootstrap of its total (`block` bars, 0: round(m^(1/3)); `resamples`; `seed`). Returns a
/// dict: total, ci_low, ci_high (2.5% / 97.5%), t_stat (NaN when undefined), block, resamples.
#[pyfunction]
#[pyo3(signature = (grid, baseline, *, block = None, resamples = None, seed = None))]
pub fn excess_bootstrap<'py>(
    py: Python<'py>,
    grid: &Bound<'py, PyAny>,
    baseline: &Bound<'py, PyAny>,
    block: Option<&Bound<'py, PyAny>>,
    resamples: Option<&Bound<'py, PyAny>>,
    seed: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    optional!(count block = 0, resamples = 2000, seed = 0);
    args!(py, slice grid, baseline);
    let e = run(py, || {
        core_bt::baseline::excess_bootstrap(grid, baseline, block, resamples, seed as u64)
    })?;
    let out = PyDict::new(py);
    out.set_item("total", e.total)?;
    out.set_item("ci_low", e.ci_low)?;
    out.set_item("ci_high", e.ci_high)?;
    out.set_item("t_stat", e.t_stat)?;
    out.set_item("block", e.block)?;
    out.set_item("resamples", e.resamples)?;
    Ok(out)
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(excess_bootstrap, m)?)?;
    m.add_class::<PyPolicyEngine>()?;
    m.add_class::<PyBacktestSpec>()?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    Ok(())
}
