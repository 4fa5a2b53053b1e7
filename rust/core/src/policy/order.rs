//! Order layer: the grid ladder and the orders at its rungs.
//!
//! The center (recentred on drift), the ladders from [`GridPlan`] (cached while their shape
//! holds), support/resistance snapping, the orders for what the hedge lacks (sells above the
//! price) or exceeds (buys below it) at each rung, each order capped at `max_volume_share` of
//! recent volume (the market layer's impact cap), the market minimums, and at the end
//! `max_active_orders` (nearest the price first).
//!
//! Costs per decision, in the rungs `n` a side: the ladders are reused while their shape
//! holds (else built again, O(n)); support/resistance snapping checks each rung against the
//! sorted levels with a multiplication and runs the exact rule (a division and a binary search
//! of the levels) only for the rungs a level may lie near; the orders are made in one pass that
//! also sees whether they are in ladder order, so the caps need no sort (O(n); a sort only
//! when that order does not hold).

use super::{reason, DesiredOrder, MarketStats, PolicyConfig, PolicyState, Reason, Role};
use crate::error::Result;
use crate::fills::OrderKind;
use crate::grid::{Grid, GridMode, GridParams, GridPlan};
use crate::levels::SrLevel;
use crate::money::{snap, Market, Round, Side};
use crate::sizing::SizeBound;

/// What one side's ladder is built from: the spacing (bits), `num_levels`,
/// `min_price_distance` (bits), the mode, the step (lots a level) and the center (ticks). The
/// grid parameters and the center price are functions of these (the step's amount and the
/// center's price by the market's exact conversions), so equal keys give equal ladders; the
/// key is compared on integers, without converting the step and the center first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LadderKey {
    spacing_bits: u64,
    num_levels: usize,
    min_price_distance_bits: u64,
    mode: GridMode,
    step_lots: i64,
    center_ticks: i64,
}

/// One side's ladder (level, price ticks, lots) as the grid plan built it, with the plan's
/// `dropped_below_minimum` count, keyed by what it was built from ([`LadderKey`]), so a
/// decision whose spacing, center and step did not move reuses it.
#[derive(Debug, Clone, Default)]
pub(super) struct LadderCache {
    pub(super) key: Option<LadderKey>,
    pub(super) rungs: Vec<(i32, i64, i64)>,
    pub(super) dropped_below_minimum: u32,
}

/// The last support/resistance snapping, by everything it depends on: the rungs before it,
/// the levels' prices (bits), the tolerance, `min_price_distance` (bits) and the tick size.
/// Snapping is a function of these, so a decision whose ladders and levels did not move takes
/// its rungs and count from here instead of snapping again (the reason is still given).
#[derive(Debug, Clone, Default)]
pub(super) struct SnapCache {
    valid: bool,
    tolerance_bits: u64,
    min_price_distance_bits: u64,
    tick_size: rust_decimal::Decimal,
    level_prices: Vec<u64>,
    /// The rungs before snapping (the key).
    before: [Vec<(i32, i64, i64)>; 2],
    /// What snapping changed in them: (side, 0 sells / 1 buys; rung index; new ticks).
    changes: Vec<(usize, usize, i64)>,
    moved: usize,
}

impl SnapCache {
    /// Whether the cache holds the snapping of exactly these inputs.
    fn holds(
        &self,
        cfg: &PolicyConfig,
        market: &Market,
        levels: &[SrLevel],
        sells: &[(i32, i64, i64)],
        buys: &[(i32, i64, i64)],
    ) -> bool {
        self.valid
            && self.tolerance_bits == cfg.sr_tolerance_pct.to_bits()
            && self.min_price_distance_bits == cfg.min_price_distance.to_bits()
            && self.tick_size == market.tick_size()
            && self.before[0] == sells
            && self.before[1] == buys
            && self.level_prices.len() == levels.len()
            && self
                .level_prices
                .iter()
                .zip(levels)
                .all(|(bits, l)| *bits == l.price.to_bits())
    }

    /// Apply the snapping held (the rungs must be its `before`, [`SnapCache::holds`]).
    fn apply(&self, sells: &mut [(i32, i64, i64)], buys: &mut [(i32, i64, i64)]) {
        for &(side, k, ticks) in &self.changes {
            let rungs = if side == 0 { &mut *sells } else { &mut *buys };
            rungs[k].1 = ticks;
        }
    }

    /// Remember the snapping of `levels` from `before` to `after` (sells, buys; snapping
    /// moves rungs' ticks only).
    fn store(
        &mut self,
        cfg: &PolicyConfig,
        market: &Market,
        levels: &[SrLevel],
        before: [Vec<(i32, i64, i64)>; 2],
        after: [&[(i32, i64, i64)]; 2],
        moved: usize,
    ) {
        self.tolerance_bits = cfg.sr_tolerance_pct.to_bits();
        self.min_price_distance_bits = cfg.min_price_distance.to_bits();
        self.tick_size = market.tick_size();
        self.level_prices.clear();
        self.level_prices
            .extend(levels.iter().map(|l| l.price.to_bits()));
        self.changes.clear();
        for (side, (was, now)) in before.iter().zip(after).enumerate() {
            debug_assert_eq!(was.len(), now.len());
            for (k, (a, b)) in was.iter().zip(now).enumerate() {
                debug_assert_eq!((a.0, a.2), (b.0, b.2));
                if a.1 != b.1 {
                    self.changes.push((side, k, b.1));
                }
            }
        }
        self.before = before;
        self.moved = moved;
        self.valid = true;
    }
}

/// The order layer's grid for a book that is not halted: the center (recentred on drift),
/// the ladders, support/resistance, the orders for what the hedge lacks or exceeds at each
/// rung, the volume cap and the market minimums, into `grid_orders`. Returns true when those
/// are seen to be in ladder order ([`in_ladder_order`], as is any subsequence of them); false
/// leaves it open.
#[allow(clippy::too_many_arguments)]
pub(super) fn grid(
    cfg: &PolicyConfig,
    market: &Market,
    (price, price_q): (f64, f64),
    stats: &MarketStats,
    state: &PolicyState,
    new_state: &mut PolicyState,
    (s_lo, s_hi, s_target, s_cur, spot): (i64, i64, i64, i64, f64),
    (spacing, (level_cap, level_bound)): (f64, (i64, Option<SizeBound>)),
    plan_slot: &mut Option<GridPlan>,
    grid_slot: &mut Grid,
    ladders: &mut [LadderCache; 2],
    snapped: &mut SnapCache,
    sells: &mut Vec<(i32, i64, i64)>,
    buys: &mut Vec<(i32, i64, i64)>,
    grid_orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) -> Result<bool> {
    let lot = market.lot_f64();
    let to_lots = |base: f64| snap(base / lot, Round::Down);

    // the center: recenter on drift or when unset (`price_q`: the price in ticks)
    let center_price = market.ticks_to_f64(state.center_ticks);
    let recenter = new_state.center_ticks <= 0
        || (price / center_price - 1.0).abs() > cfg.recenter_threshold_pct;
    if recenter {
        if state.center_ticks > 0 && new_state.center_ticks > 0 {
            reason(reasons, explain, "recenter", || {
                format!("price {price} drifted more than {:.2}% from the center {center_price}: recenter", 100.0 * cfg.recenter_threshold_pct)
            });
        }
        new_state.center_ticks = snap(price_q, Round::Down).max(1);
        new_state.ref_short_lots = s_target;
    }
    let s_ref = new_state.ref_short_lots.clamp(s_lo, s_hi);
    let center = new_state.center_ticks;

    // the ladder of rungs
    let levels = cfg.num_levels as i64;
    let (band_sell, band_buy) = ((s_hi - s_ref) / levels, (s_ref - s_lo) / levels);
    let (sell_step, buy_step) = (band_sell.min(level_cap), band_buy.min(level_cap));
    if level_cap < band_sell.max(band_buy) {
        reason(reasons, explain, "risk_sizing", || {
            let by = level_bound.map_or("risk", |b| b.as_str());
            format!(
                "{by} sizing caps each level at {} (the band would give {} / {}: sells / buys)",
                market.lots_to_amount(level_cap),
                market.lots_to_amount(band_sell),
                market.lots_to_amount(band_buy)
            )
        });
    }
    // (level, price_ticks, lots at the rung)
    if plan_slot.as_ref().is_some_and(|p| p.market() != market) {
        // the ladders were built on another market
        *plan_slot = None;
        ladders.iter_mut().for_each(|c| c.key = None);
    }
    // kept, the center is the last decision's (only a rebalance moves `new_state`'s, to 0,
    // which recenters): its price is `center_price`; else converted when a ladder is built
    let center_f = (!recenter).then_some(center_price);
    for (step, band_step, is_sell) in [(sell_step, band_sell, true), (buy_step, band_buy, false)] {
        if step < 1 {
            if spot > 0.0 && band_step < 1 {
                // a side the position cap emptied: name the cap and the value restoring it
                let uncapped = to_lots(cfg.hedge_ratio_max * spot);
                let by_cap = is_sell && s_hi < uncapped;
                reason(reasons, explain, "band_too_narrow", || {
                    let side = if is_sell { "sell" } else { "buy" };
                    if by_cap {
                        format!(
                            "max_position_size {} caps the band top at {}: no sell levels; max_position_size >= {} restores them",
                            cfg.max_position_size,
                            market.lots_to_amount(s_hi),
                            market.lots_to_amount(uncapped.max(s_ref + levels))
                        )
                    } else {
                        format!(
                            "the {side} side of the band holds less than one lot per level: no {side} levels"
                        )
                    }
                });
            }
            continue;
        }
        let cache = &mut ladders[usize::from(!is_sell)];
        let key = Some(LadderKey {
            spacing_bits: spacing.to_bits(),
            num_levels: cfg.num_levels,
            min_price_distance_bits: cfg.min_price_distance.to_bits(),
            mode: cfg.grid_mode,
            step_lots: step,
            center_ticks: center,
        });
        if cache.key != key {
            cache.key = None; // stays None if building fails
            let params = GridParams {
                spacing,
                num_levels: cfg.num_levels,
                min_price_distance: cfg.min_price_distance,
                mode: cfg.grid_mode,
                amount_per_level: market.lots_to_f64(step),
            };
            let center_f = center_f.unwrap_or_else(|| market.ticks_to_f64(center));
            let plan = match plan_slot.take() {
                Some(mut plan) => {
                    plan.set_params(params)?;
                    plan_slot.insert(plan)
                }
                None => plan_slot.insert(GridPlan::new(params, market)?),
            };
            let grid = &mut *grid_slot;
            plan.levels_into(center_f, grid)?;
            let side = if is_sell { &grid.sells } else { &grid.buys };
            cache.rungs.clear();
            cache.rungs.extend(side.iter().map(|l| {
                let level = if is_sell {
                    l.index as i32
                } else {
                    -(l.index as i32)
                };
                (level, l.price_ticks, l.amount_lots)
            }));
            cache.dropped_below_minimum = grid.counts.dropped_below_minimum;
            cache.key = key;
        }
        if cache.dropped_below_minimum > 0 {
            let dropped = cache.dropped_below_minimum;
            reason(reasons, explain, "below_minimum", || {
                format!("{dropped} level(s) below the market minimums dropped")
            });
        }
        let out = if is_sell { &mut *sells } else { &mut *buys };
        out.extend_from_slice(&cache.rungs);
    }
    if cfg.support_resistance {
        snap_to_support_resistance(
            cfg,
            market,
            &stats.sr_levels,
            snapped,
            sells,
            buys,
            reasons,
            explain,
        );
    }

    // each order as it is made: capped at a share of recent volume (market layer), then
    // dropped below the market minimums (one pass; the same orders and counts as capping all
    // then filtering all)
    let avg_volume = stats.avg_volume;
    let volume_cap = (avg_volume > 0.0).then(|| to_lots(cfg.max_volume_share * avg_volume));
    let (mut capped, mut dropped) = (0usize, 0usize);
    // whether the orders kept are in ladder order ([`in_ladder_order`]), on integers: sells lie
    // above the price and buys below it, so a side's distance never decreases where its price
    // moves away (a sufficient check: when it fails the caller checks the full rule)
    let (mut in_order, mut prev) = (true, None::<(Side, i32, i64)>);
    let mut emit = |mut o: DesiredOrder| {
        if let Some(cap) = volume_cap {
            if o.amount_lots > cap {
                o.amount_lots = cap;
                capped += 1;
            }
        }
        if o.amount_lots > 0 && market.meets_minimums(o.price_ticks, o.amount_lots) {
            let level = o.level.abs();
            if let Some((side, prev_level, prev_ticks)) = prev {
                in_order &= match (side, o.side) {
                    (Side::Sell, Side::Buy) => true,
                    (Side::Buy, Side::Sell) => false,
                    (Side::Sell, Side::Sell) => prev_level < level && prev_ticks <= o.price_ticks,
                    (Side::Buy, Side::Buy) => prev_level < level && prev_ticks >= o.price_ticks,
                };
            }
            prev = Some((o.side, level, o.price_ticks));
            grid_orders.push(o);
        } else {
            dropped += 1;
        }
    };

    // orders for what the hedge lacks (sells above the price) or exceeds (buys below it)
    let (mut target_prev, mut cum) = (s_ref, s_ref);
    if center as f64 > price_q && s_ref > s_cur {
        emit(DesiredOrder {
            role: Role::Grid,
            side: Side::Sell,
            level: 0,
            kind: OrderKind::Limit,
            price_ticks: center,
            amount_lots: s_ref - s_cur,
        });
    }
    for &(level, ticks, lots) in sells.iter() {
        cum = (cum + lots).min(s_hi);
        let size = cum - s_cur.max(target_prev);
        if size > 0 && ticks as f64 > price_q {
            emit(DesiredOrder {
                role: Role::Grid,
                side: Side::Sell,
                level,
                kind: OrderKind::Limit,
                price_ticks: ticks,
                amount_lots: size,
            });
        }
        target_prev = cum;
    }
    let (mut target_prev, mut cum) = (s_ref, s_ref);
    if (center as f64) < price_q && s_cur > s_ref {
        emit(DesiredOrder {
            role: Role::Grid,
            side: Side::Buy,
            level: 0,
            kind: OrderKind::Limit,
            price_ticks: center,
            amount_lots: s_cur - s_ref,
        });
    }
    for &(level, ticks, lots) in buys.iter() {
        cum = (cum - lots).max(s_lo);
        let size = s_cur.min(target_prev) - cum;
        if size > 0 && (ticks as f64) < price_q {
            emit(DesiredOrder {
                role: Role::Grid,
                side: Side::Buy,
                level,
                kind: OrderKind::Limit,
                price_ticks: ticks,
                amount_lots: size,
            });
        }
        target_prev = cum;
    }

    if let (Some(volume_cap), true) = (volume_cap, capped > 0) {
        reason(reasons, explain, "volume_cap", || {
            format!(
                "{capped} order(s) capped at {:.1}% of recent volume ({})",
                100.0 * cfg.max_volume_share,
                market.lots_to_amount(volume_cap)
            )
        });
    }
    if dropped > 0 {
        reason(reasons, explain, "below_minimum", || {
            format!("{dropped} order(s) below the market minimums dropped")
        });
    }

    Ok(in_order)
}

/// Distance of an order's price from `price_q` (ticks): the key the caps rank grid orders by.
fn distance(o: &DesiredOrder, price_q: f64) -> f64 {
    (o.price_ticks as f64 - price_q).abs()
}

/// Sort the grid orders nearest the price (`price_q`, ticks) first: the order the caps keep.
pub(super) fn nearest_first(grid_orders: &mut [DesiredOrder], price_q: f64) {
    grid_orders.sort_by(|a, b| distance(a, price_q).total_cmp(&distance(b, price_q)));
}

/// Whether the grid orders are in ladder order: every sell before every buy, and within a
/// side `|level|` strictly increasing with the distance from `price_q` never decreasing (what
/// [`grid`] builds from a monotone ladder). Then [`nearest_first`] would only interleave the
/// two sides, so the per-side layers (the stop, the joint cap) see the same orders without
/// it, [`max_active`] picks the same nearest ones by merging the sides, and the decision's
/// final order (grid sells then buys by `|level|`) is this order: no sort is needed.
pub(super) fn in_ladder_order(grid_orders: &[DesiredOrder], price_q: f64) -> bool {
    // (side, |level|, distance) of the previous order
    let mut prev: Option<(Side, i32, f64)> = None;
    for o in grid_orders {
        if o.role != Role::Grid {
            return false;
        }
        let (level, d) = (o.level.abs(), distance(o, price_q));
        if let Some((side, prev_level, prev_d)) = prev {
            let ok = match (side, o.side) {
                (Side::Buy, Side::Sell) => false,
                (Side::Sell, Side::Buy) => true,
                _ => prev_level < level && prev_d.total_cmp(&d).is_le(),
            };
            if !ok {
                return false;
            }
        }
        prev = Some((o.side, level, d));
    }
    true
}

/// Never more than `max_active_orders`: the grid (nearest first) fills the room the other
/// orders leave (the final sort's keys are unique, so this order only matters for what is
/// left out). `ladder`: `grid_orders` is in ladder order ([`in_ladder_order`], not sorted
/// nearest first): the nearest ones are picked by merging the two sides (a tie goes to the
/// sell, as the stable sort would give it) and the ladder order is kept.
pub(super) fn max_active(
    cfg: &PolicyConfig,
    orders: &mut Vec<DesiredOrder>,
    grid_orders: &mut Vec<DesiredOrder>,
    ladder: Option<f64>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    let room = cfg.max_active_orders.saturating_sub(orders.len());
    if grid_orders.len() > room {
        reason(reasons, explain, "max_active_orders", || {
            format!(
                "{} grid order(s) beyond max_active_orders {} left out",
                grid_orders.len() - room,
                cfg.max_active_orders
            )
        });
        if let Some(price_q) = ladder {
            let n = grid_orders.len();
            let sells = grid_orders
                .iter()
                .take_while(|o| o.side == Side::Sell)
                .count();
            let (mut i, mut j) = (0, sells);
            for _ in 0..room {
                let take_sell = i < sells
                    && (j == n
                        || distance(&grid_orders[i], price_q)
                            .total_cmp(&distance(&grid_orders[j], price_q))
                            .is_le());
                if take_sell {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            grid_orders.drain(i..sells);
            grid_orders.truncate(i + (j - sells));
        } else {
            grid_orders.truncate(room);
        }
    }
    orders.truncate(cfg.max_active_orders);
}

/// Move levels within `sr_tolerance_pct` of a support (buys) or resistance (sells) to one tick
/// in front of it, when that keeps the ladder ordered and spaced.
#[allow(clippy::too_many_arguments)]
fn snap_to_support_resistance(
    cfg: &PolicyConfig,
    market: &Market,
    levels: &[SrLevel],
    cache: &mut SnapCache,
    sells: &mut Vec<(i32, i64, i64)>,
    buys: &mut Vec<(i32, i64, i64)>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    if levels.is_empty() {
        return;
    }
    let moved = if cache.holds(cfg, market, levels, sells, buys) {
        cache.apply(sells, buys);
        cache.moved
    } else {
        // the rungs before snapping become the key (the key's buffers reused)
        let mut before = std::mem::take(&mut cache.before);
        for (kept, rungs) in before.iter_mut().zip([&*sells, &*buys]) {
            kept.clear();
            kept.extend_from_slice(rungs);
        }
        let moved = snap_sides(cfg, market, levels, sells, buys);
        cache.store(cfg, market, levels, before, [sells, buys], moved);
        moved
    };
    if moved > 0 {
        reason(reasons, explain, "support_resistance", || {
            format!("{moved} level(s) snapped in front of support/resistance")
        });
    }
}

/// Snap both sides' rungs to the levels; how many moved.
fn snap_sides(
    cfg: &PolicyConfig,
    market: &Market,
    levels: &[SrLevel],
    sells: &mut [(i32, i64, i64)],
    buys: &mut [(i32, i64, i64)],
) -> usize {
    let snapper = Snapper::of(cfg, market);
    // one check for both sides: sorted levels (as `MarketStats` keeps them) take the prefilter
    if levels.is_sorted_by(|a, b| a.price <= b.price) {
        snapper.side(levels, sells, true) + snapper.side(levels, buys, false)
    } else {
        snapper.side_scan(levels, sells, true) + snapper.side_scan(levels, buys, false)
    }
}

/// One side's support/resistance snapping, with what it needs from the config and market.
#[derive(Debug, Clone, Copy)]
struct Snapper<'a> {
    tolerance: f64,
    tick: f64,
    market: &'a Market,
    /// The least distance (ticks) between a snapped rung and its neighbours.
    gap: i64,
    /// The first level (by price) within tolerance of p lies in [p x below, p x above]: the
    /// range p / (1 + tol) .. p / (1 - tol) widened by a margin far above rounding.
    below: f64,
    above: f64,
}

impl<'a> Snapper<'a> {
    fn of(cfg: &PolicyConfig, market: &'a Market) -> Self {
        let tick = market.tick_f64();
        Snapper {
            tolerance: cfg.sr_tolerance_pct,
            tick,
            market,
            gap: snap(cfg.min_price_distance / tick, Round::Up).max(1),
            below: (1.0 - 1e-9) / (1.0 + cfg.sr_tolerance_pct),
            above: (1.0 + 1e-9) / (1.0 - cfg.sr_tolerance_pct),
        }
    }

    /// Snap one side's ladder with the levels sorted by price (the caller checks; else
    /// [`Snapper::side_scan`]); returns how many rungs moved. Only a rung whose range
    /// `[p x below, p x above]` holds a level can move: each rung's range is first checked on
    /// a cheap price (`ticks x tick`, within 1e-15 of the exact one) widened by 1e-12, a
    /// multiplication instead of [`Market::ticks_to_f64`]'s division, and only the rungs it may
    /// hold a level for get the exact [`Snapper::rung`] (the same result as
    /// [`Snapper::side_scan`]).
    fn side(&self, levels: &[SrLevel], ladder: &mut [(i32, i64, i64)], is_sell: bool) -> usize {
        debug_assert!(levels.is_sorted_by(|a, b| a.price <= b.price));
        let (below, above) = (self.below * (1.0 - 1e-12), self.above * (1.0 + 1e-12));
        // the walk below starts at the first rung's place (a binary search; the walk then
        // keeps it for each rung: the first level at or above its wide floor)
        let mut near = ladder.first().map_or(0, |r| {
            let floor = r.1 as f64 * self.tick * below;
            levels.partition_point(|l| l.price < floor)
        });
        let mut moved = 0;
        for k in 0..ladder.len() {
            let ticks = ladder[k].1;
            let p = ticks as f64 * self.tick;
            let (floor, ceiling) = (p * below, p * above);
            // the first level at or above the wide floor (walked: the rungs move monotonically)
            while near > 0 && levels[near - 1].price >= floor {
                near -= 1;
            }
            while near < levels.len() && levels[near].price < floor {
                near += 1;
            }
            if ticks > 0 && levels.get(near).is_none_or(|l| l.price > ceiling) {
                continue; // no level within the wide range, so none within the exact one
            }
            let p = self.market.ticks_to_f64(ticks);
            let floor = p * self.below;
            let from = levels.partition_point(|l| l.price < floor);
            moved += usize::from(self.rung(levels, from, p, ladder, k, is_sell));
        }
        moved
    }

    /// [`Snapper::side`] plainly: every rung in turn (any ladder).
    fn side_scan(
        &self,
        levels: &[SrLevel],
        ladder: &mut [(i32, i64, i64)],
        is_sell: bool,
    ) -> usize {
        let mut moved = 0;
        // the start of the range moves with the rungs (outward, monotonically): walk it from
        // the last rung's instead of searching again; it always equals
        // `levels.partition_point(|l| l.price < floor)`
        let mut from = ladder.first().map_or(0, |r| {
            let floor = self.market.ticks_to_f64(r.1) * self.below;
            levels.partition_point(|l| l.price < floor)
        });
        for k in 0..ladder.len() {
            let p = self.market.ticks_to_f64(ladder[k].1);
            let floor = p * self.below;
            while from > 0 && levels[from - 1].price >= floor {
                from -= 1;
            }
            while from < levels.len() && levels[from].price < floor {
                from += 1;
            }
            moved += usize::from(self.rung(levels, from, p, ladder, k, is_sell));
        }
        moved
    }

    /// Snap rung `k` (price `p`, its ticks' [`Market::ticks_to_f64`]) to the first level from
    /// `from` (the first at or above its range's floor) within tolerance of it, when that keeps
    /// the ladder ordered and spaced; whether it moved.
    fn rung(
        &self,
        levels: &[SrLevel],
        from: usize,
        p: f64,
        ladder: &mut [(i32, i64, i64)],
        k: usize,
        is_sell: bool,
    ) -> bool {
        let ceiling = p * self.above;
        let Some(sr) = levels[from..]
            .iter()
            .take_while(|l| l.price <= ceiling)
            .find(|l| (p - l.price).abs() <= self.tolerance * l.price)
        else {
            return false;
        };
        // in front: a sell just below resistance, a buy just above support
        let target = if is_sell {
            snap(sr.price / self.tick, Round::Down) - 1
        } else {
            snap(sr.price / self.tick, Round::Up) + 1
        };
        let gap = self.gap;
        let inner_ok = k == 0 || (target - ladder[k - 1].1).abs() >= gap;
        let outer_ok = k + 1 == ladder.len() || (ladder[k + 1].1 - target).abs() >= gap;
        let ordered = (k == 0 || (target > ladder[k - 1].1) == is_sell)
            && (k + 1 == ladder.len() || (ladder[k + 1].1 > target) == is_sell);
        if target > 0 && target != ladder[k].1 && inner_ok && outer_ok && ordered {
            ladder[k].1 = target;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::policy::tests::config;

    fn grid_order(side: Side, level: i32, price_ticks: i64) -> DesiredOrder {
        DesiredOrder {
            role: Role::Grid,
            side,
            level,
            kind: OrderKind::Limit,
            price_ticks,
            amount_lots: 1,
        }
    }

    /// The key the decision's final sort orders by.
    fn final_key(o: &DesiredOrder) -> (Role, bool, i32, i64) {
        (o.role, o.side == Side::Buy, o.level.abs(), o.price_ticks)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Reference: the two steps the ladder path skips, done plainly - a stable sort
        /// nearest the price first, the first `room` kept, then the final key sort. The ladder
        /// path (no sort, the sides merged) keeps the same orders in the same final order.
        #[test]
        fn ladder_order_keeps_what_the_sorts_keep(
            sell_gaps in prop::collection::vec(0i64..30, 0..25),
            buy_gaps in prop::collection::vec(0i64..30, 0..25),
            price_q in 1000.0f64..1010.0,
            center_sell in any::<bool>(),
            room in 0usize..60,
        ) {
            // sells at or above the price outward (equal prices allowed: ties), buys below
            let mut orders = Vec::new();
            let mut ticks = price_q.ceil() as i64;
            if center_sell {
                orders.push(grid_order(Side::Sell, 0, ticks));
            }
            for (k, gap) in sell_gaps.iter().enumerate() {
                ticks += gap;
                orders.push(grid_order(Side::Sell, k as i32 + 1, ticks));
            }
            let mut ticks = price_q.floor() as i64;
            for (k, gap) in buy_gaps.iter().enumerate() {
                ticks -= gap;
                orders.push(grid_order(Side::Buy, -(k as i32 + 1), ticks));
            }
            prop_assert!(in_ladder_order(&orders, price_q));
            let cfg = PolicyConfig { max_active_orders: room, ..config() };

            let mut reference = orders.clone();
            reference.sort_by(|a, b| {
                (a.price_ticks as f64 - price_q).abs().total_cmp(&(b.price_ticks as f64 - price_q).abs())
            });
            reference.truncate(room);
            reference.sort_by_key(final_key);

            let mut fast = orders;
            max_active(&cfg, &mut Vec::new(), &mut fast, Some(price_q), &mut Vec::new(), false);
            prop_assert_eq!(fast, reference);
        }

        /// Reference: the rung-by-rung scan. The cheap prefilter moves the same rungs to the
        /// same ticks, on rising, falling (ties included) and unordered ladders.
        #[test]
        fn snapping_prefilter_moves_what_the_scan_moves(
            gaps in prop::collection::vec(0i64..400, 0..40),
            shape in 0u8..3,
            near in prop::collection::vec((0usize..40, -30i64..30), 0..12),
            far in prop::collection::vec(900i64..1200, 0..4),
            tolerance in 0.0001f64..0.02,
            min_distance in 0.0f64..30.0,
            tick in prop::sample::select(vec!["0.1", "0.01", "1"]),
            shuffle in any::<u64>(),
        ) {
            let market = Market::new(tick, "0.001", "0.001", "10").expect("valid");
            // rising (sells), falling (buys) or unordered rungs around 100,000 ticks
            let mut ticks = 100_000i64;
            let mut ladder: Vec<(i32, i64, i64)> = gaps.iter().enumerate().map(|(k, g)| {
                ticks += if shape == 1 { -g } else { *g };
                (k as i32 + 1, ticks, 1)
            }).collect();
            if shape == 2 && ladder.len() > 1 {
                let n = ladder.len();
                ladder.swap(shuffle as usize % n, (shuffle >> 32) as usize % n);
            }
            // levels near some rungs (within a few ticks) and a few anywhere, sorted by price
            let mut levels: Vec<SrLevel> = near.iter().filter_map(|&(k, d)| {
                ladder.get(k % ladder.len().max(1)).map(|r| SrLevel {
                    price: market.ticks_to_f64(r.1 + d) * (1.0 + tolerance * (d as f64) / 40.0),
                    touches: 2,
                })
            }).chain(far.iter().map(|&t| SrLevel { price: market.ticks_to_f64(t * 100), touches: 2 }))
            .collect();
            levels.sort_by(|a, b| a.price.total_cmp(&b.price));
            let cfg = PolicyConfig {
                sr_tolerance_pct: tolerance,
                min_price_distance: min_distance * market.tick_f64(),
                ..config()
            };
            let snapper = Snapper::of(&cfg, &market);
            for is_sell in [true, false] {
                let (mut fast, mut plain) = (ladder.clone(), ladder.clone());
                let moved = snapper.side(&levels, &mut fast, is_sell);
                let moved_plain = snapper.side_scan(&levels, &mut plain, is_sell);
                prop_assert_eq!(&fast, &plain);
                prop_assert_eq!(moved, moved_plain);
            }
        }
    }

    #[test]
    fn cached_snapping_is_fresh_snapping() {
        let market = Market::new("0.1", "0.001", "0.001", "10").expect("valid");
        let cfg = PolicyConfig {
            sr_tolerance_pct: 0.003,
            ..config()
        };
        let sells: Vec<(i32, i64, i64)> = (1..=5)
            .map(|k| (k, 1_000_000 + 5_000 * k as i64, 3))
            .collect();
        let buys: Vec<(i32, i64, i64)> = (1..=5)
            .map(|k| (-k, 1_000_000 - 5_000 * k as i64, 3))
            .collect();
        let near = |ticks: i64| SrLevel {
            price: market.ticks_to_f64(ticks) * 1.001,
            touches: 2,
        };
        let mut cache = SnapCache::default();
        // a miss, a hit, moved levels, a moved ladder, a changed tolerance, then a hit again
        let steps: [(&[SrLevel], i64, f64); 6] = [
            (&[near(990_000), near(1_010_000)], 0, 0.003),
            (&[near(990_000), near(1_010_000)], 0, 0.003),
            (&[near(985_000), near(1_015_000)], 0, 0.003),
            (&[near(985_000), near(1_015_000)], 5_000, 0.003),
            (&[near(985_000), near(1_015_000)], 5_000, 0.0001),
            (&[near(985_000), near(1_015_000)], 5_000, 0.0001),
        ];
        for (levels, shift, tolerance) in steps {
            let cfg = PolicyConfig {
                sr_tolerance_pct: tolerance,
                ..cfg.clone()
            };
            let shifted = |rungs: &[(i32, i64, i64)]| -> Vec<(i32, i64, i64)> {
                rungs.iter().map(|&(l, t, a)| (l, t + shift, a)).collect()
            };
            let (mut fresh_sells, mut fresh_buys) = (shifted(&sells), shifted(&buys));
            let moved = snap_sides(&cfg, &market, levels, &mut fresh_sells, &mut fresh_buys);
            let (mut cached_sells, mut cached_buys) = (shifted(&sells), shifted(&buys));
            let mut reasons = Vec::new();
            snap_to_support_resistance(
                &cfg,
                &market,
                levels,
                &mut cache,
                &mut cached_sells,
                &mut cached_buys,
                &mut reasons,
                false,
            );
            assert_eq!((&cached_sells, &cached_buys), (&fresh_sells, &fresh_buys));
            assert_eq!(reasons.len(), usize::from(moved > 0));
        }
    }

    #[test]
    fn out_of_ladder_order_is_detected() {
        let (sell, buy) = (
            grid_order(Side::Sell, 1, 1010),
            grid_order(Side::Buy, -1, 990),
        );
        assert!(in_ladder_order(&[sell, buy], 1000.0));
        assert!(
            !in_ladder_order(&[buy, sell], 1000.0),
            "a buy before a sell"
        );
        let outer = grid_order(Side::Sell, 2, 1005);
        assert!(
            !in_ladder_order(&[sell, outer], 1000.0),
            "an outer rung nearer the price"
        );
        let same_level = grid_order(Side::Sell, 1, 1020);
        assert!(
            !in_ladder_order(&[sell, same_level], 1000.0),
            "a level twice"
        );
        let stop = DesiredOrder {
            role: Role::Stop,
            ..sell
        };
        assert!(!in_ladder_order(&[stop], 1000.0), "not a grid order");
    }
}
