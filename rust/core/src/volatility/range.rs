//! Range-based volatility from OHLC candles (per bar, on log prices) and Wilder's ATR (price
//! units).
//!
//! With `o, h, l, c` the log open, high, low and close of a bar (all > 0 as prices, with
//! `low <= open, close <= high`), the per-bar variance terms are
//! - Parkinson (1980), "The Extreme Value Method for Estimating the Variance of the Rate of
//!   Return", J. Business 53(1), 61-65: `(h - l)^2 / (4 ln 2)`;
//! - Garman and Klass (1980), "On the Estimation of Security Price Volatilities from
//!   Historical Data", J. Business 53(1), 67-78 (their practical estimator):
//!   `0.5 (h - l)^2 - (2 ln 2 - 1) (c - o)^2`;
//! - Rogers and Satchell (1991), "Estimating Variance from High, Low and Closing Prices",
//!   Ann. Appl. Probab. 1(4), 504-512: `(h - c)(h - o) + (l - c)(l - o)` (drift-independent).
//!
//! Each estimator is the square root of the mean of its terms (over the series or a window of
//! `window` candles). All three terms are >= 0 for consistent candles.
//!
//! Yang and Zhang (2000), "Drift-Independent Volatility Estimation Based on High, Low, Open,
//! and Close Prices", J. Business 73(3), 477-491: over `n` periods, period `t` being candle `t`
//! together with the previous close `C[t-1]`,
//! `sigma^2 = V_o + k V_c + (1 - k) V_rs` where `V_o` is the sample variance (ddof = 1) of the
//! opening jumps `ln(O[t] / C[t-1])`, `V_c` that of the open-to-close returns `ln(C[t] / O[t])`,
//! `V_rs` the mean Rogers-Satchell term and `k = 0.34 / (1.34 + (n + 1) / (n - 1))` (the paper's
//! `alpha = 1.34`). `N` candles give `n = N - 1` periods; a rolling window counts periods.
//!
//! ATR: Wilder (1978), "New Concepts in Technical Trading Systems": true range
//! `TR[t] = max(H[t] - L[t], |H[t] - C[t-1]|, |L[t] - C[t-1]|)` for candles `t >= 1` (the
//! first candle has no previous close and only supplies it); the first ATR is the simple mean
//! of the first `window` true ranges, then `ATR[t] = ATR[t-1] + (TR[t] - ATR[t-1]) / window`
//! (as TA-Lib).
//!
//! Candles are checked: equal lengths, finite (or whole candles dropped under
//! [`NanPolicy::Omit`], so the previous close is that of the previous kept candle), prices
//! > 0, and `low <= open, close <= high`.

use std::borrow::Cow;
use std::f64::consts::LN_2;

use super::{finite_value, finite_values, rolling};
use crate::error::{Error, Result};
use crate::series::{self, NanPolicy};

/// Wilder's default ATR window (14 bars).
pub const ATR_WINDOW_DEFAULT: usize = 14;

/// Checked candle columns; `None` columns are not used by the estimator.
struct Candles<'a> {
    open: Cow<'a, [f64]>,
    high: Cow<'a, [f64]>,
    low: Cow<'a, [f64]>,
    close: Cow<'a, [f64]>,
}

impl Candles<'_> {
    fn len(&self) -> usize {
        self.high.len()
    }
}

/// Validate candle columns (`open`/`close` optional) and apply the NaN policy row-wise.
fn candles<'a>(
    open: Option<&'a [f64]>,
    high: &'a [f64],
    low: &'a [f64],
    close: Option<&'a [f64]>,
    min_len: usize,
    policy: NanPolicy,
) -> Result<Candles<'a>> {
    let columns: Vec<(&str, &'a [f64])> = [
        ("open", open),
        ("high", Some(high)),
        ("low", Some(low)),
        ("close", close),
    ]
    .into_iter()
    .filter_map(|(name, col)| col.map(|c| (name, c)))
    .collect();
    let n = high.len();
    for (name, col) in &columns {
        series::same_len("high", n, name, col.len())?;
    }
    let finite_row = |i: usize| columns.iter().all(|(_, c)| c[i].is_finite());
    let bad_row = (0..n).find(|&i| !finite_row(i));
    let keep: Option<Vec<usize>> = match (bad_row, policy) {
        (None, _) => None,
        (Some(i), NanPolicy::Raise) => {
            let (name, col) = columns
                .iter()
                .find(|(_, c)| !c[i].is_finite())
                .copied()
                .unwrap_or(("high", high));
            return Err(Error::invalid(
                format!("{name}[{i}]"),
                col[i],
                "must be finite (pass nan_policy='omit' to drop candles with NaN or inf)",
            ));
        }
        (Some(_), NanPolicy::Omit) => Some((0..n).filter(|&i| finite_row(i)).collect()),
    };
    let pick = |col: Option<&'a [f64]>| -> Cow<'a, [f64]> {
        match (col, &keep) {
            (None, _) => Cow::Borrowed(&[]),
            (Some(c), None) => Cow::Borrowed(c),
            (Some(c), Some(rows)) => Cow::Owned(rows.iter().map(|&i| c[i]).collect()),
        }
    };
    let out = Candles {
        open: pick(open),
        high: pick(Some(high)),
        low: pick(Some(low)),
        close: pick(close),
    };
    let len = out.len();
    if len < min_len {
        return Err(Error::invalid(
            "high",
            format!("{len} candle(s)"),
            format!("must hold at least {min_len} complete finite candle(s)"),
        ));
    }
    for i in 0..len {
        let (h, l) = (out.high[i], out.low[i]);
        for (name, v) in [("high", h), ("low", l)]
            .into_iter()
            .chain(out.open.get(i).map(|&v| ("open", v)))
            .chain(out.close.get(i).map(|&v| ("close", v)))
        {
            if v <= 0.0 {
                return Err(Error::invalid(
                    format!("{name}[{i}]"),
                    v,
                    "must be > 0 (prices, not returns)",
                ));
            }
        }
        if l > h {
            return Err(Error::invalid(
                format!("low[{i}]"),
                l,
                format!("must be <= high[{i}] ({h})"),
            ));
        }
        for (name, v) in out
            .open
            .get(i)
            .map(|&v| ("open", v))
            .into_iter()
            .chain(out.close.get(i).map(|&v| ("close", v)))
        {
            if v > h || v < l {
                return Err(Error::invalid(
                    format!("{name}[{i}]"),
                    v,
                    format!("must lie between low[{i}] ({l}) and high[{i}] ({h})"),
                ));
            }
        }
    }
    Ok(out)
}

/// A rolling window over `len` items (1 or 2 <= window <= len), naming the series length.
fn window_in(window: usize, min: usize, len: usize, what: &str) -> Result<usize> {
    if window < min {
        return Err(Error::invalid(
            "window",
            window,
            format!("must be >= {min}"),
        ));
    }
    if window > len {
        return Err(Error::invalid(
            "window",
            window,
            format!("must be <= the number of {what} ({len})"),
        ));
    }
    Ok(window)
}

/// `ln(a / b)` for prices `a, b > 0`, without overflow or underflow of the ratio.
fn log_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_normal() {
        r.ln()
    } else {
        a.ln() - b.ln()
    }
}

fn sqrt_mean(terms: &[f64]) -> f64 {
    rolling::mean(terms).max(0.0).sqrt()
}

fn sqrt_rolling_mean(terms: &[f64], window: usize) -> Vec<f64> {
    let mut out = rolling::rolling_mean(terms, window);
    out.iter_mut().for_each(|v| *v = v.max(0.0).sqrt());
    out
}

fn parkinson_terms(c: &Candles<'_>) -> Vec<f64> {
    let scale = 1.0 / (4.0 * LN_2);
    c.high
        .iter()
        .zip(c.low.iter())
        .map(|(h, l)| {
            let hl = log_ratio(*h, *l);
            hl * hl * scale
        })
        .collect()
}

fn garman_klass_terms(c: &Candles<'_>) -> Vec<f64> {
    let k = 2.0 * LN_2 - 1.0;
    (0..c.len())
        .map(|i| {
            let hl = log_ratio(c.high[i], c.low[i]);
            let co = log_ratio(c.close[i], c.open[i]);
            (0.5 * hl * hl - k * co * co).max(0.0)
        })
        .collect()
}

fn rogers_satchell_terms(c: &Candles<'_>, from: usize) -> Vec<f64> {
    (from..c.len())
        .map(|i| {
            let (o, h, l, cl) = (c.open[i], c.high[i], c.low[i], c.close[i]);
            (log_ratio(h, cl) * log_ratio(h, o) + log_ratio(l, cl) * log_ratio(l, o)).max(0.0)
        })
        .collect()
}

/// Parkinson volatility (per bar) over all candles: `sqrt(mean((ln(H/L))^2) / (4 ln 2))`.
pub fn parkinson(high: &[f64], low: &[f64], policy: NanPolicy) -> Result<f64> {
    let c = candles(None, high, low, None, 1, policy)?;
    finite_value("parkinson", sqrt_mean(&parkinson_terms(&c)))
}

/// Rolling Parkinson volatility over `window` candles (1..=n): `n - window + 1` values.
pub fn parkinson_rolling(
    high: &[f64],
    low: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let c = candles(None, high, low, None, 1, policy)?;
    window_in(window, 1, c.len(), "candles")?;
    finite_values(
        "parkinson_rolling",
        sqrt_rolling_mean(&parkinson_terms(&c), window),
    )
}

/// Garman-Klass volatility (per bar):
/// `sqrt(mean(0.5 (ln(H/L))^2 - (2 ln 2 - 1)(ln(C/O))^2))`.
pub fn garman_klass(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    policy: NanPolicy,
) -> Result<f64> {
    let c = candles(Some(open), high, low, Some(close), 1, policy)?;
    finite_value("garman_klass", sqrt_mean(&garman_klass_terms(&c)))
}

/// Rolling Garman-Klass volatility over `window` candles (1..=n): `n - window + 1` values.
pub fn garman_klass_rolling(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let c = candles(Some(open), high, low, Some(close), 1, policy)?;
    window_in(window, 1, c.len(), "candles")?;
    finite_values(
        "garman_klass_rolling",
        sqrt_rolling_mean(&garman_klass_terms(&c), window),
    )
}

/// Rogers-Satchell volatility (per bar):
/// `sqrt(mean(ln(H/C) ln(H/O) + ln(L/C) ln(L/O)))`.
pub fn rogers_satchell(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    policy: NanPolicy,
) -> Result<f64> {
    let c = candles(Some(open), high, low, Some(close), 1, policy)?;
    finite_value("rogers_satchell", sqrt_mean(&rogers_satchell_terms(&c, 0)))
}

/// Rolling Rogers-Satchell volatility over `window` candles (1..=n): `n - window + 1` values.
pub fn rogers_satchell_rolling(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let c = candles(Some(open), high, low, Some(close), 1, policy)?;
    window_in(window, 1, c.len(), "candles")?;
    finite_values(
        "rogers_satchell_rolling",
        sqrt_rolling_mean(&rogers_satchell_terms(&c, 0), window),
    )
}

/// Yang-Zhang's weight `k = 0.34 / (1.34 + (n + 1) / (n - 1))` for `n >= 2` periods.
pub fn yang_zhang_k(n: usize) -> f64 {
    let n = n as f64;
    0.34 / (1.34 + (n + 1.0) / (n - 1.0))
}

/// Opening jumps `ln(O[t]/C[t-1])`, open-to-close returns `ln(C[t]/O[t])` and RS terms for
/// periods t = 1..N.
fn yang_zhang_parts(c: &Candles<'_>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let overnight = (1..c.len())
        .map(|t| log_ratio(c.open[t], c.close[t - 1]))
        .collect();
    let open_close = (1..c.len())
        .map(|t| log_ratio(c.close[t], c.open[t]))
        .collect();
    (overnight, open_close, rogers_satchell_terms(c, 1))
}

/// Yang-Zhang volatility (per bar) over the `n = N - 1` periods of `N >= 3` candles (see the
/// module docs; the first candle only supplies the first previous close).
pub fn yang_zhang(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    policy: NanPolicy,
) -> Result<f64> {
    let c = candles(Some(open), high, low, Some(close), 3, policy)?;
    let (overnight, open_close, rs) = yang_zhang_parts(&c);
    let k = yang_zhang_k(rs.len());
    let var = rolling::sample_var(&overnight)
        + k * rolling::sample_var(&open_close)
        + (1.0 - k) * rolling::mean(&rs);
    finite_value("yang_zhang", var.max(0.0).sqrt())
}

/// Rolling Yang-Zhang volatility over `window` periods (2 <= window <= N - 1): `N - window`
/// values, entry `j` over candles `j..=j + window` (aligned with candle `j + window`).
pub fn yang_zhang_rolling(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let c = candles(Some(open), high, low, Some(close), 3, policy)?;
    window_in(window, 2, c.len() - 1, "periods (candles - 1)")?;
    let (overnight, open_close, rs) = yang_zhang_parts(&c);
    let k = yang_zhang_k(window);
    let vo = rolling::rolling_var(&overnight, window);
    let vc = rolling::rolling_var(&open_close, window);
    let vrs = rolling::rolling_mean(&rs, window);
    let out = vo
        .iter()
        .zip(&vc)
        .zip(&vrs)
        .map(|((o, cc), r)| (o + k * cc + (1.0 - k) * r).max(0.0).sqrt())
        .collect();
    finite_values("yang_zhang_rolling", out)
}

fn true_ranges(c: &Candles<'_>) -> Vec<f64> {
    (1..c.len())
        .map(|t| {
            let (h, l, prev) = (c.high[t], c.low[t], c.close[t - 1]);
            (h - l).max((h - prev).abs()).max((l - prev).abs())
        })
        .collect()
}

/// Wilder's ATR series (price units) with `window` (1 <= window <= N - 1): `N - window`
/// values, the first the simple mean of true ranges 1..=window (aligned with candle `window`),
/// then `ATR[t] = ATR[t-1] + (TR[t] - ATR[t-1]) / window`.
pub fn atr_series(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<Vec<f64>> {
    let c = candles(None, high, low, Some(close), 2, policy)?;
    window_in(window, 1, c.len() - 1, "true ranges (candles - 1)")?;
    let tr = true_ranges(&c);
    let w = window as f64;
    let mut out = Vec::with_capacity(tr.len() - window + 1);
    let mut value = rolling::mean(&tr[..window]);
    out.push(value);
    for x in &tr[window..] {
        value += (x - value) / w;
        out.push(value.max(0.0));
    }
    finite_values("atr", out)
}

/// The last value of [`atr_series`]: Wilder's ATR after the last candle (price units).
pub fn atr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    window: usize,
    policy: NanPolicy,
) -> Result<f64> {
    let s = atr_series(high, low, close, window, policy)?;
    Ok(s.last().copied().unwrap_or(0.0))
}
