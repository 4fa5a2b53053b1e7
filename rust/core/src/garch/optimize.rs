//! BFGS with a backtracking (Armijo) line search, for smooth unconstrained minimisation of a
//! few parameters (constraints are handled by the caller's reparameterisation).

/// Settings of [`bfgs`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Converged when every gradient component is below this (absolute).
    pub gtol: f64,
    /// Also converged when no step decreases `f` (rounding noise) and every gradient
    /// component is below this.
    pub noise_gtol: f64,
    pub max_iter: usize,
    /// Longest step (max norm) tried by the line search.
    pub max_step: f64,
}

/// Where [`bfgs`] stopped.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub x: Vec<f64>,
    pub f: f64,
    pub grad_max: f64,
    pub iterations: usize,
    pub converged: bool,
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise `f` from `x0`; `f(x, grad)` returns the value and fills the gradient, `+inf` (or
/// any non-finite value) outside the domain. The inverse-Hessian approximation starts as the
/// identity, is rescaled after the first step, skips updates that would lose positive
/// definiteness and restarts when a direction is not a descent direction.
pub(crate) fn bfgs<F>(mut f: F, x0: &[f64], settings: Settings) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let k = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; k];
    let mut fx = f(&x, &mut g);
    let identity = |h: &mut Vec<f64>| {
        h.iter_mut().for_each(|v| *v = 0.0);
        (0..k).for_each(|i| h[i * k + i] = 1.0);
    };
    let mut h = vec![0.0; k * k];
    identity(&mut h);
    let mut first = true;
    let (mut x_new, mut g_new, mut dir) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    let mut stalls = 0;
    let mut iterations = 0;
    for iter in 0..settings.max_iter {
        iterations = iter;
        if !fx.is_finite() {
            break;
        }
        if max_abs(&g) < settings.gtol {
            return Outcome {
                grad_max: max_abs(&g),
                x,
                f: fx,
                iterations: iter,
                converged: true,
            };
        }
        for i in 0..k {
            dir[i] = -(0..k).map(|j| h[i * k + j] * g[j]).sum::<f64>();
        }
        let mut slope = dot(&dir, &g);
        if slope >= 0.0 || !slope.is_finite() {
            identity(&mut h);
            dir.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
            slope = dot(&dir, &g);
        }
        let longest = max_abs(&dir);
        let mut step = if longest > settings.max_step {
            settings.max_step / longest
        } else {
            1.0
        };
        let mut accepted = false;
        let mut f_new = f64::INFINITY;
        for _ in 0..40 {
            for i in 0..k {
                x_new[i] = x[i] + step * dir[i];
            }
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            // backtrack to the minimum of the quadratic through f(0), f'(0) and f(step),
            // kept within [0.1, 0.5] of the step
            let shrink = if f_new.is_finite() {
                let curvature = f_new - fx - slope * step;
                if curvature > 0.0 {
                    (-slope * step / (2.0 * curvature)).clamp(0.1, 0.5)
                } else {
                    0.5
                }
            } else {
                0.25
            };
            step *= shrink;
        }
        if !accepted {
            // no decrease left along the direction: the gradient is at the noise level of f
            // if it is small, else retry once from steepest descent
            let at_identity = h.iter().enumerate().all(|(i, v)| {
                let (r, c) = (i / k, i % k);
                *v == if r == c { 1.0 } else { 0.0 }
            });
            if at_identity || max_abs(&g) < settings.noise_gtol {
                break;
            }
            identity(&mut h);
            first = true;
            continue;
        }
        let s: Vec<f64> = (0..k).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..k).map(|i| g_new[i] - g[i]).collect();
        let sy = dot(&s, &y);
        if (fx - f_new).abs() <= 1e-15 * fx.abs().max(1.0) {
            stalls += 1;
        } else {
            stalls = 0;
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        fx = f_new;
        if stalls >= 5 {
            break;
        }
        if sy > 1e-16 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            if first {
                // Nocedal & Wright (6.20): scale the initial approximation before the update
                let scale = sy / dot(&y, &y);
                h.iter_mut().for_each(|v| *v *= scale);
                first = false;
            }
            // H+ = (I - rho s y') H (I - rho y s') + rho s s'
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..k)
                .map(|i| (0..k).map(|j| h[i * k + j] * y[j]).sum())
                .collect();
            let yhy = dot(&y, &hy);
            for i in 0..k {
                for j in 0..k {
                    h[i * k + j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
    }
    Outcome {
        grad_max: max_abs(&g),
        converged: fx.is_finite() && max_abs(&g) < settings.noise_gtol,
        x,
        f: fx,
        iterations: iterations + 1,
    }
}
