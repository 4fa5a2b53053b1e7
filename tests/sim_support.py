"""Helpers for the emulator tests: seeded bars, an exchange on them, ccxt clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gridhedge._core import Market
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    Bars,
    SimExchange,
    SimServer,
    SymbolSpec,
)
from gridhedge.sim.client import binance_spot, binanceusdm

MARKET = Market("0.10", "0.001", "0.001", "100")
PERP = "BTC/USDT:USDT"


def seeded_bars(seed: int = 7, n: int = 300, start_price: float = 60_000.0) -> Bars:
    """Hourly synthetic bars with their funding series (``gridhedge.data.synthetic``)."""
    return Bars.from_candles(
        synthetic_candles(seed=seed, bars=n, timeframe="1h", start_price=start_price)
    )


def make_exchange(bars: Bars | None = None, *, start_bar: int = 50, **kw: Any) -> SimExchange:
    spec = SymbolSpec(  # pricePrecision 2 with a 0.10 tick, as Binance's BTCUSDT
        "BTCUSDT", "BTC", MARKET, bars if bars is not None else seeded_bars(), price_precision=2
    )
    kw.setdefault("spot_balances", {"BTC": "1.5", "USDT": "2500"})
    return SimExchange([spec], start_bar=start_bar, **kw)


@asynccontextmanager
async def running(
    exchange: SimExchange | None = None, **server_kw: Any
) -> AsyncIterator[tuple[SimServer, Any]]:
    """A started emulator on 127.0.0.1 (port 0) and an async ccxt binanceusdm pointed at it."""
    sim = SimServer(exchange if exchange is not None else make_exchange(), **server_kw)
    await sim.start()
    ex = binanceusdm(sim.url, DEFAULT_API_KEY, DEFAULT_API_SECRET, timeout_ms=2000)
    try:
        yield sim, ex
    finally:
        await ex.close()
        await sim.stop()


def spot_client(sim: SimServer) -> Any:
    return binance_spot(sim.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)


def plain_client(sim: SimServer, **config: Any) -> Any:
    """An unmodified async ccxt ``binanceusdm`` with default options; only its URLs point at
    the emulator (``enableRateLimit`` off: the tests measure the emulator's limits)."""
    import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

    from gridhedge.sim.client import point_at

    ex = ccxt_async.binanceusdm(
        {
            "apiKey": DEFAULT_API_KEY,
            "secret": DEFAULT_API_SECRET,
            "enableRateLimit": False,
            "timeout": 5000,
            **config,
        }
    )
    point_at(ex, sim.url)
    return ex
