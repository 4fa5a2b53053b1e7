"""Every emulator endpoint through ccxt's unmodified async ``binanceusdm``/``binance``."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from gridhedge.sim import SimServer
from gridhedge.sim.cli import load_bars
from tests.sim_support import PERP, make_exchange, running, seeded_bars, spot_client


async def test_load_markets_is_one_request_and_filters_become_precision() -> None:
    async with running() as (sim, ex):
        markets = await ex.load_markets()
        assert list(sim.requests) == [("GET", "/fapi/v1/exchangeInfo")]
        m = markets[PERP]
        assert (m["swap"], m["linear"], m["settle"]) == (True, True, "USDT")
        assert (m["precision"]["price"], m["precision"]["amount"]) == (0.1, 0.001)
        assert m["limits"]["cost"]["min"] == 100.0
        assert m["limits"]["amount"]["min"] == 0.001
        assert m["info"]["filters"][0]["tickSize"] == "0.1"


async def test_public_market_data_is_the_replayed_bars() -> None:
    exchange = make_exchange()
    bars = exchange.books["BTCUSDT"].spec.bars
    async with running(exchange) as (sim, ex):
        k = exchange.bar
        ohlcv = await ex.fetch_ohlcv(PERP, "1h", limit=10)
        assert len(ohlcv) == 10
        assert ohlcv[-1][0] == int(bars.open_time_ms[k])
        assert ohlcv[-1][4] == float(exchange.last_price("BTCUSDT"))  # on the tick
        four = await ex.fetch_ohlcv(PERP, "4h", limit=3)
        assert four[-1][0] % (4 * 3_600_000) == 0
        since = await ex.fetch_ohlcv(PERP, "1h", since=int(bars.open_time_ms[3]), limit=2)
        assert [r[0] for r in since] == [int(bars.open_time_ms[3]), int(bars.open_time_ms[4])]
        minutes = await ex.fetch_ohlcv(PERP, "1m", limit=60)  # cut from the last bar
        assert [r[0] for r in minutes] == [
            int(bars.open_time_ms[k]) + 60_000 * i for i in range(60)
        ]
        assert (minutes[0][1], minutes[-1][4]) == (ohlcv[-1][1], ohlcv[-1][4])
        with pytest.raises(ccxt.BadRequest):
            await ex.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
        ticker = await ex.fetch_ticker(PERP)
        assert ticker["last"] == pytest.approx(float(exchange.last_price("BTCUSDT")))
        assert ticker["timestamp"] == exchange.now_ms - 1
        book = await ex.fetch_order_book(PERP, 5)
        assert len(book["bids"]) == 5 and book["asks"][0][0] - book["bids"][0][0] == (
            pytest.approx(0.2)  # one tick each side of the last price
        )
        bidask = await ex.fetch_bids_asks([PERP])
        assert bidask[PERP]["bid"] == book["bids"][0][0]
        rate = await ex.fetch_funding_rate(PERP)
        assert rate["fundingRate"] == pytest.approx(bars.funding_rate_at(exchange.now_ms))
        assert rate["fundingTimestamp"] % (8 * 3_600_000) == 0
        history = await ex.fetch_funding_rate_history(PERP, limit=1000)
        assert [h["timestamp"] for h in history] == [
            t for t in bars.funding_time_ms.tolist() if bars.open_time_ms[0] < t <= exchange.now_ms
        ]
        assert await ex.fetch_time() > 1_700_000_000_000
        sim.advance(3)
        assert (await ex.fetch_ticker(PERP))["timestamp"] == exchange.now_ms - 1
        assert sim.unhandled == []


async def test_order_lifecycle_and_account_endpoints() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        balance = await ex.fetch_balance()
        assert balance["USDT"]["total"] == 10000.0
        last = float(sim.exchange.last_price("BTCUSDT"))
        buy = await ex.create_order(
            PERP, "limit", "buy", 0.01, round(last * 0.9, 1), {"clientOrderId": "gh-b1"}
        )
        assert (buy["status"], buy["clientOrderId"], buy["amount"]) == ("open", "gh-b1", 0.01)
        assert buy["timestamp"] == sim.exchange.now_ms  # the replay's clock
        sell = await ex.create_order(
            PERP, "limit", "sell", 0.02, round(last * 1.1, 1), {"timeInForce": "GTX"}
        )
        assert sell["postOnly"] is True
        assert sell["clientOrderId"].startswith("x-")  # ccxt's own broker id, <= 36 chars
        assert {o["id"] for o in await ex.fetch_open_orders(PERP)} == {buy["id"], sell["id"]}
        got = await ex.fetch_order(None, PERP, {"clientOrderId": "gh-b1"})
        assert got["id"] == buy["id"]
        assert (await ex.fetch_order(sell["id"], PERP))["status"] == "open"
        free = (await ex.fetch_balance())["USDT"]["free"]
        assert free < 10000.0  # open orders hold initial margin
        cancelled = await ex.cancel_order(None, PERP, {"clientOrderId": "gh-b1"})
        assert cancelled["status"] == "canceled"
        await ex.cancel_all_orders(PERP)
        assert await ex.fetch_open_orders(PERP) == []
        assert {o["status"] for o in await ex.fetch_orders(PERP)} == {"canceled"}
        assert len(await ex.fetch_closed_orders(PERP)) == 0  # canceled is not closed
        assert (await ex.set_leverage(5, PERP))["leverage"] == 5
        # a market order fills at once against the book (taker) and shows in every view
        mkt = await ex.create_order(PERP, "market", "sell", 0.005, None, {"clientOrderId": "m1"})
        assert mkt["status"] == "closed"
        done = await ex.fetch_order(mkt["id"], PERP)
        assert done["status"] == "closed" and done["filled"] == 0.005
        (trade,) = await ex.fetch_my_trades(PERP)
        assert trade["order"] == mkt["id"] and trade["takerOrMaker"] == "taker"
        (position,) = await ex.fetch_positions([PERP])
        assert (position["side"], position["contracts"]) == ("short", 0.005)
        assert position["entryPrice"] == trade["price"]
        income = await ex.fetch_funding_history(PERP)
        assert all(i["code"] == "USDT" for i in income)
        account = await ex.fapiPrivateV2GetAccount()
        assert Decimal(account["positions"][0]["positionAmt"]) == Decimal("-0.005")
        risk = await ex.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})
        assert risk[0]["leverage"] == "5"
        fee = await ex.fapiPrivateGetCommissionRate({"symbol": "BTCUSDT"})
        assert fee["makerCommissionRate"] == "0.0002"
        assert sim.unhandled == []


async def test_stop_market_triggers_on_touch_and_reduce_only_is_checked() -> None:
    async with running() as (sim, ex):
        await ex.load_markets()
        with pytest.raises(ccxt.InvalidOrder):  # nothing to reduce
            await ex.create_order(PERP, "market", "buy", 0.01, None, {"reduceOnly": True})
        await ex.create_order(PERP, "market", "sell", 0.01)
        sim.advance(1)
        bars = sim.exchange.books["BTCUSDT"].spec.bars
        nxt = sim.exchange.bar + 1
        # a buy stop between the next bar's open and high: touched, not gapped
        stop = round((float(bars.open[nxt]) + float(bars.high[nxt])) / 2, 1)
        assert float(bars.open[nxt]) < stop < float(bars.high[nxt])
        order = await ex.create_order(
            PERP,
            "STOP_MARKET",
            "buy",
            0.01,
            None,
            {"stopPrice": stop, "reduceOnly": True, "clientOrderId": "stop-1"},
        )
        assert (order["triggerPrice"], order["clientOrderId"]) == (stop, "stop-1")
        assert ("POST", "/fapi/v1/algoOrder") in sim.requests
        (listed,) = await ex.fetch_open_orders(PERP, params={"trigger": True})
        assert listed["id"] == order["id"]
        assert await ex.fetch_open_orders(PERP) == []  # plain orders are a separate view
        sim.advance(1)
        done = await ex.fetch_order(order["id"], PERP, {"trigger": True})
        assert done["status"] == "closed"
        (trade,) = [t for t in await ex.fetch_my_trades(PERP) if t["order"] == order["id"]]
        assert (trade["price"], trade["takerOrMaker"]) == (stop, "taker")
        assert await ex.fetch_positions([PERP]) == []
        other = await ex.create_order(
            PERP, "STOP_MARKET", "sell", 0.01, None, {"stopPrice": stop / 2}
        )
        cancelled = await ex.cancel_order(other["id"], PERP, {"trigger": True})
        assert cancelled["id"] == other["id"]


async def test_spot_balances_through_ccxt_binance() -> None:
    async with running() as (sim, _):
        spot = spot_client(sim)
        try:
            await spot.load_markets()
            assert list(spot.markets) == ["BTC/USDT"]
            balance = await spot.fetch_balance()
            assert (balance["BTC"]["total"], balance["USDT"]["free"]) == (1.5, 2500.0)
            ticker = await spot.fetch_ticker("BTC/USDT")
            assert ticker["ask"] == pytest.approx(ticker["bid"] + 0.2)
        finally:
            await spot.close()
        assert ("GET", "/api/v3/account") in sim.requests


async def test_admin_routes_advance_and_report_state() -> None:
    exchange = make_exchange()
    async with SimServer(exchange) as sim, aiohttp.ClientSession() as http:
        bar = exchange.bar
        async with http.post(f"{sim.url}/_sim/advance", json={"bars": 4}) as r:
            assert (await r.json())["bar"] == bar + 4
        async with http.get(f"{sim.url}/_sim/state") as r:
            state = await r.json()
        assert state["symbols"]["BTCUSDT"]["position"] == "0"
        assert state["wallet_balance"] == "10000"
        async with http.get(f"{sim.url}/fapi/v9/nothing") as r:
            assert r.status == 404
        assert sim.unhandled == [("GET", "/fapi/v9/nothing")]


async def test_auto_advance_moves_the_replay_clock() -> None:
    exchange = make_exchange()
    async with SimServer(exchange, bars_per_second=200.0):
        bar = exchange.bar
        import asyncio

        await asyncio.sleep(0.2)
        assert exchange.bar > bar


def test_cli_loads_a_candle_csv(tmp_path: object) -> None:
    from pathlib import Path

    bars = seeded_bars(n=30)
    path = Path(str(tmp_path)) / "bars.csv"
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(len(bars)):
        lines.append(
            f"{bars.open_time_ms[i]},{bars.open[i]},{bars.high[i]},{bars.low[i]},"
            f"{bars.close[i]},{bars.volume[i]}"
        )
    path.write_text("\n".join(lines))
    loaded = load_bars(path, seed=0, bars=0, timeframe="1h", start_price=1.0)
    assert len(loaded) == 30 and loaded.timeframe_ms == 3_600_000
    assert loaded.funding_time_ms[0] % (8 * 3_600_000) == 0
    synthetic = load_bars(None, seed=3, bars=50, timeframe="1h", start_price=100.0)
    assert len(synthetic) == 50
