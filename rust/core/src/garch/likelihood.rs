//! The GARCH(1,1) log-likelihood with analytic derivatives.
//!
//! Model: `e[t] = y[t] - mu`, `s2[t] = omega + alpha e[t-1]^2 + beta s2[t-1]`, with the
//! pre-sample `e[-1]^2` and `s2[-1]` both replaced by a fixed backcast `b`, so
//! `s2[0] = omega + (alpha + beta) b`. Parameters `theta = [mu, omega, alpha, beta, (nu)]`.
//!
//! Per-observation log-likelihoods:
//! - normal: `-0.5 (ln 2 pi + ln s2 + e^2 / s2)`;
//! - standardised Student-t (unit variance, `nu > 2`):
//!   `lnG((nu+1)/2) - lnG(nu/2) - 0.5 ln(pi (nu-2)) - 0.5 ln s2 - (nu+1)/2 ln(1 + e^2/(s2 (nu-2)))`.
//!
//! Scores by the chain rule through the variance recursion:
//! `ds2[t]/dmu = -2 alpha e[t-1] + beta ds2[t-1]/dmu`, `ds2[t]/domega = 1 + beta ds2[t-1]/domega`,
//! `ds2[t]/dalpha = e[t-1]^2 + beta ...`, `ds2[t]/dbeta = s2[t-1] + beta ...` (with `b` in
//! place of `e[-1]^2` and `s2[-1]`, and zero derivatives of `b`).

use statrs::function::gamma::{digamma, ln_gamma};

use super::Dist;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// `sum(ln x)` over positive values with one `ln` per block of 32 values instead of one per
/// value: products are accumulated while they stay within 1e+-150 (a value outside that range
/// is logged directly), so nothing overflows and the sum keeps ~1e-14 relative accuracy.
struct LogSum {
    sum: f64,
    prod: f64,
    count: u32,
}

impl LogSum {
    fn new() -> Self {
        LogSum {
            sum: 0.0,
            prod: 1.0,
            count: 0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) {
        const LO: f64 = 1e-150;
        const HI: f64 = 1e150;
        if !(LO..=HI).contains(&x) {
            self.sum += x.ln();
            return;
        }
        self.prod *= x;
        self.count += 1;
        if self.count == 32 || !(LO..=HI).contains(&self.prod) {
            self.sum += self.prod.ln();
            self.prod = 1.0;
            self.count = 0;
        }
    }

    fn total(&self) -> f64 {
        self.sum + self.prod.ln()
    }
}

/// Data and fixed backcast of one fit.
pub(crate) struct Likelihood<'a> {
    pub y: &'a [f64],
    pub backcast: f64,
    pub dist: Dist,
}

/// What to collect besides the total log-likelihood.
#[derive(Default)]
pub(crate) struct Outputs<'o> {
    /// Gradient of the total log-likelihood (length k).
    pub grad: Option<&'o mut [f64]>,
    /// Per-observation scores, row-major `n x k`.
    pub scores: Option<&'o mut Vec<f64>>,
    /// Conditional variances (length n).
    pub sigma2: Option<&'o mut Vec<f64>>,
}

impl Likelihood<'_> {
    /// Number of parameters.
    pub fn k(&self) -> usize {
        match self.dist {
            Dist::Normal => 4,
            Dist::StudentT => 5,
        }
    }

    /// Total log-likelihood at `theta`, filling the requested outputs; `-inf` when the
    /// variance recursion leaves the positive finite range or `nu <= 2`.
    pub fn eval(&self, theta: &[f64], mut out: Outputs<'_>) -> f64 {
        let (mu, omega, alpha, beta) = (theta[0], theta[1], theta[2], theta[3]);
        let nu = theta.get(4).copied().unwrap_or(f64::INFINITY);
        let k = self.k();
        let t_dist = matches!(self.dist, Dist::StudentT);
        if t_dist && !(nu > 2.0 && nu.is_finite()) {
            return f64::NEG_INFINITY;
        }
        let want_grad = out.grad.is_some() || out.scores.is_some();
        let (const_t, dconst_t) = if t_dist {
            (
                ln_gamma(0.5 * (nu + 1.0))
                    - ln_gamma(0.5 * nu)
                    - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln(),
                if want_grad {
                    0.5 * digamma(0.5 * (nu + 1.0)) - 0.5 * digamma(0.5 * nu) - 0.5 / (nu - 2.0)
                } else {
                    0.0
                },
            )
        } else {
            (0.0, 0.0)
        };
        if let Some(s) = out.scores.as_deref_mut() {
            s.clear();
            s.reserve(self.y.len() * k);
        }
        if let Some(s) = out.sigma2.as_deref_mut() {
            s.clear();
            s.reserve(self.y.len());
        }
        let mut grad = [0.0f64; 5];
        let b = self.backcast;
        // previous squared residual and variance (the backcast before the sample)
        let (mut e2_prev, mut s2_prev) = (b, b);
        let mut e_prev = 0.0; // d(e2_prev)/dmu = -2 e_prev, zero for the backcast
        let mut d = [0.0f64; 4]; // ds2/d(mu, omega, alpha, beta) of the previous variance
                                 // ll = n c - 0.5 sum ln s2 - 0.5 sum(e^2/s2) (normal) or - (nu+1)/2 sum ln(1+q) (t)
        let mut log_s2 = LogSum::new();
        let mut log_1q = LogSum::new();
        let mut quad = 0.0;
        let want_scores = out.scores.is_some();
        for (t, &yt) in self.y.iter().enumerate() {
            let s2 = omega + alpha * e2_prev + beta * s2_prev;
            if !(s2 > 0.0 && s2.is_finite()) {
                return f64::NEG_INFINITY;
            }
            let inv = 1.0 / s2;
            let e = yt - mu;
            let e2 = e * e;
            log_s2.push(s2);
            if want_grad {
                let dmu = if t == 0 { 0.0 } else { -2.0 * alpha * e_prev };
                d = [
                    dmu + beta * d[0],
                    1.0 + beta * d[1],
                    e2_prev + beta * d[2],
                    s2_prev + beta * d[3],
                ];
            }
            let (g_s2, g_mu_direct, g_nu) = if t_dist {
                let q = e2 * inv / (nu - 2.0);
                log_1q.push(1.0 + q);
                if want_grad {
                    let w = (nu + 1.0) / (1.0 + q);
                    // the per-observation ln(1+q) is only needed for the scores
                    let l1q = if want_scores { q.ln_1p() } else { 0.0 };
                    (
                        0.5 * (w * q - 1.0) * inv,
                        w * e * inv / (nu - 2.0),
                        dconst_t - 0.5 * l1q + 0.5 * w * q / (nu - 2.0),
                    )
                } else {
                    (0.0, 0.0, 0.0)
                }
            } else {
                let z2 = e2 * inv;
                quad += z2;
                (0.5 * (z2 - 1.0) * inv, e * inv, 0.0)
            };
            if want_grad {
                let row = [
                    g_mu_direct + g_s2 * d[0],
                    g_s2 * d[1],
                    g_s2 * d[2],
                    g_s2 * d[3],
                    g_nu,
                ];
                for (g, r) in grad.iter_mut().zip(&row[..k]) {
                    *g += r;
                }
                if let Some(s) = out.scores.as_deref_mut() {
                    s.extend_from_slice(&row[..k]);
                }
            }
            if let Some(s) = out.sigma2.as_deref_mut() {
                s.push(s2);
            }
            e_prev = e;
            e2_prev = e2;
            s2_prev = s2;
        }
        let n = self.y.len() as f64;
        let sum_l1q = log_1q.total();
        if t_dist {
            // the nu-gradient's -0.5 sum ln(1+q) term, from the block sums
            if want_grad && !want_scores {
                grad[4] -= 0.5 * sum_l1q;
            }
        }
        let ll = if t_dist {
            n * const_t - 0.5 * log_s2.total() - 0.5 * (nu + 1.0) * sum_l1q
        } else {
            -0.5 * (n * LN_2PI + log_s2.total() + quad)
        };
        if let Some(g) = out.grad.as_deref_mut() {
            g.copy_from_slice(&grad[..k]);
        }
        if ll.is_finite() {
            ll
        } else {
            f64::NEG_INFINITY
        }
    }

    /// Total log-likelihood only.
    pub fn value(&self, theta: &[f64]) -> f64 {
        self.eval(theta, Outputs::default())
    }

    /// Total log-likelihood and its gradient.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.eval(
            theta,
            Outputs {
                grad: Some(grad),
                ..Outputs::default()
            },
        )
    }
}

/// arch's backcast: an exponentially weighted mean (weights 0.94^i, normalised) of the first
/// `min(75, n)` squared residuals.
pub(crate) fn backcast(resid: &[f64]) -> f64 {
    let tau = resid.len().min(75);
    let (mut num, mut den, mut w) = (0.0, 0.0, 1.0);
    for r in &resid[..tau] {
        num += w * r * r;
        den += w;
        w *= 0.94;
    }
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}
