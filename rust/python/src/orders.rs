//! `client_order_id` and `diff_orders`: binding of `gridhedge_core::orders`.

use std::str::FromStr;

use gridhedge_core::fills::OrderKind;
use gridhedge_core::orders::{self, OpenOrder, OrderKey};
use gridhedge_core::policy::{DesiredOrder, Role};
use gridhedge_core::Side;
use pyo3::prelude::*;

use crate::convert;
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
    bot_id: &Bound<'_, PyAny>,
    symbol: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    sequence: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let (bot_id, symbol) = (
        convert::text("bot_id", bot_id)?,
        convert::text("symbol", symbol)?,
    );
    let key = parse_key(py, &convert::text("key", key)?)?;
    let sequence = convert::int64("sequence", sequence)?;
    let sequence = u64::try_from(sequence)
        .map_err(|_| crate::errors::invalid(py, "sequence", sequence, "must be >= 0"))?;
    run(py, || {
        orders::client_order_id(&bot_id, &symbol, &key, sequence)
    })
}

/// One `(key, kind, price_ticks, lots)` row of `diff_orders`.
fn order_row(
    py: Python<'_>,
    field: &str,
    row: &Bound<'_, PyAny>,
) -> PyResult<(OrderKey, OrderKind, i64, i64)> {
    // fast path: a well-formed tuple; the slow path below names what is wrong
    if let Ok((key, kind, price, lots)) = row.extract::<(String, String, i64, i64)>() {
        if let (Ok(key), Ok(kind)) = (parse_key(py, &key), OrderKind::from_str(&kind)) {
            return Ok((key, kind, price, lots));
        }
    }
    let rule = "must be a (key, kind, price_ticks, lots) tuple";
    let items: Vec<Bound<'_, PyAny>> = row
        .extract()
        .map_err(|_| crate::errors::invalid(py, field, "not a sequence", rule))?;
    let [key, kind, price, lots] = items.as_slice() else {
        return Err(crate::errors::invalid(
            py,
            field,
            format!("{} item(s)", items.len()),
            rule,
        ));
    };
    Ok((
        parse_key(py, &convert::text("key", key)?)?,
        OrderKind::from_str(&convert::text("kind", kind)?).map_err(|e| to_pyerr(py, e))?,
        convert::int64("price_ticks", price)?,
        convert::int64("lots", lots)?,
    ))
}

fn order_rows(
    py: Python<'_>,
    field: &str,
    rows: &Bound<'_, PyAny>,
) -> PyResult<Vec<(OrderKey, OrderKind, i64, i64)>> {
    let items: Vec<Bound<'_, PyAny>> = rows.extract().map_err(|_| {
        crate::errors::invalid(
            py,
            field,
            "not a list",
            "must be a list of (key, kind, price_ticks, lots)",
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, row)| order_row(py, &format!("{field}[{i}]"), row))
        .collect()
}

/// The minimal change from open orders `(key, kind, price_ticks, remaining_lots)` to desired
/// orders `(key, kind, price_ticks, amount_lots)`: (indexes to cancel, indexes to place).
#[pyfunction]
pub fn diff_orders(
    py: Python<'_>,
    open: &Bound<'_, PyAny>,
    desired: &Bound<'_, PyAny>,
) -> PyResult<(Vec<usize>, Vec<usize>)> {
    let open: Vec<OpenOrder> = order_rows(py, "open", open)?
        .into_iter()
        .map(|(key, kind, price_ticks, remaining_lots)| OpenOrder {
            key,
            kind,
            price_ticks,
            remaining_lots,
        })
        .collect();
    let desired: Vec<DesiredOrder> = order_rows(py, "desired", desired)?
        .into_iter()
        .map(|(k, kind, price_ticks, amount_lots)| DesiredOrder {
            role: k.role,
            side: k.side,
            level: k.level,
            kind,
            price_ticks,
            amount_lots,
        })
        .collect();
    Ok(orders::diff(&open, &desired))
}

/// The (key code, sequence) of one of this bot's client order ids; None for any other id.
#[pyfunction]
pub fn parse_client_order_id(
    bot_id: &Bound<'_, PyAny>,
    symbol: &Bound<'_, PyAny>,
    client_order_id: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, u64)>> {
    let (bot_id, symbol) = (
        convert::text("bot_id", bot_id)?,
        convert::text("symbol", symbol)?,
    );
    let id = convert::text("client_order_id", client_order_id)?;
    Ok(orders::parse_client_order_id(&bot_id, &symbol, &id).map(|(k, seq)| (k.code(), seq)))
}

/// Add this module's functions to `gridhedge._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(client_order_id, m)?)?;
    m.add_function(wrap_pyfunction!(diff_orders, m)?)?;
    m.add_function(wrap_pyfunction!(parse_client_order_id, m)?)?;
    Ok(())
}
