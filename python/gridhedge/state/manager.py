"""State managers: in memory (tests, RECOMMENDATION) behind the ``StateManager`` interface."""

from __future__ import annotations

import copy
import json
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
        return dict(json.loads(json.dumps(self._state)))

    def save(self, state: dict[str, Any]) -> None:
        # a JSON round trip: a snapshot, and the same values the SQLite store would keep
        self._state.update(json.loads(json.dumps(state, default=str)))

    def record_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = order

    def record_fill(self, fill: Fill) -> None:
        self._fills.setdefault(fill.trade_id, fill)

    def orders(self, live_only: bool = False) -> list[Order]:
        out = [copy.copy(o) for o in self._orders.values()]
        return [o for o in out if o.status.is_live] if live_only else out

    def fills(self) -> list[Fill]:
        return list(self._fills.values())
