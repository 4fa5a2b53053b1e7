//! Tiny dense row-major matrices (k <= 5): inverse and products for the parameter covariance.

/// Inverse of the `k x k` row-major matrix `a` by Gauss-Jordan elimination with partial
/// pivoting, or None when a pivot is negligible (singular to working precision).
pub(crate) fn inverse(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; k * k];
    (0..k).for_each(|i| inv[i * k + i] = 1.0);
    let norm = a.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    if !(norm > 0.0 && norm.is_finite()) {
        return None;
    }
    for col in 0..k {
        let pivot_row =
            (col..k).max_by(|&r1, &r2| m[r1 * k + col].abs().total_cmp(&m[r2 * k + col].abs()))?;
        let pivot = m[pivot_row * k + col];
        if pivot.abs() <= 1e-13 * norm {
            return None;
        }
        if pivot_row != col {
            for j in 0..k {
                m.swap(col * k + j, pivot_row * k + j);
                inv.swap(col * k + j, pivot_row * k + j);
            }
        }
        for j in 0..k {
            m[col * k + j] /= pivot;
            inv[col * k + j] /= pivot;
        }
        for r in 0..k {
            if r != col {
                let factor = m[r * k + col];
                if factor != 0.0 {
                    for j in 0..k {
                        m[r * k + j] -= factor * m[col * k + j];
                        inv[r * k + j] -= factor * inv[col * k + j];
                    }
                }
            }
        }
    }
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

/// `a b` for `k x k` row-major matrices.
pub(crate) fn mul(a: &[f64], b: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            out[i * k + j] = (0..k).map(|l| a[i * k + l] * b[l * k + j]).sum();
        }
    }
    out
}
