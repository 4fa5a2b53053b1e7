//! `gridhedge.grid_levels` and `gridhedge.grid_levels_batch`: binding of `gridhedge_core::grid`.

use std::str::FromStr;

use gridhedge_core::grid::{Grid, GridBatchMut, GridMode, GridParams, GridPlan, Level};
use gridhedge_core::money::Side;
use numpy::{PyArray, PyArray1, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert;
use crate::errors::{run, to_pyerr};
use crate::money::{prices_of, PyMarket};

/// One grid level: side, level number (1 = nearest the center), exact price and amount.
#[pyclass(name = "GridLevel", module = "gridhedge", frozen, get_all)]
pub struct PyGridLevel {
    side: &'static str,
    index: u32,
    price_ticks: i64,
    amount_lots: i64,
    price: Py<PyAny>,
    amount: Py<PyAny>,
    notional: Py<PyAny>,
}

#[pymethods]
impl PyGridLevel {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "GridLevel(side='{}', index={}, price=Decimal('{}'), amount=Decimal('{}'))",
            self.side,
            self.index,
            self.price.bind(py),
            self.amount.bind(py)
        )
    }
}

/// A grid around one center: buys (descending) and sells (ascending), nearest first.
#[pyclass(name = "Grid", module = "gridhedge", frozen, get_all)]
pub struct PyGrid {
    center: f64,
    market: Py<PyMarket>,
    buys: Py<PyList>,
    sells: Py<PyList>,
    merged: u32,
    dropped_nonpositive: u32,
    dropped_below_minimum: u32,
}

#[pymethods]
impl PyGrid {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Grid(center={}, buys={}, sells={}, merged={}, dropped_nonpositive={}, dropped_below_minimum={})",
            self.center,
            self.buys.bind(py).len(),
            self.sells.bind(py).len(),
            self.merged,
            self.dropped_nonpositive,
            self.dropped_below_minimum
        )
    }
}

/// Grids for many centers as `(rows, num_levels)` int64 arrays, nearest level first, padded with 0.
#[pyclass(name = "GridBatch", module = "gridhedge", frozen, get_all)]
pub struct PyGridBatch {
    market: Py<PyMarket>,
    buy_ticks: Py<PyArray2<i64>>,
    buy_lots: Py<PyArray2<i64>>,
    sell_ticks: Py<PyArray2<i64>>,
    sell_lots: Py<PyArray2<i64>>,
    buy_count: Py<PyArray1<i64>>,
    sell_count: Py<PyArray1<i64>>,
    merged: Py<PyArray1<i64>>,
    dropped: Py<PyArray1<i64>>,
}

impl PyGridBatch {
    fn prices<'py>(
        &self,
        py: Python<'py>,
        ticks: &Py<PyArray2<i64>>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let array = ticks.bind(py).readonly();
        let shape = [array.shape()[0], array.shape()[1]];
        let data = convert::slice(py, "ticks", &array)?;
        let market = self.market.get();
        let prices = run(py, || Ok(prices_of(&market.inner, data)))?;
        PyArray::from_vec(py, prices).reshape(shape)
    }
}

#[pymethods]
impl PyGridBatch {
    /// Buy prices as the nearest float64 of each exact price; NaN where a row has no level.
    fn buy_prices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.prices(py, &self.buy_ticks)
    }
    /// Sell prices as the nearest float64 of each exact price; NaN where a row has no level.
    fn sell_prices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.prices(py, &self.sell_ticks)
    }
    fn __len__(&self, py: Python<'_>) -> usize {
        PyUntypedArrayMethods::len(self.buy_count.bind(py))
    }
}

fn plan(
    py: Python<'_>,
    spacing: &Bound<'_, PyAny>,
    num_levels: &Bound<'_, PyAny>,
    market: &PyMarket,
    amount_per_level: &Bound<'_, PyAny>,
    min_price_distance: &Bound<'_, PyAny>,
    mode: &Bound<'_, PyAny>,
) -> PyResult<GridPlan> {
    args!(text mode);
    args!(float spacing, min_price_distance, amount_per_level);
    args!(count num_levels);
    let params = GridParams {
        spacing,
        num_levels,
        min_price_distance,
        mode: GridMode::from_str(&mode).map_err(|e| to_pyerr(py, e))?,
        amount_per_level,
    };
    run(py, || GridPlan::new(params, &market.inner))
}

fn level_list<'py>(
    py: Python<'py>,
    market: &PyMarket,
    side: Side,
    levels: &[Level],
) -> PyResult<Bound<'py, PyList>> {
    let m = &market.inner;
    let items = levels
        .iter()
        .map(|l| {
            let price = m.ticks_to_price(l.price_ticks);
            let amount = m.lots_to_amount(l.amount_lots);
            Py::new(
                py,
                PyGridLevel {
                    side: side.as_str(),
                    index: l.index,
                    price_ticks: l.price_ticks,
                    amount_lots: l.amount_lots,
                    price: convert::to_decimal(py, price)?.unbind(),
                    amount: convert::to_decimal(py, amount)?.unbind(),
                    notional: convert::to_decimal(py, (price * amount).normalize())?.unbind(),
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// The grid around one center price.
#[pyfunction]
#[pyo3(signature = (center, spacing, num_levels, market, amount_per_level, min_price_distance = None, mode = None))]
#[allow(clippy::too_many_arguments)]
pub fn grid_levels(
    py: Python<'_>,
    center: &Bound<'_, PyAny>,
    spacing: &Bound<'_, PyAny>,
    num_levels: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    amount_per_level: &Bound<'_, PyAny>,
    min_price_distance: Option<&Bound<'_, PyAny>>,
    mode: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrid> {
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    let geometric = "geometric".into_pyobject(py)?.into_any();
    let mode = mode.unwrap_or(&geometric);
    let zero = 0i64.into_pyobject(py)?.into_any();
    let distance = min_price_distance.unwrap_or(&zero);
    let m = market.get();
    let plan = plan(py, spacing, num_levels, m, amount_per_level, distance, mode)?;
    let center = convert::float("center", center)?;
    let grid: Grid = run(py, || plan.levels(center))?;
    Ok(PyGrid {
        center,
        buys: level_list(py, m, Side::Buy, &grid.buys)?.unbind(),
        sells: level_list(py, m, Side::Sell, &grid.sells)?.unbind(),
        merged: grid.counts.merged,
        dropped_nonpositive: grid.counts.dropped_nonpositive,
        dropped_below_minimum: grid.counts.dropped_below_minimum,
        market: market.unbind(),
    })
}

/// Grids for every center of a float64 array, in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (centers, spacing, num_levels, market, amount_per_level, min_price_distance = None, mode = None))]
#[allow(clippy::too_many_arguments)]
pub fn grid_levels_batch(
    py: Python<'_>,
    centers: &Bound<'_, PyAny>,
    spacing: &Bound<'_, PyAny>,
    num_levels: &Bound<'_, PyAny>,
    market: &Bound<'_, PyAny>,
    amount_per_level: &Bound<'_, PyAny>,
    min_price_distance: Option<&Bound<'_, PyAny>>,
    mode: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGridBatch> {
    let market = convert::instance::<PyMarket>("market", "Market", market)?;
    let geometric = "geometric".into_pyobject(py)?.into_any();
    let mode = mode.unwrap_or(&geometric);
    let zero = 0i64.into_pyobject(py)?.into_any();
    let distance = min_price_distance.unwrap_or(&zero);
    let plan = plan(
        py,
        spacing,
        num_levels,
        market.get(),
        amount_per_level,
        distance,
        mode,
    )?;
    let array = convert::f64_array("centers", centers)?;
    let data = convert::slice(py, "centers", &array)?;
    let (rows, n) = (data.len(), plan.params().num_levels);
    // numpy allocates the outputs: large arrays get transparent huge pages (fewer page faults)
    let matrix = || PyArray2::<i64>::zeros(py, [rows, n], false);
    let vector = || PyArray1::<i64>::zeros(py, rows, false);
    let (bt, bl, st, sl) = (matrix(), matrix(), matrix(), matrix());
    let (bc, sc, mg, dr) = (vector(), vector(), vector(), vector());
    {
        let mut views = [&bt, &bl, &st, &sl].map(|a| a.readwrite());
        let mut counts = [&bc, &sc, &mg, &dr].map(|a| a.readwrite());
        let [bt_w, bl_w, st_w, sl_w] = &mut views;
        let [bc_w, sc_w, mg_w, dr_w] = &mut counts;
        let out = GridBatchMut {
            buy_ticks: convert::slice_mut(py, bt_w)?,
            buy_lots: convert::slice_mut(py, bl_w)?,
            sell_ticks: convert::slice_mut(py, st_w)?,
            sell_lots: convert::slice_mut(py, sl_w)?,
            buy_count: convert::slice_mut(py, bc_w)?,
            sell_count: convert::slice_mut(py, sc_w)?,
            merged: convert::slice_mut(py, mg_w)?,
            dropped: convert::slice_mut(py, dr_w)?,
        };
        run(py, || plan.batch_into(data, out))?;
    }
    Ok(PyGridBatch {
        market: market.unbind(),
        buy_ticks: bt.unbind(),
        buy_lots: bl.unbind(),
        sell_ticks: st.unbind(),
        sell_lots: sl.unbind(),
        buy_count: bc.unbind(),
        sell_count: sc.unbind(),
        merged: mg.unbind(),
        dropped: dr.unbind(),
    })
}
