//! Portfolio risk of several legs under one budget: covariance of aligned leg returns,
//! portfolio VaR/CVaR of the net exposures (parametric and historical), the Euler split into
//! marginal and component VaR, per-leg budgets, shrink multipliers that bring the portfolio
//! within its VaR limit, and the portfolio drawdown from its own high-water mark.
//!
//! Conventions (as in [`crate::var`]): returns are simple returns per bar, aligned in a
//! row-major `T x n` matrix (one row a bar, one column a leg); exposures are signed quote
//! amounts (net of each leg's spot and hedge, short negative); VaR and CVaR are positive
//! losses in quote currency; confidence 0.95 is the 95% loss quantile.
//!
//! **Covariance.** [`CovMethod::Ewma`] (RiskMetrics, zero mean): weights `lambda^k` on the bar
//! `k` bars back, normalised to sum to 1 (exact for a short sample); [`CovMethod::Rolling`]:
//! the sample covariance (mean removed, ddof 1) of the last `window` bars.
//!
//! **Shrinkage rule** (Ledoit-Wolf / Schafer-Strimmer toward the diagonal): the estimate is
//! `(1 - d) S + d diag(S)`, with the intensity estimated from the data,
//! `d = clamp(sum_{i!=j} Var(s_ij) / sum_{i!=j} s_ij^2, 0, 1)`, where
//! `Var(s_ij) = sum_t w_t^2 (x_ti x_tj - s_ij)^2` (weights `w_t` of the estimator, summing to
//! 1; `x` demeaned for the rolling method). The estimated noise in the correlations shrinks
//! them toward 0: with few bars (a short sample) `d` is large, with many it tends to 0. The
//! result stays positive semi-definite (a convex mix of two such matrices).
//!
//! **Budgets.** Each leg gets a share `weight_i` (default `1/n`) of `var_limit`; its allowed
//! exposure is `share_i / marginal_i` at the current portfolio, so a leg whose marginal VaR is
//! high (a second leg highly correlated with the first) is allowed less.
//!
//! **Shrinking** ([`shrink`]): multipliers in (0, 1] that bring the parametric VaR to the
//! limit, the largest contributors first: the leg with the largest component VaR is scaled
//! down until the VaR fits or its component falls to the next leg's, then both, and so on;
//! the last resort scales every leg alike (VaR is homogeneous, so that always fits). Each step
//! solves the quadratic `VaR(s)^2 = limit^2` exactly.

use rayon::prelude::*;

use crate::drawdown::{self, MaxDrawdown};
use crate::error::{check, Error, Result};
use crate::series::{confidence, NanPolicy};
use crate::var::{self, portfolio::MAX_ASSETS, PortfolioVar, QuantileMethod, VarCvar};

/// How the covariance of the legs' returns is estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CovMethod {
    /// Exponentially weighted, zero mean; `lambda` in (0, 1) (RiskMetrics: 0.94 daily).
    Ewma { lambda: f64 },
    /// Sample covariance of the last `window` bars (all bars if the sample is shorter).
    Rolling { window: usize },
}

/// A covariance estimate and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariance {
    /// `n x n`, row-major, per bar.
    pub matrix: Vec<f64>,
    /// Shrinkage intensity toward the diagonal, in [0, 1].
    pub shrinkage: f64,
    /// Effective number of bars, `1 / sum w_t^2`.
    pub effective_bars: f64,
}

/// The portfolio's risk figures in quote currency.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioRisk {
    pub covariance: Covariance,
    /// Delta-normal VaR/CVaR with the Euler split ([`crate::var::portfolio_var`]).
    pub parametric: PortfolioVar,
    /// Historical VaR/CVaR: the loss quantile of the portfolio P&L series `returns x w`.
    pub historical: VarCvar,
    /// Each leg's own parametric VaR, as if it were alone.
    pub standalone: Vec<f64>,
}

/// One leg's share of the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Share of `var_limit`, quote currency.
    pub share: f64,
    /// `share / marginal`: the absolute exposure this leg may hold at the current marginal VaR
    /// (infinite when its marginal VaR is <= 0, a leg that hedges the rest).
    pub allowed_exposure: f64,
}

/// The portfolio equity's drawdown.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioDrawdown {
    /// Sum of the legs' equities, one per bar.
    pub equity: Vec<f64>,
    /// Drawdown of the last bar, in [-1, 0].
    pub current: f64,
    pub max: MaxDrawdown,
}

fn shape(field: &str, len: usize, n: usize) -> Result<usize> {
    if n == 0 || n > MAX_ASSETS {
        return Err(Error::invalid(
            "legs",
            n,
            format!("must be between 1 and {MAX_ASSETS}"),
        ));
    }
    if len % n != 0 {
        return Err(Error::invalid(
            field,
            format!("{len} value(s)"),
            format!("must be a T x {n} matrix (one column per leg)"),
        ));
    }
    Ok(len / n)
}

fn finite_all(field: &str, data: &[f64], n: usize) -> Result<()> {
    if let Some(k) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{field}[{}, {}]", k / n, k % n),
            data[k],
            "must be finite (align the legs and drop missing bars first)",
        ));
    }
    Ok(())
}

fn exposures_check(exposures: &[f64], n: usize) -> Result<()> {
    if exposures.len() != n {
        return Err(Error::invalid(
            "exposures",
            format!("{} value(s)", exposures.len()),
            format!("must hold one value per leg ({n})"),
        ));
    }
    if let Some(i) = exposures.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("exposures[{i}]"),
            exposures[i],
            "must be finite",
        ));
    }
    Ok(())
}

/// Covariance of aligned returns (`T x n`, row-major) with data-driven shrinkage toward the
/// diagonal; see the module docs. Needs at least 2 bars.
pub fn covariance(returns: &[f64], n: usize, method: CovMethod) -> Result<Covariance> {
    let t_all = shape("returns", returns.len(), n)?;
    finite_all("returns", returns, n)?;
    let (rows, weights, demean): (&[f64], Vec<f64>, bool) = match method {
        CovMethod::Ewma { lambda } => {
            check::open_interval("lambda", lambda, 0.0, 1.0)?;
            let mut w: Vec<f64> = (0..t_all)
                .map(|t| lambda.powi((t_all - 1 - t) as i32))
                .collect();
            let s: f64 = w.iter().sum();
            w.iter_mut().for_each(|v| *v /= s);
            (returns, w, false)
        }
        CovMethod::Rolling { window } => {
            if window < 2 {
                return Err(Error::invalid("window", window, "must be >= 2 bars"));
            }
            let t = window.min(t_all);
            (&returns[(t_all - t) * n..], vec![1.0 / t as f64; t], true)
        }
    };
    let t = weights.len();
    if t < 2 {
        return Err(Error::invalid(
            "returns",
            format!("{t} bar(s)"),
            "must hold at least 2 bars",
        ));
    }
    let mean: Vec<f64> = if demean {
        (0..n)
            .map(|j| (0..t).map(|r| rows[r * n + j]).sum::<f64>() / t as f64)
            .collect()
    } else {
        vec![0.0; n]
    };
    // ddof 1 for the sample covariance, none for the EWMA (weights already sum to 1)
    let ddof = if demean {
        t as f64 / (t - 1) as f64
    } else {
        1.0
    };
    // one row of the matrix per leg, with the sum of Var(s_ij) over that row's off-diagonals
    let per_row: Vec<(Vec<f64>, f64)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut s = vec![0.0; n];
            for r in 0..t {
                let xi = (rows[r * n + i] - mean[i]) * weights[r];
                let row = &rows[r * n..(r + 1) * n];
                for ((sj, x), m) in s.iter_mut().zip(row).zip(&mean) {
                    *sj += xi * (x - m);
                }
            }
            let mut noise = 0.0;
            for r in 0..t {
                let xi = rows[r * n + i] - mean[i];
                let w2 = weights[r] * weights[r];
                for j in (0..n).filter(|&j| j != i) {
                    let d = xi * (rows[r * n + j] - mean[j]) - s[j];
                    noise += w2 * d * d;
                }
            }
            s.iter_mut().for_each(|v| *v *= ddof);
            (s, noise * ddof * ddof)
        })
        .collect();
    let mut matrix = Vec::with_capacity(n * n);
    let mut noise = 0.0;
    for (row, v) in &per_row {
        matrix.extend_from_slice(row);
        noise += v;
    }
    // symmetrise (the two triangles differ only by rounding)
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
            matrix[i * n + j] = m;
            matrix[j * n + i] = m;
        }
    }
    let signal: f64 = (0..n * n)
        .filter(|k| k / n != k % n)
        .map(|k| matrix[k] * matrix[k])
        .sum();
    let shrinkage = if signal > 0.0 {
        (noise / signal).clamp(0.0, 1.0)
    } else {
        0.0
    };
    for k in (0..n * n).filter(|k| k / n != k % n) {
        matrix[k] *= 1.0 - shrinkage;
    }
    if matrix.iter().any(|v| !v.is_finite()) {
        return Err(Error::numerical(
            "covariance",
            "overflows a float64 (returns too large)",
        ));
    }
    let effective_bars = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
    Ok(Covariance {
        matrix,
        shrinkage,
        effective_bars,
    })
}

/// Portfolio P&L series `returns x exposures` (quote, one per bar).
pub fn pnl_series(returns: &[f64], n: usize, exposures: &[f64]) -> Result<Vec<f64>> {
    shape("returns", returns.len(), n)?;
    finite_all("returns", returns, n)?;
    exposures_check(exposures, n)?;
    Ok(returns
        .par_chunks(n)
        .map(|row| row.iter().zip(exposures).map(|(r, w)| r * w).sum())
        .collect())
}

/// Historical VaR/CVaR (quote) of `exposures` on the aligned `returns`: the loss quantile of the
/// portfolio P&L series (numpy 'linear'), CVaR the mean loss at or beyond it, times `sqrt(h)`.
pub fn historical_var(
    returns: &[f64],
    n: usize,
    exposures: &[f64],
    c: f64,
    h: usize,
) -> Result<VarCvar> {
    let pnl = pnl_series(returns, n, exposures)?;
    var::historical(&pnl, c, h, QuantileMethod::Linear, NanPolicy::Raise)
}

/// Every portfolio figure of `exposures` on the aligned `returns`; see the module docs.
pub fn portfolio_risk(
    returns: &[f64],
    n: usize,
    exposures: &[f64],
    method: CovMethod,
    c: f64,
    h: usize,
) -> Result<PortfolioRisk> {
    exposures_check(exposures, n)?;
    let covariance = covariance(returns, n, method)?;
    let parametric = var::portfolio_var(exposures, &covariance.matrix, c, h)?;
    let historical = historical_var(returns, n, exposures, c, h)?;
    let k = parametric_scale(c, h)?;
    let standalone = (0..n)
        .map(|i| k * exposures[i].abs() * covariance.matrix[i * n + i].max(0.0).sqrt())
        .collect();
    Ok(PortfolioRisk {
        covariance,
        parametric,
        historical,
        standalone,
    })
}

/// `z sqrt(h)`: parametric VaR per unit of P&L standard deviation per bar.
fn parametric_scale(c: f64, h: usize) -> Result<f64> {
    let one = var::portfolio_var(&[1.0], &[1.0], c, h)?;
    Ok(one.var)
}

fn weights_of(weights: Option<&[f64]>, n: usize) -> Result<Vec<f64>> {
    let Some(w) = weights else {
        return Ok(vec![1.0 / n as f64; n]);
    };
    if w.len() != n {
        return Err(Error::invalid(
            "weights",
            format!("{} value(s)", w.len()),
            format!("must hold one value per leg ({n})"),
        ));
    }
    for (i, &v) in w.iter().enumerate() {
        check::non_negative(&format!("weights[{i}]"), v)?;
    }
    let s: f64 = w.iter().sum();
    if s <= 0.0 {
        return Err(Error::invalid("weights", s, "must sum to more than 0"));
    }
    Ok(w.iter().map(|v| v / s).collect())
}

/// Each leg's share of `var_limit` (by `weights`, default equal) and the exposure it may hold at
/// its current marginal VaR; see the module docs.
pub fn budgets(
    exposures: &[f64],
    covariance: &[f64],
    var_limit: f64,
    weights: Option<&[f64]>,
    c: f64,
    h: usize,
) -> Result<Vec<Budget>> {
    check::positive("var_limit", var_limit)?;
    let pv = var::portfolio_var(exposures, covariance, c, h)?;
    let n = exposures.len();
    let w = weights_of(weights, n)?;
    let k = parametric_scale(c, h)?;
    Ok((0..n)
        .map(|i| {
            let share = var_limit * w[i];
            // with no portfolio risk the marginal is the leg's own VaR per unit exposure
            let m = if pv.sigma > 0.0 {
                pv.marginal[i] * exposures[i].signum()
            } else {
                k * covariance[i * n + i].max(0.0).sqrt()
            };
            let allowed_exposure = if m > 0.0 { share / m } else { f64::INFINITY };
            Budget {
                share,
                allowed_exposure,
            }
        })
        .collect())
}

/// Each leg's own VaR limit under the portfolio budget (quote, at the portfolio's confidence
/// and horizon), never above its `configured` limit: the VaR the leg would have alone at the
/// exposure its budget allows, `allowed_exposure_i x z sqrt(h) sigma_i` (see [`budgets`]).
/// Equivalently `share_i / rho_i`, with `rho_i` the correlation of leg `i`'s P&L with the
/// portfolio's: a leg moving with the rest (rho near 1) gets about its share, a leg that
/// diversifies gets more, up to its configured limit, and a leg that hedges the rest (marginal
/// VaR <= 0) keeps its configured limit. Both drivers (the Python `PortfolioRunner` and the
/// portfolio backtester) push these into each leg's policy `var_limit`.
pub fn leg_var_limits(
    exposures: &[f64],
    covariance: &[f64],
    var_limit: f64,
    weights: Option<&[f64]>,
    c: f64,
    h: usize,
    configured: &[f64],
) -> Result<Vec<f64>> {
    let n = exposures.len();
    if configured.len() != n {
        return Err(Error::invalid(
            "configured",
            format!("{} value(s)", configured.len()),
            format!("must hold one value per leg ({n})"),
        ));
    }
    for (i, &v) in configured.iter().enumerate() {
        check::positive(&format!("configured[{i}]"), v)?;
    }
    let b = budgets(exposures, covariance, var_limit, weights, c, h)?;
    let k = parametric_scale(c, h)?;
    Ok((0..n)
        .map(|i| {
            let alone = b[i].allowed_exposure * k * covariance[i * n + i].max(0.0).sqrt();
            if alone.is_finite() && alone > 0.0 {
                alone.min(configured[i])
            } else {
                configured[i]
            }
        })
        .collect())
}

/// Variance of `w` under `cov` (n x n).
fn quad(cov: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    (0..n)
        .map(|i| a[i] * (0..n).map(|j| cov[i * n + j] * b[j]).sum::<f64>())
        .sum()
}

/// Per-leg size multipliers in (0, 1] that bring the parametric VaR of `exposures` within
/// `var_limit`, the largest contributors first (see the module docs). All ones when already
/// within the limit.
pub fn shrink(
    exposures: &[f64],
    covariance: &[f64],
    var_limit: f64,
    c: f64,
    h: usize,
) -> Result<Vec<f64>> {
    check::positive("var_limit", var_limit)?;
    let n = exposures.len();
    let mut m = vec![1.0; n];
    let k = parametric_scale(c, h)?;
    let target = (var_limit / k).powi(2) * (1.0 - 1e-12);
    let mut active = vec![false; n];
    for _ in 0..=n {
        let w: Vec<f64> = exposures.iter().zip(&m).map(|(e, f)| e * f).collect();
        let pv = var::portfolio_var(&w, covariance, c, h)?;
        if pv.var <= var_limit {
            return Ok(m);
        }
        let mut order: Vec<usize> = (0..n)
            .filter(|&i| !active[i] && pv.component[i] > 0.0)
            .collect();
        order.sort_by(|&a, &b| pv.component[b].total_cmp(&pv.component[a]));
        let mut next = order.iter().copied();
        if !active.iter().any(|&a| a) {
            match next.next() {
                Some(i) => active[i] = true,
                None => break,
            }
        }
        let wa: Vec<f64> = (0..n).map(|i| if active[i] { w[i] } else { 0.0 }).collect();
        let wb: Vec<f64> = (0..n).map(|i| if active[i] { 0.0 } else { w[i] }).collect();
        let (a, b, cc) = (
            quad(covariance, &wa, &wa),
            quad(covariance, &wa, &wb),
            quad(covariance, &wb, &wb),
        );
        let disc = b * b - a * (cc - target);
        let root = if a > 0.0 && disc >= 0.0 {
            Some((-b + disc.sqrt()) / a)
        } else {
            None
        };
        let top = (0..n)
            .filter(|&i| active[i])
            .map(|i| pv.component[i])
            .fold(f64::NEG_INFINITY, f64::max);
        let floor = next.next().map(|j| (j, pv.component[j] / top));
        match (root, floor) {
            (Some(s), Some((_, f))) if s > 0.0 && s < 1.0 && s >= f => {
                return Ok(apply(m, &active, s));
            }
            (Some(s), None) if s > 0.0 && s < 1.0 => return Ok(apply(m, &active, s)),
            (_, Some((j, f))) if f > 0.0 && f < 1.0 => {
                m = apply(m, &active, f);
                active[j] = true;
            }
            (_, Some((j, _))) => active[j] = true,
            (_, None) => break,
        }
    }
    // last resort: every leg alike (VaR is homogeneous of degree one)
    let w: Vec<f64> = exposures.iter().zip(&m).map(|(e, f)| e * f).collect();
    let pv = var::portfolio_var(&w, covariance, c, h)?;
    if pv.var > var_limit {
        let s = var_limit / pv.var * (1.0 - 1e-12);
        m.iter_mut().for_each(|v| *v *= s);
    }
    if let Some(i) = m.iter().position(|v| !(*v > 0.0 && *v <= 1.0)) {
        return Err(Error::numerical(
            "shrink",
            format!("multiplier of leg {i} is {} (outside (0, 1])", m[i]),
        ));
    }
    Ok(m)
}

fn apply(mut m: Vec<f64>, active: &[bool], s: f64) -> Vec<f64> {
    for (v, a) in m.iter_mut().zip(active) {
        if *a {
            *v *= s;
        }
    }
    m
}

/// Drawdown of the portfolio's equity (the sum of the legs' equities, `equity` a `T x n`
/// row-major matrix, quote) from its own high-water mark.
pub fn portfolio_drawdown(equity: &[f64], n: usize) -> Result<PortfolioDrawdown> {
    shape("equity", equity.len(), n)?;
    finite_all("equity", equity, n)?;
    let total: Vec<f64> = equity.chunks(n).map(|row| row.iter().sum()).collect();
    let dd = drawdown::drawdown(&total, NanPolicy::Raise)?;
    let max = drawdown::max_drawdown(&total, NanPolicy::Raise)?;
    Ok(PortfolioDrawdown {
        current: dd.last().copied().unwrap_or(0.0),
        equity: total,
        max,
    })
}

/// Parametric portfolio VaR updated every bar: the EWMA covariance (zero mean, normalised
/// weights) of the returns up to and including bar `t`, times the exposures in force at `t`
/// (`exposures` is `T x n`, or `n` values held fixed). One `O(n^2)` update a bar; the first bar
/// uses a single observation. Shrinkage is not applied (see [`covariance`] for the one-off
/// estimate).
pub fn ewma_var_path(
    returns: &[f64],
    n: usize,
    exposures: &[f64],
    lambda: f64,
    c: f64,
    h: usize,
) -> Result<Vec<f64>> {
    let t = shape("returns", returns.len(), n)?;
    finite_all("returns", returns, n)?;
    check::open_interval("lambda", lambda, 0.0, 1.0)?;
    confidence("confidence", c)?;
    let fixed = exposures.len() == n;
    if !fixed && exposures.len() != t * n {
        return Err(Error::invalid(
            "exposures",
            format!("{} value(s)", exposures.len()),
            format!("must hold {n} values (fixed) or {t} x {n} (one row a bar)"),
        ));
    }
    finite_all("exposures", exposures, n)?;
    let k = parametric_scale(c, h)?;
    let mut num = vec![0.0; n * n];
    let mut den = 0.0;
    let mut out = Vec::with_capacity(t);
    for r in 0..t {
        let x = &returns[r * n..(r + 1) * n];
        den = lambda * den + 1.0;
        // upper triangle only; the quadratic form doubles the off-diagonals
        for i in 0..n {
            let xi = x[i];
            let row = &mut num[i * n + i..(i + 1) * n];
            for (s, xj) in row.iter_mut().zip(&x[i..]) {
                *s = lambda * *s + xi * xj;
            }
        }
        let w = if fixed {
            exposures
        } else {
            &exposures[r * n..(r + 1) * n]
        };
        let mut v = 0.0;
        for i in 0..n {
            let row = &num[i * n + i..(i + 1) * n];
            let mut acc = row[0] * w[i];
            for (s, wj) in row[1..].iter().zip(&w[i + 1..]) {
                acc += 2.0 * s * wj;
            }
            v += w[i] * acc;
        }
        out.push(k * (v / den).max(0.0).sqrt());
    }
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::numerical("ewma_var_path", "overflows a float64"));
    }
    Ok(out)
}

pub mod backtest;

#[cfg(test)]
mod tests;
