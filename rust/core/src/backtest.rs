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

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::account::Account;
use crate::error::{check, Error, Result};
use crate::fills::{Bar, FillBook, FillParams, OrderKind, SimOrder};
use crate::money::{Market, Side};
use crate::orders::{self, OpenOrder, OrderKey};
use crate::policy::{Book, PolicyConfig, PolicyEngine, PolicyState};

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

    /// Bar length in ms: the first step of the open times (1 h for a single bar), as the
    /// replay clock takes it.
    pub fn bar_ms(&self) -> i64 {
        if self.timestamp.len() >= 2 {
            self.timestamp[1] - self.timestamp[0]
        } else {
            3_600_000
        }
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

/// One order sent by the run.
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
    /// Bars with a positive one-bar VaR forecast, and those whose loss exceeded it.
    pub var_observations: usize,
    pub var_exceptions: usize,
    /// Kupiec POF likelihood ratio and its p-value (chi-squared, 1 dof); NaN without data.
    pub kupiec_lr: f64,
    pub kupiec_p_value: f64,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct BacktestResult {
    pub events: Vec<Event>,
    pub orders: Vec<OrderRow>,
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
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    id: u64,
    row: usize,
    key: OrderKey,
    kind: OrderKind,
    side: Side,
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

fn to_f64(d: Decimal) -> f64 {
    // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 1e22 are exact
    // doubles, so one IEEE division is the correctly rounded value, as the text round trip
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let m = d.mantissa();
    let scale = d.scale() as usize;
    if m.unsigned_abs() < (1u128 << 53) && scale < POW10.len() {
        return m as f64 / POW10[scale];
    }
    // exact text round trip: correctly rounded, as Python's float(Decimal)
    f64::from_str(&d.to_string()).unwrap_or(f64::NAN)
}

/// Run one backtest over `data` (see the module doc).
pub fn run(
    cfg: &BacktestConfig,
    market: &Market,
    data: &Series<'_>,
    record: Record,
) -> Result<BacktestResult> {
    data.validate()?;
    let n = data.timestamp.len();
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
    if cfg.plain_grid {
        return plain::run_plain(cfg, market, data, record);
    }
    let bar_ms = data.bar_ms();
    let mut engine = PolicyEngine::new(cfg.policy.clone(), market.clone(), cfg.history_bars)?;
    let mut book = FillBook::new(market.clone(), cfg.fill);
    let mut account = Account::new(market.clone());
    let spot_f = to_f64(cfg.spot_amount);
    let cash_f = to_f64(cfg.cash);
    let lot = market.lot_f64();
    let mut hwm = Decimal::ZERO;
    let mut hwm_f = 0.0f64;
    let mut state = PolicyState::default();
    let mut sequences: HashMap<OrderKey, u64> = HashMap::new();
    let mut live: Vec<Live> = Vec::new();
    let mut open_rows: Vec<OpenOrder> = Vec::new();
    let mut next_id: u64 = 1;
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
    }
    let mut met = Metrics::default();
    // f64 mirror of the account for marking to market between decisions
    let mut cached = (0.0f64, 0.0f64, 0.0f64); // realised + funding - fees, entry, position
    let refresh = |a: &Account| {
        (
            to_f64(a.realized_pnl() + a.funding() - a.fees()),
            to_f64(a.entry_price()),
            to_f64(a.position()),
        )
    };
    let mut funding_ptr = 0usize; // next funding event to pay
    let mut rate_ptr = 0usize; // funding published so far (for the decision's rate)
    let mut var_fraction = 0.0f64;
    let mut funding_f = 0.0f64;
    let mut returns = Moments::default();
    let mut downside = (0.0f64, 0usize);
    let mut changes = Moments::default();
    let mut spot_changes = Moments::default();
    let mut peak = f64::NEG_INFINITY;
    let mut hedge_sum = 0.0f64;
    let mut prev_equity = f64::NAN;
    let mut prev_net_exposure = 0.0f64;
    let confidence = cfg.policy.var_confidence;

    for j in cfg.start..n {
        let close = data.close[j];
        if j > cfg.start {
            // the clock moves onto bar j: fills, then funding inside the bar
            let fills = book.on_bar(j as i64, &data.bar(j))?;
            if !fills.is_empty() {
                for f in &fills {
                    account.apply_fill(f.side, f.price_ticks, f.lots, f.fee)?;
                    let Some(at) = live.iter().position(|l| l.id == f.order_id) else {
                        return Err(Error::numerical(
                            "backtest",
                            "a fill for an order the run does not know",
                        ));
                    };
                    live[at].remaining -= f.lots;
                    met.fills += 1;
                    if record.events {
                        let row = live[at].row;
                        out.orders[row].filled_lots += f.lots;
                        out.events.push(Event {
                            bar: j,
                            kind: EventKind::Fill,
                            order: row,
                            side: f.side,
                            price_ticks: f.price_ticks,
                            lots: f.lots,
                        });
                        out.fills.push(FillRow {
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
                live.retain(|l| l.remaining > 0);
                cached = refresh(&account);
            }
            let opened = data.timestamp[j];
            let ft = data.funding_time;
            while funding_ptr < ft.len() && ft[funding_ptr] <= opened {
                funding_ptr += 1;
            }
            let mut paid = false;
            while funding_ptr < ft.len() && ft[funding_ptr] <= opened + bar_ms {
                account.apply_funding(close, data.funding_rate[funding_ptr])?;
                funding_ptr += 1;
                paid = true;
            }
            if paid {
                cached = refresh(&account);
                funding_f = to_f64(account.funding());
            }
        }

        let decide_now = j == cfg.start || (j - cfg.start) % cfg.cadence == 0 || j == n - 1;
        if decide_now {
            met.decisions += 1;
            let from = (j + 1).saturating_sub(cfg.history_bars);
            engine.sync(
                &data.timestamp[from..=j],
                &data.open[from..=j],
                &data.high[from..=j],
                &data.low[from..=j],
                &data.close[from..=j],
                &data.volume[from..=j],
            )?;
            let close_ms = data.timestamp[j] + bar_ms;
            let ft = data.funding_time;
            while rate_ptr < ft.len() && ft[rate_ptr] <= close_ms {
                rate_ptr += 1;
            }
            let funding_rate = if rate_ptr > 0 {
                data.funding_rate[rate_ptr - 1]
            } else {
                0.0
            };
            // The bot's equity is exact (cash + spot x Decimal(repr(close)) + futures PnL in
            // decimals) and only decides the drawdown halt. The f64 mirror is within ~1e-15
            // of it, so the exact figures are computed only where they could matter: at a
            // possible new high-water mark and near the drawdown limit.
            let (base_pnl, entry, pos) = cached;
            let approx = cash_f + spot_f * close + base_pnl + (close - entry) * pos;
            const MARGIN: f64 = 1e-9;
            let exact = |a: &Account| -> Result<Decimal> {
                Ok(cfg.cash
                    + cfg.spot_amount * crate::money::decimal_from_f64("close", close)?
                    + a.net_pnl(close)?)
            };
            let mut equity_f = approx;
            if approx >= hwm_f * (1.0 - MARGIN) {
                let e = exact(&account)?;
                if e > hwm {
                    hwm = e;
                    hwm_f = to_f64(hwm);
                }
                equity_f = to_f64(e);
            } else if hwm_f > 0.0
                && ((1.0 - approx / hwm_f) - cfg.policy.max_drawdown).abs() <= MARGIN
            {
                equity_f = to_f64(exact(&account)?);
            }
            let book_in = Book {
                spot_amount: spot_f,
                futures_lots: account.position_lots(),
                equity: equity_f,
                high_water_mark: hwm_f,
            };
            let decision = engine.decide(close, funding_rate, &book_in, &state, false)?;
            // decide just refreshed the statistics
            var_fraction = engine.last_stats().var_fraction;
            state = decision.state;
            if decision.cancel_all {
                for l in live.drain(..) {
                    book.cancel(l.id);
                    met.orders_cancelled += 1;
                    if record.events {
                        out.orders[l.row].cancelled_bar = Some(j);
                        out.events.push(Event {
                            bar: j,
                            kind: EventKind::Cancel,
                            order: l.row,
                            side: l.side,
                            price_ticks: l.price_ticks,
                            lots: l.remaining,
                        });
                    }
                }
            } else {
                let want = &decision.orders[..decision.orders.len().min(cfg.max_active_orders)];
                open_rows.clear();
                open_rows.extend(live.iter().map(|l| OpenOrder {
                    key: l.key,
                    kind: l.kind,
                    price_ticks: if l.kind == OrderKind::Market {
                        1
                    } else {
                        l.price_ticks
                    },
                    remaining_lots: l.remaining,
                }));
                let (cancels, places) = orders::diff(&open_rows, want);
                if !cancels.is_empty() {
                    for &i in &cancels {
                        let l = live[i];
                        book.cancel(l.id);
                        met.orders_cancelled += 1;
                        if record.events {
                            out.orders[l.row].cancelled_bar = Some(j);
                            out.events.push(Event {
                                bar: j,
                                kind: EventKind::Cancel,
                                order: l.row,
                                side: l.side,
                                price_ticks: l.price_ticks,
                                lots: l.remaining,
                            });
                        }
                    }
                    let mut k = 0;
                    live.retain(|_| {
                        let keep = !cancels.contains(&k);
                        k += 1;
                        keep
                    });
                }
                for &i in &places {
                    let d = want[i];
                    let key = OrderKey::from(&d);
                    let seq = sequences.entry(key).or_insert(0);
                    *seq += 1;
                    let sequence = *seq;
                    let id = next_id;
                    next_id += 1;
                    book.place(SimOrder {
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
                    met.orders_placed += 1;
                    let row = out.orders.len();
                    if record.events {
                        out.orders.push(OrderRow {
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
                        out.events.push(Event {
                            bar: j,
                            kind: EventKind::Place,
                            order: row,
                            side: d.side,
                            price_ticks: d.price_ticks,
                            lots: d.amount_lots,
                        });
                    }
                    live.push(Live {
                        id,
                        row,
                        key,
                        kind: d.kind,
                        side: d.side,
                        price_ticks: d.price_ticks,
                        remaining: d.amount_lots,
                    });
                }
            }
            engine.recycle(decision);
        }

        // mark to market at the close
        let (base_pnl, entry, pos) = cached;
        let equity = cash_f + spot_f * close + base_pnl + (close - entry) * pos;
        let short = -(account.position_lots() as f64) * lot;
        let hedge_ratio = if spot_f > 0.0 { short / spot_f } else { 0.0 };
        hedge_sum += hedge_ratio;
        let forecast = var_fraction * prev_net_exposure;
        if j == cfg.start {
            met.initial_equity = equity;
        } else {
            let change = equity - prev_equity;
            if prev_equity > 0.0 {
                let r = change / prev_equity;
                returns.add(r);
                if r < 0.0 {
                    downside.0 += r * r;
                }
                downside.1 += 1;
            }
            changes.add(change);
            spot_changes.add(spot_f * (close - data.close[j - 1]));
            if forecast > 0.0 {
                met.var_observations += 1;
                if -change > forecast {
                    met.var_exceptions += 1;
                }
            }
        }
        peak = peak.max(equity);
        if peak > 0.0 {
            met.max_drawdown = met.max_drawdown.max(1.0 - equity / peak);
        }
        prev_equity = equity;
        prev_net_exposure = (spot_f - short).abs() * close;
        if record.series {
            out.equity.push(equity);
            out.hedge_ratio.push(hedge_ratio);
            out.position.push(pos_of(&account, lot));
            out.var_forecast.push(forecast);
            out.center.push(market.ticks_to_f64(state.center_ticks));
            out.funding.push(funding_f);
        }
    }

    let bars = n - cfg.start;
    met.bars = bars;
    met.final_equity = prev_equity;
    finish_metrics(
        &mut met,
        &returns,
        downside,
        &changes,
        &spot_changes,
        bar_ms,
    );
    met.funding_pnl = to_f64(account.funding());
    met.fees = to_f64(account.fees());
    met.realized_pnl = to_f64(account.realized_pnl());
    met.traded_notional = to_f64(account.traded_notional());
    met.mean_hedge_ratio = hedge_sum / bars as f64;
    met.halted = state.halted;
    (met.kupiec_lr, met.kupiec_p_value) =
        kupiec_pof(met.var_observations, met.var_exceptions, 1.0 - confidence);
    out.metrics = met;
    Ok(out)
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
    met.total_return = if met.initial_equity > 0.0 {
        met.final_equity / met.initial_equity - 1.0
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
    let spot_var = spot_changes.var();
    met.hedge_effectiveness = if spot_var > 0.0 {
        1.0 - changes.var() / spot_var
    } else {
        0.0
    };
}

fn pos_of(a: &Account, lot: f64) -> f64 {
    a.position_lots() as f64 * lot
}

impl BacktestResult {
    /// The client order id of order `row` of this run.
    pub fn client_order_id(&self, cfg: &BacktestConfig, row: usize) -> Result<String> {
        let o = self
            .orders
            .get(row)
            .ok_or_else(|| Error::invalid("order", row, "is not an order of this run"))?;
        orders::client_order_id(&cfg.bot_id, &cfg.symbol, &o.key, o.sequence)
    }
}

mod plain;
pub use plain::plain_levels;

#[cfg(test)]
#[test]
fn to_f64_fast_path_matches_the_text_round_trip() {
    for text in [
        "0",
        "1",
        "-1",
        "0.1",
        "0.3",
        "123456.789",
        "-0.000123",
        "40000.10",
        "1e-20",
        "9007199254740991",
        "9007199254740993",
        "0.1234567890123456789",
        "3.14159265358979",
        "-98765.4321",
        "1234567890.123456",
    ] {
        let d = Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .expect("decimal");
        let slow = f64::from_str(&d.to_string()).expect("float");
        assert_eq!(to_f64(d).to_bits(), slow.to_bits(), "{text}");
    }
}

#[cfg(test)]
mod tests;

/// Run many configurations over the same data on `threads` rayon threads (0: all cores),
/// metrics only; `done` counts finished runs (for a progress bar). Results in input order.
pub fn sweep(
    configs: &[BacktestConfig],
    market: &Market,
    data: &Series<'_>,
    threads: usize,
    done: &std::sync::atomic::AtomicUsize,
) -> Result<Vec<Result<Metrics>>> {
    use rayon::prelude::*;
    data.validate()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::numerical("threads", e.to_string()))?;
    let record = Record {
        events: false,
        series: false,
    };
    Ok(pool.install(|| {
        configs
            .par_iter()
            .with_max_len(1)
            .map(|cfg| {
                let r = run(cfg, market, data, record).map(|r| r.metrics);
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                r
            })
            .collect()
    }))
}
