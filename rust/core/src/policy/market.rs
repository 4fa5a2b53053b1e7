//! Market layer: the grid spacing from volatility and the target hedge ratio from funding,
//! with risk reviews applied last and only where they tighten. (The per-order impact cap,
//! `max_volume_share` of recent volume, is applied where the orders are made: `order.rs` for
//! the grid, `position.rs` for market orders.)

use super::{reason, PolicyConfig, Reason};

/// The grid spacing (fraction): `grid_spacing_pct`, widened with dynamic spacing to
/// `volatility_multiplier x volatility x sqrt(spacing_horizon_bars)` (at most 0.5). With
/// dynamic spacing, the last decision's spacing `last` (0 or NaN: none) stays while the new
/// one is within `grid_refresh_tolerance x last / num_levels` of it (and `last` is a spacing
/// the config allows), so the ladder keeps its prices.
pub(super) fn spacing(
    cfg: &PolicyConfig,
    volatility: f64,
    last: f64,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> f64 {
    let mut spacing = cfg.grid_spacing_pct;
    if cfg.dynamic_spacing {
        let dynamic =
            cfg.volatility_multiplier * volatility * (cfg.spacing_horizon_bars as f64).sqrt();
        let new = if dynamic > spacing {
            dynamic.min(0.5)
        } else {
            spacing
        };
        let keep = cfg.grid_refresh_tolerance > 0.0
            && last >= cfg.grid_spacing_pct
            && last <= 0.5
            && (new - last).abs() <= cfg.grid_refresh_tolerance * last / cfg.num_levels as f64;
        let used = if keep { last } else { new };
        if used > spacing {
            spacing = used;
            reason(reasons, explain, "dynamic_spacing", || {
                format!(
                    "spacing widened to {:.3}% by volatility {:.3}% per bar",
                    100.0 * spacing,
                    100.0 * volatility
                )
            });
        }
    }
    spacing
}

/// The target hedge ratio: `hedge_ratio`, tilted by the funding rate (per 8 h) within the
/// band, then a review's ratio where it lies nearer a full hedge (within the band) than the
/// tilted one - the tighten-only clamp comes last.
pub(super) fn target_hedge_ratio(
    cfg: &PolicyConfig,
    funding_rate: f64,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> f64 {
    let mut h_target = cfg.hedge_ratio;
    if cfg.funding_tilt && funding_rate != 0.0 {
        let tilted = (cfg.hedge_ratio + cfg.funding_sensitivity * funding_rate)
            .clamp(cfg.hedge_ratio_min, cfg.hedge_ratio_max);
        if tilted != h_target {
            reason(reasons, explain, "funding_tilt", || {
                format!(
                    "funding {:+.4}% per 8h tilts the target hedge ratio {:.3} -> {:.3}",
                    100.0 * funding_rate,
                    cfg.hedge_ratio,
                    tilted
                )
            });
        }
        h_target = tilted;
    }
    if let Some(reviewed) = cfg.review_hedge_ratio {
        let full = 1.0_f64.clamp(cfg.hedge_ratio_min, cfg.hedge_ratio_max);
        let r = reviewed.clamp(cfg.hedge_ratio_min, cfg.hedge_ratio_max);
        if (r - full).abs() < (h_target - full).abs() {
            let before = h_target;
            reason(reasons, explain, "review", || {
                format!("a risk review tightens the target hedge ratio {before:.3} -> {r:.3}")
            });
            h_target = r;
        }
    }
    h_target
}
