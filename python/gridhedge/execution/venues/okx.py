"""OKX USDT-margined swaps beside ccxt's unified API.

Sources: www.okx.com/docs-v5/en (error codes; Trade: place order, place algo order, fills
history; Account: balance) and ccxt's ``okx.py`` (its ``exceptions`` table).

Two rules the unified API does not hide: a swap's amount is in contracts (``ctVal`` base each:
the broker converts with the market's ``contractSize``), and ``clOrdId`` allows letters and
digits only (the bot's ``-`` and ``_`` are sent as ``Z`` and ``Y``, which its lowercase ids
never contain, and decoded back). The account must be in net (one-way) position mode, like the
others: long/short mode needs ``posSide`` on every order and is refused here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from gridhedge.errors import ConfigError
from gridhedge.execution.venues import Venue

__all__ = ["OKX", "OkxVenue"]

DAY_MS = 24 * 3600 * 1000
_ENCODE = str.maketrans({"-": "Z", "_": "Y"})
_DECODE = str.maketrans({"Z": "-", "Y": "_"})
_S_CODE = re.compile(r'"sCode"\s*:\s*"([1-9]\d*)"')


class OkxVenue(Venue):
    def _encode(self, client_order_id: str) -> str:
        return client_order_id.translate(_ENCODE)

    def to_exchange_id(self, client_order_id: str) -> str:
        """``clOrdId``/``algoClOrdId``: 1-32 letters and digits; ``-``/``_`` encoded."""
        if any(c.isupper() for c in client_order_id):
            raise ConfigError(
                f"client_order_id: {client_order_id!r} has upper-case letters, which the "
                "OKX encoding of '-' and '_' reserves",
                field="client_order_id",
                value=client_order_id,
                rule="lower-case letters, digits, '-' and '_' only",
            )
        self.check_client_id(client_order_id)
        return self._encode(client_order_id)

    def from_exchange_id(self, exchange_id: str) -> str:
        return exchange_id.translate(_DECODE)

    def code(self, error: BaseException) -> str | None:
        """Per-order failures carry ``data[].sCode`` under an envelope ``code`` of "1"; the
        order's own code is the one that classifies it."""
        text = str(error)
        m = _S_CODE.search(text)
        if m:
            return m.group(1)
        return super().code(error)

    def equity(self, balance: dict[str, Any]) -> Decimal:
        """Get Balance: the USDT detail's ``eq`` (cash + unrealised PnL). Not ``totalEq``:
        that also counts the spot inventory held in the same trading account, which the
        broker adds at the last price itself."""
        details = balance["info"]["data"][0]["details"]
        usdt = next(d for d in details if d["ccy"] == "USDT")
        return Decimal(str(usdt["eq"]))

    def prepare(self, exchange: Any, *, local: bool) -> None:
        """``load_markets`` would call the private ``/asset/currencies`` when keys are set:
        deposit/withdrawal networks the bot never needs."""
        exchange.has["fetchCurrencies"] = False


OKX = OkxVenue(
    name="okx",
    # Set position mode: POST /api/v5/account/set-position-mode, account-wide
    position_mode_setting="Position mode: net_mode, or account/set-position-mode",
    futures_id="okx",
    spot_id="okx",
    client_id_max=32,
    client_id_chars=r"[A-Za-z0-9]",
    # Get transaction details (last 3 months, fills-history): limit <= 100; read in 3-day spans
    # like /trade/fills so one page per span is the common case
    fills_window_ms=3 * DAY_MS - 1,
    fills_page=100,
    retryable=frozenset(
        {
            "50001",  # service temporarily unavailable / matching engine upgrading
            "50004",  # endpoint request timeout (order state unknown: look it up)
            "50011",  # rate limit reached
            "50013",  # system busy
            "50026",  # system error
            "50102",  # timestamp request expired
        }
    ),
    auth=frozenset(
        {
            "50105",  # OK-ACCESS-PASSPHRASE incorrect
            "50110",  # IP not in the allow-list
            "50111",  # invalid OK-ACCESS-KEY
            "50113",  # invalid signature
            "50114",  # invalid authorization
        }
    ),
    duplicate=frozenset({"51016"}),  # duplicated clOrdId
    klines_max=100,  # Get candlesticks: limit <= 300; history candlesticks (older): <= 100
    clock=frozenset({"50102"}),
    code_pattern=re.compile(r'"code"\s*:\s*"([1-9]\d*)"'),
    message_pattern=re.compile(r'"s?[Mm]sg"\s*:\s*"([^"]+)"'),
    # one order, one request: "Place order" (ccxt defaults to "Place multiple orders", whose
    # per-order answer is the same but whose rate limit is shared with batches)
    options={
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["swap"]},
        "defaultType": "swap",
        "createOrder": "privatePostTradeOrder",
    },
    spot_options={
        "fetchCurrencies": False,
        "fetchMarkets": {"types": ["spot"]},
        "defaultType": "spot",
    },
)
