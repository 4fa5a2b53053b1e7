use proptest::prelude::*;

use super::*;

fn btc() -> Market {
    Market::new("0.10", "0.001", "0.001", "100").expect("valid market")
}

fn cap(m: &Market, x: f64) -> SizeCap {
    SizeCap::new(m, x).expect("cap")
}

/// DESIGN 'Band' by hand: E = 100,000 USD at 50,000, h = 1.0 in [0.8, 1.2], 5 levels:
/// sell (1.2 - 1.0) x 100,000 / 50,000 / 5 = 0.08 BTC (0.0799999... in floats, on the lot
/// within the snap tolerance) -> 80 lots; buy (1.0 - 0.8) x ... = 0.08 -> 80 lots.
/// Notional 0.08 x 50,000 = 4,000 >= 100. With h = 1.15 the sell is 0.05/0.4 of that: 20 lots.
#[test]
fn golden_level_sizes() {
    let m = btc();
    let s = grid_level_sizes(100_000.0, 50_000.0, 1.0, 0.8, 1.2, 5, cap(&m, 1.0), &m).expect("s");
    assert_eq!((s.sell.lots, s.buy.lots), (80, 80));
    assert_eq!(s.sell.bound_by, SizeBound::HedgeBand);
    let s = grid_level_sizes(100_000.0, 50_000.0, 1.15, 0.8, 1.2, 5, cap(&m, 0.05), &m).expect("s");
    // sell 0.05 x 2 / 5 = 0.02 -> 20 lots; buy 0.35 x 2 / 5 = 0.14 > cap 0.05 -> 50 lots
    assert_eq!((s.sell.lots, s.sell.bound_by), (20, SizeBound::HedgeBand));
    assert_eq!(
        (s.buy.lots, s.buy.bound_by),
        (50, SizeBound::MaxPositionSize)
    );
    // at the top of the band the sell side is empty by the model, not by a minimum
    let s = grid_level_sizes(100_000.0, 50_000.0, 1.2, 0.8, 1.2, 5, cap(&m, 1.0), &m).expect("s");
    assert_eq!((s.sell.lots, s.sell.bound_by), (0, SizeBound::HedgeBand));
    // E = 1,000: 0.2 x 1,000 / 50,000 / 5 = 0.0008 BTC < one lot -> min_qty
    let s = grid_level_sizes(1_000.0, 50_000.0, 1.0, 0.8, 1.2, 5, cap(&m, 1.0), &m).expect("s");
    assert_eq!((s.sell.lots, s.sell.bound_by), (0, SizeBound::MinQty));
    // E = 5,000 -> 0.004 BTC x 50,000 = 200 >= 100 but E = 2,000 -> 0.0016 -> 1 lot: 50 < 100
    let s = grid_level_sizes(2_000.0, 50_000.0, 1.0, 0.8, 1.2, 5, cap(&m, 1.0), &m).expect("s");
    assert_eq!((s.sell.lots, s.sell.bound_by), (0, SizeBound::MinNotional));
}

/// Vol target by hand: 500 USD a bar at 50,000 and 1% a bar: 500 / (50,000 x 0.01) = 1 BTC.
/// VaR budget: z(0.99) = 2.3263478740408408; 10,000 x 0.5 / (2.32634787 x 0.02 x 50,000)
/// = 2.149290 BTC -> 2.149 BTC (2149 lots). Kelly: 0.5 x 0.001 / 0.01^2 = 5 -> capped at 2:
/// 2 x 100,000 / 50,000 = 4 BTC.
#[test]
fn golden_models() {
    let m = btc();
    let s = vol_target_size(50_000.0, 0.01, 500.0, cap(&m, 10.0), &m).expect("vol");
    assert_eq!((s.lots, s.bound_by), (1000, SizeBound::VolTarget));
    let s = vol_target_size(50_000.0, 0.01, 500.0, cap(&m, 0.5), &m).expect("vol");
    assert_eq!((s.lots, s.bound_by), (500, SizeBound::MaxPositionSize));
    let p = VarBudget {
        sigma: 0.02,
        var_limit: 10_000.0,
        share: 0.5,
        confidence: 0.99,
        horizon: 1.0,
        mean: 0.0,
    };
    let s = var_budget_size(p, 50_000.0, cap(&m, 10.0), &m).expect("var");
    assert_eq!((s.lots, s.bound_by), (2149, SizeBound::VarBudget));
    // a drift beating the quantile sets no VaR bound: the cap decides
    let s = var_budget_size(VarBudget { mean: 1.0, ..p }, 50_000.0, cap(&m, 3.0), &m).expect("v");
    assert_eq!(
        (s.lots, s.bound_by, s.raw_amount),
        (3000, SizeBound::MaxPositionSize, f64::INFINITY)
    );
    let s = kelly_size(
        50_000.0,
        0.001,
        0.01,
        100_000.0,
        0.5,
        2.0,
        cap(&m, 10.0),
        &m,
    )
    .expect("k");
    assert_eq!((s.lots, s.bound_by), (4000, SizeBound::KellyCap));
    let s = kelly_size(
        50_000.0,
        -0.001,
        0.01,
        100_000.0,
        0.5,
        2.0,
        cap(&m, 10.0),
        &m,
    )
    .expect("k");
    assert_eq!((s.lots, s.bound_by), (0, SizeBound::Kelly));
    assert!((normal_quantile(0.99).expect("z") - 2.3263478740408408).abs() < 1e-12);
}

#[test]
fn bad_inputs_are_named() {
    let m = btc();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => what,
    };
    assert_eq!(
        field(SizeCap::new(&m, -1.0).expect_err("neg")),
        "max_position_size"
    );
    assert_eq!(
        field(SizeCap::exact(&m, Decimal::NEGATIVE_ONE).expect_err("neg")),
        "max_position_size"
    );
    assert_eq!(
        field(SizeCap::new(&m, 1e300).expect_err("big")),
        "max_position_size"
    );
    let c = cap(&m, 1.0);
    assert_eq!(
        field(vol_target_size(0.0, 0.01, 1.0, c, &m).expect_err("p")),
        "price"
    );
    assert_eq!(
        field(vol_target_size(1.0, 0.0, 1.0, c, &m).expect_err("s")),
        "sigma"
    );
    assert_eq!(
        field(vol_target_size(1.0, 0.1, f64::NAN, c, &m).expect_err("t")),
        "target_vol"
    );
    let p = VarBudget {
        sigma: 0.02,
        var_limit: 1.0,
        share: 1.0,
        confidence: 0.95,
        horizon: 1.0,
        mean: 0.0,
    };
    assert_eq!(
        field(
            var_budget_size(
                VarBudget {
                    confidence: 1.0,
                    ..p
                },
                1.0,
                c,
                &m
            )
            .expect_err("c")
        ),
        "confidence"
    );
    assert_eq!(
        field(var_budget_size(VarBudget { share: 1.5, ..p }, 1.0, c, &m).expect_err("s")),
        "share"
    );
    assert_eq!(
        field(
            var_budget_size(
                VarBudget {
                    var_limit: -1.0,
                    ..p
                },
                1.0,
                c,
                &m
            )
            .expect_err("v")
        ),
        "var_limit"
    );
    assert_eq!(
        field(var_budget_size(VarBudget { horizon: 0.0, ..p }, 1.0, c, &m).expect_err("h")),
        "horizon"
    );
    assert_eq!(
        field(kelly_size(1.0, 0.1, 0.1, 1.0, 0.0, 1.0, c, &m).expect_err("f")),
        "fraction"
    );
    assert_eq!(
        field(kelly_size(1.0, 0.1, 0.1, 1.0, 0.5, -1.0, c, &m).expect_err("f")),
        "max_fraction"
    );
    assert_eq!(
        field(grid_level_sizes(1.0, 1.0, 1.3, 0.8, 1.2, 5, c, &m).expect_err("h")),
        "hedge_ratio"
    );
    assert_eq!(
        field(grid_level_sizes(1.0, 1.0, 1.0, 1.2, 0.8, 5, c, &m).expect_err("h")),
        "hedge_ratio_max"
    );
    assert_eq!(
        field(grid_level_sizes(1.0, 1.0, 1.0, 0.8, 1.2, 0, c, &m).expect_err("n")),
        "num_levels"
    );
    assert_eq!(
        field(grid_level_sizes(-1.0, 1.0, 1.0, 0.8, 1.2, 5, c, &m).expect_err("e")),
        "exposure"
    );
}

fn check_size(
    s: Size,
    cap: SizeCap,
    m: &Market,
    price: f64,
) -> std::result::Result<(), TestCaseError> {
    prop_assert!(s.lots >= 0 && s.lots <= cap.lots());
    // never above the model's amount (beyond the documented ~1e-14 snap tolerance)
    prop_assert!(m.lots_to_f64(s.lots) <= s.raw_amount * (1.0 + 1e-13));
    if s.lots > 0 {
        let ticks = m.price_to_ticks(price, Side::Buy).expect("ticks");
        prop_assert!(m.meets_minimums(ticks, s.lots));
    }
    Ok(())
}

proptest! {
    /// Every sizer stays within the cap and the model amount, in whole lots, and a non-zero
    /// size meets the market minimums.
    #[test]
    fn sizes_never_exceed_any_cap(
        price in 1.0f64..200_000.0,
        sigma in 1e-4f64..0.2,
        budget in 0.0f64..1e6,
        cap_amount in 0.0f64..100.0,
        h in 0.0f64..1.0,
        levels in 1usize..50,
        conf in 0.5f64..0.999,
        mu in -0.01f64..0.01,
    ) {
        let m = btc();
        let c = cap(&m, cap_amount);
        check_size(vol_target_size(price, sigma, budget, c, &m).expect("vol"), c, &m, price)?;
        let p = VarBudget { sigma, var_limit: budget, share: 0.7, confidence: conf, horizon: 4.0, mean: mu };
        check_size(var_budget_size(p, price, c, &m).expect("var"), c, &m, price)?;
        let k = kelly_size(price, mu, sigma, budget, 0.5, 3.0, c, &m).expect("kelly");
        check_size(k, c, &m, price)?;
        let g = grid_level_sizes(budget, price, 0.5 + h * 0.5, 0.5, 1.0, levels, c, &m).expect("grid");
        check_size(g.sell, c, &m, price)?;
        check_size(g.buy, c, &m, price)?;
    }
}
