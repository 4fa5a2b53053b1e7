"""ccxt pointed at a local emulator: URL overrides and the options that keep it to the routes
the emulator serves (see ``shared/notes/ccxt-local-exchange.md``).

ccxt maps Binance's market-specific error codes (``-4116`` duplicate client id, ``-4164`` min
notional, ``-2019`` margin) only for the real hostnames; ``use_linear_errors`` installs them for
any URL so a local server raises the same ccxt classes as the real exchange.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

__all__ = [
    "LOCAL_OPTIONS",
    "binance_spot",
    "binanceusdm",
    "bybit",
    "point_at",
    "use_linear_errors",
]

LOCAL_OPTIONS: dict[str, Any] = {
    "fetchCurrencies": False,
    "fetchMargins": False,
    "adjustForTimeDifference": False,
    "warnOnFetchOpenOrdersWithoutSymbol": False,
}


def point_at(exchange: Any, base_url: str) -> None:
    """Rewrite every ``urls['api']`` entry of a ccxt class to ``base_url`` + its path (Binance:
    ``/fapi/v1`` ...; Bybit's ``https://api.{hostname}`` entries have none)."""
    base = base_url.rstrip("/")
    api = exchange.urls["api"]
    for key, value in list(api.items()):
        if isinstance(value, str):
            api[key] = base + urlsplit(value).path


def use_linear_errors(exchange: Any) -> None:
    """Apply USD-M's own error codes whatever the URL (ccxt keys them by hostname)."""
    for kind in ("exact", "broad"):
        exchange.exceptions[kind] = {
            **exchange.exceptions[kind],
            **exchange.exceptions["linear"].get(kind, {}),
        }


def _config(api_key: str, secret: str, timeout_ms: int, extra: dict[str, Any]) -> dict[str, Any]:
    options = {**LOCAL_OPTIONS, **extra.pop("options", {})}
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": False,
        "timeout_on_exit": 0,
        "timeout": timeout_ms,
        "options": options,
        **extra,
    }


def binanceusdm(
    base_url: str, api_key: str, secret: str, *, timeout_ms: int = 10_000, **extra: Any
) -> Any:
    """An async ccxt ``binanceusdm`` talking to ``base_url`` (e.g. ``http://127.0.0.1:PORT``)."""
    ex = ccxt_async.binanceusdm(_config(api_key, secret, timeout_ms, dict(extra)))
    point_at(ex, base_url)
    use_linear_errors(ex)
    return ex


def binance_spot(
    base_url: str, api_key: str, secret: str, *, timeout_ms: int = 10_000, **extra: Any
) -> Any:
    """An async ccxt ``binance`` (spot markets only) talking to ``base_url``."""
    extra = dict(extra)
    extra["options"] = {"fetchMarkets": {"types": ["spot"]}, **extra.get("options", {})}
    ex = ccxt_async.binance(_config(api_key, secret, timeout_ms, extra))
    point_at(ex, base_url)
    return ex


def bybit(
    base_url: str, api_key: str, secret: str, *, timeout_ms: int = 10_000, spot: bool = False
) -> Any:
    """An async ccxt ``bybit`` (its linear perpetuals, or its spot markets when ``spot``)
    talking to an emulator in the Bybit dialect, with the bot's own options
    (``gridhedge.execution.venues.bybit``)."""
    from gridhedge.execution.ccxt_broker import make_exchange
    from gridhedge.execution.secrets import ApiKeys

    keys = ApiKeys(api_key=api_key, secret=secret)  # type: ignore[arg-type]
    return make_exchange(
        keys, exchange_id="bybit", base_url=base_url, timeout_ms=timeout_ms, spot=spot
    )
