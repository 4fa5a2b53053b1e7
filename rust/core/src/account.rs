//! A simulated futures account (linear perpetual), exact in decimals: position, average entry,
//! realised PnL, fees and funding. Shared by the backtester, the PAPER broker and the emulator.
//!
//! Conventions: the position is signed in lots (negative = short); PnL, fees and funding are
//! quote currency; fees are paid (a negative fee is a rebate); funding received is
//! `-position x mark x rate` (positive rate: longs pay shorts).

use rust_decimal::Decimal;

use crate::error::{check, Error, Result};
use crate::money::{Market, Side};

/// The state of one simulated futures account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    market: Market,
    position_lots: i64,
    entry_price: Decimal,
    realized_pnl: Decimal,
    fees: Decimal,
    funding: Decimal,
    traded_notional: Decimal,
}

fn decimal(field: &str, v: f64) -> Result<Decimal> {
    check::finite(field, v)?;
    crate::money::decimal_from_f64(field, v)
}

impl Account {
    /// A flat account on `market`.
    pub fn new(market: Market) -> Self {
        Account {
            market,
            position_lots: 0,
            entry_price: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            traded_notional: Decimal::ZERO,
        }
    }

    /// Signed position in lots (negative = short).
    pub fn position_lots(&self) -> i64 {
        self.position_lots
    }
    /// Signed position in base units, exact.
    pub fn position(&self) -> Decimal {
        self.market.lots_to_amount(self.position_lots)
    }
    /// Average entry price of the open position (0 when flat).
    pub fn entry_price(&self) -> Decimal {
        self.entry_price
    }
    /// Realised PnL from closing trades (quote), before fees and funding.
    pub fn realized_pnl(&self) -> Decimal {
        self.realized_pnl
    }
    /// Fees paid (quote; negative for net rebates).
    pub fn fees(&self) -> Decimal {
        self.fees
    }
    /// Funding received (quote; negative when paid).
    pub fn funding(&self) -> Decimal {
        self.funding
    }
    /// Total traded notional (quote).
    pub fn traded_notional(&self) -> Decimal {
        self.traded_notional
    }

    /// Book a fill of `lots` at `price_ticks` on `side`, paying `fee` (quote).
    pub fn apply_fill(
        &mut self,
        side: Side,
        price_ticks: i64,
        lots: i64,
        fee: Decimal,
    ) -> Result<()> {
        if lots <= 0 {
            return Err(Error::invalid("amount_lots", lots, "must be > 0"));
        }
        if price_ticks <= 0 {
            return Err(Error::invalid("price_ticks", price_ticks, "must be > 0"));
        }
        let price = self.market.ticks_to_price(price_ticks);
        let signed = if side == Side::Buy { lots } else { -lots };
        let old = self.position_lots;
        let new = old
            .checked_add(signed)
            .ok_or_else(|| Error::invalid("amount_lots", lots, "overflows the position"))?;
        if old == 0 || old.signum() == signed.signum() {
            let (q_old, q_add) = (Decimal::from(old.abs()), Decimal::from(lots));
            self.entry_price = (self.entry_price * q_old + price * q_add) / (q_old + q_add);
        } else {
            let closed = lots.min(old.abs());
            let per_unit = if old > 0 {
                price - self.entry_price
            } else {
                self.entry_price - price
            };
            self.realized_pnl += per_unit * self.market.lots_to_amount(closed);
            if new == 0 {
                self.entry_price = Decimal::ZERO;
            } else if new.signum() != old.signum() {
                self.entry_price = price;
            }
        }
        self.position_lots = new;
        self.fees += fee;
        self.traded_notional += price * self.market.lots_to_amount(lots);
        Ok(())
    }

    /// Book a funding payment at `mark` (quote) for `rate` per interval; returns what was received.
    pub fn apply_funding(&mut self, mark: f64, rate: f64) -> Result<Decimal> {
        check::positive("mark", mark)?;
        let received = -(self.position() * decimal("mark", mark)? * decimal("rate", rate)?);
        self.funding += received;
        Ok(received)
    }

    /// Unrealised PnL of the open position at `mark` (quote).
    pub fn unrealized_pnl(&self, mark: f64) -> Result<Decimal> {
        check::positive("mark", mark)?;
        Ok((decimal("mark", mark)? - self.entry_price) * self.position())
    }

    /// Account value change so far: realised + unrealised PnL + funding - fees (quote).
    pub fn net_pnl(&self, mark: f64) -> Result<Decimal> {
        Ok(self.realized_pnl + self.unrealized_pnl(mark)? + self.funding - self.fees)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account::new(Market::new("0.1", "0.001", "0", "0").expect("market"))
    }

    #[test]
    fn short_then_cover_realises_the_difference() {
        let mut a = account();
        // sell 1.000 at 100.0, sell 1.000 at 110.0: short 2 at 105
        a.apply_fill(Side::Sell, 1000, 1000, Decimal::new(2, 2))
            .expect("fill");
        a.apply_fill(Side::Sell, 1100, 1000, Decimal::new(2, 2))
            .expect("fill");
        assert_eq!(a.position().to_string(), "-2.000");
        assert_eq!(a.entry_price(), Decimal::from(105));
        // buy back 1.5 at 95: gain (105 - 95) x 1.5 = 15
        a.apply_fill(Side::Buy, 950, 1500, Decimal::ZERO)
            .expect("fill");
        assert_eq!(a.realized_pnl(), Decimal::from(15));
        assert_eq!(a.position_lots(), -500);
        // unrealised at 100: (100 - 105) x -0.5 = 2.5
        assert_eq!(a.unrealized_pnl(100.0).expect("pnl"), Decimal::new(25, 1));
        // flip: buy 1.0 at 90 closes 0.5 (+7.5) and opens long 0.5 at 90
        a.apply_fill(Side::Buy, 900, 1000, Decimal::ZERO)
            .expect("fill");
        assert_eq!(a.realized_pnl(), Decimal::new(225, 1));
        assert_eq!(
            (a.position_lots(), a.entry_price()),
            (500, Decimal::from(90))
        );
        assert_eq!(a.fees(), Decimal::new(4, 2));
    }

    #[test]
    fn funding_positive_rate_shorts_receive() {
        let mut a = account();
        a.apply_fill(Side::Sell, 500_000, 2000, Decimal::ZERO)
            .expect("fill");
        // -(-2) x 50000 x 0.0001 = 10
        assert_eq!(
            a.apply_funding(50_000.0, 0.0001).expect("funding"),
            Decimal::from(10)
        );
        assert!(a.apply_funding(f64::NAN, 0.0001).is_err());
        assert!(a.apply_fill(Side::Buy, 1, 0, Decimal::ZERO).is_err());
    }
}
