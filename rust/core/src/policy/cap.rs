//! Position layer: one worst-case cap over every resting order of a side.
//!
//! If every resting order of one side (rebalance, stop, grid) filled within one bar, the
//! futures position must stay within `max_position_size`: with a current short `s` (lots),
//! the sells may add at most `cap - s` and the buys at most `cap + s`. Orders draw on their
//! side's room in priority order - the rebalance, then the stop, then the grid nearest the
//! price first - and are clipped (or dropped) when it runs out. Fills of one side only move
//! the position one way, and fills of the other side only back, so no fill sequence within a
//! bar takes `|position|` past the cap.

use super::{reason, DesiredOrder, Reason};
use crate::fills::OrderKind;
use crate::money::{Market, Side};

/// Clip `orders` (rebalance and stop, in that order) then `grid_orders` (nearest first) to
/// their side's room; drop what is left below the market minimums. `now_ticks` prices a
/// market order's minimum.
#[allow(clippy::too_many_arguments)]
pub(super) fn joint(
    cap: i64,
    short: i64,
    now_ticks: i64,
    market: &Market,
    orders: &mut Vec<DesiredOrder>,
    grid_orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    let mut room_sell = cap.saturating_sub(short).max(0);
    let mut room_buy = cap.saturating_add(short).max(0);
    let mut clipped = 0usize;
    for o in orders.iter_mut().chain(grid_orders.iter_mut()) {
        let room = match o.side {
            Side::Sell => &mut room_sell,
            Side::Buy => &mut room_buy,
        };
        if o.amount_lots > *room {
            o.amount_lots = *room;
            clipped += 1;
        }
        *room -= o.amount_lots;
    }
    if clipped == 0 {
        return;
    }
    let keep = |o: &DesiredOrder| {
        let ticks = if o.kind == OrderKind::Market {
            now_ticks
        } else {
            o.price_ticks
        };
        o.amount_lots > 0 && market.meets_minimums(ticks, o.amount_lots)
    };
    orders.retain(keep);
    grid_orders.retain(keep);
    reason(reasons, explain, "joint_cap", || {
        format!(
            "{clipped} order(s) clipped so that every resting order of a side filling in one bar keeps |position| <= max_position_size ({})",
            market.lots_to_amount(cap)
        )
    });
}
