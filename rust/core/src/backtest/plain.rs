//! The plain-grid fast path ([`BacktestConfig::plain_grid`]): a static geometric grid with the
//! shared fill model's price rules and none of the policy's layers (no volatility, VaR, S/R,
//! funding tilt, stops, recentring or rebalancing) — the baseline of 'a plain 10-level
//! geometric grid', run through the engine.
//!
//! - Levels: `center = round(close[start] / tick)` ticks; level `i` in `-L..=L` (L =
//!   `num_levels`) sits at `round(center x (1 + grid_spacing_pct)^i)` ticks (`round(x)` =
//!   `floor(x + 0.5)`, `pow` with a float exponent). A buy rests at each level below the center
//!   and a sell at each level above it, `lots` = `spot_amount x hedge_ratio / L` in lots
//!   (rounded down, at least one), placed at bar `start`.
//! - Fills (as [`crate::fills::FillBook`]): the path O -> H -> L -> C when close < open,
//!   O -> L -> H -> C otherwise; a sell at `p` fills when the path, snapped down to ticks,
//!   reaches `p + 1`, a buy when the path snapped up reaches `p - 1` (trade-through); fills of a
//!   bar happen in path order (by segment, then in travel order); an order placed at bar `k`
//!   fills from bar `k + 1`; whole fills at the limit price, maker fee; no volume cap.
//! - A filled buy at level `i` places a sell at level `i + 1`, a filled sell a buy at `i - 1`
//!   (if that level exists), after the bar (fill order; a later placement on the same level
//!   replaces an earlier one).
//! - Exact integers on the hot path: position in lots, cash in tick x lot units; fees in f64.
//! - No funding, no decisions: [`Metrics::decisions`] is 0; the fills are recorded with
//!   `record.events` (order = level index `0..=2L`).

use super::{BacktestConfig, BacktestResult, FillRow, Metrics, Moments, Record, Series};
use crate::error::{Error, Result};
use crate::money::{snap, Market, Round, Side};

#[derive(Debug, Clone, Copy)]
struct Level {
    ticks: i64,
    /// 1 a sell rests, -1 a buy rests, 0 empty.
    side: i8,
    placed_bar: usize,
}

/// The plain grid's levels in ticks and its order size in lots.
pub fn plain_levels(cfg: &BacktestConfig, market: &Market, close0: f64) -> Result<(Vec<i64>, i64)> {
    let l = cfg.policy.num_levels;
    if l == 0 {
        return Err(Error::invalid("num_levels", l, "must be >= 1"));
    }
    let tick = market.tick_f64();
    let center = (close0 / tick + 0.5).floor();
    let growth = 1.0 + cfg.policy.grid_spacing_pct;
    let levels: Vec<i64> = (0..=2 * l)
        .map(|k| {
            let e = k as f64 - l as f64;
            (center * growth.powf(e) + 0.5).floor() as i64
        })
        .collect();
    if levels.windows(2).any(|w| w[1] <= w[0]) || levels[0] < 2 {
        return Err(Error::invalid(
            "grid_spacing_pct",
            cfg.policy.grid_spacing_pct,
            "too small for distinct tick levels",
        ));
    }
    let spot = super::to_f64(cfg.spot_amount);
    let lots = market
        .amount_to_lots(spot * cfg.policy.hedge_ratio / l as f64)?
        .max(1);
    Ok((levels, lots))
}

/// Run the plain grid (see the module doc).
pub fn run_plain(
    cfg: &BacktestConfig,
    market: &Market,
    data: &Series<'_>,
    record: Record,
) -> Result<BacktestResult> {
    let n = data.timestamp.len();
    let start = cfg.start;
    let (ticks, lots) = plain_levels(cfg, market, data.close[start])?;
    let mid = cfg.policy.num_levels;
    let mut levels: Vec<Level> = ticks
        .iter()
        .enumerate()
        .map(|(k, &t)| Level {
            ticks: t,
            side: match k.cmp(&mid) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Greater => 1,
                std::cmp::Ordering::Equal => 0,
            },
            placed_bar: start,
        })
        .collect();
    let tick = market.tick_f64();
    let lot = market.lot_f64();
    let unit = tick * lot; // quote per tick x lot
    let maker = super::to_f64(cfg.fill.maker_fee);
    let spot_f = super::to_f64(cfg.spot_amount);
    let cash_f = super::to_f64(cfg.cash);
    // hull of the resting orders: the lowest sell threshold and the highest buy threshold
    let hull = |lv: &[Level]| {
        let mut sell = i64::MAX;
        let mut buy = i64::MIN;
        for x in lv {
            if x.side == 1 {
                sell = sell.min(x.ticks + 1);
            } else if x.side == -1 {
                buy = buy.max(x.ticks - 1);
            }
        }
        (sell, buy)
    };
    let (mut sell_at, mut buy_at) = hull(&levels);
    let near_of = |sell: i64, buy: i64| {
        (
            if sell == i64::MAX {
                f64::INFINITY
            } else {
                (sell - 2) as f64 * tick
            },
            if buy == i64::MIN {
                f64::NEG_INFINITY
            } else {
                (buy + 2) as f64 * tick
            },
        )
    };
    let (mut sell_near, mut buy_near) = near_of(sell_at, buy_at);
    let mut crossings: Vec<(usize, i64, usize)> = Vec::with_capacity(levels.len());
    let mut placements: Vec<(usize, i8)> = Vec::with_capacity(levels.len());
    let mut out = BacktestResult {
        first_bar: start,
        ..BacktestResult::default()
    };
    if record.series {
        out.equity.reserve(n - start);
        out.position.reserve(n - start);
    }
    let mut met = Metrics {
        orders_placed: levels.iter().filter(|x| x.side != 0).count(),
        ..Metrics::default()
    };
    let mut pos_lots: i64 = 0;
    let mut cash_units: i128 = 0; // -sum(side x price_ticks x lots)
    let mut fees = 0.0f64;
    let mut notional_units: i128 = 0;
    let mut basis = cash_f; // cash + cash from trades - fees
    let mut pos_f = 0.0f64;
    let mut t = Tracker::new();
    let mut prev_close = data.close[start];
    t.first(cash_f + spot_f * prev_close);
    if record.series {
        out.equity.push(cash_f + spot_f * prev_close);
        out.position.push(0.0);
    }
    for j in start + 1..n {
        let (o, h, lo, c) = (data.open[j], data.high[j], data.low[j], data.close[j]);
        // a cheap reject first (two ticks of margin cover the snap tolerance), then the exact
        // snapped test
        let near = h >= sell_near || lo <= buy_near;
        if near && (snap(h / tick, Round::Down) >= sell_at || snap(lo / tick, Round::Up) <= buy_at)
        {
            let path = if c < o { [o, h, lo, c] } else { [o, lo, h, c] };
            let down = path.map(|p| snap(p / tick, Round::Down));
            let up = path.map(|p| snap(p / tick, Round::Up));
            crossings.clear();
            for (k, x) in levels.iter().enumerate() {
                if x.side == 0 || x.placed_bar >= j {
                    continue;
                }
                let seg = if x.side == 1 {
                    let th = x.ticks + 1;
                    (0..4).find(|&s| down[s] >= th).map(|s| (s, th))
                } else {
                    let th = x.ticks - 1;
                    (0..4).find(|&s| up[s] <= th).map(|s| (s, -th))
                };
                if let Some((s, key)) = seg {
                    crossings.push((s, key, k));
                }
            }
            crossings.sort_unstable();
            placements.clear();
            let top = levels.len();
            for &(_, _, k) in &crossings {
                let x = &mut levels[k];
                let side = x.side;
                x.side = 0;
                let value = i128::from(x.ticks) * i128::from(lots);
                notional_units += value;
                let fee = value as f64 * unit * maker;
                fees += fee;
                if side == 1 {
                    pos_lots -= lots;
                    cash_units += value;
                    if k > 0 {
                        placements.push((k - 1, -1));
                    }
                } else {
                    pos_lots += lots;
                    cash_units -= value;
                    if k + 1 < top {
                        placements.push((k + 1, 1));
                    }
                }
                met.fills += 1;
                if record.events {
                    out.fills.push(FillRow {
                        bar: j,
                        order: k,
                        side: if side == 1 { Side::Sell } else { Side::Buy },
                        price_ticks: x.ticks,
                        lots,
                        fee,
                        maker: true,
                    });
                }
            }
            for &(k, side) in &placements {
                levels[k].side = side;
                levels[k].placed_bar = j;
                met.orders_placed += 1;
            }
            if !crossings.is_empty() {
                (sell_at, buy_at) = hull(&levels);
                (sell_near, buy_near) = near_of(sell_at, buy_at);
                basis = cash_f + cash_units as f64 * unit - fees;
                pos_f = pos_lots as f64 * lot;
            }
        }
        let equity = basis + (spot_f + pos_f) * c;
        t.bar(equity, spot_f * (c - prev_close));
        prev_close = c;
        if record.series {
            out.equity.push(equity);
            out.position.push(pos_f);
        }
    }
    met.fees = fees;
    met.realized_pnl = f64::NAN;
    met.traded_notional = notional_units as f64 * unit;
    met.mean_hedge_ratio = f64::NAN;
    t.finish(&mut met, n - start, data.bar_ms());
    out.metrics = met;
    Ok(out)
}

/// Running sums shifted by the first value (no division per update); as [`Moments`] at the end.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: f64,
    shift: f64,
    s1: f64,
    s2: f64,
}

impl Sums {
    #[inline]
    fn add(&mut self, x: f64) {
        if self.n == 0.0 {
            self.shift = x;
        }
        let d = x - self.shift;
        self.n += 1.0;
        self.s1 += d;
        self.s2 += d * d;
    }

    fn moments(&self) -> Moments {
        if self.n == 0.0 {
            return Moments::default();
        }
        Moments {
            n: self.n,
            mean: self.shift + self.s1 / self.n,
            m2: (self.s2 - self.s1 * self.s1 / self.n).max(0.0),
        }
    }
}

/// Per-bar metric accumulators (the figures of [`super::run`]'s, one division per bar).
struct Tracker {
    returns: Sums,
    downside: (f64, usize),
    changes: Sums,
    spot_changes: Sums,
    peak: f64,
    /// Equity below this may set a new maximum drawdown (`peak x (1 - max_dd)`, with margin).
    dd_floor: f64,
    prev: f64,
    initial: f64,
    max_dd: f64,
    /// Lowest equity marked.
    min: f64,
}

impl Tracker {
    fn new() -> Self {
        Tracker {
            returns: Sums::default(),
            downside: (0.0, 0),
            changes: Sums::default(),
            spot_changes: Sums::default(),
            peak: f64::NEG_INFINITY,
            dd_floor: f64::NEG_INFINITY,
            prev: f64::NAN,
            initial: f64::NAN,
            max_dd: 0.0,
            min: f64::INFINITY,
        }
    }

    fn first(&mut self, equity: f64) {
        self.initial = equity;
        self.prev = equity;
        self.min = equity;
        self.set_peak(equity);
    }

    fn set_peak(&mut self, equity: f64) {
        self.peak = equity;
        self.dd_floor = if equity > 0.0 {
            equity * (1.0 - self.max_dd) * (1.0 + 1e-9)
        } else {
            f64::NEG_INFINITY
        };
    }

    #[inline]
    fn bar(&mut self, equity: f64, spot_change: f64) {
        let change = equity - self.prev;
        // equity changes: returns on PnL relative to the initial capital up to its scale
        self.returns.add(change);
        if change < 0.0 {
            self.downside.0 += change * change;
        }
        self.downside.1 += 1;
        self.min = self.min.min(equity);
        self.changes.add(change);
        self.spot_changes.add(spot_change);
        if equity > self.peak {
            self.set_peak(equity);
        } else if equity < self.dd_floor {
            let dd = 1.0 - equity / self.peak;
            if dd > self.max_dd {
                self.max_dd = dd;
                self.set_peak(self.peak);
            }
        }
        self.prev = equity;
    }

    fn finish(&self, met: &mut Metrics, bars: usize, bar_ms: i64) {
        met.bars = bars;
        met.initial_equity = self.initial;
        met.final_equity = self.prev;
        met.max_drawdown = self.max_dd;
        met.min_equity = self.min;
        met.bar_ms = bar_ms;
        super::finish_metrics(
            met,
            &self.returns.moments(),
            self.downside,
            &self.changes.moments(),
            &self.spot_changes.moments(),
            bar_ms,
        );
    }
}
