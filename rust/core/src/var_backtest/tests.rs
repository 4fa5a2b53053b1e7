use proptest::prelude::*;

use super::*;

#[test]
fn kupiec_matches_jorion_non_rejection_regions() {
    // Jorion, "Value at Risk" (3rd ed.), Table 6-3 (after Kupiec 1995): at a 5% test size
    // (LR < 3.841) and p = 0.01, T = 255 accepts N < 7; T = 510 accepts 1 < N < 11;
    // T = 1000 accepts 4 < N < 17. At p = 0.05, T = 255: 6 < N < 21. (The table has no lower
    // bound at p = 0.01, T = 255; the LR rejects N = 0 there: -2 x 255 x ln 0.99 = 5.126.)
    let accept = |t: u64, x: u64, c: f64| kupiec_pof(t, x, c).expect("valid").lr < 3.841;
    assert!(accept(255, 6, 0.99) && !accept(255, 7, 0.99));
    assert!(!accept(255, 0, 0.99) && accept(255, 1, 0.99));
    assert!(!accept(510, 1, 0.99) && accept(510, 2, 0.99));
    assert!(accept(510, 10, 0.99) && !accept(510, 11, 0.99));
    assert!(!accept(1000, 4, 0.99) && accept(1000, 5, 0.99));
    assert!(accept(1000, 16, 0.99) && !accept(1000, 17, 0.99));
    assert!(!accept(255, 6, 0.95) && accept(255, 7, 0.95));
    assert!(accept(255, 20, 0.95) && !accept(255, 21, 0.95));
}

#[test]
fn kupiec_by_hand() {
    // T = 250, x = 5, p = 0.01, phat = 0.02:
    // null = 245 ln 0.99 + 5 ln 0.01 = -2.462 332 + -23.025 851 = -25.488 183
    // alt  = 245 ln 0.98 + 5 ln 0.02 = -4.949 663 + -19.560 115 = -24.509 778
    // LR = -2 (null - alt) = -2 x -0.978 405 = 1.956 810
    let t = kupiec_pof(250, 5, 0.99).expect("valid");
    let null = 245.0 * 0.99f64.ln() + 5.0 * 0.01f64.ln();
    let alt = 245.0 * 0.98f64.ln() + 5.0 * 0.02f64.ln();
    assert!((t.lr - (-2.0 * (null - alt))).abs() < 1e-12);
    assert!((t.lr - 1.956_810).abs() < 1e-5, "{}", t.lr);
    // zero exceptions: LR = -2 T ln(1 - p) = -500 ln 0.99 = 5.025 168
    let z = kupiec_pof(250, 0, 0.99).expect("valid");
    assert!((z.lr - 5.025_168).abs() < 1e-5 && z.p_value > 0.0);
    // all exceptions: LR = -2 T ln p = -500 ln 0.01 = 2302.585
    let a = kupiec_pof(250, 250, 0.99).expect("valid");
    assert!((a.lr - 2_302.585_093).abs() < 1e-5 && a.p_value >= 0.0);
}

#[test]
fn edge_cases_are_finite() {
    for exc in [vec![], vec![true], vec![false; 10], vec![true; 10]] {
        let ind = christoffersen_independence(&exc).expect("valid");
        assert!(ind.lr == 0.0 && ind.p_value == 1.0, "{exc:?} {ind:?}");
    }
    let alternating: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
    let ind = christoffersen_independence(&alternating).expect("valid");
    assert!(ind.lr.is_finite() && ind.lr > 0.0);
    assert!(conditional_coverage(&[], 0.99).is_err());
    assert!(kupiec_pof(10, 11, 0.99).is_err());
}

#[test]
fn backtest_counts_strict_exceptions() {
    // losses 0.01, 0.03, 0.02 (= VaR is not an exception), -0.01 against VaR 0.02
    let r = [-0.01, -0.03, -0.02, 0.01];
    let b = backtest(&r, &[0.02; 4], 0.95, NanPolicy::Raise).expect("valid");
    assert_eq!(b.exceptions, vec![false, true, false, false]);
    assert_eq!(
        b.transitions,
        Transitions {
            n00: 1,
            n01: 1,
            n10: 1,
            n11: 0
        }
    );
    assert!((b.conditional_coverage.lr - b.pof.lr - b.independence.lr).abs() < 1e-12);
}

proptest! {
    #[test]
    fn statistics_never_nan(exc in prop::collection::vec(any::<bool>(), 1..200), c in 0.5f64..0.999) {
        let x = exc.iter().filter(|&&e| e).count() as u64;
        let pof = kupiec_pof(exc.len() as u64, x, c).expect("valid");
        let ind = christoffersen_independence(&exc).expect("valid");
        let cc = conditional_coverage(&exc, c).expect("valid");
        for t in [pof, ind, cc] {
            prop_assert!(t.lr.is_finite() && t.lr >= 0.0);
            prop_assert!((0.0..=1.0).contains(&t.p_value));
        }
        prop_assert!((cc.lr - pof.lr - ind.lr).abs() <= 1e-9 * cc.lr.max(1.0));
    }
}

proptest! {
    /// The tally's tests are the slice functions' on the same series, bit for bit (the
    /// reference: `transitions`, `kupiec_pof`, `christoffersen_independence`,
    /// `conditional_coverage` of the whole series).
    #[test]
    fn a_tally_tests_as_its_series(exc in prop::collection::vec(any::<bool>(), 1..300), c in 0.5f64..0.999) {
        let mut t = ExceptionTally::default();
        for &e in &exc {
            t.push(e);
        }
        prop_assert_eq!(t.n_obs, exc.len() as u64);
        prop_assert_eq!(t.n_exceptions, exc.iter().filter(|&&e| e).count() as u64);
        prop_assert_eq!(t.transitions, transitions(&exc));
        let bits = |r: Result<LrTest>| r.map(|t| (t.lr.to_bits(), t.p_value.to_bits()));
        prop_assert_eq!(bits(t.independence()), bits(christoffersen_independence(&exc)));
        prop_assert_eq!(bits(t.conditional_coverage(c)), bits(conditional_coverage(&exc, c)));
    }
}
