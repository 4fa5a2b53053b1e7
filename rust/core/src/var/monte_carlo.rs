//! Monte Carlo VaR and CVaR: simulated paths from a fitted normal or Student-t, seeded.
//!
//! Each of `n_paths` paths draws `h` i.i.d. one-bar simple returns `mu + sigma x eps` (sample
//! mean and standard deviation, `ddof = 1`; `eps` standard normal, or a Student-t scaled to
//! unit variance) and compounds them: the path's loss is `1 - prod(1 + r_i)`. VaR and CVaR are
//! the historical VaR (numpy `linear` quantile) and the mean loss at or beyond it over the
//! paths.
//!
//! Reproducible: paths are generated in fixed blocks of [`BLOCK`] paths, block `b` by a
//! ChaCha8 generator seeded with `seed` on stream `b`, so a seed gives the same result whatever
//! the number of threads. Blocks run in parallel.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StudentT};
use rayon::prelude::*;

use crate::error::{check, Error, Result};
use crate::series::{confidence, NanPolicy};

use super::historical::var_cvar_of_losses;
use super::moments::moments;
use super::parametric::{check_df, fit_t_df};
use super::{finite_result, horizon, QuantileMethod, VarCvar};

/// Paths per generator stream.
pub const BLOCK: usize = 4096;
/// Fewest and most paths.
pub const MIN_PATHS: usize = 100;
pub const MAX_PATHS: usize = 100_000_000;
/// Most one-bar draws in total (`n_paths x h`).
pub const MAX_DRAWS: usize = 2_000_000_000;

/// The innovation distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum McDistribution {
    Normal,
    /// Student-t with `df` in (2, MAX_DF] (`None`: fitted by the method of moments, see
    /// [`super::parametric::fit_t_df`]), scaled to unit variance.
    StudentT {
        df: Option<f64>,
    },
}

/// Monte Carlo VaR and CVaR over `h` bars from `n_paths` simulated paths (see the module
/// docs), with the `df` used (`None` for the normal). Needs >= 2 finite returns (>= 4 to fit
/// a t's `df`).
pub fn monte_carlo(
    returns: &[f64],
    c: f64,
    h: usize,
    n_paths: usize,
    dist: McDistribution,
    seed: u64,
    policy: NanPolicy,
) -> Result<(VarCvar, Option<f64>)> {
    let c = confidence("confidence", c)?;
    let h = horizon(h)?;
    let n_paths = check::count_in("n_paths", n_paths, MIN_PATHS, MAX_PATHS)?;
    if n_paths.saturating_mul(h) > MAX_DRAWS {
        return Err(Error::invalid(
            "n_paths",
            n_paths,
            format!("n_paths x horizon must be <= {MAX_DRAWS}"),
        ));
    }
    let df = match dist {
        McDistribution::StudentT { df: Some(df) } => Some(check_df(df)?),
        _ => None,
    };
    let fit_t = matches!(dist, McDistribution::StudentT { df: None });
    let m = moments(returns, if fit_t { 4 } else { 2 }, policy)?;
    let nu = match dist {
        McDistribution::Normal => None,
        McDistribution::StudentT { .. } => Some(df.unwrap_or_else(|| fit_t_df(&m))),
    };
    let t = nu
        .map(|v| StudentT::new(v).map(|d| (d, ((v - 2.0) / v).sqrt())))
        .transpose()
        .map_err(|e| Error::numerical("Student-t distribution", e.to_string()))?;
    let (mu, sigma) = (m.mean, m.std);
    let mut losses = vec![0.0f64; n_paths];
    losses
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(b, block)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(b as u64);
            for loss in block.iter_mut() {
                let mut growth = 1.0f64;
                for _ in 0..h {
                    let eps: f64 = match &t {
                        None => StandardNormal.sample(&mut rng),
                        Some((d, scale)) => scale * d.sample(&mut rng),
                    };
                    growth *= 1.0 + mu + sigma * eps;
                }
                *loss = 1.0 - growth;
            }
        });
    let v = var_cvar_of_losses(&mut losses, c, QuantileMethod::Linear);
    Ok((finite_result("monte_carlo", v)?, nu))
}
