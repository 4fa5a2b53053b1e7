"""Value objects shared by every component. Money is ``Decimal``; sides and states are enums.

Conventions: prices in quote currency; amounts in base currency; a futures position is signed
(negative = short); funding rates are fractions per funding interval (8 h), positive meaning
longs pay shorts; volatility is per bar unless named ``_annual``; VaR is a positive loss.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from decimal import Decimal

from gridhedge.errors import ConfigError


class TradingMode(enum.StrEnum):
    """REAL sends orders to the exchange; PAPER simulates fills in-process; RECOMMENDATION only
    reports the plan."""

    REAL = "REAL"
    PAPER = "PAPER"
    RECOMMENDATION = "RECOMMENDATION"

    @classmethod
    def parse(cls, value: str | TradingMode | None) -> TradingMode:
        """From a string (any case), falling back to the ``TRADING_MODE`` environment variable,
        then PAPER."""
        if isinstance(value, TradingMode):
            return value
        raw = value if value is not None else os.environ.get("TRADING_MODE", "PAPER")
        try:
            return cls(raw.strip().upper())
        except ValueError:
            raise ConfigError(
                f"trading_mode: must be one of REAL, PAPER, RECOMMENDATION (got {raw!r})",
                field="trading_mode",
                value=repr(raw),
                rule="must be one of REAL, PAPER, RECOMMENDATION",
            ) from None


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(enum.StrEnum):
    """Lifecycle (DESIGN: 'Orders and their ids')."""

    INTENT = "intent"
    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    LOST = "lost"

    @property
    def is_live(self) -> bool:
        """Whether the order may still rest on the book."""
        return self in (
            OrderStatus.INTENT,
            OrderStatus.PENDING,
            OrderStatus.OPEN,
            OrderStatus.PARTIALLY_FILLED,
        )


@dataclass(frozen=True, slots=True)
class MarketState:
    """What the bot knows of the market at one moment."""

    symbol: str
    price: Decimal
    timestamp_ms: int
    volatility: float = 0.0
    """Per-bar volatility (fraction) from the configured estimator."""
    support_levels: tuple[Decimal, ...] = ()
    resistance_levels: tuple[Decimal, ...] = ()
    funding_rate: float = 0.0
    """Current funding rate per 8 h (fraction); positive: longs pay shorts."""
    volume: float = 0.0
    """Recent per-bar volume (base currency)."""


@dataclass(frozen=True, slots=True)
class Position:
    """The book of one symbol: spot inventory (the exposure) and the futures hedge."""

    symbol: str
    spot_amount: Decimal = Decimal(0)
    """Spot (or other long) inventory in base currency."""
    futures_amount: Decimal = Decimal(0)
    """Signed futures position in base currency; negative is short (the hedge)."""
    entry_price: Decimal | None = None
    """Average entry price of the futures position."""

    def hedge_ratio(self) -> Decimal:
        """Short hedge as a multiple of the spot inventory (0 when there is no inventory)."""
        if self.spot_amount == 0:
            return Decimal(0)
        return -self.futures_amount / self.spot_amount

    def net_amount(self) -> Decimal:
        """Net base exposure: spot plus (signed) futures."""
        return self.spot_amount + self.futures_amount


@dataclass(frozen=True, slots=True)
class GridLevel:
    """One desired grid order: side, level number (1 = nearest the center), exact price/amount."""

    side: Side
    index: int
    price: Decimal
    amount: Decimal


@dataclass(slots=True)
class Order:
    """An order the bot owns, keyed by its deterministic client order id."""

    client_order_id: str
    symbol: str
    side: Side
    price: Decimal
    """Limit or stop price; 0 for a market order."""
    amount: Decimal
    key: str = ""
    """What the order is for: ``gs3`` sell rung 3, ``gb0`` center buy, ``rs0`` rebalance, ..."""
    kind: str = "limit"
    """limit | market | stop_market"""
    level: int = 0
    sequence: int = 0
    status: OrderStatus = OrderStatus.INTENT
    filled: Decimal = Decimal(0)
    exchange_order_id: str | None = None
    created_ms: int = 0
    error: str = ""
    """Why the exchange rejected it (its code and message), "" otherwise."""

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    def merge(self, filled: Decimal, status: OrderStatus) -> None:
        """Move to what a newer report says without going back: the filled amount never
        shrinks, a filled order stays filled, a live order reaching its amount is filled, and
        a fill on an order thought open, lost or never sent makes it (partially) filled."""
        self.filled = max(self.filled, filled)
        if self.status is OrderStatus.FILLED:
            return
        if self.filled >= self.amount > 0:
            self.status = OrderStatus.FILLED
        elif status.is_live and self.filled > 0:
            self.status = OrderStatus.PARTIALLY_FILLED
        elif status is OrderStatus.LOST and self.filled > 0:
            # its fills prove the exchange had it: no longer unknown
            self.status = OrderStatus.CANCELLED
        else:
            self.status = status


@dataclass(frozen=True, slots=True)
class Fill:
    """A trade of one of our orders, keyed by (exchange, symbol, trade id): exchanges such as
    Binance number trades per symbol, so a trade id alone is not unique."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    fee: Decimal
    """Fee paid in quote currency (negative for a rebate)."""
    timestamp_ms: int
    maker: bool = True
    exchange: str = ""
    """The ccxt exchange id (``binanceusdm``), ``paper`` for simulated fills, "" if unknown."""


class Priority(enum.IntEnum):
    """How urgent an adjustment is (higher first)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One recommended change, with why."""

    action: str
    priority: Priority
    reason: str
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HedgeRecommendation:
    """An analyzer's view of the hedge: where it is, where it should be, what to do and why."""

    symbol: str
    current_hedge_ratio: Decimal
    target_hedge_ratio: Decimal
    net_exposure: Decimal
    """Net exposure in quote currency (spot plus signed futures, times price)."""
    margin_usage: float
    """Used margin as a fraction of equity."""
    funding_carry: Decimal
    """Expected funding received by the hedge over the next day, quote currency."""
    adjustments: tuple[Adjustment, ...] = ()
    commentary: str = ""
    source: str = "basic"
    spacing_multiplier: float = 1.0
    """Widen the grid spacing by this factor (>= 1; an LLM review may only widen)."""
    size_multiplier: float = 1.0
    """Shrink level sizes and the position limit by this factor (<= 1; only ever shrinks)."""
    extra: dict[str, str] = field(default_factory=dict)
