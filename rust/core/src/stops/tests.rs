use proptest::prelude::*;

use super::*;

fn btc() -> Market {
    Market::new("0.10", "0.001", "0.001", "100").expect("valid market")
}

/// By hand, tick 0.10: a long at 95,236.15 with a 4% stop: 95,236.15 x 0.96 = 91,426.704 ->
/// sell stop rounds up to 91,426.8 (triggers a touch earlier, never later). A short:
/// 95,236.15 x 1.04 = 99,045.596 -> buy stop rounds down to 99,045.5.
#[test]
fn golden_fixed_stops_snap_on_the_safe_side() {
    let m = btc();
    let s = stop_at(95_236.15, 0.04, PositionSide::Long, &m).expect("long");
    assert_eq!(m.ticks_to_price(s.ticks).to_string(), "91426.8");
    assert!((s.level - 91_426.704).abs() < 1e-9);
    let s = stop_at(95_236.15, 0.04, PositionSide::Short, &m).expect("short");
    assert_eq!(m.ticks_to_price(s.ticks).to_string(), "99045.5");
}

/// Vol scaling by hand: 4% x clip(0.03 / 0.02 = 1.5, 0.5, 2) = 6%: 100,000 x 0.94 = 94,000.
/// A calm 0.005 / 0.02 = 0.25 clips to 0.5: 2%, 98,000. ATR: 100,000 - 2.5 x 1,234.56 =
/// 96,913.6 exactly on the tick.
#[test]
fn golden_scaled_and_atr_stops() {
    let m = btc();
    let long = PositionSide::Long;
    assert_eq!(stop_scale(0.03, 0.02, 0.5, 2.0), Ok(1.5));
    let s = vol_scaled_stop(100_000.0, 0.04, 0.03, 0.02, 0.5, 2.0, long, &m).expect("vol");
    assert_eq!(m.ticks_to_price(s.ticks).to_string(), "94000.0");
    let s = vol_scaled_stop(100_000.0, 0.04, 0.005, 0.02, 0.5, 2.0, long, &m).expect("vol");
    assert_eq!(m.ticks_to_price(s.ticks).to_string(), "98000.0");
    let s = atr_stop(100_000.0, 1_234.56, 2.5, long, &m).expect("atr");
    assert_eq!(m.ticks_to_price(s.ticks).to_string(), "96913.6");
    let e = vol_scaled_stop(100.0, 0.6, 0.04, 0.02, 0.5, 2.0, long, &m).expect_err("too wide");
    assert!(e.to_string().starts_with("stop_loss_pct"));
}

/// Trailing 10% on closes 100, 110, 105, 120, 90 for a long: candidates 90, 99, 94.5, 108,
/// 81 -> stop 90, 99, 99, 108, 108. For a short: 110, 121, 115.5, 132, 99 -> 110, 110, 110,
/// 110, 99.
#[test]
fn golden_trailing_stop() {
    let m = Market::new("0.5", "1", "0", "0").expect("market");
    let p = [100.0, 110.0, 105.0, 120.0, 90.0];
    let t = trailing_stop(&p, PositionSide::Long, Trail::Pct(0.1), &m).expect("long");
    let prices: Vec<f64> = t.ticks.iter().map(|&k| m.ticks_to_f64(k)).collect();
    assert_eq!(prices, [90.0, 99.0, 99.0, 108.0, 108.0]);
    let t = trailing_stop(&p, PositionSide::Short, Trail::Pct(0.1), &m).expect("short");
    let prices: Vec<f64> = t.ticks.iter().map(|&k| m.ticks_to_f64(k)).collect();
    // 115.5 rounds down to 115.5 (on the tick); 99 is on the tick
    assert_eq!(prices, [110.0, 110.0, 110.0, 110.0, 99.0]);
}

#[test]
fn bad_inputs_are_named() {
    let m = btc();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => what,
    };
    let long = PositionSide::Long;
    assert_eq!(
        field(PositionSide::from_str("up").expect_err("side")),
        "side"
    );
    assert_eq!(
        field(stop_scale(0.0, 1.0, 0.5, 2.0).expect_err("s")),
        "sigma"
    );
    assert_eq!(
        field(stop_scale(1.0, 1.0, 0.5, 0.4).expect_err("s")),
        "max_scale"
    );
    assert_eq!(
        field(stop_at(100.0, 1.0, long, &m).expect_err("pct")),
        "distance_pct"
    );
    assert_eq!(
        field(atr_stop(100.0, 50.0, 2.0, long, &m).expect_err("atr")),
        "atr"
    );
    assert_eq!(
        field(atr_stop(100.0, -1.0, 2.0, long, &m).expect_err("atr")),
        "atr"
    );
    assert_eq!(
        field(trailing_stop(&[], long, Trail::Pct(0.1), &m).expect_err("e")),
        "prices"
    );
    let atr = [1.0];
    let e = trailing_stop(
        &[1.0, 2.0],
        long,
        Trail::Atr {
            atr: &atr,
            multiple: 1.0,
        },
        &m,
    );
    assert_eq!(field(e.expect_err("len")), "atr");
    let e = trailing_stop(&[1.0, f64::NAN], long, Trail::Pct(0.1), &m);
    assert_eq!(field(e.expect_err("nan")), "prices[1]");
    let e = stop_at(0.01, 0.1, PositionSide::Short, &m).expect_err("below a tick");
    assert_eq!(field(e), "stop level");
}

/// Relative float-noise tolerance of the snap (64 ulps).
const TOL: f64 = 64.0 * f64::EPSILON;

proptest! {
    /// Snapped stops sit on the safe side of the unsnapped level (within the on-tick
    /// tolerance) and less than one tick from it.
    #[test]
    fn stops_are_on_the_safe_side(price in 1.0f64..1e6, pct in 1e-4f64..0.9, short in any::<bool>()) {
        let m = btc();
        let side = if short { PositionSide::Short } else { PositionSide::Long };
        let s = stop_at(price, pct, side, &m).expect("stop");
        let snapped = m.ticks_to_f64(s.ticks);
        let slack = TOL * s.level + 1e-9;
        match side {
            PositionSide::Long => prop_assert!(snapped >= s.level - slack && snapped < s.level + 0.1 + slack),
            PositionSide::Short => prop_assert!(snapped <= s.level + slack && snapped > s.level - 0.1 - slack),
        }
    }

    /// A trailing stop only moves in the safe direction, in levels and in ticks, and each
    /// snapped price is on the safe side of its level.
    #[test]
    fn trailing_stop_is_monotone(
        steps in prop::collection::vec(-0.05f64..0.05, 1..200),
        pct in 0.001f64..0.5,
        atr_mult in prop::option::of(0.1f64..3.0),
        short in any::<bool>(),
    ) {
        let m = btc();
        let mut p = 50_000.0;
        let prices: Vec<f64> = steps.iter().map(|r| { p *= 1.0 + r; p }).collect();
        let atr: Vec<f64> = prices.iter().map(|x| x * 0.01).collect();
        let side = if short { PositionSide::Short } else { PositionSide::Long };
        let trail = match atr_mult {
            Some(k) => Trail::Atr { atr: &atr, multiple: k },
            None => Trail::Pct(pct),
        };
        let t = trailing_stop(&prices, side, trail, &m).expect("trail");
        prop_assert_eq!(t.levels.len(), prices.len());
        for i in 1..prices.len() {
            match side {
                PositionSide::Long => {
                    prop_assert!(t.levels[i] >= t.levels[i - 1] && t.ticks[i] >= t.ticks[i - 1]);
                }
                PositionSide::Short => {
                    prop_assert!(t.levels[i] <= t.levels[i - 1] && t.ticks[i] <= t.ticks[i - 1]);
                }
            }
        }
        for (l, &k) in t.levels.iter().zip(&t.ticks) {
            let snapped = m.ticks_to_f64(k);
            let slack = TOL * l + 1e-9;
            match side {
                PositionSide::Long => prop_assert!(snapped >= l - slack),
                PositionSide::Short => prop_assert!(snapped <= l + slack),
            }
        }
    }
}
