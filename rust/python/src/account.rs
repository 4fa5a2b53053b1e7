//! `gridhedge._core.SimAccount`: binding of `gridhedge_core::account`.

use gridhedge_core::account::Account;
use pyo3::prelude::*;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use crate::convert::{self, Number};
use crate::errors::{run, to_pyerr};
use crate::money::{side, PyMarket};

/// A simulated linear-perpetual account, exact: position, entry, realised PnL, fees, funding.
#[pyclass(name = "SimAccount", module = "gridhedge")]
pub struct PySimAccount {
    inner: Account,
}

fn exact(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    match convert::number(field, obj)? {
        Number::Exact(d) => Ok(d),
        Number::Float(x) => Decimal::from_f64(x)
            .filter(|_| x.is_finite())
            .ok_or_else(|| {
                crate::errors::invalid(obj.py(), field, x, "must be a finite decimal number")
            }),
    }
}

#[pymethods]
impl PySimAccount {
    #[new]
    fn new(market: &Bound<'_, PyAny>) -> PyResult<Self> {
        let market = convert::instance::<PyMarket>("market", "Market", market)?;
        Ok(PySimAccount {
            inner: Account::new(market.get().inner.clone()),
        })
    }

    /// Book a fill: side, exact price in ticks, amount in lots, fee paid (quote).
    fn apply_fill(
        &mut self,
        py: Python<'_>,
        side: &Bound<'_, PyAny>,
        price_ticks: i64,
        amount_lots: i64,
        fee: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let side = self::side(py, &convert::text("side", side)?)?;
        let fee = exact("fee", fee)?;
        self.inner
            .apply_fill(side, price_ticks, amount_lots, fee)
            .map_err(|e| to_pyerr(py, e))
    }

    /// Book funding at `mark` for `rate` per interval; returns what was received (quote).
    fn apply_funding<'py>(
        &mut self,
        py: Python<'py>,
        mark: &Bound<'py, PyAny>,
        rate: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        args!(float mark, rate);
        let got = self
            .inner
            .apply_funding(mark, rate)
            .map_err(|e| to_pyerr(py, e))?;
        convert::to_decimal(py, got)
    }

    /// Unrealised PnL at `mark` (quote).
    fn unrealized_pnl<'py>(
        &self,
        py: Python<'py>,
        mark: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        args!(float mark);
        let a = &self.inner;
        convert::to_decimal(py, run(py, || a.unrealized_pnl(mark))?)
    }

    /// Realised + unrealised PnL + funding - fees at `mark` (quote).
    fn net_pnl<'py>(
        &self,
        py: Python<'py>,
        mark: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        args!(float mark);
        let a = &self.inner;
        convert::to_decimal(py, run(py, || a.net_pnl(mark))?)
    }

    #[getter]
    fn position_lots(&self) -> i64 {
        self.inner.position_lots()
    }
    #[getter]
    fn position<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.position())
    }
    #[getter]
    fn entry_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.entry_price())
    }
    #[getter]
    fn realized_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.realized_pnl())
    }
    #[getter]
    fn fees<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.fees())
    }
    #[getter]
    fn funding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.funding())
    }
    #[getter]
    fn traded_notional<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_decimal(py, self.inner.traded_notional())
    }
}

/// Add this module's classes to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimAccount>()?;
    Ok(())
}
