"""GridOrderManager: diff the desired orders against the open ones (in the Rust core) and send
only the difference, cancels first, with deterministic client order ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loguru import logger

from gridhedge._core import Market, client_order_id, diff_orders
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


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """A desired order built in Python (e.g. from a custom grid calculator)."""

    key: str
    kind: str
    side: str
    price_ticks: int
    amount_lots: int


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

    def _next_id(self, key: str) -> tuple[str, int]:
        seq = self.sequences.get(key, 0) + 1
        self.sequences[key] = seq
        return client_order_id(self.bot_id, self.symbol, key, seq), seq

    async def sync(self, desired: Sequence[Planned], market: Market) -> SyncResult:
        open_orders = [o for o in await self.broker.fetch_open_orders(self.symbol) if o.key]
        open_rows = [
            (
                o.key,
                o.kind,
                1 if o.kind == "market" else market.price_to_ticks(o.price, o.side.value),
                market.amount_to_lots(o.remaining),
            )
            for o in open_orders
        ]
        want = list(desired)[: self.max_active_orders]
        desired_rows = [(d.key, d.kind, d.price_ticks, d.amount_lots) for d in want]
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
            try:
                await self.broker.place_order(order, d.kind)
            except DuplicateOrderError:
                logger.warning("order {} already live: not sent twice", cid)
                continue
            self.state.record_order(order)
            placed.append(order)
        self.state.save({"sequences": dict(self.sequences)})
        return SyncResult(
            placed=tuple(placed), cancelled=tuple(cancelled), kept=len(open_orders) - len(cancelled)
        )

    async def cancel_all(self) -> SyncResult:
        open_orders = await self.broker.fetch_open_orders(self.symbol)
        for o in open_orders:
            await self.broker.cancel_order(o)
            self.state.record_order(o)
        return SyncResult(cancelled=tuple(open_orders))
