//! Baselines on the same bars as a backtest, and the grid's excess over one with a
//! moving-block-bootstrap confidence interval.
//!
//! - **Unhedged**: the spot inventory alone: equity = cash + spot x close.
//! - **Static hedge**: the spot inventory and a futures short of `ratio x spot` (base units,
//!   snapped to the nearest lot) opened at the close of the run's first bar with a taker
//!   fill (the first bar is marked before it, so its fee counts), re-traded to that target every `rebalance_bars` bars (0: never again), paid the
//!   same funding events as the grid (a funding time `t` with `open < t <= open + bar` is paid
//!   at the bar's close on the position then held). With a constant spot inventory the target
//!   is constant in base units, so a rebalance trades only after a lot change.
//!
//! Units: money in quote currency; equity marked at each bar's close (f64, from an exact
//! [`Account`]).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::account::Account;
use crate::error::{Error, Result};
use crate::money::decimal_to_f64 as to_f64;
use crate::money::{Market, Side};

use super::Series;

/// A baseline's run over the bars `start..n`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// Final equity minus the equity at the first bar's close (quote).
    pub pnl: f64,
    /// Fees paid (quote).
    pub fees: f64,
    /// Funding received (quote; negative when paid).
    pub funding: f64,
    /// Fills of the hedge (0 for the unhedged inventory).
    pub trades: usize,
    /// Equity at each bar's close, bars `start..n` (empty unless asked for).
    pub equity: Vec<f64>,
}

/// Settings of the static hedge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaticHedge {
    /// Bar of the opening trade.
    pub start: usize,
    /// Spot inventory (base units).
    pub spot_amount: Decimal,
    /// Quote cash.
    pub cash: Decimal,
    /// Short / spot in base units (the policy's `hedge_ratio`), in [0, 10].
    pub ratio: f64,
    /// Bars between two rebalances to the target (0: only the opening trade).
    pub rebalance_bars: usize,
    /// Taker fee as a fraction of notional.
    pub taker_fee: Decimal,
}

/// The unhedged inventory over bars `start..n`.
pub fn unhedged(
    data: &Series<'_>,
    start: usize,
    spot_amount: Decimal,
    cash: Decimal,
    keep_series: bool,
) -> Result<Baseline> {
    let spot = to_f64(spot_amount);
    let cash = to_f64(cash);
    let close = &data.close[start..];
    let first = close
        .first()
        .copied()
        .ok_or_else(|| Error::invalid("start", start, "must be a bar index of the data"))?;
    let last = close[close.len() - 1];
    Ok(Baseline {
        pnl: spot * (last - first),
        equity: if keep_series {
            close.iter().map(|&c| cash + spot * c).collect()
        } else {
            Vec::new()
        },
        ..Baseline::default()
    })
}

/// The static hedge over bars `start..n` (see the module doc).
pub fn static_hedge(
    market: &Market,
    data: &Series<'_>,
    s: &StaticHedge,
    keep_series: bool,
) -> Result<Baseline> {
    let n = data.timestamp.len();
    if s.start >= n {
        return Err(Error::invalid(
            "start",
            s.start,
            format!("must be a bar index in [0, {n})"),
        ));
    }
    if !(0.0..=10.0).contains(&s.ratio) {
        return Err(Error::invalid("hedge_ratio", s.ratio, "must be in [0, 10]"));
    }
    let bar_ms = data.bar_ms();
    let spot = to_f64(s.spot_amount);
    let cash = to_f64(s.cash);
    let lot = market.lot_f64();
    let tick = market.tick_f64();
    let target = -((s.ratio * spot / lot).round() as i64);
    let mut account = Account::new(market.clone());
    let mut trades = 0usize;
    let mut trade = |account: &mut Account, close: f64| -> Result<()> {
        let delta = target - account.position_lots();
        if delta == 0 {
            return Ok(());
        }
        let side = if delta > 0 { Side::Buy } else { Side::Sell };
        let ticks = ((close / tick).round() as i64).max(1);
        let lots = delta.abs();
        let fee = s.taker_fee * market.ticks_to_price(ticks) * market.lots_to_amount(lots);
        account.apply_fill(side, ticks, lots, fee)?;
        trades += 1;
        Ok(())
    };
    let mut equity = Vec::with_capacity(if keep_series { n - s.start } else { 0 });
    let ft = data.funding_time;
    // funding inside the first bar is not paid (as in the grid's run: no position yet)
    let mut fptr = 0;
    let mut first_equity = 0.0;
    let mut last_equity = 0.0;
    // the account's figures as f64, converted when they change (a trade or funding)
    let (mut cached, mut entry, mut position) = (0.0, 0.0, 0.0);
    for j in s.start..n {
        let close = data.close[j];
        let mut dirty = false;
        if j > s.start {
            let opened = data.timestamp[j];
            while fptr < ft.len() && ft[fptr] <= opened {
                fptr += 1;
            }
            while fptr < ft.len() && ft[fptr] <= opened + bar_ms {
                account.apply_funding(close, data.funding_rate[fptr])?;
                fptr += 1;
                dirty = true;
            }
        } else {
            fptr = ft.partition_point(|&t| t <= data.timestamp[j] + bar_ms);
        }
        if j == s.start || (s.rebalance_bars > 0 && (j - s.start) % s.rebalance_bars == 0) {
            let before = account.position_lots();
            trade(&mut account, close)?;
            dirty |= before != account.position_lots();
        }
        // equity = cash + spot x close + base + (close - entry) x position
        if dirty || j == s.start {
            cached = to_f64(account.realized_pnl() + account.funding() - account.fees());
            entry = to_f64(account.entry_price());
            position = to_f64(account.position());
        }
        let e = if j == s.start {
            // marked before the opening trade, so the first change carries its fee
            first_equity = cash + spot * close;
            first_equity
        } else {
            cash + spot * close + cached + (close - entry) * position
        };
        last_equity = e;
        if keep_series {
            equity.push(e);
        }
    }
    Ok(Baseline {
        pnl: last_equity - first_equity,
        fees: to_f64(account.fees()),
        funding: to_f64(account.funding()),
        trades,
        equity,
    })
}

/// The excess of one equity curve over another with its moving-block-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Excess {
    /// Sum of the per-bar differences of the equity changes (= the PnL difference, quote).
    pub total: f64,
    /// 2.5% and 97.5% percentiles of the bootstrapped totals (quote).
    pub ci_low: f64,
    pub ci_high: f64,
    /// `total / sd(bootstrapped totals)`; NaN when that sd is 0.
    pub t_stat: f64,
    /// Block length (bars) and resamples used.
    pub block: usize,
    pub resamples: usize,
}

/// Block length when none is given: `round(m^(1/3))` bars for `m` differences, at least 1.
pub fn default_block(m: usize) -> usize {
    ((m as f64).cbrt().round() as usize).max(1)
}

/// The excess of `grid` over `baseline` (equity at the same bars, same length >= 3): the
/// per-bar differences `d_t = (g_t - g_{t-1}) - (b_t - b_{t-1})`, their sum, and a moving
/// block bootstrap of that sum: `resamples` series of `m = len - 1` differences built from
/// blocks of `block` consecutive differences (0: [`default_block`]) starting uniformly in
/// `[0, m - block]`, cut to `m`; the interval is their 2.5% and 97.5% percentiles (numpy's
/// linear quantile). Deterministic for a `seed` (ChaCha8).
pub fn excess_bootstrap(
    grid: &[f64],
    baseline: &[f64],
    block: usize,
    resamples: usize,
    seed: u64,
) -> Result<Excess> {
    crate::series::same_len("grid", grid.len(), "baseline", baseline.len())?;
    if grid.len() < 3 {
        return Err(Error::invalid(
            "grid",
            grid.len(),
            "needs at least 3 bars for a bootstrap",
        ));
    }
    if resamples < 100 {
        return Err(Error::invalid("resamples", resamples, "must be >= 100"));
    }
    if let Some(i) = grid.iter().chain(baseline).position(|x| !x.is_finite()) {
        return Err(Error::invalid(
            if i < grid.len() { "grid" } else { "baseline" },
            "NaN or infinite",
            "must be finite",
        ));
    }
    let d: Vec<f64> = (1..grid.len())
        .map(|t| (grid[t] - grid[t - 1]) - (baseline[t] - baseline[t - 1]))
        .collect();
    let m = d.len();
    let block = if block == 0 { default_block(m) } else { block };
    if block > m {
        return Err(Error::invalid(
            "block",
            block,
            format!("must be <= the {m} differences"),
        ));
    }
    // prefix sums: a block's sum in O(1)
    let mut prefix = Vec::with_capacity(m + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for &x in &d {
        acc += x;
        prefix.push(acc);
    }
    let total = acc;
    let full = m / block;
    let rest = m - full * block;
    let starts = m - block + 1;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sums = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut s = 0.0;
        for _ in 0..full {
            let a = rng.random_range(0..starts);
            s += prefix[a + block] - prefix[a];
        }
        if rest > 0 {
            let a = rng.random_range(0..starts);
            s += prefix[a + rest] - prefix[a];
        }
        sums.push(s);
    }
    sums.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (resamples - 1) as f64;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(resamples - 1);
        sums[lo] + (h - lo as f64) * (sums[hi] - sums[lo])
    };
    let mean = sums.iter().sum::<f64>() / resamples as f64;
    let sd =
        (sums.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (resamples - 1) as f64).sqrt();
    Ok(Excess {
        total,
        ci_low: q(0.025),
        ci_high: q(0.975),
        t_stat: if sd > 0.0 { total / sd } else { f64::NAN },
        block,
        resamples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market() -> Market {
        Market::new("0.01", "0.001", "0.001", "0").expect("ok")
    }

    #[test]
    fn static_hedge_of_one_is_flat_without_fees_and_funding() {
        let ts: Vec<i64> = (0..5).map(|i| i * 3_600_000).collect();
        let close = [100.0, 110.0, 90.0, 95.0, 120.0];
        let data = Series {
            timestamp: &ts,
            open: &close,
            high: &close,
            low: &close,
            close: &close,
            volume: &close,
            funding_time: &[],
            funding_rate: &[],
        };
        let s = StaticHedge {
            start: 0,
            spot_amount: Decimal::ONE,
            cash: Decimal::ZERO,
            ratio: 1.0,
            rebalance_bars: 2,
            taker_fee: Decimal::ZERO,
        };
        let b = static_hedge(&market(), &data, &s, true).expect("ok");
        assert_eq!(b.trades, 1);
        assert!(b.pnl.abs() < 1e-9, "{}", b.pnl);
        assert!(b.equity.iter().all(|e| (e - 100.0).abs() < 1e-9));
        let u = unhedged(&data, 1, Decimal::ONE, Decimal::ZERO, true).expect("ok");
        assert_eq!(u.pnl, 10.0);
        assert_eq!(u.equity.len(), 4);
        // a half hedge pays the taker fee once and receives funding on its short
        let ft = [3_600_000 + 1, 4 * 3_600_000 + 60_000];
        let fr = [0.01, 0.01];
        let data = Series {
            funding_time: &ft,
            funding_rate: &fr,
            ..data
        };
        let s = StaticHedge {
            ratio: 0.5,
            taker_fee: Decimal::new(1, 3),
            ..s
        };
        let b = static_hedge(&market(), &data, &s, false).expect("ok");
        assert!((b.fees - 0.05).abs() < 1e-12, "{}", b.fees);
        assert!((b.funding - (0.5 * 110.0 * 0.01 + 0.5 * 120.0 * 0.01)).abs() < 1e-12);
        assert!(
            (b.pnl - (0.5 * 20.0 - 0.05 + b.funding)).abs() < 1e-9,
            "{}",
            b.pnl
        );
    }

    #[test]
    fn bootstrap_totals_and_rejects_bad_input() {
        let g: Vec<f64> = (0..200)
            .map(|i| (i as f64 * 0.37).sin() * 5.0 + i as f64)
            .collect();
        let b: Vec<f64> = (0..200).map(|i| (i as f64 * 0.11).cos() * 3.0).collect();
        let e = excess_bootstrap(&g, &b, 0, 500, 1).expect("ok");
        let want = (g[199] - g[0]) - (b[199] - b[0]);
        assert!((e.total - want).abs() < 1e-9);
        assert!(e.ci_low < e.total && e.total < e.ci_high, "{e:?}");
        assert_eq!(e.block, 6);
        assert_eq!(e, excess_bootstrap(&g, &b, 0, 500, 1).expect("ok"));
        assert!(excess_bootstrap(&g, &b[..10], 0, 500, 1).is_err());
        assert!(excess_bootstrap(&g, &b, 0, 10, 1).is_err());
        assert!(excess_bootstrap(&g, &b, 500, 500, 1).is_err());
        let mut bad = g.clone();
        bad[3] = f64::NAN;
        assert!(excess_bootstrap(&bad, &b, 0, 500, 1).is_err());
    }
}
