"""What ccxt's unified API cannot express, one small adapter per exchange.

``CcxtBroker`` talks to every exchange through ccxt's unified methods (``create_order``,
``fetch_open_orders``, ``fetch_order``, ``cancel_order``, ``fetch_my_trades``,
``fetch_positions``, ``fetch_balance``, ``fetch_funding_rate(_history)``, ``fetch_ohlcv``) and
reads tick, lot and minimums from ccxt's market metadata. The rest differs per venue and lives
in a :class:`Venue`: the client-id alphabet and length, how a stop order is addressed, the
trade-history window and its paging, the error codes (which are retryable, which refuse the
keys, which mean "duplicate client id" or "clock skew") and the ccxt options that keep a client
to the routes the bot needs. Each adapter names the documented rule beside the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gridhedge.errors import ConfigError

__all__ = ["VENUES", "Venue", "venue_for"]


@dataclass(frozen=True)
class Venue:
    """One exchange's rules beside ccxt's unified API (see the module docstring)."""

    name: str
    """Short name used in configs and the CLI (``binance``, ``bybit``, ``okx``)."""
    futures_id: str
    """ccxt class of the USDT-margined perpetual account."""
    spot_id: str
    """ccxt class of the same exchange's spot account (the inventory)."""
    client_id_max: int
    """Longest client order id the exchange accepts (characters)."""
    client_id_chars: str
    """Regular expression of one allowed client-id character."""
    fills_window_ms: int
    """Longest span one trade-history request may cover (ms)."""
    fills_page: int
    """Most trades one trade-history answer holds."""
    retryable: frozenset[str]
    """Exchange codes of transient failures (overload, rate limit, clock skew)."""
    auth: frozenset[str]
    """Exchange codes that refuse the keys (a human must act; never retried)."""
    duplicate: frozenset[str]
    """Exchange codes of "this client order id is already used"."""
    clock: frozenset[str]
    """Exchange codes of a request outside the receive window (resync ccxt's clock first)."""
    code_pattern: re.Pattern[str]
    """Finds the exchange's error code in a ccxt exception's text (first group)."""
    message_pattern: re.Pattern[str]
    """Finds the exchange's error message in a ccxt exception's text (first group)."""
    options: dict[str, Any] = field(default_factory=dict)
    """ccxt constructor options of the futures client."""
    spot_options: dict[str, Any] = field(default_factory=dict)
    """ccxt constructor options of the spot client."""
    native_symbol_ok: bool = False
    """Whether the exchange's own market id (``BTCUSDT``) is accepted beside ccxt's symbol."""
    klines_max: int = 1000
    """Most candles one ``fetch_ohlcv`` answer holds (more are read in pages)."""
    cursor_keeps_window: bool = False
    """Whether the trade-history cursor is sent with the same time window (Bybit) or alone
    (Binance ``fromId``, which refuses a time range)."""
    position_mode_setting: str = "the exchange's position mode setting"
    """Where a trader switches the account to one-way mode (for the error that asks to)."""

    # ----------------------------------------------------------------- errors
    def code(self, error: BaseException) -> str | None:
        """The exchange's error code in a ccxt exception's text, else None."""
        m = self.code_pattern.search(str(error))
        return m.group(1) if m else None

    def message(self, error: BaseException) -> str:
        """The exchange's error message in a ccxt exception's text, else its class name."""
        m = self.message_pattern.search(str(error))
        return m.group(1) if m else type(error).__name__

    # ----------------------------------------------------------------- client ids
    def to_exchange_id(self, client_order_id: str) -> str:
        """The client id as sent to the exchange (identity unless the alphabet differs)."""
        self.check_client_id(client_order_id)
        return client_order_id

    def from_exchange_id(self, exchange_id: str) -> str:
        """The bot's client id from the one the exchange echoes (inverse of ``to_exchange_id``)."""
        return exchange_id

    def check_client_id(self, client_order_id: str) -> None:
        """Raise ``ConfigError`` when the exchange would refuse ``client_order_id``."""
        sent = self._encode(client_order_id)
        if len(sent) > self.client_id_max or not re.fullmatch(f"(?:{self.client_id_chars})+", sent):
            raise ConfigError(
                f"client_order_id: {client_order_id!r} is not a valid {self.name} client id",
                field="client_order_id",
                value=client_order_id,
                rule=f"at most {self.client_id_max} characters of {self.client_id_chars}",
            )

    def _encode(self, client_order_id: str) -> str:
        return client_order_id

    # ----------------------------------------------------------------- orders
    def stop_params(self, trigger_price: str, side: str) -> dict[str, Any]:
        """ccxt ``create_order`` params of a stop-market ``side`` order triggering at
        ``trigger_price``."""
        return {"triggerPrice": trigger_price}

    def lookup_params(self) -> dict[str, Any]:
        """Extra ccxt ``fetch_order`` params (e.g. an acknowledgement ccxt asks for)."""
        return {}

    def client_id_params(self, exchange_client_id: str) -> dict[str, Any]:
        """ccxt params that address an order by client id in fetch/cancel calls."""
        return {"clientOrderId": exchange_client_id}

    async def find_order(
        self,
        exchange: Any,
        symbol: str,
        *,
        client_id: str | None = None,
        order_id: str | None = None,
        stop: bool = False,
    ) -> dict[str, Any] | None:
        """ccxt's unified order by exchange client id or order id, None when the exchange
        does not know it (``fetch_order``)."""
        import ccxt.async_support as ccxt  # type: ignore[import-untyped]

        params = {
            **(self.client_id_params(client_id) if client_id is not None else {}),
            **self.lookup_params(),
            **(self.stop_query() if stop else {}),
        }
        try:
            found: dict[str, Any] = await exchange.fetch_order(order_id, symbol, params)
            return found
        except ccxt.OrderNotFound:
            return None

    def stop_query(self) -> dict[str, Any]:
        """Params that address stop (trigger) orders in fetch/cancel/open-orders calls; empty
        when the exchange lists them with the plain orders."""
        return {"trigger": True}

    def limit_params(self) -> dict[str, Any]:
        """ccxt ``create_order`` params of every resting limit order (good till cancelled)."""
        return {"timeInForce": "GTC"}

    # ----------------------------------------------------------------- trades
    def trades_params(self) -> dict[str, Any]:
        """Extra ``fetch_my_trades`` params that keep the answer to trades."""
        return {}

    def next_trades_params(self, page: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Params of the page after a full trade-history page (the raw rows' ``info``); None
        when the exchange has no cursor (the broker then splits the time window)."""
        return None

    # ----------------------------------------------------------------- accounts
    def equity(self, balance: dict[str, Any]) -> Decimal:
        """The futures account's margin balance (wallet + unrealised PnL, quote) as the
        exchange writes it in ``fetch_balance``'s raw answer."""
        raise NotImplementedError

    def entry_price(self, position: dict[str, Any]) -> Decimal:
        """A unified position's average entry price (quote per base)."""
        return Decimal(str(position["entryPrice"]))

    def funding_amount(self, row: dict[str, Any]) -> Decimal:
        """A unified funding-history row's amount (quote; + received)."""
        return Decimal(str(row["amount"]))

    def spot_total(self, balance: dict[str, Any], asset: str) -> Decimal:
        """Free + locked ``asset`` in a spot ``fetch_balance`` answer."""
        total = (balance.get("total") or {}).get(asset)
        return Decimal(str(total)) if total is not None else Decimal(0)

    def prepare(self, exchange: Any, *, local: bool) -> None:
        """Adjust a constructed ccxt client (``local``: it talks to an emulator)."""

    async def hedge_mode(self, exchange: Any, symbol: str) -> bool:
        """Whether the account keeps two-sided (hedge-mode) positions on ``symbol`` (ccxt's
        unified ``fetch_position_mode``); the bot trades one net position per symbol."""
        return bool((await exchange.fetch_position_mode(symbol))["hedged"])


def _registry() -> dict[str, Venue]:
    from gridhedge.execution.venues.binance import BINANCE
    from gridhedge.execution.venues.bybit import BYBIT
    from gridhedge.execution.venues.okx import OKX

    out: dict[str, Venue] = {}
    for v in (BINANCE, BYBIT, OKX):
        out[v.name] = v
        out[v.futures_id] = v
    return out


VENUES: tuple[str, ...] = ("binance", "bybit", "okx")
"""Exchanges the bot trades on (USDT-margined perpetuals)."""


def venue_for(exchange_id: str) -> Venue:
    """The adapter of ``exchange_id`` (a venue name or its ccxt futures class id); a clear
    ``ConfigError`` for any other."""
    found = _registry().get(exchange_id)
    if found is None:
        raise ConfigError(
            f"exchange: {exchange_id!r} is not supported",
            field="exchange",
            value=repr(exchange_id),
            rule="must be one of binance (binanceusdm), bybit, okx",
        )
    return found
