//! Position layer: the dynamic stop that protects the net exposure.
//!
//! - Reference: the trailing high-water of the price while the book is net long (its
//!   trailing low while net short), taken at the decisions since the net exposure last took
//!   that sign - not the grid center, which moves with the grid.
//! - Level: `reference x (1 -/+ distance)` with `distance = stop_loss_pct x` the volatility
//!   scale, snapped on the safe side (`crate::stops`). A book already past its level is taken
//!   out at market at once.
//! - Size: the net exposure plus the same-side grid orders still in front of the stop (they
//!   fill before the price reaches it), so the stop returns the book to a full hedge.
//! - Same-side grid orders at or beyond the stop would fill through it in the same move and
//!   undo it: they are not placed.
//! - Kept still: while the book keeps the side of its net exposure, the stop the last decision
//!   placed stays where it rests when the rule's new level is within `stop_refresh_tolerance`
//!   of the stop distance of it (in either direction), the new amount is the one resting, it
//!   did not trade and the price is not through it; so it protects at most that fraction of
//!   the distance less than the rule, and is not cancelled and re-placed for every tick the
//!   trailing reference or the volatility scale moves it.
//! - Cooldown: after a stop fires (the path since the previous decision touched it, the fill
//!   model's trigger), the grid side that would rebuild the exposure pauses for
//!   `stop_cooldown` decisions (buys after a sell stop, sells after a buy stop).

use super::{reason, DesiredOrder, PolicyConfig, PolicyState, Reason, Role};
use crate::fills::OrderKind;
use crate::money::{snap, Market, Round, Side};
use crate::stops::{self, PositionSide};

/// The stop distance (fraction of the reference): `stop_loss_pct` x the volatility scale
/// (current over long-run volatility within `[stop_scale_min, stop_scale_max]`; 1 without
/// either), at most 0.99.
pub(super) fn distance(cfg: &PolicyConfig, sigma: f64, long_run: f64) -> crate::error::Result<f64> {
    let scale = if sigma > 0.0 && long_run > 0.0 {
        stops::stop_scale(sigma, long_run, cfg.stop_scale_min, cfg.stop_scale_max)?
    } else {
        1.0
    };
    Ok((cfg.stop_loss_pct * scale).min(0.99))
}

/// Whether the previous decision's stops traded since (given the lowest and highest price
/// since that decision), and the grid sides' pauses that follow. Clears the recorded stops
/// (this decision records its own). Returns whether the (sell, buy) stop traded.
#[allow(clippy::too_many_arguments)]
pub(super) fn cooldown(
    cfg: &PolicyConfig,
    market: &Market,
    state: &PolicyState,
    low_since: f64,
    high_since: f64,
    new_state: &mut PolicyState,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> (bool, bool) {
    let tick = market.tick_f64();
    let sell_fired = state.sell_stop_ticks > 0
        && low_since > 0.0
        && snap(low_since / tick, Round::Up) <= state.sell_stop_ticks;
    let buy_fired = state.buy_stop_ticks > 0
        && high_since > 0.0
        && snap(high_since / tick, Round::Down) >= state.buy_stop_ticks;
    new_state.pause_buys = if sell_fired {
        cfg.stop_cooldown
    } else {
        state.pause_buys.saturating_sub(1)
    };
    new_state.pause_sells = if buy_fired {
        cfg.stop_cooldown
    } else {
        state.pause_sells.saturating_sub(1)
    };
    new_state.sell_stop_ticks = 0;
    new_state.buy_stop_ticks = 0;
    new_state.sell_stop_lots = 0;
    new_state.buy_stop_lots = 0;
    for (fired, side, paused) in [(sell_fired, "sell", "buy"), (buy_fired, "buy", "sell")] {
        if fired {
            reason(reasons, explain, "stop_fired", || {
                format!(
                    "the {side} stop traded: the {paused} side of the grid pauses for {} decisions",
                    cfg.stop_cooldown
                )
            });
        }
    }
    (sell_fired, buy_fired)
}

/// Drop the grid side a stop paused (`new_state`'s pauses).
pub(super) fn pause_grid(
    new_state: &PolicyState,
    grid_orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    if new_state.pause_buys == 0 && new_state.pause_sells == 0 {
        return;
    }
    let before = grid_orders.len();
    grid_orders.retain(|o| match o.side {
        Side::Buy => new_state.pause_buys == 0,
        Side::Sell => new_state.pause_sells == 0,
    });
    if grid_orders.len() < before {
        let (b, s) = (new_state.pause_buys, new_state.pause_sells);
        reason(reasons, explain, "stop_cooldown", || {
            format!("grid side paused after a stop: buys {b}, sells {s} more decisions")
        });
    }
}

/// The stop on the net exposure `net` (lots, positive = long), appended to `orders`; grid
/// orders it would be undone by are removed from `grid_orders`. Updates the trailing
/// reference in `new_state` (and a pause when the book is already past its stop). `fired`:
/// whether the last decision's (sell, buy) stop traded since ([`cooldown`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn place(
    cfg: &PolicyConfig,
    market: &Market,
    price_q: f64,
    net: i64,
    distance: f64,
    state: &PolicyState,
    fired: (bool, bool),
    new_state: &mut PolicyState,
    grid_orders: &mut Vec<DesiredOrder>,
    orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    if net == 0 {
        new_state.stop_ref_ticks = 0;
        return;
    }
    let price_ticks = snap(price_q, Round::Down).max(1);
    let long = net > 0;
    let reference = if long {
        if state.stop_ref_ticks > 0 {
            state.stop_ref_ticks.max(price_ticks)
        } else {
            price_ticks
        }
    } else if state.stop_ref_ticks < 0 {
        (-state.stop_ref_ticks).min(price_ticks)
    } else {
        price_ticks
    };
    new_state.stop_ref_ticks = if long { reference } else { -reference };
    let (protects, side) = if long {
        (PositionSide::Long, Side::Sell)
    } else {
        (PositionSide::Short, Side::Buy)
    };
    let grid_side = if long { Side::Buy } else { Side::Sell };
    // a stop that cannot sit on a positive tick is left out
    let Ok(rule_ticks) =
        stops::stop_ticks_at(market.ticks_to_f64(reference), distance, protects, market)
    else {
        return;
    };
    let past = if long {
        price_ticks <= rule_ticks
    } else {
        price_ticks >= rule_ticks
    };
    if past {
        // the price is already through the stop: out at market now, that grid side pauses
        grid_orders.retain(|o| o.side != grid_side);
        if long {
            new_state.pause_buys = new_state.pause_buys.max(cfg.stop_cooldown);
        } else {
            new_state.pause_sells = new_state.pause_sells.max(cfg.stop_cooldown);
        }
        if market.meets_minimums(price_ticks, net.abs()) {
            orders.push(DesiredOrder {
                role: Role::Stop,
                side,
                level: 0,
                kind: OrderKind::Market,
                price_ticks: 0,
                amount_lots: net.abs(),
            });
            reason(reasons, explain, "stop", || {
                format!(
                    "price is past the stop {} (reference {}, distance {:.2}%): the net exposure goes out at market",
                    market.ticks_to_f64(rule_ticks),
                    market.ticks_to_f64(reference),
                    100.0 * distance
                )
            });
        }
        return;
    }
    // same-side grid orders at or beyond the stop would fill through it in the same move
    let in_front = |o: &DesiredOrder, stop_ticks: i64| {
        o.side != grid_side
            || if long {
                o.price_ticks > stop_ticks
            } else {
                o.price_ticks < stop_ticks
            }
    };
    let ahead_of = |stop_ticks: i64| -> i64 {
        grid_orders
            .iter()
            .filter(|o| o.side == grid_side && in_front(o, stop_ticks))
            .map(|o| o.amount_lots)
            .sum()
    };
    // the resting stop stays still when the rule's level moved less than the tolerance
    let (rest_ticks, rest_lots, rest_fired) = if long {
        (state.sell_stop_ticks, state.sell_stop_lots, fired.0)
    } else {
        (state.buy_stop_ticks, state.buy_stop_lots, fired.1)
    };
    let stop_ticks = if rest_ticks > 0
        && rest_lots > 0
        && !rest_fired
        && rest_ticks != rule_ticks
        && (rest_ticks - rule_ticks).abs() as f64
            <= cfg.stop_refresh_tolerance * distance * reference as f64
        && if long {
            price_ticks > rest_ticks
        } else {
            price_ticks < rest_ticks
        }
        && net.abs() + ahead_of(rest_ticks) == rest_lots
    {
        rest_ticks
    } else {
        rule_ticks
    };
    // one pass: drop the orders beyond the stop, sum the same-side ones left in front of it
    let (before, mut ahead) = (grid_orders.len(), 0i64);
    grid_orders.retain(|o| {
        let keep = in_front(o, stop_ticks);
        if keep && o.side == grid_side {
            ahead += o.amount_lots;
        }
        keep
    });
    let dropped = before - grid_orders.len();
    if dropped > 0 {
        reason(reasons, explain, "stop_clear", || {
            format!(
                "{dropped} grid order(s) beyond the stop {} left out (they would undo it)",
                market.ticks_to_f64(stop_ticks)
            )
        });
    }
    let amount = net.abs() + ahead;
    if market.meets_minimums(stop_ticks, amount) {
        orders.push(DesiredOrder {
            role: Role::Stop,
            side,
            level: 0,
            kind: OrderKind::StopMarket,
            price_ticks: stop_ticks,
            amount_lots: amount,
        });
        if stop_ticks != rule_ticks {
            reason(reasons, explain, "stop_kept", || {
                format!(
                    "the stop stays at {} (the rule's {} is within {:.1}% of its distance)",
                    market.ticks_to_f64(stop_ticks),
                    market.ticks_to_f64(rule_ticks),
                    100.0 * cfg.stop_refresh_tolerance
                )
            });
        }
    }
}

/// Record the stops that survived the caps, for the next decision's [`cooldown`].
pub(super) fn record(orders: &[DesiredOrder], new_state: &mut PolicyState) {
    for o in orders {
        if o.role == Role::Stop && o.kind == OrderKind::StopMarket {
            match o.side {
                Side::Sell => {
                    new_state.sell_stop_ticks = o.price_ticks;
                    new_state.sell_stop_lots = o.amount_lots;
                }
                Side::Buy => {
                    new_state.buy_stop_ticks = o.price_ticks;
                    new_state.buy_stop_lots = o.amount_lots;
                }
            }
        }
    }
}
