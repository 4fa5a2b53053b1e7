"""The small interfaces a user implements to inject a component into ``GridHedgeBot``.

Each is an ABC with the fewest methods the bot needs; the built-in implementations live in
``gridhedge.grid.calculator``, ``gridhedge.data``, ``gridhedge.execution``,
``gridhedge.risk`` and ``gridhedge.state``. Money is ``Decimal``; see ``common.types`` for units.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gridhedge.common.types import (
    Fill,
    GridLevel,
    HedgeRecommendation,
    MarketState,
    Order,
    Position,
    TradingMode,
)

if TYPE_CHECKING:
    from gridhedge._core import Decision, DesiredOrder, Market
    from gridhedge.data.candles import Candles


class GridCalculator(ABC):
    """Computes the grid levels (the seed's ``CustomGridCalculator`` example)."""

    @abstractmethod
    def calculate_grid_levels(self, market: MarketState, position: Position) -> list[GridLevel]:
        """Desired grid orders for this market state and position (prices/amounts are snapped
        to the market's tick and lot by the bot, and capped by its risk limits)."""


class DataProvider(ABC):
    """Market data for one or more symbols."""

    @abstractmethod
    async def get_current_price(self, symbol: str) -> Decimal:
        """Latest price (quote currency)."""

    @abstractmethod
    async def get_ohlcv(self, symbol: str, timeframe: str = "1h", limit: int = 500) -> Candles:
        """The most recent ``limit`` complete candles, oldest first."""

    @abstractmethod
    async def get_funding_rate(self, symbol: str) -> float:
        """Current funding rate per 8 h (fraction; positive: longs pay shorts)."""

    def timestamp_ms(self) -> int:
        """The provider's clock (ms since epoch, UTC); replays have their own."""
        import time

        return int(time.time() * 1000)


class Broker(ABC):
    """Where orders go (an exchange, a simulation, or nowhere) and where the book comes from."""

    trading_mode: TradingMode

    @property
    @abstractmethod
    def data_provider(self) -> DataProvider:
        """The market data this broker trades against (``GridHedgeBot.create`` uses it)."""

    @abstractmethod
    async def load_market(self, symbol: str) -> Market:
        """The market's exact trading rules (tick, lot, minimums)."""

    @abstractmethod
    async def fetch_position(self, symbol: str) -> Position:
        """Spot inventory and the signed futures position."""

    @abstractmethod
    async def fetch_equity(self, symbol: str) -> Decimal:
        """Mark-to-market equity of the book (quote currency)."""

    @abstractmethod
    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        """Orders still resting on the book."""

    @abstractmethod
    async def place_order(self, order: Order, kind: str = "limit") -> Order:
        """Send an order (``kind``: limit, market, stop_market); returns it acknowledged."""

    @abstractmethod
    async def cancel_order(self, order: Order) -> None:
        """Cancel an order; a no-op if it is already gone."""

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        """Fills at or after ``since_ms`` (all since the broker started when None)."""
        return []

    async def close(self) -> None:
        """Release connections."""
        return None


class PositionFetcher(ABC):
    """Reads the current position (the bot's view of the book)."""

    @abstractmethod
    async def get_position(self, symbol: str) -> Position: ...


@dataclass(frozen=True)
class SyncResult:
    """What an order sync did."""

    placed: tuple[Order, ...] = ()
    cancelled: tuple[Order, ...] = ()
    kept: int = 0


class OrderManager(ABC):
    """Turns the desired orders into exchange orders, sending only the difference."""

    @abstractmethod
    async def sync(self, desired: Sequence[DesiredOrder], market: Market) -> SyncResult: ...

    @abstractmethod
    async def cancel_all(self) -> SyncResult: ...


class StateManager(ABC):
    """What the bot must remember across restarts."""

    @abstractmethod
    def load(self) -> dict[str, Any]:
        """The saved state (policy state, sequences, high-water mark), or an empty dict."""

    @abstractmethod
    def save(self, state: dict[str, Any]) -> None:
        """Persist the state durably."""

    @abstractmethod
    def record_order(self, order: Order) -> None:
        """Record an order intent or status change (before it is sent, for intents)."""

    @abstractmethod
    def record_fill(self, fill: Fill) -> bool:
        """Record a fill once, keyed by (exchange, symbol, trade id); whether it was new."""

    @abstractmethod
    def orders(self, live_only: bool = False) -> list[Order]:
        """Recorded orders (only those still live, if asked), oldest first."""

    @abstractmethod
    def fills(self) -> list[Fill]:
        """Recorded fills, oldest first."""

    def record_equity(self, timestamp_ms: int, equity: Decimal, high_water_mark: Decimal) -> None:
        """Record an equity snapshot and the high-water mark (optional)."""
        return None

    def record_risk_event(self, timestamp_ms: int, code: str, message: str) -> None:
        """Record a risk layer's action (optional)."""
        return None

    def record_funding(self, symbol: str, timestamp_ms: int, amount: Decimal) -> bool:
        """Record a funding payment (quote; + received, - paid) once per time (optional)."""
        return False


@dataclass(frozen=True)
class RiskReport:
    """The risk layers' verdict on one decision."""

    halted: bool
    var: float
    var_limit: float
    drawdown: float
    max_drawdown: float
    layers: dict[str, list[str]] = field(default_factory=dict)
    """Layer name (position, order, portfolio, market) -> what it did and why."""


class RiskManager(ABC):
    """Reads a decision and the book, reports per risk layer, may veto trading."""

    @abstractmethod
    def evaluate(
        self, decision: Decision, position: Position, market: MarketState
    ) -> RiskReport: ...


class RiskAnalyzer(ABC):
    """Reviews the hedge and recommends adjustments."""

    @abstractmethod
    async def analyze(
        self, position: Position, market: MarketState, decision: Decision
    ) -> HedgeRecommendation: ...
