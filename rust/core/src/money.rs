//! Exact money: a market's tick, lot and minimums as exact decimals, prices as integer ticks,
//! amounts as integer lots, and side-aware rounding between floats and that integer grid.
//!
//! Conventions: a price in ticks `t` means `t x tick_size` quote units; an amount in lots `n`
//! means `n x lot_size` base units. Conversions to decimals are exact; conversions to `f64`
//! return the nearest double of the exact decimal (so `952361` ticks of `0.1` is `95236.1`,
//! never `95236.10000000001`).

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::{check, Error, Result};

/// Largest price in ticks (or amount in lots) the core accepts: up to it, a double resolves
/// a ten-thousandth of a tick, so float level maths snaps to the right tick.
pub const MAX_UNITS: i64 = 1_000_000_000_000; // 1e12

/// Float noise tolerated when snapping, in ulps of the value: see [`snap`].
pub const SNAP_ULPS: f64 = 64.0;

/// Which way a price is rounded onto the tick grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// A buy price never rounds up (we never pay more than asked).
    Buy,
    /// A sell price never rounds down (we never sell for less than asked).
    Sell,
}

impl Side {
    /// `"buy"` or `"sell"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

impl FromStr for Side {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "buy" => Ok(Side::Buy),
            "sell" => Ok(Side::Sell),
            _ => Err(Error::invalid(
                "side",
                format!("{s:?}"),
                "must be 'buy' or 'sell'",
            )),
        }
    }
}

/// Direction of a snap onto an integer grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Down,
    Up,
}

/// Powers of ten that are exact doubles (10^22 is the last).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The nearest double to `d`, as Python's `float(d)`. Clinger's fast path: a mantissa below
/// 2^53 and a power of ten up to 1e22 are exact doubles, so one IEEE division is the correctly
/// rounded value; otherwise the exact text round trip.
pub fn decimal_to_f64(d: Decimal) -> f64 {
    let m = d.mantissa();
    let scale = d.scale() as usize;
    if m.unsigned_abs() < (1u128 << 53) && scale < POW10.len() {
        return m as f64 / POW10[scale];
    }
    f64::from_str(&d.to_string()).unwrap_or(f64::NAN)
}

/// The value of `x`'s shortest round-trip text, as Python's `Decimal(repr(x))`: how a float
/// price or rate enters exact money (95236.15 is 95236.15, never its binary expansion).
/// Non-finite values are an error naming `field`.
pub fn decimal_from_f64(field: &str, x: f64) -> Result<Decimal> {
    // Fast path, exact: when `m / 10^k` (|m| < 2^53, both exact doubles) divides to `x`, it is
    // within half an ulp of `x`, and so is the shortest text's value; with decimals `10^-k`
    // apart wider than two ulps of `x`, two such values with at most `k` decimals are one.
    if x == 0.0 {
        return Ok(Decimal::ZERO);
    }
    if x.is_finite() {
        let two_ulps = 4.0 * x.abs() * f64::EPSILON;
        for (k, p) in POW10[..10].iter().enumerate() {
            if 1.0 / p <= two_ulps {
                break;
            }
            let m = (x * p).round();
            if m.abs() < 9_007_199_254_740_992.0 && m / p == x {
                return Ok(Decimal::new(m as i64, k as u32));
            }
        }
    }
    // the shortest text that round-trips
    Decimal::from_str(&format!("{x}"))
        .or_else(|_| Decimal::from_scientific(&format!("{x:e}")))
        .map_err(|_| Error::invalid(field, x, "must be representable as a decimal"))
}

/// Snap `q` (a value measured in grid units, finite) to an integer in direction `dir`.
///
/// Values within `64 x f64::EPSILON x max(|q|, 1)` units of an integer (about 1.4e-14
/// relative) are taken to be on it: this absorbs the few-ulp error of float level formulas, so
/// a level whose exact value is on a tick stays there instead of moving one tick away.
/// Everything else rounds strictly in `dir` (down for buys and amounts, up for sells).
/// Beyond ±1e18 the result saturates (callers bound it by [`MAX_UNITS`]).
#[inline]
pub fn snap(q: f64, dir: Round) -> i64 {
    if q.abs() >= 1e18 {
        return if q > 0.0 { i64::MAX } else { i64::MIN };
    }
    // Integer conversion instead of f64::floor/round: those are libm calls on baseline x86_64.
    let truncated = q as i64;
    let floor = if q < truncated as f64 {
        truncated - 1
    } else {
        truncated
    };
    let below = q - floor as f64; // exact: q and floor(q) share their leading bits
    let above = (floor as f64 + 1.0) - q;
    let tolerance = SNAP_ULPS * f64::EPSILON * q.abs().max(1.0);
    if below <= tolerance {
        floor
    } else if above <= tolerance {
        floor + 1
    } else {
        match dir {
            Round::Down => floor,
            Round::Up => floor + 1,
        }
    }
}

/// An exact decimal as an integer mantissa and a power-of-ten scale: value = m / 10^scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scaled {
    mantissa: i128,
    scale: u32,
}

impl Scaled {
    fn of(d: Decimal) -> Self {
        Scaled {
            mantissa: d.mantissa(),
            scale: d.scale(),
        }
    }

    /// The mantissa rescaled to `scale` (>= self.scale), or None on overflow.
    fn at(self, scale: u32) -> Option<i128> {
        10i128
            .checked_pow(scale - self.scale)
            .and_then(|p| self.mantissa.checked_mul(p))
    }

    /// ceil(self / other) for positive `other`, exactly, or None on overflow.
    fn ceil_div(self, other: Scaled) -> Option<i128> {
        let scale = self.scale.max(other.scale);
        let a = self.at(scale)?;
        let b = other.at(scale)?;
        Some(a.div_euclid(b) + i128::from(a.rem_euclid(b) != 0))
    }

    fn mul(self, other: Scaled) -> Option<Scaled> {
        Some(Scaled {
            mantissa: self.mantissa.checked_mul(other.mantissa)?,
            scale: self.scale + other.scale,
        })
    }

    /// Nearest f64 of `units x self`: both factors are exact doubles when small enough, and
    /// IEEE division is correctly rounded.
    fn times_f64(self, units: i64) -> f64 {
        if let Some(value) = UnitF64::of(self).times(units) {
            return value;
        }
        self.times_f64_wide(units)
    }

    /// [`Scaled::times_f64`] beyond the 64-bit fast path ([`UnitF64::times`]).
    #[cold]
    fn times_f64_wide(self, units: i64) -> f64 {
        match (units as i128).checked_mul(self.mantissa) {
            Some(m) if m.unsigned_abs() < (1u128 << 53) && self.scale <= 22 => {
                m as f64 / 10f64.powi(self.scale as i32)
            }
            _ => {
                let unit = Decimal::from_i128_with_scale(self.mantissa, self.scale);
                match Decimal::from(units).checked_mul(unit) {
                    Some(d) => f64::from_str(&d.to_string()).unwrap_or(f64::NAN),
                    None => units as f64 * (self.mantissa as f64 / 10f64.powi(self.scale as i32)),
                }
            }
        }
    }
}

#[cold]
fn too_many_units(field: &str, given: f64) -> Error {
    Error::invalid(
        field,
        given,
        format!("must be at most {MAX_UNITS} ticks or lots of this market"),
    )
}

/// A decimal unit (tick or lot size) read once for [`Scaled::times_f64`]'s common case: its
/// mantissa as an i64 and 10^scale as an exact double (None when either does not fit).
#[derive(Debug, Clone, Copy, PartialEq)]
struct UnitF64 {
    mantissa: Option<i64>,
    pow10: f64,
}

impl UnitF64 {
    fn of(unit: Scaled) -> Self {
        let fits = unit.scale < POW10.len() as u32;
        UnitF64 {
            mantissa: i64::try_from(unit.mantissa).ok().filter(|_| fits),
            pow10: if fits {
                POW10[unit.scale as usize]
            } else {
                1.0
            },
        }
    }

    /// Nearest f64 of `units x unit` when `units x mantissa` is below 2^53 (then it and 10^scale
    /// are exact doubles and one IEEE division is correctly rounded; the 64-bit integers avoid
    /// i128's software routines); None otherwise.
    #[inline]
    fn times(self, units: i64) -> Option<f64> {
        let m = units.checked_mul(self.mantissa?)?;
        (m.unsigned_abs() < (1u64 << 53)).then(|| m as f64 / self.pow10)
    }

    /// Nearest f64 of `units x size` (`size`: the decimal this unit was read from), by the
    /// fast path when it applies, else by [`Scaled::times_f64_wide`].
    #[inline]
    fn times_or_wide(self, size: Decimal, units: i64) -> f64 {
        self.times(units)
            .unwrap_or_else(|| Scaled::of(size).times_f64_wide(units))
    }
}

/// A market's trading rules, held exactly.
#[derive(Debug, Clone)]
pub struct Market {
    tick_size: Decimal,
    lot_size: Decimal,
    min_qty: Decimal,
    min_notional: Decimal,
    tick_f64: f64,
    lot_f64: f64,
    /// Smallest amount in lots that meets `min_qty`.
    min_qty_lots: i64,
    /// Smallest `ticks x lots` product that meets `min_notional`.
    min_notional_units: i128,
    /// The tick and lot sizes read once for the f64 conversions (functions of the sizes, so
    /// equal markets have equal ones).
    tick_unit: UnitF64,
    lot_unit: UnitF64,
}

fn parse_decimal(field: &str, text: &str) -> Result<Decimal> {
    let trimmed = text.trim();
    Decimal::from_str_exact(trimmed).map_err(|_| {
        Error::invalid(
            field,
            format!("{text:?}"),
            "must be an exact decimal string such as \"0.01\" (at most 28 significant digits)",
        )
    })
}

/// Equal markets have equal rules: the four decimals, compared by their bits. [`Market::new`]
/// normalizes them (no trailing zeros, no negative zero), so equal values have equal bits; every
/// other field is a function of their values.
impl PartialEq for Market {
    fn eq(&self, other: &Self) -> bool {
        let bits = |m: &Market| {
            [m.tick_size, m.lot_size, m.min_qty, m.min_notional].map(|d| d.serialize())
        };
        bits(self) == bits(other)
    }
}

impl Market {
    /// Build a market from exact decimal strings (as exchanges publish them):
    /// `tick_size` > 0, `lot_size` > 0, `min_qty` >= 0 (base units), `min_notional` >= 0 (quote).
    pub fn new(tick_size: &str, lot_size: &str, min_qty: &str, min_notional: &str) -> Result<Self> {
        let tick = parse_decimal("tick_size", tick_size)?;
        let lot = parse_decimal("lot_size", lot_size)?;
        let min_qty_d = parse_decimal("min_qty", min_qty)?;
        let min_notional_d = parse_decimal("min_notional", min_notional)?;
        if tick <= Decimal::ZERO {
            return Err(Error::invalid("tick_size", tick, "must be > 0"));
        }
        if lot <= Decimal::ZERO {
            return Err(Error::invalid("lot_size", lot, "must be > 0"));
        }
        if min_qty_d < Decimal::ZERO {
            return Err(Error::invalid("min_qty", min_qty_d, "must be >= 0"));
        }
        if min_notional_d < Decimal::ZERO {
            return Err(Error::invalid(
                "min_notional",
                min_notional_d,
                "must be >= 0",
            ));
        }
        let overflow = |field: &str, v: Decimal| {
            Error::invalid(
                field,
                v,
                "too large relative to the tick and lot sizes to be exact",
            )
        };
        let min_qty_lots = Scaled::of(min_qty_d)
            .ceil_div(Scaled::of(lot))
            .and_then(|v| i64::try_from(v).ok())
            .filter(|v| *v <= MAX_UNITS)
            .ok_or_else(|| overflow("min_qty", min_qty_d))?;
        let min_notional_units = Scaled::of(tick)
            .mul(Scaled::of(lot))
            .and_then(|unit| Scaled::of(min_notional_d).ceil_div(unit))
            .ok_or_else(|| overflow("min_notional", min_notional_d))?;
        let tick_f64 = Scaled::of(tick).times_f64(1);
        let lot_f64 = Scaled::of(lot).times_f64(1);
        Ok(Market {
            tick_size: tick.normalize(),
            lot_size: lot.normalize(),
            min_qty: min_qty_d.normalize(),
            min_notional: min_notional_d.normalize(),
            tick_f64,
            lot_f64,
            min_qty_lots,
            min_notional_units,
            tick_unit: UnitF64::of(Scaled::of(tick.normalize())),
            lot_unit: UnitF64::of(Scaled::of(lot.normalize())),
        })
    }

    /// Tick size (quote units), exact.
    pub fn tick_size(&self) -> Decimal {
        self.tick_size
    }
    /// Lot size (base units), exact.
    pub fn lot_size(&self) -> Decimal {
        self.lot_size
    }
    /// Minimum order amount (base units), exact.
    pub fn min_qty(&self) -> Decimal {
        self.min_qty
    }
    /// Minimum order notional, price x amount (quote units), exact.
    pub fn min_notional(&self) -> Decimal {
        self.min_notional
    }
    /// Tick size as the nearest double.
    pub fn tick_f64(&self) -> f64 {
        self.tick_f64
    }
    /// Lot size as the nearest double.
    pub fn lot_f64(&self) -> f64 {
        self.lot_f64
    }
    /// Smallest amount, in lots, that meets `min_qty`.
    pub fn min_qty_lots(&self) -> i64 {
        self.min_qty_lots
    }

    /// Price (quote units, finite, > 0) to ticks: buys round down, sells round up (see [`snap`]).
    /// A price below one tick gives 0 ticks for a buy.
    pub fn price_to_ticks(&self, price: f64, side: Side) -> Result<i64> {
        check::positive("price", price)?;
        let dir = match side {
            Side::Buy => Round::Down,
            Side::Sell => Round::Up,
        };
        self.units_checked("price", price, snap(price / self.tick_f64, dir))
    }

    /// Amount (base units, finite, >= 0) to lots, never rounding up.
    pub fn amount_to_lots(&self, amount: f64) -> Result<i64> {
        check::non_negative("amount", amount)?;
        self.units_checked("amount", amount, snap(amount / self.lot_f64, Round::Down))
    }

    #[inline]
    fn units_checked(&self, field: &str, given: f64, units: i64) -> Result<i64> {
        if units > MAX_UNITS {
            return Err(too_many_units(field, given));
        }
        Ok(units)
    }

    /// An exact decimal price to ticks, rounding side-aware only when it is off the tick grid.
    pub fn decimal_price_to_ticks(&self, price: Decimal, side: Side) -> Result<i64> {
        if price <= Decimal::ZERO {
            return Err(Error::invalid("price", price, "must be > 0"));
        }
        let q = price.checked_div(self.tick_size).ok_or_else(|| {
            Error::invalid("price", price, "too large for this market's tick size")
        })?;
        let units = match side {
            Side::Buy => q.floor(),
            Side::Sell => q.ceil(),
        };
        self.decimal_units("price", price, units)
    }

    /// An exact decimal amount to lots, rounding down.
    pub fn decimal_amount_to_lots(&self, amount: Decimal) -> Result<i64> {
        if amount < Decimal::ZERO {
            return Err(Error::invalid("amount", amount, "must be >= 0"));
        }
        let q = amount.checked_div(self.lot_size).ok_or_else(|| {
            Error::invalid("amount", amount, "too large for this market's lot size")
        })?;
        self.decimal_units("amount", amount, q.floor())
    }

    fn decimal_units(&self, field: &str, given: Decimal, units: Decimal) -> Result<i64> {
        i64::try_from(units)
            .ok()
            .filter(|u| *u <= MAX_UNITS)
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    given,
                    format!("must be at most {MAX_UNITS} ticks or lots of this market"),
                )
            })
    }

    /// Ticks to the exact decimal price, written with the tick's decimals (`98122.0` for tick 0.1).
    pub fn ticks_to_price(&self, ticks: i64) -> Decimal {
        Decimal::from(ticks) * self.tick_size
    }

    /// Lots to the exact decimal amount, written with the lot's decimals (`0.010` for lot 0.001).
    pub fn lots_to_amount(&self, lots: i64) -> Decimal {
        Decimal::from(lots) * self.lot_size
    }

    /// Ticks to the nearest double of the exact price.
    pub fn ticks_to_f64(&self, ticks: i64) -> f64 {
        self.tick_unit.times_or_wide(self.tick_size, ticks)
    }

    /// Lots to the nearest double of the exact amount.
    pub fn lots_to_f64(&self, lots: i64) -> f64 {
        self.lot_unit.times_or_wide(self.lot_size, lots)
    }

    /// Whether an order of `lots` at `ticks` meets both `min_qty` and `min_notional`, exactly.
    #[inline]
    pub fn meets_minimums(&self, ticks: i64, lots: i64) -> bool {
        lots >= self.min_qty_lots
            && match ticks.checked_mul(lots) {
                Some(units) => i128::from(units) >= self.min_notional_units,
                None => (ticks as i128) * (lots as i128) >= self.min_notional_units,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_to_f64_fast_path_matches_the_text_round_trip() {
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
            assert_eq!(decimal_to_f64(d).to_bits(), slow.to_bits(), "{text}");
        }
    }

    fn btc() -> Market {
        Market::new("0.10", "0.001", "0.001", "100").expect("valid market")
    }

    #[test]
    fn buy_rounds_down_sell_rounds_up() {
        let m = btc();
        assert_eq!(m.price_to_ticks(95236.15, Side::Buy), Ok(952361));
        assert_eq!(m.price_to_ticks(95236.15, Side::Sell), Ok(952362));
    }

    #[test]
    fn on_tick_prices_stay_put_despite_float_noise() {
        let m = btc();
        // 0.1 * 3 = 0.30000000000000004 in f64, still exactly 3 ticks.
        assert_eq!(m.price_to_ticks(0.1 * 3.0, Side::Sell), Ok(3));
        assert_eq!(m.price_to_ticks(95236.2, Side::Sell), Ok(952362));
        assert_eq!(m.price_to_ticks(95236.2, Side::Buy), Ok(952362));
    }

    #[test]
    fn exact_decimal_round_trip() {
        let m = btc();
        assert_eq!(m.ticks_to_price(952361).to_string(), "95236.1");
        assert_eq!(m.ticks_to_f64(952361), 95236.1);
        assert_eq!(m.lots_to_amount(10).to_string(), "0.010");
        assert_eq!(m.lots_to_f64(10), 0.01);
    }

    #[test]
    fn minimums_are_exact() {
        let m = btc();
        // 100 USD min notional at 0.001 BTC lots: 95236.1 x 0.001 = 95.2361 < 100.
        assert!(!m.meets_minimums(952361, 1));
        assert!(m.meets_minimums(952361, 2));
        // exactly 100.000 = 100000.0 x 0.001 meets it.
        assert!(m.meets_minimums(1_000_000, 1));
        assert!(!m.meets_minimums(999_999, 1));
    }

    #[test]
    fn markets_are_equal_by_value() {
        let m = btc();
        assert_eq!(
            m,
            Market::new("0.10", "0.0010", "0.001", "100.0").expect("valid")
        );
        assert_eq!(
            Market::new("0.1", "0.001", "-0", "0.00").expect("valid"),
            Market::new("0.1", "0.001", "0", "0").expect("valid")
        );
        assert_ne!(
            m,
            Market::new("0.01", "0.001", "0.001", "100").expect("valid")
        );
        assert_ne!(m, Market::new("0.1", "0.001", "0.001", "5").expect("valid"));
    }

    #[test]
    fn amounts_never_round_up() {
        let m = btc();
        assert_eq!(m.amount_to_lots(0.0019999), Ok(1));
        assert_eq!(m.amount_to_lots(0.003), Ok(3));
    }

    #[test]
    fn bad_markets_name_the_field() {
        let e = Market::new("0", "0.001", "0", "0").expect_err("invalid market");
        assert!(matches!(e, Error::InvalidInput { ref field, .. } if field == "tick_size"));
        let e = Market::new("0.1", "abc", "0", "0").expect_err("invalid market");
        assert!(e.to_string().contains("lot_size"));
        let e = Market::new("0.1", "0.001", "-1", "0").expect_err("invalid market");
        assert!(e.to_string().contains("min_qty"));
    }

    #[test]
    fn bad_prices_are_errors() {
        let m = btc();
        assert!(m.price_to_ticks(f64::NAN, Side::Buy).is_err());
        assert!(m.price_to_ticks(f64::INFINITY, Side::Buy).is_err());
        assert!(m.price_to_ticks(-1.0, Side::Buy).is_err());
        assert!(m.price_to_ticks(1e300, Side::Sell).is_err());
        assert!(m.price_to_ticks(1e12, Side::Sell).is_err());
    }
    proptest::proptest! {
        /// The fast decimal of a double has the value of its shortest round-trip text (the slow
        /// path, as Python's `Decimal(repr(x))`), for prices on a cent grid and for any double.
        #[test]
        fn decimal_from_f64_is_the_shortest_texts_value(
            cents in 1i64..10_000_000_000,
            bits in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL,
        ) {
            for x in [cents as f64 / 100.0, -(cents as f64) / 1000.0, bits] {
                let slow = Decimal::from_str(&format!("{x}"))
                    .or_else(|_| Decimal::from_scientific(&format!("{x:e}")));
                match (decimal_from_f64("x", x), slow) {
                    (Ok(fast), Ok(slow)) => proptest::prop_assert_eq!(fast, slow, "{}", x),
                    (fast, slow) => proptest::prop_assert_eq!(fast.is_ok(), slow.is_ok(), "{}", x),
                }
            }
        }

        /// Ticks and lots to f64 (the cached unit's fast path, else the wide one) are the
        /// nearest double of the exact decimal: its text's value, bit for bit.
        #[test]
        fn unit_conversions_are_the_exact_values_nearest_double(
            units in -(1i64 << 40)..(1i64 << 40),
            size in proptest::sample::select(vec!["0.1", "0.01", "0.5", "1", "0.00001", "25", "0.0000000000000000000001", "0.0000000000000000000000001"]),
        ) {
            let by_tick = Market::new(size, "0.001", "0", "0").expect("valid");
            let by_lot = Market::new("0.1", size, "0", "0").expect("valid");
            let exact = |d: Decimal| f64::from_str(&d.to_string()).expect("a number");
            proptest::prop_assert_eq!(by_tick.ticks_to_f64(units).to_bits(), exact(by_tick.ticks_to_price(units)).to_bits());
            proptest::prop_assert_eq!(by_lot.lots_to_f64(units).to_bits(), exact(by_lot.lots_to_amount(units)).to_bits());
        }
    }
}
