//! The requote gate (`requote_tolerance` > 0; off by default).
//!
//! Deciding every bar re-prices and re-sizes the book on every wiggle of its inputs: the
//! EWMA volatility, the horizon VaR and the 24-bar volume move every bar, so the grid's
//! amounts and the stop follow them and the orders are cancelled and placed again (losing
//! their place in the queue and spending the exchange's rate limit). With the gate, a decision
//! keeps the last full decision's orders ("quiet") when all of these hold, and is taken in
//! full otherwise:
//! - that decision was a plain one: not halted, no market order (a rebalance or a de-risking
//!   order is re-decided until done), no halt lifted;
//! - the state and the book are the ones it left: the same futures lots and spot amount (no
//!   fill), the same policy state (no restart, no resume, no risk manager's halt);
//! - no resting order was reached: the bars since the previous decision stayed strictly
//!   between its highest buy (limit, or sell stop) and its lowest sell (limit, or buy stop),
//!   a touch counting as reached;
//! - the price is within `requote_tolerance` of a grid spacing of the decision's price; the
//!   volatility, the long-run volatility, the horizon VaR fraction and the equity each within
//!   `requote_tolerance` of their value then (relative), and the mean volume too unless the
//!   volume cap (`max_volume_share` of it) is above every grid order at both values; the funding rate
//!   and the trend guard's verdict unchanged; the support/resistance levels near the grid
//!   (within twice `sr_tolerance_pct` of its orders' price span, the only ones that can move
//!   a rung) as many as then, each within `requote_tolerance` of a grid spacing of its price;
//! - no risk limit is crossed: the drawdown is below `max_drawdown`, and the worst in-band
//!   VaR (the decision's, scaled by the VaR fraction and the price) stays on the same side of
//!   `var_limit` and of `var_limit x var_shrink_ratio`;
//! - no paused grid side resumes now (a pause counts decisions, quiet ones included: a quiet
//!   decision counts it down as a full one does, and the decision that ends it is full);
//! - fewer than `requote_max_skips` decisions in a row were kept.
//!
//! A quiet decision's state is the kept decision's with the pauses counted down; its orders
//! are the kept decision's, so a driver's order diff keeps every resting order. The stop
//! rests on the exchange and trades whatever the gate does; the halt is checked every
//! decision. What the gate changes is when the rest follows its inputs: never by more than
//! the tolerance, never for more than `requote_max_skips` decisions.

use super::{
    portfolio, trend, Book, Decision, DesiredOrder, MarketStats, Metrics, PolicyConfig,
    PolicyState, Reason, Role,
};
use crate::fills::OrderKind;
use crate::levels::SrLevel;
use crate::money::{snap, Market, Round, Side};

/// The last full decision the gate may keep, with the inputs it was taken on.
#[derive(Debug, Clone, Default)]
pub(super) struct Kept {
    price: f64,
    funding_rate: f64,
    volatility: f64,
    long_run_volatility: f64,
    var_horizon_fraction: f64,
    avg_volume: f64,
    equity: f64,
    spot_amount: f64,
    futures_lots: i64,
    trend: Option<trend::Trend>,
    /// The support/resistance levels that could move one of its rungs: those within twice
    /// `sr_tolerance_pct` of the span of its grid orders' prices (quote).
    sr_near: Vec<SrLevel>,
    sr_span: (f64, f64),
    /// The decision's grid spacing (fraction of the price).
    spacing: f64,
    /// The state it left (pauses counted down by the quiet decisions since).
    state: PolicyState,
    orders: Vec<DesiredOrder>,
    metrics: Metrics,
    /// Highest price (ticks) a buy limit or a sell stop waits at, lowest a sell limit or a buy
    /// stop waits at (i64::MIN / i64::MAX: none).
    fall: i64,
    rise: i64,
    /// The largest grid order's amount (lots; 0: none).
    grid_lots_max: i64,
    /// Decisions kept in a row since it was taken.
    skips: u32,
}

/// The gate of one engine: the decision it may keep (None: the next one is full).
#[derive(Debug, Clone, Default)]
pub(super) struct Gate {
    kept: Option<Kept>,
}

/// `a` within the relative tolerance `tol` of `b` (exactly `b` when `b` is 0).
fn near(a: f64, b: f64, tol: f64) -> bool {
    if b == 0.0 {
        a == 0.0
    } else {
        (a / b - 1.0).abs() <= tol
    }
}

/// The levels with a price inside `span` (inclusive), in order.
fn near_span(levels: &[SrLevel], (lo, hi): (f64, f64)) -> impl Iterator<Item = SrLevel> + '_ {
    levels
        .iter()
        .copied()
        .filter(move |l| l.price >= lo && l.price <= hi)
}

/// As many levels as `kept`, each within the relative tolerance `tol` of its price there.
fn same_levels(now: impl Iterator<Item = SrLevel>, kept: &[SrLevel], tol: f64) -> bool {
    let mut n = 0;
    for l in now {
        match kept.get(n) {
            Some(k) if (l.price / k.price - 1.0).abs() <= tol => n += 1,
            _ => return false,
        }
    }
    n == kept.len()
}

/// The volume cap (`max_volume_share` x the mean volume, in lots) is above every grid order
/// both at the mean volume the kept decision saw and at the one now: it capped none then and
/// would cap none now, so the mean volume's move does not matter.
fn volume_cap_idle(cfg: &PolicyConfig, market: &Market, now: f64, then: f64, most: i64) -> bool {
    let cap = |v: f64| snap(cfg.max_volume_share * v / market.lot_f64(), Round::Down);
    now > 0.0 && then > 0.0 && cap(now) > most && cap(then) > most
}

/// The states equal but for the decided bar (the driver's bookkeeping).
fn same_state(a: &PolicyState, b: &PolicyState) -> bool {
    PolicyState {
        decided_bar_ms: 0,
        ..*a
    } == PolicyState {
        decided_bar_ms: 0,
        ..*b
    }
}

/// Which side of the VaR limit and of its shrink threshold `var_worst` stands.
fn var_sides(cfg: &PolicyConfig, var_worst: f64) -> (bool, bool) {
    (
        var_worst > cfg.var_limit,
        var_worst > cfg.var_limit * cfg.var_shrink_ratio,
    )
}

impl Gate {
    /// Forget the kept decision (new statistics, a new configuration).
    pub(super) fn clear(&mut self) {
        self.kept = None;
    }

    /// Remember a full decision taken on these inputs, if the gate is on and it is one the
    /// gate may keep.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn remember(
        &mut self,
        cfg: &PolicyConfig,
        market: &Market,
        price: f64,
        funding_rate: f64,
        stats: &MarketStats,
        book: &Book,
        decision: &Decision,
    ) {
        let plain = cfg.requote_tolerance > 0.0
            && !decision.state.halted
            && !decision.resumed
            && !decision.cancel_all
            && decision.orders.iter().all(|o| o.kind != OrderKind::Market);
        if !plain {
            self.kept = None;
            return;
        }
        let kept = self.kept.get_or_insert_with(Kept::default);
        let (mut fall, mut rise) = (i64::MIN, i64::MAX);
        for o in &decision.orders {
            match (o.kind, o.side) {
                (OrderKind::Limit, Side::Buy) | (OrderKind::StopMarket, Side::Sell) => {
                    fall = fall.max(o.price_ticks)
                }
                _ => rise = rise.min(o.price_ticks),
            }
        }
        kept.price = price;
        kept.funding_rate = funding_rate;
        kept.volatility = stats.volatility;
        kept.long_run_volatility = stats.long_run_volatility;
        kept.var_horizon_fraction = stats.var_horizon_fraction;
        kept.avg_volume = stats.avg_volume;
        kept.equity = book.equity;
        kept.spot_amount = book.spot_amount;
        kept.futures_lots = book.futures_lots;
        kept.trend = (cfg.trend_guard_bars > 0)
            .then(|| trend::classify(price, stats.trend_mean, cfg.trend_guard_pct));
        let (mut lo, mut hi, mut most) = (i64::MAX, i64::MIN, 0);
        for o in decision.orders.iter().filter(|o| o.role == Role::Grid) {
            lo = lo.min(o.price_ticks);
            hi = hi.max(o.price_ticks);
            most = most.max(o.amount_lots);
        }
        kept.grid_lots_max = most;
        let reach = 2.0 * cfg.sr_tolerance_pct;
        kept.sr_span = if lo <= hi {
            (
                market.ticks_to_f64(lo) * (1.0 - reach),
                market.ticks_to_f64(hi) * (1.0 + reach),
            )
        } else {
            (f64::INFINITY, f64::NEG_INFINITY) // no grid order: no level matters
        };
        kept.sr_near.clear();
        kept.sr_near
            .extend(near_span(&stats.sr_levels, kept.sr_span));
        kept.spacing = decision.metrics.spacing;
        kept.state = decision.state;
        kept.orders.clone_from(&decision.orders);
        kept.metrics = decision.metrics;
        kept.fall = fall;
        kept.rise = rise;
        kept.skips = 0;
    }

    /// The quiet decision on these inputs (see the module doc), or None when the decision
    /// must be taken in full. `orders` and `reasons` are reused vectors for it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn quiet(
        &mut self,
        cfg: &PolicyConfig,
        market: &Market,
        price: f64,
        funding_rate: f64,
        stats: &MarketStats,
        book: &Book,
        state: &PolicyState,
        explain: bool,
        (mut orders, mut reasons): (Vec<DesiredOrder>, Vec<Reason>),
    ) -> Result<Decision, (Vec<DesiredOrder>, Vec<Reason>)> {
        let Some(k) = self.kept.as_mut() else {
            return Err((orders, reasons));
        };
        let tol = cfg.requote_tolerance;
        let tick = market.tick_f64();
        let reached = snap(stats.low_since / tick, Round::Up) <= k.fall
            || snap(stats.high_since / tick, Round::Down) >= k.rise;
        let drawdown = portfolio::drawdown(book);
        let var_worst = if k.var_horizon_fraction > 0.0 {
            k.metrics.var_worst / k.var_horizon_fraction * stats.var_horizon_fraction / k.price
                * price
        } else {
            0.0
        };
        let resumes = |p: u32| p == 1;
        let keep = k.skips < cfg.requote_max_skips
            && same_state(state, &k.state)
            && !resumes(state.pause_buys)
            && !resumes(state.pause_sells)
            && book.futures_lots == k.futures_lots
            && book.spot_amount == k.spot_amount
            && !reached
            && (price / k.price - 1.0).abs() <= tol * k.spacing
            && near(stats.volatility, k.volatility, tol)
            && near(stats.long_run_volatility, k.long_run_volatility, tol)
            && near(stats.var_horizon_fraction, k.var_horizon_fraction, tol)
            && (near(stats.avg_volume, k.avg_volume, tol)
                || volume_cap_idle(cfg, market, stats.avg_volume, k.avg_volume, k.grid_lots_max))
            && near(book.equity, k.equity, tol)
            && funding_rate == k.funding_rate
            && drawdown < cfg.max_drawdown
            && var_sides(cfg, var_worst) == var_sides(cfg, k.metrics.var_worst)
            && k.trend
                == (cfg.trend_guard_bars > 0)
                    .then(|| trend::classify(price, stats.trend_mean, cfg.trend_guard_pct))
            && same_levels(
                near_span(&stats.sr_levels, k.sr_span),
                &k.sr_near,
                tol * k.spacing,
            );
        if !keep {
            return Err((orders, reasons));
        }
        k.skips += 1;
        k.state.pause_buys = k.state.pause_buys.saturating_sub(1);
        k.state.pause_sells = k.state.pause_sells.saturating_sub(1);
        orders.clear();
        orders.extend_from_slice(&k.orders);
        reasons.clear();
        let skips = k.skips;
        super::reason(&mut reasons, explain, "requote_gate", || {
            format!(
                "inputs within requote_tolerance {tol} of the last full decision: its orders stand ({skips} of at most {} kept in a row)",
                cfg.requote_max_skips
            )
        });
        let scale = if k.var_horizon_fraction > 0.0 {
            stats.var_horizon_fraction / k.var_horizon_fraction * price / k.price
        } else {
            0.0
        };
        let metrics = Metrics {
            volatility: stats.volatility,
            long_run_volatility: stats.long_run_volatility,
            var: k.metrics.var * scale,
            var_worst,
            var_horizon_fraction: stats.var_horizon_fraction,
            drawdown,
            ..k.metrics
        };
        Ok(Decision {
            orders,
            state: k.state,
            cancel_all: false,
            resumed: false,
            metrics,
            reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::tests::{config, data, market};
    use super::super::{Book, PolicyConfig, PolicyEngine, PolicyState, Role};

    fn gated(tol: f64, max_skips: u32) -> PolicyConfig {
        PolicyConfig {
            requote_tolerance: tol,
            requote_max_skips: max_skips,
            var_limit: 1e9,
            ..config()
        }
    }

    fn kept(d: &super::super::Decision) -> bool {
        d.reasons.iter().any(|r| r.code == "requote_gate")
    }

    /// An engine fed the first `n` bars of a flat-ish series at 50,000.
    fn fed(cfg: PolicyConfig, bars: &super::super::tests::Data, n: usize) -> PolicyEngine {
        let mut e = PolicyEngine::new(cfg, market(), 200).expect("engine");
        for i in 0..n {
            push(&mut e, bars, i);
        }
        e
    }

    fn push(e: &mut PolicyEngine, bars: &super::super::tests::Data, i: usize) {
        e.push(
            i as i64 * 60_000,
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i],
        )
        .expect("bar");
    }

    fn book(lots: i64, equity: f64) -> Book {
        Book {
            spot_amount: 1.0,
            futures_lots: lots,
            equity,
            high_water_mark: 100_000.0,
        }
    }

    /// The rule's plain cases: an unchanged market keeps the decision (its orders, its
    /// state); a fill, a drawdown past the limit, a price beyond the tolerance or
    /// `requote_max_skips` kept decisions in a row take the next one in full.
    #[test]
    fn a_quiet_decision_keeps_the_orders_until_an_input_moves() {
        let d = data(260, 50_000.0, 0.0);
        let mut e = fed(gated(0.2, 3), &d, 200);
        let full = e
            .decide(
                50_000.0,
                0.0,
                &book(-1000, 100_000.0),
                &PolicyState::default(),
                true,
            )
            .expect("decision");
        assert!(!kept(&full));
        let mut state = full.state;
        for (i, skips) in (200..203).zip(1..) {
            push(&mut e, &d, i);
            let q = e
                .decide(50_000.0, 0.0, &book(-1000, 100_000.0), &state, true)
                .expect("decision");
            assert!(kept(&q), "decision {skips} kept");
            assert_eq!(q.orders, full.orders);
            assert_eq!(
                PolicyState {
                    decided_bar_ms: 0,
                    ..q.state
                },
                PolicyState {
                    decided_bar_ms: 0,
                    ..full.state
                }
            );
            state = q.state;
        }
        push(&mut e, &d, 203);
        let fourth = e
            .decide(50_000.0, 0.0, &book(-1000, 100_000.0), &state, true)
            .expect("decision");
        assert!(!kept(&fourth), "requote_max_skips 3: the fourth is full");
        // each input that must be re-decided on
        let cases: [(&str, f64, Book); 3] = [
            ("a fill", 50_000.0, book(-999, 100_000.0)),
            (
                "the drawdown limit",
                50_000.0,
                book(-1000, 100_000.0 * (1.0 - 1.01 * config().max_drawdown)),
            ),
            (
                "a price beyond the tolerance",
                50_000.0 * (1.0 + 0.21 * 0.01),
                book(-1000, 100_000.0),
            ),
        ];
        for (what, price, b) in cases {
            let mut e = fed(gated(0.2, 60), &d, 200);
            let full = e
                .decide(
                    50_000.0,
                    0.0,
                    &book(-1000, 100_000.0),
                    &PolicyState::default(),
                    true,
                )
                .expect("decision");
            push(&mut e, &d, 200);
            let next = e
                .decide(price, 0.0, &b, &full.state, true)
                .expect("decision");
            assert!(!kept(&next), "{what} is re-decided");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Reference: an engine without the gate, fed the same bars, deciding on the same
        /// state and book. At every decision the gated one halts exactly when it does (the
        /// gate never delays a halt or a resume), and a kept decision's stop protects the same
        /// net exposure (same side, same amount) as the full decision would.
        #[test]
        fn the_gate_never_delays_a_halt_and_keeps_the_stop_whole(
            tol in 0.01f64..0.5, max_skips in 1u32..30, wiggle in 0.0f64..0.004,
            path in prop::collection::vec((-3i64..=3, -0.004f64..0.003), 60),
        ) {
            let d = data(260, 50_000.0, wiggle);
            // a 3% drawdown limit the equity path reaches, a halt that lifts after 5 decisions
            let risky = |c: PolicyConfig| PolicyConfig { max_drawdown: 0.03, halt_cooldown: 5, ..c };
            let mut on = fed(risky(gated(tol, max_skips)), &d, 200);
            let mut off = fed(risky(gated(0.0, 60)), &d, 200);
            let (mut lots, mut equity, mut hwm) = (-1000i64, 100_000.0f64, 100_000.0f64);
            let mut state = PolicyState::default();
            let mut quiet = 0;
            for (k, (fill, move_)) in path.into_iter().enumerate() {
                let i = 200 + k;
                push(&mut on, &d, i);
                push(&mut off, &d, i);
                if k % 7 == 3 {
                    lots += fill; // a fill now and then
                }
                equity *= 1.0 + move_;
                hwm = hwm.max(equity);
                let b = Book { spot_amount: 1.0, futures_lots: lots, equity, high_water_mark: hwm };
                let price = d.close[i];
                let g = on.decide(price, 0.0, &b, &state, false).expect("gated");
                let f = off.decide(price, 0.0, &b, &state, false).expect("full");
                prop_assert_eq!(g.state.halted, f.state.halted, "halted at decision {}", k);
                prop_assert_eq!(g.resumed, f.resumed);
                if kept(&g) {
                    quiet += 1;
                    let stops = |d: &super::super::Decision| {
                        let mut s: Vec<_> = d.orders.iter().filter(|o| o.role == Role::Stop).map(|o| (o.side, o.amount_lots)).collect();
                        s.sort_by_key(|x| (x.0 == crate::money::Side::Buy, x.1));
                        s
                    };
                    prop_assert_eq!(stops(&g), stops(&f), "the kept stop at decision {}", k);
                }
                state = g.state;
                if g.resumed {
                    hwm = equity; // a driver restarts the high-water mark at a resume
                }
            }
            prop_assert!(quiet > 0 || tol < 0.05, "the gate kept nothing");
        }
    }
}
