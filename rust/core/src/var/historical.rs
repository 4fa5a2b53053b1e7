//! Historical VaR and CVaR: empirical quantiles of the loss series `L = -r`.
//!
//! Quantile (numpy's definitions, reproduced bit for bit): with the `n` losses sorted
//! ascending `L[0] <= ... <= L[n-1]` and `h = (n-1) x c` (a float product),
//! - `linear`: `i = floor(h)`, `g = h - i`; VaR = `L[i] + g (L[i+1] - L[i])` when `g < 0.5`,
//!   else `L[i+1] - (1 - g)(L[i+1] - L[i])` (numpy's `_lerp`, which is exact at both ends);
//! - `lower`: VaR = `L[floor(h)]`.
//!
//! CVaR is the mean of every loss `>= VaR` (ties with VaR included). That set is never empty
//! (VaR <= the largest loss); the mean is rounded up to VaR if summation rounding ever puts it
//! below, so CVaR >= VaR always.

use crate::error::Result;
use crate::series::{confidence, finite_series, NanPolicy};

use super::{finite_result, horizon, QuantileMethod, VarCvar};

/// numpy's `_lerp(a, b, g)`: exact at `g = 0` and `g = 1`, monotone in `g`.
#[inline]
pub(crate) fn lerp(a: f64, b: f64, g: f64) -> f64 {
    let d = b - a;
    if g >= 0.5 {
        b - d * (1.0 - g)
    } else {
        a + d * g
    }
}

/// The position `(i, g)` of the `c` quantile in a sorted sample of `n >= 1` values:
/// `i = floor((n-1) c)` (at most `n-1`) and `g` the interpolation weight (0 for `lower`).
#[inline]
pub(crate) fn quantile_position(n: usize, c: f64, method: QuantileMethod) -> (usize, f64) {
    let h = (n.saturating_sub(1)) as f64 * c;
    // `as` truncates toward zero and saturates to 0 below: the floor's index for every h,
    // without a libm call on baseline x86-64
    let i = (h as usize).min(n.saturating_sub(1));
    match method {
        QuantileMethod::Linear => (i, h - i as f64),
        QuantileMethod::Lower => (i, 0.0),
    }
}

/// The quantile given the order statistics `L[i]` and `L[i+1]` (pass `L[i]` twice at the end).
#[inline]
pub(crate) fn quantile_from(lo: f64, hi: f64, g: f64) -> f64 {
    if g == 0.0 {
        lo
    } else {
        lerp(lo, hi, g)
    }
}

/// Mean of the losses `>= var` in `losses` (any order), never below `var`.
pub(crate) fn tail_mean(losses: &[f64], var: f64) -> f64 {
    let (sum, count) = losses
        .iter()
        .filter(|&&x| x >= var)
        .fold((0.0, 0usize), |(s, k), &x| (s + x, k + 1));
    if count == 0 {
        var
    } else {
        (sum / count as f64).max(var)
    }
}

/// VaR and CVaR of a loss sample (consumed: reordered in place), one bar, as fractions.
/// `losses` must be non-empty and finite (callers check).
pub(crate) fn var_cvar_of_losses(losses: &mut [f64], c: f64, method: QuantileMethod) -> VarCvar {
    let n = losses.len();
    if n == 0 {
        return VarCvar {
            var: 0.0,
            cvar: 0.0,
        };
    }
    let (i, g) = quantile_position(n, c, method);
    let (_, lo, above) = losses.select_nth_unstable_by(i, f64::total_cmp);
    let lo = *lo;
    let hi = above.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = if hi.is_finite() { hi } else { lo };
    let var = quantile_from(lo, hi, g);
    VarCvar {
        var,
        cvar: tail_mean(losses, var),
    }
}

/// Historical VaR and CVaR of `returns` (simple, per bar) at confidence `c` in (0, 1) over
/// `h` bars, as positive loss fractions.
///
/// VaR is the `c` quantile of the losses `-r` by `method` (see the module docs: numpy's
/// `linear` or `lower`, exactly); CVaR the mean of the losses at or beyond VaR. Over `h > 1`
/// bars both are multiplied by `sqrt(h)` (square-root-of-time rule). Needs at least one
/// finite return; NaN/inf are an error, or dropped under [`NanPolicy::Omit`].
pub fn historical(
    returns: &[f64],
    c: f64,
    h: usize,
    method: QuantileMethod,
    policy: NanPolicy,
) -> Result<VarCvar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let r = finite_series("returns", returns, 1, policy)?;
    let mut losses: Vec<f64> = r.iter().map(|x| -x).collect();
    let v = var_cvar_of_losses(&mut losses, c, method).scaled((h as f64).sqrt());
    finite_result("historical VaR", v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The truncating cast gives numpy's floor position (reference: `f64::floor`), also for
        /// confidences outside [0, 1].
        #[test]
        fn quantile_position_is_the_floor(n in 1usize..100_000, c in -0.5f64..1.5) {
            let h = (n - 1) as f64 * c;
            let i = (h.floor() as usize).min(n - 1);
            prop_assert_eq!(quantile_position(n, c, QuantileMethod::Linear), (i, h - i as f64));
            prop_assert_eq!(quantile_position(n, c, QuantileMethod::Lower), (i, 0.0));
        }
    }
}
