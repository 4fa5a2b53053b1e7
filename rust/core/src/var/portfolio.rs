//! Portfolio VaR from a covariance matrix and an exposure vector (delta-normal), with the
//! Euler decomposition into marginal and component VaR.
//!
//! With exposures `w` (quote currency, signed: short is negative), the per-bar covariance `S`
//! of the assets' simple returns and `h` bars, the portfolio's P&L standard deviation is
//! `sigma_p = sqrt(w' S w) sqrt(h)` (quote), and with zero mean returns
//! - `VaR = z sigma_p`, `z = Phi^-1(c)`; `CVaR = phi(z)/(1-c) sigma_p`;
//! - marginal VaR `dVaR/dw_i = z sqrt(h) (S w)_i / sqrt(w' S w)` (VaR per unit of exposure);
//! - component VaR `w_i x marginal_i`; they sum to VaR (Euler, VaR is homogeneous of degree
//!   one in `w`).
//!
//! `S` must be symmetric positive semi-definite. Singular matrices are accepted (perfectly
//! correlated legs, such as spot and perpetual of one coin, are the normal case for a hedge;
//! nothing is inverted). A portfolio with zero variance (a perfect hedge) has VaR 0 and
//! marginal and component VaR 0: the gradient does not exist there and 0 is a subgradient.

use crate::error::{Error, Result};
use crate::series::{confidence, same_len};

use super::horizon;
use super::parametric::normal_q_e;

/// Most assets in a portfolio.
pub const MAX_ASSETS: usize = 2000;

/// Relative tolerance of the symmetry and semi-definiteness checks.
pub const MATRIX_TOLERANCE: f64 = 1e-10;

/// A portfolio's VaR, CVaR and Euler decomposition, in quote currency.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioVar {
    pub var: f64,
    pub cvar: f64,
    /// P&L standard deviation over the horizon, quote currency.
    pub sigma: f64,
    /// `dVaR/dw_i`: VaR per unit of exposure (a fraction).
    pub marginal: Vec<f64>,
    /// `w_i x marginal_i`, quote currency; sums to `var`.
    pub component: Vec<f64>,
}

fn check_square(field: &str, m: &[f64], n: usize) -> Result<()> {
    if m.len() != n * n {
        return Err(Error::invalid(
            field,
            format!("{} value(s)", m.len()),
            format!("must be an {n} x {n} matrix ({} values)", n * n),
        ));
    }
    if let Some(k) = m.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{field}[{}, {}]", k / n, k % n),
            m[k],
            "must be finite",
        ));
    }
    Ok(())
}

fn check_symmetric(field: &str, m: &[f64], n: usize, scale: f64) -> Result<()> {
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (m[i * n + j], m[j * n + i]);
            if (a - b).abs() > MATRIX_TOLERANCE * scale.max(a.abs()).max(b.abs()) {
                return Err(Error::invalid(
                    format!("{field}[{i}, {j}]"),
                    a,
                    format!("must be symmetric ({field}[{j}, {i}] is {b})"),
                ));
            }
        }
    }
    Ok(())
}

/// Check that the symmetric `m` (n x n, row-major) is positive semi-definite: Cholesky with
/// diagonal pivoting; a pivot below `-tol` or, once the remaining pivots are all within
/// `tol` of 0, a remaining off-diagonal entry beyond `tol`, means an indefinite matrix.
/// `tol = MATRIX_TOLERANCE x n x max diagonal`.
fn check_psd(field: &str, m: &[f64], n: usize) -> Result<()> {
    let max_diag = (0..n).map(|i| m[i * n + i]).fold(0.0f64, f64::max);
    let tol = MATRIX_TOLERANCE * n as f64 * max_diag;
    let mut a = m.to_vec();
    let mut rest: Vec<usize> = (0..n).collect();
    while !rest.is_empty() {
        let (pos, &p) = rest
            .iter()
            .enumerate()
            .max_by(|x, y| a[x.1 * n + x.1].total_cmp(&a[y.1 * n + y.1]))
            .ok_or_else(|| Error::numerical(field, "empty pivot set"))?;
        let d = a[p * n + p];
        if d <= tol {
            // every remaining pivot is ~0 (or negative): the rest must vanish
            if d < -tol {
                return Err(not_psd(field, d));
            }
            for &i in &rest {
                for &j in &rest {
                    if i != j && a[i * n + j].abs() > tol {
                        return Err(not_psd(field, -a[i * n + j].abs()));
                    }
                }
                if a[i * n + i] < -tol {
                    return Err(not_psd(field, a[i * n + i]));
                }
            }
            return Ok(());
        }
        rest.swap_remove(pos);
        for &i in &rest {
            let li = a[i * n + p] / d;
            for &j in &rest {
                a[i * n + j] -= li * a[p * n + j];
            }
        }
    }
    Ok(())
}

fn not_psd(field: &str, pivot: f64) -> Error {
    Error::invalid(
        field,
        format!("an indefinite matrix (pivot {pivot:.3e})"),
        "must be positive semi-definite (a covariance matrix)",
    )
}

/// Covariance `S_ij = rho_ij vol_i vol_j` from volatilities (per bar, >= 0) and a correlation
/// matrix (n x n row-major, symmetric, unit diagonal, entries in [-1, 1], all within
/// [`MATRIX_TOLERANCE`]); semi-definiteness is checked by [`portfolio_var`].
pub fn covariance_from_correlation(vols: &[f64], correlation: &[f64]) -> Result<Vec<f64>> {
    let n = vols.len();
    if n == 0 || n > MAX_ASSETS {
        return Err(Error::invalid(
            "vols",
            format!("{n} value(s)"),
            format!("must hold between 1 and {MAX_ASSETS} values"),
        ));
    }
    for (i, &v) in vols.iter().enumerate() {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::invalid(
                format!("vols[{i}]"),
                v,
                "must be finite and >= 0",
            ));
        }
    }
    check_square("correlation", correlation, n)?;
    check_symmetric("correlation", correlation, n, 1.0)?;
    for i in 0..n {
        let d = correlation[i * n + i];
        if (d - 1.0).abs() > MATRIX_TOLERANCE {
            return Err(Error::invalid(
                format!("correlation[{i}, {i}]"),
                d,
                "must be 1 (a correlation matrix has a unit diagonal)",
            ));
        }
        for j in 0..n {
            let r = correlation[i * n + j];
            if r.abs() > 1.0 + MATRIX_TOLERANCE {
                return Err(Error::invalid(
                    format!("correlation[{i}, {j}]"),
                    r,
                    "must be between -1 and 1",
                ));
            }
        }
    }
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let rho = if i == j { 1.0 } else { correlation[i * n + j] };
            cov[i * n + j] = rho * vols[i] * vols[j];
        }
    }
    Ok(cov)
}

/// Delta-normal portfolio VaR, CVaR, marginal and component VaR of `exposures` (quote, signed)
/// with the per-bar return covariance `covariance` (n x n row-major, symmetric positive
/// semi-definite) at confidence `c` over `h` bars; see the module docs.
pub fn portfolio_var(
    exposures: &[f64],
    covariance: &[f64],
    c: f64,
    h: usize,
) -> Result<PortfolioVar> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let n = exposures.len();
    if n == 0 || n > MAX_ASSETS {
        return Err(Error::invalid(
            "exposures",
            format!("{n} value(s)"),
            format!("must hold between 1 and {MAX_ASSETS} values"),
        ));
    }
    if let Some(i) = exposures.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("exposures[{i}]"),
            exposures[i],
            "must be finite",
        ));
    }
    same_len("exposures", n * n, "covariance", covariance.len()).map_err(|_| {
        Error::invalid(
            "covariance",
            format!("{} value(s)", covariance.len()),
            format!("must be an {n} x {n} matrix (one row and column per exposure)"),
        )
    })?;
    check_square("covariance", covariance, n)?;
    let max_diag = (0..n)
        .map(|i| covariance[i * n + i].abs())
        .fold(0.0f64, f64::max);
    check_symmetric("covariance", covariance, n, max_diag)?;
    for i in 0..n {
        let d = covariance[i * n + i];
        if d < 0.0 {
            return Err(Error::invalid(
                format!("covariance[{i}, {i}]"),
                d,
                "must be >= 0 (a variance)",
            ));
        }
    }
    check_psd("covariance", covariance, n)?;
    let sw: Vec<f64> = (0..n)
        .map(|i| {
            covariance[i * n..(i + 1) * n]
                .iter()
                .zip(exposures)
                .map(|(s, w)| s * w)
                .sum()
        })
        .collect();
    let variance = exposures
        .iter()
        .zip(&sw)
        .map(|(w, s)| w * s)
        .sum::<f64>()
        .max(0.0);
    let (z, e) = normal_q_e(c)?;
    let sh = (h as f64).sqrt();
    let sd = variance.sqrt();
    let sigma = sd * sh;
    if !sigma.is_finite() {
        return Err(Error::numerical(
            "portfolio_var",
            "the portfolio variance overflows a float64",
        ));
    }
    let marginal: Vec<f64> = if sd > 0.0 {
        sw.iter().map(|s| z * sh * s / sd).collect()
    } else {
        vec![0.0; n]
    };
    let component: Vec<f64> = exposures
        .iter()
        .zip(&marginal)
        .map(|(w, m)| w * m)
        .collect();
    if marginal.iter().chain(&component).any(|v| !v.is_finite()) {
        return Err(Error::numerical(
            "portfolio_var",
            "marginal or component VaR overflows a float64",
        ));
    }
    Ok(PortfolioVar {
        var: z * sigma,
        cvar: e * sigma,
        sigma,
        marginal,
        component,
    })
}
