//! Sample moments of a return series, with the bias conventions of `scipy.stats`.

use crate::error::Result;
use crate::series::{finite_series, NanPolicy};

/// Mean, standard deviation and shape of a sample.
///
/// - `mean`: arithmetic mean;
/// - `std`: sample standard deviation with `n - 1` in the denominator (numpy `ddof=1`);
/// - `skew`: adjusted Fisher-Pearson skewness `G1 = g1 sqrt(n(n-1)) / (n-2)` with
///   `g1 = m3 / m2^1.5` (scipy `skew(bias=False)`; 0 when `n < 3`);
/// - `excess_kurtosis`: `G2 = ((n+1) g2 + 6)(n-1) / ((n-2)(n-3))` with `g2 = m4 / m2^2 - 3`
///   (scipy `kurtosis(fisher=True, bias=False)`; 0 when `n < 4`).
///
/// `m_k` are the biased central moments (divided by `n`). A sample whose variance is zero up to
/// rounding (`m2 <= (1e-15 x mean)^2`, scipy's test) has `skew = excess_kurtosis = 0`
/// where scipy returns NaN: its quantiles are the mean whatever the shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: usize,
    pub mean: f64,
    pub std: f64,
    pub skew: f64,
    pub excess_kurtosis: f64,
}

impl Moments {
    /// Moments of `x` (finite, non-empty: callers check), two-pass for accuracy.
    pub fn of(x: &[f64]) -> Moments {
        let n = x.len();
        let nf = n as f64;
        if n == 0 {
            return Moments {
                n,
                mean: 0.0,
                std: 0.0,
                skew: 0.0,
                excess_kurtosis: 0.0,
            };
        }
        let mean = x.iter().sum::<f64>() / nf;
        // deviations are scaled by the largest one, so the powers neither overflow (huge
        // values) nor underflow (tiny ones); skew and kurtosis are scale-free
        let scale = x.iter().fold(0.0f64, |m, &v| m.max((v - mean).abs()));
        let unit = if scale > 0.0 && scale.is_finite() {
            scale
        } else {
            1.0
        };
        let (mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0);
        for &v in x {
            let d = (v - mean) / unit;
            let d2 = d * d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
        }
        let std = if n > 1 {
            (s2 / (nf - 1.0)).sqrt() * unit
        } else {
            0.0
        };
        let (m2, m3, m4) = (s2 / nf, s3 / nf, s4 / nf);
        let degenerate = m2 * unit * unit <= (1e-15 * mean).powi(2) || m2 == 0.0;
        let skew = if n < 3 || degenerate {
            0.0
        } else {
            (nf * (nf - 1.0)).sqrt() / (nf - 2.0) * m3 / m2.powf(1.5)
        };
        let excess_kurtosis = if n < 4 || degenerate {
            0.0
        } else {
            1.0 / (nf - 2.0) / (nf - 3.0)
                * ((nf * nf - 1.0) * m4 / (m2 * m2) - 3.0 * (nf - 1.0).powi(2))
        };
        Moments {
            n,
            mean,
            std,
            skew,
            excess_kurtosis,
        }
    }
}

/// [`Moments`] of a return series (at least `min_len` finite values; NaN/inf are an error or
/// dropped under [`NanPolicy::Omit`]).
pub fn moments(returns: &[f64], min_len: usize, policy: NanPolicy) -> Result<Moments> {
    let r = finite_series("returns", returns, min_len, policy)?;
    let m = Moments::of(&r);
    // huge values overflow the higher powers: an error, never a NaN or inf result
    if [m.mean, m.std, m.skew, m.excess_kurtosis]
        .iter()
        .all(|v| v.is_finite())
    {
        Ok(m)
    } else {
        Err(crate::error::Error::numerical(
            "return moments",
            "overflow: the returns are too large for float64 moments (are they prices?)",
        ))
    }
}
