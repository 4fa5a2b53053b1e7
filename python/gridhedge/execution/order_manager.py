"""GridOrderManager: diff the desired orders against the open ones (in the Rust core) and send
only the difference, cancels first, with deterministic client order ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loguru import logger

from gridhedge._core import (
    DesiredOrder,
    Market,
    client_order_id,
    diff_orders,
    parse_client_order_id,
)
from gridhedge.chaos import crash_point
from gridhedge.common.interfaces import Broker, OrderManager, StateManager, SyncResult
from gridhedge.common.types import Order, OrderStatus, Side, TradingMode
from gridhedge.errors import DuplicateOrderError, OrderRejectedError


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


_SIDES: dict[str, Side] = {s.value: s for s in Side}
"""A side by its string (a dict lookup: cheaper than ``Side(...)`` once per order placed)."""

REJECT_BACKOFF_MAX = 64
"""The longest pause, in syncs, before an identically rejected order is tried again."""


class GridOrderManager(OrderManager):
    """Keeps the broker's open orders equal to the desired ones, touching only what changed.

    Only this bot's orders (client ids of its bot id and symbol) are ever cancelled or counted
    as open; a manual order or another bot's on the same symbol is left alone. An order the
    exchange rejects is recorded ``rejected`` with the exchange's code, the other orders go on,
    and an order for the same purpose (its key) is not sent again for a backoff that doubles with
    each rejection for the same reason (1, 2, 4 ... 64 syncs); each new reason is logged once.
    """

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
        self._refusable = broker.trading_mode is TradingMode.REAL
        saved = state.load().get("sequences", {})
        self.sequences: dict[str, int] = {str(k): int(v) for k, v in saved.items()}
        self._exact: dict[str, tuple[Decimal, int, int]] = {}
        self._owned: dict[str, bool] = {}
        """Client order id -> whether it is this bot's (parsed once per id, not per sync)."""
        self._rejected: dict[str, tuple[str, int, int]] = {}
        """Order key -> (reason, syncs to skip left, current backoff) of its last rejection."""
        self.rejections: dict[str, str] = {}
        """Order key -> the exchange's reason for its last rejection (for status lines)."""
        # intents are committed before they are sent, so the recorded orders bound every
        # sequence ever used, even if the process died before saving the counters
        for order in state.orders():
            self.sequences[order.key] = max(self.sequences.get(order.key, 0), order.sequence)

    def _next_id(self, key: str) -> tuple[str, int]:
        seq = self.sequences.get(key, 0) + 1
        self.sequences[key] = seq
        return client_order_id(self.bot_id, self.symbol, key, seq), seq

    def owns(self, order: Order) -> bool:
        """Whether ``order`` carries one of this bot's client ids (its bot id and symbol)."""
        cid = order.client_order_id
        owned = self._owned.get(cid)
        if owned is None:
            owned = parse_client_order_id(self.bot_id, self.symbol, cid) is not None
            self._owned[cid] = owned
        return owned

    async def own_open_orders(self) -> list[Order]:
        """The exchange's open orders on the symbol that are this bot's."""
        return [o for o in await self.broker.fetch_open_orders(self.symbol) if self.owns(o)]

    async def sync(self, desired: Sequence[Planned], market: Market) -> SyncResult:
        open_orders = await self.own_open_orders()
        exact = self._exact
        open_rows = []
        for o in open_orders:  # the cache read inline (a hot loop); see _ticks_and_lots
            cached = exact.get(o.client_order_id)
            if cached is None or cached[0] != o.filled:
                cached = (o.filled, *self._ticks_and_lots(o, market))
            open_rows.append((o.key, o.kind, cached[1], cached[2]))
        if len(self._exact) > 4 * len(open_orders) + 64:  # forget orders no longer open
            live = {o.client_order_id for o in open_orders}
            self._exact = {k: v for k, v in self._exact.items() if k in live}
        if len(self._owned) > 4 * len(open_orders) + 64:
            self._owned = {}
        want = list(desired)[: self.max_active_orders]
        desired_rows = [d.row for d in want]
        # an order the exchange rejected waits out its backoff (its key: the price and size
        # of a grid rung move a little every rebalance, the exchange's reason does not)
        skip = {key for key, held in self._rejected.items() if held[1] > 0}
        for key in skip:
            held = self._rejected[key]
            self._rejected[key] = (held[0], held[1] - 1, held[2])
        if skip:
            keep = [i for i, d in enumerate(want) if d.key not in skip]
            held_stops = {d.key for d in want if d.key in skip and d.kind == "stop_market"}
            want = [want[i] for i in keep]
            desired_rows = [desired_rows[i] for i in keep]
            # a stop whose move is refused: the one on the book stays until a move succeeds
            for o, row in zip(open_orders, open_rows, strict=True):
                if o.key in held_stops and row not in desired_rows:
                    want.append(PlannedOrder(o.key, o.kind, o.side.value, row[2], row[3]))
                    desired_rows.append(row)
        if self._rejected:
            wanted = {d.key for d in want}
            self._rejected = {k: h for k, h in self._rejected.items() if k in wanted or k in skip}
        cancel_idx, place_idx = diff_orders(open_rows, desired_rows)
        # a stop being moved is replaced new-first: the old one is cancelled only once the new
        # one is on the book, so a refused replacement never leaves the position unprotected
        # (an exchange can refuse an order; PAPER cannot, and keeps the backtester's order)
        moving = {
            open_orders[i].key: i
            for i in cancel_idx
            if self._refusable
            and open_orders[i].kind == "stop_market"
            and any(want[j].key == open_orders[i].key for j in place_idx)
        }
        cancelled = []
        for i in cancel_idx:
            if i in moving.values():
                continue
            await self.broker.cancel_order(open_orders[i])
            self.state.record_order(open_orders[i])
            cancelled.append(open_orders[i])
        placed = []
        for i in place_idx:
            d = want[i]
            order = await self._place(d, market)
            old = moving.pop(d.key, None)
            if order is not None:
                placed.append(order)
            elif old is not None:
                logger.warning(
                    "stop {} kept: its replacement was not placed", open_orders[old].client_order_id
                )
                continue
            if old is not None:
                await self.broker.cancel_order(open_orders[old])
                self.state.record_order(open_orders[old])
                cancelled.append(open_orders[old])
        if placed:
            self.state.save({"sequences": dict(self.sequences)})
        return SyncResult(
            placed=tuple(placed), cancelled=tuple(cancelled), kept=len(open_orders) - len(cancelled)
        )

    async def _place(self, d: Planned, market: Market) -> Order | None:
        """Send one desired order (its intent durable first); None if it was not placed."""
        cid, seq = self._next_id(d.key)
        # a policy order carries its exact price and amount, converted by the same market
        # rules: reused rather than converted again (a Python-built order is converted here)
        exact = d if isinstance(d, DesiredOrder) else None
        if d.kind == "market":
            price = Decimal(0)
        elif exact is not None and exact.price is not None:
            price = exact.price
        else:
            price = market.ticks_to_price(d.price_ticks)
        order = Order(
            client_order_id=cid,
            symbol=self.symbol,
            side=_SIDES.get(d.side) or Side(d.side),
            price=price,
            amount=exact.amount if exact is not None else market.lots_to_amount(d.amount_lots),
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
            return None
        except OrderRejectedError as e:
            self._on_rejected(order, e)
            return None
        self._rejected.pop(d.key, None)
        self.rejections.pop(d.key, None)
        self.state.record_order(order)
        crash_point("ack_received")
        if not self._refusable and (d.kind == "market" or d.price_ticks > 0):
            # an in-process book lists the very order placed, at the price and amount built
            # from these ticks and lots: the next sync reads them without converting back
            # (an exchange's listing is converted from what it reports, as before)
            ticks = 1 if d.kind == "market" else d.price_ticks
            self._exact[cid] = (Decimal(0), ticks, d.amount_lots)
        return order

    def _on_rejected(self, order: Order, error: OrderRejectedError) -> None:
        """Record the rejection in state; log it once per change of reason; back off."""
        order.status = OrderStatus.REJECTED
        order.error = order.error or str(error)
        self.state.record_order(order)
        reason = order.error
        held = self._rejected.get(order.key)
        backoff = 1 if held is None or held[0] != reason else min(2 * held[2], REJECT_BACKOFF_MAX)
        self._rejected[order.key] = (reason, backoff, backoff)
        if self.rejections.get(order.key) != reason:
            self.rejections[order.key] = reason
            logger.warning(
                "order {} ({} {}) rejected by the exchange: {}; the other orders stand, "
                "it is retried after a backoff",
                order.client_order_id,
                order.side.value,
                order.key,
                reason,
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
        """Cancel every open order of this bot (never a manual order or another bot's)."""
        open_orders = await self.own_open_orders()
        for o in open_orders:
            await self.broker.cancel_order(o)
            self.state.record_order(o)
        return SyncResult(cancelled=tuple(open_orders))
