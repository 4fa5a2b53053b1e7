//! Horizon VaR by filtered historical simulation on overlapping horizon sums, kept
//! incrementally (the VaR the policy checks against `var_limit`, issue 15 item 7).
//!
//! Each return `r_t` is standardised by the EWMA (RiskMetrics, lambda 0.94) volatility forecast
//! made before it, `z_t = r_t / sigma_t` (0 while the forecast is 0); the losses of the
//! overlapping sums of `h` consecutive `z` (`-(z_{t-h+1} + ... + z_t)`, summed oldest first)
//! of the last `window` sums are kept sorted. The `h`-bar VaR as a fraction of exposure
//! (positive loss) is numpy's 'linear' quantile of those losses at the confidence, times the
//! forecast for the next bar `sigma_{T+1}`, floored at 0. The filter removes volatility
//! clustering, so a long window of residuals is near stationary and fills the 99% tail; the
//! overlapping sums carry the residuals' own horizon dependence and fat tails instead of the
//! square-root-of-time rule. Validated on real hourly BTC by `benches/bench_var_horizon.py`.
//!
//! Cost per return: O(h) for the sum and a slide of the losses' upper tail
//! ([`HighQuantiles`]: O(K) for the `K ~ W (1 - c)` top losses a read at the declared
//! confidence `c` needs, amortised; O(W / 64 + 64) when `c` < 0.875 keeps them all sorted).
//! A read at the declared confidence is O(1); at another, exact but O(W) when the tail does
//! not reach it.

use std::collections::VecDeque;

use super::sorted::loss_of;
use super::tail::HighQuantiles;
use crate::error::{check, Result};

/// The RiskMetrics decay of the EWMA filter.
pub const FHS_LAMBDA: f64 = crate::volatility::EWMA_LAMBDA_DEFAULT;

/// Incremental filtered-historical-simulation horizon VaR (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct FhsHorizonVar {
    horizon: usize,
    window: usize,
    /// EWMA variance forecast for the next return (None before the first return).
    s2: Option<f64>,
    /// The last `horizon` standardised returns, oldest first.
    z: VecDeque<f64>,
    /// Losses of the overlapping horizon sums, oldest first, and their upper tail.
    sums: VecDeque<f64>,
    tail: HighQuantiles,
}

impl FhsHorizonVar {
    /// Horizon `h` in bars (>= 1), the number of overlapping sums kept (>= 1) and the
    /// confidence whose VaR [`FhsHorizonVar::var_fraction`] reads in O(1) (in [0, 1]: 0.99 is
    /// the 99% quantile of the losses; a read at another confidence is exact but may be O(W)).
    pub fn new(horizon: usize, window: usize, confidence: f64) -> Result<Self> {
        check::count_in("var_horizon_bars", horizon, 1, super::MAX_HORIZON)?;
        check::count_in("var_window_bars", window, 1, 10_000_000)?;
        Ok(FhsHorizonVar {
            horizon,
            window,
            s2: None,
            z: VecDeque::with_capacity(horizon + 1),
            sums: VecDeque::with_capacity(window + 1),
            tail: HighQuantiles::new(window, &[confidence]),
        })
    }

    /// Read the VaR in O(1) at `confidence` from now on (the sums held carry over).
    pub fn set_confidence(&mut self, confidence: f64) {
        self.tail =
            HighQuantiles::from_window(self.window, &[confidence], self.sums.iter().copied());
    }

    /// Forget every return.
    pub fn reset(&mut self) {
        self.s2 = None;
        self.z.clear();
        self.sums.clear();
        self.tail.clear();
    }

    /// Forget every return and give the windows' memory back (they regrow when fed).
    pub fn release(&mut self) {
        self.reset();
        self.z.shrink_to_fit();
        self.sums.shrink_to_fit();
        self.tail.shrink_to_fit();
    }

    /// Horizon sums held (at most `window`).
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// Feed the next simple return (finite).
    pub fn push(&mut self, r: f64) {
        if let Some(s2) = self.s2 {
            let sigma = s2.sqrt();
            self.z.push_back(if sigma > 0.0 { r / sigma } else { 0.0 });
            if self.z.len() > self.horizon {
                self.z.pop_front();
            }
            if self.z.len() == self.horizon {
                let loss = loss_of(self.z.iter().sum::<f64>());
                self.sums.push_back(loss);
                if self.sums.len() > self.window {
                    if let Some(old) = self.sums.pop_front() {
                        self.tail.replace(old, loss, self.sums.iter().copied());
                    }
                } else {
                    self.tail.insert(loss, self.sums.iter().copied());
                }
            }
        }
        self.s2 = Some(match self.s2 {
            None => r * r,
            Some(s2) => FHS_LAMBDA * s2 + (1.0 - FHS_LAMBDA) * r * r,
        });
    }

    /// The EWMA volatility forecast for the next bar (0 before any return).
    pub fn sigma_next(&self) -> f64 {
        self.s2.unwrap_or(0.0).sqrt()
    }

    /// The `h`-bar VaR (fraction of exposure, positive loss, floored at 0) at `confidence`;
    /// None while no horizon sum is held. O(1) at the confidence declared (see
    /// [`FhsHorizonVar::new`]).
    pub fn var_fraction(&self, confidence: f64) -> Option<f64> {
        let q = self
            .tail
            .quantile_linear(confidence, self.sums.iter().copied())?;
        Some((q * self.sigma_next()).max(0.0))
    }
}

/// After each return of `returns` (finite simple returns, oldest first): the `horizon`-bar
/// FHS VaR (fraction, positive loss; 0 while no sum is held) and the number of horizon sums
/// behind it - the series the policy's engine sees when fed these returns.
pub fn fhs_horizon_series(
    returns: &[f64],
    horizon: usize,
    window: usize,
    confidence: f64,
) -> Result<(Vec<f64>, Vec<u64>)> {
    crate::series::finite_series("returns", returns, 0, crate::series::NanPolicy::Raise)?;
    crate::series::confidence("confidence", confidence)?;
    let mut f = FhsHorizonVar::new(horizon, window, confidence)?;
    let mut var = Vec::with_capacity(returns.len());
    let mut held = Vec::with_capacity(returns.len());
    for &r in returns {
        f.push(r);
        var.push(f.var_fraction(confidence).unwrap_or(0.0));
        held.push(f.len() as u64);
    }
    Ok((var, held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: the definition written out at once over the whole series (no state).
    fn reference(r: &[f64], h: usize, window: usize, conf: f64) -> Option<f64> {
        let mut s2 = r[0] * r[0];
        let mut z = Vec::new();
        for &x in &r[1..] {
            let s = s2.sqrt();
            z.push(if s > 0.0 { x / s } else { 0.0 });
            s2 = FHS_LAMBDA * s2 + (1.0 - FHS_LAMBDA) * x * x;
        }
        if z.len() < h {
            return None;
        }
        let mut losses: Vec<f64> = (h..=z.len())
            .map(|e| -z[e - h..e].iter().sum::<f64>())
            .collect();
        let keep = losses.len().min(window);
        losses.drain(..losses.len() - keep);
        losses.sort_by(f64::total_cmp);
        // numpy 'linear': position (n - 1) x conf
        let pos = (losses.len() - 1) as f64 * conf;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(losses.len() - 1);
        let q = losses[lo] + (pos - lo as f64) * (losses[hi] - losses[lo]);
        Some((q * s2.sqrt()).max(0.0))
    }

    proptest! {
        #[test]
        fn incremental_fhs_equals_the_definition(
            r in prop::collection::vec(-0.05f64..0.05, 1..200),
            h in 1usize..30, window in 1usize..120, conf in 0.5f64..0.999, other in 0.0f64..1.0,
        ) {
            let mut f = FhsHorizonVar::new(h, window, conf).expect("valid");
            for &x in &r {
                f.push(x);
            }
            // the declared confidence, and another one (read exactly from the sums)
            for c in [conf, other] {
                match (f.var_fraction(c), reference(&r, h, window, c)) {
                    (None, None) => {}
                    (Some(a), Some(b)) => prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{} vs {}", a, b),
                    (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
                }
            }
        }
    }

    #[test]
    fn bad_sizes_are_named() {
        for (h, w, field) in [(0, 10, "var_horizon_bars"), (24, 0, "var_window_bars")] {
            match FhsHorizonVar::new(h, w, 0.99) {
                Err(e) => assert!(e.to_string().contains(field), "{e}"),
                Ok(_) => panic!("({h}, {w}) accepted"),
            }
        }
    }
}
