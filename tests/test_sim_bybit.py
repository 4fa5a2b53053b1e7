"""The emulator's Bybit v5 dialect against ccxt's unmodified ``bybit`` class: each test names
the Bybit rule it checks (bybit-exchange.github.io/docs/v5) and the ccxt behaviour it relies
on (ccxt's ``bybit.py``). The engine under it is the Binance dialect's (tests/test_sim_*)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from gridhedge.sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimExchange, SimServer
from gridhedge.sim.client import bybit, point_at
from tests.sim_support import PERP, make_exchange

DAY_MS = 24 * 3600 * 1000


@asynccontextmanager
async def bybit_sim(
    exchange: SimExchange | None = None, *, secret: str = DEFAULT_API_SECRET
) -> AsyncIterator[tuple[SimServer, Any, SimExchange]]:
    """The emulator in the Bybit dialect and a ccxt ``bybit`` with the bot's options."""
    ex_ = exchange if exchange is not None else make_exchange()
    async with SimServer(ex_, dialect="bybit") as sim:
        client = bybit(sim.url, DEFAULT_API_KEY, secret, timeout_ms=3000)
        try:
            yield sim, client, ex_
        finally:
            await client.close()


async def test_every_call_of_the_bot_through_ccxt_bybit() -> None:
    """Envelope ``{"retCode":0,"retMsg":"OK","result":...,"time":ms}``; instruments-info's
    priceFilter/lotSizeFilter become ccxt's precision and limits; kline rows newest first
    (ccxt reverses them); a conditional order (triggerPrice + triggerDirection) rests
    ``Untriggered`` and is listed by order/realtime with the others."""
    async with bybit_sim() as (sim, ex, engine):
        await ex.load_markets()
        market = ex.market(PERP)
        assert (market["precision"]["price"], market["precision"]["amount"]) == (0.1, 0.001)
        assert market["limits"]["cost"]["min"] == 100 and market["linear"] and market["swap"]
        ticker = await ex.fetch_ticker(PERP)
        assert Decimal(str(ticker["last"])) == engine.last_price("BTCUSDT")
        assert await ex.fetch_time() == sim.clock_ms() or await ex.fetch_time() > 0
        bars = engine.books["BTCUSDT"].spec.bars
        rows = await ex.fetch_ohlcv(PERP, "1h", limit=5)
        k = engine.bar
        assert [r[0] for r in rows] == [int(t) for t in bars.open_time_ms[k - 4 : k + 1]]
        assert rows[-1][4] == pytest.approx(float(bars.close[k]), abs=0.05)
        funding = await ex.fetch_funding_rate(PERP)
        assert funding["fundingRate"] == pytest.approx(engine.funding_rate_now("BTCUSDT"))
        last = engine.last_price("BTCUSDT")
        stop = await ex.create_order(
            PERP,
            "market",
            "buy",
            "0.01",
            None,
            {
                "clientOrderId": "stop-1",
                "triggerPrice": str(last * Decimal("1.2")),
                "triggerDirection": "ascending",
            },
        )
        assert stop["clientOrderId"] == "stop-1"
        (listed,) = await ex.fetch_open_orders(PERP)
        assert listed["triggerPrice"] == pytest.approx(float(last * Decimal("1.2")))
        assert listed["status"] == "open" and listed["info"]["orderStatus"] == "Untriggered"
        balance = await ex.fetch_balance()
        assert Decimal(str(balance["total"]["USDT"])) == engine.wallet_balance()
        assert Decimal(str(balance["total"]["BTC"])) == Decimal("1.5")  # the spot inventory
        assert sim.unhandled == []


async def test_ccxt_default_options_call_a_private_coin_route() -> None:
    """ccxt's ``bybit.load_markets`` calls the private ``/v5/asset/coin/query-info`` whenever
    keys are set (``fetchCurrencies`` option ignored) and ``/v5/user/query-api`` +
    ``/v5/account/info`` to learn the account type: the venue adapter turns
    ``has['fetchCurrencies']`` off and states the unified account, so the emulator needs
    neither route (and the bot makes no such call on the real exchange)."""
    async with SimServer(make_exchange(), dialect="bybit") as sim:
        plain = ccxt.bybit(
            {"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET, "enableRateLimit": False}
        )
        point_at(plain, sim.url)
        try:
            with pytest.raises(ccxt.ExchangeError):
                await plain.load_markets()
        finally:
            await plain.close()
        assert ("GET", "/v5/asset/coin/query-info") in sim.unhandled


async def test_signing_errors_are_bybit_codes() -> None:
    """Authentication guide: the HMAC-SHA256 of timestamp + key + recv_window + payload; a
    wrong secret is 10004 (ccxt AuthenticationError); a timestamp outside recv_window 10002
    (ccxt InvalidNonce)."""
    async with bybit_sim(secret="wrong-secret") as (_sim, ex, _engine):
        await ex.load_markets()  # public
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await ex.fetch_balance()
    async with bybit_sim() as (_sim, ex, _engine):
        await ex.load_markets()
        ex.options["timeDifference"] = 60_000  # the client's clock a minute behind
        with pytest.raises(ccxt.InvalidNonce, match="10002"):
            await ex.fetch_balance()
        ex.options["timeDifference"] = 0
        assert (await ex.fetch_balance())["total"]["USDT"] > 0


async def test_duplicate_order_link_id_is_110072() -> None:
    """Create Order: a live ``orderLinkId`` again is 110072 "OrderLinkedID is duplicate"
    (ccxt InvalidOrder); Cancel Order of an order no longer live is 110001 (OrderNotFound)."""
    async with bybit_sim() as (_sim, ex, engine):
        await ex.load_markets()
        price = str(engine.last_price("BTCUSDT") * Decimal("0.98"))
        params = {"clientOrderId": "dup-1", "timeInForce": "GTC"}
        await ex.create_order(PERP, "limit", "buy", "0.01", price, dict(params))
        with pytest.raises(ccxt.InvalidOrder, match="110072"):
            await ex.create_order(PERP, "limit", "buy", "0.01", price, dict(params))
        await ex.cancel_order(None, PERP, {"orderLinkId": "dup-1"})
        with pytest.raises(ccxt.OrderNotFound, match="110001"):
            await ex.cancel_order(None, PERP, {"orderLinkId": "dup-1"})
        (gone,) = await ex.fetch_canceled_and_closed_orders(
            PERP, None, None, {"orderLinkId": "dup-1"}
        )
        assert gone["status"] == "canceled"


async def test_execution_list_seven_days_and_cursor() -> None:
    """Get Trade History: startTime and endTime at most 7 days apart (else 10001, ccxt
    BadRequest); ``limit`` per page with ``nextPageCursor`` to the next; newest first;
    without ``execType`` funding settlements are listed too, ``execType=Trade`` only trades."""
    async with bybit_sim() as (sim, ex, engine):
        await ex.load_markets()
        for i in range(5):
            side = "sell" if i % 2 == 0 else "buy"
            await ex.create_order(PERP, "market", side, "0.01", None, {"clientOrderId": f"m{i}"})
            sim.advance(1)
        every = await ex.privateGetV5ExecutionList({"category": "linear", "symbol": "BTCUSDT"})
        assert {r["execType"] for r in every["result"]["list"]} == {"Trade", "Funding"}
        raw = {"category": "linear", "symbol": "BTCUSDT", "limit": 2, "execType": "Trade"}
        seen: list[str] = []
        cursor = ""
        while True:
            page = await ex.privateGetV5ExecutionList(
                {**raw, **({"cursor": cursor} if cursor else {})}
            )
            rows = page["result"]["list"]
            assert len(rows) <= 2
            seen += [r["execId"] for r in rows]
            cursor = page["result"]["nextPageCursor"]
            if not cursor:
                break
        trades = engine.books["BTCUSDT"].trades
        assert seen == [str(t.trade_id) for t in reversed(trades)]
        now = engine.now_ms
        with pytest.raises(ccxt.BadRequest, match="10001"):
            await ex.privateGetV5ExecutionList(
                {**raw, "startTime": now - 8 * DAY_MS, "endTime": now}
            )


async def test_engine_refusals_carry_bybit_codes() -> None:
    """The engine's filter and margin rules answered with Bybit's codes: under the minimum
    notional 110094, a reduce-only order with nothing to reduce 110017, a stop that would
    trigger at once 110092 (all ccxt InvalidOrder), more than the margin 110007
    (InsufficientFunds)."""
    async with bybit_sim() as (_sim, ex, engine):
        await ex.load_markets()
        last = engine.last_price("BTCUSDT")
        low = str(last * Decimal("0.9"))
        with pytest.raises(ccxt.InvalidOrder, match="110094"):
            await ex.create_order(PERP, "limit", "buy", "0.001", low, {"timeInForce": "GTC"})
        with pytest.raises(ccxt.InvalidOrder, match="110017"):
            await ex.create_order(PERP, "market", "sell", "0.01", None, {"reduceOnly": True})
        with pytest.raises(ccxt.InvalidOrder, match="110092"):
            await ex.create_order(
                PERP,
                "market",
                "buy",
                "0.01",
                None,
                {"triggerPrice": str(last * Decimal("0.9")), "triggerDirection": "ascending"},
            )
        with pytest.raises(ccxt.InsufficientFunds, match="110007"):
            await ex.create_order(PERP, "limit", "buy", "100", low, {"timeInForce": "GTC"})


def test_gridhedge_sim_dialect_bybit_serves_v5_and_refuses_an_unknown_dialect() -> None:
    """``gridhedge sim --dialect bybit`` answers Bybit v5 (``/v5/market/time`` in the
    envelope); an unknown dialect exits 2 naming the option and the choices."""
    import json as json_
    import subprocess
    import sys
    import time
    import urllib.request

    bad = subprocess.run(
        [sys.executable, "-m", "gridhedge", "sim", "--dialect", "kraken"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "dialect: must be binance or bybit" in bad.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridhedge", "sim", "--port", "0", "--dialect", "bybit"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline and not url:
            line = proc.stderr.readline()
            if "listening on" in line:
                url = line.split("listening on ")[1].split()[0]
        assert url, "the emulator did not start"
        with urllib.request.urlopen(f"{url}/v5/market/time", timeout=10) as resp:
            body = json_.loads(resp.read())
        assert body["retCode"] == 0 and int(body["result"]["timeSecond"]) * 1000 <= body["time"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("dialect", ["binance", "bybit"])
async def test_more_closed_bars_than_one_kline_answer_are_read_in_pages(dialect: str) -> None:
    """Bybit's Get Kline answers at most 1000 rows (Binance 1500, of which ccxt asks for
    1000 at most): the data provider reads 1200 closed bars in pages forward from ``since``;
    reference: the emulator's own bars (prices on its 0.1 tick)."""
    from gridhedge.execution.ccxt_broker import CcxtDataProvider
    from gridhedge.execution.ccxt_broker import make_exchange as ccxt_client
    from gridhedge.execution.secrets import ApiKeys
    from tests.sim_support import seeded_bars

    engine = make_exchange(seeded_bars(n=1600), start_bar=1400)
    async with SimServer(engine, dialect=dialect) as sim:
        keys = ApiKeys(api_key=DEFAULT_API_KEY, secret=DEFAULT_API_SECRET)  # type: ignore[arg-type]
        futures = "bybit" if dialect == "bybit" else "binanceusdm"
        client = ccxt_client(keys, exchange_id=futures, base_url=sim.url, timeout_ms=3000)
        try:
            candles = await CcxtDataProvider(client).get_ohlcv(PERP, "1h", 1200)
        finally:
            await client.close()
        pages = sim.served["GET", "/v5/market/kline" if dialect == "bybit" else "/fapi/v1/klines"]
    bars = engine.books["BTCUSDT"].spec.bars
    k = engine.bar
    assert list(candles.timestamp) == [int(t) for t in bars.open_time_ms[k - 1199 : k + 1]]
    assert candles.close == pytest.approx(bars.close[k - 1199 : k + 1], abs=0.1)
    assert pages == 2
