//! `gridhedge.Market`: binding of `gridhedge_core::money`.

use std::str::FromStr;

use gridhedge_core::money::{Market, Side};
use numpy::{PyArray, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::convert::{self, Number};
use crate::errors::run;

/// A market's trading rules, held exactly: tick size, lot size, minimum amount and notional.
#[pyclass(name = "Market", module = "gridhedge", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyMarket {
    pub inner: Market,
}

pub fn side(py: Python<'_>, text: &str) -> PyResult<Side> {
    Side::from_str(text).map_err(|e| crate::errors::to_pyerr(py, e))
}

#[pymethods]
impl PyMarket {
    #[new]
    #[pyo3(signature = (tick_size, lot_size, min_qty = None, min_notional = None))]
    fn new(
        py: Python<'_>,
        tick_size: &Bound<'_, PyAny>,
        lot_size: &Bound<'_, PyAny>,
        min_qty: Option<&Bound<'_, PyAny>>,
        min_notional: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let tick = convert::decimal_text("tick_size", tick_size)?;
        let lot = convert::decimal_text("lot_size", lot_size)?;
        let qty = min_qty
            .map(|v| convert::decimal_text("min_qty", v))
            .transpose()?;
        let notional = min_notional
            .map(|v| convert::decimal_text("min_notional", v))
            .transpose()?;
        let inner = run(py, || {
            Market::new(
                &tick,
                &lot,
                qty.as_deref().unwrap_or("0"),
                notional.as_deref().unwrap_or("0"),
            )
        })?;
        Ok(PyMarket { inner })
    }

    #[getter]
    fn tick_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.tick_size())
    }
    #[getter]
    fn lot_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.lot_size())
    }
    #[getter]
    fn min_qty<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.min_qty())
    }
    #[getter]
    fn min_notional<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.min_notional())
    }

    fn price_to_ticks(
        &self,
        py: Python<'_>,
        price: &Bound<'_, PyAny>,
        side: &str,
    ) -> PyResult<i64> {
        let side = self::side(py, side)?;
        let m = &self.inner;
        match convert::number("price", price)? {
            Number::Float(x) => run(py, || m.price_to_ticks(x, side)),
            Number::Exact(d) => run(py, || m.decimal_price_to_ticks(d, side)),
        }
    }

    fn amount_to_lots(&self, py: Python<'_>, amount: &Bound<'_, PyAny>) -> PyResult<i64> {
        let m = &self.inner;
        match convert::number("amount", amount)? {
            Number::Float(x) => run(py, || m.amount_to_lots(x)),
            Number::Exact(d) => run(py, || m.decimal_amount_to_lots(d)),
        }
    }

    fn ticks_to_price<'py>(&self, py: Python<'py>, ticks: i64) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.ticks_to_price(ticks))
    }

    fn lots_to_amount<'py>(&self, py: Python<'py>, lots: i64) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.lots_to_amount(lots))
    }

    fn round_price<'py>(
        &self,
        py: Python<'py>,
        price: &Bound<'py, PyAny>,
        side: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ticks = self.price_to_ticks(py, price, side)?;
        self.ticks_to_price(py, ticks)
    }

    fn round_amount<'py>(
        &self,
        py: Python<'py>,
        amount: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lots = self.amount_to_lots(py, amount)?;
        self.lots_to_amount(py, lots)
    }

    fn meets_minimums(&self, price_ticks: i64, amount_lots: i64) -> bool {
        self.inner.meets_minimums(price_ticks, amount_lots)
    }

    fn ticks_to_prices<'py>(
        &self,
        py: Python<'py>,
        ticks: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let array = convert::i64_array("ticks", ticks)?;
        let shape = array.shape().to_vec();
        let data = convert::slice(py, "ticks", &array)?;
        let m = &self.inner;
        let prices = run(py, || Ok(prices_of(m, data)))?;
        Ok(PyArray::from_vec(py, prices).reshape(shape)?.into_any())
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "Market(tick_size='{}', lot_size='{}', min_qty='{}', min_notional='{}')",
            m.tick_size(),
            m.lot_size(),
            m.min_qty(),
            m.min_notional()
        )
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, MarketArgs)> {
        let m = &self.inner;
        let cls = py.get_type::<PyMarket>().into_any();
        Ok((
            cls,
            (
                m.tick_size().to_string(),
                m.lot_size().to_string(),
                m.min_qty().to_string(),
                m.min_notional().to_string(),
            ),
        ))
    }
}

/// Constructor arguments of a `Market`, for pickling.
type MarketArgs = (String, String, String, String);

/// Nearest doubles of exact tick prices; 0 ticks (no level) becomes NaN.
pub fn prices_of(m: &Market, ticks: &[i64]) -> Vec<f64> {
    ticks
        .iter()
        .map(|&t| if t == 0 { f64::NAN } else { m.ticks_to_f64(t) })
        .collect()
}
