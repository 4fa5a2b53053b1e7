//! O(n) rolling means and sample variances over a fixed window.
//!
//! Running updates drift with cancellation error on long series, so every `window` steps the
//! window is recomputed exactly from scratch: that costs `n` extra operations in total (still
//! O(n)) and bounds the drift to what `window` updates can accumulate.

/// Mean of every window of `x`: `out[j] = mean(x[j..j + window])`, length `n - window + 1`.
/// Needs `1 <= window <= x.len()` (checked by the callers).
pub(crate) fn rolling_mean(x: &[f64], window: usize) -> Vec<f64> {
    let n = x.len();
    if window == 0 || window > n {
        return Vec::new();
    }
    let w = window as f64;
    let mut out = Vec::with_capacity(n - window + 1);
    let mut sum = 0.0;
    for j in 0..=(n - window) {
        if j % window == 0 {
            sum = x[j..j + window].iter().sum();
        } else {
            sum += x[j + window - 1] - x[j - 1];
        }
        out.push(sum / w);
    }
    out
}

/// Sample variance (ddof = 1) of every window of `x`, length `n - window + 1`, clamped at 0.
/// Needs `2 <= window <= x.len()` (checked by the callers).
///
/// Welford's update for replacing one value (`mean += d/w`, `m2 += d (x_new - mean' + x_old -
/// mean)`), with an exact two-pass recomputation every `window` steps. A window of identical
/// values gives exactly 0 (tracked by the length of the current run of equal values, as pandas
/// does), not a rounding residue.
pub(crate) fn rolling_var(x: &[f64], window: usize) -> Vec<f64> {
    let n = x.len();
    if window < 2 || window > n {
        return Vec::new();
    }
    let w = window as f64;
    let mut out = Vec::with_capacity(n - window + 1);
    let (mut mean, mut m2) = (0.0, 0.0);
    // run[i]: how many values up to x[i] equal x[i] consecutively (capped at window)
    let mut run = 0usize;
    for i in 0..window - 1 {
        run = if i > 0 && x[i] == x[i - 1] {
            run + 1
        } else {
            1
        };
    }
    for j in 0..=(n - window) {
        let last = j + window - 1;
        run = if last > 0 && x[last] == x[last - 1] {
            (run + 1).min(window)
        } else {
            1
        };
        if j % window == 0 {
            let slice = &x[j..j + window];
            mean = slice.iter().sum::<f64>() / w;
            m2 = slice.iter().map(|v| (v - mean) * (v - mean)).sum();
        } else {
            let (old, new) = (x[j - 1], x[j + window - 1]);
            let delta = new - old;
            let new_mean = mean + delta / w;
            m2 += delta * (new - new_mean + old - mean);
            mean = new_mean;
        }
        if run >= window {
            out.push(0.0);
        } else {
            out.push((m2 / (w - 1.0)).max(0.0));
        }
    }
    out
}

/// Sample variance (ddof = 1) of the whole slice by two passes; exactly 0 for fewer than 2
/// values or identical values.
pub(crate) fn sample_var(x: &[f64]) -> f64 {
    if x.len() < 2 || x.iter().all(|v| *v == x[0]) {
        return 0.0;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let m2: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (m2 / (n - 1.0)).max(0.0)
}

/// Arithmetic mean; 0 for an empty slice.
pub(crate) fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}
