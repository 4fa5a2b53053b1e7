//! Dynamic stops: volatility-scaled `stop_loss_pct`, ATR multiple and trailing stops, snapped
//! to the tick on the safe side.
//!
//! Safe side: a snapped stop triggers no later than its unsnapped level. A long is protected
//! by a sell stop below the market, which rounds **up** (toward the market); a short by a buy
//! stop above the market, which rounds **down** (toward the market). These are the
//! [`Side::Sell`] / [`Side::Buy`] rounding of [`Market::price_to_ticks`], so the usual
//! float-noise tolerance applies (a level within ~1e-14 relative of a tick counts as on it).
//! Prices are quote units; percentages are fractions (0.04 = 4%).

use std::str::FromStr;

use crate::error::{check, Error, Result};
use crate::money::{Market, Side};
use crate::series::{finite_series, same_len, NanPolicy};

/// Direction of the position a stop protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionSide {
    /// Protected by a sell stop below the market.
    Long,
    /// Protected by a buy stop above the market.
    Short,
}

impl PositionSide {
    /// `"long"` or `"short"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PositionSide::Long => "long",
            PositionSide::Short => "short",
        }
    }

    /// The stop order's side: sell for a long, buy for a short (also its rounding direction).
    pub fn stop_side(self) -> Side {
        match self {
            PositionSide::Long => Side::Sell,
            PositionSide::Short => Side::Buy,
        }
    }
}

impl FromStr for PositionSide {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "long" => Ok(PositionSide::Long),
            "short" => Ok(PositionSide::Short),
            _ => Err(Error::invalid(
                "side",
                format!("{s:?}"),
                "must be 'long' or 'short' (the position the stop protects)",
            )),
        }
    }
}

/// A stop: its unsnapped level and its price on the tick grid (safe side).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    pub position: PositionSide,
    /// Unsnapped stop level (quote units).
    pub level: f64,
    /// Stop price in ticks, snapped on the safe side of `level`.
    pub ticks: i64,
    /// Distance from the reference price as a fraction of it.
    pub distance_pct: f64,
}

/// Volatility scale of a stop: `sigma / sigma_long_run` clipped to `[min_scale, max_scale]`
/// (both volatilities > 0 on the same horizon; `0 < min_scale <= max_scale`).
#[inline]
pub fn stop_scale(sigma: f64, sigma_long_run: f64, min_scale: f64, max_scale: f64) -> Result<f64> {
    // one test of the valid inputs (as the checks below accept them), the checks only to name
    // the error: a decision calls this every time with inputs it has validated
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if positive(sigma)
        && positive(sigma_long_run)
        && positive(min_scale)
        && max_scale.is_finite()
        && max_scale >= min_scale
    {
        return Ok((sigma / sigma_long_run).clamp(min_scale, max_scale));
    }
    stop_scale_checked(sigma, sigma_long_run, min_scale, max_scale)
}

/// [`stop_scale`] with each input checked in turn (the error names the first bad one).
#[cold]
fn stop_scale_checked(
    sigma: f64,
    sigma_long_run: f64,
    min_scale: f64,
    max_scale: f64,
) -> Result<f64> {
    check::positive("sigma", sigma)?;
    check::positive("sigma_long_run", sigma_long_run)?;
    check::positive("min_scale", min_scale)?;
    check::finite("max_scale", max_scale)?;
    if max_scale < min_scale {
        return Err(Error::invalid(
            "max_scale",
            max_scale,
            format!("must be >= min_scale ({min_scale})"),
        ));
    }
    Ok((sigma / sigma_long_run).clamp(min_scale, max_scale))
}

fn snapped(position: PositionSide, level: f64, price: f64, market: &Market) -> Result<Stop> {
    Ok(Stop {
        position,
        level,
        ticks: snapped_ticks(position, level, market)?,
        distance_pct: (level - price).abs() / price,
    })
}

/// A stop level (quote units) in ticks, snapped on the safe side; at least one tick.
#[inline]
fn snapped_ticks(position: PositionSide, level: f64, market: &Market) -> Result<i64> {
    let ticks = market
        .price_to_ticks(level, position.stop_side())
        .map_err(|e| match e {
            Error::InvalidInput { value, rule, .. } => Error::InvalidInput {
                field: "stop level".into(),
                value,
                rule,
            },
            other => other,
        })?;
    if ticks < 1 {
        return Err(Error::invalid(
            "stop level",
            level,
            "must be at least one tick of this market",
        ));
    }
    Ok(ticks)
}

/// A stop `distance_pct` (> 0; < 1 for a long) away from `price` (> 0): a long's at
/// `price x (1 - pct)`, a short's at `price x (1 + pct)`, snapped on the safe side.
pub fn stop_at(
    price: f64,
    distance_pct: f64,
    position: PositionSide,
    market: &Market,
) -> Result<Stop> {
    snapped(
        position,
        level_at(price, distance_pct, position)?,
        price,
        market,
    )
}

/// [`stop_at`]'s price in ticks alone (the same ticks and errors; for a caller that needs
/// neither the level nor the distance back).
#[inline]
pub fn stop_ticks_at(
    price: f64,
    distance_pct: f64,
    position: PositionSide,
    market: &Market,
) -> Result<i64> {
    snapped_ticks(position, level_at(price, distance_pct, position)?, market)
}

/// The unsnapped level of [`stop_at`] (quote units), its inputs checked.
#[inline]
fn level_at(price: f64, distance_pct: f64, position: PositionSide) -> Result<f64> {
    check::positive("price", price)?;
    check::positive("distance_pct", distance_pct)?;
    let level = match position {
        PositionSide::Long => {
            if distance_pct >= 1.0 {
                return Err(Error::invalid(
                    "distance_pct",
                    distance_pct,
                    "must be < 1 for a long (its stop would be at or below zero)",
                ));
            }
            price * (1.0 - distance_pct)
        }
        PositionSide::Short => price * (1.0 + distance_pct),
    };
    Ok(level)
}

/// Volatility-scaled stop: `stop_loss_pct` (in (0, 1)) times [`stop_scale`], placed from
/// `price` by [`stop_at`]. Calm markets tighten the stop, turbulent ones widen it.
#[allow(clippy::too_many_arguments)]
pub fn vol_scaled_stop(
    price: f64,
    stop_loss_pct: f64,
    sigma: f64,
    sigma_long_run: f64,
    min_scale: f64,
    max_scale: f64,
    position: PositionSide,
    market: &Market,
) -> Result<Stop> {
    check::open_interval("stop_loss_pct", stop_loss_pct, 0.0, 1.0)?;
    let scale = stop_scale(sigma, sigma_long_run, min_scale, max_scale)?;
    let pct = stop_loss_pct * scale;
    if position == PositionSide::Long && pct >= 1.0 {
        return Err(Error::invalid(
            "stop_loss_pct",
            stop_loss_pct,
            format!("times the volatility scale ({scale}) must stay < 1 for a long"),
        ));
    }
    stop_at(price, pct, position, market)
}

/// ATR stop: `multiple` (> 0) ATRs (`atr` >= 0, quote units) from `price`: a long's at
/// `price - k x atr` (must stay > 0), a short's at `price + k x atr`, snapped on the safe side.
pub fn atr_stop(
    price: f64,
    atr: f64,
    multiple: f64,
    position: PositionSide,
    market: &Market,
) -> Result<Stop> {
    check::positive("price", price)?;
    check::non_negative("atr", atr)?;
    check::positive("multiple", multiple)?;
    let distance = multiple * atr;
    let level = match position {
        PositionSide::Long => price - distance,
        PositionSide::Short => price + distance,
    };
    if !(level > 0.0 && level.is_finite()) {
        return Err(Error::invalid(
            "atr",
            atr,
            format!("times multiple ({multiple}) must leave a long's stop above zero"),
        ));
    }
    snapped(position, level, price, market)
}

/// How far a trailing stop trails the price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trail<'a> {
    /// A fixed fraction of the price, in (0, 1).
    Pct(f64),
    /// `multiple` (> 0) times the ATR of each bar (quote units, >= 0, aligned with prices).
    Atr { atr: &'a [f64], multiple: f64 },
}

/// The stop path of a trailing stop.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailingStop {
    /// Unsnapped stop level per bar.
    pub levels: Vec<f64>,
    /// Stop price per bar in ticks, snapped on the safe side and monotone like the levels.
    pub ticks: Vec<i64>,
}

/// Trailing stop over `prices` (per-bar closes, > 0): each bar's candidate is the price minus
/// (long) or plus (short) the trail; the stop only ratchets in the safe direction (a long's
/// never falls, a short's never rises). Levels and ticks are one per bar.
pub fn trailing_stop(
    prices: &[f64],
    position: PositionSide,
    trail: Trail<'_>,
    market: &Market,
) -> Result<TrailingStop> {
    let prices = finite_series("prices", prices, 1, NanPolicy::Raise)?;
    if let Some(i) = prices.iter().position(|p| *p <= 0.0) {
        return Err(Error::invalid(
            format!("prices[{i}]"),
            prices[i],
            "must be > 0",
        ));
    }
    let distance: Box<dyn Fn(usize) -> f64> = match trail {
        Trail::Pct(pct) => {
            check::open_interval("trail_pct", pct, 0.0, 1.0)?;
            let prices = prices.clone();
            Box::new(move |i| prices[i] * pct)
        }
        Trail::Atr { atr, multiple } => {
            check::positive("multiple", multiple)?;
            same_len("prices", prices.len(), "atr", atr.len())?;
            let atr = finite_series("atr", atr, 1, NanPolicy::Raise)?.into_owned();
            if let Some(i) = atr.iter().position(|a| *a < 0.0) {
                return Err(Error::invalid(format!("atr[{i}]"), atr[i], "must be >= 0"));
            }
            Box::new(move |i| multiple * atr[i])
        }
    };
    let n = prices.len();
    let mut out = TrailingStop {
        levels: Vec::with_capacity(n),
        ticks: Vec::with_capacity(n),
    };
    for (i, &p) in prices.iter().enumerate() {
        let candidate = match position {
            PositionSide::Long => p - distance(i),
            PositionSide::Short => p + distance(i),
        };
        if !(candidate > 0.0 && candidate.is_finite()) {
            return Err(Error::invalid(
                format!("atr[{i}]"),
                candidate,
                "times multiple must leave a long's stop above zero (stop level shown)",
            ));
        }
        let stop = snapped(position, candidate, p, market)?;
        let (level, ticks) = match (position, out.levels.last(), out.ticks.last()) {
            (PositionSide::Long, Some(&l), Some(&t)) => (l.max(candidate), t.max(stop.ticks)),
            (PositionSide::Short, Some(&l), Some(&t)) => (l.min(candidate), t.min(stop.ticks)),
            _ => (candidate, stop.ticks),
        };
        out.levels.push(level);
        out.ticks.push(ticks);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
