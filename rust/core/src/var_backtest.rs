//! VaR backtests: exception series, Kupiec POF, Christoffersen independence and conditional coverage.
//!
//! An exception is a bar whose loss exceeds its VaR: `-r_t > VaR_t` (strictly; a loss equal to
//! VaR is not an exception). With `T` bars, `x` exceptions and the expected exception rate
//! `p = 1 - c`:
//! - Kupiec (1995) proportion of failures:
//!   `LR_pof = -2 ln[(1-p)^(T-x) p^x] + 2 ln[(1-x/T)^(T-x) (x/T)^x]`, chi-squared with 1 df;
//! - Christoffersen (1998) independence, from the transition counts `n_ij` of consecutive bars
//!   (`i` = exception yesterday, `j` = today; `T - 1` transitions),
//!   `pi01 = n01/(n00+n01)`, `pi11 = n11/(n10+n11)`, `pi = (n01+n11)/(T-1)`:
//!   `LR_ind = -2 ln[(1-pi)^(n00+n10) pi^(n01+n11)]
//!            + 2 ln[(1-pi01)^n00 pi01^n01 (1-pi11)^n10 pi11^n11]`, chi-squared with 1 df;
//! - conditional coverage `LR_cc = LR_pof + LR_ind`, chi-squared with 2 df.
//!
//! Edge cases, never NaN: `0 x ln 0 = 0` (so zero or all exceptions give finite statistics:
//! `x = 0` gives `LR_pof = -2 T ln(1-p)`, `x = T` gives `-2 T ln p`); a probability whose
//! denominator is 0 (no transition from that state) only multiplies zero counts, so its terms
//! vanish; fewer than 2 bars means no transitions and `LR_ind = 0`, p-value 1. Statistics
//! are floored at 0 (rounding can make a zero statistic -1e-16) and p-values are
//! `chi2.sf(LR)`.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::error::{Error, Result};
use crate::series::{confidence, same_len, NanPolicy};

#[cfg(test)]
mod tests;

/// A likelihood-ratio statistic and its chi-squared p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrTest {
    pub lr: f64,
    pub p_value: f64,
}

/// Transition counts of an exception series: `nij` = bars with state `j` after state `i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transitions {
    pub n00: u64,
    pub n01: u64,
    pub n10: u64,
    pub n11: u64,
}

/// Everything a VaR backtest reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub n_obs: u64,
    pub n_exceptions: u64,
    /// `n_exceptions / n_obs`.
    pub exception_rate: f64,
    /// `(1 - c) n_obs`.
    pub expected_exceptions: f64,
    pub pof: LrTest,
    pub independence: LrTest,
    pub conditional_coverage: LrTest,
    pub transitions: Transitions,
    pub exceptions: Vec<bool>,
}

/// `k ln p` with `0 ln 0 = 0` (and `0 x ln anything = 0`).
fn xlogp(k: f64, p: f64) -> f64 {
    if k == 0.0 {
        0.0
    } else {
        k * p.ln()
    }
}

fn chi2_test(lr: f64, df: f64) -> Result<LrTest> {
    let lr = lr.max(0.0);
    let chi = ChiSquared::new(df).map_err(|e| Error::numerical("chi-squared", e.to_string()))?;
    let p_value = chi.sf(lr).clamp(0.0, 1.0);
    if !(lr.is_finite() && p_value.is_finite()) {
        return Err(Error::numerical(
            "likelihood ratio",
            format!("statistic {lr} or p-value {p_value} is not finite"),
        ));
    }
    Ok(LrTest { lr, p_value })
}

/// Exceptions of `returns` against same-length `var` (positive loss fractions, as forecast
/// for each bar): `-returns[t] > var[t]`. Both must be finite (or, under
/// [`NanPolicy::Omit`], bars where either is NaN/inf are dropped).
pub fn exceptions(returns: &[f64], var: &[f64], policy: NanPolicy) -> Result<Vec<bool>> {
    same_len("returns", returns.len(), "var", var.len())?;
    let mut out = Vec::with_capacity(returns.len());
    for (t, (&r, &v)) in returns.iter().zip(var).enumerate() {
        if !(r.is_finite() && v.is_finite()) {
            if policy == NanPolicy::Omit {
                continue;
            }
            let (field, x) = if r.is_finite() {
                ("var", v)
            } else {
                ("returns", r)
            };
            return Err(Error::invalid(
                format!("{field}[{t}]"),
                x,
                "must be finite (pass nan_policy='omit' to drop NaN and inf)",
            ));
        }
        out.push(-r > v);
    }
    Ok(out)
}

/// Kupiec's proportion-of-failures test of `n_exceptions` in `n_obs` bars (>= 1) against the
/// rate `1 - c`; see the module docs.
pub fn kupiec_pof(n_obs: u64, n_exceptions: u64, c: f64) -> Result<LrTest> {
    let c = confidence("confidence", c)?;
    if n_obs == 0 {
        return Err(Error::invalid("n_obs", n_obs, "must be >= 1"));
    }
    if n_exceptions > n_obs {
        return Err(Error::invalid(
            "n_exceptions",
            n_exceptions,
            format!("must be <= n_obs ({n_obs})"),
        ));
    }
    let p = 1.0 - c;
    let (t, x) = (n_obs as f64, n_exceptions as f64);
    let phat = x / t;
    let null = xlogp(t - x, 1.0 - p) + xlogp(x, p);
    let alt = xlogp(t - x, 1.0 - phat) + xlogp(x, phat);
    chi2_test(-2.0 * (null - alt), 1.0)
}

/// Transition counts of consecutive bars of an exception series.
pub fn transitions(exceptions: &[bool]) -> Transitions {
    let mut n = Transitions::default();
    for pair in exceptions.windows(2) {
        match (pair[0], pair[1]) {
            (false, false) => n.n00 += 1,
            (false, true) => n.n01 += 1,
            (true, false) => n.n10 += 1,
            (true, true) => n.n11 += 1,
        }
    }
    n
}

/// An exception series kept as its counts (constant memory, whatever its length): what
/// Kupiec's, Christoffersen's and the conditional coverage tests read of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExceptionTally {
    /// Observations and exceptions among them.
    pub n_obs: u64,
    pub n_exceptions: u64,
    pub transitions: Transitions,
    last: Option<bool>,
}

impl ExceptionTally {
    /// Append one observation (true: an exception).
    pub fn push(&mut self, exception: bool) {
        if let Some(prev) = self.last {
            let t = &mut self.transitions;
            match (prev, exception) {
                (false, false) => t.n00 += 1,
                (false, true) => t.n01 += 1,
                (true, false) => t.n10 += 1,
                (true, true) => t.n11 += 1,
            }
        }
        self.last = Some(exception);
        self.n_obs += 1;
        self.n_exceptions += u64::from(exception);
    }

    /// [`christoffersen_independence`] of the series tallied.
    pub fn independence(&self) -> Result<LrTest> {
        independence_of(&self.transitions)
    }

    /// [`conditional_coverage`] of the series tallied at confidence `c` (needs >= 1 bar).
    pub fn conditional_coverage(&self, c: f64) -> Result<LrTest> {
        let pof = kupiec_pof(self.n_obs, self.n_exceptions, c)?;
        let ind = self.independence()?;
        chi2_test(pof.lr + ind.lr, 2.0)
    }
}

/// Christoffersen's independence test of an exception series; see the module docs.
pub fn christoffersen_independence(exceptions: &[bool]) -> Result<LrTest> {
    independence_of(&transitions(exceptions))
}

/// Christoffersen's independence test from an exception series' transition counts.
fn independence_of(n: &Transitions) -> Result<LrTest> {
    let (n00, n01, n10, n11) = (n.n00 as f64, n.n01 as f64, n.n10 as f64, n.n11 as f64);
    let total = n00 + n01 + n10 + n11;
    if total == 0.0 {
        return chi2_test(0.0, 1.0);
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let pi01 = ratio(n01, n00 + n01);
    let pi11 = ratio(n11, n10 + n11);
    let pi = (n01 + n11) / total;
    let null = xlogp(n00 + n10, 1.0 - pi) + xlogp(n01 + n11, pi);
    let alt = xlogp(n00, 1.0 - pi01) + xlogp(n01, pi01) + xlogp(n10, 1.0 - pi11) + xlogp(n11, pi11);
    chi2_test(-2.0 * (null - alt), 1.0)
}

/// Christoffersen's conditional coverage test: `LR_pof + LR_ind` with 2 df. Needs >= 1 bar.
pub fn conditional_coverage(exceptions: &[bool], c: f64) -> Result<LrTest> {
    let x = exceptions.iter().filter(|&&e| e).count() as u64;
    let pof = kupiec_pof(exceptions.len() as u64, x, c)?;
    let ind = christoffersen_independence(exceptions)?;
    chi2_test(pof.lr + ind.lr, 2.0)
}

/// The full backtest of `returns` against same-length `var` forecasts at confidence `c`:
/// exceptions, their count and rate, Kupiec, Christoffersen independence and conditional
/// coverage. Needs >= 1 bar after the NaN policy.
pub fn backtest(returns: &[f64], var: &[f64], c: f64, policy: NanPolicy) -> Result<Backtest> {
    let c = confidence("confidence", c)?;
    let exc = exceptions(returns, var, policy)?;
    if exc.is_empty() {
        return Err(Error::invalid(
            "returns",
            "0 value(s)",
            "must hold at least 1 finite value(s)",
        ));
    }
    let n_obs = exc.len() as u64;
    let n_exceptions = exc.iter().filter(|&&e| e).count() as u64;
    let pof = kupiec_pof(n_obs, n_exceptions, c)?;
    let independence = christoffersen_independence(&exc)?;
    let conditional_coverage = chi2_test(pof.lr + independence.lr, 2.0)?;
    Ok(Backtest {
        n_obs,
        n_exceptions,
        exception_rate: n_exceptions as f64 / n_obs as f64,
        expected_exceptions: (1.0 - c) * n_obs as f64,
        pof,
        independence,
        conditional_coverage,
        transitions: transitions(&exc),
        exceptions: exc,
    })
}
