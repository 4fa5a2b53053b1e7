use proptest::prelude::*;

use super::*;

pub(crate) fn config() -> PolicyConfig {
    PolicyConfig {
        grid_spacing_pct: 0.01,
        num_levels: 5,
        min_price_distance: 0.0,
        grid_mode: GridMode::Geometric,
        dynamic_spacing: false,
        volatility_multiplier: 1.0,
        volatility_estimator: VolEstimator::Ewma,
        spacing_horizon_bars: 1,
        recenter_threshold_pct: 0.02,
        support_resistance: false,
        sr_tolerance_pct: 0.003,
        max_position_size: 10.0,
        max_drawdown: 0.1,
        stop_loss_pct: 0.04,
        var_limit: 1e9,
        var_confidence: 0.95,
        var_horizon_bars: 24,
        var_shrink_ratio: 1.2,
        sizing_vol_target_pct: 0.0,
        sizing_var_share: 0.0,
        var_method: VarMethod::Fhs,
        var_window_bars: 2000,
        stop_scale_min: 0.5,
        stop_scale_max: 2.0,
        stop_refresh_tolerance: 0.0,
        grid_refresh_tolerance: 0.0,
        max_volume_share: 0.5,
        max_active_orders: 50,
        hedge_ratio: 1.0,
        hedge_ratio_min: 0.8,
        hedge_ratio_max: 1.2,
        funding_tilt: false,
        funding_sensitivity: 500.0,
        halt_hedge_ratio: 1.0,
        halt_cooldown: 0,
        stop_cooldown: 24,
        review_hedge_ratio: None,
        trend_guard_bars: 0,
        trend_guard_pct: 0.02,
        requote_tolerance: 0.0,
        requote_max_skips: 60,
    }
}

pub(crate) fn market() -> Market {
    Market::new("0.10", "0.001", "0.001", "10").expect("valid")
}

#[derive(Debug)]
pub(crate) struct Data {
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

pub(crate) fn data(n: usize, price: f64, wiggle: f64) -> Data {
    let close: Vec<f64> = (0..n)
        .map(|i| price * (1.0 + wiggle * ((i as f64) * 0.7).sin()))
        .collect();
    let open: Vec<f64> = (0..n)
        .map(|i| if i == 0 { close[0] } else { close[i - 1] })
        .collect();
    let high = open
        .iter()
        .zip(&close)
        .map(|(o, c)| o.max(*c) * 1.002)
        .collect();
    let low = open
        .iter()
        .zip(&close)
        .map(|(o, c)| o.min(*c) * 0.998)
        .collect();
    Data {
        open,
        high,
        low,
        close,
        volume: vec![500.0; n],
    }
}

pub(crate) fn snapshot<'a>(d: &'a Data, price: f64, funding: f64) -> Snapshot<'a> {
    Snapshot {
        price,
        candles: Candles {
            open: &d.open,
            high: &d.high,
            low: &d.low,
            close: &d.close,
            volume: &d.volume,
        },
        funding_rate: funding,
    }
}

pub(crate) fn book(spot: f64, futures_lots: i64) -> Book {
    Book {
        spot_amount: spot,
        futures_lots,
        equity: 100_000.0,
        high_water_mark: 100_000.0,
    }
}

#[test]
fn first_decision_rebalances_into_the_band_and_lays_the_ladder() {
    let d = data(200, 50_000.0, 0.002);
    let dec = decide(
        &config(),
        &market(),
        &snapshot(&d, 50_000.0, 0.0),
        &book(1.0, 0),
        &PolicyState::default(),
    )
    .expect("decision");
    let rebalance: Vec<_> = dec
        .orders
        .iter()
        .filter(|o| o.role == Role::Rebalance)
        .collect();
    assert_eq!(rebalance.len(), 1);
    assert_eq!(
        (rebalance[0].side, rebalance[0].amount_lots),
        (Side::Sell, 1000)
    );
    // after the rebalance the hedge is at 1.0 = the reference: 5 sells of 0.2/5 = 0.04 BTC
    // above and 5 buys of 0.04 below; no center order
    let sells: Vec<_> = dec
        .orders
        .iter()
        .filter(|o| o.role == Role::Grid && o.side == Side::Sell)
        .collect();
    let buys: Vec<_> = dec
        .orders
        .iter()
        .filter(|o| o.role == Role::Grid && o.side == Side::Buy)
        .collect();
    assert_eq!(sells.len(), 5);
    assert_eq!(buys.len(), 5);
    assert!(sells.iter().chain(&buys).all(|o| o.amount_lots == 40));
    // 50000 x 1.01 = 50500.0 exactly on tick
    assert_eq!(sells.iter().map(|o| o.price_ticks).min(), Some(505_000));
    assert_eq!(dec.state.center_ticks, 500_000);
    assert_eq!(dec.state.ref_short_lots, 1000);
    assert!(dec.reasons.iter().any(|r| r.code == "rebalance"));
}

#[test]
fn after_a_sell_fills_the_undo_buy_sits_at_the_center() {
    let d = data(200, 50_000.0, 0.002);
    let state = PolicyState {
        center_ticks: 500_000,
        ref_short_lots: 1000,
        ..PolicyState::default()
    };
    // sell level 1 filled: short 1.04 BTC, price now 50600
    let dec = decide(
        &config(),
        &market(),
        &snapshot(&d, 50_600.0, 0.0),
        &book(1.0, -1040),
        &state,
    )
    .expect("decision");
    let center_buy = dec
        .orders
        .iter()
        .find(|o| o.level == 0 && o.side == Side::Buy)
        .expect("center buy");
    assert_eq!(
        (center_buy.price_ticks, center_buy.amount_lots),
        (500_000, 40)
    );
    let sells: Vec<_> = dec
        .orders
        .iter()
        .filter(|o| o.side == Side::Sell && o.role == Role::Grid)
        .map(|o| o.level)
        .collect();
    assert_eq!(sells, [2, 3, 4, 5]);
    assert_eq!(
        (dec.state.center_ticks, dec.state.ref_short_lots),
        (state.center_ticks, state.ref_short_lots),
        "no recenter inside the threshold"
    );
    // net short 0.04: a buy stop above, trailing from this price (not from the center)
    let stop = dec
        .orders
        .iter()
        .find(|o| o.role == Role::Stop)
        .expect("stop");
    assert_eq!(stop.side, Side::Buy);
    assert_eq!(dec.state.stop_ref_ticks, -506_000);
    assert_eq!(dec.state.buy_stop_ticks, stop.price_ticks);
}

#[test]
fn drawdown_halt_de_risks_to_the_safe_hedge_and_sticks() {
    let d = data(200, 50_000.0, 0.002);
    // hedge 0.84: 0.16 BTC net long when the drawdown limit is reached
    let mut b = book(1.0, -840);
    b.equity = 89_000.0;
    let dec = decide(
        &config(),
        &market(),
        &snapshot(&d, 50_000.0, 0.0),
        &b,
        &PolicyState::default(),
    )
    .expect("decision");
    assert!(dec.state.halted && !dec.cancel_all && !dec.resumed);
    assert_eq!(dec.reasons[0].code, "halt");
    // no grid, one market sell to the full hedge
    assert!(dec.orders.iter().all(|o| o.role != Role::Grid));
    let reb = dec
        .orders
        .iter()
        .find(|o| o.role == Role::Rebalance)
        .expect("a de-risking order");
    assert_eq!(
        (reb.side, reb.kind, reb.amount_lots),
        (Side::Sell, OrderKind::Market, 160)
    );
    // the next decision (the sell filled) holds the hedge, still halted, no orders
    let again = decide(
        &config(),
        &market(),
        &snapshot(&d, 50_000.0, 0.0),
        &book(1.0, -1000),
        &dec.state,
    )
    .expect("decision");
    assert!(again.state.halted && again.orders.is_empty());
    assert_eq!(again.state.halt_age, 1);
}

#[test]
fn halt_orders_are_participation_capped_and_keep_a_stop_on_the_rest() {
    let d = data(200, 50_000.0, 0.002);
    let mut cfg = config();
    // recent volume ~ d's volume; a share small enough to split the de-risking
    let avg = d.volume[d.volume.len() - 24..].iter().sum::<f64>() / 24.0;
    cfg.max_volume_share = 0.05 / avg; // 0.05 BTC per decision
    let mut b = book(1.0, -840);
    b.equity = 89_000.0;
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.0),
        &b,
        &PolicyState::default(),
    )
    .expect("decision");
    let reb = dec
        .orders
        .iter()
        .find(|o| o.role == Role::Rebalance)
        .expect("rebalance");
    assert!(reb.amount_lots <= 50 && reb.amount_lots >= 49, "{reb:?}");
    let stop = dec
        .orders
        .iter()
        .find(|o| o.role == Role::Stop)
        .expect("a stop");
    assert_eq!(stop.side, Side::Sell);
    assert_eq!(stop.amount_lots, 160 - reb.amount_lots);
    assert!(stop.price_ticks < 500_000);
}

#[test]
fn a_halt_cooldown_resumes_and_restarts_the_drawdown() {
    let d = data(200, 50_000.0, 0.002);
    let mut cfg = config();
    cfg.halt_cooldown = 2;
    let mut b = book(1.0, -1000);
    b.equity = 89_000.0;
    let mut state = PolicyState::default();
    let mut resumed_at = None;
    for k in 0..4 {
        let dec =
            decide(&cfg, &market(), &snapshot(&d, 50_000.0, 0.0), &b, &state).expect("decision");
        if dec.resumed {
            resumed_at = Some(k);
            assert!(!dec.state.halted);
            assert!(dec.orders.iter().any(|o| o.role == Role::Grid));
            b.high_water_mark = b.equity; // the driver restarts the high-water mark
        }
        state = dec.state;
    }
    assert_eq!(resumed_at, Some(2));
    assert!(!state.halted);
}

#[test]
fn var_over_limit_warns_then_narrows_the_band() {
    let d = data(300, 50_000.0, 0.01);
    let mut cfg = config();
    cfg.hedge_ratio_min = 0.0;
    cfg.hedge_ratio_max = 2.0;
    cfg.var_limit = 500.0;
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.0),
        &book(1.0, -1000),
        &PolicyState::default(),
    )
    .expect("decision");
    let codes: Vec<_> = dec.reasons.iter().map(|r| r.code).collect();
    assert!(
        codes.contains(&"var_warning") && codes.contains(&"var_shrink"),
        "{codes:?}"
    );
    let warning = &dec
        .reasons
        .iter()
        .find(|r| r.code == "var_warning")
        .expect("warning")
        .message;
    assert!(warning.starts_with("VaR (") && warning.contains("exceeds limit (500.00)"));
}

#[test]
fn positive_funding_tilts_the_target_up_within_the_band() {
    let d = data(200, 50_000.0, 0.002);
    let mut cfg = config();
    cfg.funding_tilt = true;
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.0003),
        &book(1.0, -1000),
        &PolicyState::default(),
    )
    .expect("decision");
    // 1.0 + 500 x 0.0003 = 1.15, inside [0.8, 1.2]
    assert!((dec.metrics.target_hedge_ratio - 1.15).abs() < 1e-12);
    assert_eq!(dec.state.ref_short_lots, 1150);
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.01),
        &book(1.0, -1000),
        &PolicyState::default(),
    )
    .expect("decision");
    assert_eq!(dec.metrics.target_hedge_ratio, 1.2, "clipped to the band");
}

#[test]
fn bad_inputs_are_named() {
    let d = data(200, 50_000.0, 0.002);
    let mut cfg = config();
    cfg.hedge_ratio = 1.5;
    assert!(
        matches!(decide(&cfg, &market(), &snapshot(&d, 50_000.0, 0.0), &book(1.0, 0), &PolicyState::default()), Err(Error::InvalidInput { field, .. }) if field == "hedge_ratio")
    );
    assert!(decide(
        &config(),
        &market(),
        &snapshot(&d, f64::NAN, 0.0),
        &book(1.0, 0),
        &PolicyState::default()
    )
    .is_err());
    let mut bad = data(200, 50_000.0, 0.002);
    bad.close[7] = f64::NAN;
    assert!(
        matches!(decide(&config(), &market(), &snapshot(&bad, 50_000.0, 0.0), &book(1.0, 0), &PolicyState::default()), Err(Error::InvalidInput { field, .. }) if field == "close[7]")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn policy_invariants(
        spot in 0.0f64..5.0, short_frac in 0.0f64..2.0, price_move in -0.05f64..0.05,
        levels in 1usize..12, spacing in 0.001f64..0.05, max_pos in 0.1f64..8.0,
        max_orders in 1usize..30, funding in -0.003f64..0.003, dynamic in any::<bool>(), sr in any::<bool>(),
        equity_drop in 0.0f64..0.2, min_dist in 0.0f64..300.0, center_off in -0.03f64..0.03,
    ) {
        let mut cfg = config();
        cfg.num_levels = levels;
        cfg.grid_spacing_pct = spacing;
        cfg.max_position_size = max_pos;
        cfg.max_active_orders = max_orders;
        cfg.funding_tilt = true;
        cfg.dynamic_spacing = dynamic;
        cfg.support_resistance = sr;
        cfg.min_price_distance = min_dist;
        let m = market();
        let d = data(300, 50_000.0, 0.01);
        let price = 50_000.0 * (1.0 + price_move);
        let short = (spot * short_frac / 0.001).floor() as i64;
        let mut b = book(spot, -short);
        b.equity = 100_000.0 * (1.0 - equity_drop);
        let state = PolicyState { center_ticks: (500_000.0 * (1.0 + center_off)) as i64, ref_short_lots: short, ..PolicyState::default() };
        let dec = decide(&cfg, &m, &snapshot(&d, price, funding), &b, &state).expect("decision");
        // the joint cap: every order of one side filling in one bar keeps |position| <= cap
        let cap_lots = (max_pos / 0.001 + 1e-9).floor() as i64;
        let side_sum = |side: Side| -> i64 { dec.orders.iter().filter(|o| o.side == side).map(|o| o.amount_lots).sum() };
        prop_assert!(short + side_sum(Side::Sell) <= cap_lots.max(short));
        prop_assert!(-short + side_sum(Side::Buy) <= cap_lots.max(-short));
        if equity_drop >= cfg.max_drawdown {
            prop_assert!(dec.state.halted && !dec.cancel_all);
            prop_assert!(dec.orders.iter().all(|o| o.role != Role::Grid));
            return Ok(());
        }
        prop_assert!(dec.orders.len() <= cfg.max_active_orders);
        let cap = (max_pos / 0.001 + 1e-9).floor() as i64;
        let price_q = price / 0.1;
        // the hedge after a rebalance
        let mut s = short;
        for o in dec.orders.iter().filter(|o| o.role == Role::Rebalance) {
            s += if o.side == Side::Sell { o.amount_lots } else { -o.amount_lots };
        }
        let all_sells: i64 = dec.orders.iter().filter(|o| o.role == Role::Grid && o.side == Side::Sell).map(|o| o.amount_lots).sum();
        let all_buys: i64 = dec.orders.iter().filter(|o| o.role == Role::Grid && o.side == Side::Buy).map(|o| o.amount_lots).sum();
        let lo = ((cfg.hedge_ratio_min * spot / 0.001 + 1e-9).floor() as i64).min(cap);
        let hi = ((cfg.hedge_ratio_max * spot / 0.001 + 1e-9).floor() as i64).min(cap);
        if s >= lo && s <= hi {
            prop_assert!(s + all_sells <= hi, "all sells filled stay within the band top and the cap");
            prop_assert!(s - all_buys >= lo, "all buys filled stay within the band bottom");
        }
        prop_assert!(s + all_sells <= cap.max(short));
        for o in &dec.orders {
            prop_assert!(o.amount_lots > 0);
            if o.kind == OrderKind::Limit {
                prop_assert!(o.price_ticks > 0);
                prop_assert!(m.meets_minimums(o.price_ticks, o.amount_lots));
                match o.side {
                    Side::Sell => prop_assert!(o.price_ticks as f64 > price_q),
                    Side::Buy => prop_assert!((o.price_ticks as f64) < price_q),
                }
            }
        }
        prop_assert!(dec.metrics.target_hedge_ratio >= cfg.hedge_ratio_min && dec.metrics.target_hedge_ratio <= cfg.hedge_ratio_max);
    }
}

#[test]
fn engine_matches_the_window_recomputation() {
    // the incremental statistics equal the from-scratch ones up to rounding, and the
    // decisions agree, for every estimator and with support/resistance on
    let d = data(400, 50_000.0, 0.03);
    let ts: Vec<i64> = (0..400).map(|i| i * 60_000).collect();
    for est in [
        VolEstimator::CloseToClose,
        VolEstimator::Ewma,
        VolEstimator::Parkinson,
        VolEstimator::GarmanKlass,
    ] {
        let cfg = PolicyConfig {
            volatility_estimator: est,
            support_resistance: true,
            dynamic_spacing: true,
            trend_guard_bars: 48,
            trend_guard_pct: 0.005,
            ..config()
        };
        let mut engine = PolicyEngine::new(cfg.clone(), market(), 120).expect("engine");
        for end in [150usize, 151, 155, 300, 399] {
            let from = end + 1 - 120;
            let fed = engine
                .sync(
                    &ts[from..=end],
                    &d.open[from..=end],
                    &d.high[from..=end],
                    &d.low[from..=end],
                    &d.close[from..=end],
                    &d.volume[from..=end],
                )
                .expect("sync");
            assert!(fed >= 1);
            let window = Data {
                open: d.open[from..=end].to_vec(),
                high: d.high[from..=end].to_vec(),
                low: d.low[from..=end].to_vec(),
                close: d.close[from..=end].to_vec(),
                volume: d.volume[from..=end].to_vec(),
            };
            let batch = MarketStats::from_candles(
                &cfg,
                &Candles {
                    open: &window.open,
                    high: &window.high,
                    low: &window.low,
                    close: &window.close,
                    volume: &window.volume,
                },
            )
            .expect("stats");
            let inc = engine.stats().expect("stats").clone();
            let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs().max(1e-12);
            // EWMA seeds at the engine's first bar, the batch at the window's first return
            let tol = if est == VolEstimator::Ewma {
                1e-2
            } else {
                1e-9
            };
            assert!(
                close(inc.volatility, batch.volatility, tol),
                "{est:?} {end}"
            );
            assert!(close(
                inc.long_run_volatility,
                batch.long_run_volatility,
                1e-9
            ));
            assert_eq!(inc.var_fraction, batch.var_fraction);
            // the engine slides the volume sum (re-summed in order every VOLUME_BARS bars)
            assert!(close(inc.avg_volume, batch.avg_volume, 1e-12));
            assert_eq!(inc.sr_levels, batch.sr_levels);
            assert_eq!(inc.trend_mean, batch.trend_mean);
            if est != VolEstimator::Ewma {
                let price = d.close[end];
                let book = Book {
                    spot_amount: 1.0,
                    futures_lots: -1000,
                    equity: 50_000.0,
                    high_water_mark: 50_000.0,
                };
                let s = snapshot(&window, price, 0.0);
                let want =
                    decide(&cfg, &market(), &s, &book, &PolicyState::default()).expect("decide");
                let got = engine
                    .decide(price, 0.0, &book, &PolicyState::default(), true)
                    .expect("decide");
                assert_eq!(got.orders, want.orders, "{est:?} {end}");
            }
        }
    }
}

#[test]
fn engine_sync_feeds_only_new_bars_and_restarts_on_gaps() {
    let d = data(60, 100.0, 0.01);
    let ts: Vec<i64> = (0..60).map(|i| i * 1000).collect();
    let mut e = PolicyEngine::new(config(), market(), 20).expect("engine");
    let feed = |e: &mut PolicyEngine, a: usize, b: usize| {
        e.sync(
            &ts[a..b],
            &d.open[a..b],
            &d.high[a..b],
            &d.low[a..b],
            &d.close[a..b],
            &d.volume[a..b],
        )
        .expect("sync")
    };
    assert_eq!(feed(&mut e, 0, 20), 20);
    assert_eq!(feed(&mut e, 1, 21), 1);
    assert_eq!(feed(&mut e, 1, 21), 0); // same window twice: nothing new
    assert_eq!(e.len(), 20);
    assert_eq!(feed(&mut e, 30, 50), 20); // gap: restart from the window
    assert_eq!(e.last_timestamp(), Some(49_000));
    assert_eq!(feed(&mut e, 0, 20), 20); // back in time: restart
    assert!(PolicyEngine::new(config(), market(), 2).is_err());
    let mut short = PolicyEngine::new(config(), market(), 20).expect("engine");
    feed(&mut short, 0, 2);
    assert!(short.stats().is_err());
}

/// The VaR reads are exact at every confidence (the engine keeps only the upper tail of its
/// losses the configured, 95% and 99% reads need), and a configuration whose `var_confidence`
/// changes mid-stream reads as an engine started with it, bit for bit.
#[test]
fn var_reads_are_exact_through_confidence_changes() {
    let (n, w) = (1200, 400);
    let d = data(n, 50_000.0, 0.01);
    let ts: Vec<i64> = (0..n as i64).map(|i| i * 60_000).collect();
    let cfg = |c: f64| PolicyConfig {
        var_confidence: c,
        var_window_bars: 300,
        ..config()
    };
    let mut engine = PolicyEngine::new(cfg(0.95), market(), w).expect("engine");
    let switches = [
        (150, 0.5),
        (400, 0.99),
        (700, 0.9),
        (900, 0.975),
        (1000, 0.95),
    ];
    for end in 0..n {
        if let Some(&(_, c)) = switches.iter().find(|&&(at, _)| at == end) {
            engine.set_config(cfg(c)).expect("config");
        }
        engine
            .push(
                ts[end],
                d.open[end],
                d.high[end],
                d.low[end],
                d.close[end],
                d.volume[end],
            )
            .expect("push");
        let from = (end + 1).saturating_sub(w);
        let returns: Vec<f64> = d.close[from..=end]
            .windows(2)
            .map(|p| p[1] / p[0] - 1.0)
            .collect();
        let own = engine.config().var_confidence;
        for c in [own, 0.95, 0.99, 0.5, 0.7, 0.999] {
            assert_eq!(
                engine.var_fraction_at(c).to_bits(),
                historical_var_fraction(&returns, c).to_bits(),
                "bar {end} at {c}"
            );
        }
        if end % 97 == 0 && end >= 3 {
            let mut fresh = PolicyEngine::new(cfg(own), market(), w).expect("engine");
            fresh
                .sync(
                    &ts[..=end],
                    &d.open[..=end],
                    &d.high[..=end],
                    &d.low[..=end],
                    &d.close[..=end],
                    &d.volume[..=end],
                )
                .expect("sync");
            let (a, b) = (
                engine.stats().expect("stats").clone(),
                fresh.stats().expect("stats"),
            );
            assert_eq!(
                a.var_fraction.to_bits(),
                b.var_fraction.to_bits(),
                "bar {end}"
            );
            assert_eq!(
                a.var_horizon_fraction.to_bits(),
                b.var_horizon_fraction.to_bits(),
                "bar {end}"
            );
        }
    }
}

proptest! {
    /// The engine's decisions reuse one scratch (grid plan, cached ladders, buffers) from call to
    /// call; whatever it held, each decision equals a fresh [`decide_with`] on the same
    /// statistics - through price moves, book changes and configuration switches.
    #[test]
    fn a_reused_scratch_decides_as_a_fresh_one(
        steps in prop::collection::vec(
            (0.97f64..1.03, -2_500i64..0, 0usize..4, 0usize..3),
            1..30,
        ),
    ) {
        let d = data(400, 50_000.0, 0.03);
        let ts: Vec<i64> = (0..400).map(|i| i * 60_000).collect();
        let configs = [
            PolicyConfig { support_resistance: true, dynamic_spacing: true, ..config() },
            PolicyConfig { support_resistance: true, num_levels: 3, ..config() },
            PolicyConfig { grid_spacing_pct: 0.004, min_price_distance: 60.0, ..config() },
            PolicyConfig { grid_mode: GridMode::Arithmetic, ..config() },
        ];
        let mut engine = PolicyEngine::new(configs[0].clone(), market(), 100).expect("engine");
        let mut state = PolicyState::default();
        for (k, &(move_, lots, pick, advance)) in steps.iter().enumerate() {
            if k % 4 == 3 {
                engine.set_config(configs[pick].clone()).expect("config");
            }
            let end = 100 + 3 * k + advance;
            let from = end + 1 - 100;
            engine
                .sync(&ts[from..=end], &d.open[from..=end], &d.high[from..=end],
                      &d.low[from..=end], &d.close[from..=end], &d.volume[from..=end])
                .expect("sync");
            let price = d.close[end] * move_;
            let book = Book {
                spot_amount: 1.0,
                futures_lots: lots,
                equity: 50_000.0,
                high_water_mark: 50_000.0,
            };
            let got = engine.decide(price, 1e-4, &book, &state, true).expect("decide");
            let mut want = decide_with(engine.config(), &market(), price, 1e-4,
                                   engine.last_stats(), &book, &state, true).expect("decide");
            // the engine stamps the latest bar it decided on
            want.state.decided_bar_ms = ts[end];
            prop_assert_eq!(&got, &want);
            state = got.state;
        }
    }
}

#[test]
fn a_review_applies_after_the_funding_tilt_and_only_tightens() {
    let d = data(200, 50_000.0, 0.002);
    let mut cfg = config();
    cfg.funding_tilt = true;
    // +0.02% funding tilts 1.0 -> 1.1; the full-hedge review (1.0) must win
    cfg.review_hedge_ratio = Some(1.0);
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.0002),
        &book(1.0, -1000),
        &PolicyState::default(),
    )
    .expect("decision");
    assert_eq!(dec.metrics.target_hedge_ratio, 1.0);
    assert!(dec.reasons.iter().any(|r| r.code == "review"));
    // a review that would loosen (0.85, farther from a full hedge) leaves the tilt alone
    cfg.review_hedge_ratio = Some(0.85);
    let dec = decide(
        &cfg,
        &market(),
        &snapshot(&d, 50_000.0, 0.0002),
        &book(1.0, -1000),
        &PolicyState::default(),
    )
    .expect("decision");
    assert!((dec.metrics.target_hedge_ratio - 1.1).abs() < 1e-12);
}

/// A window whose closes climb (or fall) by `step` per bar from `price`.
fn trending(n: usize, price: f64, step: f64) -> Data {
    let mut d = data(n, price, 0.0);
    for i in 0..n {
        let c = price * (1.0 + step * i as f64);
        let o = if i == 0 { c } else { d.close[i - 1] };
        d.close[i] = c;
        d.open[i] = o;
        d.high[i] = o.max(c) * 1.001;
        d.low[i] = o.min(c) * 0.999;
    }
    d
}

#[test]
fn trend_guard_pauses_the_rungs_the_trend_would_fill() {
    // at the hedge reference (1.0 x 1 BTC = 1000 lots) the ladder has both sides; a rise of
    // 0.1% a bar puts the price far above its 24-bar mean, a fall far below
    let guarded = PolicyConfig {
        trend_guard_bars: 24,
        trend_guard_pct: 0.005,
        ..config()
    };
    let rungs = |cfg: &PolicyConfig, d: &Data| {
        let price = *d.close.last().expect("bars");
        let dec = decide(
            cfg,
            &market(),
            &snapshot(d, price, 0.0),
            &book(1.0, -1000),
            &PolicyState::default(),
        )
        .expect("decision");
        let count = |side: Side| {
            dec.orders
                .iter()
                .filter(|o| o.role == Role::Grid && o.side == side && o.level != 0)
                .count()
        };
        let reasons: Vec<_> = dec.reasons.iter().map(|r| r.code).collect();
        (count(Side::Sell), count(Side::Buy), reasons)
    };
    for (step, paused) in [(0.001, Side::Sell), (-0.001, Side::Buy)] {
        let d = trending(100, 50_000.0, step);
        let (sells, buys, reasons) = rungs(&config(), &d);
        assert!(sells > 0 && buys > 0, "the unguarded ladder has both sides");
        assert!(!reasons.contains(&"trend_guard"));
        let (gs, gb, reasons) = rungs(&guarded, &d);
        assert!(reasons.contains(&"trend_guard"));
        if paused == Side::Sell {
            assert_eq!((gs, gb), (0, buys), "an up-trend pauses the sells only");
        } else {
            assert_eq!((gs, gb), (sells, 0), "a down-trend pauses the buys only");
        }
        // a threshold beyond the move leaves the ladder alone
        let wide = PolicyConfig {
            trend_guard_pct: 0.5,
            ..guarded.clone()
        };
        assert_eq!(rungs(&wide, &d).0, sells);
        assert_eq!(rungs(&wide, &d).1, buys);
    }
}

#[test]
fn trend_guard_settings_are_checked() {
    let bad = PolicyConfig {
        trend_guard_pct: 0.0,
        ..config()
    };
    assert!(
        matches!(bad.validate(), Err(Error::InvalidInput { field, .. }) if field == "trend_guard_pct")
    );
    let long = PolicyConfig {
        trend_guard_bars: 121,
        ..config()
    };
    assert!(matches!(
        PolicyEngine::new(long, market(), 120),
        Err(Error::InvalidInput { field, .. }) if field == "trend_guard_bars"
    ));
}

/// A bot restarted between two decisions (its engine rebuilt from the saved state) judges the
/// stop recorded before the restart on the bars after that decision, as a running engine does:
/// a sell stop traded on a bar between the two decisions pauses the buy side in both.
#[test]
fn a_restarted_engine_sees_a_stop_that_traded_while_it_was_down() {
    let mut d = data(300, 50_000.0, 0.002);
    let ts: Vec<i64> = (0..300).map(|i| i * 3_600_000).collect();
    let cfg = PolicyConfig {
        hedge_ratio_min: 0.3,
        ..config()
    };
    let window = |e: &mut PolicyEngine, d: &Data, end: usize| {
        let from = end + 1 - 100;
        e.sync(
            &ts[from..=end],
            &d.open[from..=end],
            &d.high[from..=end],
            &d.low[from..=end],
            &d.close[from..=end],
            &d.volume[from..=end],
        )
        .expect("sync");
    };
    // net long 0.5: the decision records a sell stop
    let b = book(1.0, -500);
    let mut running = PolicyEngine::new(cfg.clone(), market(), 100).expect("engine");
    window(&mut running, &d, 199);
    let first = running
        .decide(d.close[199], 0.0, &b, &PolicyState::default(), true)
        .expect("decide");
    let stop = first.state.sell_stop_ticks;
    assert!(stop > 0, "a sell stop protects the net long book");
    assert_eq!(first.state.decided_bar_ms, ts[199]);
    // bar 202 trades through the stop, then the price recovers
    d.low[202] = market().ticks_to_f64(stop) * 0.99;
    window(&mut running, &d, 205);
    let kept = running
        .decide(d.close[205], 0.0, &b, &first.state, true)
        .expect("decide");
    assert_eq!(
        kept.state.pause_buys, cfg.stop_cooldown,
        "the running engine saw it"
    );
    let mut restarted = PolicyEngine::new(cfg.clone(), market(), 100).expect("engine");
    window(&mut restarted, &d, 205);
    let after = restarted
        .decide(d.close[205], 0.0, &b, &first.state, true)
        .expect("decide");
    assert_eq!(
        after.state.pause_buys, cfg.stop_cooldown,
        "the restarted engine too"
    );
    // (the rest may differ in the last digits: a restarted EWMA starts from the window)
    assert!(after.reasons.iter().any(|r| r.code == "stop_fired"));
    assert!(after
        .orders
        .iter()
        .all(|o| o.side != Side::Buy || o.role != Role::Grid));
}

#[test]
fn var_and_sizing_settings_are_named_when_invalid() {
    let cases = [
        (
            PolicyConfig {
                var_window_bars: 99,
                ..config()
            },
            "var_window_bars",
        ),
        (
            PolicyConfig {
                sizing_var_share: 1.5,
                ..config()
            },
            "sizing_var_share",
        ),
        (
            PolicyConfig {
                sizing_vol_target_pct: -0.1,
                ..config()
            },
            "sizing_vol_target_pct",
        ),
    ];
    for (cfg, name) in cases {
        match cfg.validate() {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!("garch".parse::<VarMethod>().is_err());
}

/// The stop the last decision placed stays still while the rule's new level is within
/// `stop_refresh_tolerance` of the stop distance of it and its amount is the one resting;
/// otherwise (too far, another amount, the tolerance off) the rule's level is placed.
#[test]
fn a_resting_stop_stays_within_the_tolerance_at_the_same_amount() {
    let d = data(200, 50_000.0, 0.002);
    let snap_in = snapshot(&d, 50_000.0, 0.0);
    let b = book(1.0, -500); // net long 0.5: a sell stop
    let cfg = |tol: f64| PolicyConfig {
        hedge_ratio_min: 0.3,
        stop_refresh_tolerance: tol,
        ..config()
    };
    let first =
        decide(&cfg(0.0), &market(), &snap_in, &b, &PolicyState::default()).expect("decision");
    let stop_of = |dec: &Decision| {
        let s: Vec<_> = dec.orders.iter().filter(|o| o.role == Role::Stop).collect();
        assert_eq!(s.len(), 1, "one stop: {:?}", dec.orders);
        (s[0].side, s[0].price_ticks, s[0].amount_lots)
    };
    let (side, rule, amount) = stop_of(&first);
    assert_eq!(side, Side::Sell);
    assert_eq!(
        (first.state.sell_stop_ticks, first.state.sell_stop_lots),
        (rule, amount),
        "the state records the stop's price and amount"
    );
    // the tolerance in ticks: 2% of the distance from the reference (no grid buy lies
    // within it of the rule's level, so the amount in front of the stop is the same)
    let reference = first.state.stop_ref_ticks;
    let room = (0.02 * first.metrics.stop_distance * reference as f64).floor() as i64;
    assert!(room > 10, "a room of {room} ticks");
    let resting = |at: i64, lots: i64| PolicyState {
        sell_stop_ticks: at,
        sell_stop_lots: lots,
        ..first.state
    };
    for at in [rule - room, rule - 1, rule + 1, rule + room] {
        let dec =
            decide(&cfg(0.02), &market(), &snap_in, &b, &resting(at, amount)).expect("decision");
        assert_eq!(stop_of(&dec), (Side::Sell, at, amount), "kept at {at}");
        assert_eq!(dec.state.sell_stop_ticks, at);
        assert!(dec.reasons.iter().any(|r| r.code == "stop_kept"));
    }
    for (at, lots, tol) in [
        (rule - room - 1, amount, 0.02), // farther than the tolerance (looser)
        (rule + room + 1, amount, 0.02), // farther than the tolerance (tighter)
        (rule - 1, amount + 1, 0.02),    // another amount
        (rule - 1, amount, 0.0),         // the tolerance off
        (rule - 1, 0, 0.02),             // no recorded amount (an older state)
    ] {
        let dec = decide(&cfg(tol), &market(), &snap_in, &b, &resting(at, lots)).expect("decision");
        assert_eq!(
            stop_of(&dec),
            (Side::Sell, rule, amount),
            "re-placed from {at}"
        );
    }
    // a resting stop the price already went through (the price at it) is not kept: the
    // reference stays the high-water, so the rule's level is the same
    let at = rule + room;
    let through = snapshot(&d, market().ticks_to_f64(at), 0.0);
    for lots in [
        amount,
        stop_of(&decide(&cfg(0.0), &market(), &through, &b, &first.state).expect("decision")).2,
    ] {
        let dec =
            decide(&cfg(0.02), &market(), &through, &b, &resting(at, lots)).expect("decision");
        assert_eq!(stop_of(&dec).1, rule, "not kept at the price");
    }
}

#[test]
fn refresh_tolerances_are_named_when_invalid() {
    for bad in [-0.01, 0.51, f64::NAN] {
        for (field, cfg) in [
            (
                "stop_refresh_tolerance",
                PolicyConfig {
                    stop_refresh_tolerance: bad,
                    ..config()
                },
            ),
            (
                "grid_refresh_tolerance",
                PolicyConfig {
                    grid_refresh_tolerance: bad,
                    ..config()
                },
            ),
        ] {
            let err = cfg.validate().expect_err("invalid");
            assert!(err.to_string().contains(field), "{err}");
        }
    }
}

/// With dynamic spacing, the last decision's spacing stays while the new one is within
/// `grid_refresh_tolerance x last / num_levels` of it, and the grid keeps its prices; farther,
/// below the floor, or with the tolerance off, the new spacing is used.
#[test]
fn dynamic_spacing_keeps_the_last_spacing_within_the_grid_tolerance() {
    let d = data(200, 50_000.0, 0.01);
    let snap_in = snapshot(&d, 50_000.0, 0.0);
    let b = book(1.0, -1000);
    let cfg = |tol: f64| PolicyConfig {
        grid_spacing_pct: 0.001,
        dynamic_spacing: true,
        volatility_multiplier: 3.0,
        grid_refresh_tolerance: tol,
        ..config()
    };
    let first =
        decide(&cfg(0.0), &market(), &snap_in, &b, &PolicyState::default()).expect("decision");
    let rule = first.metrics.spacing;
    assert!(rule > 0.001, "volatility widens the spacing: {rule}");
    assert_eq!(f64::from_bits(first.state.grid_spacing_bits as u64), rule);
    let grid = |dec: &Decision| -> Vec<(i32, i64)> {
        dec.orders
            .iter()
            .filter(|o| o.role == Role::Grid)
            .map(|o| (o.level, o.price_ticks))
            .collect()
    };
    let levels = config().num_levels as f64;
    let room = 0.2 * rule / levels;
    let with_last = |last: f64| PolicyState {
        grid_spacing_bits: last.to_bits() as i64,
        ..first.state
    };
    for last in [rule - 0.9 * room, rule + 0.9 * room] {
        let kept = decide(&cfg(0.2), &market(), &snap_in, &b, &with_last(last)).expect("decision");
        assert_eq!(kept.metrics.spacing, last, "kept {last}");
        assert_eq!(f64::from_bits(kept.state.grid_spacing_bits as u64), last);
        // the same ladder as a decision at that spacing with the tolerance off
        let at_last = decide(
            &PolicyConfig {
                grid_spacing_pct: last,
                dynamic_spacing: false,
                ..cfg(0.0)
            },
            &market(),
            &snap_in,
            &b,
            &with_last(last),
        )
        .expect("decision");
        assert_eq!(grid(&kept), grid(&at_last));
    }
    for (last, tol) in [
        (rule - 1.2 * room, 0.2), // farther than the tolerance (of the last spacing)
        (rule + 1.2 * room, 0.2),
        (rule - 0.5 * room, 0.0), // the tolerance off
        (0.0009, 0.5),            // below the floor (a config changed since)
        (f64::NAN, 0.5),          // no spacing recorded
    ] {
        let dec = decide(&cfg(tol), &market(), &snap_in, &b, &with_last(last)).expect("decision");
        assert_eq!(dec.metrics.spacing, rule, "re-priced from {last}");
        assert_eq!(grid(&dec), grid(&first));
    }
}

proptest! {
    /// The engine's slid volume sum (re-summed in order every `VOLUME_BARS` bars) keeps the
    /// mean volume of the last min(bars held, 24) bars within rounding of the in-order mean,
    /// whatever the window (shorter or longer than 24 bars), restarts included, with volumes
    /// spread over eighteen orders of magnitude (a spike leaving a small remainder is summed
    /// in order, so the mean stays within a relative 2^24 ulps of the in-order one).
    #[test]
    fn the_slid_mean_volume_stays_the_in_order_mean(
        volumes in prop::collection::vec(-6.0f64..12.0, 1..300),
        history in 3usize..60,
        restart_at in 0usize..300,
    ) {
        let mut engine = PolicyEngine::new(config(), market(), history).expect("engine");
        let mut held: Vec<f64> = Vec::new();
        for (k, e) in volumes.iter().enumerate() {
            if k == restart_at {
                engine.reset();
                held.clear();
            }
            let v = 10f64.powf(*e);
            engine
                .push(k as i64 * 60_000, 100.0, 101.0, 99.0, 100.0 + (k % 7) as f64, v)
                .expect("push");
            held.push(v);
            if held.len() < 3 {
                continue;
            }
            let window = &held[held.len().saturating_sub(history.min(VOLUME_BARS))..];
            let want = window.iter().sum::<f64>() / window.len() as f64;
            let got = engine.stats().expect("stats").avg_volume;
            // the rounding of fewer than VOLUME_BARS slides (2 operations each on partial sums
            // of at most VOLUME_BARS volumes) since the last in-order sum: relative to the
            // largest volume those sums held (the last 2 x VOLUME_BARS bars)
            let bound = 2.0 * VOLUME_BARS as f64 * 2f64.powi(24) * f64::EPSILON * want;
            prop_assert!((got - want).abs() <= bound, "{} vs {} at bar {}", got, want, k);
        }
    }
}

#[test]
fn a_halted_engine_reads_the_levels_again_when_the_halt_lifts() {
    // decisions the halt holds leave the support/resistance levels unread; the first decision
    // after a resume (or a cooldown running out) reads them afresh: the same orders as an
    // engine whose levels were read at every bar
    let d = data(600, 50_000.0, 0.03);
    let cfg = PolicyConfig {
        support_resistance: true,
        halt_cooldown: 150,
        ..config()
    };
    let mut lazy = PolicyEngine::new(cfg.clone(), market(), 120).expect("engine");
    let mut eager = PolicyEngine::new(cfg.clone(), market(), 120).expect("engine");
    let book = Book {
        spot_amount: 1.0,
        futures_lots: -1000,
        equity: 50_000.0,
        high_water_mark: 50_000.0,
    };
    let (mut state, mut resumed, mut held) = (PolicyState::default(), 0, 0);
    for i in 0..600 {
        for e in [&mut lazy, &mut eager] {
            let t = i as i64 * 60_000;
            e.push(t, d.open[i], d.high[i], d.low[i], d.close[i], d.volume[i])
                .expect("push");
        }
        if i < 130 {
            continue;
        }
        // halted from bar 200, resumed by the trader at 300; halted again at 410, lifted by the
        // cooldown 150 decisions later
        if i == 200 || i == 410 {
            state.halted = true;
            state.halt_age = 0;
        }
        if i == 300 {
            assert!(state.halted);
            state.halted = false;
            resumed += 1;
        }
        held += usize::from(super::halt::holds(&cfg, &state));
        eager.stats().expect("stats");
        let price = d.close[i];
        let got = lazy
            .decide(price, 0.0, &book, &state, false)
            .expect("decide");
        let want = eager
            .decide(price, 0.0, &book, &state, false)
            .expect("decide");
        assert_eq!(got.orders, want.orders, "bar {i}");
        assert_eq!(got.state, want.state, "bar {i}");
        state = got.state;
        if got.resumed {
            resumed += 1;
        }
    }
    assert_eq!(resumed, 2, "a resume by the trader and one by the cooldown");
    assert!(held > 100, "{held} decisions held by the halt");
    assert!(!lazy.last_stats().sr_levels.is_empty());
}
