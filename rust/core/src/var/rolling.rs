//! Rolling VaR and CVaR over a sliding window: historical (both together, the hot path) and
//! parametric (normal or Student-t).
//!
//! Output `k` (of `n - window + 1`) is the VaR/CVaR of `returns[k .. k + window]`, i.e. known
//! at the close of bar `k + window - 1` and a forecast for bar `k + window` (compare it with
//! `returns[window:]` in a backtest, dropping the last output). No NaN warm-up padding.
//! Under `nan_policy='omit'` non-finite returns are dropped first and windows count the
//! remaining values.
//!
//! Historical: each window's losses are kept in a sorted `Vec`; a step replaces the oldest
//! loss by the newest with two binary searches and one `copy_within` of the values between
//! them (O(window) worst case, about window/3 moves on average, contiguous). VaR reads the
//! order statistics at the quantile position (the numpy definition of
//! [`super::historical`]); CVaR sums the sorted tail from the first value `>= VaR` (about
//! `(1 - c) window` values). The series is cut into blocks processed in parallel (rayon),
//! each re-sorting its first window, so results do not depend on the thread count.
//!
//! Parametric: the window mean and `ddof = 1` variance are updated per step (Welford's
//! replace-one update), recomputed by two passes at every block start, every `window` steps
//! and whenever the variance falls below 1e-4 of its peak since the last exact pass (so the
//! update's cancellation error stays below about `window x 2e-12` relative); then
//! `VaR = -mean h + std sqrt(h) q`, `CVaR = -mean h + std sqrt(h) e` as in
//! [`super::parametric`] (the t's `df` is given, not fitted per window).

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::series::{confidence, finite_series, window as check_window, NanPolicy};

use super::historical::{quantile_from, quantile_position};
use super::parametric::{check_df, normal_q_e, t_q_e};
use super::{horizon, QuantileMethod};

/// Rolling VaR and CVaR series (positive loss fractions), `n - window + 1` values each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RollingVar {
    pub var: Vec<f64>,
    pub cvar: Vec<f64>,
}

/// The standardised distribution of the rolling parametric VaR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RollingDistribution {
    Normal,
    /// Student-t with the given `df` in (2, MAX_DF], scaled to unit variance.
    StudentT(f64),
}

/// The rolling result if every value is finite, else a numerical error (float64 overflow).
fn finite_rolling(what: &str, out: RollingVar) -> Result<RollingVar> {
    match out.var.iter().chain(&out.cvar).position(|v| !v.is_finite()) {
        None => Ok(out),
        Some(k) => Err(Error::numerical(
            what,
            format!(
                "output {} is not finite (returns too large for float64)",
                k % out.var.len().max(1)
            ),
        )),
    }
}

/// Outputs per parallel block: enough to amortise the first window's sort.
fn block_len(window: usize) -> usize {
    (16 * window).max(4096)
}

/// Replace one occurrence of `old` (present) in the sorted `buf` by `new`, keeping it sorted.
#[inline]
fn replace_sorted(buf: &mut [f64], old: f64, new: f64) {
    let i = buf.partition_point(|&x| x < old).min(buf.len() - 1);
    let j = buf.partition_point(|&x| x < new);
    if j <= i {
        buf.copy_within(j..i, j + 1);
        buf[j] = new;
    } else {
        buf.copy_within(i + 1..j, i);
        buf[j - 1] = new;
    }
}

/// VaR and CVaR of one sorted window, the quantile at `(i, g)`.
#[inline]
fn sorted_var_cvar(buf: &[f64], i: usize, g: f64) -> (f64, f64) {
    let w = buf.len();
    let lo = buf[i];
    let hi = buf[(i + 1).min(w - 1)];
    let var = quantile_from(lo, hi, g);
    let mut k = i;
    if lo < var {
        k = i + 1;
    } else {
        while k > 0 && buf[k - 1] >= var {
            k -= 1;
        }
    }
    let tail = &buf[k..];
    let cvar = if tail.is_empty() {
        var
    } else {
        (tail.iter().sum::<f64>() / tail.len() as f64).max(var)
    };
    (var, cvar)
}

/// Rolling historical VaR and CVaR, computed together, of `returns` with `window` bars
/// (1..=n) at confidence `c` over `h` bars (one-bar figures times `sqrt(h)`), quantile by
/// `method` (numpy `linear` or `lower`). Output `k` covers `returns[k .. k + window]`; each
/// equals [`super::historical`] on that window (CVaR up to summation order).
pub fn rolling_historical(
    returns: &[f64],
    window: usize,
    c: f64,
    h: usize,
    method: QuantileMethod,
    policy: NanPolicy,
) -> Result<RollingVar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let r = finite_series("returns", returns, 1, policy)?;
    let w = check_window("window", window, 1, r.len())?;
    let m = r.len() - w + 1;
    let (i, g) = quantile_position(w, c, method);
    let scale = (h as f64).sqrt();
    let mut var = vec![0.0f64; m];
    let mut cvar = vec![0.0f64; m];
    let block = block_len(w);
    var.par_chunks_mut(block)
        .zip(cvar.par_chunks_mut(block))
        .enumerate()
        .for_each(|(b, (v_out, c_out))| {
            let start = b * block;
            let mut buf: Vec<f64> = r[start..start + w].iter().map(|x| -x).collect();
            buf.sort_unstable_by(f64::total_cmp);
            for (k, (v, cv)) in v_out.iter_mut().zip(c_out.iter_mut()).enumerate() {
                if k > 0 {
                    let t = start + k;
                    replace_sorted(&mut buf, -r[t - 1], -r[t + w - 1]);
                }
                let (a, e) = sorted_var_cvar(&buf, i, g);
                *v = a * scale;
                *cv = e * scale;
            }
        });
    finite_rolling("rolling historical VaR", RollingVar { var, cvar })
}

/// Rolling parametric VaR and CVaR with `window` bars (2..=n) at confidence `c` over `h`
/// bars, from each window's mean and `ddof = 1` standard deviation (see the module docs).
pub fn rolling_parametric(
    returns: &[f64],
    window: usize,
    c: f64,
    h: usize,
    dist: RollingDistribution,
    policy: NanPolicy,
) -> Result<RollingVar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let (q, e) = match dist {
        RollingDistribution::Normal => normal_q_e(c)?,
        RollingDistribution::StudentT(df) => t_q_e(c, check_df(df)?)?,
    };
    let r = finite_series("returns", returns, 2, policy)?;
    let w = check_window("window", window, 2, r.len())?;
    let m = r.len() - w + 1;
    let (hf, wf) = (h as f64, w as f64);
    let sh = hf.sqrt();
    let mut var = vec![0.0f64; m];
    let mut cvar = vec![0.0f64; m];
    let block = block_len(w);
    var.par_chunks_mut(block)
        .zip(cvar.par_chunks_mut(block))
        .enumerate()
        .for_each(|(b, (v_out, c_out))| {
            let start = b * block;
            let exact = |from: usize| {
                let win = &r[from..from + w];
                let mean = win.iter().sum::<f64>() / wf;
                let m2: f64 = win.iter().map(|x| (x - mean) * (x - mean)).sum();
                (mean, m2)
            };
            let (mut mean, mut m2) = exact(start);
            let mut peak = m2;
            for (k, (v, cv)) in v_out.iter_mut().zip(c_out.iter_mut()).enumerate() {
                if k > 0 {
                    let t = start + k;
                    let (old, new) = (r[t - 1], r[t + w - 1]);
                    let next = mean + (new - old) / wf;
                    m2 = (m2 + (new - old) * (new - next + old - mean)).max(0.0);
                    mean = next;
                    peak = peak.max(m2);
                    // the update's rounding error is about eps x the largest m2 since the last
                    // exact pass: recompute when m2 has fallen far below it, and every window
                    if k % w == 0 || m2 < 1e-4 * peak {
                        (mean, m2) = exact(t);
                        peak = m2;
                    }
                }
                let sd = (m2 / (wf - 1.0)).sqrt() * sh;
                let loc = -mean * hf;
                let a = loc + sd * q;
                *v = a;
                *cv = (loc + sd * e).max(a);
            }
        });
    finite_rolling("rolling parametric VaR", RollingVar { var, cvar })
}
