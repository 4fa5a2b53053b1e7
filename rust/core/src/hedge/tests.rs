use proptest::prelude::*;

use super::*;

const R: NanPolicy = NanPolicy::Raise;

/// By hand: futures 1, 2, 3, 4 (mean 2.5), spot = 2 x futures + 1 -> beta exactly 2.
/// Syy = 2.25 + 0.25 + 0.25 + 2.25 = 5, Sxy = 2 x 5 = 10, beta = 2; hedged spot = 1 (constant)
/// so the effectiveness is 1.
#[test]
fn golden_ols_beta_and_perfect_hedge() {
    let f = [1.0, 2.0, 3.0, 4.0];
    let s = [3.0, 5.0, 7.0, 9.0];
    assert_eq!(ols_beta(&s, &f, R), Ok(2.0));
    assert_eq!(hedge_effectiveness(&s, &f, None, R), Ok(1.0));
    // no hedge: effectiveness 0
    assert_eq!(hedge_effectiveness(&s, &f, Some(0.0), R), Ok(0.0));
}

/// EWMA by hand with lam = 0.5 on f = 0, 2, 0 and s = 0, 2, 2:
/// t=1: my = 1, mx = 1; cyy = 0.5(0 + 1) + 0.5(1)(1) = 1; cxy = 0.5(0 + 1) + 0.5(1) = 1 -> 1.
/// t=2: my = 0.5, mx = 1.5; cyy = 0.5(1 + 0.25) + 0.5(0.25) = 0.75;
///      cxy = 0.5(1 + (-0.5)(0.5)) + 0.5(0.5)(-0.5) = 0.25 -> beta 1/3.
#[test]
fn golden_ewma_beta() {
    let b = ewma_beta(&[0.0, 2.0, 2.0], &[0.0, 2.0, 0.0], 0.5, 2, R).expect("beta");
    assert_eq!(b.len(), 2);
    assert_eq!(b[0], 1.0);
    assert!((b[1] - 1.0 / 3.0).abs() < 1e-15);
}

/// Funding by hand: short 2 BTC at 50,000 over three 8h intervals of 0.01%:
/// carry = -(-2) x 50,000 x 0.0003 = +30 USD received; a long pays 30.
#[test]
fn golden_funding_carry() {
    let r = [0.0001, 0.0001, 0.0001];
    assert!((funding_carry(-2.0, 50_000.0, &r).expect("carry") - 30.0).abs() < 1e-9);
    assert!((funding_carry(2.0, 50_000.0, &r).expect("carry") + 30.0).abs() < 1e-9);
    assert_eq!(funding_carry(0.0, 50_000.0, &r), Ok(0.0));
    assert!(funding_carry(1.0, 50_000.0, &[1.5]).is_err());
    assert!(funding_carry(1.0, 0.0, &r).is_err());
    assert!(funding_carry(1.0, 1.0, &[]).is_err());
}

#[test]
fn bad_inputs_are_named_errors() {
    let e = ols_beta(&[1.0, 2.0], &[1.0], R).expect_err("mismatch");
    assert!(e
        .to_string()
        .starts_with("futures: must have the same length as spot"));
    let e = ols_beta(&[1.0], &[1.0], R).expect_err("short");
    assert!(e.to_string().starts_with("spot: must hold at least 2"));
    let e = ols_beta(&[1.0, 2.0, 3.0], &[0.5, 0.5, 0.5], R).expect_err("constant");
    assert!(matches!(e, Error::Numerical { ref what, .. } if what == "beta"));
    let e = ols_beta(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 4.0], R).expect_err("nan");
    assert!(e.to_string().starts_with("spot[1]"));
    let omit = ols_beta(
        &[3.0, f64::NAN, 5.0, 7.0],
        &[1.0, 9.0, 2.0, 3.0],
        NanPolicy::Omit,
    );
    assert_eq!(omit, Ok(2.0));
    assert!(rolling_beta(&[1.0, 2.0], &[1.0, 3.0], 3).is_err());
    assert!(rolling_beta(&[1.0, 2.0], &[1.0, 3.0], 1).is_err());
    let e = rolling_beta(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 2.0, 2.0], 2).expect_err("flat");
    assert!(e.to_string().contains("window ending at bar 2"));
    assert!(ewma_beta(&[1.0, 2.0], &[1.0, 3.0], 1.0, 2, R).is_err());
    assert!(ewma_beta(&[1.0, 2.0], &[1.0, 3.0], 0.9, 1, R).is_err());
    let e = ewma_beta(&[1.0, 2.0, 3.0], &[1.0, 1.0, 2.0], 0.9, 2, R).expect_err("flat start");
    assert!(e.to_string().contains("at bar 1"));
    let e = hedge_effectiveness(&[1.0, 1.0], &[1.0, 2.0], Some(1.0), R).expect_err("flat spot");
    assert!(matches!(e, Error::Numerical { .. }));
}

fn naive_beta(s: &[f64], f: &[f64]) -> f64 {
    let (sxy, syy) = comoments(s, f);
    sxy / syy
}

proptest! {
    /// Rolling beta equals the two-pass OLS beta of every window (the O(n) updates stay
    /// accurate), and the EWMA beta with lam -> tiny weights tracks the last bars.
    #[test]
    fn rolling_matches_windowed_ols(
        pairs in prop::collection::vec((-0.1f64..0.1, -0.1f64..0.1), 3..120),
        w in 2usize..40,
    ) {
        let (s, f): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let w = w.min(s.len());
        prop_assume!((0..=s.len() - w).all(|k| {
            let (_, syy) = comoments(&s[k..k + w], &f[k..k + w]);
            syy > 1e-6
        }));
        let r = rolling_beta(&s, &f, w).expect("rolling");
        prop_assert_eq!(r.len(), s.len() - w + 1);
        for (k, b) in r.iter().enumerate() {
            let exact = naive_beta(&s[k..k + w], &f[k..k + w]);
            prop_assert!((b - exact).abs() <= 1e-7 * (1.0 + exact.abs()), "k={} {} vs {}", k, b, exact);
        }
    }

    /// Hedge effectiveness is at most 1 and is maximised by the OLS beta.
    #[test]
    fn effectiveness_is_maximal_at_ols_beta(
        pairs in prop::collection::vec((-0.1f64..0.1, -0.1f64..0.1), 3..60),
        h in -3.0f64..3.0,
    ) {
        let (s, f): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let (_, syy) = comoments(&f, &f);
        let (_, sxx) = comoments(&s, &s);
        prop_assume!(syy > 1e-9 && sxx > 1e-9);
        let best = hedge_effectiveness(&s, &f, None, R).expect("he");
        let other = hedge_effectiveness(&s, &f, Some(h), R).expect("he");
        prop_assert!(best <= 1.0 && other <= best + 1e-9);
    }
}
