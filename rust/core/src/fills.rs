//! The fill model shared by the backtester, the PAPER broker and the exchange emulator
//! (DESIGN.md, 'Fills'), so the three agree by construction.
//!
//! - Intrabar path: O -> H -> L -> C when close < open, O -> L -> H -> C otherwise.
//! - A resting limit order fills only when the path trades *through* its price by at least one
//!   tick (a touch is not a fill), at its limit price. A stop-market order triggers when the
//!   path touches its stop and fills at the stop, or at the open if the bar gapped past it
//!   (taker, no volume cap: a stop must get out).
//! - An order placed at bar `k` (after bar `k` closed) can fill from bar `k + 1` on.
//! - Limit fills share a budget of `participation x bar volume` per bar, spent in path order;
//!   what does not fill stays resting (partial fills carry over).
//! - A market order fills whole at the next bar's open (rounded against us to the tick), taker.
//! - Fees: limit fills pay the maker fee, stop and market fills the taker fee, on the exact
//!   notional.
//! - Funding: at a funding timestamp, a position of `q` base units at mark `m` receives
//!   `-q x m x rate` (positive rate: longs pay shorts).

use std::str::FromStr;

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use crate::error::{check, Error, Result};
use crate::money::{snap, Market, Round, Side};

/// One OHLCV bar; prices in quote units, volume in base units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bar {
    /// Whether [`Bar::check`] passes, without building its error. Evaluates every test (no
    /// early exit), so a loop over many bars can run branch-free.
    pub fn is_valid(&self) -> bool {
        let fine = |v: f64| v.is_finite() & (v > 0.0);
        fine(self.open)
            & fine(self.high)
            & fine(self.low)
            & fine(self.close)
            & self.volume.is_finite()
            & (self.volume >= 0.0)
            & (self.low <= self.open.min(self.close))
            & (self.high >= self.open.max(self.close))
    }

    /// A bar must be finite, positive, with low <= open, close <= high and volume >= 0.
    pub fn check(&self, field: &str) -> Result<()> {
        if self.is_valid() {
            // the common case: no field names to format
            return Ok(());
        }
        for (name, v) in [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
        ] {
            check::positive(&format!("{field}.{name}"), v)?;
        }
        check::non_negative(&format!("{field}.volume"), self.volume)?;
        if self.low > self.open.min(self.close) || self.high < self.open.max(self.close) {
            return Err(Error::invalid(
                field,
                format!(
                    "O={} H={} L={} C={}",
                    self.open, self.high, self.low, self.close
                ),
                "must have low <= open, close <= high",
            ));
        }
        Ok(())
    }

    /// The intrabar path: O -> H -> L -> C when close < open, O -> L -> H -> C otherwise.
    pub fn path(&self) -> [f64; 4] {
        if self.close < self.open {
            [self.open, self.high, self.low, self.close]
        } else {
            [self.open, self.low, self.high, self.close]
        }
    }
}

/// Limit (rests, maker), stop-market (triggers on touch, taker) or market (fills at the next
/// bar's open, taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    Limit,
    StopMarket,
    Market,
}

impl OrderKind {
    /// `"limit"`, `"stop_market"` or `"market"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Limit => "limit",
            OrderKind::StopMarket => "stop_market",
            OrderKind::Market => "market",
        }
    }
}

impl FromStr for OrderKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "limit" => Ok(OrderKind::Limit),
            "stop_market" | "stop" => Ok(OrderKind::StopMarket),
            "market" => Ok(OrderKind::Market),
            _ => Err(Error::invalid(
                "kind",
                format!("{s:?}"),
                "must be 'limit', 'stop_market' or 'market'",
            )),
        }
    }
}

/// A resting simulated order. `id` is the caller's key (e.g. an index into its order table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOrder {
    pub id: u64,
    pub side: Side,
    pub kind: OrderKind,
    pub price_ticks: i64,
    pub remaining_lots: i64,
    pub placed_bar: i64,
}

/// One fill produced by a bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillEvent {
    pub order_id: u64,
    pub side: Side,
    pub price_ticks: i64,
    pub lots: i64,
    pub maker: bool,
    /// Fee in quote currency, exact: notional x fee rate (negative for a maker rebate).
    pub fee: Decimal,
    /// Whether the order is now completely filled (and removed from the book).
    pub done: bool,
}

/// Parameters of the fill model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillParams {
    /// Largest share of a bar's volume that limit fills may take, in (0, 1].
    pub participation: f64,
    /// Maker fee as a fraction of notional (negative: rebate).
    pub maker_fee: Decimal,
    /// Taker fee as a fraction of notional.
    pub taker_fee: Decimal,
}

impl FillParams {
    /// Validated parameters: participation in (0, 1], fees in [-1%, 1%].
    pub fn new(participation: f64, maker_fee: f64, taker_fee: f64) -> Result<Self> {
        check::finite("participation", participation)?;
        if !(participation > 0.0 && participation <= 1.0) {
            return Err(Error::invalid(
                "participation",
                participation,
                "must be > 0 and <= 1",
            ));
        }
        let fee = |field: &str, v: f64| -> Result<Decimal> {
            check::finite(field, v)?;
            if !(-0.01..=0.01).contains(&v) {
                return Err(Error::invalid(
                    field,
                    v,
                    "must be between -0.01 and 0.01 (a fraction of notional)",
                ));
            }
            Decimal::from_f64(v)
                .ok_or_else(|| Error::invalid(field, v, "must be a representable decimal"))
        };
        Ok(FillParams {
            participation,
            maker_fee: fee("maker_fee", maker_fee)?,
            taker_fee: fee("taker_fee", taker_fee)?,
        })
    }
}

/// A book of simulated resting orders of one market, filled bar by bar.
#[derive(Debug, Clone)]
pub struct FillBook {
    market: Market,
    params: FillParams,
    orders: Vec<SimOrder>,
    /// The largest id ever placed: a larger one cannot already rest (no scan needed).
    max_id: Option<u64>,
    /// Every order was placed with an id above all before it: the book is in ascending id
    /// order (removals keep it), so a sorted cancel walks it beside the ids.
    ascending: bool,
    /// A bound on what the resting orders need to trade (see [`Reach`]).
    reach: Reach,
}

/// What a bar must reach for any resting order to trade: the lowest rising threshold (a sell
/// limit's price plus a tick, a buy stop's price), the highest falling one (a buy limit's
/// price less a tick, a sell stop's price), and whether a market order rests. Conservative:
/// placing an order tightens it, a removal leaves it as it was (so it may promise a trade that
/// cannot happen, never hide one), and a bar that reaches it rescans the book and makes it
/// exact again.
#[derive(Debug, Clone, Copy)]
struct Reach {
    rise: i64,
    fall: i64,
    market: bool,
}

impl Reach {
    const NONE: Reach = Reach {
        rise: i64::MAX,
        fall: i64::MIN,
        market: false,
    };

    fn add(&mut self, o: &SimOrder) {
        match (o.kind, o.side) {
            (OrderKind::Market, _) => self.market = true,
            (OrderKind::Limit, Side::Sell) => self.rise = self.rise.min(o.price_ticks + 1),
            (OrderKind::StopMarket, Side::Buy) => self.rise = self.rise.min(o.price_ticks),
            (OrderKind::Limit, Side::Buy) => self.fall = self.fall.max(o.price_ticks - 1),
            (OrderKind::StopMarket, Side::Sell) => self.fall = self.fall.max(o.price_ticks),
        }
    }

    /// Whether a bar whose path reaches at most `high` ticks (rounded down) and at least `low`
    /// ticks (rounded up) can trade an order (`first_crossing`'s tests at the extremes).
    fn reached(&self, high: i64, low: i64) -> bool {
        self.market || high >= self.rise || low <= self.fall
    }

    /// Whether a bar whose extremes are `high` and `low` (quote) surely reaches neither
    /// threshold, told without dividing by the tick (`tick`, quote) or snapping: a bar three
    /// ticks short of both (see [`rise_price`]). False leaves it to [`Reach::reached`].
    fn surely_missed(&self, high: f64, low: f64, tick: f64) -> bool {
        !self.market && high < rise_price(self.rise, tick) && low > fall_price(self.fall, tick)
    }
}

/// Thresholds below 2^50 ticks are exact doubles with room to spare (see [`rise_price`]).
const EXACT_TICKS: i64 = 1 << 50;

/// A price (quote) below which a bar's high snaps (down, in ticks) below `rise`: `(rise - 3)`
/// ticks. Why: `high < fl((rise - 3) x tick)` gives `fl(high / tick) < rise - 3 + 0.75` (two
/// roundings of relative size 2^-53 on a value below 2^50), and a snap moves a value by less
/// than one unit, so the snapped high is below `rise`. +inf when nothing rises
/// (`i64::MAX`), -inf (no shortcut) at or beyond 2^50 ticks.
fn rise_price(rise: i64, tick: f64) -> f64 {
    if rise == i64::MAX {
        f64::INFINITY
    } else if rise < EXACT_TICKS {
        rise.saturating_sub(3) as f64 * tick
    } else {
        f64::NEG_INFINITY
    }
}

/// A price (quote) above which a bar's low snaps (up, in ticks) above `fall`: `(fall + 3)`
/// ticks, as [`rise_price`] mirrored. -inf when nothing falls (`i64::MIN`) or `fall` is
/// below -3 (a positive low snaps to at least 0), +inf (no shortcut) at or beyond 2^50 ticks.
fn fall_price(fall: i64, tick: f64) -> f64 {
    if fall < -3 {
        f64::NEG_INFINITY
    } else if fall < EXACT_TICKS {
        (fall + 3) as f64 * tick
    } else {
        f64::INFINITY
    }
}

/// A crossing found on the path: where along the path, and which order.
#[derive(Debug, Clone, Copy)]
struct Crossing {
    segment: usize,
    /// Position along the segment in travel order (ascending for rising, descending for falling).
    key: i64,
    slot: usize,
}

impl FillBook {
    pub fn new(market: Market, params: FillParams) -> Self {
        FillBook {
            market,
            params,
            orders: Vec::new(),
            max_id: None,
            ascending: true,
            reach: Reach::NONE,
        }
    }

    pub fn market(&self) -> &Market {
        &self.market
    }

    pub fn params(&self) -> &FillParams {
        &self.params
    }

    /// Resting orders, in placement order.
    pub fn orders(&self) -> &[SimOrder] {
        &self.orders
    }

    /// Rest a new order placed after bar `bar_index` closed; it can fill from the next bar.
    pub fn place(&mut self, order: SimOrder) -> Result<()> {
        if order.price_ticks <= 0 {
            return Err(Error::invalid(
                "price_ticks",
                order.price_ticks,
                "must be > 0",
            ));
        }
        if order.remaining_lots <= 0 {
            return Err(Error::invalid(
                "amount_lots",
                order.remaining_lots,
                "must be > 0",
            ));
        }
        let fresh = self.max_id.is_none_or(|m| order.id > m);
        if !fresh && self.orders.iter().any(|o| o.id == order.id) {
            return Err(Error::invalid(
                "order_id",
                order.id,
                "must not already rest in the book",
            ));
        }
        self.ascending &= fresh;
        self.max_id = Some(self.max_id.map_or(order.id, |m| m.max(order.id)));
        self.reach.add(&order);
        self.orders.push(order);
        Ok(())
    }

    /// Remove a resting order; None if it is not in the book (filled or never placed).
    pub fn cancel(&mut self, id: u64) -> Option<SimOrder> {
        let at = self.orders.iter().position(|o| o.id == id)?;
        Some(self.orders.remove(at))
    }

    /// Remove every resting order whose id is in `ids` (ascending), in one pass over the book;
    /// returns how many were resting.
    pub fn cancel_sorted(&mut self, ids: &[u64]) -> usize {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids must ascend");
        let before = self.orders.len();
        if self.ascending {
            // both ascend: one merge walk
            let mut k = 0;
            self.orders.retain(|o| {
                while k < ids.len() && ids[k] < o.id {
                    k += 1;
                }
                !(k < ids.len() && ids[k] == o.id)
            });
        } else {
            self.orders.retain(|o| ids.binary_search(&o.id).is_err());
        }
        before - self.orders.len()
    }

    /// Make [`Reach`] exact for the orders resting now.
    fn rescan_reach(&mut self) {
        self.reach = Reach::NONE;
        for o in &self.orders {
            self.reach.add(o);
        }
    }

    /// Fill the book against bar `bar_index`; returns the fills in path order.
    pub fn on_bar(&mut self, bar_index: i64, bar: &Bar) -> Result<Vec<FillEvent>> {
        bar.check("bar")?;
        self.on_checked_bar(bar_index, bar)
    }

    /// [`FillBook::on_bar`] for a bar known to pass [`Bar::check`] (a driver that checked its
    /// bars at once, as the backtester does).
    pub(crate) fn on_checked_bar(&mut self, bar_index: i64, bar: &Bar) -> Result<Vec<FillEvent>> {
        debug_assert!(bar.is_valid());
        let tick = self.market.tick_f64();
        if self.reach.surely_missed(bar.high, bar.low, tick) {
            // most bars: no resting order is near the bar's range (a result the exact test
            // below would give too; skipping it only leaves `reach` as conservative as it was)
            return Ok(Vec::new());
        }
        // the path's extremes in ticks: the high and the low are path points and snapping is
        // monotone, so these are the largest `down` and the smallest `up` below
        let high = snap(bar.high / tick, Round::Down);
        let low = snap(bar.low / tick, Round::Up);
        if !self.reach.reached(high, low) {
            return Ok(Vec::new()); // most bars: no resting order is within the bar's range
        }
        let path = bar.path();
        // each path point as ticks: `down` to test sells/buy-stops (reached >= level),
        // `up` to test buys/sell-stops (reached <= level)
        let down: [i64; 4] = path.map(|p| snap(p / tick, Round::Down));
        let up: [i64; 4] = path.map(|p| snap(p / tick, Round::Up));
        debug_assert!(down.iter().max() == Some(&high) && up.iter().min() == Some(&low));
        let mut crossings: Vec<Crossing> = Vec::new();
        for (slot, o) in self.orders.iter().enumerate() {
            if o.placed_bar >= bar_index {
                continue;
            }
            if let Some(c) = first_crossing(o, &down, &up) {
                crossings.push(Crossing { slot, ..c });
            }
        }
        if crossings.is_empty() {
            self.rescan_reach(); // the bound promised a trade: make it exact again
            return Ok(Vec::new());
        }
        crossings.sort_by_key(|c| (c.segment, c.key, c.slot));
        let mut budget = self
            .market
            .amount_to_lots(self.params.participation * bar.volume)?;
        let mut fills = Vec::with_capacity(crossings.len());
        for c in crossings {
            let o = &mut self.orders[c.slot];
            let (price_ticks, lots, maker) = match o.kind {
                OrderKind::Limit => {
                    let lots = o.remaining_lots.min(budget);
                    if lots == 0 {
                        continue;
                    }
                    budget -= lots;
                    (o.price_ticks, lots, true)
                }
                OrderKind::Market => {
                    let price = match o.side {
                        Side::Buy => up[0],
                        Side::Sell => down[0],
                    };
                    (price, o.remaining_lots, false)
                }
                OrderKind::StopMarket => {
                    // gapped through the stop at the open: fill at the open, rounded against us
                    let price = match (o.side, c.segment) {
                        (Side::Buy, 0) => up[0].max(o.price_ticks),
                        (Side::Sell, 0) => down[0].min(o.price_ticks),
                        _ => o.price_ticks,
                    };
                    (price, o.remaining_lots, false)
                }
            };
            o.remaining_lots -= lots;
            let rate = if maker {
                self.params.maker_fee
            } else {
                self.params.taker_fee
            };
            let notional =
                self.market.ticks_to_price(price_ticks) * self.market.lots_to_amount(lots);
            fills.push(FillEvent {
                order_id: o.id,
                side: o.side,
                price_ticks,
                lots,
                maker,
                fee: (notional * rate).normalize(),
                done: o.remaining_lots == 0,
            });
        }
        self.orders.retain(|o| o.remaining_lots > 0);
        self.rescan_reach();
        Ok(fills)
    }
}

/// Where the path first crosses an order: segment 0 is the open itself (a gap), segments 1-3
/// the moves between path points. None if the bar never reaches it.
fn first_crossing(o: &SimOrder, down: &[i64; 4], up: &[i64; 4]) -> Option<Crossing> {
    let p = o.price_ticks;
    // rising crossings test `down` against a threshold, falling ones test `up`
    if o.kind == OrderKind::Market {
        return Some(Crossing {
            segment: 0,
            key: i64::MIN,
            slot: 0,
        });
    }
    let (rising, threshold) = match (o.kind, o.side) {
        (OrderKind::Limit, Side::Sell) => (true, p + 1),
        (OrderKind::Limit, Side::Buy) => (false, p - 1),
        (OrderKind::StopMarket, Side::Buy) => (true, p),
        (OrderKind::StopMarket, Side::Sell) | (OrderKind::Market, _) => (false, p),
    };
    let reached = |k: usize| {
        if rising {
            down[k] >= threshold
        } else {
            up[k] <= threshold
        }
    };
    // travel-order key: rising crossings in ascending price, falling in descending price
    let key = if rising { threshold } else { -threshold };
    if reached(0) {
        return Some(Crossing {
            segment: 0,
            key,
            slot: 0,
        });
    }
    (1..4).find(|&k| reached(k)).map(|segment| Crossing {
        segment,
        key,
        slot: 0,
    })
}

/// Funding received by a position of `amount` base units (signed, negative = short) at mark
/// price `mark` for a funding `rate` (positive: longs pay shorts): `-amount x mark x rate`.
pub fn funding_payment(amount: f64, mark: f64, rate: f64) -> Result<f64> {
    check::finite("amount", amount)?;
    check::positive("mark", mark)?;
    check::finite("rate", rate)?;
    let paid = -amount * mark * rate;
    if paid.is_finite() {
        Ok(paid)
    } else {
        Err(Error::numerical(
            "funding payment",
            format!("{amount} x {mark} x {rate} overflows a float"),
        ))
    }
}

#[cfg(test)]
mod tests;
