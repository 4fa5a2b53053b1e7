use super::*;
use crate::policy::tests::config;

pub(crate) fn market() -> Market {
    Market::new("0.10", "0.001", "0.001", "10").expect("valid")
}

/// Hourly OHLCV candles with 8-hourly funding (shared with the portfolio backtester's tests).
pub(crate) struct Data {
    pub(crate) ts: Vec<i64>,
    pub(crate) o: Vec<f64>,
    pub(crate) h: Vec<f64>,
    pub(crate) l: Vec<f64>,
    pub(crate) c: Vec<f64>,
    pub(crate) v: Vec<f64>,
    pub(crate) ft: Vec<i64>,
    pub(crate) fr: Vec<f64>,
}

/// A deterministic wavy market with consistent OHLC.
fn data(n: usize) -> Data {
    let c: Vec<f64> = (0..n)
        .map(|i| {
            let x = i as f64;
            50_000.0 * (1.0 + 0.03 * (x * 0.11).sin() + 0.01 * (x * 0.53).cos())
        })
        .collect();
    candles(c, 50.0, 0.003)
}

/// Candles around closes `c`: each bar opens at the previous close, wicks `wick` (a fraction)
/// beyond its body, trades `volume`; hourly bars, funding every 8 hours.
pub(crate) fn candles(c: Vec<f64>, volume: f64, wick: f64) -> Data {
    let n = c.len();
    let o: Vec<f64> = (0..n)
        .map(|i| if i == 0 { c[0] } else { c[i - 1] })
        .collect();
    let h = o
        .iter()
        .zip(&c)
        .map(|(a, b)| a.max(*b) * (1.0 + wick))
        .collect();
    let l = o
        .iter()
        .zip(&c)
        .map(|(a, b)| a.min(*b) * (1.0 - wick))
        .collect();
    let hour = 3_600_000;
    Data {
        ts: (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * hour)
            .collect(),
        o,
        h,
        l,
        c,
        v: vec![volume; n],
        ft: (0..n as i64 / 8)
            .map(|k| 1_700_000_000_000 + (k * 8 + 1) * hour)
            .collect(),
        fr: (0..n / 8)
            .map(|k| 0.0001 * ((k % 3) as f64 - 0.5))
            .collect(),
    }
}

pub(crate) fn series(d: &Data) -> Series<'_> {
    Series {
        timestamp: &d.ts,
        open: &d.o,
        high: &d.h,
        low: &d.l,
        close: &d.c,
        volume: &d.v,
        funding_time: &d.ft,
        funding_rate: &d.fr,
    }
}

fn bt() -> BacktestConfig {
    BacktestConfig {
        policy: PolicyConfig {
            max_position_size: 2.0,
            ..config()
        },
        fill: FillParams::new(0.1, 0.0002, 0.0005).expect("fill"),
        history_bars: 100,
        cadence: 2,
        start: 99,
        spot_amount: Decimal::ONE,
        cash: Decimal::ZERO,
        max_active_orders: 50,
        bot_id: "bt".into(),
        symbol: "BTCUSDT".into(),
        plain_grid: false,
        baseline_rebalance_bars: 0,
    }
}

const ALL: Record = Record {
    events: true,
    series: true,
};

#[test]
fn a_run_trades_the_grid_and_keeps_its_books() {
    let d = data(800);
    let r = run(&bt(), &market(), &series(&d), ALL).expect("run");
    let m = r.metrics;
    assert_eq!(m.bars, 701);
    assert_eq!(r.equity.len(), 701);
    assert!(m.fills > 10, "fills: {}", m.fills);
    assert!(m.orders_placed > 10 && m.decisions == 351);
    assert!(m.funding_pnl != 0.0 && m.fees > 0.0);
    assert!(m.hedge_effectiveness > 0.5, "{m:?}");
    assert!((0.0..1.0).contains(&m.max_drawdown));
    assert!(
        m.var_observations > 0 && m.kupiec_p_value.is_finite(),
        "{m:?}"
    );
    // every fill belongs to an order placed on an earlier bar, never more than its amount
    let mut filled = vec![0i64; r.orders.len()];
    let events = r.events();
    assert_eq!(
        events.len(),
        m.orders_placed + m.orders_cancelled + m.fills,
        "every placement, cancel and fill is one event"
    );
    for e in &events {
        let o = r.orders.row(e.order);
        match e.kind {
            EventKind::Fill => {
                assert!(e.bar > o.placed_bar);
                filled[e.order] += e.lots;
                assert!(filled[e.order] <= o.amount_lots);
            }
            EventKind::Place => assert_eq!(e.bar, o.placed_bar),
            EventKind::Cancel => assert_eq!(Some(e.bar), o.cancelled_bar),
        }
    }
    // the client ids are the order manager's: per-key sequence numbers from 1
    let id = r.client_order_id(&bt(), 0).expect("id");
    assert!(id.starts_with("gh") && id.ends_with("-1"), "{id}");
    // metrics-only runs give the same metrics
    let lean = run(
        &bt(),
        &market(),
        &series(&d),
        Record {
            events: false,
            series: false,
        },
    )
    .expect("run");
    assert_eq!(lean.metrics, m);
    assert!(lean.events().is_empty() && lean.orders.is_empty() && lean.equity.is_empty());
}

#[test]
fn deterministic_and_sweep_matches_single_runs() {
    let d = data(400);
    let cfgs: Vec<BacktestConfig> = [0.005, 0.01, 0.02]
        .iter()
        .map(|&s| BacktestConfig {
            policy: PolicyConfig {
                grid_spacing_pct: s,
                ..bt().policy
            },
            ..bt()
        })
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let swept = sweep(&cfgs, &market(), &series(&d), 2, &done).expect("sweep");
    assert_eq!(done.into_inner(), 3);
    for (cfg, m) in cfgs.iter().zip(swept) {
        let single = run(cfg, &market(), &series(&d), ALL).expect("run");
        assert_eq!(m.expect("metrics"), single.metrics);
    }
}

#[test]
fn sweep_excess_bootstraps_each_runs_series() {
    let d = data(400);
    let cfgs: Vec<BacktestConfig> = [0.005, 0.02]
        .iter()
        .map(|&s| BacktestConfig {
            policy: PolicyConfig {
                grid_spacing_pct: s,
                ..bt().policy
            },
            ..bt()
        })
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let swept =
        sweep_excess(&cfgs, &market(), &series(&d), 2, &done, Some((300, 7))).expect("sweep");
    for (cfg, r) in cfgs.iter().zip(swept) {
        let (m, excess) = r.expect("run");
        let single = run(cfg, &market(), &series(&d), ALL).expect("run");
        assert_eq!(m, single.metrics);
        let want = baseline::excess_bootstrap(&single.equity, &single.static_equity, 0, 300, 7)
            .expect("bootstrap");
        assert_eq!(excess, Some(want));
    }
}

#[test]
fn bad_inputs_are_named() {
    let d = data(50);
    let s = series(&d);
    let err = |cfg: BacktestConfig| match run(&cfg, &market(), &s, ALL) {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(err(BacktestConfig { start: 50, ..bt() }), "start");
    assert_eq!(
        err(BacktestConfig {
            start: 10,
            cadence: 0,
            ..bt()
        }),
        "cadence"
    );
    let mut bad = data(50);
    bad.ts[7] = bad.ts[6];
    assert!(matches!(
        run(&BacktestConfig { start: 10, ..bt() }, &market(), &series(&bad), ALL),
        Err(Error::InvalidInput { field, .. }) if field == "timestamp[7]"
    ));
}

#[test]
fn a_bad_bar_fails_when_the_run_reaches_it() {
    let mut bad = data(300);
    bad.h[250] = bad.l[250] * 0.5; // a high below the low
    let s = series(&bad);
    assert_eq!(s.first_invalid_bar(100), 250);
    assert_eq!(s.first_invalid_bar(251), 300);
    let (cfg, m) = (bt(), market());
    let mut leg = LegSim::new(&cfg, &m, &s, ALL).expect("leg");
    for j in cfg.start..250 {
        leg.step(j).expect("the bars before the bad one");
    }
    let want = s.bar(250).check("bar").expect_err("a bad bar");
    let got = leg.step(250).expect_err("the bad bar");
    assert_eq!(got.to_string(), want.to_string());
}

#[test]
fn kupiec_matches_the_textbook() {
    // 250 observations, 95%: 12.5 expected; 20 exceptions -> LR = 4.0395, p = 0.0444
    let (lr, p) = kupiec_pof(250, 20, 0.05);
    assert!((lr - 4.0395).abs() < 1e-3, "{lr}");
    assert!((p - 0.0444).abs() < 1e-3, "{p}");
    let (lr0, p0) = kupiec_pof(100, 5, 0.05);
    assert!(lr0.abs() < 1e-12 && (p0 - 1.0).abs() < 1e-12);
    assert!(kupiec_pof(0, 0, 0.05).0.is_nan());
    assert!(kupiec_pof(10, 0, 0.05).0 > 0.0);
}

#[test]
fn plain_grid_fills_trade_through_next_bar_and_alternate() {
    let d = data(400);
    let cfg = BacktestConfig {
        plain_grid: true,
        policy: PolicyConfig {
            num_levels: 5,
            grid_spacing_pct: 0.01,
            ..bt().policy
        },
        ..bt()
    };
    let r = run(&cfg, &market(), &series(&d), ALL).expect("plain run");
    let (levels, lots) = plain_levels(&cfg, &market(), d.c[cfg.start]).expect("levels");
    assert_eq!(levels.len(), 11);
    assert!(lots >= 1);
    assert!(!r.fills.is_empty());
    assert_eq!(r.metrics.fills, r.fills.len());
    assert_eq!(r.metrics.decisions, 0);
    assert_eq!(r.equity.len(), 400 - cfg.start);
    let tick = market().tick_f64();
    let mut last: Option<(usize, usize)> = None; // (bar, level) of the previous fill
    for f in &r.fills {
        assert!(f.bar > cfg.start);
        assert_eq!(f.price_ticks, levels[f.order]);
        match f.side {
            Side::Sell => assert!(d.h[f.bar] / tick >= (f.price_ticks + 1) as f64 - 1e-6),
            Side::Buy => assert!(d.l[f.bar] / tick <= (f.price_ticks - 1) as f64 + 1e-6),
        }
        if let Some((bar, level)) = last {
            // the order a fill places sits next to it and cannot fill in the same bar
            assert!(f.bar > bar || f.order.abs_diff(level) != 1 || f.side == r.fills[0].side);
        }
        last = Some((f.bar, f.order));
    }
    let pos: i64 = r
        .fills
        .iter()
        .map(|f| if f.side == Side::Buy { f.lots } else { -f.lots })
        .sum();
    // the one-division metrics agree with the series they summarise
    let mut peak = f64::NEG_INFINITY;
    let mut mdd = 0.0f64;
    for &e in &r.equity {
        peak = peak.max(e);
        mdd = mdd.max(1.0 - e / peak);
    }
    assert_eq!(r.metrics.max_drawdown, mdd);
    let ch: Vec<f64> = r.equity.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = ch.iter().sum::<f64>() / ch.len() as f64;
    let var = ch.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (ch.len() - 1) as f64;
    let spot: Vec<f64> = d.c[cfg.start..].windows(2).map(|w| w[1] - w[0]).collect();
    let sm = spot.iter().sum::<f64>() / spot.len() as f64;
    let sv = spot.iter().map(|x| (x - sm).powi(2)).sum::<f64>() / (spot.len() - 1) as f64;
    assert!((r.metrics.hedge_effectiveness - (1.0 - var / sv)).abs() < 1e-9);
    let lot = market().lot_f64();
    let last_pos = r.position.last().copied().unwrap_or(0.0);
    assert!((pos as f64 * lot - last_pos).abs() < 1e-9);
}

#[test]
fn attribution_baselines_and_the_var_test_agree_with_the_series() {
    let d = data(800);
    let r = run(&bt(), &market(), &series(&d), ALL).expect("run");
    let m = r.metrics;
    // the attribution sums to the PnL, which is the equity's change
    let parts = m.pnl_spot + m.pnl_grid + m.pnl_drift + m.pnl_fees + m.pnl_funding;
    assert!((parts - m.pnl).abs() < 1e-6, "{parts} vs {}", m.pnl);
    assert!((m.pnl - (r.equity[r.equity.len() - 1] - r.equity[0])).abs() < 1e-9);
    // the drift is the position held from close to close times the move
    let close = &d.c[r.first_bar..];
    let drift: f64 = (1..close.len())
        .map(|t| r.position[t - 1] * (close[t] - close[t - 1]))
        .sum();
    assert!(
        (drift - m.pnl_drift).abs() < 1e-6,
        "{drift} vs {}",
        m.pnl_drift
    );
    // baselines on the same bars, their series beside the grid's
    assert_eq!(r.static_equity.len(), r.equity.len());
    assert_eq!(r.unhedged_equity.len(), r.equity.len());
    let s = &r.static_equity;
    assert!((m.static_pnl - (s[s.len() - 1] - s[0])).abs() < 1e-9);
    assert!((m.excess_pnl - (m.pnl - m.static_pnl)).abs() < 1e-12);
    assert!((m.unhedged_pnl - (close[close.len() - 1] - close[0])).abs() < 1e-9);
    // every bar after the first is a VaR observation at 95% and 99%
    assert_eq!(m.var_observations, m.bars - 1);
    let loss: Vec<f64> = (1..r.equity.len())
        .map(|t| r.equity[t - 1] - r.equity[t] - var_noise(close[t], r.equity[t]))
        .collect();
    let x95 = loss
        .iter()
        .zip(&r.var95[1..])
        .filter(|(l, v)| l > v)
        .count();
    let x99 = loss
        .iter()
        .zip(&r.var99[1..])
        .filter(|(l, v)| l > v)
        .count();
    assert_eq!((x95, x99), (m.var95_exceptions, m.var99_exceptions));
    assert!(m.var99_exceptions <= m.var95_exceptions);
    for p in [
        m.kupiec_p_95,
        m.christoffersen_p_95,
        m.conditional_coverage_p_95,
    ] {
        assert!((0.0..=1.0).contains(&p), "{m:?}");
    }
    assert_eq!((m.bar_ms, m.gaps, m.missing_bars), (3_600_000, 0, 0));
}

#[test]
fn the_bar_length_is_the_median_step_and_gaps_are_counted() {
    let d = data(60);
    let mut ts = d.ts.clone();
    ts.remove(1); // a missing bar at the very start
    ts.remove(30);
    ts.remove(30); // two more in the middle
    let n = ts.len();
    let s = Series {
        timestamp: &ts,
        ..series(&d)
    };
    let s = Series {
        open: &s.open[..n],
        high: &s.high[..n],
        low: &s.low[..n],
        close: &s.close[..n],
        volume: &s.volume[..n],
        ..s
    };
    assert_eq!(s.bar_ms(), 3_600_000);
    assert_eq!(s.gaps(), (2, 3));
}

#[test]
fn order_table_rows_read_back_what_was_pushed() {
    use crate::fills::OrderKind;
    use crate::policy::Role;
    let mut t = OrderTable::default();
    let mut rows = Vec::new();
    for (i, (role, side, kind)) in [
        (Role::Grid, Side::Sell, OrderKind::Limit),
        (Role::Rebalance, Side::Buy, OrderKind::Market),
        (Role::Stop, Side::Buy, OrderKind::StopMarket),
        (Role::Grid, Side::Buy, OrderKind::Limit),
    ]
    .into_iter()
    .enumerate()
    {
        let row = OrderRow {
            key: crate::orders::OrderKey {
                role,
                side,
                level: if side == Side::Buy {
                    -(i as i32)
                } else {
                    i as i32
                },
            },
            sequence: 7 + i as u64,
            kind,
            side,
            price_ticks: 1000 + i as i64,
            amount_lots: 3 + i as i64,
            filled_lots: i as i64,
            placed_bar: 10 * i,
            cancelled_bar: (i % 2 == 0).then_some(10 * i + 5),
        };
        assert_eq!(t.push(&row), i);
        rows.push(row);
    }
    assert_eq!(t.len(), 4);
    assert_eq!(t.rows().collect::<Vec<_>>(), rows);
    assert_eq!(t.cancelled_bar, [5, -1, 25, -1]);
}

proptest::proptest! {
    /// The bar length is the lower median of the steps (reference: sort the steps), evenly
    /// spaced or not.
    #[test]
    fn the_bar_length_is_the_sorted_steps_lower_median(
        steps in proptest::collection::vec(proptest::prop_oneof![3 => proptest::strategy::Just(60_000i64), 1 => 1i64..200_000], 1..40),
    ) {
        let mut ts = vec![1_700_000_000_000i64];
        for s in &steps {
            ts.push(ts[ts.len() - 1] + s);
        }
        let n = ts.len();
        let zeros = vec![1.0; n];
        let data = Series {
            timestamp: &ts,
            open: &zeros,
            high: &zeros,
            low: &zeros,
            close: &zeros,
            volume: &zeros,
            funding_time: &[],
            funding_rate: &[],
        };
        let mut sorted = steps.clone();
        sorted.sort_unstable();
        proptest::prop_assert_eq!(data.bar_ms(), sorted[(sorted.len() - 1) / 2]);
    }
}
