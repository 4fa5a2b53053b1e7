use super::*;
use crate::backtest::tests::{candles as candles_with_wicks, market, series, Data};
use crate::backtest::{self, BacktestConfig, Record};
use crate::fills::FillParams;
use crate::policy::tests::config;
use std::str::FromStr;

/// Candles with 0.2% wicks around closes `c`.
fn candles(c: Vec<f64>, volume: f64) -> Data {
    candles_with_wicks(c, volume, 0.002)
}

/// A deterministic normal stream (xorshift + Box-Muller).
struct Normals(u64);

impl Normals {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn next(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Two legs with correlated returns (`rho`), the second `vol_ratio` times as volatile.
fn pair(n: usize, rho: f64, vol_ratio: f64, seed: u64) -> [Data; 2] {
    let mut z = Normals(seed);
    let sigma = 0.006;
    let (mut p1, mut p2) = (50_000.0, 3_000.0);
    let mut c1 = Vec::with_capacity(n);
    let mut c2 = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = (z.next(), z.next());
        p1 *= 1.0 + sigma * a;
        p2 *= 1.0 + sigma * vol_ratio * (rho * a + (1.0 - rho * rho).sqrt() * b);
        c1.push(p1);
        c2.push(p2);
    }
    [candles(c1, 50.0), candles(c2, 800.0)]
}

fn leg(symbol: &str, spot: &str, var_limit: f64) -> BacktestConfig {
    BacktestConfig {
        policy: PolicyConfig {
            max_position_size: 1e9,
            hedge_ratio_min: 0.5,
            hedge_ratio_max: 1.2,
            var_limit,
            ..config()
        },
        fill: FillParams::new(0.1, 0.0002, 0.0005).expect("fill"),
        history_bars: 100,
        cadence: 3,
        start: 120,
        spot_amount: Decimal::from_str(spot).expect("spot"),
        cash: Decimal::ZERO,
        max_active_orders: 50,
        bot_id: format!("{}-grid", symbol.to_lowercase()),
        symbol: symbol.into(),
        plain_grid: false,
        baseline_rebalance_bars: 0,
    }
}

fn portfolio(legs: Vec<BacktestConfig>, var_limit: f64) -> PortfolioBacktestConfig {
    PortfolioBacktestConfig {
        legs,
        var_limit,
        max_drawdown: 0.5,
        confidence: 0.95,
        horizon_bars: 24,
        method: CovMethod::Ewma { lambda: 0.97 },
        lookback_bars: 100,
        weights: None,
        start: 120,
        cadence: 3,
    }
}

const ALL: Record = Record {
    events: true,
    series: true,
};

fn same_run(a: &BacktestResult, b: &BacktestResult) {
    assert_eq!(a.events(), b.events());
    assert_eq!(a.orders, b.orders);
    assert_eq!(a.fills, b.fills);
    assert_eq!(a.equity.len(), b.equity.len());
    for (x, y) in a.equity.iter().zip(&b.equity) {
        assert_eq!(x.to_bits(), y.to_bits());
    }
    assert_eq!(a.position, b.position);
    assert_eq!(a.metrics, b.metrics);
}

#[test]
fn one_leg_is_the_single_backtest_exactly() {
    let [btc, _] = pair(600, 0.8, 1.3, 7);
    let cfg = portfolio(vec![leg("BTCUSDT", "1", 1e9)], 1e12);
    let m = [market()];
    let r = run(&cfg, &m, &[series(&btc)], ALL).expect("portfolio");
    let single = backtest::run(&cfg.legs[0], &m[0], &series(&btc), ALL).expect("single");
    assert!(
        single.metrics.fills > 5,
        "the grid trades: {}",
        single.metrics.fills
    );
    same_run(&r.legs[0], &single);
    assert_eq!(r.metrics.rebalances, single.metrics.decisions);
    assert_eq!(r.metrics.rebalances_shrunk, 0);
    assert!(r.reasons.is_empty());
}

#[test]
fn unbound_legs_are_independent_backtests() {
    let [btc, eth] = pair(600, 0.8, 1.3, 11);
    let legs = vec![leg("BTCUSDT", "1", 1e9), leg("ETHUSDT", "20", 1e9)];
    let cfg = portfolio(legs, 1e12);
    let m = [market(), market()];
    let data = [series(&btc), series(&eth)];
    let r = run(&cfg, &m, &data, ALL).expect("portfolio");
    for i in 0..2 {
        let single = backtest::run(&cfg.legs[i], &m[i], &data[i], ALL).expect("single");
        assert!(single.metrics.fills > 5);
        same_run(&r.legs[i], &single);
    }
    // the portfolio equity is the legs' sum, bar by bar
    for (k, e) in r.equity.iter().enumerate() {
        assert_eq!(*e, r.legs[0].equity[k] + r.legs[1].equity[k]);
    }
}

#[test]
fn a_correlated_pair_over_the_limit_is_shrunk_largest_contributor_first() {
    let [btc, eth] = pair(700, 0.8, 1.3, 3);
    // each leg's own limit is loose; the portfolio's binds on the pair, not on either leg
    let legs = vec![leg("BTCUSDT", "1", 1e9), leg("ETHUSDT", "16", 1e9)];
    let probe = run(
        &portfolio(legs.clone(), 1e12),
        &[market(), market()],
        &[series(&btc), series(&eth)],
        ALL,
    )
    .expect("probe");
    let first = &probe.rebalances[0];
    let alone: Vec<f64> = (0..2).map(|i| first.components[i].abs().max(0.0)).collect();
    assert!(alone.iter().all(|v| *v > 0.0));
    let limit = 0.8 * first.var;
    let r = run(
        &portfolio(legs, limit),
        &[market(), market()],
        &[series(&btc), series(&eth)],
        ALL,
    )
    .expect("portfolio");
    assert!(r.metrics.rebalances_shrunk > 0);
    for rb in &r.rebalances {
        assert!(
            rb.var_after <= limit * (1.0 + 1e-9),
            "bar {}: {} > {}",
            rb.bar,
            rb.var_after,
            limit
        );
        if rb.var > limit {
            assert!(rb.multipliers.iter().any(|&m| m < 1.0));
            // the largest contributor is shrunk at least as much as any other leg
            let top = if rb.components[0] >= rb.components[1] {
                0
            } else {
                1
            };
            assert!(rb.multipliers[top] <= rb.multipliers[1 - top]);
            assert!(rb.multipliers[top] < 1.0);
        } else {
            assert!(rb.multipliers.iter().all(|&m| m == 1.0));
        }
        for (k, &s) in rb.band_scales.iter().enumerate() {
            assert!(s > 0.0 && s <= 1.0);
            assert!((s - rb.multipliers[k].clamp(1e-6, 1.0)).abs() <= 5e-7);
        }
    }
    assert!(r.reasons.iter().any(|(_, why)| why.contains("shrinking")));
    // the shrink changed the legs' trading
    assert_ne!(r.legs[1].events(), probe.legs[1].events());
}

#[test]
fn budgets_lower_each_legs_var_limit_never_above_its_own() {
    let [btc, eth] = pair(500, 0.9, 1.3, 5);
    let legs = vec![leg("BTCUSDT", "1", 900.0), leg("ETHUSDT", "16", 700.0)];
    let cfg = portfolio(legs, 1000.0);
    let r = run(
        &cfg,
        &[market(), market()],
        &[series(&btc), series(&eth)],
        ALL,
    )
    .expect("run");
    let mut lowered = 0;
    for rb in &r.rebalances {
        assert!(rb.var_limits[0] <= 900.0 && rb.var_limits[1] <= 700.0);
        assert!(rb.var_limits.iter().all(|v| *v > 0.0));
        let shares: f64 = rb.shares.iter().sum();
        assert!(shares <= 1000.0 * (1.0 + 1e-12));
        lowered += rb
            .var_limits
            .iter()
            .zip([900.0, 700.0])
            .filter(|(v, c)| **v < *c)
            .count();
    }
    assert!(lowered > 0);
    assert!(
        r.reasons
            .iter()
            .any(|(_, why)| why.contains("var_limit 900.00 ->")
                || why.contains("var_limit 700.00 ->"))
    );
}

#[test]
fn leg_policy_narrows_the_band_exactly_and_caps_the_limit() {
    let p = PolicyConfig {
        hedge_ratio: 1.0,
        hedge_ratio_min: 0.5,
        hedge_ratio_max: 1.2,
        var_limit: 800.0,
        ..config()
    };
    let q = leg_policy(&p, Decimal::from_str("0.25").expect("d"), 1e9).expect("policy");
    assert_eq!(q.hedge_ratio_min, 0.875);
    assert_eq!(q.hedge_ratio_max, 1.05);
    assert_eq!(q.var_limit, 800.0);
    let q = leg_policy(&p, Decimal::ONE, 300.0).expect("policy");
    assert_eq!(
        (q.hedge_ratio_min, q.hedge_ratio_max, q.var_limit),
        (0.5, 1.2, 300.0)
    );
    assert!(leg_policy(&p, Decimal::ZERO, 1.0).is_err());
    assert!(leg_policy(&p, Decimal::from_str("1.5").expect("d"), 1.0).is_err());
    assert_eq!(band_scale(0.1234565).expect("s").to_string(), "0.123456");
    assert_eq!(band_scale(0.0).expect("s").to_string(), "0.000001");
    assert_eq!(band_scale(2.0).expect("s").to_string(), "1");
}

fn field_of(e: Error) -> String {
    match e {
        Error::InvalidInput { field, .. } => field,
        Error::Numerical { what, .. } => panic!("expected an input error, got {what}"),
    }
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_leg_and_bar() {
    let [btc, mut eth] = pair(300, 0.8, 1.3, 9);
    let legs = vec![leg("BTCUSDT", "1", 1e9), leg("ETHUSDT", "16", 1e9)];
    let cfg = portfolio(legs.clone(), 1e6);
    let m = [market(), market()];
    // zero legs
    let e = run(&portfolio(vec![], 1e6), &[], &[], ALL).expect_err("no legs");
    assert_eq!(field_of(e), "legs");
    // misaligned bar
    eth.ts[137] += 1;
    let e = run(&cfg, &m, &[series(&btc), series(&eth)], ALL).expect_err("misaligned");
    let text = e.to_string();
    assert_eq!(field_of(e), "legs[1] (ETHUSDT).timestamp[137]", "{text}");
    eth.ts[137] -= 1;
    // a missing bar
    let short = candles(eth.c[..299].to_vec(), 800.0);
    let e = run(&cfg, &m, &[series(&btc), series(&short)], ALL).expect_err("short");
    assert_eq!(field_of(e), "legs[1] (ETHUSDT).timestamp");
    // NaN
    eth.c[200] = f64::NAN;
    let e = run(&cfg, &m, &[series(&btc), series(&eth)], ALL).expect_err("nan");
    assert_eq!(field_of(e), "legs[1] (ETHUSDT).close[200]");
    eth.c[200] = 3000.0;
    // settings
    let mut bad = cfg.clone();
    bad.var_limit = f64::NAN;
    assert_eq!(
        field_of(run(&bad, &m, &[series(&btc), series(&eth)], ALL).expect_err("limit")),
        "var_limit"
    );
    let mut bad = cfg.clone();
    bad.start = 1;
    assert_eq!(
        field_of(run(&bad, &m, &[series(&btc), series(&eth)], ALL).expect_err("start")),
        "start"
    );
    let e = run(&cfg, &m[..1], &[series(&btc), series(&eth)], ALL).expect_err("markets");
    assert_eq!(field_of(e), "markets");
}

#[test]
fn a_portfolio_drawdown_halts_and_cancels_every_leg() {
    // ETH crashes: the pair's equity falls through max_drawdown
    let [btc, mut eth] = pair(400, 0.0, 0.2, 13);
    for k in 200..400 {
        eth.c[k] = eth.c[199] * (1.0 - 0.004 * (k - 199) as f64).max(0.05);
    }
    let eth = candles(eth.c, 800.0);
    // ETH barely hedged (band [0, 0.2]), its own drawdown halt and stop far away
    let mut unhedged = leg("ETHUSDT", "40", 1e9);
    unhedged.policy.hedge_ratio = 0.0;
    unhedged.policy.hedge_ratio_min = 0.0;
    unhedged.policy.hedge_ratio_max = 0.2;
    unhedged.policy.max_drawdown = 0.9;
    unhedged.policy.stop_loss_pct = 0.9;
    let legs = vec![leg("BTCUSDT", "1", 1e9), unhedged];
    let mut cfg = portfolio(legs, 1e12);
    cfg.max_drawdown = 0.05;
    let r = run(
        &cfg,
        &[market(), market()],
        &[series(&btc), series(&eth)],
        ALL,
    )
    .expect("run");
    assert!(r.metrics.halted);
    let at = r.metrics.halt_bar;
    assert!(at > 200 && at < 400, "halt at {at}");
    let last = r.rebalances.last().expect("rebalances");
    assert!(last.halted && last.bar == at && last.drawdown < -0.05);
    assert!(r
        .reasons
        .iter()
        .any(|(b, why)| *b == at && why.contains("halting")));
    for l in &r.legs {
        // nothing is placed after the halt, and nothing stays open
        assert!(l.events().iter().all(|e| e.bar <= at));
        assert!(l
            .orders
            .rows()
            .all(|o| o.filled_lots == o.amount_lots || o.cancelled_bar.is_some_and(|b| b <= at)));
    }
}
