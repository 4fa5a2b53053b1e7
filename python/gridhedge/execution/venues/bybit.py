"""Bybit v5 USDT linear perpetuals beside ccxt's unified API.

Sources: bybit-exchange.github.io/docs/v5 (error, order/create-order, order/open-order,
order/execution, position) and ccxt's ``bybit.py`` (its ``exceptions`` table maps the codes
below to the classes named).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from gridhedge.execution.venues import Venue

__all__ = ["BYBIT", "BybitVenue"]

WEEK_MS = 7 * 24 * 3600 * 1000


class BybitVenue(Venue):
    def stop_params(self, trigger_price: str, side: str) -> dict[str, Any]:
        """Create Order: a conditional order needs ``triggerDirection`` (1: triggered when
        the price rises to ``triggerPrice``, 2: when it falls); a stop buy protects a short
        against a rise, a stop sell a long against a fall."""
        return {
            "triggerPrice": trigger_price,
            "triggerDirection": "ascending" if side == "buy" else "descending",
        }

    def stop_query(self) -> dict[str, Any]:
        """Get Open Orders (linear): conditional orders are listed with the others."""
        return {}

    def client_id_params(self, exchange_client_id: str) -> dict[str, Any]:
        """Cancel Order / Get Open Orders take ``orderLinkId`` (ccxt passes it through)."""
        return {"orderLinkId": exchange_client_id}

    async def find_order(
        self,
        exchange: Any,
        symbol: str,
        *,
        client_id: str | None = None,
        order_id: str | None = None,
        stop: bool = False,
    ) -> dict[str, Any] | None:
        """Get Open Orders (``/v5/order/realtime``), then Get Order History
        (``/v5/order/history``), by ``orderLinkId`` or ``orderId``: ccxt's ``fetch_order``
        needs an order id and reads only the realtime list."""
        query = {"orderLinkId": client_id} if client_id is not None else {"orderId": order_id}
        rows = await exchange.fetch_open_orders(symbol, None, None, dict(query))
        if not rows:
            rows = await exchange.fetch_canceled_and_closed_orders(symbol, None, None, dict(query))
        return dict(rows[0]) if rows else None

    def equity(self, balance: dict[str, Any]) -> Decimal:
        """Get Wallet Balance (unified account): the USDT coin's ``equity`` (wallet +
        unrealised PnL). Not ``totalEquity``: in a unified account that also counts the spot
        inventory, which the broker adds at the last price itself."""
        account = balance["info"]["result"]["list"][0]
        usdt = next(c for c in account["coin"] if c["coin"] == "USDT")
        return Decimal(str(usdt["equity"]))

    def next_trades_params(self, page: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Get Trade History pages by ``cursor`` = the answer's ``nextPageCursor`` (ccxt
        writes it into the first row), with the same time window."""
        cursor = next((r["nextPageCursor"] for r in page if r.get("nextPageCursor")), None)
        return {"cursor": cursor} if cursor else None

    def trades_params(self) -> dict[str, Any]:
        """Get Trade History lists funding settlements too unless ``execType=Trade``."""
        return {"execType": "Trade"}

    def funding_amount(self, row: dict[str, Any]) -> Decimal:
        """Get Trade History with ``execType=Funding``: ``execFee`` is what the account paid
        (> 0) or received (< 0); the broker counts received as +."""
        return -Decimal(str(row["info"]["execFee"]))

    async def hedge_mode(self, exchange: Any, symbol: str) -> bool:
        """Get Position Info: ``positionIdx`` 0 is one-way mode, 1 and 2 the hedge-mode Buy
        and Sell legs (ccxt's ``hedged``); a symbol is listed even without a position. ccxt
        has no ``fetch_position_mode`` for Bybit."""
        rows = await exchange.fetch_positions([symbol])
        return any(r.get("hedged") is True for r in rows if r.get("symbol") == symbol)

    def prepare(self, exchange: Any, *, local: bool) -> None:
        """``load_markets`` calls the private ``/v5/asset/coin/query-info`` whenever keys are
        set (ccxt ignores the ``fetchCurrencies`` option here): coin networks the bot never
        needs, so ``has['fetchCurrencies']`` is turned off."""
        exchange.has["fetchCurrencies"] = False


BYBIT = BybitVenue(
    name="bybit",
    # Switch Position Mode: POST /v5/position/switch-mode, per symbol or settle coin
    position_mode_setting="Position Mode: One-Way, or /v5/position/switch-mode mode 0",
    futures_id="bybit",
    spot_id="bybit",
    # Create Order: orderLinkId at most 36 characters of numbers, letters, "-" and "_"
    client_id_max=36,
    client_id_chars=r"[A-Za-z0-9_-]",
    # Get Trade History (execution/list): endTime - startTime <= 7 days; limit <= 100
    fills_window_ms=WEEK_MS - 1,
    fills_page=100,
    retryable=frozenset(
        {
            "10000",  # server timeout
            "10002",  # request not within recv_window (ccxt InvalidNonce)
            "10006",  # too many visits (ccxt RateLimitExceeded)
            "10016",  # server error / service not available
            "10018",  # exceeded the IP rate limit
            "10019",  # service restarting
        }
    ),
    auth=frozenset(
        {
            "10003",  # invalid API key
            "10004",  # signature error
            "10005",  # permission denied for this key
            "10007",  # user authentication failed
            "10009",  # IP banned
            "10010",  # unmatched IP (allow-list)
            "33004",  # API key expired
        }
    ),
    duplicate=frozenset({"110072"}),  # OrderLinkedID is duplicate
    cursor_keeps_window=True,
    klines_max=1000,  # Get Kline: limit <= 1000
    clock=frozenset({"10002"}),
    code_pattern=re.compile(r'"retCode"\s*:\s*(\d+)'),
    message_pattern=re.compile(r'"retMsg"\s*:\s*"([^"]*)"'),
    # linear only: the default also loads spot, inverse and option instruments; currencies
    # need a private asset route the bot never uses
    options={
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["linear"]},
        "defaultType": "swap",
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
    },
    spot_options={
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["spot"]},
        "defaultType": "spot",
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
    },
)
