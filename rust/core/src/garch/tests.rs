use proptest::prelude::*;

use super::*;

fn params(mu: f64, omega: f64, alpha: f64, beta: f64, nu: Option<f64>) -> GarchParams {
    GarchParams {
        mu,
        omega,
        alpha,
        beta,
        nu,
    }
}

fn field_of(e: &Error) -> &str {
    match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => what,
    }
}

#[test]
fn analytic_gradient_matches_finite_differences() {
    let y = simulate(&params(0.1, 0.2, 0.1, 0.8, Some(6.0)), 500, 100, 7).expect("sim");
    let resid: Vec<f64> = y.iter().map(|v| v - 0.1).collect();
    for dist in [Dist::Normal, Dist::StudentT] {
        let model = Likelihood {
            y: &y,
            backcast: likelihood::backcast(&resid),
            dist,
        };
        let theta = [0.08, 0.25, 0.12, 0.75, 5.0];
        let theta = &theta[..model.k()];
        let mut g = vec![0.0; model.k()];
        let ll = model.value_grad(theta, &mut g);
        // the per-observation scores sum to the gradient (they take another code path)
        let mut scores = Vec::new();
        let ll2 = model.eval(
            theta,
            Outputs {
                scores: Some(&mut scores),
                ..Outputs::default()
            },
        );
        assert!((ll - ll2).abs() <= 1e-9 * ll.abs());
        for j in 0..model.k() {
            let total: f64 = scores.chunks_exact(model.k()).map(|r| r[j]).sum();
            assert!(
                (total - g[j]).abs() <= 1e-8 * g[j].abs().max(1.0),
                "score sum {j}"
            );
        }
        for j in 0..model.k() {
            let h = 1e-6 * theta[j].abs().max(1e-2);
            let (mut tp, mut tm) = (theta.to_vec(), theta.to_vec());
            tp[j] += h;
            tm[j] -= h;
            let fd = (model.value(&tp) - model.value(&tm)) / (2.0 * h);
            assert!(
                (fd - g[j]).abs() <= 1e-5 * g[j].abs().max(1.0),
                "{dist:?} d/d{j}: analytic {} vs numeric {fd}",
                g[j]
            );
        }
    }
}

/// Known parameters recovered from a long simulated path (ChaCha8, seed 42): every estimate
/// within 4 robust standard errors of the truth, and the standard errors are small.
#[test]
fn recovers_known_parameters_normal_and_t() {
    for (truth, dist) in [
        (params(0.05, 0.05, 0.10, 0.85, None), Dist::Normal),
        (params(-0.02, 0.02, 0.07, 0.90, Some(5.0)), Dist::StudentT),
    ] {
        let y = simulate(&truth, 20_000, 500, 42).expect("sim");
        let f = fit(&y, dist, 1.0, NanPolicy::Raise).expect("fit");
        let est = f.params.to_vec();
        for (i, (e, t)) in est.iter().zip(truth.to_vec()).enumerate() {
            let se = f.std_errors[i];
            assert!(
                se > 0.0 && se < 0.2 * t.abs().max(0.05),
                "{dist:?} se {i} = {se}"
            );
            assert!(
                (e - t).abs() < 4.0 * se,
                "{dist:?} param {i}: {e} vs {t} (se {se})"
            );
        }
        // the maximum is at least as high as the truth's likelihood
        let ll_true = loglikelihood(&y, &truth).expect("ll");
        assert!(f.loglik >= ll_true - 1e-6, "{} < {ll_true}", f.loglik);
        assert_eq!(f.conditional_variance.len(), y.len());
    }
}

#[test]
fn forecast_follows_the_recursion_and_reverts_to_the_mean() {
    let truth = params(0.0, 0.1, 0.1, 0.85, None);
    let y = simulate(&truth, 3_000, 200, 3).expect("sim");
    let f = fit(&y, Dist::Normal, 1.0, NanPolicy::Raise).expect("fit");
    let p = f.params;
    let fc = f.forecast(2_000).expect("forecast");
    let e = y[y.len() - 1] - p.mu;
    let last = f.conditional_variance[y.len() - 1];
    let one = p.omega + p.alpha * e * e + p.beta * last;
    assert!((fc[0] - one).abs() <= 1e-12 * one);
    assert!((fc[1] - (p.omega + (p.alpha + p.beta) * one)).abs() <= 1e-12 * one);
    let lr = p.unconditional_variance();
    assert!((fc[1999] - lr).abs() <= 1e-9 * lr);
    assert!(f.forecast(0).is_err());
}

#[test]
fn bad_inputs_are_named() {
    let y = simulate(&params(0.0, 0.1, 0.1, 0.8, None), 100, 0, 1).expect("sim");
    let e = fit(&y[..10], Dist::Normal, 1.0, NanPolicy::Raise).expect_err("short");
    assert_eq!(field_of(&e), "returns");
    let e = fit(&[0.01; 50], Dist::Normal, 1.0, NanPolicy::Raise).expect_err("constant");
    assert!(e.to_string().contains("must not be constant"));
    let e = fit(&y, Dist::Normal, 0.0, NanPolicy::Raise).expect_err("scale");
    assert_eq!(field_of(&e), "scale");
    let mut bad = y.clone();
    bad[5] = f64::NAN;
    let e = fit(&bad, Dist::Normal, 1.0, NanPolicy::Raise).expect_err("nan");
    assert_eq!(field_of(&e), "returns[5]");
    assert!(fit(&bad, Dist::Normal, 1.0, NanPolicy::Omit).is_ok());
    assert_eq!(
        "cauchy".parse::<Dist>().expect_err("dist").to_string(),
        "dist: must be 'normal' or 't' (got \"cauchy\")"
    );
    let e = simulate(&params(0.0, 0.1, 0.5, 0.5, None), 10, 0, 1).expect_err("unit root");
    assert_eq!(field_of(&e), "beta");
    let e = simulate(&params(0.0, 0.1, 0.1, 0.5, Some(2.0)), 10, 0, 1).expect_err("nu");
    assert_eq!(field_of(&e), "nu");
}

#[test]
fn simulation_is_reproducible() {
    let p = params(0.0, 0.1, 0.1, 0.8, Some(8.0));
    assert_eq!(simulate(&p, 50, 10, 9), simulate(&p, 50, 10, 9));
    assert_ne!(simulate(&p, 50, 10, 9), simulate(&p, 50, 10, 10));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Scale equivariance: fitting k x r gives mu k, omega k^2, the same alpha, beta (nu) and a
    /// log-likelihood lower by n ln k; and the maximum beats the true parameters.
    #[test]
    fn fit_is_scale_equivariant_and_maximal(
        seed in 0u64..1_000,
        alpha in 0.03f64..0.2,
        beta in 0.5f64..0.78,
        k in 0.01f64..100.0,
        t_dist in any::<bool>(),
    ) {
        let nu = if t_dist { Some(6.0) } else { None };
        let dist = if t_dist { Dist::StudentT } else { Dist::Normal };
        let truth = params(0.01, 0.05, alpha, beta, nu);
        let y = simulate(&truth, 1_500, 100, seed).expect("sim");
        let f = fit(&y, dist, 1.0, NanPolicy::Raise).expect("fit");
        let fk = fit(&y, dist, k, NanPolicy::Raise).expect("fit scaled");
        let (p, q) = (f.params, fk.params);
        prop_assert!(p.omega > 0.0 && p.alpha >= 0.0 && p.beta >= 0.0 && p.persistence() < 1.0);
        prop_assert!((q.mu - k * p.mu).abs() <= 1e-4 * k * (p.mu.abs() + f.std_errors[0]));
        // omega to 1e-4 relative, or a thousandth of its standard error: on the boundary
        // (alpha = 0, beta near 1; seed 829, alpha 0.03, beta 0.5, k 0.01, t) omega is ~3e-11
        // against a standard error of 2.5e-4 and is identified only that loosely
        prop_assert!(
            (q.omega / (k * k) - p.omega).abs() <= 1e-4 * p.omega + 1e-3 * f.std_errors[1],
            "{} vs {} (se {})", q.omega / (k * k), p.omega, f.std_errors[1]
        );
        prop_assert!((q.alpha - p.alpha).abs() <= 1e-5 && (q.beta - p.beta).abs() <= 1e-5);
        let n = y.len() as f64;
        prop_assert!((fk.loglik - (f.loglik - n * k.ln())).abs() <= 1e-6 * n);
        let ll_true = loglikelihood(&y, &truth).expect("ll");
        prop_assert!(f.loglik >= ll_true - 1e-6);
        prop_assert!(f.std_errors.iter().all(|s| s.is_finite() && *s > 0.0));
    }
}

/// White noise (true alpha = beta = 0, on the boundary): the fit converges and beats the
/// constant-variance model at the sample variance.
#[test]
fn white_noise_fits_without_failing() {
    for seed in 0..10 {
        let y = simulate(&params(0.0, 1.0, 0.0, 0.0, None), 800, 0, seed).expect("sim");
        let f = fit(&y, Dist::Normal, 1.0, NanPolicy::Raise).expect("fit");
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / y.len() as f64;
        let flat = loglikelihood(&y, &params(mean, var, 0.0, 0.0, None)).expect("ll");
        assert!(
            f.loglik >= flat - 1e-6,
            "seed {seed}: {} < {flat}",
            f.loglik
        );
    }
}
