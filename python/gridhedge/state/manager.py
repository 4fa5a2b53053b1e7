"""State managers: in memory (tests, RECOMMENDATION) behind the ``StateManager`` interface."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from gridhedge.common.interfaces import StateManager
from gridhedge.common.types import Fill, Order


class MemoryStateManager(StateManager):
    """Keeps state in this process only (lost on exit)."""

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}
        self._orders: dict[str, Order] = {}
        self._fills: dict[tuple[str, str, str], Fill] = {}
        # each order's filled amount by its fills, (client order id, symbol) -> amount: kept as
        # fills are recorded, so an order's merge costs O(1) however many fills the run holds
        self._filled: dict[tuple[str, str], Decimal] = {}

    def load(self) -> dict[str, Any]:
        return copy.deepcopy(self._state)

    def save(self, state: dict[str, Any]) -> None:
        # values are kept as given (callers pass fresh objects); load() hands out copies
        self._state.update(state)

    def record_order(self, order: Order) -> None:
        known = self._orders.get(order.client_order_id)
        if known is not None and known is not order:
            status = order.status
            order.filled, order.status = max(order.filled, known.filled), known.status
            order.merge(max(order.filled, self._filled_by_fills(order)), status)
        self._orders[order.client_order_id] = order

    def _filled_by_fills(self, order: Order) -> Decimal:
        return self._filled.get((order.client_order_id, order.symbol), Decimal(0))

    def record_fill(self, fill: Fill) -> bool:
        key = (fill.exchange, fill.symbol, fill.trade_id)
        if key in self._fills:
            return False
        self._fills[key] = fill
        by_order = (fill.client_order_id, fill.symbol)
        self._filled[by_order] = self._filled.get(by_order, Decimal(0)) + fill.amount
        order = self._orders.get(fill.client_order_id)
        if order is not None:  # the order follows its fills
            order.merge(self._filled_by_fills(order), order.status)
        return True

    def orders(self, live_only: bool = False) -> list[Order]:
        out = [copy.copy(o) for o in self._orders.values()]
        return [o for o in out if o.status.is_live] if live_only else out

    def fills(self) -> list[Fill]:
        return list(self._fills.values())
