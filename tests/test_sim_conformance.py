"""The emulator answers like Binance USD-M (issue 14): one test per row of the issue's table,
driven through ccxt's ``binanceusdm`` (URL overrides only where the row is about ccxt's own
defaults). Each docstring names the Binance rule and where it is written.

Sources: the USD-M REST docs at developers.binance.com/docs/derivatives/usds-margined-futures
("General Info", "Error Codes", "Account Trade List", "All Orders", "New Order", "Kline
Candlestick Data"), and ccxt's ``binance.py`` (its ``exceptions`` maps: ``linear`` codes apply
to the real host only, so a local URL sees several as ``ExchangeError``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from gridhedge._core import Market
from gridhedge.errors import ConfigError
from gridhedge.sim import Limits, SimExchange, SimServer, SimStore, SymbolSpec
from gridhedge.sim.engine import DAY_MS
from gridhedge.sim.server import INTERVALS_MS
from tests.sim_support import MARKET, PERP, make_exchange, plain_client, running, seeded_bars

D = Decimal
HOUR = 3_600_000


class FakeClock:
    """Wall time for the rate limiter, moved by the test (windows must not roll mid-test)."""

    def __init__(self, t: float = 1_000_040.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def _long(ex: Any, sim: SimServer, amount: float = 0.01) -> None:
    await ex.create_order(PERP, "market", "buy", amount)
    assert sim.exchange.books["BTCUSDT"].account.position == D(str(amount))


# ----------------------------------------------------------------------------- row 1
async def test_user_trades_answers_at_most_seven_days_from_start_time() -> None:
    """Account Trade List (GET /fapi/v1/userTrades): "If startTime and endTime are both not
    sent, then the last 7 days' data will be returned. The time between startTime and endTime
    cannot be longer than 7 days. The parameter fromId cannot be sent with startTime or
    endTime." Over-long spans are -1127 MORE_THAN_XX_HOURS, bad combinations -1128 (Error
    Codes)."""
    exchange = make_exchange(seeded_bars(n=600), start_bar=10)
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        first = await ex.create_order(PERP, "market", "buy", 0.01)
        sim.advance(24 * 8)  # 8 days later
        await ex.create_order(PERP, "market", "sell", 0.01)
        t0 = int(first["timestamp"])
        raw = {"symbol": "BTCUSDT"}
        window = await ex.fapiPrivateGetUserTrades({**raw, "startTime": t0})
        assert [int(t["time"]) for t in window] == [t0]  # the later trade is past 7 days
        assert len(await ex.fapiPrivateGetUserTrades(raw)) == 1  # last 7 days only
        assert len(await ex.fapiPrivateGetUserTrades({**raw, "fromId": 1})) == 2
        with pytest.raises(ccxt.BadRequest, match="-1127"):
            await ex.fapiPrivateGetUserTrades({**raw, "startTime": t0, "endTime": t0 + 8 * DAY_MS})
        with pytest.raises(ccxt.BadRequest, match="-1128"):
            await ex.fapiPrivateGetUserTrades({**raw, "startTime": t0, "fromId": 1})


# ----------------------------------------------------------------------------- row 2
async def test_request_weight_429_then_418_with_retry_after() -> None:
    """General Info, IP limits: every answer has ``X-MBX-USED-WEIGHT-(intervalNum)
    (intervalLetter)``; past the limit (USD-M: 2400 a minute, exchangeInfo rateLimits) HTTP
    429; "failing to back off after receiving 429s will result in an automated IP ban (HTTP
    status 418)"; "A Retry-After header is sent with a 418 or 429"; bans "from 2 minutes to 3
    days". Code -1003 TOO_MANY_REQUESTS (Error Codes)."""
    async with running() as (sim, ex):
        clock = FakeClock()  # 20 s into a minute
        sim.limiters["fapi"].clock = clock
        await ex.load_markets()  # exchangeInfo: 1
        info = await ex.fapiPublicGetExchangeInfo()  # 1
        limits = {
            (r["rateLimitType"], r["intervalNum"], r["interval"]): r["limit"]
            for r in info["rateLimits"]
        }
        assert limits == {
            ("REQUEST_WEIGHT", 1, "MINUTE"): 2400,
            ("ORDERS", 10, "SECOND"): 300,
            ("ORDERS", 1, "MINUTE"): 1200,
        }
        await ex.fetch_ticker(PERP)  # 24hr with a symbol: 1
        assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "3"
        for _ in range(59):  # 40 weight each without a symbol: 3 + 59 * 40 = 2363
            await ex.fapiPublicGetTicker24hr()
        with pytest.raises(ccxt.DDoSProtection, match="-1003"):  # ccxt: 429 is DDoSProtection
            await ex.fapiPublicGetTicker24hr()  # 2403 > 2400
        assert ex.last_http_response and ex.last_response_headers["Retry-After"] == "40"
        with pytest.raises(ccxt.DDoSProtection, match="banned"):  # did not back off: 418
            await ex.fetch_ticker(PERP)
        assert ex.last_response_headers["Retry-After"] == "120"
        clock.t += 130  # the ban is over, a new minute
        assert (await ex.fetch_ticker(PERP))["last"] > 0
        assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "1"


# ----------------------------------------------------------------------------- row 3
async def test_order_rate_300_per_10_seconds_is_1015() -> None:
    """General Info, order rate limits: "Every order response will contain a
    X-MBX-ORDER-COUNT-(intervalNum)(intervalLetter) header"; USD-M's exchangeInfo lists 300
    orders / 10 s and 1200 / minute; past them -1015 TOO_MANY_ORDERS "Too many new orders;
    current limit is %s orders per %s" (Error Codes), HTTP 429."""
    async with running() as (sim, ex):
        clock = FakeClock()
        sim.limiters["fapi"].clock = clock
        await ex.load_markets()
        low = round(float(sim.exchange.last_price("BTCUSDT")) * 0.9, 1)
        for i in range(300):
            o = await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": f"r{i}"})
            await ex.cancel_order(o["id"], PERP)
        assert ex.last_response_headers.get("X-MBX-ORDER-COUNT-10S") is None  # a cancel
        with pytest.raises(ccxt.DDoSProtection, match="-1015"):
            await ex.create_order(PERP, "limit", "buy", 0.01, low)
        clock.t += 10  # next 10 s window: 300 of the minute's 1200 used
        await ex.create_order(PERP, "limit", "buy", 0.01, low)
        headers = ex.last_response_headers
        assert (headers["X-MBX-ORDER-COUNT-10S"], headers["X-MBX-ORDER-COUNT-1M"]) == ("1", "301")


# ----------------------------------------------------------------------------- row 4
async def test_open_orders_capped_by_max_num_orders_filter() -> None:
    """exchangeInfo filter MAX_NUM_ORDERS ("the maximum number of orders an account is allowed
    to have open on a symbol", Binance BTCUSDT: 200); past it -2025 MAX_OPEN_ORDER_EXCEEDED
    "Reach max open order limit." (Error Codes; ccxt linear map: OperationRejected)."""
    spec = SymbolSpec("BTCUSDT", "BTC", MARKET, seeded_bars(), max_num_orders=3)
    async with running(SimExchange([spec], start_bar=50)) as (sim, ex):
        markets = await ex.load_markets()
        filters = {f["filterType"]: f for f in markets[PERP]["info"]["filters"]}
        assert filters["MAX_NUM_ORDERS"]["limit"] == 3
        low = round(float(sim.exchange.last_price("BTCUSDT")) * 0.9, 1)
        for _ in range(3):
            await ex.create_order(PERP, "limit", "buy", 0.01, low)
        with pytest.raises(ccxt.OperationRejected, match="-2025"):
            await ex.create_order(PERP, "limit", "buy", 0.01, low)


# ----------------------------------------------------------------------------- row 5
async def test_reduce_only_never_opens_the_other_side() -> None:
    """New Order (POST /fapi/v1/order) ``reduceOnly``: an order that would not reduce is
    -2022 REDUCE_ONLY_REJECT "ReduceOnly Order is rejected." (Error Codes); a reduce-only
    order larger than the position only closes it, the rest expires."""
    async with running() as (sim, ex):
        await ex.load_markets()
        await _long(ex, sim, 0.01)
        closed = await ex.create_order(PERP, "market", "sell", 0.05, None, {"reduceOnly": True})
        assert (closed["filled"], closed["status"]) == (0.01, "expired")
        book = sim.exchange.books["BTCUSDT"]
        assert book.account.position == 0
        with pytest.raises(ccxt.InvalidOrder, match="-2022"):
            await ex.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
        # a resting reduce-only limit larger than the position: filled up to it, then expired
        await _long(ex, sim, 0.01)
        price = float(sim.exchange.last_price("BTCUSDT")) + 1.0
        o = await ex.create_order(PERP, "limit", "sell", 0.04, price, {"reduceOnly": True})
        assert o["status"] == "open"
        for _ in range(100):
            sim.advance(1)
            got = await ex.fetch_order(o["id"], PERP)
            if got["status"] != "open":
                break
        assert (got["filled"], got["status"]) == (0.01, "expired")
        assert book.account.position == 0


# ----------------------------------------------------------------------------- row 6
async def test_market_order_fills_at_once_as_taker() -> None:
    """New Order, type MARKET: executed against the book at once (status FILLED in the
    answer), taker; there is nothing left to cancel (-2011 CANCEL_REJECTED "Unknown order
    sent.")."""
    async with running(make_exchange(wallet_usdt="100000000")) as (sim, ex):
        await ex.load_markets()
        bid, ask = sim.exchange.bid_ask("BTCUSDT")
        o = await ex.create_order(PERP, "market", "buy", 0.01)
        assert (o["status"], o["filled"], o["average"]) == ("closed", 0.01, float(ask))
        (trade,) = await ex.fetch_my_trades(PERP)
        assert trade["takerOrMaker"] == "taker" and trade["price"] == float(ask)
        with pytest.raises(ccxt.OrderNotFound, match="-2011"):
            await ex.cancel_order(o["id"], PERP)
        # a large market order walks the book: worse prices level by level (impact)
        big = await ex.create_order(PERP, "market", "sell", 50.0)
        mine = [t for t in await ex.fetch_my_trades(PERP) if t["order"] == big["id"]]
        trades = sorted(mine, key=lambda t: int(t["id"]))
        assert len(trades) > 1 and trades[0]["price"] == float(bid)
        assert [t["price"] for t in trades] == sorted((t["price"] for t in trades), reverse=True)


# ----------------------------------------------------------------------------- row 7
async def test_limit_buy_above_the_ask_fills_at_the_book_price_as_taker() -> None:
    """Matching: a limit order that crosses the spread trades at the resting orders' prices
    (the book's), as taker; only the rest of it would rest as maker (New Order, LIMIT GTC)."""
    async with running() as (sim, ex):
        await ex.load_markets()
        _, ask = sim.exchange.bid_ask("BTCUSDT")
        limit = float(ask) + 500
        o = await ex.create_order(PERP, "limit", "buy", 0.01, limit)
        assert o["status"] == "closed"
        (trade,) = await ex.fetch_my_trades(PERP)
        assert (trade["price"], trade["takerOrMaker"]) == (float(ask), "taker")
        assert D(trade["info"]["commission"]) == ask * D("0.01") * D("0.0005")


# ----------------------------------------------------------------------------- row 8
async def test_post_only_that_would_cross_is_5022() -> None:
    """New Order ``timeInForce=GTX`` (post only): -5022 GTX_ORDER_REJECT "Due to the order
    could not be executed as maker, the Post Only order will be rejected." (Error Codes); ccxt
    maps it to OrderNotFillable in its linear map (real host; local URL: ExchangeError)."""
    async with running() as (sim, ex):
        await ex.load_markets()
        _, ask = sim.exchange.bid_ask("BTCUSDT")
        with pytest.raises(ccxt.OrderNotFillable, match="-5022"):
            await ex.create_order(PERP, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        assert sim.exchange.open_orders() == []
        plain = plain_client(sim, options={"fetchCurrencies": False, "fetchMargins": False})
        try:
            await plain.load_markets()
            with pytest.raises(ccxt.ExchangeError, match="-5022"):
                await plain.create_order(PERP, "limit", "buy", 0.01, float(ask), {"postOnly": True})
        finally:
            await plain.close()
        ok = await ex.create_order(PERP, "limit", "buy", 0.01, float(ask) - 1, {"postOnly": True})
        assert ok["status"] == "open"


# ----------------------------------------------------------------------------- row 9
async def test_ioc_and_fok_are_accepted_and_done_at_once() -> None:
    """New Order ``timeInForce``: GTC, IOC, FOK, GTX (exchangeInfo ``timeInForce``). IOC fills
    what it can at once and expires the rest; FOK fills in full or -5021 FOK_ORDER_REJECT "Due
    to the order could not be filled immediately, the FOK order has been rejected."."""
    async with running() as (sim, ex):
        await ex.load_markets()
        bid, ask = sim.exchange.bid_ask("BTCUSDT")
        ioc = await ex.create_order(PERP, "limit", "buy", 0.01, float(ask), {"timeInForce": "IOC"})
        assert (ioc["status"], ioc["filled"]) == ("closed", 0.01)
        miss = await ex.create_order(
            PERP, "limit", "buy", 0.01, float(bid) - 10, {"timeInForce": "IOC"}
        )
        assert (miss["status"], miss["filled"]) == ("expired", 0.0)
        fok = await ex.create_order(PERP, "limit", "sell", 0.01, float(bid), {"timeInForce": "FOK"})
        assert (fok["status"], fok["filled"]) == ("closed", 0.01)
        with pytest.raises(ccxt.OrderNotFillable, match="-5021"):
            await ex.create_order(
                PERP, "limit", "sell", 0.01, float(ask) + 10, {"timeInForce": "FOK"}
            )
        assert sim.exchange.open_orders() == []


# ----------------------------------------------------------------------------- row 10
async def test_price_off_tick_is_4014_and_too_many_decimals_1111() -> None:
    """Error Codes: -4014 PRICE_NOT_INCREASED_BY_TICK_SIZE "Price not increased by tick
    size."; -1111 BAD_PRECISION "Precision is over the maximum defined for this asset." (more
    decimals than ``pricePrecision``/``quantityPrecision``); -4023 off the step size."""
    async with running() as (sim, ex):
        markets = await ex.load_markets()
        assert markets[PERP]["info"]["pricePrecision"] == 2  # with a 0.10 tick, as BTCUSDT
        low = float(sim.exchange.last_price("BTCUSDT")) - 1000
        raw = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
        with pytest.raises(ccxt.ExchangeError, match="-4014"):
            await ex.fapiPrivatePostOrder({**raw, "quantity": "0.01", "price": f"{low:.1f}5"})
        with pytest.raises(ccxt.BadRequest, match="-1111"):
            await ex.fapiPrivatePostOrder({**raw, "quantity": "0.01", "price": f"{low:.1f}55"})
        with pytest.raises(ccxt.BadRequest, match="-1111"):
            await ex.fapiPrivatePostOrder({**raw, "quantity": "0.0105", "price": f"{low:.1f}"})
        assert sim.exchange.open_orders() == []


# ----------------------------------------------------------------------------- row 11
async def test_amount_zero_or_less_is_4003() -> None:
    """Error Codes: -4003 QTY_LESS_THAN_ZERO (answered "Quantity less than or equal to
    zero.")."""
    async with running() as (_sim, ex):
        await ex.load_markets()
        raw = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}
        for qty in ("0", "-0.01"):
            with pytest.raises(ccxt.BadRequest, match="-4003"):
                await ex.fapiPrivatePostOrder({**raw, "quantity": qty})


# ----------------------------------------------------------------------------- row 12
async def test_ticker_and_kline_prices_are_on_the_tick() -> None:
    """Every traded price is a multiple of PRICE_FILTER ``tickSize`` (Filters): so are the
    ticker's and the klines' prices; volumes are on LOT_SIZE ``stepSize``."""
    async with running() as (_sim, ex):
        await ex.load_markets()
        tick, lot = MARKET.tick_size, MARKET.lot_size
        t = await ex.fapiPublicGetTicker24hr({"symbol": "BTCUSDT"})
        for key in ("lastPrice", "openPrice", "highPrice", "lowPrice", "weightedAvgPrice"):
            assert D(t[key]) % tick == 0, key
        assert D(t["volume"]) % lot == 0
        for interval in ("1m", "1h", "4h"):
            for row in await ex.fapiPublicGetKlines(
                {"symbol": "BTCUSDT", "interval": interval, "limit": 50}
            ):
                assert all(D(x) % tick == 0 for x in row[1:5])
                assert D(row[5]) % lot == 0
        assert D((await ex.fapiPublicGetTickerPrice({"symbol": "BTCUSDT"}))["price"]) % tick == 0


# ----------------------------------------------------------------------------- row 13
async def test_one_clock_server_time_and_trade_times_agree() -> None:
    """General Info: "All time and timestamp related fields are in milliseconds" of one
    exchange clock; Check Server Time (GET /fapi/v1/time) is that clock. A trade is at or
    before serverTime, and ``fetch_my_trades(since=serverTime - 1 day)`` finds today's.
    -1021 INVALID_TIMESTAMP "Timestamp for this request is outside of the recvWindow" (Error
    Codes) is checked on wall time, or on serverTime for a client synced to it."""
    async with running() as (sim, ex):
        await ex.load_markets()
        await ex.create_order(PERP, "market", "buy", 0.01)
        sim.advance(3)
        await ex.create_order(PERP, "market", "sell", 0.01)
        now = await ex.fetch_time()
        assert sim.exchange.now_ms <= now < sim.exchange.now_ms + HOUR
        trades = await ex.fetch_my_trades(PERP, since=now - DAY_MS)
        assert len(trades) == 2 and all(t["timestamp"] <= now for t in trades)
        info = await ex.fapiPublicGetExchangeInfo()
        assert abs(int(info["serverTime"]) - now) < HOUR
        # signing keeps wall time (skewed here: -1021); a client that resynchronises to
        # serverTime (ccxt's load_time_difference) signs on the one clock and is accepted
        sim.faults.clock_skew_ms = 40_000
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            await ex.fetch_open_orders(PERP)
        await ex.load_time_difference()
        assert await ex.fetch_open_orders(PERP) == []


# ----------------------------------------------------------------------------- row 14
async def test_state_survives_a_restart(tmp_path: Path) -> None:
    """Binance keeps an account: after the emulator restarts on its ``--state`` file the
    orders, trades (ids continue per symbol), balances and the clock are as they were."""
    path = tmp_path / "sim.sqlite"
    exchange = make_exchange(store=SimStore(path))
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        await ex.fapiPrivatePostMarginType({"symbol": "BTCUSDT", "marginType": "ISOLATED"})
        await ex.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 7})
        await ex.create_order(PERP, "market", "buy", 0.02)
        low = round(float(exchange.last_price("BTCUSDT")) * 0.95, 1)
        resting = await ex.create_order(PERP, "limit", "buy", 0.01, low, {"clientOrderId": "keep"})
        sim.advance(5)
        before = (
            exchange.bar,
            exchange.wallet_balance(),
            exchange.books["BTCUSDT"].account.position,
        )
        trades_before = await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
    exchange.store.close()  # type: ignore[union-attr]
    again = make_exchange(store=SimStore(path))
    assert (again.bar, again.wallet_balance(), again.books["BTCUSDT"].account.position) == before
    async with running(again) as (sim, ex):
        await ex.load_markets()
        assert await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"}) == trades_before
        (config,) = await ex.fapiPrivateGetSymbolConfig({"symbol": "BTCUSDT"})
        assert (config["marginType"], config["leverage"]) == ("ISOLATED", 7)
        got = await ex.fetch_order(None, PERP, {"clientOrderId": "keep"})
        assert (got["id"], got["status"]) == (resting["id"], "open")
        await ex.create_order(PERP, "market", "sell", 0.01)
        ids = [int(t["id"]) for t in await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})]
        assert ids == list(range(1, len(ids) + 1))
    again.store.close()  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="other bars"):
        SimExchange([SymbolSpec("ETHUSDT", "ETH", MARKET, seeded_bars())], store=SimStore(path))


def test_cli_restart_on_state_with_secret_from_env(tmp_path: Path) -> None:
    """``gridhedge sim --state FILE`` survives a SIGKILL; its secret comes from the
    environment (``GRIDHEDGE_SIM_API_SECRET``), never argv (which ``ps`` shows)."""
    path = tmp_path / "sim.sqlite"
    env = {**os.environ, "GRIDHEDGE_SIM_API_SECRET": "s3cret-from-env"}

    def start() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from gridhedge.cli import main; main()", "sim", "--port", "0",
             "--state", str(path), "--bars", "300"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "s3cret" not in " ".join(proc.args)  # type: ignore[arg-type]
        return proc, line.split()[2]

    async def trade(url: str, secret: str, *, buy: bool) -> list[int]:
        from gridhedge.sim.client import binanceusdm

        ex = binanceusdm(url, "sim-key", secret)
        try:
            await ex.load_markets()
            if buy:
                await ex.create_order(PERP, "market", "buy", 0.01)
            return [int(t["id"]) for t in await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})]
        finally:
            await ex.close()

    proc, url = start()
    try:
        with pytest.raises(ccxt.AuthenticationError):
            asyncio.run(trade(url, "sim-secret", buy=True))
        assert asyncio.run(trade(url, "s3cret-from-env", buy=True)) == [1]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc, url = start()
    try:
        assert asyncio.run(trade(url, "s3cret-from-env", buy=True)) == [1, 2]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


# ----------------------------------------------------------------------------- row 15
async def test_trade_ids_count_per_symbol() -> None:
    """Account Trade List: ``id`` is the trade's id in its symbol (trades are numbered per
    symbol; ``fromId`` pages within one symbol)."""
    bars = seeded_bars()
    eth = seeded_bars(seed=8, start_price=3000.0)
    eth_market = Market("0.01", "0.001", "0.001", "20")
    specs = [
        SymbolSpec("BTCUSDT", "BTC", MARKET, bars),
        SymbolSpec("ETHUSDT", "ETH", eth_market, eth),
    ]
    async with running(SimExchange(specs, start_bar=50)) as (_sim, ex):
        await ex.load_markets()
        await ex.create_order(PERP, "market", "buy", 0.01)
        await ex.create_order("ETH/USDT:USDT", "market", "buy", 0.1)
        await ex.create_order(PERP, "market", "sell", 0.01)
        btc = await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
        eth_trades = await ex.fapiPrivateGetUserTrades({"symbol": "ETHUSDT"})
        assert [int(t["id"]) for t in btc] == [1, 2]
        assert [int(t["id"]) for t in eth_trades] == [1]


# ----------------------------------------------------------------------------- row 16
async def test_all_orders_from_order_id_are_the_first_from_it() -> None:
    """All Orders (GET /fapi/v1/allOrders): "If orderId is set, it will get orders >= that
    orderId. Otherwise most recent orders are returned."."""
    async with running() as (sim, ex):
        await ex.load_markets()
        low = round(float(sim.exchange.last_price("BTCUSDT")) * 0.9, 1)
        ids = [
            int((await ex.create_order(PERP, "limit", "buy", 0.01, low))["id"]) for _ in range(5)
        ]
        got = await ex.fapiPrivateGetAllOrders({"symbol": "BTCUSDT", "orderId": ids[1], "limit": 2})
        assert [int(o["orderId"]) for o in got] == ids[1:3]
        recent = await ex.fapiPrivateGetAllOrders({"symbol": "BTCUSDT", "limit": 2})
        assert [int(o["orderId"]) for o in recent] == ids[3:]


# ----------------------------------------------------------------------------- row 17
async def test_load_markets_with_ccxt_default_options() -> None:
    """ccxt ``binanceusdm.load_markets()`` with its default options also fetches currencies
    (GET /sapi/v1/capital/config/getall) and margin pairs (GET /sapi/v1/margin/allPairs);
    Binance answers both, so must the emulator."""
    async with running() as (sim, _):
        plain = plain_client(sim)
        try:
            markets = await plain.load_markets()
            assert PERP in markets and "BTC" in plain.currencies
        finally:
            await plain.close()
        assert sim.unhandled == []


# ----------------------------------------------------------------------------- row 18
async def test_leverage_margin_mode_position_mode_status_and_public_trades() -> None:
    """Supported by USD-M and used by ccxt: symbolConfig (fetch_leverage), marginType
    (set_margin_mode; -4046 "No need to change margin type."), positionSide/dual
    (fetch_position_mode), sapi system/status (fetch_status), aggTrades (fetch_trades)."""
    async with running() as (sim, _):
        plain = plain_client(sim)
        try:
            await plain.load_markets()
            lev = await plain.fetch_leverage(PERP)
            assert (lev["longLeverage"], lev["marginMode"]) == (20, "cross")
            assert (await plain.set_margin_mode("isolated", PERP))["code"] == 200
            with pytest.raises(ccxt.ExchangeError, match="-4046"):
                await plain.set_margin_mode("isolated", PERP)
            assert (await plain.fetch_position_mode(PERP))["hedged"] is False
            assert (await plain.fetch_status())["status"] == "ok"
            trades = await plain.fetch_trades(PERP, limit=5)
            assert len(trades) == 5 and all(t["price"] > 0 for t in trades)
        finally:
            await plain.close()
        assert sim.unhandled == []


async def test_position_mode_switch_rules_and_4061() -> None:
    """Change Position Mode (``POST /fapi/v1/positionSide/dual``, account-wide): -4059 "No need
    to change position side." when it already is; -4067 with an open order and -4068 with a
    position (USD-M error codes). An order's ``positionSide`` must match the mode, -4061
    "Order's position side does not match user's setting." (dev.binance.vision: hedge mode
    with no positionSide or BOTH; one-way mode with LONG or SHORT)."""
    async with running() as (sim, ex):
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.ExchangeError, match="-4059"):
                await ex.set_position_mode(False)
            with pytest.raises(ccxt.ExchangeError, match="-4061"):
                await ex.create_order(PERP, "limit", "buy", 0.01, 30_000, {"positionSide": "LONG"})
            order = await ex.create_order(PERP, "limit", "buy", 0.01, 30_000)
            with pytest.raises(ccxt.ExchangeError, match="-4067"):
                await ex.set_position_mode(True)
            await ex.cancel_order(order["id"], PERP)
            await _long(ex, sim)
            with pytest.raises(ccxt.ExchangeError, match="-4068"):
                await ex.set_position_mode(True)
            await ex.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
            assert (await ex.set_position_mode(True))["code"] == 200
            assert (await ex.fetch_position_mode(PERP))["hedged"] is True
            for params in ({}, {"positionSide": "BOTH"}):
                with pytest.raises(ccxt.ExchangeError, match="-4061"):
                    await ex.create_order(PERP, "limit", "buy", 0.01, 30_000, params)
            assert (await ex.set_position_mode(False))["code"] == 200
            assert (await ex.fetch_position_mode(PERP))["hedged"] is False
        finally:
            await ex.close()
        assert sim.unhandled == []


# ----------------------------------------------------------------------------- row 19
async def test_every_documented_kline_interval() -> None:
    """Kline Candlestick Data, ``interval``: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w
    1M (calendar months); finer than the replay's bars they are cut from each bar along the
    fill model's path, coarser ones aggregated; -1120 BAD_INTERVAL otherwise."""
    exchange = make_exchange(seeded_bars(n=600), start_bar=500)
    async with running(exchange) as (_sim, ex):
        await ex.load_markets()
        for name, ms in INTERVALS_MS.items():
            rows = await ex.fetch_ohlcv(PERP, name, limit=3)
            assert len(rows) == 3, name
            assert all(b[0] - a[0] == ms for a, b in itertools.pairwise(rows)), name
        months = await ex.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1M"})
        opens = [datetime.fromtimestamp(int(m[0]) / 1000, UTC) for m in months]
        assert opens and all((o.day, o.hour, o.minute) == (1, 0, 0) for o in opens)
        closes = [datetime.fromtimestamp((int(m[6]) + 1) / 1000, UTC) for m in months]
        assert all(
            c.day == 1 and c.month % 12 == (o.month + 1) % 12
            for o, c in zip(opens, closes, strict=True)
        )
        weeks = await ex.fetch_ohlcv(PERP, "1w", limit=2)
        assert all(w[0] // DAY_MS % 7 == 4 for w in weeks)  # Mondays (1970-01-05 is day 4)
        with pytest.raises(ccxt.BadRequest, match="-1120"):
            await ex.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "2m"})


async def test_limits_lifted_and_headers_over_http() -> None:
    """``Limits.lifted()`` (``--weight-limit 0 --order-rate 0``) switches the limits off; the
    weight header is still sent, counting as Binance does."""
    async with (
        SimServer(make_exchange(), limits=Limits.lifted()) as sim,
        aiohttp.ClientSession() as http,
    ):
        sim.limiters["fapi"].clock = FakeClock()
        async with http.get(f"{sim.url}/fapi/v1/exchangeInfo") as r:
            assert (await r.json())["rateLimits"] == []  # none enforced
        for _ in range(70):  # 2800 weight: past Binance's 2400
            async with http.get(f"{sim.url}/fapi/v1/ticker/24hr") as r:
                assert r.status == 200
                used = r.headers["X-MBX-USED-WEIGHT-1M"]
        assert used == str(1 + 70 * 40)


def test_secret_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator's secret: ``--api-secret-file`` wins over the environment variable; an
    empty or missing file is a ConfigError naming the setting and the file, not the secret."""
    from gridhedge.sim.cli import SECRET_ENV, read_secret

    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert read_secret(SECRET_ENV, None) == "sim-secret"
    monkeypatch.setenv(SECRET_ENV, "from-env")
    assert read_secret(SECRET_ENV, None) == "from-env"
    path = tmp_path / "secret"
    path.write_text("from-file\n")
    assert read_secret(SECRET_ENV, path) == "from-file"
    path.write_text("  \n")
    with pytest.raises(ConfigError, match="api_secret_file") as e:
        read_secret(SECRET_ENV, path)
    assert "from-env" not in str(e.value)
    with pytest.raises(ConfigError, match="cannot read"):
        read_secret(SECRET_ENV, tmp_path / "missing")


async def test_income_defaults_to_the_recent_seven_days() -> None:
    """Get Income History (GET /fapi/v1/income): "If neither startTime nor endTime is sent,
    the recent 7-day data will be returned."."""
    exchange = make_exchange(seeded_bars(n=600), start_bar=10)
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        await ex.create_order(PERP, "market", "buy", 0.01)
        first = exchange.now_ms
        sim.advance(24 * 8)
        recent = await ex.fapiPrivateGetIncome({"symbol": "BTCUSDT", "limit": 1000})
        assert recent and all(int(i["time"]) >= exchange.now_ms - 7 * DAY_MS for i in recent)
        old = await ex.fapiPrivateGetIncome(
            {"symbol": "BTCUSDT", "startTime": first, "endTime": first, "limit": 1000}
        )
        assert {i["incomeType"] for i in old} == {"COMMISSION"}  # the buy's fee, 8 days ago
