//! `client_order_id` and `diff_orders`: binding of `gridhedge_core::orders`.

use std::str::FromStr;

use gridhedge_core::fills::OrderKind;
use gridhedge_core::orders::{self, OpenOrder, OrderKey};
use gridhedge_core::policy::{DesiredOrder, Role};
use gridhedge_core::Side;
use pyo3::prelude::*;

use crate::errors::{run, to_pyerr};

/// The key code of a desired order (`gs3`, `gb0`, `rs0`, `xb0`, ...).
pub fn key_code(o: &DesiredOrder) -> String {
    OrderKey::from(o).code()
}

fn parse_key(py: Python<'_>, code: &str) -> PyResult<OrderKey> {
    let bad = || {
        crate::errors::invalid(
            py,
            "key",
            format!("{code:?}"),
            "must look like gs3, gb2, rs0 or xb0",
        )
    };
    let mut chars = code.chars();
    let role = match chars.next() {
        Some('g') => Role::Grid,
        Some('r') => Role::Rebalance,
        Some('x') => Role::Stop,
        _ => return Err(bad()),
    };
    let side = match chars.next() {
        Some('s') => Side::Sell,
        Some('b') => Side::Buy,
        _ => return Err(bad()),
    };
    let rung: i32 = chars.as_str().parse().map_err(|_| bad())?;
    let level = if side == Side::Buy { -rung } else { rung };
    Ok(OrderKey { role, side, level })
}

/// The deterministic client order id (<= 36 chars of `[A-Za-z0-9_-]`) of an order key's
/// `sequence`-th placement for a bot and symbol.
#[pyfunction]
pub fn client_order_id(
    py: Python<'_>,
    bot_id: &str,
    symbol: &str,
    key: &str,
    sequence: u64,
) -> PyResult<String> {
    let key = parse_key(py, key)?;
    run(py, || {
        orders::client_order_id(bot_id, symbol, &key, sequence)
    })
}

/// The minimal change from open orders `(key, kind, price_ticks, remaining_lots)` to desired
/// orders `(key, kind, price_ticks, amount_lots)`: (indexes to cancel, indexes to place).
#[pyfunction]
pub fn diff_orders(
    py: Python<'_>,
    open: Vec<(String, String, i64, i64)>,
    desired: Vec<(String, String, i64, i64)>,
) -> PyResult<(Vec<usize>, Vec<usize>)> {
    let open = open
        .iter()
        .map(|(key, kind, price, lots)| {
            Ok(OpenOrder {
                key: parse_key(py, key)?,
                kind: OrderKind::from_str(kind).map_err(|e| to_pyerr(py, e))?,
                price_ticks: *price,
                remaining_lots: *lots,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let desired = desired
        .iter()
        .map(|(key, kind, price, lots)| {
            let k = parse_key(py, key)?;
            Ok(DesiredOrder {
                role: k.role,
                side: k.side,
                level: k.level,
                kind: OrderKind::from_str(kind).map_err(|e| to_pyerr(py, e))?,
                price_ticks: *price,
                amount_lots: *lots,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(orders::diff(&open, &desired))
}

/// The (key code, sequence) of one of this bot's client order ids; None for any other id.
#[pyfunction]
pub fn parse_client_order_id(
    bot_id: &str,
    symbol: &str,
    client_order_id: &str,
) -> Option<(String, u64)> {
    orders::parse_client_order_id(bot_id, symbol, client_order_id).map(|(k, seq)| (k.code(), seq))
}

/// Add this module's functions to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(client_order_id, m)?)?;
    m.add_function(wrap_pyfunction!(diff_orders, m)?)?;
    m.add_function(wrap_pyfunction!(parse_client_order_id, m)?)?;
    Ok(())
}
