use proptest::prelude::*;

use super::*;
use crate::error::Error;

const RAISE: NanPolicy = NanPolicy::Raise;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn field_of(e: &Error) -> &str {
    match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => what,
    }
}

/// Naive O(n w) sample std of every window, for the rolling checks.
fn naive_rolling_std(x: &[f64], w: usize) -> Vec<f64> {
    x.windows(w)
        .map(|win| {
            let m = win.iter().sum::<f64>() / w as f64;
            (win.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (w as f64 - 1.0)).sqrt()
        })
        .collect()
}

/// By hand: returns 1, 2, 3, 4 (any unit): mean 2.5, squared deviations 2.25 + 0.25 + 0.25 +
/// 2.25 = 5, sample variance 5/3, std sqrt(5/3) = 1.2909944487358056.
#[test]
fn golden_close_to_close() {
    let v = close_to_close(&[1.0, 2.0, 3.0, 4.0], RAISE).expect("vol");
    assert!(close(v, (5.0f64 / 3.0).sqrt(), 1e-15));
    let r = close_to_close_rolling(&[1.0, 2.0, 3.0, 5.0], 2, RAISE).expect("rolling");
    // pairs (1,2), (2,3), (3,5): std of two values a, b is |a - b| / sqrt(2)
    let s2 = 2f64.sqrt();
    assert_eq!(r.len(), 3);
    assert!(close(r[0], 1.0 / s2, 1e-15) && close(r[1], 1.0 / s2, 1e-15));
    assert!(close(r[2], 2.0 / s2, 1e-15));
}

/// By hand, lambda = 0.5: r = 2, 0, 4 -> s2 = 4, 0.5*4 + 0.5*0 = 2, 0.5*2 + 0.5*16 = 9
/// -> vol 2, sqrt(2), 3 (the seed is the first squared return, as pandas adjust=False).
#[test]
fn golden_ewma() {
    let s = ewma_series(&[2.0, 0.0, 4.0], 0.5, RAISE).expect("ewma");
    assert!(close(s[0], 2.0, 1e-15) && close(s[1], 2f64.sqrt(), 1e-15));
    assert!(close(s[2], 3.0, 1e-15));
    assert_eq!(ewma(&[2.0, 0.0, 4.0], 0.5, RAISE), Ok(s[2]));
}

/// The golden series scaled by powers of ten far beyond where squares under/overflow: the
/// volatility scales exactly with the returns (the recursion runs on rescaled values).
#[test]
fn ewma_is_scale_free_at_the_ends_of_the_float_range() {
    for k in [1e-160, 1e-300, 1e160, 1e300] {
        let s = ewma_series(&[2.0 * k, 0.0, 4.0 * k], 0.5, RAISE).expect("ewma");
        assert!(close(s[1], 2f64.sqrt() * k, 1e-14), "{k}: {s:?}");
        assert!(close(s[2], 3.0 * k, 1e-14), "{k}: {s:?}");
    }
    assert_eq!(ewma(&[0.0, 0.0], 0.9, RAISE), Ok(0.0));
    assert!(ewma(&[f64::MIN_POSITIVE * 1e-10, 0.0], 0.5, RAISE).expect("subnormal") > 0.0);
}

/// One candle with O = 100, H = 100 e^0.02, L = 100 e^-0.01, C = 100 e^0.01, so
/// ln(H/L) = 0.03, ln(C/O) = 0.01, ln(H/C) = 0.01, ln(H/O) = 0.02, ln(L/C) = -0.02,
/// ln(L/O) = -0.01. Worked by hand from the published formulas:
/// - Parkinson (1980): 0.03^2 / (4 ln 2) = 0.0009 / 2.772588722239781 = 3.2460638e-4;
/// - Garman-Klass (1980): 0.5 * 0.0009 - (2 ln 2 - 1) * 0.0001 = 0.00045 - 0.0000386294361
///   = 4.11370564e-4;
/// - Rogers-Satchell (1991): 0.01 * 0.02 + (-0.02)(-0.01) = 0.0004.
#[test]
fn golden_range_estimators_one_candle() {
    let (o, h, l, c) = (
        [100.0],
        [100.0 * 0.02f64.exp()],
        [100.0 * (-0.01f64).exp()],
        [100.0 * 0.01f64.exp()],
    );
    let pk = parkinson(&h, &l, RAISE).expect("pk");
    assert!(close(pk * pk, 0.0009 / (4.0 * 2f64.ln()), 1e-12));
    assert!(((pk * pk) / 3.246_063_8e-4 - 1.0).abs() < 1e-7);
    let gk = garman_klass(&o, &h, &l, &c, RAISE).expect("gk");
    assert!(((gk * gk) / 4.113_705_64e-4 - 1.0).abs() < 1e-8);
    let rs = rogers_satchell(&o, &h, &l, &c, RAISE).expect("rs");
    assert!(close(rs * rs, 0.0004, 1e-12));
}

/// Yang-Zhang by hand on 3 candles (2 periods), closes and opens chosen on e^x:
/// candle 0: C = 1; candle 1: O = e^0.01, H = e^0.03, L = e^0.0, C = e^0.02;
/// candle 2: O = e^0.02, H = e^0.02, L = e^-0.02, C = e^-0.01.
/// Opening jumps: 0.01 - 0 = 0.01, 0.02 - 0.02 = 0 -> sample variance (0.005^2 * 2) / 1 = 5e-5.
/// Open-to-close: 0.01, -0.03 -> mean -0.01, variance (0.02^2 + 0.02^2) / 1 = 8e-4.
/// RS: period 1: (0.03-0.02)(0.03-0.01) + (0-0.02)(0-0.01) = 0.0002 + 0.0002 = 4e-4;
///     period 2: (0.02+0.01)(0.02-0.02) + (-0.02+0.01)(-0.02-0.02) = 0 + 4e-4 = 4e-4; mean 4e-4.
/// k = 0.34 / (1.34 + 3/1) = 0.34 / 4.34. sigma^2 = 5e-5 + k 8e-4 + (1-k) 4e-4.
#[test]
fn golden_yang_zhang() {
    let e = |x: f64| x.exp();
    let open = [1.0, e(0.01), e(0.02)];
    let high = [1.0, e(0.03), e(0.02)];
    let low = [1.0, e(0.0), e(-0.02)];
    let close_ = [1.0, e(0.02), e(-0.01)];
    let k = 0.34 / 4.34;
    let expected = 5e-5 + k * 8e-4 + (1.0 - k) * 4e-4;
    let v = yang_zhang(&open, &high, &low, &close_, RAISE).expect("yz");
    assert!(close(v * v, expected, 1e-10), "{} vs {expected}", v * v);
    let r = yang_zhang_rolling(&open, &high, &low, &close_, 2, RAISE).expect("rolling");
    assert_eq!(r.len(), 1);
    assert!(close(r[0], v, 1e-12));
}

/// ATR by hand, window 2: candles (H, L, C) = (10, 8, 9), (11, 9, 10), (12, 10, 11),
/// (10, 7, 8): TR1 = max(2, |11-9|, |9-9|) = 2, TR2 = max(2, 2, 0) = 2, TR3 = max(3, 1, 4) = 4.
/// ATR = mean(2, 2) = 2, then 2 + (4 - 2)/2 = 3.
#[test]
fn golden_atr() {
    let h = [10.0, 11.0, 12.0, 10.0];
    let l = [8.0, 9.0, 10.0, 7.0];
    let c = [9.0, 10.0, 11.0, 8.0];
    assert_eq!(atr_series(&h, &l, &c, 2, RAISE), Ok(vec![2.0, 3.0]));
    assert_eq!(atr(&h, &l, &c, 2, RAISE), Ok(3.0));
}

#[test]
fn bad_inputs_name_field_value_and_rule() {
    let e = close_to_close(&[1.0], RAISE).expect_err("too short");
    assert_eq!(field_of(&e), "returns");
    let e = close_to_close(&[1.0, f64::NAN, 2.0], RAISE).expect_err("nan");
    assert_eq!(field_of(&e), "returns[1]");
    assert!(close_to_close(&[1.0, f64::NAN, 2.0], NanPolicy::Omit).is_ok());
    let e = close_to_close_rolling(&[1.0, 2.0, 3.0], 4, RAISE).expect_err("window");
    assert_eq!(
        e.to_string(),
        "window: must be <= the series length (3) (got 4)"
    );
    let e = ewma(&[1.0], 1.0, RAISE).expect_err("lam");
    assert_eq!(field_of(&e), "lam");
    let e = parkinson(&[2.0, 3.0], &[1.0], RAISE).expect_err("length");
    assert_eq!(field_of(&e), "low");
    let e = parkinson(&[2.0, 3.0], &[1.0, 4.0], RAISE).expect_err("low > high");
    assert_eq!(
        e.to_string(),
        "low[1]: must be <= high[1] (3) (got 4)".to_string()
    );
    let e = garman_klass(&[5.0], &[3.0], &[1.0], &[2.0], RAISE).expect_err("open > high");
    assert_eq!(field_of(&e), "open[0]");
    let e = parkinson(&[2.0, -3.0], &[1.0, -4.0], RAISE).expect_err("negative");
    assert_eq!(field_of(&e), "high[1]");
    let e = yang_zhang(&[1.0; 2], &[1.0; 2], &[1.0; 2], &[1.0; 2], RAISE).expect_err("short");
    assert_eq!(field_of(&e), "high");
    let e = atr_series(&[2.0; 5], &[1.0; 5], &[1.5; 5], 5, RAISE).expect_err("window");
    assert!(e.to_string().contains("true ranges (candles - 1) (4)"));
    let e = parkinson(&[2.0, f64::INFINITY], &[1.0, 1.0], RAISE).expect_err("inf");
    assert_eq!(field_of(&e), "high[1]");
    let v = parkinson(&[2.0, f64::INFINITY], &[1.0, 1.0], NanPolicy::Omit).expect("omit");
    assert!(close(v, 2f64.ln() / (4.0 * 2f64.ln()).sqrt(), 1e-15));
}

fn returns_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-0.2f64..0.2, 2..200)
}

/// Random consistent candles: a random walk close, open near the previous close, high/low
/// beyond both.
fn candles_strategy() -> impl Strategy<Value = [Vec<f64>; 4]> {
    prop::collection::vec(
        (-0.05f64..0.05, -0.01f64..0.01, 0f64..0.03, 0f64..0.03),
        3..150,
    )
    .prop_map(|steps| {
        let (mut o, mut h, mut l, mut c) = (vec![], vec![], vec![], vec![]);
        let mut prev = 100.0f64;
        for (ret, gap, up, down) in steps {
            let open = prev * gap.exp();
            let cl = open * ret.exp();
            o.push(open);
            c.push(cl);
            h.push(open.max(cl) * up.exp());
            l.push(open.min(cl) * (-down).exp());
            prev = cl;
        }
        [o, h, l, c]
    })
}

proptest! {
    #[test]
    fn close_to_close_is_scale_equivariant(r in returns_strategy(), k in -50f64..50.0) {
        prop_assume!(k.abs() > 1e-3);
        let v = close_to_close(&r, RAISE).expect("vol");
        let scaled: Vec<f64> = r.iter().map(|x| k * x).collect();
        let vk = close_to_close(&scaled, RAISE).expect("vol");
        prop_assert!(v >= 0.0);
        prop_assert!(close(vk, k.abs() * v, 1e-12));
    }

    #[test]
    fn rolling_std_matches_naive_recomputation(r in returns_strategy(), w in 2usize..40) {
        prop_assume!(w <= r.len());
        let fast = close_to_close_rolling(&r, w, RAISE).expect("rolling");
        let slow = naive_rolling_std(&r, w);
        prop_assert_eq!(fast.len(), slow.len());
        for (a, b) in fast.iter().zip(&slow) {
            prop_assert!((a - b).abs() <= 1e-12, "{} vs {}", a, b);
        }
        let last = close_to_close(&r[r.len() - w..], RAISE).expect("vol");
        prop_assert!((fast[fast.len() - 1] - last).abs() <= 1e-12);
    }

    #[test]
    fn ewma_matches_plain_recursion_and_scales(
        r in prop::collection::vec(-0.2f64..0.2, 1..300),
        lam in 0.01f64..0.999,
        k in 0.01f64..100.0,
    ) {
        let s = ewma_series(&r, lam, RAISE).expect("ewma");
        let mut v = r[0] * r[0];
        for (i, x) in r.iter().enumerate() {
            if i > 0 {
                v = lam * v + (1.0 - lam) * x * x;
            }
            prop_assert!(s[i] >= 0.0);
            prop_assert!(close(s[i], v.sqrt(), 1e-13), "{} vs {}", s[i], v.sqrt());
        }
        let scaled: Vec<f64> = r.iter().map(|x| -k * x).collect();
        let sk = ewma(&scaled, lam, RAISE).expect("ewma");
        prop_assert!(close(sk, k * s[s.len() - 1], 1e-12));
    }

    #[test]
    fn range_estimators_are_nonnegative_and_price_scale_invariant(
        [o, h, l, c] in candles_strategy(),
        k in 0.001f64..1000.0,
        w in 2usize..20,
    ) {
        let sc = |x: &[f64]| x.iter().map(|v| v * k).collect::<Vec<f64>>();
        let (ok, hk, lk, ck) = (sc(&o), sc(&h), sc(&l), sc(&c));
        let pairs = [
            (parkinson(&h, &l, RAISE), parkinson(&hk, &lk, RAISE)),
            (garman_klass(&o, &h, &l, &c, RAISE), garman_klass(&ok, &hk, &lk, &ck, RAISE)),
            (rogers_satchell(&o, &h, &l, &c, RAISE), rogers_satchell(&ok, &hk, &lk, &ck, RAISE)),
            (yang_zhang(&o, &h, &l, &c, RAISE), yang_zhang(&ok, &hk, &lk, &ck, RAISE)),
        ];
        for (a, b) in pairs {
            let (a, b) = (a.expect("vol"), b.expect("vol"));
            prop_assert!(a >= 0.0 && a.is_finite());
            prop_assert!(close(a, b, 1e-9), "{} vs {}", a, b);
        }
        // ATR is in price units: it scales with the prices
        let a = atr(&h, &l, &c, 1.max(w.min(h.len() - 1)), RAISE).expect("atr");
        let ak = atr(&hk, &lk, &ck, 1.max(w.min(h.len() - 1)), RAISE).expect("atr");
        prop_assert!(close(ak, k * a, 1e-9));
    }

    #[test]
    fn rolling_range_estimators_end_with_the_last_window(
        [o, h, l, c] in candles_strategy(),
        w in 2usize..30,
    ) {
        let n = h.len();
        prop_assume!(w < n);
        let tail = |x: &[f64], m: usize| x[n - m..].to_vec();
        let last = |v: Vec<f64>| v[v.len() - 1];
        let pk = last(parkinson_rolling(&h, &l, w, RAISE).expect("pk"));
        let pk1 = parkinson(&tail(&h, w), &tail(&l, w), RAISE).expect("pk");
        prop_assert!(close(pk, pk1, 1e-12));
        let gk = last(garman_klass_rolling(&o, &h, &l, &c, w, RAISE).expect("gk"));
        let gk1 = garman_klass(&tail(&o, w), &tail(&h, w), &tail(&l, w), &tail(&c, w), RAISE)
            .expect("gk");
        prop_assert!(close(gk, gk1, 1e-12));
        let rs = last(rogers_satchell_rolling(&o, &h, &l, &c, w, RAISE).expect("rs"));
        let rs1 = rogers_satchell(&tail(&o, w), &tail(&h, w), &tail(&l, w), &tail(&c, w), RAISE)
            .expect("rs");
        prop_assert!(close(rs, rs1, 1e-12));
        // Yang-Zhang: w periods need the w + 1 last candles
        let m = w + 1;
        let yz = yang_zhang_rolling(&o, &h, &l, &c, w, RAISE).expect("yz");
        prop_assert_eq!(yz.len(), n - w);
        let yz1 = yang_zhang(&tail(&o, m), &tail(&h, m), &tail(&l, m), &tail(&c, m), RAISE)
            .expect("yz");
        prop_assert!(close(yz[yz.len() - 1], yz1, 1e-10));
        let first = yang_zhang(&o[..m], &h[..m], &l[..m], &c[..m], RAISE).expect("yz");
        prop_assert!(close(yz[0], first, 1e-10));
    }
}

#[test]
fn rolling_stays_accurate_on_a_long_series() {
    // a long series with a large offset: the periodic exact recomputation bounds the drift
    let x: Vec<f64> = (0..200_000)
        .map(|i| 1e3 + ((i * 7919) % 1000) as f64 * 1e-3)
        .collect();
    let w = 50;
    let fast = close_to_close_rolling(&x, w, RAISE).expect("rolling");
    let slow = naive_rolling_std(&x[x.len() - 3 * w..], w);
    for (a, b) in fast[fast.len() - slow.len()..].iter().zip(&slow) {
        assert!((a - b).abs() <= 1e-9 * b.max(1e-3), "{a} vs {b}");
    }
}

#[test]
fn identical_values_give_exactly_zero() {
    let x = [0.0, 0.25, 0.25, 0.25, 0.1, 0.1, 0.1, 0.1];
    let r = close_to_close_rolling(&x, 3, RAISE).expect("rolling");
    assert_eq!(r[1], 0.0);
    assert!(r[2] > 0.0);
    assert_eq!(r[5], 0.0);
    assert_eq!(close_to_close(&[0.066_835_64; 5], RAISE), Ok(0.0));
}

#[test]
fn power_of_two_scale_bounds() {
    assert_eq!(super::power_of_two_scale(&[0.01, -0.3]), None);
    assert_eq!(super::power_of_two_scale(&[0.0; 3]), None);
    let (down, up) = super::power_of_two_scale(&[1e-130, 0.0, -3e-131]).expect("tiny");
    assert!(down * up == 1.0 && (1e-130 * down) >= 1.0 && (1e-130 * down) < 2.0);
    let (down, _) = super::power_of_two_scale(&[1e300, 5.0]).expect("huge");
    assert!((1e300 * down) >= 1.0 && (1e300 * down) < 2.0);
}
