//! Property tests of the risk controls (issue 15, 'Proof'), each against a reference written
//! here from the rule alone, never from the policy's code:
//! - the joint worst-case cap: a plain position simulator replays random fill sequences
//!   (any order, any partial amounts, both sides interleaved) of a decision's orders;
//! - the halt: the safe hedge recomputed from the config (`halt_hedge_ratio x spot`, floored to
//!   the lot, clamped to the capped band) and the net exposure after the de-risking order;
//! - tighten-only: the same decision with and without a review or an injected halt verdict.

use proptest::prelude::*;

use super::tests::{book, config, data, market, snapshot, Data};
use super::*;

const LOT: f64 = 0.001;

/// `x / LOT` floored, with the float noise of a decimal lot tolerated (as a trader counts).
fn lots_of(x: f64) -> i64 {
    (x / LOT + 1e-9).floor() as i64
}

/// Random configs around the default: the band, the cap, the grid and the layers switched.
fn configs() -> impl Strategy<Value = PolicyConfig> {
    (
        (1usize..12, 0.001f64..0.05, 0.05f64..6.0, 1usize..40),
        (
            0.0f64..1.0,
            1.0f64..1.6,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            0.0f64..300.0,
            0.0f64..2.0,
            prop::sample::select(vec![50.0, 1e9]),
            prop::sample::select(vec![0.0, 0.0001, 0.0005]),
            prop::sample::select(vec![0.0, 0.01, 0.1]),
        ),
    )
        .prop_map(
            |(
                (levels, spacing, max_pos, max_orders),
                (h_min, h_max, dynamic, sr, tilt),
                (min_dist, halt_h, var_limit, size_vol, size_var),
            )| {
                PolicyConfig {
                    num_levels: levels,
                    grid_spacing_pct: spacing,
                    max_position_size: max_pos,
                    max_active_orders: max_orders,
                    hedge_ratio_min: h_min,
                    hedge_ratio_max: h_max,
                    dynamic_spacing: dynamic,
                    support_resistance: sr,
                    funding_tilt: tilt,
                    min_price_distance: min_dist,
                    halt_hedge_ratio: halt_h,
                    var_limit,
                    sizing_vol_target_pct: size_vol,
                    sizing_var_share: size_var,
                    ..config()
                }
            },
        )
}

/// Random bars: a sine of random amplitude, or a steady decline (the stop's case).
fn bars() -> impl Strategy<Value = Data> {
    (0.0f64..0.08, any::<bool>()).prop_map(|(wiggle, decline)| {
        let mut d = data(300, 50_000.0, wiggle);
        if decline {
            for (i, c) in d.close.iter_mut().enumerate() {
                *c *= 0.999f64.powi(i as i32);
            }
            for i in 0..d.close.len() {
                let o = if i == 0 { d.close[0] } else { d.close[i - 1] };
                d.open[i] = o;
                d.high[i] = o.max(d.close[i]) * 1.002;
                d.low[i] = o.min(d.close[i]) * 0.998;
            }
        }
        d
    })
}

/// A policy state a running bot can hold: a center, a stop reference, pauses, recorded stops.
fn states() -> impl Strategy<Value = PolicyState> {
    (
        -0.05f64..0.05,
        -3000i64..3000,
        -0.1f64..0.1,
        0u32..3,
        0u32..3,
        any::<bool>(),
    )
        .prop_map(|(center_off, ref_short, ref_off, pb, ps, stops)| {
            let center = (500_000.0 * (1.0 + center_off)) as i64;
            let reference = (500_000.0 * (1.0 + ref_off)) as i64;
            PolicyState {
                center_ticks: center,
                ref_short_lots: ref_short.abs(),
                stop_ref_ticks: if ref_short >= 0 {
                    reference
                } else {
                    -reference
                },
                pause_buys: pb,
                pause_sells: ps,
                sell_stop_ticks: if stops { reference * 9 / 10 } else { 0 },
                buy_stop_ticks: if stops { reference * 11 / 10 } else { 0 },
                ..PolicyState::default()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Reference: a position simulator. Whatever subset of a decision's orders fills within
    /// one bar, in whatever order and with whatever partial amounts (rebalance, stop and grid,
    /// both sides interleaved), |futures position| never exceeds `max_position_size` (or the
    /// position the book already had, when it starts above the cap: then it only shrinks).
    #[test]
    fn no_fill_sequence_within_a_bar_breaks_the_joint_cap(
        cfg in configs(), d in bars(), state in states(),
        spot in 0.0f64..5.0, hedge in 0.0f64..2.0, price_move in -0.06f64..0.06,
        funding in -0.003f64..0.003, equity_drop in 0.0f64..0.2, halted in any::<bool>(),
        fills in prop::collection::vec((any::<prop::sample::Index>(), 0.0f64..=1.0), 0..60),
    ) {
        let futures = -((spot * hedge / LOT).floor() as i64);
        let mut b = book(spot, futures);
        b.equity = 100_000.0 * (1.0 - equity_drop);
        let state = PolicyState { halted, ..state };
        let price = d.close[d.close.len() - 1] * (1.0 + price_move);
        let dec = decide(&cfg, &market(), &snapshot(&d, price, funding), &b, &state)
            .expect("decision");
        let cap = lots_of(cfg.max_position_size);
        let bound = cap.max(futures.abs());
        let mut left: Vec<i64> = dec.orders.iter().map(|o| o.amount_lots).collect();
        let mut pos = futures;
        for (pick, frac) in &fills {
            if dec.orders.is_empty() {
                break;
            }
            let k = pick.index(dec.orders.len());
            let lots = ((left[k] as f64) * frac).ceil() as i64;
            left[k] -= lots;
            pos += match dec.orders[k].side { Side::Buy => lots, Side::Sell => -lots };
            prop_assert!(pos.abs() <= bound, "|position| {} > cap {} after a partial fill", pos.abs(), bound);
        }
        // and the extremes: every order of one side filled whole
        for side in [Side::Buy, Side::Sell] {
            let all: i64 = dec.orders.iter().filter(|o| o.side == side).map(|o| o.amount_lots).sum();
            let extreme = futures + if side == Side::Buy { all } else { -all };
            prop_assert!(extreme.abs() <= bound, "every {:?} filled: |{}| > {}", side, extreme, bound);
        }
    }

    /// Reference: the safe hedge recomputed from the config. On a halt (a drawdown at or past
    /// `max_drawdown`, or an injected verdict) the grid is cancelled and, when the market's
    /// minimums and the volume cap allow one order, the hedge after the de-risking order is
    /// within one lot of `clamp(floor(halt_hedge_ratio x spot), band)` - or of the full hedge
    /// or the current hedge when going there would raise the net exposure; a remaining net
    /// exposure keeps a stop on its side.
    #[test]
    fn a_halt_moves_the_net_exposure_to_the_safe_hedge(
        cfg in configs(), d in bars(),
        spot in 0.01f64..5.0, hedge in 0.0f64..2.0, drop in 0.1f64..0.9, verdict in any::<bool>(),
    ) {
        let cfg = PolicyConfig { var_limit: 1e9, ..cfg };
        let short = (spot * hedge / LOT).floor() as i64;
        let mut b = book(spot, -short);
        let state = if verdict {
            PolicyState { halted: true, ..PolicyState::default() }
        } else {
            b.equity = 100_000.0 * (1.0 - drop);
            PolicyState::default()
        };
        let price = d.close[d.close.len() - 1];
        let dec = decide(&cfg, &market(), &snapshot(&d, price, 0.0), &b, &state).expect("decision");
        prop_assert!(dec.state.halted);
        prop_assert!(dec.orders.iter().all(|o| o.role != Role::Grid), "the grid is cancelled");
        let cap = lots_of(cfg.max_position_size);
        let lo = lots_of(cfg.hedge_ratio_min * spot).min(cap);
        let hi = lots_of(cfg.hedge_ratio_max * spot).min(cap);
        let safe = lots_of(cfg.halt_hedge_ratio * spot).clamp(lo, hi);
        // a halt never raises the net exposure: on the way to the safe hedge it stops at the
        // full hedge when it passes one (the nearest point of the way to `spot` lots)
        let full = lots_of(spot);
        let safe = if (short - full).signum() * (safe - full).signum() <= 0 {
            full // the way crosses (or starts or ends at) the full hedge
        } else if (full - safe).abs() > (full - short).abs() {
            short // the safe hedge lies farther from a full hedge, on the same side: stay
        } else {
            safe
        };
        let after = short
            + dec
                .orders
                .iter()
                .filter(|o| o.role == Role::Rebalance)
                .map(|o| if o.side == Side::Sell { o.amount_lots } else { -o.amount_lots })
                .sum::<i64>();
        // volume 500 a bar at a 0.5 share: one order can always carry the whole move
        let price_ticks = (price / 0.1).floor() as i64;
        if market().meets_minimums(price_ticks, (safe - short).abs()) {
            prop_assert!((after - safe).abs() <= 1, "hedge {} not within a lot of the safe {}", after, safe);
        } else {
            prop_assert_eq!(after, short, "an order below the minimums cannot be sent");
        }
        let net = lots_of(spot) - after;
        for o in dec.orders.iter().filter(|o| o.role == Role::Stop) {
            prop_assert_eq!(o.side, if net > 0 { Side::Sell } else { Side::Buy }, "the stop protects the rest");
        }
    }

    /// Reference: the same decision without the review. A review's hedge ratio (any value,
    /// the LLM's included) never moves the target farther from a full hedge than the funding
    /// tilt put it, never leaves the band, and never raises the worst in-band VaR or the
    /// resting exposure of either side.
    #[test]
    fn no_review_ever_loosens_a_limit(
        cfg in configs(), d in bars(), state in states(),
        review in 0.0f64..2.0, funding in -0.003f64..0.003, spot in 0.0f64..5.0, hedge in 0.0f64..2.0,
    ) {
        let short = (spot * hedge / LOT).floor() as i64;
        let b = book(spot, -short);
        let price = d.close[d.close.len() - 1];
        let run = |r: Option<f64>| {
            let c = PolicyConfig { review_hedge_ratio: r, ..cfg.clone() };
            decide(&c, &market(), &snapshot(&d, price, funding), &b, &state).expect("decision")
        };
        let (plain, reviewed) = (run(None), run(Some(review)));
        let full = 1.0f64.clamp(cfg.hedge_ratio_min, cfg.hedge_ratio_max);
        let (t0, t1) = (plain.metrics.target_hedge_ratio, reviewed.metrics.target_hedge_ratio);
        prop_assert!((t1 - full).abs() <= (t0 - full).abs() + 1e-12, "target {} -> {} loosens", t0, t1);
        prop_assert!(cfg.hedge_ratio_min <= t1 && t1 <= cfg.hedge_ratio_max);
        prop_assert!(reviewed.metrics.var_worst <= plain.metrics.var_worst + 1e-9);
        let cap = lots_of(cfg.max_position_size);
        for side in [Side::Buy, Side::Sell] {
            let all: i64 = reviewed.orders.iter().filter(|o| o.side == side).map(|o| o.amount_lots).sum();
            let extreme = -short + if side == Side::Buy { all } else { -all };
            prop_assert!(extreme.abs() <= cap.max(short));
        }
    }

    /// Reference: the same decision without the verdict. An injected halt verdict never adds
    /// grid orders, and the net exposure it leaves after its de-risking order is no larger
    /// than the book's net exposure before it whenever the safe hedge is a full hedge inside
    /// the band.
    #[test]
    fn an_injected_halt_verdict_only_de_risks(
        cfg in configs(), d in bars(), spot in 0.01f64..5.0, hedge in 0.0f64..2.0,
    ) {
        let cfg = PolicyConfig { halt_hedge_ratio: 1.0, hedge_ratio_min: cfg.hedge_ratio_min.min(1.0), ..cfg };
        let short = (spot * hedge / LOT).floor() as i64;
        let b = book(spot, -short);
        let price = d.close[d.close.len() - 1];
        let halted = PolicyState { halted: true, ..PolicyState::default() };
        let dec = decide(&cfg, &market(), &snapshot(&d, price, 0.0), &b, &halted).expect("decision");
        prop_assert!(dec.orders.iter().all(|o| o.role != Role::Grid));
        let after = short
            + dec.orders.iter().filter(|o| o.role == Role::Rebalance)
                .map(|o| if o.side == Side::Sell { o.amount_lots } else { -o.amount_lots }).sum::<i64>();
        let net_before = (lots_of(spot) - short).abs();
        let net_after = (lots_of(spot) - after).abs();
        prop_assert!(net_after <= net_before, "net exposure {} -> {} grew under a halt", net_before, net_after);
    }

    /// Reference: the sizing rule recomputed here from the decision's volatility and horizon
    /// VaR. Every grid rung's order (the center's excepted: it undoes a fill) is at most one
    /// level's risk size (`vol_target_pct x equity / (price x sigma)`, `var_share x var_limit
    /// / (price x VaR)`, floored to the lot) plus what the hedge is off the grid's reference,
    /// and every grid order of a side filled keeps an in-band hedge inside the band.
    #[test]
    fn sizing_from_risk_bounds_each_level_within_the_band(
        cfg in configs(), d in bars(), spot in 0.1f64..5.0, hedge in 0.5f64..1.5,
    ) {
        let short = (spot * hedge / LOT).floor() as i64;
        let b = book(spot, -short);
        let price = d.close[d.close.len() - 1];
        let run = |c: &PolicyConfig| {
            decide(c, &market(), &snapshot(&d, price, 0.0), &b, &PolicyState::default())
                .expect("decision")
        };
        let dec = run(&cfg);
        let (sigma, var_f) = (dec.metrics.volatility, dec.metrics.var_horizon_fraction);
        let mut cap = i64::MAX;
        if cfg.sizing_vol_target_pct > 0.0 && sigma > 0.0 {
            cap = cap.min(lots_of(cfg.sizing_vol_target_pct * b.equity / (price * sigma)));
        }
        if cfg.sizing_var_share > 0.0 && var_f > 0.0 {
            cap = cap.min(lots_of(cfg.sizing_var_share * cfg.var_limit / (price * var_f)));
        }
        let off_ref = (short - dec.state.ref_short_lots).abs();
        for o in dec.orders.iter().filter(|o| o.role == Role::Grid && o.level != 0) {
            prop_assert!(o.amount_lots <= cap.saturating_add(off_ref),
                "level {} of {} lots above the risk size {} (+{})", o.level, o.amount_lots, cap, off_ref);
        }
        // within the band: every grid sell / buy filled keeps the hedge inside it
        let cap_lots = lots_of(cfg.max_position_size);
        let (lo, hi) = (
            lots_of(cfg.hedge_ratio_min * spot).min(cap_lots),
            lots_of(cfg.hedge_ratio_max * spot).min(cap_lots),
        );
        if lo <= short && short <= hi && !dec.reasons.iter().any(|r| r.code == "var_shrink") {
            let sum = |side: Side| -> i64 {
                dec.orders.iter().filter(|o| o.side == side && o.role == Role::Grid).map(|o| o.amount_lots).sum()
            };
            prop_assert!(short + sum(Side::Sell) <= hi && short - sum(Side::Buy) >= lo);
        }
    }

    /// Reference: the stop rule itself (the same decision with the tolerance off). A stop
    /// resting `delta` ticks from the rule's level at the rule's amount: with
    /// `stop_refresh_tolerance` on, the stop placed is the rule's or the resting one; the
    /// resting one only within `tolerance x distance x reference` ticks of the rule's, at its
    /// amount and with the price beyond it (never through it); and a resting stop tighter than
    /// the rule, within the tolerance, untraded, with no grid order between the two levels and
    /// no cap clipping or `max_active_orders` cut (the grid orders the stop's amount counts are
    /// then the ones placed) is always kept.
    #[test]
    fn a_kept_stop_is_within_the_tolerance_of_the_rule(
        cfg in configs(), d in bars(), spot in 0.01f64..5.0, hedge in 0.0f64..2.0,
        price_move in -0.02f64..0.02, tol in 0.0f64..=0.5, frac in -1.2f64..1.2,
    ) {
        let b = book(spot, -((spot * hedge / LOT).floor() as i64));
        let price = d.close[d.close.len() - 1] * (1.0 + price_move);
        let snap_in = snapshot(&d, price, 0.0);
        let off = PolicyConfig { stop_refresh_tolerance: 0.0, ..cfg.clone() };
        let on = PolicyConfig { stop_refresh_tolerance: tol, ..cfg };
        let stop_of = |dec: &Decision| {
            dec.orders
                .iter()
                .find(|o| o.role == Role::Stop && o.kind == OrderKind::StopMarket)
                .copied()
        };
        let first = decide(&off, &market(), &snap_in, &b, &PolicyState::default())
            .expect("decision");
        let Some(stop) = stop_of(&first) else { return Ok(()) };
        let reference = first.state.stop_ref_ticks.abs() as f64;
        let room = tol * first.metrics.stop_distance * reference;
        let rest = stop.price_ticks + (frac * room).round() as i64;
        prop_assume!(rest > 0);
        let mut state = first.state;
        match stop.side {
            Side::Sell => (state.sell_stop_ticks, state.sell_stop_lots) = (rest, stop.amount_lots),
            Side::Buy => (state.buy_stop_ticks, state.buy_stop_lots) = (rest, stop.amount_lots),
        }
        let base = decide(&off, &market(), &snap_in, &b, &state).expect("decision");
        let kept = decide(&on, &market(), &snap_in, &b, &state).expect("decision");
        let (Some(rule), Some(placed)) = (stop_of(&base), stop_of(&kept)) else {
            prop_assert_eq!(stop_of(&base).is_some(), stop_of(&kept).is_some());
            return Ok(());
        };
        let price_ticks = (price / 0.1).floor() as i64;
        let sell = rule.side == Side::Sell;
        if placed.price_ticks != rule.price_ticks {
            prop_assert_eq!(placed.price_ticks, rest, "only the resting stop is kept");
            let room = tol * kept.metrics.stop_distance * kept.state.stop_ref_ticks.abs() as f64;
            prop_assert!(((rest - rule.price_ticks).abs() as f64) <= room,
                "kept {} ticks from the rule's {}, room {}", rest, rule.price_ticks, room);
            prop_assert_eq!(placed.amount_lots, stop.amount_lots, "at the resting amount");
            prop_assert!(if sell { price_ticks > rest } else { price_ticks < rest },
                "the price {} is beyond the kept stop {}", price_ticks, rest);
        } else {
            prop_assert_eq!(placed, rule, "otherwise the rule's stop");
        }
        // completeness: a tighter resting stop the rule's would replace for nothing
        let tighter = if sell { rest > rule.price_ticks } else { rest < rule.price_ticks };
        let (lo, hi) = (rest.min(rule.price_ticks), rest.max(rule.price_ticks));
        let between = base.orders.iter().any(|o| {
            o.role == Role::Grid && o.side != rule.side && o.price_ticks >= lo && o.price_ticks <= hi
        });
        let (last_low, last_high) = (d.low[d.low.len() - 1] / 0.1, d.high[d.high.len() - 1] / 0.1);
        let untraded = if sell { last_low > (rest + 1) as f64 } else { last_high < (rest - 1) as f64 };
        let beyond = if sell { price_ticks > rest + 1 } else { price_ticks + 1 < rest };
        if tighter && ((rest - rule.price_ticks).abs() as f64) < room * (1.0 - 1e-9) && !between
            && untraded && beyond && rule.amount_lots == stop.amount_lots
            && !base.reasons.iter().any(|r| r.code == "joint_cap" || r.code == "max_active_orders")
            && base.state.stop_ref_ticks == first.state.stop_ref_ticks
            && base.metrics.stop_distance == first.metrics.stop_distance
        {
            prop_assert_eq!(placed.price_ticks, rest, "a tighter stop within the tolerance stays");
        }
    }
}
