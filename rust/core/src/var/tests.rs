use proptest::prelude::*;

use super::*;
use crate::series::NanPolicy;

const RAISE: NanPolicy = NanPolicy::Raise;

fn hist(r: &[f64], c: f64, m: QuantileMethod) -> VarCvar {
    historical(r, c, 1, m, RAISE).expect("valid")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn historical_quantile_by_hand() {
    // returns -1..-5 are losses 1..5; h = (5-1) x 0.9 = 3.6: linear 4 + 0.6 x (5-4) = 4.6,
    // lower L[3] = 4; the tail at or beyond 4.6 is {5}, at or beyond 4 is {4, 5}.
    let r = [-3.0, -1.0, -5.0, -2.0, -4.0];
    let v = hist(&r, 0.9, QuantileMethod::Linear);
    assert!(close(v.var, 4.6, 1e-15) && v.cvar == 5.0);
    let v = hist(&r, 0.9, QuantileMethod::Lower);
    assert!(v.var == 4.0 && v.cvar == 4.5);
    // horizon 4: both times sqrt(4) = 2
    let v4 = historical(&r, 0.9, 4, QuantileMethod::Lower, RAISE).expect("valid");
    assert!(v4.var == 8.0 && v4.cvar == 9.0);
}

#[test]
fn normal_matches_the_riskmetrics_multiplier() {
    // RiskMetrics Technical Document (1996), sec. 6.2: 95% one-day VaR = 1.65 sigma. Returns
    // +-0.01 alternating have mean 0 and std (ddof 1) 0.01 x sqrt(n/(n-1)).
    let r: Vec<f64> = (0..1000)
        .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
        .collect();
    let sd = 0.01 * (1000.0f64 / 999.0).sqrt();
    let v = parametric::normal(&r, 0.95, 1, RAISE).expect("valid");
    assert!(close(v.var, 1.644_853_626_951_472_2 * sd, 1e-12), "{v:?}");
    // normal ES at 95%: phi(1.6449)/0.05 = 0.103136 / 0.05 = 2.062713
    assert!(close(v.cvar, 2.062_712_807_968_22 * sd, 1e-9), "{v:?}");
}

#[test]
fn bad_inputs_name_field_and_rule() {
    let r = [0.01, -0.02, 0.03, -0.01];
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => what,
    };
    let m = QuantileMethod::Linear;
    assert_eq!(
        field(historical(&[], 0.95, 1, m, RAISE).expect_err("empty")),
        "returns"
    );
    assert_eq!(
        field(historical(&r, 1.0, 1, m, RAISE).expect_err("c")),
        "confidence"
    );
    assert_eq!(
        field(historical(&r, 0.95, 0, m, RAISE).expect_err("h")),
        "horizon"
    );
    assert_eq!(
        field(historical(&[0.1, f64::NAN], 0.95, 1, m, RAISE).expect_err("nan")),
        "returns[1]"
    );
    assert!(historical(&[0.1, f64::NAN], 0.95, 1, m, NanPolicy::Omit).is_ok());
    assert_eq!(
        field(rolling_historical(&r, 5, 0.95, 1, m, RAISE).expect_err("w")),
        "window"
    );
    assert_eq!(
        field(parametric::student_t(&r, 0.95, 1, Some(2.0), RAISE).expect_err("df")),
        "df"
    );
    assert_eq!(
        field(
            filtered_historical(&r, &[0.1, 0.1, 0.0, 0.1], None, 0.95, 1, m, RAISE).expect_err("s")
        ),
        "sigma[2]"
    );
    assert_eq!(
        field(filtered_historical(&r, &[0.1], None, 0.95, 1, m, RAISE).expect_err("len")),
        "sigma"
    );
    let indefinite = [1.0, 2.0, 2.0, 1.0];
    assert_eq!(
        field(portfolio_var(&[1.0, 1.0], &indefinite, 0.95, 1).expect_err("psd")),
        "covariance"
    );
    assert_eq!(
        field(portfolio_var(&[1.0, 1.0], &[1.0, 0.5, 0.4, 1.0], 0.95, 1).expect_err("sym")),
        "covariance[1, 0]"
    );
    assert_eq!(
        field(covariance_from_correlation(&[0.1, 0.2], &[1.0, 1.5, 1.5, 1.0]).expect_err("rho")),
        "correlation[0, 1]"
    );
    assert_eq!(
        field(position_var(1.0, 0.0, 0.05).expect_err("price")),
        "price"
    );
}

#[test]
fn zero_returns_give_zero_var_everywhere() {
    let r = [0.0; 50];
    let m = QuantileMethod::Linear;
    assert_eq!(hist(&r, 0.99, m).var, 0.0);
    let v = ewma_filtered_historical(&r, 0.94, 0.99, 1, m, RAISE).expect("valid");
    assert_eq!((v.var, v.cvar), (0.0, 0.0));
    let v = cornish_fisher(&r, 0.99, 1, RAISE).expect("valid");
    assert_eq!((v.var, v.cvar), (0.0, 0.0));
    let (v, df) = student_t(&r, 0.99, 1, None, RAISE).expect("valid");
    assert_eq!((v.var, v.cvar, df), (0.0, 0.0, parametric::MAX_DF));
}

#[test]
fn perfect_hedge_has_zero_var_and_zero_components() {
    // spot and perp of one coin (correlation 1), long 100 and short 100
    let cov = covariance_from_correlation(&[0.02, 0.02], &[1.0, 1.0, 1.0, 1.0]).expect("ok");
    let p = portfolio_var(&[100.0, -100.0], &cov, 0.99, 1).expect("singular PSD is fine");
    assert!(p.var.abs() < 1e-12 && p.component.iter().all(|c| c.abs() < 1e-9));
}

#[test]
fn monte_carlo_is_reproducible_and_close_to_normal() {
    let r: Vec<f64> = (0..500)
        .map(|i| ((i * 7919) % 101) as f64 / 1e4 - 0.005)
        .collect();
    let a = monte_carlo(&r, 0.99, 1, 200_000, McDistribution::Normal, 42, RAISE).expect("mc");
    let b = monte_carlo(&r, 0.99, 1, 200_000, McDistribution::Normal, 42, RAISE).expect("mc");
    let c = monte_carlo(&r, 0.99, 1, 200_000, McDistribution::Normal, 43, RAISE).expect("mc");
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    let n = parametric::normal(&r, 0.99, 1, RAISE).expect("normal");
    assert!(close(a.0.var, n.var, 0.02) && close(a.0.cvar, n.cvar, 0.02));
}

fn returns_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-0.2f64..0.2, 5..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cvar_at_least_var_and_monotone_in_confidence(
        r in returns_strategy(),
        c1 in 0.5f64..0.999,
        c2 in 0.5f64..0.999,
    ) {
        let (lo, hi) = if c1 <= c2 { (c1, c2) } else { (c2, c1) };
        for m in [QuantileMethod::Linear, QuantileMethod::Lower] {
            let (a, b) = (hist(&r, lo, m), hist(&r, hi, m));
            prop_assert!(a.cvar >= a.var && b.cvar >= b.var);
            prop_assert!(a.var <= b.var);
        }
        let (a, b) = (normal(&r, lo, 1, RAISE).expect("n"), normal(&r, hi, 1, RAISE).expect("n"));
        prop_assert!(a.cvar >= a.var && a.var <= b.var);
        let (a, _) = student_t(&r, lo, 1, Some(5.0), RAISE).expect("t");
        let (b, _) = student_t(&r, hi, 1, Some(5.0), RAISE).expect("t");
        prop_assert!(a.cvar >= a.var && a.var <= b.var);
        let f = ewma_filtered_historical(&r, 0.94, hi, 1, QuantileMethod::Linear, RAISE)
            .expect("fhs");
        prop_assert!(f.cvar >= f.var);
    }

    #[test]
    fn rolling_historical_equals_each_window(
        r in returns_strategy(),
        w_frac in 0.05f64..1.0,
        c in 0.5f64..0.999,
        lower in any::<bool>(),
    ) {
        let w = ((r.len() as f64 * w_frac) as usize).max(1);
        let m = if lower { QuantileMethod::Lower } else { QuantileMethod::Linear };
        let roll = rolling_historical(&r, w, c, 1, m, RAISE).expect("rolling");
        prop_assert_eq!(roll.var.len(), r.len() - w + 1);
        for k in 0..roll.var.len() {
            let one = hist(&r[k..k + w], c, m);
            prop_assert_eq!(roll.var[k], one.var);
            prop_assert!(close(roll.cvar[k], one.cvar, 1e-12));
            prop_assert!(roll.cvar[k] >= roll.var[k]);
        }
    }

    #[test]
    fn rolling_normal_equals_each_window(r in returns_strategy(), w_frac in 0.05f64..1.0) {
        let w = ((r.len() as f64 * w_frac) as usize).max(2);
        let roll = rolling_parametric(&r, w, 0.99, 10, rolling::RollingDistribution::Normal, RAISE)
            .expect("rolling");
        for k in 0..roll.var.len() {
            let one = normal(&r[k..k + w], 0.99, 10, RAISE).expect("normal");
            prop_assert!((roll.var[k] - one.var).abs() < 1e-10, "{} {}", roll.var[k], one.var);
            prop_assert!((roll.cvar[k] - one.cvar).abs() < 1e-10);
        }
    }

    #[test]
    fn components_sum_to_portfolio_var(
        legs in prop::collection::vec((-1e6f64..1e6, 0.001f64..0.1), 1..8),
        seed_rho in prop::collection::vec(-1.0f64..1.0, 64),
        c in 0.8f64..0.999,
    ) {
        // a PSD covariance: S = B B' scaled to the legs' vols (B from the seed values)
        let n = legs.len();
        let b: Vec<f64> = (0..n * n).map(|k| seed_rho[k % 64]).collect();
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>()
                    * legs[i].1 * legs[j].1;
            }
        }
        let w: Vec<f64> = legs.iter().map(|l| l.0).collect();
        let p = portfolio_var(&w, &cov, c, 1).expect("psd");
        let sum: f64 = p.component.iter().sum();
        prop_assert!((sum - p.var).abs() <= 1e-9 * p.var.abs().max(1.0), "{} {}", sum, p.var);
        prop_assert!(p.cvar >= p.var);
    }

    #[test]
    fn correlation_one_adds_and_zero_is_root_sum_square(
        legs in prop::collection::vec((0.0f64..1e6, 0.0f64..0.1), 1..8),
        c in 0.8f64..0.999,
        h in 1usize..30,
    ) {
        let n = legs.len();
        let w: Vec<f64> = legs.iter().map(|l| l.0).collect();
        let vols: Vec<f64> = legs.iter().map(|l| l.1).collect();
        let leg = |i: usize| portfolio_var(&[w[i]], &[vols[i] * vols[i]], c, h).expect("leg").var;
        let legs_var: Vec<f64> = (0..n).map(leg).collect();
        let ones = vec![1.0; n * n];
        let mut eye = vec![0.0; n * n];
        for i in 0..n { eye[i * n + i] = 1.0; }
        let full = portfolio_var(&w, &covariance_from_correlation(&vols, &ones).expect("c"), c, h)
            .expect("rho 1");
        let none = portfolio_var(&w, &covariance_from_correlation(&vols, &eye).expect("c"), c, h)
            .expect("rho 0");
        let sum: f64 = legs_var.iter().sum();
        let rss = legs_var.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((full.var - sum).abs() <= 1e-9 * sum.max(1e-12), "{} {}", full.var, sum);
        prop_assert!((none.var - rss).abs() <= 1e-9 * rss.max(1e-12), "{} {}", none.var, rss);
    }
}
