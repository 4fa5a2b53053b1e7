//! Value at Risk and expected shortfall (positive losses), single asset and portfolio.
//!
//! Conventions (DESIGN.md): returns are simple returns per bar; the loss of a bar is `-r`;
//! VaR and CVaR are **positive losses** as a fraction of the position (multiply by the
//! position's value for quote currency, see [`position_var`]); a negative VaR means even the
//! quantile is a gain. Confidence `c` = 0.95 means the 95% quantile of losses. CVaR (expected
//! shortfall) is the mean loss at or beyond VaR, so CVaR >= VaR always.
//!
//! Horizon (`h` bars, an integer >= 1): parametric methods scale the mean by `h` and the
//! standard deviation by `sqrt(h)`; historical and filtered historical results are the one-bar
//! figures times `sqrt(h)` (the square-root-of-time rule, exact only for i.i.d. zero-mean
//! normal returns); Monte Carlo simulates `h` bars a path and compounds them.
//!
//! Modules: [`historical`] (empirical quantiles), [`moments`] (sample moments),
//! [`parametric`] (normal, Student-t, Cornish-Fisher), [`filtered`] (filtered historical
//! simulation), [`monte_carlo`], [`rolling`] (rolling historical and parametric),
//! [`portfolio`] (covariance VaR with marginal and component VaR).

use std::str::FromStr;

use crate::error::{check, Error, Result};

pub mod filtered;
pub mod historical;
pub mod horizon;
pub mod moments;
pub mod monte_carlo;
pub mod parametric;
pub mod portfolio;
pub mod rolling;
pub mod sorted;
pub mod tail;

#[cfg(test)]
mod tests;

pub use filtered::{ewma_filtered_historical, filtered_historical};
pub use historical::historical;
pub use moments::Moments;
pub use monte_carlo::{monte_carlo, McDistribution};
pub use parametric::{cornish_fisher, fit_t_df, normal, student_t};
pub use portfolio::{covariance_from_correlation, portfolio_var, PortfolioVar};
pub use rolling::{rolling_historical, rolling_parametric, RollingVar};

/// Most bars a horizon may span.
pub const MAX_HORIZON: usize = 100_000;

/// A VaR and the matching CVaR (expected shortfall), both positive losses as fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarCvar {
    pub var: f64,
    pub cvar: f64,
}

impl VarCvar {
    /// Both figures times `k` (a horizon scale or a position value).
    pub fn scaled(self, k: f64) -> Self {
        VarCvar {
            var: self.var * k,
            cvar: self.cvar * k,
        }
    }
}

/// Which empirical quantile of the losses: numpy's `method='linear'` or `method='lower'`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QuantileMethod {
    /// With losses sorted ascending `L[0..n]` and `h = (n-1) c`: `L[floor h]` plus
    /// `(h - floor h)` of the gap to the next one (numpy's default, R type 7).
    #[default]
    Linear,
    /// `L[floor((n-1) c)]`: an observed loss, never interpolated.
    Lower,
}

impl FromStr for QuantileMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "linear" => Ok(QuantileMethod::Linear),
            "lower" => Ok(QuantileMethod::Lower),
            _ => Err(Error::invalid(
                "method",
                format!("{s:?}"),
                "must be 'linear' or 'lower'",
            )),
        }
    }
}

/// `v` if both figures are finite, else a numerical error naming `what` (overflow).
pub(crate) fn finite_result(what: &str, v: VarCvar) -> Result<VarCvar> {
    if v.var.is_finite() && v.cvar.is_finite() {
        Ok(v)
    } else {
        Err(Error::numerical(
            what,
            format!(
                "VaR {} / CVaR {} is not finite (returns or scales too large for float64)",
                v.var, v.cvar
            ),
        ))
    }
}

/// The horizon check: `h` bars in 1..=[`MAX_HORIZON`].
pub fn horizon(h: usize) -> Result<usize> {
    check::count_in("horizon", h, 1, MAX_HORIZON)
}

/// Position VaR (or CVaR) in quote currency: `|size| x price x var_pct`.
///
/// `size` is in base units (its sign is ignored: for a short position pass a `var_pct`
/// computed on the negated returns), `price` in quote per base (> 0), `var_pct` a VaR or CVaR
/// fraction from any function of this module (finite; negative means a gain at the quantile).
pub fn position_var(size: f64, price: f64, var_pct: f64) -> Result<f64> {
    check::finite("size", size)?;
    check::positive("price", price)?;
    check::finite("var_pct", var_pct)?;
    let v = size.abs() * price * var_pct;
    check::finite("position value x var_pct", v)
        .map_err(|_| Error::numerical("position_var", "overflows a float64"))
}
