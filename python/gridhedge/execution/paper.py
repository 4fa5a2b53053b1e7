"""PAPER trading: the bot's orders fill in-process against replayed market data with the
shared fill model (rust/core ``fills``), fees and funding; nothing is sent anywhere."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from decimal import Decimal

from loguru import logger

from gridhedge._core import FillBook, Market, SimAccount
from gridhedge.common.interfaces import Broker
from gridhedge.common.types import Fill, Order, OrderStatus, Position, Side, TradingMode
from gridhedge.data.candles import Candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import DuplicateOrderError, InvalidInputError

DEFAULT_MARKETS: dict[str, tuple[str, str, str, str]] = {
    # Binance USD-M perpetual rules: tick size, lot step, min qty, min notional
    "BTCUSDT": ("0.10", "0.001", "0.001", "100"),
    "ETHUSDT": ("0.01", "0.001", "0.001", "20"),
}


def default_market(symbol: str) -> Market:
    """The built-in trading rules of a symbol (Binance USD-M perpetual figures)."""
    try:
        return Market(*DEFAULT_MARKETS[symbol])
    except KeyError:
        raise InvalidInputError(
            f"symbol: no built-in market rules for {symbol!r}; pass market=Market(...)",
            field="symbol",
            value=repr(symbol),
            rule=f"must be one of {sorted(DEFAULT_MARKETS)} or come with a Market",
        ) from None


@dataclass(frozen=True, slots=True)
class BookEvent:
    """One placement, cancel or fill, in the order it happened (the parity log)."""

    bar: int
    event: str
    client_order_id: str
    side: str
    price: Decimal
    amount: Decimal


class PaperBroker(Broker):
    """In-process simulated exchange for one symbol, driven by a replay clock."""

    trading_mode = TradingMode.PAPER

    def __init__(
        self,
        data_provider: ReplayDataProvider,
        *,
        market: Market | None = None,
        spot_amount: Decimal | str = "1",
        cash: Decimal | str = "0",
        maker_fee: Decimal | str = "0.0002",
        taker_fee: Decimal | str = "0.0005",
        participation: Decimal | str = "0.1",
    ) -> None:
        self._provider = data_provider
        self.symbol = data_provider.symbol
        self.market = market if market is not None else default_market(self.symbol)
        self.book = FillBook(self.market, participation, maker_fee, taker_fee)
        self.account = SimAccount(self.market)
        self.spot_amount = Decimal(spot_amount)
        self.cash = Decimal(cash)
        self.fills: list[Fill] = []
        self.funding_payments: list[tuple[int, Decimal]] = []
        """(settlement time ms, amount received in quote) per funding event, in time order."""
        self.events: list[BookEvent] = []
        self._orders: dict[int, Order] = {}
        self._live: dict[int, Order] = {}
        """Orders still resting, in placement order."""
        self._by_client_id: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        data_provider.subscribe(self._on_bar)

    @property
    def data_provider(self) -> ReplayDataProvider:
        return self._provider

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            raise InvalidInputError(
                f"symbol: this broker trades {self.symbol!r} (got {symbol!r})",
                field="symbol",
                value=repr(symbol),
                rule=f"must be {self.symbol!r}",
            )

    async def load_market(self, symbol: str) -> Market:
        self._check_symbol(symbol)
        return self.market

    async def fetch_position(self, symbol: str) -> Position:
        self._check_symbol(symbol)
        entry = self.account.entry_price
        return Position(
            symbol=symbol,
            spot_amount=self.spot_amount,
            futures_amount=self.account.position,
            entry_price=entry if entry != 0 else None,
        )

    def equity_at(self, price: float) -> Decimal:
        """Cash + spot inventory + futures PnL at ``price`` (quote)."""
        return self.cash + self.spot_amount * Decimal(repr(price)) + self.account.net_pnl(price)

    async def fetch_equity(self, symbol: str) -> Decimal:
        self._check_symbol(symbol)
        return self.equity_at(float(self._provider.candles.close[self._provider.cursor]))

    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        self._check_symbol(symbol)
        return list(self._live.values())

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        self._check_symbol(symbol)
        if since_ms is None:
            return list(self.fills)
        start = bisect.bisect_left(self.fills, since_ms, key=lambda f: f.timestamp_ms)
        return self.fills[start:]

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[tuple[int, Decimal]]:
        """Funding booked at or after ``since_ms`` (ms UTC, quote; + received)."""
        self._check_symbol(symbol)
        if since_ms is None:
            return list(self.funding_payments)
        # booked bar by bar, so in time order: the payments since the checkpoint are a suffix
        start = bisect.bisect_left(self.funding_payments, since_ms, key=lambda p: p[0])
        return self.funding_payments[start:]

    async def place_order(self, order: Order, kind: str = "limit") -> Order:
        self._check_symbol(order.symbol)
        live = self._by_client_id.get(order.client_order_id)
        if live is not None and self._orders[live].status.is_live:
            raise DuplicateOrderError(
                f"client_order_id: {order.client_order_id!r} is already live",
                field="client_order_id",
                value=order.client_order_id,
                rule="must not duplicate a live order",
            )
        side = order.side  # a StrEnum: already the string "buy" / "sell"
        ticks = 1 if kind == "market" else self.market.price_to_ticks(order.price, side)
        lots = self.market.amount_to_lots(order.amount)
        sim_id = next(self._ids)
        self.book.place(sim_id, side, ticks, lots, self._provider.cursor, kind)
        order.kind = kind
        order.status = OrderStatus.OPEN
        order.exchange_order_id = f"paper-{sim_id}"
        order.created_ms = self._provider.timestamp_ms()
        self._orders[sim_id] = order
        self._live[sim_id] = order
        self._by_client_id[order.client_order_id] = sim_id
        self._log_event("place", order, order.price, order.amount)
        return order

    async def refresh_order(self, order: Order) -> Order | None:
        """This simulated exchange's view of ``order``; an order of an earlier run (a dry run
        restarted) ended with that run's simulated exchange: cancelled, with what it filled."""
        sim_id = self._by_client_id.get(order.client_order_id)
        if sim_id is not None:
            return self._orders[sim_id]
        ended = Order(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=order.price,
            amount=order.amount,
            key=order.key,
            kind=order.kind,
            status=OrderStatus.CANCELLED,
            filled=order.filled,
        )
        ended.error = "ended with an earlier run's simulated exchange"
        return ended

    async def cancel_order(self, order: Order) -> None:
        sim_id = self._by_client_id.get(order.client_order_id)
        if sim_id is None:
            return
        if self.book.cancel(sim_id):
            tracked = self._live.pop(sim_id)
            tracked.status = OrderStatus.CANCELLED
            order.status = OrderStatus.CANCELLED
            self._log_event("cancel", tracked, tracked.price, tracked.remaining)

    def _log_event(self, event: str, order: Order, price: Decimal, amount: Decimal) -> None:
        self.events.append(
            BookEvent(
                self._provider.cursor, event, order.client_order_id, str(order.side), price, amount
            )
        )

    def _on_bar(self, index: int, candles: Candles) -> None:
        """Fill resting orders against bar ``index``, then pay funding falling inside it."""
        o, h, low, c, v = (
            float(candles.open[index]),
            float(candles.high[index]),
            float(candles.low[index]),
            float(candles.close[index]),
            float(candles.volume[index]),
        )
        for f in self.book.on_bar(index, o, h, low, c, v):
            order = self._orders[f.order_id]
            self.account.apply_fill(f.side, f.price_ticks, f.amount_lots, f.fee)
            order.filled += f.amount
            order.status = OrderStatus.FILLED if f.done else OrderStatus.PARTIALLY_FILLED
            if f.done:
                del self._live[f.order_id]
            fill = Fill(
                trade_id=f"paper-t{next(self._trade_ids)}",
                client_order_id=order.client_order_id,
                symbol=self.symbol,
                side=Side(f.side),
                price=f.price,
                amount=f.amount,
                fee=f.fee,
                timestamp_ms=int(candles.timestamp[index]),
                maker=f.maker,
                exchange="paper",
            )
            self.fills.append(fill)
            self._log_event("fill", order, f.price, f.amount)
            logger.debug(
                "fill {} {} {} @ {} (fee {})",
                fill.client_order_id,
                fill.side.value,
                fill.amount,
                fill.price,
                fill.fee,
            )
        for t, rate in self._provider.funding_events(index):
            self.funding_payments.append((t, self.account.apply_funding(c, rate)))
