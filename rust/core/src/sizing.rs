//! Position sizing: volatility targeting, VaR budget, fractional Kelly and per-level grid
//! sizing, always capped by `max_position_size` and snapped down to the market's lot.
//!
//! Every sizer returns a [`Size`]: whole lots, never above the cap (the cap itself is snapped
//! down to the lot), plus the bound that decided it. A model amount is snapped down to the lot
//! with [`crate::money::snap`]'s float-noise tolerance (an amount within ~1e-14 relative of a
//! lot counts as on it, so `0.07999999999999999` is 80 lots of 0.001). A size under the
//! market's `min_qty` (or one lot) or `min_notional` (checked exactly at the price rounded down
//! to the tick) becomes 0 with that reason, never rounded up. Amounts are base units; prices,
//! notionals, VaR and equity quote units; `sigma` and `mu` per bar on simple returns.

use rust_decimal::Decimal;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{check, Error, Result};
use crate::grid::MAX_LEVELS;
use crate::money::{Market, Side};
use crate::series::confidence;

/// What decided a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeBound {
    /// Volatility target: `target_vol / (price x sigma)`.
    VolTarget,
    /// VaR budget: the largest size whose parametric VaR is within `share x var_limit`.
    VarBudget,
    /// Fractional Kelly `fraction x mu / sigma^2` of equity (0 when `mu <= 0`).
    Kelly,
    /// Fractional Kelly, clipped at `max_fraction` of equity.
    KellyCap,
    /// Per-level grid sizing from the hedge-ratio band.
    HedgeBand,
    /// `max_position_size`, snapped down to the lot.
    MaxPositionSize,
    /// Below the market's `min_qty` (or below one lot): size 0.
    MinQty,
    /// Below the market's `min_notional` at this price: size 0.
    MinNotional,
}

impl SizeBound {
    /// `"vol_target"`, `"var_budget"`, `"kelly"`, `"kelly_cap"`, `"hedge_band"`,
    /// `"max_position_size"`, `"min_qty"` or `"min_notional"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeBound::VolTarget => "vol_target",
            SizeBound::VarBudget => "var_budget",
            SizeBound::Kelly => "kelly",
            SizeBound::KellyCap => "kelly_cap",
            SizeBound::HedgeBand => "hedge_band",
            SizeBound::MaxPositionSize => "max_position_size",
            SizeBound::MinQty => "min_qty",
            SizeBound::MinNotional => "min_notional",
        }
    }
}

/// A position size in whole lots and the bound that decided it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// Size in lots of the market (0 when below a minimum).
    pub lots: i64,
    /// What decided the size.
    pub bound_by: SizeBound,
    /// The model's amount (base units) before the cap and the lot; `inf` when the model sets
    /// no bound (a VaR that never reaches the budget).
    pub raw_amount: f64,
}

/// `max_position_size` (base units, >= 0) in lots, snapped down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeCap {
    lots: i64,
}

impl SizeCap {
    /// The cap from a float amount (base units, finite, >= 0), snapped down to the lot.
    pub fn new(market: &Market, max_position_size: f64) -> Result<Self> {
        check::non_negative("max_position_size", max_position_size)?;
        let lots = market
            .amount_to_lots(max_position_size)
            .map_err(|_| too_large(max_position_size))?;
        Ok(SizeCap { lots })
    }

    /// The cap from an exact decimal amount (base units, >= 0), snapped down to the lot.
    pub fn exact(market: &Market, max_position_size: Decimal) -> Result<Self> {
        if max_position_size < Decimal::ZERO {
            return Err(Error::invalid(
                "max_position_size",
                max_position_size,
                "must be >= 0",
            ));
        }
        let lots = market
            .decimal_amount_to_lots(max_position_size)
            .map_err(|_| too_large(max_position_size))?;
        Ok(SizeCap { lots })
    }

    /// The cap in lots.
    pub fn lots(self) -> i64 {
        self.lots
    }
}

fn too_large(v: impl std::fmt::Display) -> Error {
    Error::invalid(
        "max_position_size",
        v,
        "must be at most 1e12 lots of this market",
    )
}

/// Cap, snap and check minimums for a model amount `raw` (base units, >= 0 or +inf).
fn finish(raw: f64, model: SizeBound, price: f64, cap: SizeCap, market: &Market) -> Result<Size> {
    if raw.is_nan() || raw < 0.0 {
        return Err(Error::numerical(
            "size",
            format!("the {} model gave no finite size ({raw})", model.as_str()),
        ));
    }
    let price_ticks = market.price_to_ticks(price, Side::Buy)?;
    let over_cap = raw >= (cap.lots as f64 + 1.0) * market.lot_f64();
    let (lots, bound_by) = if over_cap {
        (cap.lots, SizeBound::MaxPositionSize)
    } else {
        let lots = market.amount_to_lots(raw)?;
        if lots > cap.lots {
            (cap.lots, SizeBound::MaxPositionSize)
        } else {
            (lots, model)
        }
    };
    let size = |lots, bound_by| Size {
        lots,
        bound_by,
        raw_amount: raw,
    };
    if lots == 0 {
        // a zero model or a zero cap keeps its reason; a positive amount under one lot is min_qty
        let keep = raw == 0.0 || bound_by == SizeBound::MaxPositionSize;
        return Ok(size(0, if keep { bound_by } else { SizeBound::MinQty }));
    }
    if lots < market.min_qty_lots() {
        return Ok(size(0, SizeBound::MinQty));
    }
    if !market.meets_minimums(price_ticks, lots) {
        return Ok(size(0, SizeBound::MinNotional));
    }
    Ok(size(lots, bound_by))
}

/// Volatility targeting: the size whose P&L standard deviation `size x price x sigma` equals
/// `target_vol` (quote units, >= 0). `sigma` (> 0) and `target_vol` must share a horizon: per
/// bar with per-bar sigma, or both annualised (the ratio is the same).
pub fn vol_target_size(
    price: f64,
    sigma: f64,
    target_vol: f64,
    cap: SizeCap,
    market: &Market,
) -> Result<Size> {
    check::positive("price", price)?;
    check::positive("sigma", sigma)?;
    check::non_negative("target_vol", target_vol)?;
    let raw = target_vol / (price * sigma);
    finish(raw, SizeBound::VolTarget, price, cap, market)
}

/// Parameters of [`var_budget_size`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarBudget {
    /// Volatility of simple returns per bar (> 0).
    pub sigma: f64,
    /// VaR limit, a positive loss in quote units (>= 0): config `var_limit`.
    pub var_limit: f64,
    /// Share of the limit this position may use, in (0, 1].
    pub share: f64,
    /// Confidence in (0, 1): 0.95 is the 95% loss quantile.
    pub confidence: f64,
    /// Horizon in bars (> 0); sigma scales with its square root.
    pub horizon: f64,
    /// Expected simple return per bar of the position's direction (pass minus the asset's
    /// drift for a short); 0 for the usual zero-mean VaR.
    pub mean: f64,
}

/// VaR budget: the largest size whose normal parametric VaR
/// `(z_c x sigma x sqrt(h) - mean x h) x size x price` (a positive loss, quote units) stays
/// within `share x var_limit`; `z_c` is the standard normal `confidence` quantile. If the
/// per-unit VaR is <= 0 (drift beats the quantile) the budget sets no bound.
pub fn var_budget_size(p: VarBudget, price: f64, cap: SizeCap, market: &Market) -> Result<Size> {
    check::positive("price", price)?;
    check::positive("sigma", p.sigma)?;
    check::non_negative("var_limit", p.var_limit)?;
    check::positive("share", p.share)?;
    if p.share > 1.0 {
        return Err(Error::invalid("share", p.share, "must be <= 1"));
    }
    confidence("confidence", p.confidence)?;
    check::positive("horizon", p.horizon)?;
    check::finite("mean", p.mean)?;
    let z = Normal::standard().inverse_cdf(p.confidence);
    let unit_var = (z * p.sigma * p.horizon.sqrt() - p.mean * p.horizon) * price;
    let raw = if unit_var > 0.0 {
        p.share * p.var_limit / unit_var
    } else {
        f64::INFINITY
    };
    finish(raw, SizeBound::VarBudget, price, cap, market)
}

/// What bounds one grid level's size from risk ([`level_risk_lots`]); quote units, fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelRisk {
    /// Volatility per bar of simple returns (>= 0).
    pub sigma: f64,
    /// The horizon VaR per unit of exposure (fraction, positive loss, >= 0).
    pub var_fraction: f64,
    /// Equity (quote); a negative one counts as 0.
    pub equity: f64,
    /// One level's P&L standard deviation per bar, as a fraction of equity (0: no bound).
    pub vol_target_pct: f64,
    /// VaR limit (quote, positive loss).
    pub var_limit: f64,
    /// Share of `var_limit` one level's horizon VaR may use (0: no bound).
    pub var_share: f64,
}

/// Per-level grid size from risk, in lots of `lot` (base units) at `price` (quote): the
/// smaller of the volatility target `vol_target_pct x equity / (price x sigma)` and the VaR
/// budget `var_share x var_limit / (price x var_fraction)`, each snapped down to the lot
/// ([`crate::money::snap`]'s tolerance), with the bound that decided it; `(i64::MAX, None)`
/// when neither binds (a 0 setting, or a 0 sigma / VaR).
pub fn level_risk_lots(p: LevelRisk, price: f64, lot: f64) -> (i64, Option<SizeBound>) {
    use crate::money::{snap, Round};
    let mut out = (i64::MAX, None);
    if p.vol_target_pct > 0.0 && p.sigma > 0.0 {
        let raw = p.vol_target_pct * p.equity.max(0.0) / (price * p.sigma);
        out = (
            snap(raw / lot, Round::Down).max(0),
            Some(SizeBound::VolTarget),
        );
    }
    if p.var_share > 0.0 && p.var_fraction > 0.0 {
        let raw = p.var_share * p.var_limit / (price * p.var_fraction);
        let lots = snap(raw / lot, Round::Down).max(0);
        if lots < out.0 {
            out = (lots, Some(SizeBound::VarBudget));
        }
    }
    out
}

/// Standard normal quantile `z_c` of a confidence in (0, 1) (statrs), as used by
/// [`var_budget_size`].
pub fn normal_quantile(c: f64) -> Result<f64> {
    confidence("confidence", c)?;
    Ok(Normal::standard().inverse_cdf(c))
}

/// Fractional Kelly: the fraction of `equity` (quote, >= 0) `f = fraction x mu / sigma^2`
/// (continuous-return Kelly, `mu` and `sigma` per bar, `fraction` in (0, 1]), clipped to
/// `[0, max_fraction]` (`max_fraction` >= 0, a leverage cap), as a size `f x equity / price`.
/// A non-positive `mu` sizes 0 (pass minus the drift for a short).
#[allow(clippy::too_many_arguments)]
pub fn kelly_size(
    price: f64,
    mu: f64,
    sigma: f64,
    equity: f64,
    fraction: f64,
    max_fraction: f64,
    cap: SizeCap,
    market: &Market,
) -> Result<Size> {
    check::positive("price", price)?;
    check::finite("mu", mu)?;
    check::positive("sigma", sigma)?;
    check::non_negative("equity", equity)?;
    check::positive("fraction", fraction)?;
    if fraction > 1.0 {
        return Err(Error::invalid("fraction", fraction, "must be <= 1"));
    }
    check::non_negative("max_fraction", max_fraction)?;
    let f = (fraction * mu / (sigma * sigma)).max(0.0);
    let (f, model) = if f > max_fraction {
        (max_fraction, SizeBound::KellyCap)
    } else {
        (f, SizeBound::Kelly)
    };
    finish(f * equity / price, model, price, cap, market)
}

/// Per-level sizes of both sides of the grid (DESIGN 'Band').
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelSizes {
    /// Size of each sell level (adds short): `(h_max - h) x E / price / levels`.
    pub sell: Size,
    /// Size of each buy level (buys back): `(h - h_min) x E / price / levels`.
    pub buy: Size,
    /// Levels a side.
    pub levels: usize,
}

/// Per-level grid sizing: each sell level `(h_max - h) x E / price / levels` and each buy
/// level `(h - h_min) x E / price / levels`, so a fully filled side moves the hedge ratio to
/// `h_max` (sells) or `h_min` (buys). `exposure` E quote units (>= 0), `price` > 0,
/// `h_min <= h <= h_max`, `levels` 1..=1000. Each level's size is capped by
/// `max_position_size` and snapped down to the lot; a side below the market minimums (checked
/// at `price`) is 0 with the reason, and `grid_levels` re-checks each level at its own price.
#[allow(clippy::too_many_arguments)]
pub fn grid_level_sizes(
    exposure: f64,
    price: f64,
    hedge_ratio: f64,
    hedge_ratio_min: f64,
    hedge_ratio_max: f64,
    levels: usize,
    cap: SizeCap,
    market: &Market,
) -> Result<LevelSizes> {
    check::non_negative("exposure", exposure)?;
    check::positive("price", price)?;
    check::finite("hedge_ratio_min", hedge_ratio_min)?;
    check::finite("hedge_ratio_max", hedge_ratio_max)?;
    check::finite("hedge_ratio", hedge_ratio)?;
    if hedge_ratio_min > hedge_ratio_max {
        return Err(Error::invalid(
            "hedge_ratio_max",
            hedge_ratio_max,
            format!("must be >= hedge_ratio_min ({hedge_ratio_min})"),
        ));
    }
    if hedge_ratio < hedge_ratio_min || hedge_ratio > hedge_ratio_max {
        return Err(Error::invalid(
            "hedge_ratio",
            hedge_ratio,
            format!("must lie in the band [{hedge_ratio_min}, {hedge_ratio_max}]"),
        ));
    }
    check::count_in("num_levels", levels, 1, MAX_LEVELS)?;
    let per_level = |span: f64| span * exposure / price / levels as f64;
    let sell_raw = per_level(hedge_ratio_max - hedge_ratio);
    let buy_raw = per_level(hedge_ratio - hedge_ratio_min);
    Ok(LevelSizes {
        sell: finish(sell_raw, SizeBound::HedgeBand, price, cap, market)?,
        buy: finish(buy_raw, SizeBound::HedgeBand, price, cap, market)?,
        levels,
    })
}

#[cfg(test)]
mod tests;
