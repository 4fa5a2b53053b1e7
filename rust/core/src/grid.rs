//! Grid levels around a center price, exactly on the market's tick and lot grid.
//!
//! Definition (DESIGN.md, 'The strategy, exactly'): with center `c`, spacing `s` (a fraction)
//! and `n` levels a side, level `i` (1..=n) is
//! - geometric: sell `c x (1+s)^i`, buy `c / (1+s)^i` (symmetric in log price);
//! - arithmetic: sell `c + i x s x c`, buy `c - i x s x c`.
//!
//! Levels come from the exact center, then snap side-aware to the tick (buys down, sells up,
//! see [`crate::money::snap`]). Walking outward from the center, a level closer than
//! `min_price_distance` (and at least one tick) to the last kept level on its side merges into
//! it: it disappears and its amount adds to the kept level. If the innermost buy and sell are
//! then too close, the one nearer the center (the sell on a tie) merges into its outward
//! neighbour. Buy levels at or below zero are dropped. Last, levels whose amount or notional is
//! below the market's `min_qty` / `min_notional` are dropped. Every count is reported.

use std::str::FromStr;

use rayon::prelude::*;

use crate::error::{check, Error, Result};
use crate::money::{snap, Market, Round, Side, MAX_UNITS};

/// Most levels a side.
pub const MAX_LEVELS: usize = 1000;

/// How level prices step away from the center.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridMode {
    /// Constant ratio between neighbours: `c x (1+s)^i` and `c / (1+s)^i`.
    Geometric,
    /// Constant price step `s x c`.
    Arithmetic,
}

impl FromStr for GridMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "geometric" => Ok(GridMode::Geometric),
            "arithmetic" => Ok(GridMode::Arithmetic),
            _ => Err(Error::invalid(
                "mode",
                format!("{s:?}"),
                "must be 'geometric' or 'arithmetic'",
            )),
        }
    }
}

/// The shape of a grid, independent of its center.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridParams {
    /// Spacing as a fraction of the center, in (0, 1).
    pub spacing: f64,
    /// Levels on each side, 1..=1000.
    pub num_levels: usize,
    /// Smallest allowed gap between any two levels, in quote units (>= 0).
    pub min_price_distance: f64,
    pub mode: GridMode,
    /// Order amount at each level, in base units (> 0), snapped down to the lot.
    pub amount_per_level: f64,
}

/// One kept level: its original level number (1 = nearest the center), price and amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub index: u32,
    pub price_ticks: i64,
    pub amount_lots: i64,
}

/// Counts of what the grid construction removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridCounts {
    /// Levels merged into a neighbour (duplicates after snapping, or closer than the minimum distance).
    pub merged: u32,
    /// Buy levels at or below a price of zero.
    pub dropped_nonpositive: u32,
    /// Levels below the market's `min_qty` or `min_notional`.
    pub dropped_below_minimum: u32,
}

/// A grid around one center: buys and sells, nearest the center first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grid {
    pub buys: Vec<Level>,
    pub sells: Vec<Level>,
    pub counts: GridCounts,
}

/// Grids for many centers in row-major `(centers, num_levels)` arrays, nearest level first;
/// cells past a row's count hold 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridBatch {
    pub rows: usize,
    pub width: usize,
    pub buy_ticks: Vec<i64>,
    pub buy_lots: Vec<i64>,
    pub sell_ticks: Vec<i64>,
    pub sell_lots: Vec<i64>,
    pub buy_count: Vec<i64>,
    pub sell_count: Vec<i64>,
    pub merged: Vec<i64>,
    pub dropped: Vec<i64>,
}

/// Caller-owned output buffers of [`GridPlan::batch_into`], laid out as in [`GridBatch`].
pub struct GridBatchMut<'a> {
    pub buy_ticks: &'a mut [i64],
    pub buy_lots: &'a mut [i64],
    pub sell_ticks: &'a mut [i64],
    pub sell_lots: &'a mut [i64],
    pub buy_count: &'a mut [i64],
    pub sell_count: &'a mut [i64],
    pub merged: &'a mut [i64],
    pub dropped: &'a mut [i64],
}

/// A validated grid shape bound to a market, ready to place around any center.
#[derive(Debug, Clone)]
pub struct GridPlan {
    params: GridParams,
    market: Market,
    /// Per level i (index i-1): (1+s)^i when geometric, i x s when arithmetic.
    factors: Vec<f64>,
    min_gap_ticks: i64,
    lots: i64,
    /// Row buffers reused by [`GridPlan::levels_into`].
    scratch_ticks: Vec<i64>,
    scratch_index: Vec<u32>,
}

/// One side of one row being built in place.
struct Half<'a> {
    ticks: &'a mut [i64],
    lots: &'a mut [i64],
    index: &'a mut [u32],
    len: usize,
}

impl Half<'_> {
    fn push(&mut self, index: u32, ticks: i64, lots: i64) {
        self.ticks[self.len] = ticks;
        self.lots[self.len] = lots;
        self.index[self.len] = index;
        self.len += 1;
    }

    /// Remove the innermost level, adding its amount to the next one out if there is one.
    fn merge_innermost_outward(&mut self) {
        if self.len > 1 {
            self.lots[1] += self.lots[0];
        }
        self.ticks.copy_within(1..self.len, 0);
        self.lots.copy_within(1..self.len, 0);
        self.index.copy_within(1..self.len, 0);
        self.len -= 1;
        self.clear_tail();
    }

    /// Keep only the levels that meet the market minimums; returns how many were dropped.
    fn retain_minimums(&mut self, market: &Market) -> u32 {
        if (0..self.len).all(|k| market.meets_minimums(self.ticks[k], self.lots[k])) {
            return 0;
        }
        let mut kept = 0;
        for k in 0..self.len {
            if market.meets_minimums(self.ticks[k], self.lots[k]) {
                self.ticks[kept] = self.ticks[k];
                self.lots[kept] = self.lots[k];
                self.index[kept] = self.index[k];
                kept += 1;
            }
        }
        let dropped = (self.len - kept) as u32;
        self.len = kept;
        self.clear_tail();
        dropped
    }

    fn clear_tail(&mut self) {
        self.ticks[self.len..].fill(0);
        self.lots[self.len..].fill(0);
        self.index[self.len..].fill(0);
    }
}

impl GridPlan {
    /// Validate `params` against `market`: spacing in (0, 1), 1..=1000 levels, a finite
    /// `min_price_distance` >= 0 and an `amount_per_level` of at least one lot.
    pub fn new(params: GridParams, market: &Market) -> Result<Self> {
        let (lots, min_gap_ticks) = Self::validated(&params, market)?;
        let mut factors = Vec::with_capacity(params.num_levels);
        Self::fill_factors(&params, &mut factors);
        Ok(GridPlan {
            params,
            market: market.clone(),
            factors,
            min_gap_ticks,
            lots,
            scratch_ticks: Vec::new(),
            scratch_index: Vec::new(),
        })
    }

    /// Switch this plan to `params` (validated as [`GridPlan::new`] does, same errors),
    /// reusing its buffers; the level factors are recomputed only when the spacing, the mode or
    /// the number of levels changed. On an error the plan is unchanged.
    pub fn set_params(&mut self, params: GridParams) -> Result<()> {
        let (lots, min_gap_ticks) = Self::validated(&params, &self.market)?;
        let same_shape = params.spacing.to_bits() == self.params.spacing.to_bits()
            && params.mode == self.params.mode
            && params.num_levels == self.params.num_levels;
        if !same_shape {
            Self::fill_factors(&params, &mut self.factors);
        }
        self.params = params;
        self.lots = lots;
        self.min_gap_ticks = min_gap_ticks;
        Ok(())
    }

    /// The checks of [`GridPlan::new`]: the amount per level in lots and the minimum gap in
    /// ticks.
    fn validated(params: &GridParams, market: &Market) -> Result<(i64, i64)> {
        check::open_interval("spacing", params.spacing, 0.0, 1.0)?;
        check::count_in("num_levels", params.num_levels, 1, MAX_LEVELS)?;
        check::non_negative("min_price_distance", params.min_price_distance)?;
        check::positive("amount_per_level", params.amount_per_level)?;
        let lots = market
            .amount_to_lots(params.amount_per_level)
            .map_err(|_| {
                Error::invalid(
                    "amount_per_level",
                    params.amount_per_level,
                    "is too large for this market's lot size",
                )
            })?;
        if lots < 1 {
            return Err(Error::invalid(
                "amount_per_level",
                params.amount_per_level,
                format!("must be at least one lot ({})", market.lot_size()),
            ));
        }
        let gap = snap(params.min_price_distance / market.tick_f64(), Round::Up);
        if gap > MAX_UNITS {
            return Err(Error::invalid(
                "min_price_distance",
                params.min_price_distance,
                format!("must be at most {MAX_UNITS} ticks"),
            ));
        }
        Ok((lots, gap.max(1)))
    }

    fn fill_factors(params: &GridParams, factors: &mut Vec<f64>) {
        factors.clear();
        factors.extend((1..=params.num_levels).map(|i| match params.mode {
            GridMode::Geometric => (1.0 + params.spacing).powi(i as i32),
            GridMode::Arithmetic => i as f64 * params.spacing,
        }));
    }

    pub fn params(&self) -> &GridParams {
        &self.params
    }

    pub fn market(&self) -> &Market {
        &self.market
    }

    /// The grid around `center` (quote units, finite, > 0).
    pub fn levels(&self, center: f64) -> Result<Grid> {
        let mut grid = Grid::default();
        let mut ticks = Vec::new();
        let mut index = Vec::new();
        self.levels_with(center, &mut grid, &mut ticks, &mut index)?;
        Ok(grid)
    }

    /// [`GridPlan::levels`] into `grid`, reusing its vectors and the plan's row buffers (no
    /// allocation once they have grown): what a caller building a grid per bar wants.
    pub fn levels_into(&mut self, center: f64, grid: &mut Grid) -> Result<()> {
        let mut ticks = std::mem::take(&mut self.scratch_ticks);
        let mut index = std::mem::take(&mut self.scratch_index);
        let out = self.levels_with(center, grid, &mut ticks, &mut index);
        self.scratch_ticks = ticks;
        self.scratch_index = index;
        out
    }

    fn levels_with(
        &self,
        center: f64,
        grid: &mut Grid,
        buf: &mut Vec<i64>,
        idx: &mut Vec<u32>,
    ) -> Result<()> {
        self.check_center("center", center)?;
        let n = self.params.num_levels;
        buf.clear();
        buf.resize(4 * n, 0);
        idx.clear();
        idx.resize(2 * n, 0);
        let (bt, rest) = buf.split_at_mut(n);
        let (bl, rest) = rest.split_at_mut(n);
        let (st, sl) = rest.split_at_mut(n);
        let (bi, si) = idx.split_at_mut(n);
        let mut buys = Half {
            ticks: bt,
            lots: bl,
            index: bi,
            len: 0,
        };
        let mut sells = Half {
            ticks: st,
            lots: sl,
            index: si,
            len: 0,
        };
        grid.counts = self.build_row(center, &mut buys, &mut sells);
        let collect = |h: &Half, out: &mut Vec<Level>| {
            out.clear();
            out.extend((0..h.len).map(|k| Level {
                index: h.index[k],
                price_ticks: h.ticks[k],
                amount_lots: h.lots[k],
            }));
        };
        collect(&buys, &mut grid.buys);
        collect(&sells, &mut grid.sells);
        Ok(())
    }

    /// Grids for every center, in parallel. The first bad center (by position) is the error.
    pub fn batch(&self, centers: &[f64]) -> Result<GridBatch> {
        let rows = centers.len();
        let n = self.params.num_levels;
        let mut out = GridBatch {
            rows,
            width: n,
            buy_ticks: vec![0; rows * n],
            buy_lots: vec![0; rows * n],
            sell_ticks: vec![0; rows * n],
            sell_lots: vec![0; rows * n],
            buy_count: vec![0; rows],
            sell_count: vec![0; rows],
            merged: vec![0; rows],
            dropped: vec![0; rows],
        };
        self.batch_into(
            centers,
            GridBatchMut {
                buy_ticks: &mut out.buy_ticks,
                buy_lots: &mut out.buy_lots,
                sell_ticks: &mut out.sell_ticks,
                sell_lots: &mut out.sell_lots,
                buy_count: &mut out.buy_count,
                sell_count: &mut out.sell_count,
                merged: &mut out.merged,
                dropped: &mut out.dropped,
            },
        )?;
        Ok(out)
    }

    /// [`GridPlan::batch`] into caller-owned, zero-filled buffers (e.g. numpy arrays): the
    /// level arrays hold `centers.len() x num_levels` cells, the count arrays one per center.
    pub fn batch_into(&self, centers: &[f64], out: GridBatchMut<'_>) -> Result<()> {
        let rows = centers.len();
        let n = self.params.num_levels;
        for (name, len, want) in [
            ("buy_ticks", out.buy_ticks.len(), rows * n),
            ("buy_lots", out.buy_lots.len(), rows * n),
            ("sell_ticks", out.sell_ticks.len(), rows * n),
            ("sell_lots", out.sell_lots.len(), rows * n),
            ("buy_count", out.buy_count.len(), rows),
            ("sell_count", out.sell_count.len(), rows),
            ("merged", out.merged.len(), rows),
            ("dropped", out.dropped.len(), rows),
        ] {
            if len != want {
                return Err(Error::invalid(name, len, format!("must hold {want} cells")));
            }
        }
        let mut highest = 0.0f64;
        for (i, &c) in centers.iter().enumerate() {
            if !(c.is_finite() && c > 0.0) {
                check::positive(&format!("centers[{i}]"), c)?;
            }
            highest = highest.max(c);
        }
        if rows == 0 {
            return Ok(());
        }
        self.check_center("centers (largest)", highest)?;
        const BLOCK: usize = 2048;
        out.buy_ticks
            .par_chunks_mut(BLOCK * n)
            .zip(out.buy_lots.par_chunks_mut(BLOCK * n))
            .zip(out.sell_ticks.par_chunks_mut(BLOCK * n))
            .zip(out.sell_lots.par_chunks_mut(BLOCK * n))
            .zip(out.buy_count.par_chunks_mut(BLOCK))
            .zip(out.sell_count.par_chunks_mut(BLOCK))
            .zip(out.merged.par_chunks_mut(BLOCK))
            .zip(out.dropped.par_chunks_mut(BLOCK))
            .zip(centers.par_chunks(BLOCK))
            .for_each(|((((((((bt, bl), st), sl), bc), sc), mg), dr), cs)| {
                let mut bi = vec![0u32; n];
                let mut si = vec![0u32; n];
                for (r, &c) in cs.iter().enumerate() {
                    let span = r * n..(r + 1) * n;
                    let mut buys = Half {
                        ticks: &mut bt[span.clone()],
                        lots: &mut bl[span.clone()],
                        index: &mut bi,
                        len: 0,
                    };
                    let mut sells = Half {
                        ticks: &mut st[span.clone()],
                        lots: &mut sl[span],
                        index: &mut si,
                        len: 0,
                    };
                    let counts = self.build_row(c, &mut buys, &mut sells);
                    bc[r] = buys.len as i64;
                    sc[r] = sells.len as i64;
                    mg[r] = i64::from(counts.merged);
                    dr[r] = i64::from(counts.dropped_nonpositive + counts.dropped_below_minimum);
                }
            });
        Ok(())
    }

    /// A center must be finite, > 0 and keep the outermost sell level within `MAX_UNITS` ticks.
    fn check_center(&self, field: &str, center: f64) -> Result<()> {
        check::positive(field, center)?;
        let top = self.factors[self.factors.len() - 1];
        let q = center / self.market.tick_f64()
            * match self.params.mode {
                GridMode::Geometric => top,
                GridMode::Arithmetic => 1.0 + top,
            };
        if q.is_finite() && q <= MAX_UNITS as f64 {
            Ok(())
        } else {
            Err(Error::invalid(
                field,
                center,
                format!(
                    "puts sell level {} at {:.6e} ticks, beyond the {MAX_UNITS} tick limit: lower num_levels or spacing",
                    self.params.num_levels, q
                ),
            ))
        }
    }

    /// Fill both halves for one (already validated) center; both start empty.
    fn build_row(&self, center: f64, buys: &mut Half, sells: &mut Half) -> GridCounts {
        let mut counts = GridCounts::default();
        let q_center = center / self.market.tick_f64();
        let gap = self.min_gap_ticks;
        for (k, &f) in self.factors.iter().enumerate() {
            let index = k as u32 + 1;
            let (q_sell, q_buy) = match self.params.mode {
                GridMode::Geometric => (q_center * f, q_center / f),
                GridMode::Arithmetic => (q_center * (1.0 + f), q_center * (1.0 - f)),
            };
            let sell = snap(q_sell, Round::Up);
            if sells.len > 0 && sell - sells.ticks[sells.len - 1] < gap {
                sells.lots[sells.len - 1] += self.lots;
                counts.merged += 1;
            } else {
                sells.push(index, sell, self.lots);
            }
            let buy = if q_buy > 0.0 {
                snap(q_buy, Round::Down)
            } else {
                0
            };
            if buy <= 0 {
                counts.dropped_nonpositive += 1;
            } else if buys.len > 0 && buys.ticks[buys.len - 1] - buy < gap {
                buys.lots[buys.len - 1] += self.lots;
                counts.merged += 1;
            } else {
                buys.push(index, buy, self.lots);
            }
        }
        while buys.len > 0 && sells.len > 0 && sells.ticks[0] - buys.ticks[0] < gap {
            // sell - q <= q - buy, with ties (within float noise) going to the sell
            let sum = (sells.ticks[0] + buys.ticks[0]) as f64;
            let twice = 2.0 * q_center;
            if sum <= twice + crate::money::SNAP_ULPS * f64::EPSILON * twice.max(1.0) {
                sells.merge_innermost_outward();
            } else {
                buys.merge_innermost_outward();
            }
            counts.merged += 1;
        }
        counts.dropped_below_minimum =
            buys.retain_minimums(&self.market) + sells.retain_minimums(&self.market);
        counts
    }
}

impl Grid {
    /// All levels as (side, level) pairs, buys then sells, nearest the center first.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &Level)> {
        self.buys
            .iter()
            .map(|l| (Side::Buy, l))
            .chain(self.sells.iter().map(|l| (Side::Sell, l)))
    }
}

#[cfg(test)]
mod tests;
