//! Position layer: the band in lots capped by `max_position_size`, and the market order that
//! moves the hedge - to the safe hedge while halted (`halt.rs`), back into the band otherwise -
//! at most `max_volume_share` of recent volume per decision (the rest follows). The stop is
//! `stop.rs`, the joint worst-case cap `cap.rs`, the per-level size from risk `sizing.rs`.

use super::halt::{self, Halt};
use super::{ratio, reason, DesiredOrder, PolicyConfig, PolicyState, Reason, Role};
use crate::fills::OrderKind;
use crate::money::{snap, Market, Round, Side};

/// The hedge band in lots of short: `[hedge_ratio_min, hedge_ratio_max] x spot` snapped down
/// and capped by `max_position_size` (`cap`), and the target inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Band {
    pub cap: i64,
    pub lo: i64,
    pub hi: i64,
    pub target: i64,
    /// `max_position_size` capped the band's top (the reason given).
    pub capped: bool,
}

/// The last [`band`], by the bits of everything it is computed from (the spot, the lot, the
/// target ratio, `max_position_size` and the ratio band): a book whose spot and target did not
/// change (every decision of a backtest without a funding tilt) takes it from here, without
/// its five divisions and snaps (the same band; the reason is still given).
#[derive(Debug, Clone, Default)]
pub(super) struct BandCache {
    last: Option<([u64; 6], Band)>,
}

/// [`band`] through `cache`.
pub(super) fn band_cached(
    cache: &mut BandCache,
    cfg: &PolicyConfig,
    spot: f64,
    lot: f64,
    h_target: f64,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> Band {
    let key = [
        spot,
        lot,
        h_target,
        cfg.max_position_size,
        cfg.hedge_ratio_min,
        cfg.hedge_ratio_max,
    ]
    .map(f64::to_bits);
    match cache.last {
        Some((last_key, last)) if last_key == key => {
            if last.capped {
                position_cap_reason(cfg, reasons, explain);
            }
            last
        }
        _ => {
            let band = band(cfg, spot, lot, h_target, reasons, explain);
            cache.last = Some((key, band));
            band
        }
    }
}

/// The band for `spot` (base units) in lots of `lot`, with the target `h_target x spot`.
pub(super) fn band(
    cfg: &PolicyConfig,
    spot: f64,
    lot: f64,
    h_target: f64,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> Band {
    let to_lots = |base: f64| snap(base / lot, Round::Down);
    let cap = to_lots(cfg.max_position_size);
    let lo = to_lots(cfg.hedge_ratio_min * spot).min(cap);
    let uncapped_hi = to_lots(cfg.hedge_ratio_max * spot);
    let hi = uncapped_hi.min(cap);
    let capped = uncapped_hi > cap;
    if capped {
        position_cap_reason(cfg, reasons, explain);
    }
    Band {
        cap,
        lo,
        hi,
        target: to_lots(h_target * spot).clamp(lo, hi),
        capped,
    }
}

fn position_cap_reason(cfg: &PolicyConfig, reasons: &mut Vec<Reason>, explain: bool) {
    reason(reasons, explain, "position_cap", || {
        format!(
            "band top capped by max_position_size {} (base)",
            cfg.max_position_size
        )
    });
}

/// The halt's de-risking or the band's rebalancing market order, appended to `orders`;
/// returns the short (lots) once it fills. `(s_lo, s_hi, s_target)`: the band after the VaR
/// check and the target; `hedge_ratio`: the current one (for the reason).
#[allow(clippy::too_many_arguments)]
pub(super) fn rebalance(
    cfg: &PolicyConfig,
    market: &Market,
    (price, spot, avg_volume, hedge_ratio): (f64, f64, f64, f64),
    halt: &Halt,
    (s_lo, s_hi, s_target): (i64, i64, i64),
    short: i64,
    new_state: &mut PolicyState,
    orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> i64 {
    let lot = market.lot_f64();
    let to_lots = |base: f64| snap(base / lot, Round::Down);
    let mut s_cur = short;
    let volume_cap = if avg_volume > 0.0 {
        to_lots(cfg.max_volume_share * avg_volume)
    } else {
        i64::MAX
    };
    let rebalance_to = if halt.halted {
        Some(halt::target(
            cfg,
            |h| to_lots(h * spot),
            to_lots(spot),
            s_cur,
            s_lo,
            s_hi,
        ))
    } else if s_cur < s_lo || s_cur > s_hi {
        Some(s_target.clamp(s_lo, s_hi))
    } else {
        None
    };
    let Some(target) = rebalance_to.filter(|&t| t != s_cur) else {
        return s_cur;
    };
    let (side, want) = if target > s_cur {
        (Side::Sell, target - s_cur)
    } else {
        (Side::Buy, s_cur - target)
    };
    let lots = want.min(volume_cap);
    if lots <= 0
        || !market.meets_minimums(snap(price / market.tick_f64(), Round::Down).max(1), lots)
    {
        return s_cur;
    }
    orders.push(DesiredOrder {
        role: Role::Rebalance,
        side,
        level: 0,
        kind: OrderKind::Market,
        price_ticks: 0,
        amount_lots: lots,
    });
    reason(reasons, explain, "rebalance", || {
        format!(
            "hedge ratio {:.3} {}: market {} {} toward {:.3}{}",
            hedge_ratio,
            if halt.halted {
                "halted".to_string()
            } else {
                format!(
                    "outside its band [{:.3}, {:.3}]",
                    ratio(s_lo, lot, spot),
                    ratio(s_hi, lot, spot)
                )
            },
            side.as_str(),
            market.lots_to_amount(lots),
            ratio(target, lot, spot),
            if lots < want {
                format!(
                    " (capped at {:.1}% of recent volume; the rest follows)",
                    100.0 * cfg.max_volume_share
                )
            } else {
                String::new()
            }
        )
    });
    s_cur += if side == Side::Sell { lots } else { -lots };
    if !halt.halted {
        new_state.center_ticks = 0; // recenter on the rebalanced book
    }
    s_cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::config;

    /// The cached band (and its reason) is the band computed afresh, as its inputs change
    /// and repeat.
    #[test]
    fn cached_band_is_the_band() {
        let mut cache = BandCache::default();
        let base = config();
        let capped = PolicyConfig {
            max_position_size: 1.1,
            ..base.clone()
        };
        let steps = [
            (&base, 1.0, 1.0),
            (&base, 1.0, 1.0),
            (&capped, 1.0, 1.0),
            (&capped, 1.0, 1.0),
            (&capped, 1.0, 0.9),
            (&base, 2.5, 0.9),
            (&base, 2.5, 0.9),
        ];
        for (cfg, spot, h_target) in steps {
            let (mut fresh_reasons, mut cached_reasons) = (Vec::new(), Vec::new());
            let fresh = band(cfg, spot, 0.001, h_target, &mut fresh_reasons, false);
            let cached = band_cached(
                &mut cache,
                cfg,
                spot,
                0.001,
                h_target,
                &mut cached_reasons,
                false,
            );
            assert_eq!(cached, fresh);
            assert_eq!(cached_reasons, fresh_reasons);
        }
        assert!(band(&capped, 1.0, 0.001, 1.0, &mut Vec::new(), false).capped);
    }
}
