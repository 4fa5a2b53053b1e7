//! Parametric VaR and CVaR: normal, Student-t and Cornish-Fisher, from the sample moments.
//!
//! With the sample mean `mu`, standard deviation `sigma` (`ddof = 1`) and `h` bars, every
//! method returns `VaR = -mu h + sigma sqrt(h) q` and `CVaR = -mu h + sigma sqrt(h) e`, where
//! `q` and `e` are the `c` quantile and the tail mean beyond it of a standardised loss
//! distribution (mean 0, variance 1):
//! - normal: `q = Phi^-1(c)`, `e = phi(q) / (1 - c)`;
//! - Student-t with `nu > 2` degrees of freedom, scaled to unit variance (so its standard
//!   deviation is the sample's): `q = sqrt((nu-2)/nu) t_nu^-1(c)`,
//!   `e = sqrt((nu-2)/nu) f_nu(t) (nu + t^2) / ((nu - 1)(1 - c))` with `t = t_nu^-1(c)`;
//! - Cornish-Fisher: `q = z + (z^2-1) S/6 + (z^3-3z) K/24 - (2z^3-5z) S^2/36` with
//!   `z = Phi^-1(c)`, `S` the skewness of the losses (minus that of the returns) and `K` the
//!   excess kurtosis (both scipy `bias=False`, see [`Moments`]); `e` is the mean of that
//!   quantile function over `(c, 1)`, in closed form
//!   `phi(z)/(1-c) x [1 + S z/6 + K (z^2-1)/24 - S^2 (2z^2-1)/36]`.
//!   The expansion is only monotone for moderate `S`, `K`; CVaR is floored at VaR.

use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};

use crate::error::{Error, Result};
use crate::series::{confidence, NanPolicy};

use super::moments::{moments, Moments};
use super::{finite_result, horizon, VarCvar};

/// Largest Student-t degrees of freedom accepted or fitted (beyond it the t is the normal to
/// within 0.02% at the 99% quantile).
pub const MAX_DF: f64 = 1000.0;

pub(crate) fn std_normal() -> Result<Normal> {
    Normal::new(0.0, 1.0).map_err(|e| Error::numerical("normal distribution", e.to_string()))
}

/// Standardised normal loss quantile and tail mean at `c` (checked in (0, 1)).
pub(crate) fn normal_q_e(c: f64) -> Result<(f64, f64)> {
    let n = std_normal()?;
    let z = n.inverse_cdf(c);
    Ok((z, n.pdf(z) / (1.0 - c)))
}

/// `df` must lie in (2, MAX_DF].
pub(crate) fn check_df(df: f64) -> Result<f64> {
    if df.is_finite() && df > 2.0 && df <= MAX_DF {
        Ok(df)
    } else {
        Err(Error::invalid(
            "df",
            df,
            format!("must be > 2 and <= {MAX_DF} (the t is scaled to the sample variance)"),
        ))
    }
}

/// Tail probability limit of the Student-t quantile: statrs' inverse beta fails for tails
/// below about 1e-163, so the t methods accept `c` in `[T_TAIL_LIMIT, 1 - T_TAIL_LIMIT]`.
pub const T_TAIL_LIMIT: f64 = 1e-10;

/// Unit-variance Student-t loss quantile and tail mean at `c`, `nu` checked.
pub(crate) fn t_q_e(c: f64, nu: f64) -> Result<(f64, f64)> {
    if !(T_TAIL_LIMIT..=1.0 - T_TAIL_LIMIT).contains(&c) {
        return Err(Error::invalid(
            "confidence",
            c,
            format!("must be between {T_TAIL_LIMIT:e} and 1 - {T_TAIL_LIMIT:e} for a Student-t"),
        ));
    }
    let t = StudentsT::new(0.0, 1.0, nu)
        .map_err(|e| Error::numerical("Student-t distribution", e.to_string()))?;
    let q = t.inverse_cdf(c);
    let scale = ((nu - 2.0) / nu).sqrt();
    let e = t.pdf(q) * (nu + q * q) / ((nu - 1.0) * (1.0 - c));
    Ok((scale * q, scale * e))
}

/// Degrees of freedom of a Student-t matched to the sample's excess kurtosis by the method of
/// moments: `nu = 4 + 6 / K` (a t with `nu > 4` has excess kurtosis `6 / (nu - 4)`), with `K`
/// the scipy `bias=False` excess kurtosis; `K <= 6 / (MAX_DF - 4)` (no fat tails) gives
/// [`MAX_DF`]. Always in (4, MAX_DF].
pub fn fit_t_df(m: &Moments) -> f64 {
    let k = m.excess_kurtosis;
    if k > 6.0 / (MAX_DF - 4.0) {
        (4.0 + 6.0 / k).min(MAX_DF)
    } else {
        MAX_DF
    }
}

fn assemble(m: &Moments, h: usize, q: f64, e: f64) -> Result<VarCvar> {
    let hf = h as f64;
    let loc = -m.mean * hf;
    let s = m.std * hf.sqrt();
    let var = loc + s * q;
    let cvar = (loc + s * e).max(var);
    finite_result("parametric VaR", VarCvar { var, cvar })
}

/// Normal VaR and CVaR of `returns` at confidence `c` over `h` bars (positive loss fractions):
/// `-mu h + sigma sqrt(h) Phi^-1(c)` and `-mu h + sigma sqrt(h) phi(z)/(1-c)`. Needs >= 2
/// finite returns.
pub fn normal(returns: &[f64], c: f64, h: usize, policy: NanPolicy) -> Result<VarCvar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let m = moments(returns, 2, policy)?;
    let (q, e) = normal_q_e(c)?;
    assemble(&m, h, q, e)
}

/// Student-t VaR and CVaR (the t scaled to the sample standard deviation, see the module
/// docs). `df = None` fits it with [`fit_t_df`] (needs >= 4 returns); a given `df` must lie in
/// (2, [`MAX_DF`]] (needs >= 2 returns). Returns the result and the `df` used.
pub fn student_t(
    returns: &[f64],
    c: f64,
    h: usize,
    df: Option<f64>,
    policy: NanPolicy,
) -> Result<(VarCvar, f64)> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let df = df.map(check_df).transpose()?;
    let m = moments(returns, if df.is_some() { 2 } else { 4 }, policy)?;
    let nu = df.unwrap_or_else(|| fit_t_df(&m));
    let (q, e) = t_q_e(c, nu)?;
    Ok((assemble(&m, h, q, e)?, nu))
}

/// Cornish-Fisher (modified) VaR and CVaR from the sample mean, standard deviation, skewness
/// and excess kurtosis (scipy `bias=False`); see the module docs. Needs >= 4 returns.
pub fn cornish_fisher(returns: &[f64], c: f64, h: usize, policy: NanPolicy) -> Result<VarCvar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let m = moments(returns, 4, policy)?;
    let n = std_normal()?;
    let z = n.inverse_cdf(c);
    let (s, k) = (-m.skew, m.excess_kurtosis);
    let z2 = z * z;
    let q = z + (z2 - 1.0) * s / 6.0 + (z2 * z - 3.0 * z) * k / 24.0
        - (2.0 * z2 * z - 5.0 * z) * s * s / 36.0;
    let e = n.pdf(z) / (1.0 - c)
        * (1.0 + s * z / 6.0 + k * (z2 - 1.0) / 24.0 - s * s * (2.0 * z2 - 1.0) / 36.0);
    assemble(&m, h, q, e)
}
