//! GARCH(1,1) maximum-likelihood fit (normal and Student-t) and variance forecasts.
//!
//! Model (Bollerslev 1986), constant mean: `y[t] = mu + e[t]`, `e[t] = sqrt(s2[t]) z[t]`,
//! `s2[t] = omega + alpha e[t-1]^2 + beta s2[t-1]`, `z` i.i.d. standard normal or
//! standardised Student-t with `nu` degrees of freedom (unit variance). Constraints: `omega > 0`,
//! `alpha >= 0`, `beta >= 0`, `alpha + beta < 1`, `2 < nu < 500`.
//!
//! Units: `y = scale x returns`; every output (mu, omega, variances, log-likelihood) is in the
//! units of `y`. Python's `arch` package works in percent returns by default, so
//! `fit(r, dist, 100.0, ..)` on fractional returns is comparable to `arch_model(100 * r)`.
//!
//! Estimation follows `arch`'s conventions so results agree with it: the pre-sample squared
//! residual and variance are one backcast, the 0.94-exponentially weighted mean of the first
//! `min(75, n)` squared residuals around the sample mean, held fixed during the optimisation.
//! The log-likelihood is maximised by BFGS with analytic gradients over an unconstrained
//! reparameterisation (`ln omega`, logit of the persistence `alpha + beta`, logit of the share
//! `alpha / (alpha + beta)`, logit of `(nu - 2) / 498`), on data rescaled to unit sample
//! standard deviation (the fit is scale-equivariant, so results map back exactly), started
//! from the best point of a small grid of `(alpha, alpha + beta)`.
//!
//! Standard errors: robust (Bollerslev-Wooldridge sandwich, `arch`'s default
//! `cov_type="robust"`): `A^-1 B A^-1 / n` with `A` minus the Hessian of the mean
//! log-likelihood (central differences of the analytic gradient) and `B` the sample
//! covariance (ddof 1) of the per-observation scores; the classical `A^-1 / n` is also given.

mod likelihood;
mod matrix;
mod optimize;

use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StudentT};

use crate::error::{check, Error, Result};
use crate::series::{self, NanPolicy};
use likelihood::{Likelihood, Outputs};

/// Fewest observations [`fit`] accepts.
pub const MIN_OBS: usize = 20;
/// Upper bound of the Student-t degrees of freedom (as `arch`).
pub const NU_MAX: f64 = 500.0;
/// Longest variance forecast horizon.
pub const MAX_HORIZON: usize = 1_000_000;

/// Innovation distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    /// Standard normal.
    Normal,
    /// Standardised Student-t (unit variance), `nu > 2` estimated.
    StudentT,
}

impl Dist {
    /// `"normal"` or `"t"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dist::Normal => "normal",
            Dist::StudentT => "t",
        }
    }
}

impl FromStr for Dist {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "normal" | "gaussian" => Ok(Dist::Normal),
            "t" | "studentst" | "student_t" => Ok(Dist::StudentT),
            _ => Err(Error::invalid(
                "dist",
                format!("{s:?}"),
                "must be 'normal' or 't'",
            )),
        }
    }
}

/// GARCH(1,1) parameters, in the units of the fitted series (`nu` only for Student-t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarchParams {
    pub mu: f64,
    pub omega: f64,
    pub alpha: f64,
    pub beta: f64,
    pub nu: Option<f64>,
}

impl GarchParams {
    /// Check the constraints: omega > 0, alpha >= 0, beta >= 0, alpha + beta < 1, 2 < nu.
    pub fn validate(&self) -> Result<()> {
        check::finite("mu", self.mu)?;
        check::positive("omega", self.omega)?;
        check::non_negative("alpha", self.alpha)?;
        check::non_negative("beta", self.beta)?;
        if self.alpha + self.beta >= 1.0 {
            return Err(Error::invalid(
                "beta",
                self.beta,
                format!(
                    "alpha + beta must be < 1 for a stationary variance (alpha = {})",
                    self.alpha
                ),
            ));
        }
        if let Some(nu) = self.nu {
            check::finite("nu", nu)?;
            if nu <= 2.0 {
                return Err(Error::invalid("nu", nu, "must be > 2 (finite variance)"));
            }
        }
        Ok(())
    }

    /// `alpha + beta`.
    pub fn persistence(&self) -> f64 {
        self.alpha + self.beta
    }

    /// `omega / (1 - alpha - beta)`.
    pub fn unconditional_variance(&self) -> f64 {
        self.omega / (1.0 - self.alpha - self.beta)
    }

    fn to_vec(self) -> Vec<f64> {
        let mut v = vec![self.mu, self.omega, self.alpha, self.beta];
        v.extend(self.nu);
        v
    }

    fn from_slice(theta: &[f64]) -> Self {
        GarchParams {
            mu: theta[0],
            omega: theta[1],
            alpha: theta[2],
            beta: theta[3],
            nu: theta.get(4).copied(),
        }
    }
}

/// A fitted GARCH(1,1), in the units of `y = scale x returns`.
#[derive(Debug, Clone, PartialEq)]
pub struct GarchFit {
    pub dist: Dist,
    /// The factor applied to the returns before fitting.
    pub scale: f64,
    pub params: GarchParams,
    /// Parameter names in the order of [`GarchFit::std_errors`] and [`GarchFit::cov`].
    pub names: Vec<&'static str>,
    /// Robust (sandwich) standard errors.
    pub std_errors: Vec<f64>,
    /// Classical (inverse Hessian) standard errors.
    pub std_errors_nonrobust: Vec<f64>,
    /// Robust covariance, row-major `k x k`.
    pub cov: Vec<f64>,
    /// Maximised log-likelihood (sum over observations).
    pub loglik: f64,
    /// Conditional variances `s2[t]`, one per observation.
    pub conditional_variance: Vec<f64>,
    /// The fixed pre-sample variance.
    pub backcast: f64,
    pub nobs: usize,
    pub iterations: usize,
    /// Largest gradient component of the mean log-likelihood, in the optimiser's coordinates.
    pub gradient_max: f64,
    last_resid: f64,
}

impl GarchFit {
    /// Variance forecasts for the next `horizon` bars (1..=1e6) after the sample:
    /// `s2[T+1] = omega + alpha e[T]^2 + beta s2[T]`, then
    /// `s2[T+h] = omega + (alpha + beta) s2[T+h-1]`.
    pub fn forecast(&self, horizon: usize) -> Result<Vec<f64>> {
        check::count_in("horizon", horizon, 1, MAX_HORIZON)?;
        let p = &self.params;
        let last_s2 = self
            .conditional_variance
            .last()
            .copied()
            .unwrap_or(self.backcast);
        let mut s2 = p.omega + p.alpha * self.last_resid * self.last_resid + p.beta * last_s2;
        let mut out = Vec::with_capacity(horizon);
        out.push(s2);
        for _ in 1..horizon {
            s2 = p.omega + p.persistence() * s2;
            out.push(s2);
        }
        Ok(out)
    }
}

/// A constraint held active at its bound: the share coordinate `u[3]` is frozen and `alpha`
/// (share 0) or `beta` (share 1) is exactly 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pin {
    Free,
    AlphaZero,
    BetaZero,
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn share(u: &[f64], pin: Pin) -> f64 {
    match pin {
        Pin::Free => sig(u[3]),
        Pin::AlphaZero => 0.0,
        Pin::BetaZero => 1.0,
    }
}

/// Optimiser coordinates `u` to parameters `theta` (see the module docs).
fn to_theta(u: &[f64], theta: &mut [f64], pin: Pin) {
    let (p, s) = (sig(u[2]), share(u, pin));
    theta[0] = u[0];
    theta[1] = u[1].exp();
    theta[2] = p * s;
    theta[3] = p * (1.0 - s);
    if theta.len() > 4 {
        theta[4] = 2.0 + (NU_MAX - 2.0) * sig(u[4]);
    }
}

fn to_u(theta: &[f64]) -> Vec<f64> {
    let logit = |x: f64| (x / (1.0 - x)).ln();
    let p = theta[2] + theta[3];
    let mut u = vec![theta[0], theta[1].ln(), logit(p), logit(theta[2] / p)];
    if theta.len() > 4 {
        u.push(logit((theta[4] - 2.0) / (NU_MAX - 2.0)));
    }
    u
}

/// Gradient with respect to `u` from the gradient with respect to `theta` (zero for a
/// frozen share).
fn chain(u: &[f64], theta: &[f64], g_theta: &[f64], g_u: &mut [f64], pin: Pin) {
    let (p, s) = (sig(u[2]), share(u, pin));
    g_u[0] = g_theta[0];
    g_u[1] = g_theta[1] * theta[1];
    g_u[2] = (g_theta[2] * s + g_theta[3] * (1.0 - s)) * p * (1.0 - p);
    g_u[3] = match pin {
        Pin::Free => (g_theta[2] - g_theta[3]) * p * s * (1.0 - s),
        _ => 0.0,
    };
    if u.len() > 4 {
        let frac = sig(u[4]);
        g_u[4] = g_theta[4] * (NU_MAX - 2.0) * frac * (1.0 - frac);
    }
}

/// Moment-based starting value of `nu` from the kurtosis (as `arch`).
fn nu_start(resid: &[f64]) -> f64 {
    let n = resid.len() as f64;
    let m2 = resid.iter().map(|e| e * e).sum::<f64>() / n;
    let m4 = resid.iter().map(|e| e.powi(4)).sum::<f64>() / n;
    let kurt = m4 / (m2 * m2);
    if kurt > 3.75 {
        ((4.0 * kurt - 6.0) / (kurt - 3.0)).max(4.0)
    } else {
        12.0
    }
}

/// Fit a constant-mean GARCH(1,1) to `scale x returns` by maximum likelihood.
///
/// `returns` need at least [`MIN_OBS`] finite values (NaN/inf handled by `policy`) and must not
/// be constant; `scale` is finite and > 0 (100 for percent returns, as `arch`). A fit that
/// does not converge is a `Numerical` error.
pub fn fit(returns: &[f64], dist: Dist, scale: f64, policy: NanPolicy) -> Result<GarchFit> {
    check::positive("scale", scale)?;
    let r = series::finite_series("returns", returns, MIN_OBS, policy)?;
    let y: Vec<f64> = r.iter().map(|x| x * scale).collect();
    let n = y.len();
    let nf = n as f64;
    let mean = y.iter().sum::<f64>() / nf;
    let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nf;
    if !var.is_finite() {
        return Err(Error::invalid(
            "returns",
            format!("variance {var}"),
            "scale x returns must have a finite variance (values too large)",
        ));
    }
    if var <= 0.0 || var.sqrt() <= 1e-12 * mean.abs() {
        return Err(Error::invalid(
            "returns",
            format!("{n} value(s) with variance {var}"),
            "must not be constant (a GARCH fit needs variation)",
        ));
    }
    // fit on z = y / sd (unit variance): the likelihood is scale-equivariant
    let sd = var.sqrt();
    let z: Vec<f64> = y.iter().map(|v| v / sd).collect();
    let zmean = mean / sd;
    let resid0: Vec<f64> = z.iter().map(|v| v - zmean).collect();
    let model = Likelihood {
        y: &z,
        backcast: likelihood::backcast(&resid0),
        dist,
    };
    let k = model.k();
    let theta0 = start(&model, zmean, &resid0);
    let settings = optimize::Settings {
        gtol: 1e-8,
        noise_gtol: 1e-6,
        max_iter: 2000,
        max_step: 2.0,
    };
    let mut outcome = maximise(&model, &to_u(&theta0), Pin::Free, settings);
    let mut pin = Pin::Free;
    if !outcome.converged {
        // the maximum may lie on the boundary alpha = 0 or beta = 0, where the logit share
        // drifts to +-inf and its gradient vanishes only slowly: hold that constraint active
        // and accept the result if the likelihood then rises only outside the bound (KKT)
        let s = sig(outcome.x[3]);
        let candidate = if s < 0.5 {
            Pin::AlphaZero
        } else {
            Pin::BetaZero
        };
        let pinned = maximise(&model, &outcome.x, candidate, settings);
        if pinned.converged && pinned.f <= outcome.f + 1e-12 {
            let mut theta = vec![0.0; k];
            to_theta(&pinned.x, &mut theta, candidate);
            let mut g = vec![0.0; k];
            model.value_grad(&theta, &mut g);
            let (g_alpha, g_beta) = (g[2] / nf, g[3] / nf);
            let kkt = match candidate {
                // moving alpha (beta) up from 0 at fixed persistence must not help
                Pin::AlphaZero => g_alpha - g_beta <= 1e-6,
                _ => g_beta - g_alpha <= 1e-6,
            };
            if kkt {
                outcome = pinned;
                pin = candidate;
            }
        }
    }
    if !outcome.converged {
        return Err(Error::numerical(
            "garch_fit",
            format!(
                "the likelihood maximisation did not converge after {} iterations (largest \
                 gradient component {:.3e}, log-likelihood per observation {:.6})",
                outcome.iterations, outcome.grad_max, -outcome.f
            ),
        ));
    }
    let mut theta_z = vec![0.0; k];
    to_theta(&outcome.x, &mut theta_z, pin);
    finish(&model, &theta_z, sd, scale, outcome)
}

/// BFGS on the mean negative log-likelihood in optimiser coordinates.
fn maximise(
    model: &Likelihood<'_>,
    u0: &[f64],
    pin: Pin,
    settings: optimize::Settings,
) -> optimize::Outcome {
    let k = model.k();
    let nf = model.y.len() as f64;
    let mut theta = vec![0.0; k];
    let mut g_theta = vec![0.0; k];
    let objective = |u: &[f64], g_u: &mut [f64]| -> f64 {
        to_theta(u, &mut theta, pin);
        if theta.iter().any(|v| !v.is_finite()) || theta[1] <= 0.0 {
            return f64::INFINITY;
        }
        let ll = model.value_grad(&theta, &mut g_theta);
        if !ll.is_finite() {
            return f64::INFINITY;
        }
        chain(u, &theta, &g_theta, g_u, pin);
        g_u.iter_mut().for_each(|g| *g = -*g / nf);
        -ll / nf
    };
    optimize::bfgs(objective, u0, settings)
}

/// The best start on a small grid: alpha in {0.02, 0.05, 0.1, 0.2}, alpha + beta in
/// {0.5, 0.8, 0.9, 0.95, 0.98}, omega matching the sample variance, mu the sample mean.
fn start(model: &Likelihood<'_>, mean: f64, resid: &[f64]) -> Vec<f64> {
    let var = resid.iter().map(|e| e * e).sum::<f64>() / resid.len() as f64;
    let nu = nu_start(resid);
    let mut best = (f64::NEG_INFINITY, vec![mean, 0.1 * var, 0.05, 0.85]);
    for alpha in [0.02, 0.05, 0.1, 0.2] {
        for persistence in [0.5, 0.8, 0.9, 0.95, 0.98] {
            let mut theta = vec![mean, var * (1.0 - persistence), alpha, persistence - alpha];
            if model.k() > 4 {
                theta.push(nu);
            }
            let ll = model.value(&theta);
            if ll > best.0 {
                best = (ll, theta);
            }
        }
    }
    if best.1.len() < model.k() {
        best.1.push(nu);
    }
    best.1
}

/// Covariances, units and the result at the optimum `theta_z` (unit-variance data).
fn finish(
    model: &Likelihood<'_>,
    theta_z: &[f64],
    sd: f64,
    scale: f64,
    outcome: optimize::Outcome,
) -> Result<GarchFit> {
    let k = model.k();
    let n = model.y.len();
    let nf = n as f64;
    let mut scores = Vec::new();
    let mut sigma2 = Vec::new();
    let ll_z = model.eval(
        theta_z,
        Outputs {
            scores: Some(&mut scores),
            sigma2: Some(&mut sigma2),
            ..Outputs::default()
        },
    );
    // A = -(Hessian of the total log-likelihood) / n, by central differences of the gradient
    let mut a = vec![0.0; k * k];
    let (mut gp, mut gm) = (vec![0.0; k], vec![0.0; k]);
    for j in 0..k {
        let h = 1e-5 * theta_z[j].abs().max(1e-2);
        let mut tp = theta_z.to_vec();
        let mut tm = theta_z.to_vec();
        tp[j] += h;
        tm[j] -= h;
        let (lp, lm) = (
            model.value_grad(&tp, &mut gp),
            model.value_grad(&tm, &mut gm),
        );
        if !(lp.is_finite() && lm.is_finite()) {
            return Err(Error::numerical(
                "garch_fit",
                "the likelihood is not finite next to the optimum: no standard errors",
            ));
        }
        for i in 0..k {
            a[i * k + j] = -(gp[i] - gm[i]) / (2.0 * h) / nf;
        }
    }
    for i in 0..k {
        for j in 0..i {
            let avg = 0.5 * (a[i * k + j] + a[j * k + i]);
            a[i * k + j] = avg;
            a[j * k + i] = avg;
        }
    }
    let singular = || {
        Error::numerical(
            "garch_fit",
            "the Hessian at the optimum is singular: the parameters are not identified \
             (no standard errors)",
        )
    };
    let a_inv = matrix::inverse(&a, k).ok_or_else(singular)?;
    // B = sample covariance of the scores (ddof 1)
    let mut mean_score = vec![0.0; k];
    for row in scores.chunks_exact(k) {
        mean_score
            .iter_mut()
            .zip(row)
            .for_each(|(m, s)| *m += s / nf);
    }
    let mut b = vec![0.0; k * k];
    for row in scores.chunks_exact(k) {
        for i in 0..k {
            for j in 0..k {
                b[i * k + j] += (row[i] - mean_score[i]) * (row[j] - mean_score[j]);
            }
        }
    }
    b.iter_mut().for_each(|v| *v /= nf - 1.0);
    let robust_z = matrix::mul(&matrix::mul(&a_inv, &b, k), &a_inv, k);
    // back to the units of y: mu scales with sd, omega with sd^2
    let unit: Vec<f64> = (0..k)
        .map(|i| match i {
            0 => sd,
            1 => sd * sd,
            _ => 1.0,
        })
        .collect();
    let mut cov = vec![0.0; k * k];
    let mut cov_classical = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            cov[i * k + j] = robust_z[i * k + j] * unit[i] * unit[j] / nf;
            cov_classical[i * k + j] = a_inv[i * k + j] * unit[i] * unit[j] / nf;
        }
    }
    let se = |c: &[f64]| -> Vec<f64> { (0..k).map(|i| c[i * k + i].max(0.0).sqrt()).collect() };
    let std_errors = se(&cov);
    let std_errors_nonrobust = se(&cov_classical);
    let mut params = GarchParams::from_slice(theta_z);
    params.mu *= sd;
    params.omega *= sd * sd;
    let sd2 = sd * sd;
    sigma2.iter_mut().for_each(|v| *v *= sd2);
    let loglik = ll_z - nf * sd.ln();
    let last_resid = (model.y[n - 1] - theta_z[0]) * sd;
    let finite = loglik.is_finite()
        && params.to_vec().iter().all(|v| v.is_finite())
        && std_errors.iter().all(|v| v.is_finite())
        && std_errors_nonrobust.iter().all(|v| v.is_finite())
        && sigma2.iter().all(|v| v.is_finite() && *v > 0.0);
    if !finite {
        return Err(Error::numerical(
            "garch_fit",
            "the fit produced non-finite values (the data may be too extreme)",
        ));
    }
    let names = ["mu", "omega", "alpha", "beta", "nu"][..k].to_vec();
    Ok(GarchFit {
        dist: model.dist,
        scale,
        params,
        names,
        std_errors,
        std_errors_nonrobust,
        cov,
        loglik,
        conditional_variance: sigma2,
        backcast: model.backcast * sd2,
        nobs: n,
        iterations: outcome.iterations,
        gradient_max: outcome.grad_max,
        last_resid,
    })
}

/// The log-likelihood of `y` (already scaled) under `params`, with `arch`'s backcast: for
/// checks against other implementations at the same parameters.
pub fn loglikelihood(y: &[f64], params: &GarchParams) -> Result<f64> {
    params.validate()?;
    let y = series::finite_series("returns", y, 1, NanPolicy::Raise)?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let resid: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let model = Likelihood {
        y: &y,
        backcast: likelihood::backcast(&resid),
        dist: if params.nu.is_some() {
            Dist::StudentT
        } else {
            Dist::Normal
        },
    };
    let ll = model.value(&params.to_vec());
    if ll.is_finite() {
        Ok(ll)
    } else {
        Err(Error::numerical(
            "garch_loglikelihood",
            "the log-likelihood is not finite at these parameters",
        ))
    }
}

/// Simulate `nobs` values of a GARCH(1,1) after `burn` discarded ones, from the unconditional
/// variance, with a seeded ChaCha8 generator (same seed, same path on every platform).
/// `params.nu` selects standardised Student-t innovations.
pub fn simulate(params: &GarchParams, nobs: usize, burn: usize, seed: u64) -> Result<Vec<f64>> {
    params.validate()?;
    check::count_in("nobs", nobs, 1, 100_000_000)?;
    check::count_in("burn", burn, 0, 100_000_000)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let student = match params.nu {
        Some(nu) => Some((
            StudentT::new(nu).map_err(|e| Error::invalid("nu", nu, e.to_string()))?,
            ((nu - 2.0) / nu).sqrt(),
        )),
        None => None,
    };
    let mut s2 = params.unconditional_variance();
    let mut out = Vec::with_capacity(nobs);
    for t in 0..burn + nobs {
        let z: f64 = match &student {
            Some((dist, unit)) => dist.sample(&mut rng) * unit,
            None => StandardNormal.sample(&mut rng),
        };
        let e = s2.sqrt() * z;
        if t >= burn {
            out.push(params.mu + e);
        }
        s2 = params.omega + params.alpha * e * e + params.beta * s2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
