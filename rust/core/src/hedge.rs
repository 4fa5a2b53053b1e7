//! Hedge ratio: minimum-variance (OLS and EWMA beta of spot on futures returns), rolling OLS
//! beta, hedge effectiveness and funding carry.
//!
//! Conventions: `spot` and `futures` are simple returns per bar, aligned bar by bar. The
//! minimum-variance hedge ratio is `beta = Cov(spot, futures) / Var(futures)`: short `beta`
//! units of futures notional per unit of spot notional. Funding: a positive rate means longs
//! pay shorts, so a short position receives it.

use std::collections::VecDeque;

use crate::error::{check, Error, Result};
use crate::series::{finite_series, same_len, NanPolicy};

/// Two aligned series: same length, finite (under `Omit`, a bar where either is non-finite is
/// dropped from both), at least `min_len` bars.
fn paired(a: &[f64], b: &[f64], min_len: usize, policy: NanPolicy) -> Result<Pair> {
    same_len("spot", a.len(), "futures", b.len())?;
    let (a, b): (Vec<f64>, Vec<f64>) = match policy {
        NanPolicy::Raise => (a.to_vec(), b.to_vec()),
        NanPolicy::Omit => a
            .iter()
            .zip(b)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (*x, *y))
            .unzip(),
    };
    finite_series("spot", &a, min_len, NanPolicy::Raise)?;
    finite_series("futures", &b, min_len, NanPolicy::Raise)?;
    Ok((a, b))
}

/// Spot and futures returns, aligned and checked.
type Pair = (Vec<f64>, Vec<f64>);

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Centered co-moment sums `(Sxy, Syy)` about the means (two-pass, numerically stable).
fn comoments(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (mx, my) = (mean(x), mean(y));
    x.iter().zip(y).fold((0.0, 0.0), |(sxy, syy), (&a, &b)| {
        (sxy + (a - mx) * (b - my), syy + (b - my) * (b - my))
    })
}

fn is_constant(y: &[f64]) -> bool {
    y.iter().all(|v| *v == y[0])
}

fn zero_variance(at: &str) -> Error {
    Error::numerical(
        "beta",
        format!("futures returns have zero variance {at}: no hedge ratio exists"),
    )
}

fn non_finite(at: &str) -> Error {
    Error::numerical(
        "beta",
        format!("the hedge ratio {at} is not finite (futures variance underflowed)"),
    )
}

fn finite_beta(beta: f64, at: &str) -> Result<f64> {
    if beta.is_finite() {
        Ok(beta)
    } else {
        Err(non_finite(at))
    }
}

/// Minimum-variance hedge ratio: OLS slope `Cov(spot, futures) / Var(futures)` of spot
/// returns on futures returns (per-bar simple returns, at least 2 bars).
pub fn ols_beta(spot: &[f64], futures: &[f64], policy: NanPolicy) -> Result<f64> {
    let (s, f) = paired(spot, futures, 2, policy)?;
    if is_constant(&f) {
        return Err(zero_variance("over the series"));
    }
    let (sxy, syy) = comoments(&s, &f);
    finite_beta(sxy / syy, "over the series")
}

/// EWMA hedge ratio series: `beta_t = cov_t / var_t` with exponentially weighted moments,
/// decay `lam` in (0, 1) (weight of the past; alpha = 1 - lam), recursive (pandas
/// `ewm(alpha=1-lam, adjust=False)`) and started at the first bar. Output element `k` is the
/// beta at bar `min_periods - 1 + k` (`min_periods` >= 2), so there are
/// `n - min_periods + 1` values and no NaN; a zero futures variance at an output bar is a
/// `NumericalError` naming the bar.
pub fn ewma_beta(
    spot: &[f64],
    futures: &[f64],
    lam: f64,
    min_periods: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    check::open_interval("lam", lam, 0.0, 1.0)?;
    if min_periods < 2 {
        return Err(Error::invalid("min_periods", min_periods, "must be >= 2"));
    }
    let (s, f) = paired(spot, futures, min_periods, policy)?;
    let alpha = 1.0 - lam;
    let (mut mx, mut my, mut cxy, mut cyy) = (s[0], f[0], 0.0, 0.0);
    // exact constancy of the futures so far (the recursion leaves rounding residue otherwise)
    let mut constant = true;
    let mut out = Vec::with_capacity(s.len() + 1 - min_periods);
    for t in 0..s.len() {
        if t > 0 {
            constant &= f[t] == f[0];
            let (ox, oy) = (mx, my);
            mx = lam * mx + alpha * s[t];
            my = lam * my + alpha * f[t];
            cxy = lam * (cxy + (ox - mx) * (oy - my)) + alpha * (s[t] - mx) * (f[t] - my);
            cyy = lam * (cyy + (oy - my) * (oy - my)) + alpha * (f[t] - my) * (f[t] - my);
        }
        if t + 1 >= min_periods {
            let beta = cxy / cyy;
            if constant || cyy <= 0.0 {
                return Err(zero_variance(&format!("at bar {t}")));
            }
            if !beta.is_finite() {
                return Err(non_finite(&format!("at bar {t}")));
            }
            out.push(beta);
        }
    }
    Ok(out)
}

/// Rolling OLS hedge ratio over `window` bars (2..=n): element `k` is the beta of bars
/// `k..k+window`, so there are `n - window + 1` values. O(n): running co-moments updated
/// per bar (Welford remove then add) and recomputed exactly (two-pass) every `window` bars to
/// bound drift, or at every bar for windows of up to 32 bars (where removing a bar from a
/// tiny window would cancel most digits); a
/// window of constant futures returns is a `NumericalError` naming its last bar.
pub fn rolling_beta(spot: &[f64], futures: &[f64], window: usize) -> Result<Vec<f64>> {
    /// Windows up to this many bars are recomputed exactly at every bar.
    const EXACT_WINDOW: usize = 32;
    let (s, f) = paired(spot, futures, 2, NanPolicy::Raise)?;
    let w = crate::series::window("window", window, 2, s.len())?;
    let mut out = Vec::with_capacity(s.len() + 1 - w);
    // monotone deques of futures indices for the window min and max (exact constancy test)
    let (mut lo, mut hi): (VecDeque<usize>, VecDeque<usize>) = (VecDeque::new(), VecDeque::new());
    let (mut mx, mut my, mut cxy, mut cyy) = (0.0, 0.0, 0.0, 0.0);
    for t in 0..s.len() {
        while lo.back().is_some_and(|&j| f[j] >= f[t]) {
            lo.pop_back();
        }
        lo.push_back(t);
        while hi.back().is_some_and(|&j| f[j] <= f[t]) {
            hi.pop_back();
        }
        hi.push_back(t);
        while lo.front().is_some_and(|&j| j + w <= t) {
            lo.pop_front();
        }
        while hi.front().is_some_and(|&j| j + w <= t) {
            hi.pop_front();
        }
        if t + 1 >= w && (w <= EXACT_WINDOW || (t + 1 - w) % w == 0) {
            // exact two-pass recompute of the window ending at t (every bar for short windows:
            // as cheap as sliding there, and free of the slide's cancellation)
            let (ws, wf) = (&s[t + 1 - w..=t], &f[t + 1 - w..=t]);
            mx = mean(ws);
            my = mean(wf);
            (cxy, cyy) = comoments(ws, wf);
        } else if t >= w {
            // slide: remove bar t - w, then add bar t, keeping the count at w
            let n = w as f64;
            let (xo, yo) = (s[t - w], f[t - w]);
            let (mx1, my1) = ((n * mx - xo) / (n - 1.0), (n * my - yo) / (n - 1.0));
            cxy -= (xo - mx1) * (yo - my);
            cyy -= (yo - my1) * (yo - my);
            mx = mx1 + (s[t] - mx1) / n;
            my = my1 + (f[t] - my1) / n;
            cxy += (s[t] - mx1) * (f[t] - my);
            cyy += (f[t] - my1) * (f[t] - my);
        }
        if t + 1 >= w {
            let constant = match (lo.front(), hi.front()) {
                (Some(&a), Some(&b)) => f[a] == f[b],
                _ => true,
            };
            let beta = cxy / cyy;
            if constant || cyy <= 0.0 {
                return Err(zero_variance(&format!("in the window ending at bar {t}")));
            }
            if !beta.is_finite() {
                return Err(non_finite(&format!("in the window ending at bar {t}")));
            }
            out.push(beta);
        }
    }
    Ok(out)
}

/// Hedge effectiveness `1 - Var(spot - h x futures) / Var(spot)` (<= 1; 1 is a perfect
/// hedge, negative means the hedge adds variance). `hedge_ratio` None uses [`ols_beta`], for
/// which the effectiveness equals the R² of the regression.
pub fn hedge_effectiveness(
    spot: &[f64],
    futures: &[f64],
    hedge_ratio: Option<f64>,
    policy: NanPolicy,
) -> Result<f64> {
    let (s, f) = paired(spot, futures, 2, policy)?;
    let h = match hedge_ratio {
        Some(h) => check::finite("hedge_ratio", h)?,
        None => ols_beta(&s, &f, NanPolicy::Raise)?,
    };
    if is_constant(&s) {
        return Err(Error::numerical(
            "hedge_effectiveness",
            "spot returns have zero variance: nothing to hedge",
        ));
    }
    let hedged: Vec<f64> = s.iter().zip(f.iter()).map(|(a, b)| a - h * b).collect();
    let (_, var_s) = comoments(&s, &s);
    let (_, var_h) = comoments(&hedged, &hedged);
    let he = 1.0 - var_h / var_s;
    if he.is_finite() {
        Ok(he.min(1.0))
    } else {
        Err(Error::numerical(
            "hedge_effectiveness",
            "the variance ratio is not finite",
        ))
    }
}

/// Funding carry over a horizon, in quote currency: `-position x price x sum(rates)`.
/// `position` is signed base units (negative = short), `price` the mark price (quote, > 0,
/// held constant), `rates` the funding rate of each funding interval (fractions in (-1, 1)).
/// Positive rates: longs pay shorts, so a short earns a positive carry.
pub fn funding_carry(position: f64, price: f64, rates: &[f64]) -> Result<f64> {
    check::finite("position", position)?;
    check::positive("price", price)?;
    let rates = finite_series("rates", rates, 1, NanPolicy::Raise)?;
    if let Some(i) = rates.iter().position(|r| r.abs() >= 1.0) {
        return Err(Error::invalid(
            format!("rates[{i}]"),
            rates[i],
            "must be > -1 and < 1 (a funding rate per interval, as a fraction)",
        ));
    }
    carry_of(position, price, rates.iter().sum::<f64>())
}

/// Funding carry of a constant `rate` (fraction in (-1, 1)) over `periods` (>= 1) funding
/// intervals: `-position x price x rate x periods`, quote currency (see [`funding_carry`]).
pub fn funding_carry_constant(position: f64, price: f64, rate: f64, periods: usize) -> Result<f64> {
    check::finite("position", position)?;
    check::positive("price", price)?;
    check::open_interval("rates", rate, -1.0, 1.0)?;
    if periods == 0 {
        return Err(Error::invalid("periods", periods, "must be >= 1"));
    }
    carry_of(position, price, rate * periods as f64)
}

fn carry_of(position: f64, price: f64, total_rate: f64) -> Result<f64> {
    let carry = -position * price * total_rate;
    if carry.is_finite() {
        Ok(carry + 0.0)
    } else {
        Err(Error::numerical("funding_carry", "the carry overflowed"))
    }
}

#[cfg(test)]
mod tests;
