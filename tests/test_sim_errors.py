"""Binance-shaped error answers make ccxt raise its own exception classes."""

from __future__ import annotations

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from gridhedge.sim import DEFAULT_API_KEY
from gridhedge.sim.client import binanceusdm
from tests.sim_support import PERP, make_exchange, running


async def test_order_errors_map_to_ccxt_classes() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        last = float(sim.exchange.last_price("BTCUSDT"))
        low = round(last * 0.9, 1)
        with pytest.raises(ccxt.OrderNotFound, match="-2013"):
            await ex.fetch_order("999", PERP)
        with pytest.raises(ccxt.OrderNotFound, match="-2011"):
            await ex.cancel_order("999", PERP)
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order(None, PERP, {"clientOrderId": "never-sent"})
        # min notional (-4164, a linear-only code: needs the broker's exception merge)
        with pytest.raises(ccxt.InvalidOrder, match="-4164"):
            await ex.create_order(PERP, "limit", "buy", 0.001, low)
        # duplicate live client id (-4116)
        await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": "dup-1"})
        with pytest.raises(ccxt.InvalidOrder, match="-4116"):
            await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": "dup-1"})
        # once it is gone the id may be reused
        await ex.cancel_order(None, PERP, {"clientOrderId": "dup-1"})
        await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": "dup-1"})
        # client id longer than 36 characters (-4015)
        with pytest.raises(ccxt.BadRequest, match="-4015"):
            await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": "x" * 37})
        # off-tick price and off-lot amount bypassing ccxt's own rounding (USD-M's codes)
        raw = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
        with pytest.raises(ccxt.ExchangeError, match="-4014"):
            await ex.fapiPrivatePostOrder({**raw, "quantity": "0.010", "price": f"{low}5"})
        with pytest.raises(ccxt.BadRequest, match="-1111"):
            await ex.fapiPrivatePostOrder({**raw, "quantity": "0.0105", "price": str(low)})
        with pytest.raises(ccxt.InsufficientFunds, match="-2019"):
            await ex.create_order(PERP, "limit", "buy", 100, low)
        with pytest.raises(ccxt.InvalidOrder, match="-2022"):
            await ex.create_order(PERP, "limit", "buy", 0.01, low, {"reduceOnly": True})
        with pytest.raises(ccxt.BadSymbol, match="-1121"):
            await ex.fapiPrivateGetOpenOrders({"symbol": "NOPEUSDT"})
        # a post-only order that would take is refused, as USD-M does (-5022)
        with pytest.raises(ccxt.OrderNotFillable, match="-5022"):
            await ex.create_order(
                PERP, "limit", "buy", 0.01, round(last * 1.01, 1), {"postOnly": True}
            )


async def test_signature_key_and_time_window_are_checked_on_wall_clock() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        bad = binanceusdm(sim.url, DEFAULT_API_KEY, "wrong-secret")
        wrong_key = binanceusdm(sim.url, "nobody", "x")
        late = binanceusdm(
            sim.url, DEFAULT_API_KEY, "sim-secret", options={"timeDifference": 60_000}
        )
        try:
            with pytest.raises(ccxt.AuthenticationError, match="-1022"):
                await bad.fapiPrivateGetOpenOrders()
            with pytest.raises(ccxt.AuthenticationError, match="-2015"):
                await wrong_key.fapiPrivateGetOpenOrders()
            with pytest.raises(ccxt.InvalidNonce, match="-1021"):
                await late.fapiPrivateGetOpenOrders()
        finally:
            for client in (bad, wrong_key, late):
                await client.close()
        # public routes need no key
        assert await ex.fetch_ticker(PERP)
        # the replay clock is not the signing clock: advancing the market changes nothing
        sim.advance(100)
        assert await ex.fetch_open_orders(PERP) == []


async def test_clock_skew_knob_breaks_the_window_until_the_client_adjusts() -> None:
    exchange = make_exchange()
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        sim.faults.clock_skew_ms = 30_000  # server ahead: requests look 30 s old
        with pytest.raises(ccxt.InvalidNonce):
            await ex.fetch_open_orders(PERP)
        server_time = await ex.fetch_time()
        ex.options["timeDifference"] = -(server_time - ex.milliseconds()) - 100
        assert await ex.fetch_open_orders(PERP) == []
