use proptest::prelude::*;

use super::*;

fn btc() -> Market {
    Market::new("0.10", "0.001", "0.001", "100").expect("valid market")
}

fn params(
    spacing: f64,
    num_levels: usize,
    min_price_distance: f64,
    mode: GridMode,
    amount: f64,
) -> GridParams {
    GridParams {
        spacing,
        num_levels,
        min_price_distance,
        mode,
        amount_per_level: amount,
    }
}

fn prices(m: &Market, levels: &[Level]) -> Vec<String> {
    levels
        .iter()
        .map(|l| m.ticks_to_price(l.price_ticks).to_string())
        .collect()
}

/// Golden values worked by hand, the README's default grid:
/// c = 95236.15, s = 1%, tick 0.10, 0.01 BTC a level.
/// sell 1 = 95236.15 x 1.01 = 95236.15 + 952.3615 = 96188.5115 -> up to the tick: 96188.6
/// sell 2 = 96188.5115 x 1.01 = 96188.5115 + 961.885115 = 97150.396615 -> 97150.4
/// sell 3 = 97150.396615 x 1.01 = 98121.90058115 -> 98122.0
/// buy 1 = 95236.15 / 1.01: 1.01 x 94293.2 = 95236.132 <= 95236.15 < 95236.233 = 1.01 x 94293.3
///         -> down to the tick: 94293.2
/// buy 2 = 94293.2178.. / 1.01: 1.01 x 93359.6 = 94293.196 <= 94293.2178 < 94293.297 -> 93359.6
#[test]
fn golden_default_grid() {
    let m = btc();
    let plan = GridPlan::new(params(0.01, 5, 0.0, GridMode::Geometric, 0.01), &m).expect("valid");
    let g = plan.levels(95236.15).expect("grid");
    assert_eq!(
        prices(&m, &g.sells),
        ["96188.6", "97150.4", "98122.0", "99103.2", "100094.2"]
    );
    assert_eq!(
        prices(&m, &g.buys),
        ["94293.2", "93359.6", "92435.2", "91520.0", "90613.9"]
    );
    assert!(g.iter().all(|(_, l)| l.amount_lots == 10));
    assert_eq!(g.counts, GridCounts::default());
}

/// Arithmetic, by hand: c = 100, s = 10%, tick 1: sells 110, 120, 130; buys 90, 80, 70.
#[test]
fn golden_arithmetic() {
    let m = Market::new("1", "1", "0", "0").expect("valid");
    let g = GridPlan::new(params(0.1, 3, 0.0, GridMode::Arithmetic, 1.0), &m)
        .expect("valid")
        .levels(100.0)
        .expect("grid");
    assert_eq!(prices(&m, &g.sells), ["110", "120", "130"]);
    assert_eq!(prices(&m, &g.buys), ["90", "80", "70"]);
}

/// Arithmetic buys at or below zero are dropped: c = 100, s = 40%: buys 60, 20, (-20 dropped).
#[test]
fn nonpositive_buys_are_dropped_and_counted() {
    let m = Market::new("1", "1", "0", "0").expect("valid");
    let g = GridPlan::new(params(0.4, 3, 0.0, GridMode::Arithmetic, 1.0), &m)
        .expect("valid")
        .levels(100.0)
        .expect("grid");
    assert_eq!(prices(&m, &g.buys), ["60", "20"]);
    assert_eq!(g.counts.dropped_nonpositive, 1);
}

/// c = 100, s = 0.1%, tick 1: exact sells 100.1, 100.2, 100.3 all snap up to 101, so they
/// merge into one level carrying three amounts; buys 99.9.., 99.8.., 99.7.. snap to 99.
#[test]
fn duplicates_after_snapping_merge_and_keep_their_amount() {
    let m = Market::new("1", "1", "0", "0").expect("valid");
    let g = GridPlan::new(params(0.001, 3, 0.0, GridMode::Geometric, 2.0), &m)
        .expect("valid")
        .levels(100.0)
        .expect("grid");
    assert_eq!(prices(&m, &g.sells), ["101"]);
    assert_eq!(prices(&m, &g.buys), ["99"]);
    assert_eq!(g.sells[0].amount_lots, 6);
    assert_eq!(g.buys[0].amount_lots, 6);
    assert_eq!(g.counts.merged, 4);
}

/// c = 1000, arithmetic 1%, tick 1, min distance 25: sells 1010, 1020 (merged, gap 10),
/// 1030 (merged, gap 20), 1040, 1050 (merged) -> 1010 (3 amounts), 1040 (2); buys likewise
/// 990 (3), 960 (2). Across the center 1010 - 990 = 20 < 25 and both are 10 from the center:
/// on the tie the sell yields, merging into 1040, which then carries 5.
#[test]
fn min_distance_merges_outward_levels_into_the_inner_one() {
    let m = Market::new("1", "1", "0", "0").expect("valid");
    let g = GridPlan::new(params(0.01, 5, 25.0, GridMode::Arithmetic, 1.0), &m)
        .expect("valid")
        .levels(1000.0)
        .expect("grid");
    assert_eq!(prices(&m, &g.sells), ["1040"]);
    assert_eq!(prices(&m, &g.buys), ["990", "960"]);
    assert_eq!(g.sells[0].amount_lots, 5);
    assert_eq!((g.buys[0].amount_lots, g.buys[1].amount_lots), (3, 2));
    assert_eq!(g.counts.merged, 7);
}

/// c = 100, s = 1%, tick 1, min distance 5: the innermost buy (99) and sell (101) are 2
/// apart; the sell is merged outward first (tie), then the buy: both sides start farther out.
#[test]
fn innermost_levels_too_close_across_the_center_merge_outward() {
    let m = Market::new("1", "1", "0", "0").expect("valid");
    let g = GridPlan::new(params(0.01, 12, 5.0, GridMode::Arithmetic, 1.0), &m)
        .expect("valid")
        .levels(100.0)
        .expect("grid");
    let (b, s) = (&g.buys, &g.sells);
    assert!(s[0].price_ticks - b[0].price_ticks >= 5);
    for w in s.windows(2) {
        assert!(w[1].price_ticks - w[0].price_ticks >= 5);
    }
    let total: i64 = g.iter().map(|(_, l)| l.amount_lots).sum();
    assert_eq!(total, 24, "merging keeps every amount");
}

/// 0.01 BTC at 5 levels needs price >= 10000 for 100 USD notional: at c = 10100, 1% spacing,
/// buys below 10000 (level 1 = 10000.0 exactly rounds to itself) are dropped.
#[test]
fn levels_below_min_notional_are_dropped_and_reported() {
    let m = btc();
    let g = GridPlan::new(params(0.01, 5, 0.0, GridMode::Geometric, 0.01), &m)
        .expect("valid")
        .levels(10100.0)
        .expect("grid");
    assert_eq!(prices(&m, &g.buys), ["10000.0"]);
    assert_eq!(g.sells.len(), 5);
    assert_eq!(g.counts.dropped_below_minimum, 4);
}

#[test]
fn bad_inputs_name_their_field() {
    let m = btc();
    let bad = [
        (params(0.0, 5, 0.0, GridMode::Geometric, 0.01), "spacing"),
        (params(1.0, 5, 0.0, GridMode::Geometric, 0.01), "spacing"),
        (
            params(f64::NAN, 5, 0.0, GridMode::Geometric, 0.01),
            "spacing",
        ),
        (
            params(0.01, 0, 0.0, GridMode::Geometric, 0.01),
            "num_levels",
        ),
        (
            params(0.01, 1001, 0.0, GridMode::Geometric, 0.01),
            "num_levels",
        ),
        (
            params(0.01, 5, -1.0, GridMode::Geometric, 0.01),
            "min_price_distance",
        ),
        (
            params(0.01, 5, 0.0, GridMode::Geometric, 0.0001),
            "amount_per_level",
        ),
        (
            params(0.01, 5, 0.0, GridMode::Geometric, f64::INFINITY),
            "amount_per_level",
        ),
    ];
    for (p, field) in bad {
        match GridPlan::new(p, &m) {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{p:?}: expected an error on {field}, got {other:?}"),
        }
    }
    let plan = GridPlan::new(params(0.5, 1000, 0.0, GridMode::Geometric, 0.01), &m).expect("valid");
    assert!(
        plan.levels(95236.15).is_err(),
        "sells beyond 1e12 ticks are refused"
    );
    let plan = GridPlan::new(params(0.01, 5, 0.0, GridMode::Geometric, 0.01), &m).expect("valid");
    for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(plan.levels(c).is_err());
    }
    match plan.batch(&[100.0, f64::NAN]) {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "centers[1]"),
        other => panic!("expected centers[1] error, got {other:?}"),
    }
}

fn arb_market() -> impl Strategy<Value = Market> {
    (
        prop::sample::select(vec!["0.00001", "0.001", "0.01", "0.1", "0.5", "1", "5"]),
        prop::sample::select(vec!["0.0001", "0.001", "0.1", "1"]),
        prop::sample::select(vec!["0", "5", "100"]),
    )
        .prop_map(|(t, l, n)| Market::new(t, l, "0", n).expect("valid market"))
}

fn arb_params() -> impl Strategy<Value = GridParams> {
    (
        1e-4f64..0.5,
        1usize..40,
        prop_oneof![Just(0.0), 0.0f64..500.0],
        prop_oneof![Just(GridMode::Geometric), Just(GridMode::Arithmetic)],
        0.001f64..5.0,
    )
        .prop_map(|(s, n, d, mode, a)| params(s, n, d, mode, a))
}

proptest! {
    #[test]
    fn grid_invariants(m in arb_market(), p in arb_params(), center in 0.01f64..1e6) {
        let Ok(plan) = GridPlan::new(p, &m) else { return Ok(()) };
        let g = match plan.levels(center) {
            Ok(g) => g,
            Err(Error::InvalidInput { field, rule, .. }) => {
                // only a grid whose outermost sell passes the 1e12-tick limit is refused
                prop_assert!(field == "center" && rule.contains("tick limit"));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let c_ticks = center / m.tick_f64();
        let gap = (p.min_price_distance / m.tick_f64() - 1e-9).ceil().max(1.0) as i64;
        prop_assert!(g.buys.len() <= p.num_levels && g.sells.len() <= p.num_levels);
        for w in g.buys.windows(2) { prop_assert!(w[0].price_ticks - w[1].price_ticks >= gap); }
        for w in g.sells.windows(2) { prop_assert!(w[1].price_ticks - w[0].price_ticks >= gap); }
        if let (Some(b), Some(s)) = (g.buys.first(), g.sells.first()) {
            prop_assert!(s.price_ticks - b.price_ticks >= gap);
        }
        for b in &g.buys { prop_assert!(b.price_ticks > 0 && (b.price_ticks as f64) < c_ticks); }
        for s in &g.sells { prop_assert!(s.price_ticks as f64 > c_ticks); }
        for (side, l) in g.iter() {
            prop_assert!(m.meets_minimums(l.price_ticks, l.amount_lots));
            // snapping is idempotent: an on-tick price maps to itself from either side
            let price = m.ticks_to_f64(l.price_ticks);
            prop_assert_eq!(m.price_to_ticks(price, side), Ok(l.price_ticks));
        }
        let c = g.counts;
        prop_assert_eq!(
            g.buys.len() + g.sells.len() + (c.merged + c.dropped_nonpositive + c.dropped_below_minimum) as usize,
            2 * p.num_levels
        );
    }

    #[test]
    fn batch_rows_equal_single_grids(m in arb_market(), p in arb_params(),
                                     centers in prop::collection::vec(0.01f64..1e6, 1..50)) {
        let Ok(plan) = GridPlan::new(p, &m) else { return Ok(()) };
        let Ok(b) = plan.batch(&centers) else { return Ok(()) };
        let n = p.num_levels;
        for (r, &c) in centers.iter().enumerate() {
            let g = plan.levels(c).expect("valid center");
            prop_assert_eq!(b.buy_count[r] as usize, g.buys.len());
            prop_assert_eq!(b.sell_count[r] as usize, g.sells.len());
            for (k, l) in g.buys.iter().enumerate() {
                prop_assert_eq!((b.buy_ticks[r * n + k], b.buy_lots[r * n + k]), (l.price_ticks, l.amount_lots));
            }
            for (k, l) in g.sells.iter().enumerate() {
                prop_assert_eq!((b.sell_ticks[r * n + k], b.sell_lots[r * n + k]), (l.price_ticks, l.amount_lots));
            }
            prop_assert!(b.buy_ticks[r * n + g.buys.len()..(r + 1) * n].iter().all(|&t| t == 0));
            prop_assert_eq!(b.merged[r], i64::from(g.counts.merged));
        }
    }
}
