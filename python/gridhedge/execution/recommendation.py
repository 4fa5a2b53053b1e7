"""RECOMMENDATION mode: the bot computes and reports its plan; nothing is placed anywhere.

``RecommendationBroker`` plans over a replayed market (offline, like PAPER);
``gridhedge.execution.ccxt_broker.LiveRecommendationBroker`` plans for the real account.
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any

from loguru import logger

from gridhedge.common.types import Order, OrderStatus, TradingMode
from gridhedge.execution.paper import PaperBroker


class RecommendationBroker(PaperBroker):
    """Reads the market and book like PAPER but places nothing: each plan is logged, written
    to ``plan_path`` as JSON and returned by ``GridHedgeBot.execute``."""

    trading_mode = TradingMode.RECOMMENDATION

    def __init__(self, *args: Any, plan_path: str | pathlib.Path | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plan_path = pathlib.Path(plan_path) if plan_path is not None else None
        self.plan: list[Order] = []

    async def fetch_open_orders(self, symbol: str) -> list[Order]:
        self._check_symbol(symbol)
        return []

    async def place_order(self, order: Order, kind: str = "limit") -> Order:
        self._check_symbol(order.symbol)
        order.kind = kind
        order.status = OrderStatus.INTENT
        self.plan.append(order)
        return order

    async def cancel_order(self, order: Order) -> None:
        return None

    def publish_plan(self, report: dict[str, Any]) -> None:
        """Log the plan and write it (with the report) as JSON to ``plan_path``."""
        publish_plan(self.plan, self.plan_path, report)
        self.plan = []


def publish_plan(plan: list[Order], plan_path: pathlib.Path | None, report: dict[str, Any]) -> None:
    """Log each planned order and write them (with the report) as JSON to ``plan_path``."""
    orders = [
        {
            "client_order_id": o.client_order_id,
            "key": o.key,
            "kind": o.kind,
            "side": o.side.value,
            "price": str(o.price),
            "amount": str(o.amount),
        }
        for o in plan
    ]
    for o in orders:
        logger.info(
            "Recommend {kind} {side} {amount} @ {price} ({key})",
            **{k: o[k] for k in ("kind", "side", "amount", "price", "key")},
        )
    if plan_path is not None:
        plan_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {**report, "orders": orders}
        plan_path.write_text(json.dumps(payload, indent=2, default=_json_default))


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
