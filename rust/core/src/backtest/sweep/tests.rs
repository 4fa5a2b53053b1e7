use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::super::tests::{candles, market, series, Data};
use super::*;
use crate::fills::FillParams;
use crate::grid::GridMode;
use crate::policy::tests::config;
use crate::policy::{VarMethod, VolEstimator};

/// A random walk of `n` hourly closes with a crash in the middle (stops and halts fire).
fn walk(seed: u64, n: usize) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p = 50_000.0;
    let c = (0..n)
        .map(|i| {
            let drift = if (n / 2..n / 2 + 20).contains(&i) {
                -0.01
            } else {
                0.0
            };
            p *= 1.0 + drift + 0.012 * (rng.random::<f64>() - 0.5);
            p
        })
        .collect();
    candles(c, 40.0, 0.002)
}

/// Statistics settings drawn from `rng` (estimator, VaR, S/R, trend window, history, cadence).
fn statistics(rng: &mut ChaCha8Rng) -> BacktestConfig {
    let history = [40, 80][rng.random_range(0..2)];
    let mut cfg = BacktestConfig {
        policy: PolicyConfig {
            volatility_estimator: [
                VolEstimator::Ewma,
                VolEstimator::CloseToClose,
                VolEstimator::Parkinson,
                VolEstimator::GarmanKlass,
            ][rng.random_range(0..4)],
            var_method: [VarMethod::Fhs, VarMethod::Sqrt][rng.random_range(0..2)],
            var_window_bars: [150, 300][rng.random_range(0..2)],
            var_horizon_bars: [6, 24][rng.random_range(0..2)],
            var_confidence: [0.95, 0.99][rng.random_range(0..2)],
            support_resistance: rng.random(),
            sr_tolerance_pct: [0.002, 0.004][rng.random_range(0..2)],
            trend_guard_bars: [0, 15][rng.random_range(0..2)],
            ..config()
        },
        fill: FillParams::new(0.1, 0.0002, 0.0005).expect("fill"),
        history_bars: history,
        // 100 bars apart: more than a window, the engine restarts at each decision
        cadence: [1, 3, 100][rng.random_range(0..3)],
        start: history - 1 + rng.random_range(0..20),
        spot_amount: Decimal::ONE,
        cash: Decimal::ZERO,
        max_active_orders: 50,
        bot_id: "sw".into(),
        symbol: "BTCUSDT".into(),
        plain_grid: false,
        baseline_rebalance_bars: 0,
    };
    cfg.policy.var_limit = 1e9;
    cfg
}

/// `base` with the decision's settings drawn from `rng` (its statistics settings kept).
/// [`decision`], now and then with one statistics setting off the base's (a key of its own).
fn near(base: &BacktestConfig, rng: &mut ChaCha8Rng) -> BacktestConfig {
    let mut base = base.clone();
    match rng.random_range(0..16) {
        0 => base.cadence += 1,
        1 => base.start += 1,
        2 => base.history_bars += 1,
        3 => base.policy.trend_guard_bars = 10,
        4 => base.policy.sr_tolerance_pct *= 1.5,
        5 => base.policy.var_confidence = 0.975,
        _ => {}
    }
    decision(&base, rng)
}

fn decision(base: &BacktestConfig, rng: &mut ChaCha8Rng) -> BacktestConfig {
    let lo = rng.random_range(0.5..1.0);
    let hi = rng.random_range(1.0..1.5);
    let p = &base.policy;
    BacktestConfig {
        policy: PolicyConfig {
            grid_spacing_pct: rng.random_range(0.002..0.03),
            num_levels: rng.random_range(1..8),
            grid_mode: [GridMode::Geometric, GridMode::Arithmetic][rng.random_range(0..2)],
            dynamic_spacing: rng.random(),
            volatility_multiplier: rng.random_range(0.5..3.0),
            stop_loss_pct: rng.random_range(0.005..0.1),
            max_drawdown: rng.random_range(0.01..0.3),
            max_position_size: rng.random_range(0.3..4.0),
            hedge_ratio_min: lo,
            // few distinct static hedges (ratio, cash, spot), so legs share their baselines
            hedge_ratio: [1.0, lo][rng.random_range(0..2)],
            hedge_ratio_max: hi,
            halt_cooldown: rng.random_range(0..3) * 20,
            funding_tilt: rng.random(),
            var_limit: [1e9, 300.0][rng.random_range(0..2)],
            sizing_vol_target_pct: [0.0, 0.002][rng.random_range(0..2)],
            ..p.clone()
        },
        spot_amount: Decimal::from(rng.random_range(1..4)),
        cash: Decimal::from([0, 10_000][rng.random_range(0..2)]),
        max_active_orders: rng.random_range(1..40),
        plain_grid: rng.random_range(0..12) == 0,
        ..base.clone()
    }
}

fn metrics_of(r: &Result<SweptRun>) -> String {
    format!("{:?}", r.as_ref().map(|(m, e)| (m, e)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// A shared sweep's results are bit for bit each configuration run alone ([`run`]):
    /// random statistics groups, decisions, chunk sizes and thread counts, an invalid
    /// configuration, and bars that break the statistics (the chunks' fallback).
    #[test]
    fn a_shared_sweep_is_each_config_run_alone(
        seed in any::<u64>(), bars in 300usize..700, count in 2usize..14, groups in 1usize..4,
        cap in 1usize..7, threads in 1usize..3, poison in 0u8..4, boot in any::<bool>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut d = walk(seed, bars);
        if poison == 0 {
            // a bar the statistics reject (the fill model and the marks take it)
            let k = rng.random_range(bars / 2..bars);
            d.v[k] = -1.0;
        }
        let bases: Vec<BacktestConfig> = (0..groups).map(|_| statistics(&mut rng)).collect();
        let mut configs: Vec<BacktestConfig> = (0..count)
            .map(|_| near(&bases[rng.random_range(0..groups)], &mut rng))
            .collect();
        if rng.random() {
            let k = rng.random_range(0..count);
            configs[k].start = bars; // out of range: an error naming `start`
        }
        let data = series(&d);
        let done = AtomicUsize::new(0);
        let bootstrap = boot.then_some((100, seed));
        let swept = sweep_chunked(&configs, &market(), &data, threads, &done, bootstrap, cap)
            .expect("sweep");
        prop_assert_eq!(done.into_inner(), count);
        for (cfg, got) in configs.iter().zip(&swept) {
            let alone = run(cfg, &market(), &data, Record { events: false, series: boot })
                .and_then(|r| {
                    let excess = if boot && r.equity.len() >= 3 {
                        Some(baseline::excess_bootstrap(&r.equity, &r.static_equity, 0, 100, seed)?)
                    } else {
                        None
                    };
                    Ok((r.metrics, excess))
                });
            prop_assert_eq!(metrics_of(got), metrics_of(&alone));
        }
    }
}

#[test]
fn bootstrapped_shared_sweep_matches_per_config() {
    let d = walk(7, 500);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let base = statistics(&mut rng);
    let configs: Vec<BacktestConfig> = (0..6).map(|_| decision(&base, &mut rng)).collect();
    let data = series(&d);
    let done = AtomicUsize::new(0);
    let boot = Some((200, 3));
    let shared = sweep_with(
        &configs,
        &market(),
        &data,
        2,
        &done,
        boot,
        Statistics::Shared,
    )
    .expect("sweep");
    let alone = sweep_with(
        &configs,
        &market(),
        &data,
        2,
        &done,
        boot,
        Statistics::PerConfig,
    )
    .expect("sweep");
    assert_eq!(done.into_inner(), 12);
    assert!(shared.iter().any(|r| matches!(r, Ok((_, Some(_))))));
    for (a, b) in shared.iter().zip(&alone) {
        assert_eq!(metrics_of(a), metrics_of(b));
    }
}

#[test]
fn chunks_group_by_the_statistics_and_split_for_the_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let base = statistics(&mut rng);
    let mut configs: Vec<BacktestConfig> = (0..10).map(|_| decision(&base, &mut rng)).collect();
    for c in &mut configs {
        c.plain_grid = false;
    }
    // the decision's settings do not split a group; a statistics setting does
    let mut other = configs[3].clone();
    other.policy.var_confidence = if base.policy.var_confidence == 0.95 {
        0.99
    } else {
        0.95
    };
    configs.push(other);
    let mut later = configs[4].clone();
    later.cadence += 1;
    configs.push(later);
    let mut plain = configs[5].clone();
    plain.plain_grid = true;
    configs.push(plain);
    assert_eq!(
        chunks(&configs, 1, 64),
        vec![(0..10).collect(), vec![10], vec![11], vec![12]]
    );
    assert_eq!(
        chunks(&configs, 2, 64),
        vec![
            (0..5).collect(),
            (5..10).collect(),
            vec![10],
            vec![11],
            vec![12]
        ]
    );
    assert_eq!(
        chunks(&configs, 1, 4),
        vec![
            (0..4).collect(),
            (4..7).collect(),
            (7..10).collect(),
            vec![10],
            vec![11],
            vec![12]
        ]
    );
    assert_eq!(chunks(&configs, 2, 1).len(), configs.len());
    // 10 legs at most 3 a chunk on 2 threads: 4 chunks as even as can be, not 3 + 3 + 3 + 1
    let sizes: Vec<usize> = chunks(&configs[..10], 2, 3).iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 2, 2]);
    // a field not known to be the decision's stays in the key
    assert_ne!(statistics_key(&configs[0]), statistics_key(&configs[10]));
    assert_eq!(statistics_key(&configs[0]), statistics_key(&configs[9]));
    assert_eq!(statistics_key(&configs[12]), None);
}
