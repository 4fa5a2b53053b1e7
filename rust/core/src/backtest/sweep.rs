//! Sweeps: many configurations over the same data, metrics only, on rayon threads, with the
//! market statistics computed once for every configuration that shares them.
//!
//! Configurations that differ only in what the decision reads (grid spacing, levels, band,
//! stop, sizing, risk limits, fees, cash...) see the same window statistics at the same bars
//! when their statistics settings agree: every policy field [`PolicyEngine`]'s statistics
//! read (estimator, VaR confidence, method, horizon and window, support/resistance and its
//! tolerance, the trend guard's window; any field not known to be decision-only counts),
//! `history_bars`, and the decision bars (`start`, `cadence`: the engine ingests bars at
//! decisions, restarts when they are more than a window apart, and tracks the lows and highs
//! since the last one). Such a group is cut into chunks (enough for every thread to get
//! work, at most [`CHUNK`] legs); a chunk steps its legs in lockstep from one decision to the
//! next, and one engine computes the statistics at each decision for all of them
//! ([`LegSim::decide_shared`]). Nothing is stored per bar for the statistics: a chunk holds
//! one engine and its legs (about 8 KB each), whatever the number of bars. With the
//! bootstrap a leg keeps only its equity per bar (the one series the bootstrap reads; the
//! chunk is cut so these stay under [`CHUNK_EQUITY_BYTES`]).
//!
//! Each configuration's metrics are bit for bit those of [`run`] alone: the same engine code
//! fed the same bars, the same decision code on the same statistics. A chunk whose shared
//! engine fails reruns its remaining legs alone, so even the errors are the same.

use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxHashMap;

use super::{
    baseline, check_settings, run, set_baselines, static_hedge_of, BacktestConfig, BacktestResult,
    LegSim, Metrics, Record, Series,
};
use crate::error::{Error, Result};
use crate::money::Market;
use crate::policy::{PolicyConfig, PolicyEngine};

/// What a shared sweep's legs record themselves: nothing (the chunk keeps their equity).
const LEAN: Record = Record {
    events: false,
    series: false,
};

/// One run of [`sweep_excess`]: its metrics and, when asked for, its excess's interval.
pub type SweptRun = (Metrics, Option<baseline::Excess>);

/// How a sweep gets each configuration's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistics {
    /// Once per decision for each group of configurations sharing them (the default).
    Shared,
    /// Every configuration's own engine computes them (each run exactly [`run`]; the
    /// baseline the benches compare the shared sweep against).
    PerConfig,
}

/// Most legs a chunk steps together (with the bootstrap, also [`CHUNK_EQUITY_BYTES`]).
/// A leg without series holds about 8 KB (full policy), so 256 legs on each of 2 threads
/// add about 4 MB, and the statistics cost 1/256 of a lone run's per leg.
pub const CHUNK: usize = 256;
/// With the bootstrap a chunk keeps each leg's equity per bar (8 bytes a bar, the only
/// series the bootstrap reads): at most this many bytes of them (at least one leg).
pub const CHUNK_EQUITY_BYTES: usize = 32 << 20;

/// Run many configurations over the same data on `threads` rayon threads (0: all cores),
/// metrics only; `done` counts finished runs (for a progress bar; runs stepped together count
/// as their share of the bars while they run). Results in input order.
pub fn sweep(
    configs: &[BacktestConfig],
    market: &Market,
    data: &Series<'_>,
    threads: usize,
    done: &AtomicUsize,
) -> Result<Vec<Result<Metrics>>> {
    Ok(sweep_excess(configs, market, data, threads, done, None)?
        .into_iter()
        .map(|r| r.map(|(m, _)| m))
        .collect())
}

/// [`sweep`] with, when `bootstrap = Some((resamples, seed))`, each run's excess over the
/// static hedge and its moving-block-bootstrap interval ([`baseline::excess_bootstrap`] of
/// its equity and static-equity series, default block; None for a run of fewer than 3 bars).
/// The series are recorded for the bootstrap and dropped after it.
pub fn sweep_excess(
    configs: &[BacktestConfig],
    market: &Market,
    data: &Series<'_>,
    threads: usize,
    done: &AtomicUsize,
    bootstrap: Option<(usize, u64)>,
) -> Result<Vec<Result<SweptRun>>> {
    sweep_with(
        configs,
        market,
        data,
        threads,
        done,
        bootstrap,
        Statistics::Shared,
    )
}

/// [`sweep_excess`] with the statistics shared or not (the same results either way).
pub fn sweep_with(
    configs: &[BacktestConfig],
    market: &Market,
    data: &Series<'_>,
    threads: usize,
    done: &AtomicUsize,
    bootstrap: Option<(usize, u64)>,
    statistics: Statistics,
) -> Result<Vec<Result<SweptRun>>> {
    let cap = match (statistics, bootstrap) {
        (Statistics::PerConfig, _) => 1,
        (Statistics::Shared, None) => CHUNK,
        (Statistics::Shared, Some(_)) => {
            (CHUNK_EQUITY_BYTES / (8 * data.timestamp.len().max(1))).clamp(1, CHUNK)
        }
    };
    sweep_chunked(configs, market, data, threads, done, bootstrap, cap)
}

/// The sweep with chunks of at most `cap` legs (1: every configuration alone).
pub(crate) fn sweep_chunked(
    configs: &[BacktestConfig],
    market: &Market,
    data: &Series<'_>,
    threads: usize,
    done: &AtomicUsize,
    bootstrap: Option<(usize, u64)>,
    cap: usize,
) -> Result<Vec<Result<SweptRun>>> {
    use rayon::prelude::*;
    data.validate()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::numerical("threads", e.to_string()))?;
    let record = Record {
        events: false,
        series: bootstrap.is_some(),
    };
    let chunks = chunks(configs, pool.current_num_threads(), cap);
    let job = Job {
        configs,
        market,
        data,
        record,
        bootstrap,
        done,
    };
    let parts: Vec<Vec<(usize, Result<SweptRun>)>> = pool.install(|| {
        chunks
            .par_iter()
            .with_max_len(1)
            .map(|c| job.chunk(c))
            .collect()
    });
    let mut out: Vec<Option<Result<SweptRun>>> = (0..configs.len()).map(|_| None).collect();
    for (i, r) in parts.into_iter().flatten() {
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.ok_or_else(|| Error::numerical("sweep", "a configuration was not run")))
        .collect()
}

/// The configurations' indexes cut into chunks of the same statistics (in input order
/// within a group; a plain grid alone): at most `cap` legs a chunk, and a group cut into a
/// multiple of `threads` chunks of even sizes, so every thread gets work even when all share
/// one group.
pub(crate) fn chunks(configs: &[BacktestConfig], threads: usize, cap: usize) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut at: FxHashMap<String, usize> = FxHashMap::default();
    for (i, cfg) in configs.iter().enumerate() {
        match statistics_key(cfg) {
            Some(key) if cap > 1 => {
                let g = *at.entry(key).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(i);
            }
            _ => groups.push(vec![i]),
        }
    }
    let threads = threads.max(1);
    let mut out = Vec::new();
    for g in groups {
        // as few chunks as the cap allows, a multiple of the threads, sizes within one
        let count = (g.len().div_ceil(cap.max(1)).div_ceil(threads) * threads).min(g.len());
        let (size, longer) = (g.len() / count, g.len() % count);
        let mut at = 0;
        for c in 0..count {
            let len = size + usize::from(c < longer);
            out.push(g[at..at + len].to_vec());
            at += len;
        }
    }
    out
}

/// What a configuration's statistics depend on (None: the plain grid has none): its policy
/// with the decision-only fields set to fixed values (a field not listed here, e.g. one added
/// later, stays in the key), `history_bars`, `start` and `cadence`.
pub(crate) fn statistics_key(cfg: &BacktestConfig) -> Option<String> {
    if cfg.plain_grid {
        return None;
    }
    let p = &cfg.policy;
    let statistics_only = PolicyConfig {
        grid_spacing_pct: 0.0,
        num_levels: 0,
        min_price_distance: 0.0,
        grid_mode: crate::grid::GridMode::Geometric,
        dynamic_spacing: false,
        volatility_multiplier: 0.0,
        spacing_horizon_bars: 0,
        recenter_threshold_pct: 0.0,
        max_position_size: 0.0,
        max_drawdown: 0.0,
        stop_loss_pct: 0.0,
        var_limit: 0.0,
        var_shrink_ratio: 0.0,
        sizing_vol_target_pct: 0.0,
        sizing_var_share: 0.0,
        stop_scale_min: 0.0,
        stop_scale_max: 0.0,
        max_volume_share: 0.0,
        max_active_orders: 0,
        hedge_ratio: 0.0,
        hedge_ratio_min: 0.0,
        hedge_ratio_max: 0.0,
        funding_tilt: false,
        funding_sensitivity: 0.0,
        halt_hedge_ratio: 0.0,
        halt_cooldown: 0,
        stop_cooldown: 0,
        review_hedge_ratio: None,
        trend_guard_pct: 0.0,
        requote_tolerance: 0.0,
        requote_max_skips: 0,
        ..p.clone()
    };
    Some(format!(
        "{statistics_only:?} history_bars={} start={} cadence={}",
        cfg.history_bars, cfg.start, cfg.cadence
    ))
}

/// The same static hedge, bit for bit (f64 settings by their bits, decimals by value and
/// scale).
fn same_hedge(a: &baseline::StaticHedge, b: &baseline::StaticHedge) -> bool {
    // every field (a new one fails to compile here until it is compared)
    let baseline::StaticHedge {
        start: _,
        spot_amount: _,
        cash: _,
        ratio: _,
        rebalance_bars: _,
        taker_fee: _,
    } = a;
    a.start == b.start
        && a.spot_amount.serialize() == b.spot_amount.serialize()
        && a.cash.serialize() == b.cash.serialize()
        && a.ratio.to_bits() == b.ratio.to_bits()
        && a.rebalance_bars == b.rebalance_bars
        && a.taker_fee.serialize() == b.taker_fee.serialize()
}

/// What every chunk of one sweep shares.
struct Job<'s, 'd> {
    configs: &'s [BacktestConfig],
    market: &'s Market,
    data: &'s Series<'d>,
    record: Record,
    bootstrap: Option<(usize, u64)>,
    done: &'s AtomicUsize,
}

impl Job<'_, '_> {
    /// Configuration `i` run alone ([`run`]).
    fn alone(&self, i: usize) -> (usize, Result<SweptRun>) {
        let r =
            run(&self.configs[i], self.market, self.data, self.record).and_then(|r| self.swept(r));
        (i, r)
    }

    /// A finished run's metrics and, with the bootstrap, its excess's interval.
    fn swept(&self, r: BacktestResult) -> Result<SweptRun> {
        let excess = match self.bootstrap {
            Some((resamples, seed))
                if r.equity.len() >= 3 && r.static_equity.len() == r.equity.len() =>
            {
                Some(baseline::excess_bootstrap(
                    &r.equity,
                    &r.static_equity,
                    0,
                    resamples,
                    seed,
                )?)
            }
            _ => None,
        };
        Ok((r.metrics, excess))
    }

    /// The configurations `idx` (one statistics key) stepped together on one engine's
    /// statistics; results as `(index, result)`. `done` moves on by the chunk's runs' worth
    /// of bars stepped (its legs advance together, so none finishes before the last bar),
    /// reaching `idx.len()` more when the chunk is through.
    fn chunk(&self, idx: &[usize]) -> Vec<(usize, Result<SweptRun>)> {
        let mut credited = 0;
        let out = if idx.len() == 1 {
            vec![self.alone(idx[0])]
        } else {
            self.lockstep(idx, &mut credited)
        };
        self.done.fetch_add(idx.len() - credited, Ordering::Relaxed);
        out
    }

    /// [`Job::chunk`] of two or more legs; `credited`: the runs' worth added to `done`.
    fn lockstep(&self, idx: &[usize], credited: &mut usize) -> Vec<(usize, Result<SweptRun>)> {
        let (configs, data) = (self.configs, self.data);
        let n = data.timestamp.len();
        let mut out = Vec::with_capacity(idx.len());
        // each leg with its equity per bar when the bootstrap needs it (nothing else recorded)
        let keep = self.record.series;
        let mut legs: Vec<(usize, LegSim<'_>, Vec<f64>)> = Vec::with_capacity(idx.len());
        for &i in idx {
            let cfg = &configs[i];
            // `run` without its per-run data validation (the sweep validated the data)
            match check_settings(cfg, n)
                .and_then(|()| LegSim::checked(cfg, self.market, data, LEAN))
            {
                Ok(mut leg) => {
                    // the leg decides on the chunk's statistics: its own windows stay empty
                    leg.engine.release();
                    legs.push((
                        i,
                        leg,
                        Vec::with_capacity(if keep { n - cfg.start } else { 0 }),
                    ));
                }
                Err(e) => out.push((i, Err(e))),
            }
        }
        let Some((_, first, _)) = legs.first() else {
            return out;
        };
        let cfg = first.cfg;
        let (history, start) = (cfg.history_bars, cfg.start);
        let Ok(mut shared) = PolicyEngine::new(cfg.policy.clone(), self.market.clone(), history)
        else {
            out.extend(legs.into_iter().map(|(i, ..)| self.alone(i)));
            return out;
        };
        let mut j = start;
        while j < n && !legs.is_empty() {
            // the legs share the decision bars: step them from this decision to the next
            let next = (j + 1..n).find(|&k| legs[0].1.decides_at(k)).unwrap_or(n);
            let ready = data
                .feed(&mut shared, history, j)
                .and_then(|_| shared.stats().map(drop));
            if ready.is_err() {
                // rerun the remaining legs alone: the same results, errors included
                out.extend(legs.drain(..).map(|(i, ..)| self.alone(i)));
                break;
            }
            legs.retain_mut(|(i, leg, equity)| {
                let stepped = (j..next).try_for_each(|b| {
                    if b > start {
                        leg.on_bar(b)?;
                    }
                    if b == j {
                        leg.decide_shared(b, Some(&shared))?;
                    }
                    let e = leg.mark(b);
                    if keep {
                        equity.push(e);
                    }
                    Ok::<(), Error>(())
                });
                match stepped {
                    Ok(()) => true,
                    Err(e) => {
                        out.push((*i, Err(e)));
                        false
                    }
                }
            });
            shared.end_shared_decision();
            // progress: the share of the bars stepped, short of the chunk's end
            let worth = (idx.len() * (next - start) / (n - start)).min(idx.len() - 1);
            if worth > *credited {
                self.done.fetch_add(worth - *credited, Ordering::Relaxed);
                *credited = worth;
            }
            j = next;
        }
        // the baselines depend on a few settings only: once per distinct static hedge
        let mut baselines: Vec<(
            baseline::StaticHedge,
            (baseline::Baseline, baseline::Baseline),
        )> = Vec::new();
        for (i, leg, equity) in legs {
            let cfg = &configs[i];
            let mut r = leg.finish();
            // the equity a recorded run keeps: what `mark` returned on each bar
            r.equity = equity;
            let key = static_hedge_of(cfg);
            let both = match baselines.iter().find(|(k, _)| same_hedge(k, &key)) {
                Some((_, b)) => Ok(b.clone()),
                None => super::baselines(cfg, self.market, data, keep).inspect(|b| {
                    baselines.push((key, b.clone()));
                }),
            };
            let r = both.and_then(|(u, s)| {
                set_baselines(&mut r, u, s);
                self.swept(r)
            });
            out.push((i, r));
        }
        out
    }
}

#[cfg(test)]
mod tests;
