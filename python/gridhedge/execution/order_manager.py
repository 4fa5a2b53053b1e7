"""GridOrderManager: diff the desired orders against the open ones (in the Rust core) and send
only the difference, cancels first, with deterministic client order ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loguru import logger

from gridhedge._core import Market, client_order_id, diff_orders
from gridhedge.chaos import crash_point
from gridhedge.common.interfaces import Broker, OrderManager, StateManager, SyncResult
from gridhedge.common.types import Order, Side
from gridhedge.errors import DuplicateOrderError


class Planned(Protocol):
    """What the order manager needs of a desired order (``DesiredOrder`` or ``PlannedOrder``)."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def price_ticks(self) -> int: ...
    @property
    def amount_lots(self) -> int: ...
    @property
    def row(self) -> tuple[str, str, int, int]:
        """``(key, kind, price_ticks, amount_lots)``, as the diff reads it."""
        ...


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """A desired order built in Python (e.g. from a custom grid calculator)."""

    key: str
    kind: str
    side: str
    price_ticks: int
    amount_lots: int

    @property
    def row(self) -> tuple[str, str, int, int]:
        """``(key, kind, price_ticks, amount_lots)``, as the diff reads it."""
        return (self.key, self.kind, self.price_ticks, self.amount_lots)


class GridOrderManager(OrderManager):
    """Keeps the broker's open orders equal to the desired ones, touching only what changed."""

    def __init__(
        self,
        broker: Broker,
        state: StateManager,
        *,
        bot_id: str,
        symbol: str,
        max_active_orders: int,
    ) -> None:
        self.broker = broker
        self.state = state
        self.bot_id = bot_id
        self.symbol = symbol
        self.max_active_orders = max_active_orders
        saved = state.load().get("sequences", {})
        self.sequences: dict[str, int] = {str(k): int(v) for k, v in saved.items()}
        self._exact: dict[str, tuple[Decimal, int, int]] = {}
        # intents are committed before they are sent, so the recorded orders bound every
        # sequence ever used, even if the process died before saving the counters
        for order in state.orders():
            self.sequences[order.key] = max(self.sequences.get(order.key, 0), order.sequence)

    def _next_id(self, key: str) -> tuple[str, int]:
        seq = self.sequences.get(key, 0) + 1
        self.sequences[key] = seq
        return client_order_id(self.bot_id, self.symbol, key, seq), seq

    async def sync(self, desired: Sequence[Planned], market: Market) -> SyncResult:
        open_orders = [o for o in await self.broker.fetch_open_orders(self.symbol) if o.key]
        open_rows = [(o.key, o.kind, *self._ticks_and_lots(o, market)) for o in open_orders]
        if len(self._exact) > 4 * len(open_orders) + 64:  # forget orders no longer open
            live = {o.client_order_id for o in open_orders}
            self._exact = {k: v for k, v in self._exact.items() if k in live}
        want = list(desired)[: self.max_active_orders]
        desired_rows = [d.row for d in want]
        cancel_idx, place_idx = diff_orders(open_rows, desired_rows)
        cancelled = []
        for i in cancel_idx:
            await self.broker.cancel_order(open_orders[i])
            self.state.record_order(open_orders[i])
            cancelled.append(open_orders[i])
        placed = []
        for i in place_idx:
            d = want[i]
            cid, seq = self._next_id(d.key)
            price = Decimal(0) if d.kind == "market" else market.ticks_to_price(d.price_ticks)
            order = Order(
                client_order_id=cid,
                symbol=self.symbol,
                side=Side(d.side),
                price=price,
                amount=market.lots_to_amount(d.amount_lots),
                key=d.key,
                kind=d.kind,
                sequence=seq,
            )
            self.state.record_order(order)  # the intent is durable before it is sent
            crash_point("intent_committed")
            try:
                await self.broker.place_order(order, d.kind)
            except DuplicateOrderError:
                logger.warning("order {} already live: not sent twice", cid)
                continue
            self.state.record_order(order)
            crash_point("ack_received")
            placed.append(order)
        if placed:
            self.state.save({"sequences": dict(self.sequences)})
        return SyncResult(
            placed=tuple(placed), cancelled=tuple(cancelled), kept=len(open_orders) - len(cancelled)
        )

    def _ticks_and_lots(self, order: Order, market: Market) -> tuple[int, int]:
        """The order's exact price in ticks and remaining amount in lots (cached per order:
        the price never changes, the remaining amount only when it fills)."""
        cached = self._exact.get(order.client_order_id)
        if cached is None or cached[0] != order.filled:
            ticks = 1 if order.kind == "market" else market.price_to_ticks(order.price, order.side)
            cached = (order.filled, ticks, market.amount_to_lots(order.remaining))
            self._exact[order.client_order_id] = cached
        return cached[1], cached[2]

    async def cancel_all(self) -> SyncResult:
        open_orders = await self.broker.fetch_open_orders(self.symbol)
        for o in open_orders:
            await self.broker.cancel_order(o)
            self.state.record_order(o)
        return SyncResult(cancelled=tuple(open_orders))
