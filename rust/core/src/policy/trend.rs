//! Market layer: the trend guard (off unless `trend_guard_bars > 0`).
//!
//! A grid is short gamma: it earns its spacing while the price ranges and gives it back when
//! the price trends, because the rungs the trend crosses build exposure against it (sells
//! above the price add to the short in a rise, buys below take it off in a fall). The guard
//! compares the price with the mean close of the last `trend_guard_bars` candles (at most the
//! window the policy sees): more than `trend_guard_pct` above it is an up-trend and the sell
//! rungs beyond the center pause; more than `trend_guard_pct` below it is a down-trend and the
//! buy rungs beyond the center pause. The center rung (level 0, which only brings the hedge
//! back to its reference) and the other side stay, so the book can still unwind.
//!
//! No state: the mean is a statistic of the window ([`super::MarketStats::trend_mean`]), the
//! same whether it is recomputed from a candle window or kept by a [`super::PolicyEngine`].

use super::{reason, DesiredOrder, PolicyConfig, Reason, Role};
use crate::money::Side;

/// Where the price stands against the moving mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Within `pct` of the mean (or the guard is off).
    Flat,
    /// More than `pct` above the mean.
    Up,
    /// More than `pct` below the mean.
    Down,
}

/// Candles the guard's mean covers in a window of `len` candles (0 when the guard is off).
pub fn mean_bars(cfg: &PolicyConfig, len: usize) -> usize {
    cfg.trend_guard_bars.min(len)
}

/// Mean of `tail` (the closes of the last [`mean_bars`] candles, oldest first), summed in
/// that order so a window and an engine get the same bits; 0 when empty.
pub fn mean_close(tail: impl ExactSizeIterator<Item = f64>) -> f64 {
    let k = tail.len();
    if k == 0 {
        return 0.0;
    }
    tail.sum::<f64>() / k as f64
}

/// The trend of `price` against `mean` (quote) with the threshold `pct` (fraction); `Flat`
/// when `mean <= 0` (no mean: the guard is off).
pub fn classify(price: f64, mean: f64, pct: f64) -> Trend {
    if mean <= 0.0 {
        Trend::Flat
    } else if price > mean * (1.0 + pct) {
        Trend::Up
    } else if price < mean * (1.0 - pct) {
        Trend::Down
    } else {
        Trend::Flat
    }
}

/// Drop the grid rungs the trend would fill against itself (sells beyond the center in an
/// up-trend, buys beyond it in a down-trend).
pub(super) fn guard(
    cfg: &PolicyConfig,
    price: f64,
    mean: f64,
    grid_orders: &mut Vec<DesiredOrder>,
    reasons: &mut Vec<Reason>,
    explain: bool,
) {
    if cfg.trend_guard_bars == 0 {
        return;
    }
    let paused = match classify(price, mean, cfg.trend_guard_pct) {
        Trend::Flat => return,
        Trend::Up => Side::Sell,
        Trend::Down => Side::Buy,
    };
    let before = grid_orders.len();
    grid_orders.retain(|o| !(o.role == Role::Grid && o.side == paused && o.level != 0));
    if grid_orders.len() < before {
        reason(reasons, explain, "trend_guard", || {
            format!(
                "price {price} is more than {:.2}% {} the {}-bar mean {mean:.2}: {} {} rung(s) beyond the center paused",
                100.0 * cfg.trend_guard_pct,
                if paused == Side::Sell { "above" } else { "below" },
                cfg.trend_guard_bars,
                before - grid_orders.len(),
                paused.as_str()
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classify_uses_the_threshold_both_ways() {
        assert_eq!(classify(103.0, 100.0, 0.02), Trend::Up);
        assert_eq!(classify(97.0, 100.0, 0.02), Trend::Down);
        assert_eq!(classify(101.0, 100.0, 0.02), Trend::Flat);
        assert_eq!(classify(99.0, 100.0, 0.02), Trend::Flat);
        assert_eq!(classify(50.0, 0.0, 0.02), Trend::Flat);
    }

    proptest! {
        #[test]
        fn mean_close_is_the_mean_of_the_tail(
            xs in prop::collection::vec(1.0f64..1e6, 0..60),
            bars in 0usize..80,
        ) {
            let cfg = PolicyConfig { trend_guard_bars: bars, ..crate::policy::tests::config() };
            let k = mean_bars(&cfg, xs.len());
            let got = mean_close(xs[xs.len() - k..].iter().copied());
            if k == 0 {
                prop_assert_eq!(got, 0.0);
            } else {
                prop_assert_eq!(k, bars.min(xs.len()));
                let want = xs[xs.len() - k..].iter().sum::<f64>() / k as f64;
                prop_assert!((got - want).abs() <= 1e-12 * want);
            }
        }
    }
}
