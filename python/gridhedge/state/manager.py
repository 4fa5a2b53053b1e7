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
        self.orders: dict[str, Order] = {}
        self.fills: dict[str, Fill] = {}

    def load(self) -> dict[str, Any]:
        return copy.deepcopy(self._state)

    def save(self, state: dict[str, Any]) -> None:
        self._state.update(copy.deepcopy(state))

    def record_order(self, order: Order) -> None:
        self.orders[order.client_order_id] = copy.copy(order)

    def record_fill(self, fill: Fill) -> None:
        self.fills.setdefault(fill.trade_id, fill)
