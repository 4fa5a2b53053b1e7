"""Binance USD-M futures beside ccxt's unified API.

Sources: developers.binance.com/docs/derivatives/usds-margined-futures (error-code,
trade/rest-api/New-Order, New-Algo-Order, Account-Trade-List) and ccxt's ``binance.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from gridhedge.execution.venues import Venue

__all__ = ["BINANCE", "BinanceVenue"]

WEEK_MS = 7 * 24 * 3600 * 1000


class BinanceVenue(Venue):
    def next_trades_params(self, page: list[dict[str, Any]]) -> dict[str, Any] | None:
        """``userTrades``: ``fromId`` may not be combined with a time range (-1128): a full
        page continues from the trade after its last."""
        return {"fromId": int(page[-1]["id"]) + 1}

    def entry_price(self, position: dict[str, Any]) -> Decimal:
        """``positionRisk``'s ``entryPrice`` string (more digits than a float keeps)."""
        return Decimal(str(position["info"]["entryPrice"]))

    def funding_amount(self, row: dict[str, Any]) -> Decimal:
        """``income``'s ``income`` string (``incomeType=FUNDING_FEE``)."""
        return Decimal(str(row["info"]["income"]))

    def equity(self, balance: dict[str, Any]) -> Decimal:
        """``/fapi/v3/account``'s ``totalMarginBalance`` (wallet + unrealised PnL)."""
        return Decimal(str(balance["info"]["totalMarginBalance"]))

    def prepare(self, exchange: Any, *, local: bool) -> None:
        """ccxt maps USD-M's own codes (-4116 duplicate, -4164 min notional, -2019 margin)
        only for Binance's hostnames: install them for any URL."""
        for kind in ("exact", "broad"):
            exchange.exceptions[kind] = {
                **exchange.exceptions[kind],
                **exchange.exceptions["linear"].get(kind, {}),
            }


BINANCE = BinanceVenue(
    name="binance",
    # Change Position Mode: POST /fapi/v1/positionSide/dual, account-wide
    position_mode_setting="Position Mode: One-way, or positionSide/dual dualSidePosition=false",
    futures_id="binanceusdm",
    spot_id="binance",
    # New Order: newClientOrderId matches ^[\.A-Z\:/a-z0-9_-]{1,36}$
    client_id_max=36,
    client_id_chars=r"[.A-Z:/a-z0-9_-]",
    # Account Trade List: endTime - startTime <= 7 days; limit <= 1000
    fills_window_ms=WEEK_MS - 1,
    fills_page=1000,
    retryable=frozenset(
        {
            "-1000",  # UNKNOWN
            "-1001",  # DISCONNECTED
            "-1003",  # TOO_MANY_REQUESTS (429, then 418 bans)
            "-1006",  # UNEXPECTED_RESP
            "-1007",  # TIMEOUT
            "-1008",  # SERVER_BUSY / request throttled
            "-1015",  # TOO_MANY_ORDERS
            "-1021",  # INVALID_TIMESTAMP (resync, then retry)
        }
    ),
    auth=frozenset(
        {
            "-1002",  # UNAUTHORIZED
            "-1022",  # INVALID_SIGNATURE
            "-2014",  # BAD_API_KEY_FMT
            "-2015",  # REJECTED_MBX_KEY: invalid key, IP or permissions
            "-2017",  # API keys locked
        }
    ),
    duplicate=frozenset({"-4116"}),  # DUPLICATED_CLIENT_ORDER_ID
    clock=frozenset({"-1021"}),
    code_pattern=re.compile(r'"code"\s*:\s*(-?\d+)'),
    message_pattern=re.compile(r'"msg"\s*:\s*"([^"]*)"'),
    options={"fetchCurrencies": False, "fetchMargins": False},
    spot_options={
        "fetchCurrencies": False,
        "fetchMargins": False,
        "fetchMarkets": {"types": ["spot"]},
    },
    native_symbol_ok=True,
    klines_max=1000,  # Kline/Candlestick Data: limit <= 1500, but ccxt asks for 1000 at most
)
