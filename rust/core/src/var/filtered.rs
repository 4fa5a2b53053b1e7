//! Filtered historical simulation (FHS, Barone-Adesi et al. 1999): historical VaR of the
//! returns standardised by their own volatility, rescaled by the current volatility.
//!
//! With returns `r_t` and the volatility `sigma_t` that was forecast for bar `t` (known before
//! `r_t`), the standardised losses are `-r_t / sigma_t`; VaR and CVaR are their historical VaR
//! and CVaR (numpy `linear` or `lower` quantile, tail mean at or beyond VaR: see
//! [`super::historical`]) times the current volatility `sigma_now` (the forecast for the next
//! bar) times `sqrt(h)`. Returns are not demeaned.

use crate::error::{check, Error, Result};
use crate::series::{confidence, same_len, NanPolicy};

use super::historical::var_cvar_of_losses;
use super::{finite_result, horizon, QuantileMethod, VarCvar};

/// RiskMetrics' daily decay factor.
pub const RISKMETRICS_LAMBDA: f64 = 0.94;

/// Filtered historical VaR and CVaR with a volatility series from the caller (for example the
/// conditional sigma of a GARCH fit or an EWMA).
///
/// `sigma[t]` (> 0, same units as returns, per bar) is the volatility forecast for bar `t`;
/// `sigma_now` (> 0) the forecast for the next bar, `None` meaning the last `sigma`. Under
/// [`NanPolicy::Omit`] the bars where the return or sigma is NaN/inf are dropped in pairs.
/// Needs at least one bar.
pub fn filtered_historical(
    returns: &[f64],
    sigma: &[f64],
    sigma_now: Option<f64>,
    c: f64,
    h: usize,
    method: QuantileMethod,
    policy: NanPolicy,
) -> Result<VarCvar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    same_len("returns", returns.len(), "sigma", sigma.len())?;
    let mut losses = Vec::with_capacity(returns.len());
    for (i, (&r, &s)) in returns.iter().zip(sigma).enumerate() {
        if !(r.is_finite() && s.is_finite()) {
            if policy == NanPolicy::Omit {
                continue;
            }
            let (field, v) = if r.is_finite() {
                ("sigma", s)
            } else {
                ("returns", r)
            };
            return Err(Error::invalid(
                format!("{field}[{i}]"),
                v,
                "must be finite (pass nan_policy='omit' to drop NaN and inf)",
            ));
        }
        if s <= 0.0 {
            return Err(Error::invalid(format!("sigma[{i}]"), s, "must be > 0"));
        }
        losses.push(-r / s);
    }
    if losses.is_empty() {
        return Err(Error::invalid(
            "returns",
            "0 value(s)",
            "must hold at least 1 finite value(s)",
        ));
    }
    let now = match sigma_now {
        Some(v) => check::positive("sigma_now", v)?,
        None => sigma
            .iter()
            .rev()
            .copied()
            .find(|v| v.is_finite())
            .unwrap_or(1.0),
    };
    let v = var_cvar_of_losses(&mut losses, c, method).scaled(now * (h as f64).sqrt());
    finite_result("filtered historical VaR", v)
}

/// The EWMA volatility forecasts of `returns` (finite): `sigma[t]` for every bar `t` (known
/// before `r_t`) and the forecast for the next bar, as `(sigma, sigma_now)`.
///
/// RiskMetrics recursion with zero mean: `s2[0] = mean(r^2)` over the whole sample (the
/// seed), `s2[t] = lam s2[t-1] + (1 - lam) r[t-1]^2`, `sigma_now^2 = lam s2[n-1] +
/// (1 - lam) r[n-1]^2`.
pub fn ewma_sigma(returns: &[f64], lam: f64) -> (Vec<f64>, f64) {
    let n = returns.len();
    let mut s2 = if n == 0 {
        0.0
    } else {
        returns.iter().map(|r| r * r).sum::<f64>() / n as f64
    };
    let mut sigma = Vec::with_capacity(n);
    for &r in returns {
        sigma.push(s2.sqrt());
        s2 = lam * s2 + (1.0 - lam) * r * r;
    }
    (sigma, s2.sqrt())
}

/// Filtered historical VaR and CVaR with the built-in EWMA volatility ([`ewma_sigma`], decay
/// `lam` in (0, 1), RiskMetrics uses 0.94). A series of zero returns has zero volatility and
/// VaR = CVaR = 0. Needs at least one finite return.
pub fn ewma_filtered_historical(
    returns: &[f64],
    lam: f64,
    c: f64,
    h: usize,
    method: QuantileMethod,
    policy: NanPolicy,
) -> Result<VarCvar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let lam = check::open_interval("lam", lam, 0.0, 1.0)?;
    let r = crate::series::finite_series("returns", returns, 1, policy)?;
    let (sigma, now) = ewma_sigma(&r, lam);
    if now == 0.0 || sigma.contains(&0.0) {
        // only when every return is 0: no volatility, no loss
        return Ok(VarCvar {
            var: 0.0,
            cvar: 0.0,
        });
    }
    filtered_historical(&r, &sigma, Some(now), c, h, method, NanPolicy::Raise)
}
