//! [`PolicyEngine`]: the decision with its market statistics kept incrementally.
//!
//! The live bot and the backtester both hold one engine and feed it the same bars in the same
//! order ([`PolicyEngine::sync`] takes the candle window the bot sees and ingests only the bars
//! newer than the last one it saw), so both drivers compute bit-identical statistics and call
//! the same [`super::decide_with`] logic: parity by construction.
//!
//! Each bar costs O(1) for the moments (running sums with an exact recomputation every
//! `history_bars` bars, which bounds the drift) and the mean volume (a sum slid over the last
//! [`VOLUME_BARS`] volumes, taken afresh in order every `VOLUME_BARS` bars and when a
//! spike leaves) and O(K) amortised for the VaR quantiles (the
//! `K ~ W (1 - c)` largest losses of the window that the reads at `var_confidence`, 95% and
//! 99% need, in a [`HighQuantiles`]; O(W/64 + 64) when `var_confidence` < 0.875 keeps the
//! whole window sorted). Statistics over the window of the last `history_bars` candles:
//! - close-to-close volatility: sample standard deviation (ddof 1) of the window's returns;
//! - EWMA volatility: the RiskMetrics recursion over every return fed since the engine was
//!   (re)started, seeded with the first squared return (a window recomputation seeds at the
//!   window's first return; after ~300 bars the seed's weight is below 1e-8);
//! - Parkinson / Garman-Klass: mean of the per-bar terms over the window;
//! - historical VaR: numpy's 'linear' quantile of the window's losses, exact;
//! - horizon VaR ([`crate::var::horizon`]): filtered historical simulation over the last
//!   `var_window_bars` overlapping horizon sums of every return fed since the (re)start,
//!   O(horizon + K) amortised per bar (see the module);
//! - support/resistance: pivots found as soon as the bars after them arrive, clustered when a
//!   decision needs them.

use std::collections::VecDeque;

use super::requote::Gate;
use super::{
    decide_in, horizon_var_fraction, Book, DecideScratch, Decision, MarketStats, PolicyConfig,
    PolicyState, VarMethod, VolEstimator, SR_HALF_WINDOW, SR_MIN_TOUCHES, VOLUME_BARS,
};
use crate::error::{check, Error, Result};
use crate::levels::PivotClusters;
use crate::money::Market;
use crate::var::horizon::FhsHorizonVar;
use crate::var::sorted::loss_of;
use crate::var::tail::HighQuantiles;

#[derive(Debug, Clone, Copy)]
struct Row {
    seq: u64,
    timestamp: i64,
    high: f64,
    low: f64,
    close: f64,
    /// The range estimator's per-bar term (0 for the return-based estimators).
    term: f64,
}

/// The policy with incrementally updated market statistics (see the module doc).
#[derive(Debug, Clone)]
pub struct PolicyEngine {
    cfg: PolicyConfig,
    market: Market,
    capacity: usize,
    bars: VecDeque<Row>,
    returns: VecDeque<f64>,
    next_seq: u64,
    /// Welford moments of the window's returns.
    mean: f64,
    m2: f64,
    /// Trailing run of identical returns (a constant window has exactly zero variance).
    run: usize,
    term_sum: f64,
    since_exact: usize,
    /// The volumes of the last `VOLUME_BARS` bars of the window (fewer while it fills, or when
    /// the window is shorter), oldest first, and their sum: summed in order when the window
    /// first fills, after every `len - 1` slides and when the volume leaving is over half the
    /// sum; slid in between (`sum - oldest + newest`).
    volumes: VecDeque<f64>,
    volume_sum: f64,
    volume_slides: usize,
    ewma_s2: Option<f64>,
    /// The upper tail of the window's losses (-return), read at [`read_confidences`].
    losses: HighQuantiles,
    /// The horizon VaR's filtered historical simulation, fed every return (its window of
    /// `var_window_bars` sums reaches beyond the candle window).
    fhs: FhsHorizonVar,
    /// Pivot highs and lows of the window: (sequence number of the pivot bar, price).
    pivots: VecDeque<(u64, f64)>,
    /// The pivot prices with their clusters, kept incrementally.
    clusters: PivotClusters,
    /// The pivots changed since the levels were last read out.
    sr_dirty: bool,
    stats: MarketStats,
    scratch: DecideScratch,
    /// Open time of the latest bar at the last decision (None before the first).
    decided_at: Option<i64>,
    /// Lowest low and highest high of the bars newer than `decided_at` (None: no such bar).
    since: Option<(f64, f64)>,
    /// The requote gate's kept decision (`requote_tolerance` > 0).
    gate: Gate,
}

impl PolicyEngine {
    /// An empty engine over windows of `history_bars` candles (>= 3).
    pub fn new(cfg: PolicyConfig, market: Market, history_bars: usize) -> Result<Self> {
        cfg.validate()?;
        check::count_in("history_bars", history_bars, 3, 10_000_000)?;
        within_window(&cfg, history_bars)?;
        let clusters = PivotClusters::new(cfg.sr_tolerance_pct);
        let fhs = FhsHorizonVar::new(
            cfg.var_horizon_bars,
            cfg.var_window_bars,
            cfg.var_confidence,
        )?;
        let losses = HighQuantiles::new(history_bars, &read_confidences(&cfg));
        Ok(PolicyEngine {
            fhs,
            cfg,
            market,
            capacity: history_bars,
            bars: VecDeque::with_capacity(history_bars + 1),
            returns: VecDeque::with_capacity(history_bars),
            next_seq: 0,
            mean: 0.0,
            m2: 0.0,
            run: 0,
            term_sum: 0.0,
            since_exact: 0,
            volumes: VecDeque::with_capacity(VOLUME_BARS.min(history_bars) + 1),
            volume_sum: 0.0,
            volume_slides: 0,
            ewma_s2: None,
            losses,
            pivots: VecDeque::new(),
            clusters,
            sr_dirty: true,
            stats: MarketStats::default(),
            scratch: DecideScratch::default(),
            decided_at: None,
            since: None,
            gate: Gate::default(),
        })
    }

    /// Replace the configuration (e.g. a tightened one from a risk review). The statistics carry
    /// over unless the estimator, the support/resistance switch or the horizon VaR's method,
    /// horizon or window changed (then they restart).
    pub fn set_config(&mut self, cfg: PolicyConfig) -> Result<()> {
        cfg.validate()?;
        within_window(&cfg, self.capacity)?;
        let var_changed = cfg.var_method != self.cfg.var_method
            || cfg.var_horizon_bars != self.cfg.var_horizon_bars
            || cfg.var_window_bars != self.cfg.var_window_bars;
        if var_changed {
            self.fhs = FhsHorizonVar::new(
                cfg.var_horizon_bars,
                cfg.var_window_bars,
                cfg.var_confidence,
            )?;
        } else if cfg.var_confidence != self.cfg.var_confidence {
            self.fhs.set_confidence(cfg.var_confidence);
        }
        if cfg.volatility_estimator != self.cfg.volatility_estimator
            || cfg.support_resistance != self.cfg.support_resistance
            || var_changed
        {
            self.reset();
        }
        self.gate.clear();
        if cfg.var_confidence != self.cfg.var_confidence {
            self.losses = HighQuantiles::from_window(
                self.capacity,
                &read_confidences(&cfg),
                self.returns.iter().map(|&r| loss_of(r)),
            );
        }
        if cfg.sr_tolerance_pct != self.cfg.sr_tolerance_pct {
            self.clusters.set_tolerance(cfg.sr_tolerance_pct);
            self.sr_dirty = true;
        }
        self.cfg = cfg;
        Ok(())
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Candles in the window (at most `history_bars`).
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// Open time (ms) of the latest bar fed, if any.
    pub fn last_timestamp(&self) -> Option<i64> {
        self.bars.back().map(|r| r.timestamp)
    }

    /// Forget every bar (the statistics start again from the next one).
    pub fn reset(&mut self) {
        self.bars.clear();
        self.returns.clear();
        self.mean = 0.0;
        self.m2 = 0.0;
        self.run = 0;
        self.term_sum = 0.0;
        self.since_exact = 0;
        self.volumes.clear();
        self.volume_sum = 0.0;
        self.volume_slides = 0;
        self.ewma_s2 = None;
        self.fhs.reset();
        self.losses.clear();
        self.pivots.clear();
        self.clusters.clear();
        self.sr_dirty = true;
        self.gate.clear();
    }

    /// Forget every bar and give the windows' memory back: an engine that only decides on
    /// another's statistics ([`PolicyEngine::decide_on`]) needs none (fed again, they regrow).
    pub fn release(&mut self) {
        self.reset();
        self.bars.shrink_to_fit();
        self.returns.shrink_to_fit();
        self.losses.shrink_to_fit();
        self.pivots.shrink_to_fit();
        self.fhs.release();
    }

    /// Feed one complete bar (open time in ms, OHLCV): prices finite and > 0, volume >= 0.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        timestamp: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<()> {
        for (name, v) in [
            ("open", open),
            ("high", high),
            ("low", low),
            ("close", close),
        ] {
            check::positive(name, v)?;
        }
        check::non_negative("volume", volume)?;
        let term = match self.cfg.volatility_estimator {
            VolEstimator::Parkinson => {
                let hl = log_ratio(high, low);
                hl * hl * (1.0 / (4.0 * std::f64::consts::LN_2))
            }
            VolEstimator::GarmanKlass => {
                let hl = log_ratio(high, low);
                let co = log_ratio(close, open);
                (0.5 * hl * hl - (2.0 * std::f64::consts::LN_2 - 1.0) * co * co).max(0.0)
            }
            _ => 0.0,
        };
        if self.decided_at.is_some_and(|t| timestamp > t) {
            self.since = Some(match self.since {
                Some((lo, hi)) => (lo.min(low), hi.max(high)),
                None => (low, high),
            });
        }
        let new_return = self.bars.back().map(|prev| close / prev.close - 1.0);
        if let Some(r) = new_return {
            self.add_return(r);
            if self.cfg.var_method == VarMethod::Fhs {
                self.fhs.push(r);
            }
        }
        self.bars.push_back(Row {
            seq: self.next_seq,
            timestamp,
            high,
            low,
            close,
            term,
        });
        self.next_seq += 1;
        self.term_sum += term;
        self.add_volume(volume);
        if self.bars.len() > self.capacity {
            if let Some(old) = self.bars.pop_front() {
                self.term_sum -= old.term;
            }
            if let Some(r) = self.returns.pop_front() {
                self.remove_return(r);
                // the window slid: its oldest loss out, the newest in
                let window = self.returns.iter().map(|&r| loss_of(r));
                match new_return {
                    Some(n) => self.losses.replace(loss_of(r), loss_of(n), window),
                    None => self.losses.remove(loss_of(r), window),
                }
            }
        } else if let Some(n) = new_return {
            let window = self.returns.iter().map(|&r| loss_of(r));
            self.losses.insert(loss_of(n), window);
        }
        self.since_exact += 1;
        if self.since_exact >= self.capacity {
            self.recompute();
        }
        if self.cfg.support_resistance {
            self.update_pivots();
        }
        Ok(())
    }

    /// Slide the volume window (see `volumes`): the mean volume reads its sum in O(1).
    fn add_volume(&mut self, volume: f64) {
        let held = VOLUME_BARS.min(self.capacity);
        self.volumes.push_back(volume);
        let oldest = if self.volumes.len() > held {
            self.volumes.pop_front()
        } else {
            None
        };
        // a slide's rounding is relative to the sum before it: taken in order instead when the
        // volume leaving is over half the sum (a spike leaving a small remainder), so the
        // slides between two in-order sums cannot shrink the sum more than 2^24-fold
        self.volume_sum = match oldest {
            Some(o) if self.volume_slides + 1 < held && o <= 0.5 * self.volume_sum => {
                self.volume_slides += 1;
                self.volume_sum - o + volume
            }
            _ => {
                self.volume_slides = 0;
                self.volumes.iter().sum::<f64>()
            }
        };
    }

    fn add_return(&mut self, r: f64) {
        self.run = match self.returns.back() {
            Some(&last) if last == r => self.run + 1,
            _ => 1,
        };
        self.returns.push_back(r);
        let n = self.returns.len() as f64;
        let d = r - self.mean;
        self.mean += d / n;
        self.m2 += d * (r - self.mean);
        let lambda = crate::volatility::EWMA_LAMBDA_DEFAULT;
        self.ewma_s2 = Some(match self.ewma_s2 {
            None => r * r,
            Some(s2) => lambda * s2 + (1.0 - lambda) * r * r,
        });
    }

    fn remove_return(&mut self, r: f64) {
        let n = self.returns.len() as f64; // after the removal
        if n == 0.0 {
            self.mean = 0.0;
            self.m2 = 0.0;
        } else {
            let d = r - self.mean;
            self.mean -= d / n;
            self.m2 -= d * (r - self.mean);
        }
        self.run = self.run.min(self.returns.len());
    }

    /// Exact two-pass moments and term sum of the current window (bounds the running drift).
    fn recompute(&mut self) {
        self.since_exact = 0;
        let n = self.returns.len();
        if n > 0 {
            let mean = self.returns.iter().sum::<f64>() / n as f64;
            self.mean = mean;
            self.m2 = self.returns.iter().map(|r| (r - mean) * (r - mean)).sum();
        }
        self.term_sum = self.bars.iter().map(|r| r.term).sum();
    }

    /// Find the pivot whose right half-window just completed; drop pivots leaving the window.
    fn update_pivots(&mut self) {
        let w = SR_HALF_WINDOW;
        let len = self.bars.len();
        let start_seq = self.bars.front().map_or(0, |r| r.seq);
        while let Some(&(seq, price)) = self.pivots.front() {
            if seq >= start_seq + w as u64 {
                break;
            }
            self.pivots.pop_front();
            self.clusters.remove(price);
            self.sr_dirty = true;
        }
        if len < 2 * w + 1 {
            return;
        }
        let i = len - 1 - w;
        let centre = self.bars[i];
        let span = self.bars.range(i - w..=i + w);
        if span.clone().all(|r| r.high <= centre.high) {
            self.pivots.push_back((centre.seq, centre.high));
            self.clusters.insert(centre.high);
            self.sr_dirty = true;
        }
        if span.into_iter().all(|r| r.low >= centre.low) {
            self.pivots.push_back((centre.seq, centre.low));
            self.clusters.insert(centre.low);
            self.sr_dirty = true;
        }
    }

    /// Feed the bars of a candle window (oldest first, open times in ms, strictly increasing)
    /// newer than the latest bar fed. When the window does not continue the bars already fed
    /// (a gap, a restart, or time going backwards) the engine restarts from the whole window.
    /// Returns the bars fed.
    ///
    /// Open times are checked where they matter - the bar before the new ones and every bar
    /// ingested (all of them on a restart) - so a window that continues costs O(log W + new
    /// bars), not O(W). A decreasing open time there is an error naming its index.
    #[allow(clippy::too_many_arguments)]
    pub fn sync(
        &mut self,
        timestamp: &[i64],
        open: &[f64],
        high: &[f64],
        low: &[f64],
        close: &[f64],
        volume: &[f64],
    ) -> Result<usize> {
        let n = timestamp.len();
        for (name, len) in [
            ("open", open.len()),
            ("high", high.len()),
            ("low", low.len()),
            ("close", close.len()),
            ("volume", volume.len()),
        ] {
            crate::series::same_len("timestamp", n, name, len)?;
        }
        let from = match self.last_timestamp() {
            None => 0,
            Some(last) => match first_after(timestamp, last) {
                None => {
                    if timestamp.last().is_some_and(|&t| t == last) {
                        n
                    } else {
                        self.reset();
                        0
                    }
                }
                Some(0) => {
                    self.reset();
                    0
                }
                Some(k) if timestamp[k - 1] == last => k,
                Some(_) => {
                    self.reset();
                    0
                }
            },
        };
        if let Some(k) = (from.max(1)..n).find(|&k| timestamp[k] <= timestamp[k - 1]) {
            return Err(Error::invalid(
                format!("timestamp[{k}]"),
                timestamp[k],
                format!(
                    "must be strictly increasing (previous {})",
                    timestamp[k - 1]
                ),
            ));
        }
        for k in from..n {
            self.push(timestamp[k], open[k], high[k], low[k], close[k], volume[k])
                .map_err(|e| at_index(e, k))?;
        }
        Ok(n - from)
    }

    /// The statistics of the current window (at least 3 candles).
    pub fn stats(&mut self) -> Result<&MarketStats> {
        self.refresh_stats(true)
    }

    /// [`PolicyEngine::stats`]; with `levels` false the support/resistance levels are left as
    /// the last read put them (a decision the halt holds builds no grid and reads none; the
    /// pivots keep changing and the next read regroups them).
    fn refresh_stats(&mut self, levels: bool) -> Result<&MarketStats> {
        let n = self.bars.len();
        if n < 3 {
            return Err(Error::invalid(
                "candles",
                n,
                "the policy needs at least 3 candles of history",
            ));
        }
        let k = self.returns.len();
        let var = if self.run >= k {
            0.0
        } else {
            (self.m2 / (k as f64 - 1.0)).max(0.0)
        };
        let long_run = var.sqrt();
        let volatility = match self.cfg.volatility_estimator {
            VolEstimator::CloseToClose => long_run,
            VolEstimator::Ewma => self.ewma_s2.unwrap_or(0.0).sqrt(),
            VolEstimator::Parkinson | VolEstimator::GarmanKlass => {
                (self.term_sum / n as f64).max(0.0).sqrt()
            }
        };
        if !(long_run.is_finite() && volatility.is_finite()) {
            return Err(Error::numerical(
                "volatility",
                "overflow: the inputs are too large in magnitude for a finite volatility",
            ));
        }
        let avg_volume = self.volume_sum / self.volumes.len().max(1) as f64;
        self.stats.volatility = volatility;
        self.stats.long_run_volatility = long_run;
        self.stats.var_fraction = self.var_fraction_at(self.cfg.var_confidence);
        self.stats.var_horizon_fraction =
            horizon_var_fraction(&self.cfg, self.stats.var_fraction, &self.fhs);
        self.stats.avg_volume = avg_volume;
        self.stats.trend_mean = super::trend::mean_close(
            self.bars
                .range(n - super::trend::mean_bars(&self.cfg, n)..)
                .map(|r| r.close),
        );
        (self.stats.low_since, self.stats.high_since) = match self.since {
            Some(extremes) => extremes,
            None => {
                let last = self.bars[n - 1];
                (last.low, last.high)
            }
        };
        if !self.cfg.support_resistance {
            self.stats.sr_levels.clear();
        } else if self.sr_dirty && levels {
            self.clusters
                .levels_into(SR_MIN_TOUCHES, &mut self.stats.sr_levels);
            self.sr_dirty = false;
        }
        Ok(&self.stats)
    }

    /// The statistics as the latest [`PolicyEngine::stats`] (or decision) left them, without
    /// recomputing anything.
    pub fn last_stats(&self) -> &MarketStats {
        &self.stats
    }

    /// One-bar historical VaR (fraction of exposure, positive loss) of the current window at
    /// `confidence`, as `last_stats().var_fraction` is at the configured one (the
    /// backtester's VaR test at 95% and 99%). O(1) at those three confidences; exact at any
    /// other, but O(W) when it is not a high quantile.
    pub fn var_fraction_at(&self, confidence: f64) -> f64 {
        // as policy::historical_var_from_sorted on the sorted losses
        let window = self.returns.iter().map(|&r| loss_of(r));
        self.losses
            .quantile_linear(confidence, window)
            .map_or(0.0, |q| q.max(0.0))
    }

    /// Give a decision's vectors back for the next decision to reuse (optional).
    pub fn recycle(&mut self, decision: Decision) {
        self.scratch.recycle(decision);
    }

    /// The decision on the current window (see [`super::decide_with`]).
    pub fn decide(
        &mut self,
        price: f64,
        funding_rate: f64,
        book: &Book,
        state: &PolicyState,
        explain: bool,
    ) -> Result<Decision> {
        if self.decided_at.is_none() && state.decided_bar_ms > 0 {
            // a restarted engine: the stops recorded before the restart traded if the bars
            // after that decision (those in the window) reached them
            self.since = self
                .bars
                .iter()
                .filter(|r| r.timestamp > state.decided_bar_ms)
                .fold(None, |acc, r| {
                    Some(match acc {
                        Some((lo, hi)) => (r.low.min(lo), r.high.max(hi)),
                        None => (r.low, r.high),
                    })
                });
        }
        // the levels only shape the grid, which a decision the halt holds does not build
        self.refresh_stats(!super::halt::holds(&self.cfg, state))?;
        let mut decision = quiet_or_full(
            &self.cfg,
            &self.market,
            (price, funding_rate),
            &self.stats,
            book,
            state,
            explain,
            &mut self.scratch,
            &mut self.gate,
        )?;
        self.end_shared_decision();
        decision.state.decided_bar_ms = self.decided_at.unwrap_or(0);
        Ok(decision)
    }

    /// The decision of this engine's configuration on the statistics of `shared` (a sweep's
    /// configurations that differ only in what the decision reads share one engine's
    /// statistics): `shared` has the same statistics settings (every field the statistics
    /// read, the same `history_bars`), was fed the same bars and has just computed
    /// [`PolicyEngine::stats`] for this bar, with no restart pending (`state.decided_bar_ms`
    /// 0 at its first decision). Bit for bit [`PolicyEngine::decide`] of an engine fed those
    /// bars itself; this engine's own window is not read. Once every engine sharing it has
    /// decided, call [`PolicyEngine::end_shared_decision`] on `shared`.
    pub fn decide_on(
        &mut self,
        shared: &PolicyEngine,
        price: f64,
        funding_rate: f64,
        book: &Book,
        state: &PolicyState,
        explain: bool,
    ) -> Result<Decision> {
        let mut decision = quiet_or_full(
            &self.cfg,
            &self.market,
            (price, funding_rate),
            &shared.stats,
            book,
            state,
            explain,
            &mut self.scratch,
            &mut self.gate,
        )?;
        self.decided_at = shared.last_timestamp();
        decision.state.decided_bar_ms = self.decided_at.unwrap_or(0);
        Ok(decision)
    }

    /// Close a decision taken on this engine's statistics (by [`PolicyEngine::decide`], or by
    /// the engines that [`PolicyEngine::decide_on`] it): the lows and highs since the decision
    /// restart.
    pub fn end_shared_decision(&mut self) {
        self.decided_at = self.last_timestamp();
        self.since = None;
    }
}

/// The decision on ready statistics through the requote gate: the kept decision when the
/// gate is on and quiet, else [`decide_in`] (remembered by the gate).
#[allow(clippy::too_many_arguments)]
fn quiet_or_full(
    cfg: &PolicyConfig,
    market: &Market,
    (price, funding_rate): (f64, f64),
    stats: &MarketStats,
    book: &Book,
    state: &PolicyState,
    explain: bool,
    scratch: &mut DecideScratch,
    gate: &mut Gate,
) -> Result<Decision> {
    if cfg.requote_tolerance > 0.0 {
        let spare = (
            std::mem::take(&mut scratch.spare_orders),
            std::mem::take(&mut scratch.spare_reasons),
        );
        match gate.quiet(
            cfg,
            market,
            price,
            funding_rate,
            stats,
            book,
            state,
            explain,
            spare,
        ) {
            Ok(decision) => return Ok(decision),
            Err((orders, reasons)) => {
                scratch.spare_orders = orders;
                scratch.spare_reasons = reasons;
            }
        }
    }
    match decide_in(
        cfg,
        market,
        price,
        funding_rate,
        stats,
        book,
        state,
        explain,
        scratch,
    ) {
        Ok(decision) => {
            gate.remember(cfg, market, price, funding_rate, stats, book, &decision);
            Ok(decision)
        }
        Err(e) => {
            gate.clear();
            Err(e)
        }
    }
}

/// The confidences [`PolicyEngine::var_fraction_at`] reads in O(1): the configured
/// `var_confidence` and the backtester's VaR test at 95% and 99%.
fn read_confidences(cfg: &PolicyConfig) -> [f64; 3] {
    [cfg.var_confidence, 0.95, 0.99]
}

/// The trend guard's mean must fit in the window the engine keeps.
fn within_window(cfg: &PolicyConfig, history_bars: usize) -> Result<()> {
    if cfg.trend_guard_bars > history_bars {
        return Err(Error::invalid(
            "trend_guard_bars",
            cfg.trend_guard_bars,
            format!(
                "must be <= history_bars ({history_bars}): the mean is over the policy's window"
            ),
        ));
    }
    Ok(())
}

/// Index of the first open time after `last` in increasing open times: O(1) when the window
/// moved on by one bar (a driver deciding every bar), else a binary search.
fn first_after(timestamp: &[i64], last: i64) -> Option<usize> {
    let n = timestamp.len();
    if n >= 2 && timestamp[n - 2] == last {
        return Some(n - 1);
    }
    let k = timestamp.partition_point(|&t| t <= last);
    (k < timestamp.len()).then_some(k)
}

fn log_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_normal() {
        r.ln()
    } else {
        a.ln() - b.ln()
    }
}

fn at_index(e: Error, k: usize) -> Error {
    match e {
        Error::InvalidInput { field, value, rule } => Error::InvalidInput {
            field: format!("{field}[{k}]"),
            value,
            rule,
        },
        other => other,
    }
}
