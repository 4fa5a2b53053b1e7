use proptest::prelude::*;

use super::*;

/// By hand: 100 -> 120 -> 90 -> 110 -> 130 -> 117.
/// HWM 100, 120, 120, 120, 130, 130; drawdown 0, 0, 90/120-1 = -0.25, 110/120-1, 0, -0.1.
/// Worst -0.25 at bar 2, peak bar 1, recovered at bar 4 (130 >= 120): duration 3 bars.
#[test]
fn golden_curve() {
    let e = [100.0, 120.0, 90.0, 110.0, 130.0, 117.0];
    let r = NanPolicy::Raise;
    assert_eq!(
        high_water_mark(&e, r).expect("hwm"),
        [100.0, 120.0, 120.0, 120.0, 130.0, 130.0]
    );
    let dd = drawdown(&e, r).expect("dd");
    assert_eq!(dd[2], -0.25);
    assert!((dd[5] + 0.1).abs() < 1e-15);
    assert_eq!(drawdown_duration(&e, r).expect("dur"), [0, 0, 1, 2, 0, 1]);
    let m = max_drawdown(&e, r).expect("mdd");
    assert_eq!(
        m,
        MaxDrawdown {
            drawdown: -0.25,
            peak: 1,
            trough: 2,
            recovery: Some(4),
            duration: 3
        }
    );
}

#[test]
fn rising_curve_has_no_drawdown_and_unrecovered_runs_to_the_end() {
    let m = max_drawdown(&[1.0, 2.0, 3.0], NanPolicy::Raise).expect("mdd");
    assert_eq!(
        (m.drawdown, m.peak, m.trough, m.recovery, m.duration),
        (0.0, 0, 0, None, 0)
    );
    let m = max_drawdown(&[1.0, 2.0, 1.0, 0.0], NanPolicy::Raise).expect("mdd");
    assert_eq!(
        (m.drawdown, m.peak, m.trough, m.recovery, m.duration),
        (-1.0, 1, 3, None, 2)
    );
}

#[test]
fn bad_equity_is_named() {
    let r = NanPolicy::Raise;
    let e = drawdown(&[], r).expect_err("empty");
    assert!(e.to_string().starts_with("equity: must hold at least 1"));
    let e = drawdown(&[1.0, -1.0], r).expect_err("negative");
    assert!(e.to_string().starts_with("equity[1]"));
    let e = drawdown(&[0.0, 1.0], r).expect_err("zero start");
    assert!(e.to_string().starts_with("equity[0]"));
    let e = drawdown(&[1.0, f64::NAN], r).expect_err("nan");
    assert!(e.to_string().starts_with("equity[1]"));
    assert_eq!(
        drawdown(&[1.0, f64::NAN, 0.5], NanPolicy::Omit),
        Ok(vec![0.0, -0.5])
    );
}

proptest! {
    /// Drawdown lies in [-1, 0], the HWM never falls and bounds equity, and the max drawdown
    /// is at or below every point and equals the drawdown at its trough.
    #[test]
    fn drawdown_invariants(e in prop::collection::vec(0.0f64..1e9, 1..200), first in 1e-9f64..1e9) {
        let mut e = e;
        e[0] = first;
        let hwm = high_water_mark(&e, NanPolicy::Raise).expect("hwm");
        let dd = drawdown(&e, NanPolicy::Raise).expect("dd");
        let m = max_drawdown(&e, NanPolicy::Raise).expect("mdd");
        for i in 0..e.len() {
            prop_assert!((-1.0..=0.0).contains(&dd[i]));
            prop_assert!(hwm[i] >= e[i]);
            if i > 0 { prop_assert!(hwm[i] >= hwm[i - 1]); }
            prop_assert!(m.drawdown <= dd[i]);
        }
        prop_assert_eq!(m.drawdown, dd[m.trough]);
        prop_assert!(m.peak <= m.trough);
        prop_assert_eq!(hwm[m.trough], e[m.peak]);
    }
}
