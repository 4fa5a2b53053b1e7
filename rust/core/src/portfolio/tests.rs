use proptest::prelude::*;

use super::*;
use crate::var::covariance_from_correlation;

const Z95: f64 = 1.6448536269514722;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A deterministic pseudo-random stream (no RNG dependency in the assertions).
fn noise(seed: u64, len: usize) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        })
        .collect()
}

#[test]
fn correlation_one_is_sum_and_zero_is_root_sum_square() {
    let vols = [0.01, 0.02];
    let w = [1000.0, 2000.0];
    let solo: Vec<f64> = vols.iter().zip(&w).map(|(v, e)| Z95 * v * e).collect();
    let one = covariance_from_correlation(&vols, &[1.0, 1.0, 1.0, 1.0]).expect("ok");
    let pv = var::portfolio_var(&w, &one, 0.95, 1).expect("ok");
    assert!(close(pv.var, solo[0] + solo[1], 1e-9));
    let zero = covariance_from_correlation(&vols, &[1.0, 0.0, 0.0, 1.0]).expect("ok");
    let pv = var::portfolio_var(&w, &zero, 0.95, 1).expect("ok");
    assert!(close(pv.var, solo[0].hypot(solo[1]), 1e-9));
}

#[test]
fn ewma_covariance_matches_the_weighted_formula() {
    let r = noise(3, 200);
    let lambda = 0.97;
    let cov = covariance(&r, 2, CovMethod::Ewma { lambda }).expect("ok");
    let t = 100;
    let w: Vec<f64> = (0..t).map(|k| lambda.powi((t - 1 - k) as i32)).collect();
    let s: f64 = w.iter().sum();
    let s00: f64 = (0..t).map(|k| w[k] * r[2 * k] * r[2 * k]).sum::<f64>() / s;
    let s01: f64 = (0..t).map(|k| w[k] * r[2 * k] * r[2 * k + 1]).sum::<f64>() / s;
    assert!(close(cov.matrix[0], s00, 1e-12));
    assert!(close(cov.matrix[1], s01 * (1.0 - cov.shrinkage), 1e-9));
    assert!((0.0..=1.0).contains(&cov.shrinkage));
}

#[test]
fn shrinkage_is_larger_for_a_short_sample() {
    let base = noise(5, 2 * 4000);
    // correlated pair: y = x + small noise
    let r: Vec<f64> = base
        .chunks(2)
        .flat_map(|p| [p[0], p[0] + 0.5 * p[1]])
        .collect();
    let short = covariance(&r[..2 * 10], 2, CovMethod::Rolling { window: 10 }).expect("ok");
    let long = covariance(&r, 2, CovMethod::Rolling { window: 4000 }).expect("ok");
    assert!(short.shrinkage > long.shrinkage, "{short:?} {long:?}");
    assert!(long.shrinkage < 0.01);
}

#[test]
fn rolling_is_the_sample_covariance_without_shrinkage_on_independent_columns_zeroed() {
    let r = noise(9, 3 * 50);
    let cov = covariance(&r, 3, CovMethod::Rolling { window: 50 }).expect("ok");
    let mean0: f64 = (0..50).map(|t| r[3 * t]).sum::<f64>() / 50.0;
    let var0: f64 = (0..50).map(|t| (r[3 * t] - mean0).powi(2)).sum::<f64>() / 49.0;
    assert!(close(cov.matrix[0], var0, 1e-12));
}

#[test]
fn historical_var_is_the_pnl_quantile() {
    let r = noise(11, 2 * 1000);
    let w = [3.0, -1.0];
    let v = historical_var(&r, 2, &w, 0.95, 1).expect("ok");
    let mut losses: Vec<f64> = r.chunks(2).map(|p| -(p[0] * 3.0 - p[1])).collect();
    losses.sort_by(f64::total_cmp);
    let h = 999.0 * 0.95;
    let lo = h as usize;
    let q = losses[lo] + (h - lo as f64) * (losses[lo + 1] - losses[lo]);
    assert!(close(v.var, q, 1e-12));
    assert!(v.cvar >= v.var);
}

#[test]
fn correlated_second_leg_is_allowed_less() {
    let vols = [0.01, 0.01, 0.01];
    let rho = [1.0, 0.9, 0.0, 0.9, 1.0, 0.0, 0.0, 0.0, 1.0];
    let cov = covariance_from_correlation(&vols, &rho).expect("ok");
    let b = budgets(&[1000.0, 1000.0, 1000.0], &cov, 30.0, None, 0.95, 1).expect("ok");
    assert!(b[1].allowed_exposure < b[2].allowed_exposure);
    assert!(close(b.iter().map(|x| x.share).sum(), 30.0, 1e-12));
}

#[test]
fn shrink_cuts_the_largest_contributor_first() {
    let vols = [0.01, 0.02];
    let cov = covariance_from_correlation(&vols, &[1.0, 0.8, 0.8, 1.0]).expect("ok");
    let w = [1000.0, 1000.0];
    let pv = var::portfolio_var(&w, &cov, 0.95, 1).expect("ok");
    let m = shrink(&w, &cov, pv.var * 0.9, 0.95, 1).expect("ok");
    assert!(m[1] < 1.0 && m[0] == 1.0, "{m:?}");
    let after: Vec<f64> = w.iter().zip(&m).map(|(a, b)| a * b).collect();
    let v = var::portfolio_var(&after, &cov, 0.95, 1).expect("ok");
    assert!(v.var <= pv.var * 0.9 * (1.0 + 1e-9));
    // a deep cut reaches both legs
    let m = shrink(&w, &cov, pv.var * 0.2, 0.95, 1).expect("ok");
    assert!(m[0] < 1.0 && m[1] < 1.0, "{m:?}");
}

#[test]
fn drawdown_of_the_summed_equity() {
    let eq = [100.0, 100.0, 110.0, 100.0, 90.0, 95.0];
    let d = portfolio_drawdown(&eq, 2).expect("ok");
    assert_eq!(d.equity, vec![200.0, 210.0, 185.0]);
    assert!(close(d.current, 185.0 / 210.0 - 1.0, 1e-12));
    assert!(close(d.max.drawdown, d.current, 1e-12));
}

#[test]
fn errors_name_the_field() {
    let e = covariance(&[0.0; 5], 2, CovMethod::Ewma { lambda: 0.9 }).expect_err("err");
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "returns"));
    let e = covariance(&[0.0; 4], 2, CovMethod::Ewma { lambda: 1.0 }).expect_err("err");
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "lambda"));
    let e = covariance(
        &[0.0, f64::NAN, 0.0, 0.0],
        2,
        CovMethod::Rolling { window: 5 },
    );
    assert!(matches!(e, Err(Error::InvalidInput { ref field, .. }) if field == "returns[0, 1]"));
    let e = covariance(&[0.0; 4], 2, CovMethod::Rolling { window: 1 }).expect_err("err");
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "window"));
    let e = shrink(&[1.0], &[1.0], 0.0, 0.95, 1).expect_err("err");
    assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "var_limit"));
}

#[test]
fn ewma_path_last_bar_matches_the_batch_estimate_without_shrinkage() {
    let r = noise(21, 3 * 300);
    let w = [100.0, -50.0, 70.0];
    let path = ewma_var_path(&r, 3, &w, 0.96, 0.95, 1).expect("ok");
    let t = 300;
    let mut cov = vec![0.0; 9];
    let ws: Vec<f64> = (0..t).map(|k| 0.96f64.powi((t - 1 - k) as i32)).collect();
    let s: f64 = ws.iter().sum();
    for k in 0..t {
        for i in 0..3 {
            for j in 0..3 {
                cov[i * 3 + j] += ws[k] * r[3 * k + i] * r[3 * k + j] / s;
            }
        }
    }
    let pv = var::portfolio_var(&w, &cov, 0.95, 1).expect("ok");
    assert!(close(path[t - 1], pv.var, 1e-9));
}

fn corr_matrix(n: usize, rho: f64) -> Vec<f64> {
    (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { rho })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn euler_components_sum_to_var(
        n in 1usize..8,
        seed in 0u64..1000,
        window in 10usize..200,
    ) {
        let r = noise(seed, n * window);
        let w: Vec<f64> = noise(seed + 1, n).iter().map(|v| v * 1e4).collect();
        let risk = portfolio_risk(&r, n, &w, CovMethod::Rolling { window }, 0.95, 4).expect("ok");
        let s: f64 = risk.parametric.component.iter().sum();
        prop_assert!((s - risk.parametric.var).abs() <= 1e-9 * risk.parametric.var.max(1e-12));
        let solo: f64 = risk.standalone.iter().sum();
        prop_assert!(risk.parametric.var <= solo * (1.0 + 1e-9));
    }

    #[test]
    fn perfect_and_zero_correlation(
        vols in proptest::collection::vec(1e-4f64..0.1, 1..8),
        scale in 1.0f64..1e6,
    ) {
        let n = vols.len();
        let w: Vec<f64> = (0..n).map(|i| scale * (i as f64 + 1.0)).collect();
        let solo: Vec<f64> = (0..n).map(|i| Z95 * vols[i] * w[i]).collect();
        let one = covariance_from_correlation(&vols, &corr_matrix(n, 1.0)).expect("ok");
        let pv = var::portfolio_var(&w, &one, 0.95, 1).expect("ok");
        prop_assert!(close(pv.var, solo.iter().sum(), 1e-9));
        let zero = covariance_from_correlation(&vols, &corr_matrix(n, 0.0)).expect("ok");
        let pv = var::portfolio_var(&w, &zero, 0.95, 1).expect("ok");
        let rss = solo.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!(close(pv.var, rss, 1e-9));
    }

    #[test]
    fn budgets_never_exceeded_after_shrinking(
        n in 1usize..10,
        seed in 0u64..1000,
        rho in -0.1f64..0.99,
        cut in 0.01f64..1.5,
    ) {
        let vols: Vec<f64> = noise(seed, n).iter().map(|v| 0.01 + v.abs() * 0.05).collect();
        let w: Vec<f64> = noise(seed + 7, n).iter().map(|v| v * 1e5).collect();
        let rho = if n > 1 { rho.max(-1.0 / (n as f64 - 1.0) + 1e-6) } else { 0.0 };
        let cov = covariance_from_correlation(&vols, &corr_matrix(n, rho)).expect("ok");
        let before = var::portfolio_var(&w, &cov, 0.99, 24).expect("ok");
        prop_assume!(before.var > 0.0);
        let limit = before.var * cut;
        let m = shrink(&w, &cov, limit, 0.99, 24).expect("ok");
        prop_assert!(m.iter().all(|v| *v > 0.0 && *v <= 1.0), "{:?}", m);
        let after: Vec<f64> = w.iter().zip(&m).map(|(a, b)| a * b).collect();
        let pv = var::portfolio_var(&after, &cov, 0.99, 24).expect("ok");
        prop_assert!(pv.var <= limit * (1.0 + 1e-9), "{} > {}", pv.var, limit);
        prop_assert!(pv.component.iter().sum::<f64>() <= limit * (1.0 + 1e-9));
        if cut >= 1.0 {
            prop_assert!(m.iter().all(|v| *v == 1.0));
        }
    }
}
