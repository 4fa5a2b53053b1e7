//! The decision: given a market snapshot, the book, the policy state and the config, which
//! orders should exist now, and why. One pure function, called by the live bot at each
//! rebalance and by the backtester on every bar at the bot's cadence.
//!
//! The grid is a ladder of hedge targets (DESIGN.md, 'The strategy, exactly'). At the center
//! `c` the short hedge is `S_ref = h_target x spot` (lots); sell level `k` raises the target by
//! `(S_hi - S_ref) / L` per level, buy level `k` lowers it by `(S_ref - S_lo) / L`, so if every
//! sell fills the hedge is at the top of the band and if every buy fills at the bottom. Each
//! rung above the price gets a sell for whatever the current hedge lacks to reach that rung's
//! target, each rung below a buy for whatever it exceeds it (the center is a rung too, so after
//! a fill the order that undoes it sits one rung back). The seed's four risk layers, each in
//! its own module and composed by [`decide_in`]:
//! - market (`market.rs`): dynamic spacing `max(grid_spacing_pct, k x sigma x sqrt(horizon))`,
//!   the funding tilt of `h` within its band, then reviews (tighten-only, last);
//! - order (`order.rs`): the ladder, support/resistance snapping, min distance, the volume
//!   cap, market minimums, `max_active_orders`;
//! - position (`position.rs`, `stop.rs`, `cap.rs`): the band capped by `max_position_size`,
//!   the rebalance / de-risking market order (participation-capped), per-level sizing from
//!   risk (`crate::sizing::level_risk_lots`), the stop on the net exposure's trailing
//!   reference, one worst-case cap over each side's resting orders;
//! - portfolio (`portfolio.rs`, `halt.rs`): the horizon VaR of the worst in-band exposure
//!   against `var_limit` (warn, then narrow the band), the drawdown halt that de-risks to the
//!   safe hedge and sticks until resumed.

use std::str::FromStr;

use crate::error::{check, Error, Result};
use crate::fills::OrderKind;
use crate::grid::{Grid, GridMode, GridPlan};
use crate::levels::{support_resistance, SrLevel};
use crate::money::{snap, Market, Round, Side};
use crate::series::NanPolicy;
use crate::var::horizon::FhsHorizonVar;

/// Per-bar volatility estimator used for dynamic spacing and the stop scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolEstimator {
    CloseToClose,
    Ewma,
    Parkinson,
    GarmanKlass,
}

impl FromStr for VolEstimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "close_to_close" => Ok(VolEstimator::CloseToClose),
            "ewma" => Ok(VolEstimator::Ewma),
            "parkinson" => Ok(VolEstimator::Parkinson),
            "garman_klass" => Ok(VolEstimator::GarmanKlass),
            _ => Err(Error::invalid(
                "volatility_estimator",
                format!("{s:?}"),
                "must be one of close_to_close, ewma, parkinson, garman_klass",
            )),
        }
    }
}

/// How the VaR checked against `var_limit` scales to `var_horizon_bars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarMethod {
    /// Filtered historical simulation on overlapping horizon sums ([`crate::var::horizon`]),
    /// over the last `var_window_bars` sums; never below the square-root rule until the
    /// window is full ([`horizon_var_fraction`]).
    Fhs,
    /// One-bar historical VaR of the candle window x sqrt(horizon) (under-forecasts on
    /// real hourly BTC: see `benches/bench_var_horizon.py`).
    Sqrt,
}

impl FromStr for VarMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fhs" => Ok(VarMethod::Fhs),
            "sqrt" => Ok(VarMethod::Sqrt),
            _ => Err(Error::invalid(
                "var_method",
                format!("{s:?}"),
                "must be one of fhs, sqrt",
            )),
        }
    }
}

/// Horizon sums the filtered historical simulation needs before it replaces the square-root
/// rule (the 99% quantile of fewer is the sample's maximum).
pub const FHS_MIN_SUMS: usize = 100;

/// The largest `stop_refresh_tolerance` and `grid_refresh_tolerance`: a resting stop is never
/// kept more than half its distance, a rung more than about half a spacing, away from where
/// the rule puts it.
pub const MAX_STOP_REFRESH_TOLERANCE: f64 = 0.5;

/// Everything the decision needs from the configuration (units as in the Python config).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    pub grid_spacing_pct: f64,
    pub num_levels: usize,
    pub min_price_distance: f64,
    pub grid_mode: GridMode,
    pub dynamic_spacing: bool,
    pub volatility_multiplier: f64,
    pub volatility_estimator: VolEstimator,
    /// Bars over which sigma is scaled for the dynamic spacing (sqrt-time).
    pub spacing_horizon_bars: usize,
    pub recenter_threshold_pct: f64,
    pub support_resistance: bool,
    pub sr_tolerance_pct: f64,
    pub max_position_size: f64,
    pub max_drawdown: f64,
    pub stop_loss_pct: f64,
    pub var_limit: f64,
    pub var_confidence: f64,
    pub var_horizon_bars: usize,
    pub var_shrink_ratio: f64,
    /// Sizing from risk ([`crate::sizing::level_risk_lots`]): one grid level's P&L standard
    /// deviation per bar at most this fraction of equity (0: off).
    pub sizing_vol_target_pct: f64,
    /// Sizing from risk: one grid level's horizon VaR at most this share of `var_limit` (0: off).
    pub sizing_var_share: f64,
    /// The horizon VaR's method.
    pub var_method: VarMethod,
    /// Overlapping horizon sums the filtered historical simulation keeps (bars fed beyond
    /// the candle window count: the engine keeps them across decisions).
    pub var_window_bars: usize,
    pub stop_scale_min: f64,
    pub stop_scale_max: f64,
    /// The protective stop stays where it rests while the stop rule's new price is within
    /// this fraction of the stop distance of it and its amount is unchanged (fraction of the
    /// distance, in [0, 0.5]; 0: the stop follows every tick). See `policy/stop.rs`.
    pub stop_refresh_tolerance: f64,
    /// With dynamic spacing, the spacing the last decision used stays while the new one is
    /// within this fraction of it divided by `num_levels` (fraction, in [0, 0.5]; 0: the
    /// spacing follows every change): every rung then stays within about this fraction of a
    /// spacing of where the new spacing puts it, and keeps its price. See `policy/market.rs`.
    pub grid_refresh_tolerance: f64,
    pub max_volume_share: f64,
    pub max_active_orders: usize,
    pub hedge_ratio: f64,
    pub hedge_ratio_min: f64,
    pub hedge_ratio_max: f64,
    pub funding_tilt: bool,
    pub funding_sensitivity: f64,
    /// Safe hedge ratio a drawdown halt moves the hedge to (clamped to the band).
    pub halt_hedge_ratio: f64,
    /// Decisions after which a halt lifts by itself (0: only a resume lifts it).
    pub halt_cooldown: u32,
    /// Decisions a grid side pauses after a stop on the other side fired.
    pub stop_cooldown: u32,
    /// A risk review's hedge ratio (e.g. the LLM's full hedge), applied after the funding
    /// tilt and only where it tightens (nearer a full hedge within the band); None: no review.
    pub review_hedge_ratio: Option<f64>,
    /// Candles of the trend guard's moving mean (0: the guard is off; see `trend.rs`).
    pub trend_guard_bars: usize,
    /// How far (fraction) the price must stand from that mean to count as a trend.
    pub trend_guard_pct: f64,
    /// The requote gate (see `policy/requote.rs`; fraction, in [0, 0.5]; 0: off, every
    /// decision is taken in full): a decision whose inputs all stayed within this tolerance of
    /// the last full decision's (the price within this fraction of a grid spacing; volatility,
    /// VaR, volume and equity within this fraction of themselves), with no order reached, no
    /// fill, no risk limit crossed and no paused side resuming, keeps that decision's orders.
    pub requote_tolerance: f64,
    /// Most decisions in a row the gate keeps before one is taken in full again (>= 1).
    pub requote_max_skips: u32,
}

impl PolicyConfig {
    /// Check every field (the Python config validates too; this guards direct Rust use).
    pub fn validate(&self) -> Result<()> {
        check::open_interval("grid_spacing_pct", self.grid_spacing_pct, 0.0, 1.0)?;
        check::count_in("num_levels", self.num_levels, 1, crate::grid::MAX_LEVELS)?;
        check::non_negative("min_price_distance", self.min_price_distance)?;
        check::non_negative("volatility_multiplier", self.volatility_multiplier)?;
        check::count_in(
            "spacing_horizon_bars",
            self.spacing_horizon_bars,
            1,
            100_000,
        )?;
        check::open_interval(
            "recenter_threshold_pct",
            self.recenter_threshold_pct,
            0.0,
            1.0,
        )?;
        check::open_interval("sr_tolerance_pct", self.sr_tolerance_pct, 0.0, 1.0)?;
        check::positive("max_position_size", self.max_position_size)?;
        check::open_interval("max_drawdown", self.max_drawdown, 0.0, 1.0)?;
        check::open_interval("stop_loss_pct", self.stop_loss_pct, 0.0, 1.0)?;
        check::positive("var_limit", self.var_limit)?;
        crate::series::confidence("var_confidence", self.var_confidence)?;
        check::count_in("var_horizon_bars", self.var_horizon_bars, 1, 100_000)?;
        check::finite("var_shrink_ratio", self.var_shrink_ratio)?;
        check::count_in(
            "var_window_bars",
            self.var_window_bars,
            FHS_MIN_SUMS,
            10_000_000,
        )?;
        check::non_negative("sizing_vol_target_pct", self.sizing_vol_target_pct)?;
        check::non_negative("sizing_var_share", self.sizing_var_share)?;
        if self.sizing_var_share > 1.0 {
            return Err(Error::invalid(
                "sizing_var_share",
                self.sizing_var_share,
                "must be <= 1 (a share of var_limit)",
            ));
        }
        if self.var_shrink_ratio < 1.0 {
            return Err(Error::invalid(
                "var_shrink_ratio",
                self.var_shrink_ratio,
                "must be >= 1",
            ));
        }
        check::positive("stop_scale_min", self.stop_scale_min)?;
        check::positive("stop_scale_max", self.stop_scale_max)?;
        if self.stop_scale_min > self.stop_scale_max {
            return Err(Error::invalid(
                "stop_scale_min",
                self.stop_scale_min,
                "must be <= stop_scale_max",
            ));
        }
        for (field, v, of) in [
            (
                "stop_refresh_tolerance",
                self.stop_refresh_tolerance,
                "the stop distance",
            ),
            (
                "grid_refresh_tolerance",
                self.grid_refresh_tolerance,
                "the grid spacing",
            ),
        ] {
            check::non_negative(field, v)?;
            if v > MAX_STOP_REFRESH_TOLERANCE {
                return Err(Error::invalid(
                    field,
                    v,
                    format!("must be <= {MAX_STOP_REFRESH_TOLERANCE} (a fraction of {of})"),
                ));
            }
        }
        check::non_negative("requote_tolerance", self.requote_tolerance)?;
        if self.requote_tolerance > MAX_STOP_REFRESH_TOLERANCE {
            return Err(Error::invalid(
                "requote_tolerance",
                self.requote_tolerance,
                format!("must be <= {MAX_STOP_REFRESH_TOLERANCE} (a fraction of the inputs)"),
            ));
        }
        if self.requote_max_skips == 0 {
            return Err(Error::invalid(
                "requote_max_skips",
                self.requote_max_skips,
                "must be >= 1 (decisions the requote gate may keep in a row)",
            ));
        }
        check::open_interval("max_volume_share", self.max_volume_share, 0.0, 1.0)?;
        check::count_in("max_active_orders", self.max_active_orders, 1, 10_000)?;
        for (f, v) in [
            ("hedge_ratio", self.hedge_ratio),
            ("hedge_ratio_min", self.hedge_ratio_min),
            ("hedge_ratio_max", self.hedge_ratio_max),
        ] {
            check::non_negative(f, v)?;
        }
        if !(self.hedge_ratio_min <= self.hedge_ratio && self.hedge_ratio <= self.hedge_ratio_max) {
            return Err(Error::invalid(
                "hedge_ratio",
                self.hedge_ratio,
                format!(
                    "must lie in the band [hedge_ratio_min, hedge_ratio_max] = [{}, {}]",
                    self.hedge_ratio_min, self.hedge_ratio_max
                ),
            ));
        }
        check::non_negative("funding_sensitivity", self.funding_sensitivity)?;
        check::non_negative("halt_hedge_ratio", self.halt_hedge_ratio)?;
        if let Some(r) = self.review_hedge_ratio {
            check::non_negative("review_hedge_ratio", r)?;
        }
        check::count_in("trend_guard_bars", self.trend_guard_bars, 0, 100_000)?;
        check::open_interval("trend_guard_pct", self.trend_guard_pct, 0.0, 1.0)?;
        Ok(())
    }
}

/// Recent candles, oldest first, the last one the most recent complete bar.
#[derive(Debug, Clone, Copy)]
pub struct Candles<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
}

/// The market as the decision sees it.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Current price (quote).
    pub price: f64,
    pub candles: Candles<'a>,
    /// Current funding rate per 8 h (fraction; positive: longs pay shorts).
    pub funding_rate: f64,
}

/// The book: spot inventory, the futures hedge, equity and its high-water mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Book {
    /// Spot inventory in base units (>= 0).
    pub spot_amount: f64,
    /// Signed futures position in lots (negative = short, the hedge).
    pub futures_lots: i64,
    /// Current equity (quote).
    pub equity: f64,
    /// Highest equity seen (quote); the drawdown is measured from it.
    pub high_water_mark: f64,
}

/// What the decision remembers between calls (persisted by the bot's state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyState {
    /// Grid center in ticks; 0 before the first decision.
    pub center_ticks: i64,
    /// Short hedge at the center, in lots.
    pub ref_short_lots: i64,
    /// A drawdown halt: sticks until resumed (the driver clears it) or `halt_cooldown`.
    pub halted: bool,
    /// Decisions spent halted.
    pub halt_age: u32,
    /// The stop's trailing reference in ticks: > 0 the high-water while net long, < 0 minus
    /// the low-water while net short, 0 without net exposure.
    pub stop_ref_ticks: i64,
    /// The sell / buy stop the last decision placed (ticks; 0: none).
    pub sell_stop_ticks: i64,
    pub buy_stop_ticks: i64,
    /// Their amounts (lots; 0: none or unknown): a stop stays still only at the same amount.
    pub sell_stop_lots: i64,
    pub buy_stop_lots: i64,
    /// The grid spacing the last decision used, as the bits of its f64 (0: none).
    pub grid_spacing_bits: i64,
    /// Decisions the buy / sell side of the grid stays paused after a stop fired.
    pub pause_buys: u32,
    pub pause_sells: u32,
    /// Open time (ms) of the latest bar the last [`PolicyEngine`] decision saw (0: unknown).
    /// A restarted engine judges whether the recorded stops traded on the bars after it.
    pub decided_bar_ms: i64,
}

/// Why an order exists; with side and level it names the order (and its client id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A grid rung (level > 0: sell side, < 0: buy side, 0: the center).
    Grid,
    /// A market order bringing the hedge back into its band.
    Rebalance,
    /// The dynamic stop flattening the net exposure.
    Stop,
}

impl Role {
    /// `"grid"`, `"rebalance"` or `"stop"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Grid => "grid",
            Role::Rebalance => "rebalance",
            Role::Stop => "stop",
        }
    }
}

/// An order the decision wants to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredOrder {
    pub role: Role,
    pub side: Side,
    /// Rung: +k for sell level k, -k for buy level k, 0 for the center (and non-grid roles).
    pub level: i32,
    pub kind: OrderKind,
    pub price_ticks: i64,
    pub amount_lots: i64,
}

/// One line of explanation: a stable code and a sentence for the trader.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

/// Figures behind the decision.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Per-bar volatility from the configured estimator (fraction).
    pub volatility: f64,
    /// Long-run per-bar volatility: close-to-close over all candles given.
    pub long_run_volatility: f64,
    pub spacing: f64,
    pub hedge_ratio: f64,
    pub target_hedge_ratio: f64,
    /// VaR (quote, positive loss) of the current net exposure over the VaR horizon.
    pub var: f64,
    /// VaR (quote) of the worst exposure the grid can reach inside its band.
    pub var_worst: f64,
    /// The horizon VaR per unit of exposure (fraction, positive loss) behind `var`.
    pub var_horizon_fraction: f64,
    pub drawdown: f64,
    /// Stop distance as a fraction of the center.
    pub stop_distance: f64,
}

/// The decision: the orders that should exist, the new state, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub orders: Vec<DesiredOrder>,
    pub state: PolicyState,
    /// Cancel every open order first (no decision sets it now: a halt keeps its de-risking
    /// orders, and the diff cancels the grid).
    pub cancel_all: bool,
    /// A halt lifted by its cooldown at this decision: the driver restarts the high-water mark
    /// at the current equity.
    pub resumed: bool,
    pub metrics: Metrics,
    pub reasons: Vec<Reason>,
}

fn reason(
    reasons: &mut Vec<Reason>,
    explain: bool,
    code: &'static str,
    message: impl FnOnce() -> String,
) {
    reasons.push(Reason {
        code,
        message: if explain { message() } else { String::new() },
    });
}

/// What the decision needs from the recent candles, computed either from a window at once
/// ([`MarketStats::from_candles`], used by [`decide`]) or incrementally by a [`PolicyEngine`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MarketStats {
    /// Per-bar volatility from the configured estimator (fraction).
    pub volatility: f64,
    /// Close-to-close per-bar volatility over the whole window (fraction).
    pub long_run_volatility: f64,
    /// One-bar historical VaR as a fraction of exposure (positive loss), at `var_confidence`.
    pub var_fraction: f64,
    /// VaR over `var_horizon_bars` by `var_method`, a fraction of exposure (positive loss) at
    /// `var_confidence`: the VaR checked against `var_limit`.
    pub var_horizon_fraction: f64,
    /// Mean volume of the last (up to) 24 bars (base units).
    pub avg_volume: f64,
    /// Support/resistance levels of the window, sorted by price (empty when the layer is off).
    pub sr_levels: Vec<SrLevel>,
    /// Lowest low and highest high of the bars since the previous decision (of the last bar
    /// before any decision): whether a stop traded.
    pub low_since: f64,
    pub high_since: f64,
    /// Mean close of the last `trend_guard_bars` candles of the window (quote; 0 when the
    /// trend guard is off).
    pub trend_mean: f64,
}

/// The VaR checked against `var_limit` (fraction of exposure, positive loss). With
/// [`VarMethod::Fhs`]: the filtered historical simulation's once its window holds
/// `var_window_bars` horizon sums; while it fills (a fresh bot, a restart), the larger of it
/// (from [`FHS_MIN_SUMS`] sums on) and the square-root rule, so a short sample's thin tail never
/// lowers the VaR. With [`VarMethod::Sqrt`]: the one-bar historical VaR `one_bar` x
/// sqrt(`var_horizon_bars`).
pub fn horizon_var_fraction(cfg: &PolicyConfig, one_bar: f64, fhs: &FhsHorizonVar) -> f64 {
    let sqrt_rule = one_bar * (cfg.var_horizon_bars as f64).sqrt();
    if cfg.var_method == VarMethod::Sqrt || fhs.len() < FHS_MIN_SUMS {
        return sqrt_rule;
    }
    let filtered = fhs.var_fraction(cfg.var_confidence).unwrap_or(0.0);
    if fhs.len() >= cfg.var_window_bars {
        filtered
    } else {
        filtered.max(sqrt_rule)
    }
}

/// Bars whose mean volume caps each order (the market-impact layer).
pub const VOLUME_BARS: usize = 24;
/// Half window of the pivots behind support/resistance (a pivot is the extreme of 2w+1 bars).
pub const SR_HALF_WINDOW: usize = 3;
/// Pivots a cluster needs to count as a support/resistance level.
pub const SR_MIN_TOUCHES: u32 = 2;

impl MarketStats {
    /// The statistics of a candle window recomputed from scratch (at least 3 candles).
    pub fn from_candles(cfg: &PolicyConfig, c: &Candles<'_>) -> Result<Self> {
        let n = c.close.len();
        for (name, len) in [
            ("open", c.open.len()),
            ("high", c.high.len()),
            ("low", c.low.len()),
            ("volume", c.volume.len()),
        ] {
            crate::series::same_len("close", n, name, len)?;
        }
        for (name, x) in [
            ("open", c.open),
            ("high", c.high),
            ("low", c.low),
            ("close", c.close),
        ] {
            crate::series::finite_series(name, x, 3, crate::series::NanPolicy::Raise)?;
            if let Some(i) = x.iter().position(|v| *v <= 0.0) {
                return Err(Error::invalid(format!("{name}[{i}]"), x[i], "must be > 0"));
            }
        }
        crate::series::finite_series("volume", c.volume, 3, crate::series::NanPolicy::Raise)?;
        let returns: Vec<f64> = c.close.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
        let recent = &c.volume[n.saturating_sub(VOLUME_BARS)..];
        let var_fraction = historical_var_fraction(&returns, cfg.var_confidence);
        let mut fhs = FhsHorizonVar::new(
            cfg.var_horizon_bars,
            cfg.var_window_bars,
            cfg.var_confidence,
        )?;
        if cfg.var_method == VarMethod::Fhs {
            returns.iter().for_each(|&r| fhs.push(r));
        }
        Ok(MarketStats {
            var_horizon_fraction: horizon_var_fraction(cfg, var_fraction, &fhs),
            long_run_volatility: crate::volatility::close_to_close(&returns, NanPolicy::Raise)?,
            volatility: estimate_volatility(cfg.volatility_estimator, c, &returns)?,
            var_fraction,
            avg_volume: recent.iter().sum::<f64>() / recent.len().max(1) as f64,
            low_since: c.low[n - 1],
            high_since: c.high[n - 1],
            trend_mean: trend::mean_close(c.close[n - trend::mean_bars(cfg, n)..].iter().copied()),
            sr_levels: if cfg.support_resistance {
                support_resistance(
                    c.high,
                    c.low,
                    SR_HALF_WINDOW,
                    cfg.sr_tolerance_pct,
                    SR_MIN_TOUCHES,
                )?
            } else {
                Vec::new()
            },
        })
    }
}

/// Decide which orders should exist now from a candle window. Pure: same inputs, same
/// decision. (The bot and the backtester use a [`PolicyEngine`], which keeps the same
/// statistics incrementally and calls the same [`decide_with`].)
pub fn decide(
    cfg: &PolicyConfig,
    market: &Market,
    snap_in: &Snapshot<'_>,
    book: &Book,
    state: &PolicyState,
) -> Result<Decision> {
    cfg.validate()?;
    let stats = MarketStats::from_candles(cfg, &snap_in.candles)?;
    decide_with(
        cfg,
        market,
        snap_in.price,
        snap_in.funding_rate,
        &stats,
        book,
        state,
        true,
    )
}

/// Buffers one decision reuses from the last (the grid plan, the ladders, the grid orders), so
/// a driver deciding every bar allocates only the decision it returns. A [`PolicyEngine`] holds
/// one; results never depend on what a scratch held before.
#[derive(Debug, Clone, Default)]
pub struct DecideScratch {
    plan: Option<GridPlan>,
    grid: Grid,
    /// The last ladder built for each side (sells, buys), by what it was built from.
    ladders: [order::LadderCache; 2],
    /// The last support/resistance snapping, by what it was done from.
    snapped: order::SnapCache,
    /// The last hedge band, by what it was computed from.
    band: position::BandCache,
    sells: Vec<(i32, i64, i64)>,
    buys: Vec<(i32, i64, i64)>,
    grid_orders: Vec<DesiredOrder>,
    /// Vectors of a finished decision handed back ([`DecideScratch::recycle`]) for the next.
    spare_orders: Vec<DesiredOrder>,
    spare_reasons: Vec<Reason>,
}

impl DecideScratch {
    /// Hand a decision's vectors back for the next decision to fill (a driver that is done
    /// with a decision saves their allocations).
    pub fn recycle(&mut self, decision: Decision) {
        self.spare_orders = decision.orders;
        self.spare_reasons = decision.reasons;
    }
}

/// The decision from ready statistics. `explain` builds the reasons' sentences (codes are
/// always given); the backtester turns it off. `cfg` must be valid ([`PolicyConfig::validate`]).
#[allow(clippy::too_many_arguments)]
pub fn decide_with(
    cfg: &PolicyConfig,
    market: &Market,
    price: f64,
    funding_rate: f64,
    stats: &MarketStats,
    book: &Book,
    state: &PolicyState,
    explain: bool,
) -> Result<Decision> {
    decide_in(
        cfg,
        market,
        price,
        funding_rate,
        stats,
        book,
        state,
        explain,
        &mut DecideScratch::default(),
    )
}

/// [`decide_with`] reusing `scratch`'s buffers (same result). The seed's four risk layers,
/// each in its module: portfolio (`portfolio.rs`, `halt.rs`), market (`market.rs`), position
/// (`position.rs`, `stop.rs`, `cap.rs`, sizing from `crate::sizing`) and order (`order.rs`).
#[allow(clippy::too_many_arguments)]
pub fn decide_in(
    cfg: &PolicyConfig,
    market: &Market,
    price: f64,
    funding_rate: f64,
    stats: &MarketStats,
    book: &Book,
    state: &PolicyState,
    explain: bool,
    scratch: &mut DecideScratch,
) -> Result<Decision> {
    let price = check::positive("price", price)?;
    check::finite("funding_rate", funding_rate)?;
    check::non_negative("spot_amount", book.spot_amount)?;
    check::finite("equity", book.equity)?;
    check::finite("high_water_mark", book.high_water_mark)?;
    let mut reasons = std::mem::take(&mut scratch.spare_reasons);
    reasons.clear();
    let mut orders = std::mem::take(&mut scratch.spare_orders);
    orders.clear();
    let (lot, spot, short) = (market.lot_f64(), book.spot_amount, -book.futures_lots);
    let price_q = price / market.tick_f64();
    let mut m = Metrics {
        hedge_ratio: ratio(short, lot, spot),
        volatility: stats.volatility,
        long_run_volatility: stats.long_run_volatility,
        drawdown: portfolio::drawdown(book),
        ..Metrics::default()
    };

    // portfolio layer: the drawdown halt
    let halt = halt::step(cfg, state, &mut m.drawdown, &mut reasons, explain);
    let mut new_state = PolicyState {
        halted: halt.halted,
        halt_age: halt.age,
        ..*state
    };
    // market layer: spacing, funding tilt, reviews (tighten-only, last)
    m.spacing = market::spacing(
        cfg,
        m.volatility,
        f64::from_bits(state.grid_spacing_bits as u64),
        &mut reasons,
        explain,
    );
    new_state.grid_spacing_bits = m.spacing.to_bits() as i64;
    m.target_hedge_ratio = market::target_hedge_ratio(cfg, funding_rate, &mut reasons, explain);
    // position layer: the band capped by max_position_size
    let band = position::band_cached(
        &mut scratch.band,
        cfg,
        spot,
        lot,
        m.target_hedge_ratio,
        &mut reasons,
        explain,
    );
    // portfolio layer: the horizon VaR of the worst in-band exposure (warn, shrink)
    let var_fraction = stats.var_horizon_fraction;
    let (s_lo, s_hi) = portfolio::var_band(
        cfg,
        var_fraction,
        (price, lot, spot, short),
        (band.lo, band.hi),
        &mut m,
        &mut reasons,
        explain,
    );
    // position layer: a stop that traded since the last decision pauses its grid side; the
    // halt's de-risking or the band's rebalancing market order
    let fired = stop::cooldown(
        cfg,
        market,
        state,
        stats.low_since,
        stats.high_since,
        &mut new_state,
        &mut reasons,
        explain,
    );
    let s_cur = position::rebalance(
        cfg,
        market,
        (price, spot, stats.avg_volume, m.hedge_ratio),
        &halt,
        (s_lo, s_hi, band.target),
        short,
        &mut new_state,
        &mut orders,
        &mut reasons,
        explain,
    );

    // order layer: the grid (none while halted), each level sized from risk
    let DecideScratch {
        plan,
        grid,
        ladders,
        snapped,
        sells,
        buys,
        grid_orders,
        ..
    } = scratch;
    sells.clear();
    buys.clear();
    grid_orders.clear();
    // the grid layer sees its orders in ladder order (then so are the ones the pause and the
    // trend guard leave; none while halted)
    let mut seen_in_order = true;
    if !halt.halted {
        let risk = crate::sizing::LevelRisk {
            sigma: m.volatility,
            var_fraction,
            equity: book.equity,
            vol_target_pct: cfg.sizing_vol_target_pct,
            var_limit: cfg.var_limit,
            var_share: cfg.sizing_var_share,
        };
        seen_in_order = order::grid(
            cfg,
            market,
            (price, price_q),
            stats,
            state,
            &mut new_state,
            (s_lo, s_hi, band.target, s_cur, spot),
            (m.spacing, crate::sizing::level_risk_lots(risk, price, lot)),
            plan,
            grid,
            ladders,
            snapped,
            sells,
            buys,
            grid_orders,
            &mut reasons,
            explain,
        )?;
        stop::pause_grid(&new_state, grid_orders, &mut reasons, explain);
        trend::guard(
            cfg,
            price,
            stats.trend_mean,
            grid_orders,
            &mut reasons,
            explain,
        );
    }

    // position layer: the stop on the net exposure, then one worst-case cap per side
    m.stop_distance = stop::distance(cfg, m.volatility, m.long_run_volatility)?;
    // the grid orders stay in ladder order when they are (always, from a monotone ladder):
    // the caps then merge the sides instead of sorting (same orders, see `in_ladder_order`)
    debug_assert!(!seen_in_order || order::in_ladder_order(grid_orders, price_q));
    let ladder = (seen_in_order || order::in_ladder_order(grid_orders, price_q)).then_some(price_q);
    if ladder.is_none() {
        order::nearest_first(grid_orders, price_q);
    }
    stop::place(
        cfg,
        market,
        price_q,
        snap(spot / lot, Round::Down) - s_cur,
        m.stop_distance,
        state,
        fired,
        &mut new_state,
        grid_orders,
        &mut orders,
        &mut reasons,
        explain,
    );
    cap::joint(
        band.cap,
        short,
        snap(price_q, Round::Down).max(1),
        market,
        &mut orders,
        grid_orders,
        &mut reasons,
        explain,
    );

    // order layer: max_active_orders, then the decision's order
    order::max_active(cfg, &mut orders, grid_orders, ladder, &mut reasons, explain);
    stop::record(&orders, &mut new_state);
    let key = |o: &DesiredOrder| (o.role, o.side == Side::Buy, o.level.abs(), o.price_ticks);
    if ladder.is_some() {
        // the grid (role first) in ladder order is already in key order: sort only the rest
        // and append it to the grid, whose buffer the decision takes (the scratch keeps the
        // other: no copy of the grid)
        orders.sort_by_key(key);
        grid_orders.extend_from_slice(&orders);
        std::mem::swap(&mut orders, grid_orders);
    } else {
        orders.extend_from_slice(grid_orders);
        orders.sort_by_key(key);
    }
    Ok(Decision {
        orders,
        state: new_state,
        cancel_all: false,
        resumed: halt.resumed,
        metrics: m,
        reasons,
    })
}

fn ratio(lots: i64, lot: f64, spot: f64) -> f64 {
    if spot > 0.0 {
        lots as f64 * lot / spot
    } else {
        0.0
    }
}

/// Per-bar volatility of the recent candles with the chosen estimator (`crate::volatility`).
fn estimate_volatility(which: VolEstimator, c: &Candles<'_>, returns: &[f64]) -> Result<f64> {
    use crate::volatility as vol;
    let raise = NanPolicy::Raise;
    match which {
        VolEstimator::CloseToClose => vol::close_to_close(returns, raise),
        VolEstimator::Ewma => vol::ewma(returns, vol::EWMA_LAMBDA_DEFAULT, raise),
        VolEstimator::Parkinson => vol::parkinson(c.high, c.low, raise),
        VolEstimator::GarmanKlass => vol::garman_klass(c.open, c.high, c.low, c.close, raise),
    }
}

/// Historical VaR of one bar as a fraction (positive loss): numpy 'linear' quantile of -r.
fn historical_var_fraction(returns: &[f64], confidence: f64) -> f64 {
    if returns.is_empty() {
        return 0.0;
    }
    let mut losses: Vec<f64> = returns.iter().map(|r| -r).collect();
    losses.sort_by(f64::total_cmp);
    historical_var_from_sorted(&losses, confidence)
}

/// [`historical_var_fraction`] of losses already sorted ascending (0 when empty), with the
/// `crate::var` quantile (numpy's 'linear' method, bit for bit), floored at 0.
fn historical_var_from_sorted(losses: &[f64], confidence: f64) -> f64 {
    use crate::var::historical::{quantile_from, quantile_position};
    if losses.is_empty() {
        return 0.0;
    }
    let (lo, g) = quantile_position(losses.len(), confidence, crate::var::QuantileMethod::Linear);
    let hi = losses[(lo + 1).min(losses.len() - 1)];
    quantile_from(losses[lo], hi, g).max(0.0)
}

mod cap;
mod engine;
mod halt;
mod market;
mod order;
mod portfolio;
mod position;
mod requote;
mod stop;
pub mod trend;
pub use engine::PolicyEngine;

#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod tests;
