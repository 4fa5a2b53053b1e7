//! Portfolio layer: the drawdown from the high-water mark (the halt itself is `halt.rs`) and
//! the horizon VaR of the worst in-band exposure against `var_limit`: over it a warning, over
//! `var_limit x var_shrink_ratio` the band narrows until it fits.

use super::{ratio, reason, Book, Metrics, PolicyConfig, Reason};
use crate::money::{snap, Round};

/// Drawdown of the equity from its high-water mark (fraction, 0 without a mark).
pub(super) fn drawdown(book: &Book) -> f64 {
    if book.high_water_mark > 0.0 {
        (1.0 - book.equity / book.high_water_mark).max(0.0)
    } else {
        0.0
    }
}

/// The band `(s_lo, s_hi)` (lots of short) after the VaR check; fills `m.var`, `m.var_worst`
/// and `m.var_horizon_fraction`. `var_fraction`: the horizon VaR per unit of exposure.
#[allow(clippy::too_many_arguments)]
pub(super) fn var_band(
    cfg: &PolicyConfig,
    var_fraction: f64,
    (price, lot, spot, short): (f64, f64, f64, i64),
    (s_lo, s_hi): (i64, i64),
    m: &mut Metrics,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> (i64, i64) {
    let to_lots = |base: f64| snap(base / lot, Round::Down);
    m.var_horizon_fraction = var_fraction;
    let exposure = |s: i64| (spot - s as f64 * lot).abs() * price;
    m.var = exposure(short) * var_fraction;
    m.var_worst = exposure(s_lo).max(exposure(s_hi)) * var_fraction;
    if m.var_worst <= cfg.var_limit {
        return (s_lo, s_hi);
    }
    let worst = m.var_worst;
    reason(reasons, explain, "var_warning", || {
        format!("VaR ({worst:.2}) exceeds limit ({:.2})", cfg.var_limit)
    });
    if !(m.var_worst > cfg.var_limit * cfg.var_shrink_ratio && var_fraction > 0.0) {
        return (s_lo, s_hi);
    }
    let allowed = cfg.var_limit / var_fraction / price; // base units of net exposure
    let full = to_lots(spot);
    let room = to_lots(allowed);
    let (lo, hi) = (
        s_lo.max(full - room).min(s_hi),
        s_hi.min(full + room).max(s_lo),
    );
    reason(reasons, explain, "var_shrink", || {
        format!(
            "VaR over limit x {}: band narrowed from [{:.3}, {:.3}] to [{:.3}, {:.3}] of the inventory",
            cfg.var_shrink_ratio,
            ratio(s_lo, lot, spot),
            ratio(s_hi, lot, spot),
            ratio(lo, lot, spot),
            ratio(hi, lot, spot)
        )
    });
    (lo, hi)
}
