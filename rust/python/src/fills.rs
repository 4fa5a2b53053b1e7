//! `gridhedge.FillBook` and `funding_payment`: binding of `gridhedge_core::fills`.

use std::str::FromStr;

use gridhedge_core::fills::{self, Bar, FillBook, FillParams, OrderKind, SimOrder};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{run, to_pyerr};
use crate::money::{side, PyMarket};

/// One simulated fill: the order's id, side, exact price/amount, maker flag and exact fee.
#[pyclass(name = "SimFill", module = "gridhedge", frozen, get_all)]
pub struct PySimFill {
    order_id: u64,
    side: &'static str,
    price_ticks: i64,
    amount_lots: i64,
    price: Py<PyAny>,
    amount: Py<PyAny>,
    fee: Py<PyAny>,
    maker: bool,
    done: bool,
}

#[pymethods]
impl PySimFill {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "SimFill(order_id={}, side='{}', price=Decimal('{}'), amount=Decimal('{}'), fee=Decimal('{}'), maker={}, done={})",
            self.order_id,
            self.side,
            self.price.bind(py),
            self.amount.bind(py),
            self.fee.bind(py),
            if self.maker { "True" } else { "False" },
            if self.done { "True" } else { "False" },
        )
    }
}

/// Simulated resting orders of one market, filled bar by bar with the shared fill model.
#[pyclass(name = "FillBook", module = "gridhedge")]
pub struct PyFillBook {
    inner: FillBook,
}

#[pymethods]
impl PyFillBook {
    #[new]
    #[pyo3(signature = (market, participation = None, maker_fee = None, taker_fee = None))]
    fn new(
        py: Python<'_>,
        market: &Bound<'_, PyAny>,
        participation: Option<&Bound<'_, PyAny>>,
        maker_fee: Option<&Bound<'_, PyAny>>,
        taker_fee: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let market = convert::instance::<PyMarket>("market", "Market", market)?;
        let get = |field: &str, v: Option<&Bound<'_, PyAny>>, default: f64| -> PyResult<f64> {
            v.map_or(Ok(default), |o| convert::float(field, o))
        };
        let params = FillParams::new(
            get("participation", participation, 0.1)?,
            get("maker_fee", maker_fee, 0.0002)?,
            get("taker_fee", taker_fee, 0.0005)?,
        )
        .map_err(|e| to_pyerr(py, e))?;
        Ok(PyFillBook {
            inner: FillBook::new(market.get().inner.clone(), params),
        })
    }

    /// Rest an order placed after bar `bar_index` closed (it can fill from the next bar on).
    #[pyo3(signature = (order_id, side, price_ticks, amount_lots, bar_index, kind = "limit"))]
    #[allow(clippy::too_many_arguments)]
    fn place(
        &mut self,
        py: Python<'_>,
        order_id: u64,
        side: &Bound<'_, PyAny>,
        price_ticks: i64,
        amount_lots: i64,
        bar_index: i64,
        kind: &str,
    ) -> PyResult<()> {
        let side = self::side(py, &convert::text("side", side)?)?;
        let kind = OrderKind::from_str(kind).map_err(|e| to_pyerr(py, e))?;
        self.inner
            .place(SimOrder {
                id: order_id,
                side,
                kind,
                price_ticks,
                remaining_lots: amount_lots,
                placed_bar: bar_index,
            })
            .map_err(|e| to_pyerr(py, e))
    }

    /// Remove a resting order; False if it is not in the book.
    fn cancel(&mut self, order_id: u64) -> bool {
        self.inner.cancel(order_id).is_some()
    }

    /// Ids of the resting orders with their remaining lots, in placement order.
    fn open_orders(&self) -> Vec<(u64, i64)> {
        self.inner
            .orders()
            .iter()
            .map(|o| (o.id, o.remaining_lots))
            .collect()
    }

    /// Fill the book against bar `bar_index` (prices quote, volume base); fills in path order.
    #[allow(clippy::too_many_arguments)]
    fn on_bar(
        &mut self,
        py: Python<'_>,
        bar_index: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> PyResult<Vec<PySimFill>> {
        let bar = Bar {
            open,
            high,
            low,
            close,
            volume,
        };
        let fills = self
            .inner
            .on_bar(bar_index, &bar)
            .map_err(|e| to_pyerr(py, e))?;
        let m = self.inner.market();
        fills
            .into_iter()
            .map(|f| {
                Ok(PySimFill {
                    order_id: f.order_id,
                    side: f.side.as_str(),
                    price_ticks: f.price_ticks,
                    amount_lots: f.lots,
                    price: convert::to_decimal(py, m.ticks_to_price(f.price_ticks))?.unbind(),
                    amount: convert::to_decimal(py, m.lots_to_amount(f.lots))?.unbind(),
                    fee: convert::to_decimal(py, f.fee)?.unbind(),
                    maker: f.maker,
                    done: f.done,
                })
            })
            .collect()
    }
}

/// Funding received by a signed position (base units, negative = short) at a mark price for a
/// rate per funding interval (positive: longs pay shorts): `-amount * mark * rate`, quote units.
#[pyfunction]
pub fn funding_payment(
    py: Python<'_>,
    amount: &Bound<'_, PyAny>,
    mark: &Bound<'_, PyAny>,
    rate: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    args!(float amount, mark, rate);
    run(py, || fills::funding_payment(amount, mark, rate))
}

/// Add this module's functions and classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFillBook>()?;
    m.add_class::<PySimFill>()?;
    m.add_function(wrap_pyfunction!(funding_payment, m)?)?;
    Ok(())
}
