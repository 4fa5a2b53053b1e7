//! Volatility estimators (per bar): close-to-close, EWMA, range-based, ATR.
//!
//! Conventions (DESIGN.md): volatility is per bar (not annualised) and is a standard
//! deviation, not a variance. The return-based estimators take *returns*, not prices: simple
//! or log returns as the caller chooses (the estimators do not care; log returns are the
//! textbook choice). The range-based estimators ([`range`]) take OHLC *prices* and work on log
//! price ratios internally; [`range::atr`] is in price units.
//!
//! Every function has a single-value form over the whole series and a series form: rolling
//! windows hold `window` values and the output has `n - window + 1` entries, entry `j` covering
//! inputs `j..j + window` (so it is aligned with input `j + window - 1`); no NaN padding.
//! Rolling forms are O(n) (running sums, see `rolling`). Non-finite inputs are an error
//! naming their position unless [`NanPolicy::Omit`] drops them first (windows then count the
//! remaining values). No function returns NaN.

pub mod range;
mod rolling;

use crate::error::{check, Error, Result};
use crate::series::{self, NanPolicy};

pub use range::{
    atr, atr_series, garman_klass, garman_klass_rolling, parkinson, parkinson_rolling,
    rogers_satchell, rogers_satchell_rolling, yang_zhang, yang_zhang_rolling, ATR_WINDOW_DEFAULT,
};

/// RiskMetrics' decay factor for daily data (J.P. Morgan/Reuters, RiskMetrics Technical
/// Document, 4th ed., 1996, section 5.3.2).
pub const EWMA_LAMBDA_DEFAULT: f64 = 0.94;

/// Close-to-close volatility: the sample standard deviation (ddof = 1, mean subtracted) of
/// `returns` (per bar; simple or log returns as given). Needs at least 2 finite values.
pub fn close_to_close(returns: &[f64], policy: NanPolicy) -> Result<f64> {
    let r = series::finite_series("returns", returns, 2, policy)?;
    // returns near the float range's ends are rescaled by a power of two (exact): squares of
    // deviations neither underflow (|r| < 1e-154) nor overflow; the scale goes back on after
    // the square root
    let (scaled, up) = rescaled(&r);
    finite_value("close_to_close", rolling::sample_var(&scaled).sqrt() * up)
}

/// Rolling close-to-close volatility (ddof = 1) over `window` returns (2 <= window <= n):
/// `n - window + 1` values, entry `j` over `returns[j..j + window]`. O(n).
pub fn close_to_close_rolling(
    returns: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let r = series::finite_series("returns", returns, 2, policy)?;
    series::window("window", window, 2, r.len())?;
    let (scaled, up) = rescaled(&r); // as in close_to_close
    let mut out = rolling::rolling_var(&scaled, window);
    out.iter_mut().for_each(|v| *v = v.sqrt() * up);
    finite_values("close_to_close_rolling", out)
}

/// EWMA (RiskMetrics) volatility series, zero mean: variance `s2[0] = r[0]^2` and
/// `s2[t] = lambda * s2[t-1] + (1 - lambda) * r[t]^2`; returns `sqrt(s2)`, one value per return.
///
/// This is exactly pandas' `Series(r**2).ewm(alpha=1-lambda, adjust=False).mean()`, square
/// rooted: entry `t` uses returns up to and including `t`, so it is the RiskMetrics forecast
/// for bar `t + 1`. `lambda` in (0, 1), default [`EWMA_LAMBDA_DEFAULT`].
pub fn ewma_series(returns: &[f64], lambda: f64, policy: NanPolicy) -> Result<Vec<f64>> {
    check::open_interval("lam", lambda, 0.0, 1.0)?;
    let r = series::finite_series("returns", returns, 1, policy)?;
    // Squares of returns near the float range's ends underflow (|r| < 1e-154) or overflow
    // (|r| > 1e154); the recursion runs on returns divided by a power of two near the largest
    // one - exact, so ordinary inputs give bit-identical results - and the scale goes back on
    // after the square root.
    let mut out = vec![0.0; r.len()];
    let largest = ewma_variance_into(&r, lambda, &mut out);
    if let Some((down, up)) = scale_for(largest) {
        let scaled: Vec<f64> = r.iter().map(|x| x * down).collect();
        ewma_variance_into(&scaled, lambda, &mut out);
        out.iter_mut().for_each(|v| *v = v.sqrt() * up);
    } else {
        out.iter_mut().for_each(|v| *v = v.sqrt());
    }
    finite_values("ewma", out)
}

/// `(2^-e, 2^e)` with `2^e` the power of two at or below the largest `|x|`, `e` clamped to
/// the normal exponent range so both factors are finite normal numbers, when that largest
/// value is so small (< 2^-400) or large (> 2^400) that squares would lose precision or
/// overflow; `None` otherwise (ordinary data: no rescaled copy is made).
fn power_of_two_scale(x: &[f64]) -> Option<(f64, f64)> {
    // four independent lanes: the compiler keeps them in vector registers
    let mut lanes = [0.0f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for k in 0..4 {
            let a = c[k].abs();
            lanes[k] = if a > lanes[k] { a } else { lanes[k] };
        }
    }
    let m = chunks
        .remainder()
        .iter()
        .map(|v| v.abs())
        .chain(lanes)
        .fold(0.0f64, |m, a| if a > m { a } else { m });
    scale_for(m)
}

/// The factors of [`power_of_two_scale`] for a largest magnitude `m`.
fn scale_for(m: f64) -> Option<(f64, f64)> {
    const LOW: f64 = f64::from_bits(623 << 52); // 2^-400
    const HIGH: f64 = f64::from_bits(1423 << 52); // 2^400
    if m == 0.0 || (LOW..=HIGH).contains(&m) {
        return None;
    }
    let e = (m.log2().floor() as i32).clamp(-1022, 1022);
    Some((2f64.powi(-e), 2f64.powi(e)))
}

/// `x` divided by the power of two of [`power_of_two_scale`] (a copy only when one is needed)
/// and the factor that undoes it on a standard deviation.
fn rescaled(x: &[f64]) -> (std::borrow::Cow<'_, [f64]>, f64) {
    match power_of_two_scale(x) {
        None => (std::borrow::Cow::Borrowed(x), 1.0),
        Some((down, up)) => (x.iter().map(|v| v * down).collect(), up),
    }
}

/// The last value of [`ewma_series`]: the EWMA volatility after the whole series.
pub fn ewma(returns: &[f64], lambda: f64, policy: NanPolicy) -> Result<f64> {
    let vols = ewma_series(returns, lambda, policy)?;
    Ok(vols.last().copied().unwrap_or(0.0))
}

/// The EWMA variance recursion into `out` (same length as `r`, at least 1).
///
/// The recursion is a serial dependency chain; to shorten it, blocks of 4 are advanced from
/// the last value with precomputed powers of lambda, while the within-block partial sums
/// (independent of the chain) overlap in the pipeline. The result equals the plain recursion
/// up to rounding (a few ulps).
///
/// Returns the largest `|r|` (tracked off the dependency chain, so it costs nothing).
fn ewma_variance_into(r: &[f64], lambda: f64, out: &mut [f64]) -> f64 {
    let a = 1.0 - lambda;
    let (l1, l2, l3, l4) = (lambda, lambda * lambda, lambda.powi(3), lambda.powi(4));
    let mut s2 = r[0] * r[0];
    out[0] = s2;
    let mut largest = [r[0].abs(), 0.0, 0.0, 0.0];
    let rest = &r[1..];
    let out_rest = &mut out[1..];
    let mut chunks_in = rest.chunks_exact(4);
    let mut chunks_out = out_rest.chunks_exact_mut(4);
    for (x, y) in (&mut chunks_in).zip(&mut chunks_out) {
        for k in 0..4 {
            let v = x[k].abs();
            largest[k] = if v > largest[k] { v } else { largest[k] };
        }
        let z0 = a * x[0] * x[0];
        let z1 = l1 * z0 + a * x[1] * x[1];
        let z2 = l1 * z1 + a * x[2] * x[2];
        let z3 = l1 * z2 + a * x[3] * x[3];
        y[0] = l1 * s2 + z0;
        y[1] = l2 * s2 + z1;
        y[2] = l3 * s2 + z2;
        y[3] = l4 * s2 + z3;
        s2 = y[3];
    }
    for (x, y) in chunks_in
        .remainder()
        .iter()
        .zip(chunks_out.into_remainder())
    {
        s2 = lambda * s2 + a * x * x;
        *y = s2;
        largest[0] = if x.abs() > largest[0] {
            x.abs()
        } else {
            largest[0]
        };
    }
    largest
        .into_iter()
        .fold(0.0, |m, v| if v > m { v } else { m })
}

/// `v` if finite, else a `Numerical` error: only inputs near the float range overflow.
fn finite_value(what: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(overflow(what))
    }
}

/// `v` if every value is finite, else a `Numerical` error.
fn finite_values(what: &str, v: Vec<f64>) -> Result<Vec<f64>> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(v)
    } else {
        Err(overflow(what))
    }
}

fn overflow(what: &str) -> Error {
    Error::numerical(
        what,
        "overflow: the inputs are too large in magnitude for a finite volatility",
    )
}

#[cfg(test)]
mod tests;
