//! Drawdown series, maximum drawdown and high-water mark of an equity curve.
//!
//! Conventions: equity is in quote currency, every value >= 0 and the first > 0. The
//! high-water mark is the running maximum. Drawdown is a fraction **<= 0**:
//! `equity / high_water_mark - 1`, so it lies in [-1, 0] (0 at a new high, -1 at zero
//! equity). A `max_drawdown` limit of 0.1 is breached when the drawdown is below -0.1.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::series::{finite_series, NanPolicy};

/// The worst drawdown of an equity curve and where it happened (indices into the series
/// after any NaN removal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxDrawdown {
    /// The most negative drawdown, a fraction in [-1, 0]; 0 for a curve that never falls.
    pub drawdown: f64,
    /// Index of the high-water mark in force at the trough (the last bar at that mark).
    pub peak: usize,
    /// First index where the worst drawdown is reached.
    pub trough: usize,
    /// First index after the trough back at (or above) the peak's equity, if any.
    pub recovery: Option<usize>,
    /// Bars from peak to recovery, or from peak to the last bar if not recovered.
    pub duration: usize,
}

/// Equity checked: finite (or NaN/inf removed under `Omit`), at least one value, all >= 0,
/// the first > 0 (so the high-water mark is positive and drawdown is a defined fraction).
fn equity_series<'a>(equity: &'a [f64], policy: NanPolicy) -> Result<Cow<'a, [f64]>> {
    let clean = finite_series("equity", equity, 1, policy)?;
    if let Some(i) = clean.iter().position(|v| *v < 0.0) {
        return Err(Error::invalid(
            format!("equity[{i}]"),
            clean[i],
            "must be >= 0 (equity in quote currency)",
        ));
    }
    if clean[0] <= 0.0 {
        return Err(Error::invalid(
            "equity[0]",
            clean[0],
            "must be > 0 (the first high-water mark)",
        ));
    }
    Ok(clean)
}

/// Running maximum of `equity` (quote currency), same length as the (cleaned) input.
pub fn high_water_mark(equity: &[f64], policy: NanPolicy) -> Result<Vec<f64>> {
    let e = equity_series(equity, policy)?;
    Ok(hwm_of(&e))
}

fn hwm_of(e: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    e.iter()
        .map(|&v| {
            peak = peak.max(v);
            peak
        })
        .collect()
}

/// Drawdown series `equity / high_water_mark - 1`, fractions in [-1, 0] (0 at a new high).
pub fn drawdown(equity: &[f64], policy: NanPolicy) -> Result<Vec<f64>> {
    let e = equity_series(equity, policy)?;
    Ok(dd_of(&e))
}

fn dd_of(e: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    e.iter()
        .map(|&v| {
            peak = peak.max(v);
            // v <= peak and peak > 0, so the IEEE quotient is in [0, 1] and the result in [-1, 0]
            v / peak - 1.0
        })
        .collect()
}

/// Bars since the last bar at the high-water mark (0 at the mark), one per equity value.
pub fn drawdown_duration(equity: &[f64], policy: NanPolicy) -> Result<Vec<usize>> {
    let e = equity_series(equity, policy)?;
    let mut peak = f64::NEG_INFINITY;
    let mut since = 0usize;
    Ok(e.iter()
        .map(|&v| {
            if v >= peak {
                peak = v;
                since = 0;
            } else {
                since += 1;
            }
            since
        })
        .collect())
}

/// The worst drawdown (a fraction in [-1, 0]) with its peak, trough, recovery and duration.
pub fn max_drawdown(equity: &[f64], policy: NanPolicy) -> Result<MaxDrawdown> {
    let e = equity_series(equity, policy)?;
    let dd = dd_of(&e);
    let mut trough = 0usize;
    for (i, &d) in dd.iter().enumerate() {
        if d < dd[trough] {
            trough = i;
        }
    }
    let peak = (0..=trough).rev().find(|&i| dd[i] == 0.0).unwrap_or(0);
    let recovery = (trough + 1..e.len()).find(|&i| e[i] >= e[peak]);
    let duration = recovery.unwrap_or(e.len() - 1) - peak;
    Ok(MaxDrawdown {
        drawdown: dd[trough],
        peak,
        trough,
        recovery: if dd[trough] < 0.0 { recovery } else { None },
        duration: if dd[trough] < 0.0 { duration } else { 0 },
    })
}

#[cfg(test)]
mod tests;
