"""State managers: in memory (tests, RECOMMENDATION) behind the ``StateManager`` interface."""

from __future__ import annotations

import copy
from typing import Any

from gridhedge.common.interfaces import StateManager
from gridhedge.common.types import Fill, Order


class MemoryStateManager(StateManager):
    """Keeps state in this process only (lost on exit)."""

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}
        self._orders: dict[str, Order] = {}
        self._fills: dict[str, Fill] = {}

    def load(self) -> dict[str, Any]:
        return copy.deepcopy(self._state)

    def save(self, state: dict[str, Any]) -> None:
        # values are kept as given (callers pass fresh objects); load() hands out copies
        self._state.update(state)

    def record_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = order

    def record_fill(self, fill: Fill) -> None:
        self._fills.setdefault(fill.trade_id, fill)

    def orders(self, live_only: bool = False) -> list[Order]:
        out = [copy.copy(o) for o in self._orders.values()]
        return [o for o in out if o.status.is_live] if live_only else out

    def fills(self) -> list[Fill]:
        return list(self._fills.values())
