//! `gridhedge._core.PolicyConfig`, `decide` and `Decision`: binding of `gridhedge_core::policy`.

use std::str::FromStr;

use gridhedge_core::grid::GridMode;
use gridhedge_core::policy::{
    self, Book, Candles, DesiredOrder, PolicyConfig, PolicyState, Snapshot, VarMethod, VolEstimator,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert;
use crate::errors::{run, to_pyerr};
use crate::money::PyMarket;
use crate::orders::key_code;

/// The policy's configuration, built once from `GridHedgeConfig` (see `gridhedge.grid.policy`).
#[pyclass(name = "PolicyConfig", module = "gridhedge", frozen)]
#[derive(Clone)]
pub struct PyPolicyConfig {
    pub inner: PolicyConfig,
}

#[pymethods]
impl PyPolicyConfig {
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let empty = PyDict::new(py);
        let kw = kwargs.unwrap_or(&empty);
        let known = [
            "grid_spacing_pct",
            "num_levels",
            "min_price_distance",
            "grid_mode",
            "dynamic_spacing",
            "volatility_multiplier",
            "volatility_estimator",
            "spacing_horizon_bars",
            "recenter_threshold_pct",
            "support_resistance",
            "sr_tolerance_pct",
            "max_position_size",
            "max_drawdown",
            "stop_loss_pct",
            "var_limit",
            "var_confidence",
            "var_horizon_bars",
            "var_shrink_ratio",
            "var_method",
            "var_window_bars",
            "sizing_vol_target_pct",
            "sizing_var_share",
            "stop_scale_min",
            "stop_scale_max",
            "max_volume_share",
            "max_active_orders",
            "hedge_ratio",
            "hedge_ratio_min",
            "hedge_ratio_max",
            "funding_tilt",
            "funding_sensitivity",
            "halt_hedge_ratio",
            "halt_cooldown",
            "stop_cooldown",
            "stop_refresh_tolerance",
            "grid_refresh_tolerance",
            "review_hedge_ratio",
            "trend_guard_bars",
            "trend_guard_pct",
            "requote_tolerance",
            "requote_max_skips",
        ];
        for key in kw.keys() {
            let k = key.extract::<String>()?;
            if !known.contains(&k.as_str()) {
                return Err(crate::errors::invalid(
                    py,
                    &k,
                    "given",
                    "is not a policy setting",
                ));
            }
        }
        let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            kw.get_item(k)?
                .ok_or_else(|| crate::errors::invalid(py, k, "missing", "is required"))
        };
        let f = |k: &str| -> PyResult<f64> { convert::float(k, &get(k)?) };
        let n = |k: &str| -> PyResult<usize> { convert::count(k, &get(k)?) };
        let b = |k: &str| -> PyResult<bool> {
            get(k)?
                .extract::<bool>()
                .map_err(|_| crate::errors::invalid(py, k, "not a bool", "must be True or False"))
        };
        let text = |k: &str| -> PyResult<String> { convert::text(k, &get(k)?) };
        // the risk controls' settings are optional (defaults: full-hedge halt, no halt
        // cooldown, a 24-decision stop cooldown)
        let opt_f = |k: &str, default: f64| -> PyResult<f64> {
            kw.get_item(k)?
                .map_or(Ok(default), |v| convert::float(k, &v))
        };
        let opt_u32 = |k: &str, default: u32| -> PyResult<u32> {
            kw.get_item(k)?.map_or(Ok(default), |v| {
                let n = convert::count(k, &v)?;
                u32::try_from(n)
                    .map_err(|_| crate::errors::invalid(py, k, n, "must be at most 4294967295"))
            })
        };
        let inner = PolicyConfig {
            grid_spacing_pct: f("grid_spacing_pct")?,
            num_levels: n("num_levels")?,
            min_price_distance: f("min_price_distance")?,
            grid_mode: GridMode::from_str(&text("grid_mode")?).map_err(|e| to_pyerr(py, e))?,
            dynamic_spacing: b("dynamic_spacing")?,
            volatility_multiplier: f("volatility_multiplier")?,
            volatility_estimator: VolEstimator::from_str(&text("volatility_estimator")?)
                .map_err(|e| to_pyerr(py, e))?,
            spacing_horizon_bars: n("spacing_horizon_bars")?,
            recenter_threshold_pct: f("recenter_threshold_pct")?,
            support_resistance: b("support_resistance")?,
            sr_tolerance_pct: f("sr_tolerance_pct")?,
            max_position_size: f("max_position_size")?,
            max_drawdown: f("max_drawdown")?,
            stop_loss_pct: f("stop_loss_pct")?,
            var_limit: f("var_limit")?,
            var_confidence: f("var_confidence")?,
            var_horizon_bars: n("var_horizon_bars")?,
            var_shrink_ratio: f("var_shrink_ratio")?,
            var_method: match kw.get_item("var_method")? {
                Some(v) => VarMethod::from_str(&convert::text("var_method", &v)?)
                    .map_err(|e| to_pyerr(py, e))?,
                None => VarMethod::Fhs,
            },
            sizing_vol_target_pct: opt_f("sizing_vol_target_pct", 0.0)?,
            sizing_var_share: opt_f("sizing_var_share", 0.0)?,
            var_window_bars: match kw.get_item("var_window_bars")? {
                Some(v) => convert::count("var_window_bars", &v)?,
                None => 2000,
            },
            stop_scale_min: f("stop_scale_min")?,
            stop_scale_max: f("stop_scale_max")?,
            stop_refresh_tolerance: opt_f("stop_refresh_tolerance", 0.0)?,
            grid_refresh_tolerance: opt_f("grid_refresh_tolerance", 0.0)?,
            max_volume_share: f("max_volume_share")?,
            max_active_orders: n("max_active_orders")?,
            hedge_ratio: f("hedge_ratio")?,
            hedge_ratio_min: f("hedge_ratio_min")?,
            hedge_ratio_max: f("hedge_ratio_max")?,
            funding_tilt: b("funding_tilt")?,
            funding_sensitivity: f("funding_sensitivity")?,
            halt_hedge_ratio: opt_f("halt_hedge_ratio", 1.0)?,
            halt_cooldown: opt_u32("halt_cooldown", 0)?,
            stop_cooldown: opt_u32("stop_cooldown", 24)?,
            review_hedge_ratio: match kw.get_item("review_hedge_ratio")? {
                Some(v) if !v.is_none() => Some(convert::float("review_hedge_ratio", &v)?),
                _ => None,
            },
            // the trend guard is optional (default: off)
            trend_guard_bars: match kw.get_item("trend_guard_bars")? {
                Some(v) => convert::count("trend_guard_bars", &v)?,
                None => 0,
            },
            trend_guard_pct: opt_f("trend_guard_pct", 0.02)?,
            // the requote gate is optional (default: off)
            requote_tolerance: opt_f("requote_tolerance", 0.0)?,
            requote_max_skips: opt_u32("requote_max_skips", 60)?,
        };
        run(py, || inner.validate())?;
        Ok(PyPolicyConfig { inner })
    }

    #[getter]
    fn max_active_orders(&self) -> usize {
        self.inner.max_active_orders
    }
}

/// One order the decision wants: role, side, rung, kind, exact price (None for market) and amount.
#[pyclass(name = "DesiredOrder", module = "gridhedge", frozen, get_all)]
pub struct PyDesiredOrder {
    role: &'static str,
    side: &'static str,
    level: i32,
    kind: &'static str,
    price_ticks: i64,
    amount_lots: i64,
    price: Option<Py<PyAny>>,
    amount: Py<PyAny>,
    key: String,
    /// `(key, kind, price_ticks, amount_lots)`: the order as the diff reads it.
    row: Py<PyTuple>,
}

#[pymethods]
impl PyDesiredOrder {
    fn __repr__(&self, py: Python<'_>) -> String {
        let price = self.price.as_ref().map_or("market".to_string(), |p| {
            format!("Decimal('{}')", p.bind(py))
        });
        format!(
            "DesiredOrder(key='{}', kind='{}', side='{}', price={}, amount=Decimal('{}'))",
            self.key,
            self.kind,
            self.side,
            price,
            self.amount.bind(py)
        )
    }
}

pub fn desired_to_py(
    py: Python<'_>,
    market: &gridhedge_core::Market,
    o: &DesiredOrder,
) -> PyResult<PyDesiredOrder> {
    let price = if o.price_ticks > 0 {
        Some(convert::to_decimal(py, market.ticks_to_price(o.price_ticks))?.unbind())
    } else {
        None
    };
    Ok(PyDesiredOrder {
        role: o.role.as_str(),
        side: o.side.as_str(),
        level: o.level,
        kind: o.kind.as_str(),
        price_ticks: o.price_ticks,
        amount_lots: o.amount_lots,
        price,
        amount: convert::to_decimal(py, market.lots_to_amount(o.amount_lots))?.unbind(),
        row: PyTuple::new(
            py,
            [
                key_code(o).into_pyobject(py)?.into_any(),
                o.kind.as_str().into_pyobject(py)?.into_any(),
                o.price_ticks.into_pyobject(py)?.into_any(),
                o.amount_lots.into_pyobject(py)?.into_any(),
            ],
        )?
        .unbind(),
        key: key_code(o),
    })
}

/// The decision: desired orders, the new policy state, whether to cancel all, figures and reasons.
#[pyclass(name = "Decision", module = "gridhedge", frozen, get_all)]
pub struct PyDecision {
    orders: Vec<Py<PyDesiredOrder>>,
    center_ticks: i64,
    ref_short_lots: i64,
    halted: bool,
    cancel_all: bool,
    /// A halt lifted by its cooldown at this decision (restart the high-water mark).
    resumed: bool,
    /// The whole policy state to pass to the next decision (`state=`), JSON-ready ints/bools.
    state: Py<PyDict>,
    metrics: Py<PyDict>,
    reasons: Vec<(String, String)>,
}

/// The book and the policy state from a decide call's arguments (shared by `decide` and
/// `PolicyEngine.decide`).
#[allow(clippy::too_many_arguments)]
pub fn book_and_state(
    spot_amount: &Bound<'_, PyAny>,
    futures_lots: &Bound<'_, PyAny>,
    equity: &Bound<'_, PyAny>,
    high_water_mark: &Bound<'_, PyAny>,
    center_ticks: Option<&Bound<'_, PyAny>>,
    ref_short_lots: Option<&Bound<'_, PyAny>>,
    halted: Option<&Bound<'_, PyAny>>,
    state: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Book, PolicyState)> {
    args!(float spot_amount, equity, high_water_mark);
    args!(int64 futures_lots);
    let book = Book {
        spot_amount,
        futures_lots,
        equity,
        high_water_mark,
    };
    let mut st = match state {
        Some(d) if !d.is_none() => state_from_py(d)?,
        _ => PolicyState::default(),
    };
    if let Some(v) = center_ticks {
        st.center_ticks = convert::int64("center_ticks", v)?;
    }
    if let Some(v) = ref_short_lots {
        st.ref_short_lots = convert::int64("ref_short_lots", v)?;
    }
    if let Some(v) = halted {
        st.halted = convert::boolean("halted", v)?;
    }
    Ok((book, st))
}

/// The policy state's fields, by name.
const STATE_KEYS: [&str; 13] = [
    "center_ticks",
    "ref_short_lots",
    "halted",
    "halt_age",
    "stop_ref_ticks",
    "sell_stop_ticks",
    "buy_stop_ticks",
    "sell_stop_lots",
    "buy_stop_lots",
    "grid_spacing_bits",
    "pause_buys",
    "pause_sells",
    "decided_bar_ms",
];

/// A policy state from a dict of its fields (missing ones 0 / False; unknown keys refused).
fn state_from_py(d: &Bound<'_, PyAny>) -> PyResult<PolicyState> {
    let py = d.py();
    let d = d.cast::<PyDict>().map_err(|_| {
        crate::errors::invalid(
            py,
            "state",
            "not a dict",
            "must be a dict of policy state fields",
        )
    })?;
    let mut st = PolicyState::default();
    for (k, v) in d.iter() {
        let k = k.extract::<String>()?;
        let u = |v: &Bound<'_, PyAny>| -> PyResult<u32> {
            let n = convert::int64(&k, v)?;
            u32::try_from(n)
                .map_err(|_| crate::errors::invalid(py, &k, n, "must be in [0, 4294967295]"))
        };
        match k.as_str() {
            "center_ticks" => st.center_ticks = convert::int64(&k, &v)?,
            "ref_short_lots" => st.ref_short_lots = convert::int64(&k, &v)?,
            "halted" => st.halted = convert::boolean(&k, &v)?,
            "halt_age" => st.halt_age = u(&v)?,
            "stop_ref_ticks" => st.stop_ref_ticks = convert::int64(&k, &v)?,
            "sell_stop_ticks" => st.sell_stop_ticks = convert::int64(&k, &v)?,
            "buy_stop_ticks" => st.buy_stop_ticks = convert::int64(&k, &v)?,
            "sell_stop_lots" => st.sell_stop_lots = convert::int64(&k, &v)?,
            "buy_stop_lots" => st.buy_stop_lots = convert::int64(&k, &v)?,
            "grid_spacing_bits" => st.grid_spacing_bits = convert::int64(&k, &v)?,
            "pause_buys" => st.pause_buys = u(&v)?,
            "pause_sells" => st.pause_sells = u(&v)?,
            "decided_bar_ms" => st.decided_bar_ms = convert::int64(&k, &v)?,
            _ => {
                return Err(crate::errors::invalid(
                    py,
                    &format!("state.{k}"),
                    "given",
                    &format!(
                        "is not a policy state field (one of {})",
                        STATE_KEYS.join(", ")
                    ),
                ))
            }
        }
    }
    Ok(st)
}

/// A policy state as a dict of its fields.
fn state_to_py<'py>(py: Python<'py>, st: &PolicyState) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("center_ticks", st.center_ticks)?;
    d.set_item("ref_short_lots", st.ref_short_lots)?;
    d.set_item("halted", st.halted)?;
    d.set_item("halt_age", st.halt_age)?;
    d.set_item("stop_ref_ticks", st.stop_ref_ticks)?;
    d.set_item("sell_stop_ticks", st.sell_stop_ticks)?;
    d.set_item("buy_stop_ticks", st.buy_stop_ticks)?;
    d.set_item("sell_stop_lots", st.sell_stop_lots)?;
    d.set_item("buy_stop_lots", st.buy_stop_lots)?;
    d.set_item("grid_spacing_bits", st.grid_spacing_bits)?;
    d.set_item("pause_buys", st.pause_buys)?;
    d.set_item("pause_sells", st.pause_sells)?;
    d.set_item("decided_bar_ms", st.decided_bar_ms)?;
    Ok(d)
}

/// Decide which orders should exist now (see `gridhedge_core::policy`). Arrays are recent
/// candles, oldest first (zero-copy float64); `futures_lots` is signed (negative = short).
#[pyfunction]
#[pyo3(signature = (config, market, price, open, high, low, close, volume, funding_rate, spot_amount, futures_lots, equity, high_water_mark, center_ticks = None, ref_short_lots = None, halted = None, state = None))]
#[allow(clippy::too_many_arguments)]
pub fn decide(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    price: &Bound<'_, PyAny>,
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
    let cfg = convert::instance::<PyPolicyConfig>("config", "PolicyConfig", config)?;
    let m = convert::instance::<PyMarket>("market", "Market", market)?;
    args!(py, slice open, high, low, close, volume);
    args!(float price, funding_rate);
    let candles = Candles {
        open,
        high,
        low,
        close,
        volume,
    };
    let snapshot = Snapshot {
        price,
        candles,
        funding_rate,
    };
    let (book, state) = book_and_state(
        spot_amount,
        futures_lots,
        equity,
        high_water_mark,
        center_ticks,
        ref_short_lots,
        halted,
        state,
    )?;
    let (cfg_ref, market_ref) = (&cfg.get().inner, &m.get().inner);
    let d = run(py, || {
        policy::decide(cfg_ref, market_ref, &snapshot, &book, &state)
    })?;
    decision_to_py(py, market_ref, d)
}

/// The Python face of a core decision.
pub fn decision_to_py(
    py: Python<'_>,
    market_ref: &gridhedge_core::Market,
    d: policy::Decision,
) -> PyResult<PyDecision> {
    let metrics = PyDict::new(py);
    let mt = d.metrics;
    for (k, val) in [
        ("volatility", mt.volatility),
        ("long_run_volatility", mt.long_run_volatility),
        ("spacing", mt.spacing),
        ("hedge_ratio", mt.hedge_ratio),
        ("target_hedge_ratio", mt.target_hedge_ratio),
        ("var", mt.var),
        ("var_worst", mt.var_worst),
        ("var_horizon_fraction", mt.var_horizon_fraction),
        ("drawdown", mt.drawdown),
        ("stop_distance", mt.stop_distance),
    ] {
        metrics.set_item(k, val)?;
    }
    Ok(PyDecision {
        orders: d
            .orders
            .iter()
            .map(|o| Py::new(py, desired_to_py(py, market_ref, o)?))
            .collect::<PyResult<_>>()?,
        center_ticks: d.state.center_ticks,
        ref_short_lots: d.state.ref_short_lots,
        halted: d.state.halted,
        cancel_all: d.cancel_all,
        resumed: d.resumed,
        state: state_to_py(py, &d.state)?.unbind(),
        metrics: metrics.unbind(),
        reasons: d
            .reasons
            .into_iter()
            .map(|r| (r.code.to_string(), r.message))
            .collect(),
    })
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPolicyConfig>()?;
    m.add_class::<PyDesiredOrder>()?;
    m.add_class::<PyDecision>()?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    Ok(())
}
