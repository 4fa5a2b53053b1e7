//! `gridhedge._core`: the Python face of gridhedge-core. One file per core module; nothing
//! here computes, it converts arguments, releases the GIL and maps errors.

use pyo3::prelude::*;

// first: the argument macros every binding module uses
#[macro_use]
mod args;

mod account;
mod backtest;
mod convert;
mod drawdown;
mod errors;
mod fills;
mod garch;
mod grid;
mod hedge;
mod money;
mod orders;
mod policy;
mod portfolio;
mod sizing;
mod stops;
mod synthetic;
mod var;
mod var_backtest;
mod volatility;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<money::PyMarket>()?;
    m.add_class::<grid::PyGridLevel>()?;
    m.add_class::<grid::PyGrid>()?;
    m.add_class::<grid::PyGridBatch>()?;
    m.add_function(wrap_pyfunction!(grid::grid_levels, m)?)?;
    m.add_function(wrap_pyfunction!(grid::grid_levels_batch, m)?)?;
    m.add_function(wrap_pyfunction!(errors::_panic_for_test, m)?)?;
    volatility::register(m)?;
    garch::register(m)?;
    var::register(m)?;
    var_backtest::register(m)?;
    sizing::register(m)?;
    stops::register(m)?;
    hedge::register(m)?;
    drawdown::register(m)?;
    synthetic::register(m)?;
    fills::register(m)?;
    policy::register(m)?;
    portfolio::register(m)?;
    orders::register(m)?;
    account::register(m)?;
    backtest::register(m)?;
    Ok(())
}
