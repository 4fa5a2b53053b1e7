//! The event-driven backtester: the live bot's own decision ([`PolicyEngine`]) at the bot's
//! cadence, its order manager's semantics ([`orders::diff`], cancels then places, deterministic
//! client ids with per-key sequence numbers) and the PAPER broker's fill model ([`FillBook`],
//! [`Account`]), bar by bar over OHLCV candles, a funding series and a spot inventory.
//!
//! The drivers agree step by step (DESIGN.md, 'One decision, two drivers'):
//! - a run starts at bar `start` (the replay's cursor): the first decision sees the candles
//!   `max(0, start + 1 - history_bars)..=start`;
//! - the clock then moves bar by bar: on each bar the resting orders fill ([`FillBook::on_bar`],
//!   booked in path order in the [`Account`]) and funding whose timestamp falls in the bar
//!   (`open < t <= open + bar`) is paid at the bar's close; the bar is marked to market;
//! - every `cadence` bars after `start` (and on the last bar) the policy decides with price =
//!   close, funding rate = the latest published at or before the bar's close, equity = cash +
//!   spot x close + futures PnL (exact decimals) and its high-water mark; the desired orders
//!   (at most `max_active_orders`) are diffed against the open ones (placement order); cancels
//!   go first, then places; a halt cancels every open order.
//!
//! Units: prices in ticks, amounts in lots of the market; money in quote currency.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::account::Account;
use crate::error::{check, Error, Result};
use crate::fills::{Bar, FillBook, FillParams, OrderKind, SimOrder};
use crate::money::decimal_to_f64 as to_f64;
use crate::money::{Market, Side};
use crate::orders::{self, OpenOrder, OrderKey};
use crate::policy::{Book, DesiredOrder, PolicyConfig, PolicyEngine, PolicyState, Role};

/// Candles (open times in ms, OHLCV) and a funding series (times in ms, rates per interval).
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub timestamp: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
    pub funding_time: &'a [i64],
    pub funding_rate: &'a [f64],
}

impl Series<'_> {
    /// Same lengths, at least one bar, increasing open times, sorted funding times.
    pub fn validate(&self) -> Result<()> {
        let n = self.timestamp.len();
        if n == 0 {
            return Err(Error::invalid("timestamp", 0, "needs at least one bar"));
        }
        for (name, len) in [
            ("open", self.open.len()),
            ("high", self.high.len()),
            ("low", self.low.len()),
            ("close", self.close.len()),
            ("volume", self.volume.len()),
        ] {
            crate::series::same_len("timestamp", n, name, len)?;
        }
        crate::series::same_len(
            "funding_time",
            self.funding_time.len(),
            "funding_rate",
            self.funding_rate.len(),
        )?;
        if let Some(i) = self.timestamp.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::invalid(
                format!("timestamp[{}]", i + 1),
                self.timestamp[i + 1],
                "must increase",
            ));
        }
        if let Some(i) = self.funding_time.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::invalid(
                format!("funding_time[{}]", i + 1),
                self.funding_time[i + 1],
                "must not decrease",
            ));
        }
        Ok(())
    }

    /// Bar length in ms: the median step of the open times (the lower median for an even
    /// count; 1 h for a single bar), so a missing bar cannot change it.
    pub fn bar_ms(&self) -> i64 {
        let ts = self.timestamp;
        if ts.len() < 2 {
            return 3_600_000;
        }
        let first = ts[1] - ts[0];
        if ts.windows(2).all(|w| w[1] - w[0] == first) {
            // evenly spaced (the usual case): the median without sorting a copy
            return first;
        }
        let mut steps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
        let mid = (steps.len() - 1) / 2;
        *steps.select_nth_unstable(mid).1
    }

    /// Steps between consecutive open times longer than the bar length (missing bars), and
    /// the bars missing in them (a step of `k` bars misses `k - 1`, rounded).
    pub fn gaps(&self) -> (usize, usize) {
        let bar = self.bar_ms();
        let mut gaps = 0;
        let mut missing = 0usize;
        for w in self.timestamp.windows(2) {
            let step = w[1] - w[0];
            if step > bar {
                gaps += 1;
                missing += ((step as f64 / bar as f64).round() as usize)
                    .saturating_sub(1)
                    .max(1);
            }
        }
        (gaps, missing)
    }

    /// Feed `engine` the window of candles it sees at bar `j`: the last `history_bars` up to
    /// and including `j` (see [`PolicyEngine::sync`]; returns the bars it ingested).
    pub(crate) fn feed(
        &self,
        engine: &mut PolicyEngine,
        history_bars: usize,
        j: usize,
    ) -> Result<usize> {
        let from = (j + 1).saturating_sub(history_bars);
        engine.sync(
            &self.timestamp[from..=j],
            &self.open[from..=j],
            &self.high[from..=j],
            &self.low[from..=j],
            &self.close[from..=j],
            &self.volume[from..=j],
        )
    }

    /// The first bar from `from` on that fails [`Bar::check`] (the length if none), tested a
    /// block at a time without early exits (cheap next to checking each bar as it is filled).
    fn first_invalid_bar(&self, from: usize) -> usize {
        const BLOCK: usize = 64;
        let n = self.timestamp.len();
        let mut j = from;
        while j < n {
            let end = (j + BLOCK).min(n);
            if !(j..end).fold(true, |ok, k| ok & self.bar(k).is_valid()) {
                return (j..end).find(|&k| !self.bar(k).is_valid()).unwrap_or(end);
            }
            j = end;
        }
        n
    }

    fn bar(&self, j: usize) -> Bar {
        Bar {
            open: self.open[j],
            high: self.high[j],
            low: self.low[j],
            close: self.close[j],
            volume: self.volume[j],
        }
    }
}

/// Everything a run needs besides the data.
#[derive(Debug, Clone)]
pub struct BacktestConfig {
    pub policy: PolicyConfig,
    pub fill: FillParams,
    /// Candles the policy sees (the bot's `history_bars`), >= 3.
    pub history_bars: usize,
    /// Bars between two decisions (the bot's `rebalance_interval` in bars), >= 1.
    pub cadence: usize,
    /// Bar of the first decision (the replay's starting cursor).
    pub start: usize,
    /// Spot inventory in base units (constant: the grid trades the futures leg).
    pub spot_amount: Decimal,
    /// Quote cash in the account.
    pub cash: Decimal,
    /// The order manager's cap on desired orders sent.
    pub max_active_orders: usize,
    pub bot_id: String,
    pub symbol: String,
    /// Bars between two rebalances of the static-hedge baseline (0: opened once, never
    /// re-traded; see [`baseline`]).
    pub baseline_rebalance_bars: usize,
    /// Run the plain static grid instead of the policy ([`plain`]: no volatility, VaR, S/R,
    /// funding, stops or rebalancing; the shared fill model's price rules).
    pub plain_grid: bool,
}

/// What to keep besides the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// The event log, the order table and the fills.
    pub events: bool,
    /// Per-bar series (equity, hedge ratio, position, VaR forecast).
    pub series: bool,
}

/// A placement, a cancel or a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Place,
    Cancel,
    Fill,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Place => "place",
            EventKind::Cancel => "cancel",
            EventKind::Fill => "fill",
        }
    }
}

/// One line of the event log. `price_ticks` is 0 for a market order's placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub bar: usize,
    pub kind: EventKind,
    /// Index into [`BacktestResult::orders`].
    pub order: usize,
    pub side: Side,
    pub price_ticks: i64,
    pub lots: i64,
}

/// One order sent by the run (a row of [`OrderTable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRow {
    pub key: OrderKey,
    /// The key's sequence number (its client id is `client_order_id(bot, symbol, key, seq)`).
    pub sequence: u64,
    pub kind: OrderKind,
    pub side: Side,
    /// 0 for a market order.
    pub price_ticks: i64,
    pub amount_lots: i64,
    pub filled_lots: i64,
    pub placed_bar: usize,
    /// Bar of its cancel, if it was cancelled.
    pub cancelled_bar: Option<usize>,
}

/// The orders sent by a run, one column per field (rows in placement order), so a recorded
/// run costs about 55 bytes an order and the columns reach numpy without a copy.
/// Codes: `role` b'g' grid / b'r' rebalance / b'x' stop, `side` b's' / b'b', `kind` 0 limit /
/// 1 stop-market / 2 market ([`KIND_CODES`]); `cancelled_bar` is -1 when never cancelled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderTable {
    pub role: Vec<u8>,
    pub side: Vec<u8>,
    pub level: Vec<i32>,
    pub sequence: Vec<u64>,
    pub kind: Vec<u8>,
    pub price_ticks: Vec<i64>,
    pub amount_lots: Vec<i64>,
    pub filled_lots: Vec<i64>,
    pub placed_bar: Vec<i64>,
    pub cancelled_bar: Vec<i64>,
}

/// Changed positions a decision may have for the backtester to diff them in place (each found
/// by a scan of the live orders, so O(changes x orders)); more take the order manager's diff.
const IN_PLACE_MAX_CHANGES: usize = 8;

/// The order kinds in the order of their codes in [`OrderTable::kind`].
pub const KIND_CODES: [OrderKind; 3] = [OrderKind::Limit, OrderKind::StopMarket, OrderKind::Market];

fn role_code(r: Role) -> u8 {
    match r {
        Role::Grid => b'g',
        Role::Rebalance => b'r',
        Role::Stop => b'x',
    }
}

fn side_code(s: Side) -> u8 {
    match s {
        Side::Sell => b's',
        Side::Buy => b'b',
    }
}

fn kind_code(k: OrderKind) -> u8 {
    match k {
        OrderKind::Limit => 0,
        OrderKind::StopMarket => 1,
        OrderKind::Market => 2,
    }
}

impl OrderTable {
    /// Orders recorded.
    pub fn len(&self) -> usize {
        self.role.len()
    }

    pub fn is_empty(&self) -> bool {
        self.role.is_empty()
    }

    /// Append an order placed on `bar`, nothing filled yet; returns its row.
    pub fn push(&mut self, row: &OrderRow) -> usize {
        let at = self.len();
        self.role.push(role_code(row.key.role));
        self.side.push(side_code(row.side));
        self.level.push(row.key.level);
        self.sequence.push(row.sequence);
        self.kind.push(kind_code(row.kind));
        self.price_ticks.push(row.price_ticks);
        self.amount_lots.push(row.amount_lots);
        self.filled_lots.push(row.filled_lots);
        self.placed_bar.push(row.placed_bar as i64);
        self.cancelled_bar
            .push(row.cancelled_bar.map_or(-1, |b| b as i64));
        at
    }

    /// The rows in placement order.
    pub fn rows(&self) -> impl Iterator<Item = OrderRow> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    /// Row `i` (panics when out of range, as slice indexing).
    pub fn row(&self, i: usize) -> OrderRow {
        let side = if self.side[i] == b'b' {
            Side::Buy
        } else {
            Side::Sell
        };
        let role = match self.role[i] {
            b'g' => Role::Grid,
            b'r' => Role::Rebalance,
            _ => Role::Stop,
        };
        OrderRow {
            key: OrderKey {
                role,
                side,
                level: self.level[i],
            },
            sequence: self.sequence[i],
            kind: KIND_CODES[usize::from(self.kind[i])],
            side,
            price_ticks: self.price_ticks[i],
            amount_lots: self.amount_lots[i],
            filled_lots: self.filled_lots[i],
            placed_bar: self.placed_bar[i] as usize,
            cancelled_bar: usize::try_from(self.cancelled_bar[i]).ok(),
        }
    }
}

/// One fill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillRow {
    pub bar: usize,
    pub order: usize,
    pub side: Side,
    pub price_ticks: i64,
    pub lots: i64,
    /// Fee paid (quote; negative for a rebate).
    pub fee: f64,
    pub maker: bool,
}

/// Summary figures of a run (simple returns per bar; annualised with the bar length).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    pub bars: usize,
    pub decisions: usize,
    /// Decisions the requote gate kept (the last full decision's orders stood; counted in
    /// `decisions`; 0 with the gate off).
    pub decisions_kept: usize,
    pub initial_equity: f64,
    pub final_equity: f64,
    pub total_return: f64,
    pub annual_return: f64,
    pub sharpe: f64,
    pub sortino: f64,
    /// Largest fall from a running equity peak, as a fraction (>= 0).
    pub max_drawdown: f64,
    pub calmar: f64,
    /// `1 - var(equity change) / var(spot value change)`: 1 is a perfect hedge, 0 none.
    pub hedge_effectiveness: f64,
    pub funding_pnl: f64,
    pub fees: f64,
    pub realized_pnl: f64,
    pub traded_notional: f64,
    pub orders_placed: usize,
    pub orders_cancelled: usize,
    pub fills: usize,
    pub mean_hedge_ratio: f64,
    pub halted: bool,
    /// The first bar marked halted (the drawdown halt), if any.
    pub halt_bar: Option<usize>,
    /// Bars with a positive one-bar VaR forecast, and those whose loss exceeded it.
    pub var_observations: usize,
    pub var_exceptions: usize,
    /// Kupiec POF likelihood ratio and its p-value (chi-squared, 1 dof); NaN without data.
    pub kupiec_lr: f64,
    pub kupiec_p_value: f64,
    /// Final minus initial equity (quote).
    pub pnl: f64,
    /// Lowest equity marked (quote); return-based figures are NaN when it is <= 0.
    pub min_equity: f64,
    /// Bar length (ms, the median step) and the gaps in the open times (steps longer than
    /// it) with the bars missing in them.
    pub bar_ms: i64,
    pub gaps: usize,
    pub missing_bars: usize,
    /// PnL attribution (quote), summing to `pnl`: the spot inventory's mark-to-market, the
    /// futures leg split into grid trading (fills against the bar's close: spread capture)
    /// and inventory drift (the futures position held from one close to the next), minus
    /// fees, plus funding.
    pub pnl_spot: f64,
    pub pnl_grid: f64,
    pub pnl_drift: f64,
    pub pnl_fees: f64,
    pub pnl_funding: f64,
    /// Baselines on the same bars (see [`baseline`]): PnL of the unhedged inventory and of
    /// the static hedge at `hedge_ratio` (and its fees and funding); the grid's excess over
    /// the static hedge (`pnl - static_pnl`).
    pub unhedged_pnl: f64,
    pub static_pnl: f64,
    pub static_fees: f64,
    pub static_funding: f64,
    pub excess_pnl: f64,
    /// The VaR backtest at 95% and 99% over every bar after the first (a bar whose loss
    /// exceeds the forecast, a zero forecast included, is an exception): exceptions, and the
    /// p-values of Kupiec's POF, Christoffersen's independence and conditional coverage
    /// (NaN when a test is undefined).
    pub var95_exceptions: usize,
    pub var99_exceptions: usize,
    pub kupiec_p_95: f64,
    pub christoffersen_p_95: f64,
    pub conditional_coverage_p_95: f64,
    pub kupiec_p_99: f64,
    pub christoffersen_p_99: f64,
    pub conditional_coverage_p_99: f64,
}

/// The outcome of a run. The event log is not stored: it is the orders' placements and
/// cancels and the fills, in the order [`BacktestResult::events`] rebuilds it.
#[derive(Debug, Clone, Default)]
pub struct BacktestResult {
    pub orders: OrderTable,
    pub fills: Vec<FillRow>,
    /// Bar indexes `start..n` of the series below.
    pub first_bar: usize,
    pub equity: Vec<f64>,
    pub hedge_ratio: Vec<f64>,
    /// Futures position in base units (negative = short).
    pub position: Vec<f64>,
    /// One-bar VaR forecast (quote, positive loss) standing at each bar (from the latest
    /// decision's window and the previous bar's net exposure).
    pub var_forecast: Vec<f64>,
    /// Grid center (quote) after each bar's latest decision (0 before the first).
    pub center: Vec<f64>,
    /// Cumulative funding received (quote) at each bar.
    pub funding: Vec<f64>,
    /// One-bar historical VaR forecasts at 95% and 99% (quote) standing at each bar.
    pub var95: Vec<f64>,
    pub var99: Vec<f64>,
    /// Equity of the baselines at each bar (see [`baseline`]; empty for the plain grid).
    pub static_equity: Vec<f64>,
    pub unhedged_equity: Vec<f64>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    id: u64,
    row: usize,
    key: OrderKey,
    kind: OrderKind,
    price_ticks: i64,
    remaining: i64,
}

/// Welford running mean and variance.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }
    fn var(&self) -> f64 {
        if self.n > 1.0 {
            self.m2 / (self.n - 1.0)
        } else {
            0.0
        }
    }
}

/// Kupiec's proportion-of-failures test (`crate::var_backtest::kupiec_pof`): `x` exceptions
/// in `n` observations at expected rate `p`. Returns (LR, p-value); NaN without observations.
pub fn kupiec_pof(n: usize, x: usize, p: f64) -> (f64, f64) {
    match crate::var_backtest::kupiec_pof(n as u64, x as u64, 1.0 - p) {
        Ok(t) => (t.lr, t.p_value),
        Err(_) => (f64::NAN, f64::NAN),
    }
}

/// Check a run's settings against its data (shared by [`run`] and [`LegSim::new`]).
fn check_run(cfg: &BacktestConfig, data: &Series<'_>) -> Result<()> {
    data.validate()?;
    check_settings(cfg, data.timestamp.len())
}

/// [`check_run`] on data already validated, of `n` bars.
fn check_settings(cfg: &BacktestConfig, n: usize) -> Result<()> {
    if cfg.start >= n {
        return Err(Error::invalid(
            "start",
            cfg.start,
            format!("must be a bar index in [0, {n})"),
        ));
    }
    check::count_in("cadence", cfg.cadence, 1, 100_000_000)?;
    check::count_in("max_active_orders", cfg.max_active_orders, 1, 10_000)?;
    if cfg.spot_amount < Decimal::ZERO {
        return Err(Error::invalid(
            "spot_amount",
            cfg.spot_amount,
            "must be >= 0",
        ));
    }
    // the client ids must be valid (fail early, not at the first placement)
    orders::client_order_id(
        &cfg.bot_id,
        &cfg.symbol,
        &OrderKey {
            role: crate::policy::Role::Grid,
            side: Side::Sell,
            level: 1,
        },
        1,
    )?;
    Ok(())
}

/// Run one backtest over `data` (see the module doc).
pub fn run(
    cfg: &BacktestConfig,
    market: &Market,
    data: &Series<'_>,
    record: Record,
) -> Result<BacktestResult> {
    check_run(cfg, data)?;
    let mut out = if cfg.plain_grid {
        plain::run_plain(cfg, market, data, record)?
    } else {
        let mut sim = LegSim::checked(cfg, market, data, record)?;
        for j in cfg.start..data.timestamp.len() {
            sim.step(j)?;
        }
        sim.finish()
    };
    add_baselines(&mut out, cfg, market, data, record.series)?;
    Ok(out)
}

/// The unhedged and static-hedge baselines of a run (metrics, and series when kept).
pub(crate) fn add_baselines(
    out: &mut BacktestResult,
    cfg: &BacktestConfig,
    market: &Market,
    data: &Series<'_>,
    keep_series: bool,
) -> Result<()> {
    let (u, s) = baselines(cfg, market, data, keep_series)?;
    set_baselines(out, u, s);
    Ok(())
}

/// The static hedge's settings of a run.
pub(crate) fn static_hedge_of(cfg: &BacktestConfig) -> baseline::StaticHedge {
    baseline::StaticHedge {
        start: cfg.start,
        spot_amount: cfg.spot_amount,
        cash: cfg.cash,
        ratio: cfg.policy.hedge_ratio,
        rebalance_bars: cfg.baseline_rebalance_bars,
        taker_fee: cfg.fill.taker_fee,
    }
}

/// The unhedged inventory's and the static hedge's runs for `cfg` (see [`baseline`]).
pub(crate) fn baselines(
    cfg: &BacktestConfig,
    market: &Market,
    data: &Series<'_>,
    keep_series: bool,
) -> Result<(baseline::Baseline, baseline::Baseline)> {
    let u = baseline::unhedged(data, cfg.start, cfg.spot_amount, cfg.cash, keep_series)?;
    let s = baseline::static_hedge(market, data, &static_hedge_of(cfg), keep_series)?;
    Ok((u, s))
}

/// Put the baselines' figures (and series) in a run's result.
pub(crate) fn set_baselines(
    out: &mut BacktestResult,
    u: baseline::Baseline,
    s: baseline::Baseline,
) {
    let m = &mut out.metrics;
    m.unhedged_pnl = u.pnl;
    m.static_pnl = s.pnl;
    m.static_fees = s.fees;
    m.static_funding = s.funding;
    m.excess_pnl = m.pnl - s.pnl;
    out.unhedged_equity = u.equity;
    out.static_equity = s.equity;
}

/// One leg's backtest as a steppable engine: [`run`] is `new`, [`LegSim::step`] on every bar
/// `start..n`, then [`LegSim::finish`]. A bar's step is, in order, [`LegSim::on_bar`] (fills
/// and funding; not on the first bar), [`LegSim::decide`] (when [`LegSim::decides_at`]) and
/// [`LegSim::mark`] (mark to market, the per-bar series); a driver of several legs (the
/// portfolio backtester) calls the three parts itself and acts between them.
pub struct LegSim<'a> {
    cfg: &'a BacktestConfig,
    market: &'a Market,
    data: Series<'a>,
    record: Record,
    n: usize,
    bar_ms: i64,
    engine: PolicyEngine,
    book: FillBook,
    /// Bars before this one passed [`Bar::check`] (checked at once when the leg was made): the
    /// book fills them unchecked; from it on each bar is checked as it is filled, so a bad
    /// bar's error comes when that bar is reached, as before.
    checked_until: usize,
    account: Account,
    spot_f: f64,
    cash_f: f64,
    lot: f64,
    hwm: Decimal,
    hwm_f: f64,
    state: PolicyState,
    /// Orders placed so far under each key (kept only while events are recorded).
    sequences: FxHashMap<OrderKey, u64>,
    /// Ids of the orders a decision cancels (reused).
    cancel_ids: Vec<u64>,
    live: Vec<Live>,
    open_rows: Vec<OpenOrder>,
    /// The order manager's diff and its reused buffers.
    differ: orders::Differ,
    /// A decision's diff: indexes of the live orders to cancel and of the wanted orders to
    /// place, both ascending (reused).
    cancel_at: Vec<usize>,
    place_at: Vec<usize>,
    /// The orders the last applied diff was for, and whether only decisions touched the book
    /// since: then a decision's change needs no full diff ([`standing`]).
    standing: Standing,
    /// The latest grid center in ticks and in quote (as recorded).
    center: (i64, f64),
    next_id: u64,
    out: BacktestResult,
    met: Metrics,
    /// f64 mirror of the account for marking to market between decisions:
    /// (realised + funding - fees, entry, position).
    cached: (f64, f64, f64),
    /// Next funding event to pay.
    funding_ptr: usize,
    /// Funding published so far (for the decision's rate).
    rate_ptr: usize,
    var_fraction: f64,
    funding_f: f64,
    /// Moments of the equity changes (quote per bar): the returns on PnL up to the initial
    /// capital's scale, and the changes the hedge effectiveness compares (one accumulator:
    /// the same values in the same order).
    returns: Moments,
    downside: (f64, usize),
    spot_changes: Moments,
    peak: f64,
    /// Equity at or above this cannot set a new maximum drawdown (see [`dd_floor`]).
    dd_floor: f64,
    hedge_sum: f64,
    prev_equity: f64,
    prev_net_exposure: f64,
    /// VaR fractions at 95% and 99% from the latest decision, and the bars' exceptions tallied.
    var95: f64,
    var99: f64,
    exc95: crate::var_backtest::ExceptionTally,
    exc99: crate::var_backtest::ExceptionTally,
    /// Lowest equity marked.
    min_equity: f64,
    /// Inventory drift: the futures position (base units) held from one close to the next
    /// times the price change, summed.
    drift: f64,
    prev_position: f64,
}

fn refresh(a: &Account) -> (f64, f64, f64) {
    (
        to_f64(a.realized_pnl() + a.funding() - a.fees()),
        to_f64(a.entry_price()),
        to_f64(a.position()),
    )
}

impl<'a> LegSim<'a> {
    /// A leg at bar `cfg.start`, nothing decided yet (the policy run, never the plain grid).
    pub fn new(
        cfg: &'a BacktestConfig,
        market: &'a Market,
        data: &Series<'a>,
        record: Record,
    ) -> Result<Self> {
        check_run(cfg, data)?;
        if cfg.plain_grid {
            return Err(Error::invalid(
                "plain_grid",
                true,
                "a steppable leg runs the policy (use backtest::run for the plain grid)",
            ));
        }
        Self::checked(cfg, market, data, record)
    }

    /// [`LegSim::new`] once `check_run` passed.
    fn checked(
        cfg: &'a BacktestConfig,
        market: &'a Market,
        data: &Series<'a>,
        record: Record,
    ) -> Result<Self> {
        let n = data.timestamp.len();
        let mut out = BacktestResult {
            first_bar: cfg.start,
            ..BacktestResult::default()
        };
        if record.series {
            let len = n - cfg.start;
            out.equity.reserve(len);
            out.hedge_ratio.reserve(len);
            out.position.reserve(len);
            out.var_forecast.reserve(len);
            out.center.reserve(len);
            out.funding.reserve(len);
            out.var95.reserve(len);
            out.var99.reserve(len);
        }
        Ok(LegSim {
            cfg,
            market,
            data: *data,
            record,
            n,
            bar_ms: data.bar_ms(),
            engine: PolicyEngine::new(cfg.policy.clone(), market.clone(), cfg.history_bars)?,
            book: FillBook::new(market.clone(), cfg.fill),
            checked_until: data.first_invalid_bar(cfg.start + 1),
            account: Account::new(market.clone()),
            spot_f: to_f64(cfg.spot_amount),
            cash_f: to_f64(cfg.cash),
            lot: market.lot_f64(),
            hwm: Decimal::ZERO,
            hwm_f: 0.0,
            state: PolicyState::default(),
            sequences: FxHashMap::default(),
            cancel_ids: Vec::new(),
            live: Vec::new(),
            open_rows: Vec::new(),
            differ: orders::Differ::default(),
            cancel_at: Vec::new(),
            place_at: Vec::new(),
            standing: Standing::new(),
            center: (0, 0.0),
            next_id: 1,
            out,
            met: Metrics::default(),
            cached: (0.0, 0.0, 0.0),
            funding_ptr: 0,
            rate_ptr: 0,
            var_fraction: 0.0,
            funding_f: 0.0,
            returns: Moments::default(),
            downside: (0.0, 0),
            spot_changes: Moments::default(),
            peak: f64::NEG_INFINITY,
            dd_floor: f64::INFINITY,
            hedge_sum: 0.0,
            prev_equity: f64::NAN,
            prev_net_exposure: 0.0,
            var95: 0.0,
            var99: 0.0,
            exc95: crate::var_backtest::ExceptionTally::default(),
            exc99: crate::var_backtest::ExceptionTally::default(),
            min_equity: f64::INFINITY,
            drift: 0.0,
            prev_position: 0.0,
        })
    }

    /// One bar: fills and funding (after the first bar), the decision at the cadence, the mark.
    #[inline]
    pub fn step(&mut self, j: usize) -> Result<()> {
        if j > self.cfg.start {
            self.on_bar(j)?;
        }
        if self.decides_at(j) {
            self.decide(j)?;
        }
        self.mark(j);
        Ok(())
    }

    /// Whether the policy decides on bar `j`: the first bar, every `cadence` bars after it and
    /// the last bar.
    #[inline]
    pub fn decides_at(&self, j: usize) -> bool {
        j == self.cfg.start || (j - self.cfg.start) % self.cfg.cadence == 0 || j == self.n - 1
    }

    /// The clock moves onto bar `j` (> start): the resting orders fill, then funding inside the
    /// bar is paid.
    #[inline]
    pub fn on_bar(&mut self, j: usize) -> Result<()> {
        let data = &self.data;
        let close = data.close[j];
        let bar = data.bar(j);
        let fills = if j < self.checked_until {
            self.book.on_checked_bar(j as i64, &bar)?
        } else {
            self.book.on_bar(j as i64, &bar)?
        };
        if !fills.is_empty() {
            self.standing.moved();
            for f in &fills {
                self.account
                    .apply_fill(f.side, f.price_ticks, f.lots, f.fee)?;
                let Some(at) = self.live.iter().position(|l| l.id == f.order_id) else {
                    return Err(Error::numerical(
                        "backtest",
                        "a fill for an order the run does not know",
                    ));
                };
                self.live[at].remaining -= f.lots;
                self.met.fills += 1;
                if self.record.events {
                    let row = self.live[at].row;
                    self.out.orders.filled_lots[row] += f.lots;
                    self.out.fills.push(FillRow {
                        bar: j,
                        order: row,
                        side: f.side,
                        price_ticks: f.price_ticks,
                        lots: f.lots,
                        fee: to_f64(f.fee),
                        maker: f.maker,
                    });
                }
            }
            self.live.retain(|l| l.remaining > 0);
            self.cached = refresh(&self.account);
        }
        let opened = data.timestamp[j];
        let ft = data.funding_time;
        while self.funding_ptr < ft.len() && ft[self.funding_ptr] <= opened {
            self.funding_ptr += 1;
        }
        let mut paid = false;
        while self.funding_ptr < ft.len() && ft[self.funding_ptr] <= opened + self.bar_ms {
            self.account
                .apply_funding(close, data.funding_rate[self.funding_ptr])?;
            self.funding_ptr += 1;
            paid = true;
        }
        if paid {
            self.cached = refresh(&self.account);
            self.funding_f = to_f64(self.account.funding());
        }
        Ok(())
    }

    /// The exact equity at bar `j`'s close: cash + spot x close + futures PnL (decimals), as
    /// the PAPER broker's `equity_at`.
    pub fn exact_equity(&self, j: usize) -> Result<Decimal> {
        let close = self.data.close[j];
        Ok(self.cfg.cash
            + self.cfg.spot_amount * crate::money::decimal_from_f64("close", close)?
            + self.account.net_pnl(close)?)
    }

    /// Cancel every open order on bar `j` (a halt), in placement order.
    pub fn cancel_all(&mut self, j: usize) {
        self.standing.moved();
        for l in self.live.drain(..) {
            self.book.cancel(l.id);
            self.met.orders_cancelled += 1;
            if self.record.events {
                self.out.orders.cancelled_bar[l.row] = j as i64;
            }
        }
    }

    /// Replace the policy's configuration from the next decision on (the engine's statistics
    /// carry over, see [`PolicyEngine::set_config`]).
    pub fn set_policy(&mut self, policy: PolicyConfig) -> Result<()> {
        self.engine.set_config(policy)
    }

    /// The policy configuration in force.
    pub fn policy(&self) -> &PolicyConfig {
        self.engine.config()
    }

    /// The run's settings.
    pub fn config(&self) -> &BacktestConfig {
        self.cfg
    }

    /// The policy decides on bar `j` and the order manager's diff is applied.
    pub fn decide(&mut self, j: usize) -> Result<()> {
        self.decide_shared(j, None)
    }

    /// [`LegSim::decide`], with `shared`: on the statistics of that engine (synced to bar `j`
    /// and its statistics computed, see [`PolicyEngine::decide_on`]) instead of this leg's
    /// own engine, which is then never fed (a sweep's group of legs, see [`sweep`]).
    pub(crate) fn decide_shared(&mut self, j: usize, shared: Option<&PolicyEngine>) -> Result<()> {
        let cfg = self.cfg;
        self.met.decisions += 1;
        if shared.is_none() {
            self.feed_engine(j)?;
        }
        let data = &self.data;
        let close = data.close[j];
        let close_ms = data.timestamp[j] + self.bar_ms;
        let ft = data.funding_time;
        while self.rate_ptr < ft.len() && ft[self.rate_ptr] <= close_ms {
            self.rate_ptr += 1;
        }
        let funding_rate = if self.rate_ptr > 0 {
            data.funding_rate[self.rate_ptr - 1]
        } else {
            0.0
        };
        // The bot's equity is exact (cash + spot x Decimal(repr(close)) + futures PnL in
        // decimals) and only decides the drawdown halt. The f64 mirror is within ~1e-15
        // of it, so the exact figures are computed only where they could matter: at a
        // possible new high-water mark and near the drawdown limit.
        let (base_pnl, entry, pos) = self.cached;
        let approx = self.cash_f + self.spot_f * close + base_pnl + (close - entry) * pos;
        const MARGIN: f64 = 1e-9;
        let mut equity_f = approx;
        if approx >= self.hwm_f * (1.0 - MARGIN) {
            let e = self.exact_equity(j)?;
            // one conversion of `e` serves both (an exact equity's is the slow text path)
            equity_f = to_f64(e);
            if e > self.hwm {
                self.hwm = e;
                self.hwm_f = equity_f;
            }
        } else if self.hwm_f > 0.0
            && near_limit(approx, self.hwm_f, cfg.policy.max_drawdown)
            && ((1.0 - approx / self.hwm_f) - cfg.policy.max_drawdown).abs() <= MARGIN
        {
            equity_f = to_f64(self.exact_equity(j)?);
        }
        let book_in = Book {
            spot_amount: self.spot_f,
            futures_lots: self.account.position_lots(),
            equity: equity_f,
            high_water_mark: self.hwm_f,
        };
        let mut decision = match shared {
            None => self
                .engine
                .decide(close, funding_rate, &book_in, &self.state, false)?,
            Some(s) => {
                self.engine
                    .decide_on(s, close, funding_rate, &book_in, &self.state, false)?
            }
        };
        // decide just refreshed the statistics
        let stats = shared.unwrap_or(&self.engine);
        if decision
            .reasons
            .first()
            .is_some_and(|r| r.code == "requote_gate")
        {
            self.met.decisions_kept += 1;
        }
        self.var_fraction = stats.last_stats().var_fraction;
        // `var_fraction` is `var_fraction_at(var_confidence)` on the same window: reuse it
        // when the confidence is one the VaR test reads (0.95 by default)
        let confidence = stats.config().var_confidence;
        let at = |c: f64| {
            if confidence == c {
                self.var_fraction
            } else {
                stats.var_fraction_at(c)
            }
        };
        (self.var95, self.var99) = (at(0.95), at(0.99));
        self.state = decision.state;
        if decision.resumed {
            // a halt's cooldown ran out: the drawdown restarts from here
            let e = self.exact_equity(j)?;
            self.hwm = e;
            self.hwm_f = to_f64(e);
        }
        if decision.cancel_all {
            self.cancel_all(j);
            self.engine.recycle(decision);
            return Ok(());
        }
        let want = &decision.orders[..decision.orders.len().min(cfg.max_active_orders)];
        let change = self.standing.compare(want);
        if change != Change::Same {
            // the in-place diff finds each changed position's live order by a scan: past a
            // few changes (a whole 100-level ladder re-priced) the order manager's diff,
            // linear in the orders, is the cheaper (the same cancels and places either way)
            if change == Change::Other
                || self.standing.changed().len() > IN_PLACE_MAX_CHANGES
                || !self.in_place_diff()
            {
                self.full_diff(want);
            }
            self.apply_diff(j, want)?;
            // the decision's orders now stand (swapped in, no copy); the engine gets the old
            // buffer back to fill
            let wanted = want.len();
            self.standing
                .stand(&mut decision.orders, wanted, change == Change::InPlace);
        }
        self.engine.recycle(decision);
        Ok(())
    }

    /// The diff of an [`Change::InPlace`] change (at most [`IN_PLACE_MAX_CHANGES`]) without the
    /// order manager's diff (see [`standing`]): the live order of each changed position (its
    /// key's only one) is cancelled, the changed positions placed. False (nothing set) if a key
    /// has no live order, which the invariant rules out.
    fn in_place_diff(&mut self) -> bool {
        self.cancel_at.clear();
        for &i in self.standing.changed() {
            let key = OrderKey::from(self.standing.at(i));
            match self.live.iter().position(|l| l.key == key) {
                Some(at) => self.cancel_at.push(at),
                None => return false,
            }
        }
        self.cancel_at.sort_unstable();
        self.place_at.clear();
        self.place_at.extend_from_slice(self.standing.changed());
        true
    }

    /// The order manager's diff of the live orders against `want`.
    fn full_diff(&mut self, want: &[DesiredOrder]) {
        self.open_rows.clear();
        self.open_rows.extend(self.live.iter().map(|l| OpenOrder {
            key: l.key,
            kind: l.kind,
            price_ticks: if l.kind == OrderKind::Market {
                1
            } else {
                l.price_ticks
            },
            remaining_lots: l.remaining,
        }));
        let (cancels, places) = self.differ.diff(&self.open_rows, want);
        self.cancel_at.clear();
        self.cancel_at.extend_from_slice(cancels);
        self.place_at.clear();
        self.place_at.extend_from_slice(places);
    }

    /// Send a decision's diff on bar `j` (`cancel_at`, `place_at` into `want`): cancels first,
    /// then places, each in order.
    fn apply_diff(&mut self, j: usize, want: &[DesiredOrder]) -> Result<()> {
        let cancels = &self.cancel_at;
        if !cancels.is_empty() {
            self.cancel_ids.clear();
            for &i in cancels {
                let l = self.live[i];
                self.cancel_ids.push(l.id);
                self.met.orders_cancelled += 1;
                if self.record.events {
                    self.out.orders.cancelled_bar[l.row] = j as i64;
                }
            }
            // ids grow with placement and the live orders keep placement order, but sort
            // anyway: the book's one-pass cancel needs them ascending
            self.cancel_ids.sort_unstable();
            self.book.cancel_sorted(&self.cancel_ids);
            // `cancels` ascend: walk them beside the live orders
            let (mut k, mut next) = (0, 0);
            self.live.retain(|_| {
                let cancelled = cancels.get(next) == Some(&k);
                next += usize::from(cancelled);
                k += 1;
                !cancelled
            });
        }
        for &i in &self.place_at {
            let d = want[i];
            let key = OrderKey::from(&d);
            let id = self.next_id;
            self.next_id += 1;
            self.book.place(SimOrder {
                id,
                side: d.side,
                kind: d.kind,
                price_ticks: if d.kind == OrderKind::Market {
                    1
                } else {
                    d.price_ticks
                },
                remaining_lots: d.amount_lots,
                placed_bar: j as i64,
            })?;
            self.met.orders_placed += 1;
            let row = self.out.orders.len();
            if self.record.events {
                // the n-th order placed under its key (only the recorded rows carry it)
                let seq = self.sequences.entry(key).or_insert(0);
                *seq += 1;
                let sequence = *seq;
                self.out.orders.push(&OrderRow {
                    key,
                    sequence,
                    kind: d.kind,
                    side: d.side,
                    price_ticks: d.price_ticks,
                    amount_lots: d.amount_lots,
                    filled_lots: 0,
                    placed_bar: j,
                    cancelled_bar: None,
                });
            }
            self.live.push(Live {
                id,
                row,
                key,
                kind: d.kind,
                price_ticks: d.price_ticks,
                remaining: d.amount_lots,
            });
        }
        Ok(())
    }

    /// Feed this leg's engine the window it sees at bar `j` ([`Series::feed`]). When the
    /// engine's latest bar is `j - 1` (a decision every bar) that is bar `j` alone: `sync`
    /// would find it the one new bar of the window (open times were validated increasing) and
    /// push it, so it is pushed directly. A bar `push` refuses goes through `sync` (push
    /// checks before it changes anything) for `sync`'s error.
    fn feed_engine(&mut self, j: usize) -> Result<()> {
        let d = &self.data;
        if j > 0 && self.engine.last_timestamp() == Some(d.timestamp[j - 1]) {
            let pushed = self.engine.push(
                d.timestamp[j],
                d.open[j],
                d.high[j],
                d.low[j],
                d.close[j],
                d.volume[j],
            );
            if pushed.is_ok() {
                return Ok(());
            }
        }
        d.feed(&mut self.engine, self.cfg.history_bars, j).map(drop)
    }

    /// Mark to market at bar `j`'s close: the metrics' accumulators and the per-bar series.
    /// Returns the (f64) equity.
    #[inline]
    pub fn mark(&mut self, j: usize) -> f64 {
        let close = self.data.close[j];
        let (base_pnl, entry, pos) = self.cached;
        let spot_f = self.spot_f;
        let equity = self.cash_f + spot_f * close + base_pnl + (close - entry) * pos;
        let short = -(self.account.position_lots() as f64) * self.lot;
        let hedge_ratio = if spot_f > 0.0 { short / spot_f } else { 0.0 };
        self.hedge_sum += hedge_ratio;
        let forecast = self.var_fraction * self.prev_net_exposure;
        let (f95, f99) = (
            self.var95 * self.prev_net_exposure,
            self.var99 * self.prev_net_exposure,
        );
        let met = &mut self.met;
        self.min_equity = self.min_equity.min(equity);
        if self.state.halted && met.halt_bar.is_none() {
            met.halt_bar = Some(j);
        }
        let position = pos_of(&self.account, self.lot);
        if j == self.cfg.start {
            met.initial_equity = equity;
        } else {
            let change = equity - self.prev_equity;
            // returns on PnL relative to the initial capital (finish_metrics divides)
            self.returns.add(change);
            if change < 0.0 {
                self.downside.0 += change * change;
            }
            self.downside.1 += 1;
            let price_change = close - self.data.close[j - 1];
            self.spot_changes.add(spot_f * price_change);
            self.drift += self.prev_position * price_change;
            // every bar counts: a loss above a zero forecast is an exception; a "loss" within
            // the f64 marking's rounding (1e-9 of the book's size) is none
            let loss = -change - var_noise(spot_f * close, equity);
            met.var_observations += 1;
            if loss > forecast {
                met.var_exceptions += 1;
            }
            self.exc95.push(loss > f95);
            self.exc99.push(loss > f99);
        }
        self.prev_position = position;
        let peak = self.peak.max(equity);
        if peak != self.peak {
            self.peak = peak;
            self.dd_floor = dd_floor(peak, met.max_drawdown);
        }
        // equity at or above the floor leaves the maximum as it is, and so does a NaN equity
        // (`max` ignores a NaN): only the division is skipped
        if peak > 0.0 && equity < self.dd_floor {
            let max_drawdown = met.max_drawdown.max(1.0 - equity / peak);
            if max_drawdown != met.max_drawdown {
                met.max_drawdown = max_drawdown;
                self.dd_floor = dd_floor(peak, max_drawdown);
            }
        }
        self.prev_equity = equity;
        self.prev_net_exposure = (spot_f - short).abs() * close;
        if self.record.series {
            let out = &mut self.out;
            out.equity.push(equity);
            out.hedge_ratio.push(hedge_ratio);
            out.position.push(position);
            out.var_forecast.push(forecast);
            out.var95.push(f95);
            out.var99.push(f99);
            // the center moves only at decisions: convert it when it does
            if self.center.0 != self.state.center_ticks {
                self.center = (
                    self.state.center_ticks,
                    self.market.ticks_to_f64(self.state.center_ticks),
                );
            }
            out.center.push(self.center.1);
            out.funding.push(self.funding_f);
        }
        equity
    }

    /// The result once every bar `start..n` has been stepped.
    pub fn finish(self) -> BacktestResult {
        let LegSim {
            cfg,
            n,
            bar_ms,
            account,
            state,
            mut out,
            mut met,
            returns,
            downside,
            spot_changes,
            hedge_sum,
            prev_equity,
            exc95,
            exc99,
            min_equity,
            drift,
            data,
            ..
        } = self;
        let bars = n - cfg.start;
        met.bars = bars;
        met.final_equity = prev_equity;
        met.min_equity = min_equity;
        met.bar_ms = bar_ms;
        (met.gaps, met.missing_bars) = data.gaps();
        finish_metrics(
            &mut met,
            &returns,
            downside,
            &returns,
            &spot_changes,
            bar_ms,
        );
        // attribution: spot + futures (grid + drift) - fees + funding = pnl
        let (first, last) = (data.close[cfg.start], data.close[n - 1]);
        let futures = to_f64(account.realized_pnl())
            + (last - to_f64(account.entry_price())) * to_f64(account.position());
        met.pnl_spot = to_f64(cfg.spot_amount) * (last - first);
        met.pnl_drift = drift;
        met.pnl_grid = futures - drift;
        met.pnl_fees = -to_f64(account.fees());
        met.pnl_funding = to_f64(account.funding());
        for (c, exc, x, pk, pc, pcc) in [
            (
                0.95,
                &exc95,
                &mut met.var95_exceptions,
                &mut met.kupiec_p_95,
                &mut met.christoffersen_p_95,
                &mut met.conditional_coverage_p_95,
            ),
            (
                0.99,
                &exc99,
                &mut met.var99_exceptions,
                &mut met.kupiec_p_99,
                &mut met.christoffersen_p_99,
                &mut met.conditional_coverage_p_99,
            ),
        ] {
            *x = exc.n_exceptions as usize;
            let p = |t: Result<crate::var_backtest::LrTest>| t.map_or(f64::NAN, |t| t.p_value);
            *pk = p(crate::var_backtest::kupiec_pof(
                exc.n_obs,
                exc.n_exceptions,
                c,
            ));
            *pc = if exc.n_obs == 0 {
                f64::NAN
            } else {
                p(exc.independence())
            };
            *pcc = p(exc.conditional_coverage(c));
        }
        met.funding_pnl = to_f64(account.funding());
        met.fees = to_f64(account.fees());
        met.realized_pnl = to_f64(account.realized_pnl());
        met.traded_notional = to_f64(account.traded_notional());
        met.mean_hedge_ratio = hedge_sum / bars as f64;
        met.halted = state.halted;
        (met.kupiec_lr, met.kupiec_p_value) = kupiec_pof(
            met.var_observations,
            met.var_exceptions,
            1.0 - cfg.policy.var_confidence,
        );
        out.metrics = met;
        out
    }
}

/// The summary figures from the per-bar accumulators (`bars`, equities and drawdown set).
fn finish_metrics(
    met: &mut Metrics,
    returns: &Moments,
    downside: (f64, usize),
    changes: &Moments,
    spot_changes: &Moments,
    bar_ms: i64,
) {
    let bars = met.bars;
    met.pnl = met.final_equity - met.initial_equity;
    let capital = met.initial_equity;
    met.total_return = if capital > 0.0 {
        met.pnl / capital
    } else {
        f64::NAN
    };
    let per_year = 365.0 * 86_400_000.0 / bar_ms as f64;
    let periods = (bars.saturating_sub(1)).max(1) as f64;
    met.annual_return = if met.total_return > -1.0 {
        (1.0 + met.total_return).powf(per_year / periods) - 1.0
    } else {
        -1.0
    };
    // `returns` and `downside` hold equity changes: scaled by the initial capital they are
    // the returns on PnL relative to it (the scale cancels in the ratios)
    let sd = returns.var().sqrt();
    met.sharpe = if sd > 0.0 {
        returns.mean / sd * per_year.sqrt()
    } else {
        0.0
    };
    let dd = if downside.1 > 0 {
        (downside.0 / downside.1 as f64).sqrt()
    } else {
        0.0
    };
    met.sortino = if dd > 0.0 {
        returns.mean / dd * per_year.sqrt()
    } else {
        0.0
    };
    met.calmar = if met.max_drawdown > 0.0 {
        met.annual_return / met.max_drawdown
    } else {
        0.0
    };
    // equity reached zero (or never was positive): no return-based figure means anything
    if capital.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || met.min_equity <= 0.0 {
        met.annual_return = f64::NAN;
        met.sharpe = f64::NAN;
        met.sortino = f64::NAN;
        met.calmar = f64::NAN;
        met.max_drawdown = f64::NAN;
    }
    let spot_var = spot_changes.var();
    met.hedge_effectiveness = if spot_var > 0.0 {
        1.0 - changes.var() / spot_var
    } else {
        0.0
    };
}

/// Whether the equity `approx` (quote) may be within 1e-9 (the decision's margin) of the
/// drawdown limit `max_drawdown` (a fraction) under the high-water mark `hwm` (> 0), told
/// without a division: within `1e-6 x hwm x (1 + |1 - max_drawdown|)` of `hwm x (1 -
/// max_drawdown)`, a band a thousand times wider than the margin and the rounding of
/// `1 - approx / hwm`, so an equity outside it is surely not within the margin.
fn near_limit(approx: f64, hwm: f64, max_drawdown: f64) -> bool {
    let level = 1.0 - max_drawdown;
    (approx - hwm * level).abs() <= 1e-6 * hwm * (1.0 + level.abs())
}

/// The equity (quote) at or above which a bar cannot raise the maximum drawdown
/// `max_drawdown` (a fraction) under the running peak `peak`: `peak x (1 - max_drawdown)`
/// widened by 1e-9, far beyond the few ulps of rounding in `1 - equity / peak`, so the
/// comparison never hides a new maximum. +inf (always compute) for a peak <= 0 or a maximum
/// above 1/2, where that margin argument is not made.
fn dd_floor(peak: f64, max_drawdown: f64) -> f64 {
    if peak > 0.0 && max_drawdown <= 0.5 {
        peak * (1.0 - max_drawdown) * (1.0 + 1e-9)
    } else {
        f64::INFINITY
    }
}

/// The rounding of an f64 mark-to-market of a book this size (quote): 1e-9 of the larger of
/// the spot value and the equity (at least 1e-9). A bar's "loss" below it is no loss for the
/// VaR backtest.
pub fn var_noise(spot_value: f64, equity: f64) -> f64 {
    1e-9 * spot_value.abs().max(equity.abs()).max(1.0)
}

fn pos_of(a: &Account, lot: f64) -> f64 {
    a.position_lots() as f64 * lot
}

impl BacktestResult {
    /// The client order id of order `row` of this run.
    pub fn client_order_id(&self, cfg: &BacktestConfig, row: usize) -> Result<String> {
        if row >= self.orders.len() {
            return Err(Error::invalid("order", row, "is not an order of this run"));
        }
        let o = self.orders.row(row);
        orders::client_order_id(&cfg.bot_id, &cfg.symbol, &o.key, o.sequence)
    }

    /// The event log (placements, cancels and fills; empty for the plain grid, which keeps
    /// no order table): on each bar the fills in the order they happened, then the cancels,
    /// then the placements, each in order-row order (the order manager cancels and places in
    /// placement order; a bar has one decision). A cancel's lots are what was left unfilled.
    pub fn events(&self) -> Vec<Event> {
        let o = &self.orders;
        if o.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2 * o.len() + self.fills.len());
        for f in &self.fills {
            out.push(Event {
                bar: f.bar,
                kind: EventKind::Fill,
                order: f.order,
                side: f.side,
                price_ticks: f.price_ticks,
                lots: f.lots,
            });
        }
        for i in 0..o.len() {
            let row = o.row(i);
            if let Some(bar) = row.cancelled_bar {
                out.push(Event {
                    bar,
                    kind: EventKind::Cancel,
                    order: i,
                    side: row.side,
                    price_ticks: row.price_ticks,
                    lots: row.amount_lots - row.filled_lots,
                });
            }
            out.push(Event {
                bar: row.placed_bar,
                kind: EventKind::Place,
                order: i,
                side: row.side,
                price_ticks: row.price_ticks,
                lots: row.amount_lots,
            });
        }
        let rank = |k: EventKind| match k {
            EventKind::Fill => 0u8,
            EventKind::Cancel => 1,
            EventKind::Place => 2,
        };
        // stable: fills keep their order, cancels and places their row order
        out.sort_by_key(|e| (e.bar, rank(e.kind)));
        out
    }
}

pub mod baseline;
mod plain;
mod standing;
pub use plain::plain_levels;
use standing::{Change, Standing};

#[cfg(test)]
pub(crate) mod tests;

mod sweep;
pub use sweep::{sweep, sweep_excess, sweep_with, Statistics, SweptRun};
