"""The live runtime against ``gridhedge sim`` on 127.0.0.1: fills over quiet weeks within the
exchange's 7-day window, outages ridden out, one rejection that stops nothing, only the bot's
own orders touched, closed bars only, and ``gridhedge run`` as a trader starts it."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from loguru import logger

from gridhedge._core import client_order_id
from gridhedge.common.interfaces import DataProvider
from gridhedge.common.types import OrderStatus
from gridhedge.data.candles import Candles
from gridhedge.errors import ConfigError
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.ccxt_broker import (
    CcxtBroker,
    CcxtDataProvider,
    RetryPolicy,
)
from gridhedge.execution.venues.binance import BINANCE
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.live.runner import Backoff, LiveRunner
from gridhedge.sim import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimExchange, SimServer
from gridhedge.sim.binance_format import BinanceError
from gridhedge.sim.client import binanceusdm, bybit
from gridhedge.state.sqlite import SQLiteStateManager
from tests.sim_support import make_exchange, seeded_bars

FAST = RetryPolicy(attempts=3, backoff_s=0.01, max_backoff_s=0.02, lookups=2)
SYMBOL = "BTCUSDT"
"""The emulator's market id, and the Binance bot's symbol (Binance's own ids stay accepted)."""
DAY_BARS = 24
DIALECTS = ["binance", "bybit"]
BOT_SYMBOL = {"binance": SYMBOL, "bybit": "BTC/USDT:USDT"}
"""The symbol the bot is configured with on each dialect (Bybit: ccxt's only)."""


@pytest.fixture
def captured() -> Iterator[list[str]]:
    """Every log line (loguru) emitted during the test."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(handler)


def real_broker(sim: SimServer, **kw: Any) -> CcxtBroker:
    if sim.dialect == "bybit":
        kw.setdefault("exchange", "bybit")
    broker = create_broker(
        "REAL",
        api_key=DEFAULT_API_KEY,
        api_secret=DEFAULT_API_SECRET,
        base_url=sim.url,
        timeout_ms=2000,
        retry=FAST,
        spot_amount=kw.pop("spot_amount", "1"),
        **kw,
    )
    assert isinstance(broker, CcxtBroker)
    return broker


def bot_on(broker: CcxtBroker, state: pathlib.Path, bot_id: str = "btcusdt-grid") -> GridHedgeBot:
    symbol = BOT_SYMBOL[broker.venue.name]
    config = {
        "num_levels": 3,
        "grid_spacing_pct": "0.005",
        "max_position_size": "1.5",
        "history_bars": 48,
        "state_path": str(state),
    }
    return GridHedgeBot(broker, broker.data_provider, symbol, config=config, bot_id=bot_id)


class UserTradesWindows:
    """Records every ``userTrades`` query ccxt sends, to check it against USD-M's rules."""

    def __init__(self, exchange: Any) -> None:
        self.queries: list[dict[str, Any]] = []
        original = exchange.fapiPrivateGetUserTrades

        async def recorded(params: dict[str, Any]) -> Any:
            self.queries.append(dict(params))
            return await original(params)

        exchange.fapiPrivateGetUserTrades = recorded

    def check(self) -> None:
        """USD-M Account Trade List: endTime - startTime <= 7 days; fromId is never sent with
        startTime or endTime; at most 1000 a request."""
        assert self.queries
        for q in self.queries:
            assert q["limit"] <= 1000
            if "fromId" in q:
                assert "startTime" not in q and "endTime" not in q
            else:
                assert q["endTime"] - q["startTime"] <= 7 * 24 * 3600 * 1000


# ----------------------------------------------------------------------------- fills
async def test_fills_after_eight_quiet_days_are_all_read_within_seven_day_windows() -> None:
    """8 emulator days without a fill, then 40 fills: every one recorded, the position exact,
    each request within the 7-day window, and the checkpoint moved over the empty windows."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60)
    async with SimServer(ex) as sim:
        broker = real_broker(sim)
        windows = UserTradesWindows(broker.exchange)
        bot = GridHedgeBot(broker, broker.data_provider, SYMBOL, config={"history_bars": 48})
        try:
            await broker.load_market(SYMBOL)
            await broker.data_provider.get_current_price(SYMBOL)
            start = ex.now_ms
            bot._fills_since = start
            sim.advance(8 * DAY_BARS)  # a quiet week and a day: nothing trades
            await broker.data_provider.get_current_price(SYMBOL)
            assert await bot.sync_fills() == 0
            assert bot._fills_since is not None
            assert bot._fills_since > start + BINANCE.fills_window_ms
            # then 40 fills, one market order a bar, each with one of the bot's client ids
            for seq in range(1, 41):
                cid = client_order_id(bot.bot_id, SYMBOL, "rs0" if seq % 2 else "rb0", seq)
                side = "SELL" if seq % 2 else "BUY"
                qty = "0.003" if seq % 2 else "0.002"
                await broker.exchange.fapiPrivatePostOrder(
                    {
                        "symbol": SYMBOL,
                        "side": side,
                        "type": "MARKET",
                        "quantity": qty,
                        "newClientOrderId": cid,
                    }
                )
                sim.advance(1)
            await broker.data_provider.get_current_price(SYMBOL)
            assert await bot.sync_fills() == len(ex.book(SYMBOL).trades)
            fills = bot.state.fills()
            assert sorted(f.trade_id for f in fills) == sorted(
                str(t.trade_id) for t in ex.book(SYMBOL).trades
            )
            position = sum(
                (f.amount if f.side.value == "buy" else -f.amount for f in fills), Decimal(0)
            )
            assert position == ex.book(SYMBOL).account.position == Decimal("-0.020")
            windows.check()
        finally:
            await broker.close()


# ----------------------------------------------------------------------------- outages
class FakeTime:
    """Emulator time for a supervised run: each sleep moves it and the replay forward (one
    bar per rebalance interval), and takes the exchange down and back when due."""

    def __init__(self, sim: SimServer, down_at: float, down_for: float, bar_s: float) -> None:
        self.sim = sim
        self.now = 0.0
        self.down_at, self.down_for, self.up_at = down_at, down_for, float("inf")
        self.bar_s = bar_s
        self._next_bar = bar_s
        self.down = False
        self.went_down = self.came_back = False

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.down and self.now >= self.up_at:
            await self.sim.start()  # back, on the same port, with its books
            self.down, self.came_back = False, True
        while not self.down and self.now >= self._next_bar:
            self.sim.advance(1)
            self._next_bar += self.bar_s
        if not self.went_down and self.now >= self.down_at:
            await self.sim.stop()  # the exchange is gone: connections refused
            self.down = self.went_down = True
            self.up_at = self.now + self.down_for


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("outage_s", [5, 60, 300])
async def test_an_outage_is_ridden_out_and_nothing_is_lost_or_doubled(
    tmp_path: pathlib.Path, captured: list[str], outage_s: int, dialect: str
) -> None:
    ex = make_exchange(seeded_bars(n=400), start_bar=60)
    async with SimServer(ex, dialect=dialect) as sim:
        sim.port = int(sim.url.rsplit(":", 1)[1])  # come back on the same port
        broker = real_broker(sim)
        bot = bot_on(broker, tmp_path / "bot.sqlite")
        fake = FakeTime(sim, down_at=35.0, down_for=outage_s, bar_s=10.0)
        runner = LiveRunner(
            bot,
            interval_s=10.0,
            backoff=Backoff(base_s=1.0, cap_s=30.0),
            sleep=fake.sleep,
            clock=fake.clock,
        )
        try:
            summary = await runner.run(max_rebalances=12)
        finally:
            await broker.close()
        assert fake.went_down and fake.came_back
        assert summary.rebalances == 12 and summary.outages == 1
        assert summary.outage_s >= outage_s - 1
        assert any("exchange outage started" in line for line in captured)
        assert any("exchange outage ended" in line for line in captured)
        # no client id sent twice, and the emulator saw each of the bot's orders once
        cids = [o.client_order_id for o in ex.book(SYMBOL).orders.values()]
        assert len(cids) == len(set(cids))
        # every trade on the exchange is in state; the position is the exchange's
        trades = sorted(str(t.trade_id) for t in ex.book(SYMBOL).trades)
        fills = bot.state.fills()
        assert sorted(f.trade_id for f in fills) == trades
        assert bot.last_report is not None
        position = sum(
            (f.amount if f.side.value == "buy" else -f.amount for f in fills), Decimal(0)
        )
        assert position == ex.book(SYMBOL).account.position
        _states_match_exchange(bot, ex)
        bot.state.close()  # type: ignore[attr-defined]


def _states_match_exchange(bot: GridHedgeBot, ex: SimExchange) -> None:
    """Every order of the bot in state has the exchange's status and filled amount."""
    status = {
        "NEW": OrderStatus.OPEN,
        "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
        "FILLED": OrderStatus.FILLED,
        "CANCELED": OrderStatus.CANCELLED,
        "EXPIRED": OrderStatus.CANCELLED,
        "TRIGGERED": OrderStatus.FILLED,
        "FINISHED": OrderStatus.FILLED,
    }
    on_exchange = {o.client_order_id: o for o in ex.book(SYMBOL).orders.values()}
    for o in bot.state.orders():
        if o.status is OrderStatus.REJECTED:
            assert o.client_order_id not in on_exchange
            continue
        theirs = on_exchange[o.client_order_id]
        assert o.status is status[theirs.status], (o, theirs)
        if not theirs.algo:
            assert o.filled == theirs.executed_qty, (o, theirs)


# ----------------------------------------------------------------------------- rejections
MARGIN_CODE = {"binance": "-2019", "bybit": "110007"}
"""Insufficient margin: Binance USD-M -2019, Bybit v5 110007 ("ab not enough for new order")."""


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_margin_rejection_stops_nothing_and_is_logged_once(
    tmp_path: pathlib.Path, captured: list[str], dialect: str
) -> None:
    """The exchange answers -2019 (margin is insufficient) to one grid order, every time it
    is sent: the loop goes on for every rebalance, the other orders and the protective stop
    are on the exchange, the rejection is in state with the exchange's code, and in the log
    once although the order is wanted again and retried after its backoff."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60, wallet_usdt="20000")
    place = ex.place_order

    def refuse_second_sell(params: Any, *, algo: bool = False) -> Any:
        if "gs2-" in str(params.get("newClientOrderId", "")):
            raise BinanceError.of("margin")  # -2019, over HTTP as Binance sends it
        return place(params, algo=algo)

    ex.place_order = refuse_second_sell  # type: ignore[method-assign]
    code = MARGIN_CODE[dialect]
    async with SimServer(ex, dialect=dialect) as sim:
        broker = real_broker(sim)
        bot = bot_on(broker, tmp_path / "bot.sqlite")

        async def next_bar(_: float) -> None:
            sim.advance(1)

        runner = LiveRunner(bot, interval_s=0.0, sleep=next_bar)
        try:
            summary = await runner.run(max_rebalances=30)
        finally:
            await broker.close()
        assert summary.rebalances == 30
        rejected = [o for o in bot.state.orders() if o.status is OrderStatus.REJECTED]
        assert rejected and {o.key for o in rejected} == {"gs2"}
        assert all(o.error.startswith(code) for o in rejected)
        assert len(rejected) > 1, "wanted again: retried after its backoff"
        assert len(rejected) < 30 // 2, "not resent at every rebalance"
        lines = [line for line in captured if f"rejected by the exchange: {code}" in line]
        assert len(lines) == 1
        live = ex.open_orders(SYMBOL, algo=None)
        assert any(o.algo for o in live), "the protective stop is on the exchange"
        keys = {o.client_order_id[10:].rsplit("-", 1)[0] for o in live}
        assert {"gs1", "gb1"} <= keys, keys
        _states_match_exchange(bot, ex)
        bot.state.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_clock_skew_is_resynchronised_and_the_loop_goes_on(
    tmp_path: pathlib.Path, captured: list[str], dialect: str
) -> None:
    """-1021 on Binance, 10002 on Bybit (timestamp outside recvWindow: the exchange's clock
    60 s ahead of ours): the broker measures ccxt's time difference again and the next
    requests pass."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60, wallet_usdt="50000")
    async with SimServer(ex, dialect=dialect) as sim:
        broker = real_broker(sim)
        bot = bot_on(broker, tmp_path / "bot.sqlite")
        done = 0

        def after_rebalance(_: str) -> None:
            nonlocal done
            done += 1
            if done == 2:
                sim.faults.clock_skew_ms = 60_000

        async def next_bar(_: float) -> None:
            sim.advance(1)

        runner = LiveRunner(bot, interval_s=0.0, sleep=next_bar, status=after_rebalance)
        try:
            summary = await runner.run(max_rebalances=6)
        finally:
            await broker.close()
        assert summary.rebalances == 6
        assert any("clock resynchronised" in line for line in captured)
        assert broker.exchange.options["timeDifference"] != 0
        bot.state.close()  # type: ignore[attr-defined]


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


# ----------------------------------------------------------------------------- own orders
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_manual_orders_and_another_bots_are_never_touched(
    tmp_path: pathlib.Path, dialect: str
) -> None:
    ex = make_exchange(seeded_bars(n=400), start_bar=60, wallet_usdt="1000000")
    bot_symbol = BOT_SYMBOL[dialect]
    async with SimServer(ex, dialect=dialect) as sim:
        client = binanceusdm if dialect == "binance" else bybit
        manual = client(sim.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
        price = ex.last_price(SYMBOL)
        await manual.load_markets()
        hand = await manual.create_order(
            "BTC/USDT:USDT",
            "limit",
            "buy",
            0.005,
            float(price * Decimal("0.7")),
            {"clientOrderId": "by-hand-1"},
        )
        broker_b = real_broker(sim)
        other = bot_on(broker_b, tmp_path / "shared.sqlite", bot_id="other-bot")
        await other.start()
        await other.execute(await broker_b.data_provider.get_current_price(bot_symbol))
        theirs = {o.client_order_id for o in ex.open_orders(SYMBOL, algo=None)}
        theirs.discard(hand["clientOrderId"])
        assert theirs, "the other bot has orders"
        protected = {hand["clientOrderId"], *theirs}
        broker_a = real_broker(sim)
        bot = bot_on(broker_a, tmp_path / "shared-a.sqlite")
        try:
            await bot.start()  # sync adopts only its own
            assert not {o.client_order_id for o in bot.state.orders()} & protected
            await bot.execute(await broker_a.data_provider.get_current_price(bot_symbol))
            sim.advance(1)
            await bot.execute(await broker_a.data_provider.get_current_price(bot_symbol))
            # a halt cancels the bot's grid: force one with a high-water mark far above
            bot._hwm = Decimal("1e12")
            report = await bot.execute(await broker_a.data_provider.get_current_price(bot_symbol))
            assert report.decision.halted
            await bot.stop(cancel_orders=True)
            bot.state.close()  # type: ignore[attr-defined]
            again = bot_on(real_broker(sim), tmp_path / "shared-a.sqlite")
            await again.start()  # restart: reconciles, adopts nothing of theirs
            await again.stop(cancel_orders=True)
            again.state.close()  # type: ignore[attr-defined]
            await again.broker.close()
            by_id = {o.client_order_id: o for o in ex.book(SYMBOL).orders.values()}
            cancelled = {c for c in protected if by_id[c].status == "CANCELED"}
            assert not cancelled, "a manual or another bot's order was cancelled"
            assert hand["clientOrderId"] in {o.client_order_id for o in ex.open_orders(SYMBOL)}
        finally:
            await manual.close()
            await broker_a.close()
            await broker_b.close()
            other.state.close()  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- closed bars
class FormingBarExchange:
    """A ccxt-like exchange whose last kline is the bar still forming, revised every call."""

    id = "binanceusdm"

    def __init__(self, candles: Candles, now_ms: int) -> None:
        self.candles = candles
        self.now_ms = now_ms
        self.calls = 0
        market = {"symbol": "BTC/USDT:USDT", "base": "BTC", "contract": True}
        self.markets_by_id = {SYMBOL: [market]}
        self.markets = {"BTC/USDT:USDT": market}

    async def load_markets(self) -> None:
        return None

    def parse_timeframe(self, timeframe: str) -> int:
        return {"1h": 3600}[timeframe]

    async def fetch_time(self) -> int:
        return self.now_ms

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        # Binance's 24 h ticker: ccxt's timestamp is the window's closeTime
        return {
            "timestamp": self.now_ms - 1,
            "last": float(self.candles.close[-1]),
            "info": {"closeTime": self.now_ms - 1, "lastPrice": str(self.candles.close[-1])},
        }

    async def fetch_funding_rate(self, symbol: str) -> dict[str, Any]:
        return {"fundingRate": 0.0, "fundingTimestamp": None}

    async def fetch_ohlcv(self, symbol: str, timeframe: str, limit: int) -> list[list[float]]:
        self.calls += 1
        c = self.candles
        rows = [
            [float(c.timestamp[i]), c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]]
            for i in range(len(c.close))
        ][-(limit - 1) :]
        # the forming bar: opened at the last close, its high, low and volume still growing
        last = rows[-1]
        grow = float(self.calls)
        forming = [last[0] + 3_600_000, last[4], last[4] + grow, last[4] - grow, last[4], grow]
        return [*rows, forming]


class ClosedOnly(DataProvider):
    def __init__(self, candles: Candles) -> None:
        self.candles = candles

    async def get_current_price(self, symbol: str) -> Decimal:
        return Decimal(repr(float(self.candles.close[-1])))

    async def get_ohlcv(self, symbol: str, timeframe: str = "1h", limit: int = 500) -> Candles:
        n = len(self.candles.close)
        return self.candles.slice(max(0, n - limit), n)

    async def get_funding_rate(self, symbol: str) -> float:
        return 0.0


async def test_the_bar_still_forming_never_reaches_the_engine() -> None:
    """Binance returns the forming kline last; the provider drops it (open + timeframe after
    the exchange's clock), so decisions equal those on closed bars only, call after call,
    while the forming bar's values change."""
    from gridhedge.data.synthetic import synthetic_candles

    candles = synthetic_candles(seed=3, bars=120, timeframe="1h", start_price=60_000.0)
    candles = Candles(
        candles.timestamp,
        np.round(candles.open, 1),
        np.round(candles.high, 1),
        np.round(candles.low, 1),
        np.round(candles.close, 1),
        candles.volume,
    )
    now = int(candles.timestamp[-1]) + 3_600_000 + 600_000  # 10 minutes into the next bar
    forming = CcxtDataProvider(FormingBarExchange(candles, now))
    got = await forming.get_ohlcv(SYMBOL, "1h", 50)
    assert int(got.timestamp[-1]) == int(candles.timestamp[-1])
    assert len(got.close) == 50
    broker_a = create_broker("PAPER")
    broker_b = create_broker("PAPER")
    cfg = {"history_bars": 50, "num_levels": 3}
    a = GridHedgeBot(broker_a, forming, SYMBOL, config=cfg)
    b = GridHedgeBot(broker_b, ClosedOnly(candles), SYMBOL, config=cfg)
    await a.start()
    await b.start()
    for _ in range(3):
        price = Decimal(repr(float(candles.close[-1])))
        ra = await a.execute(price)
        rb = await b.execute(price)
        assert [(o.key, o.price_ticks, o.amount_lots) for o in ra.decision.orders] == [
            (o.key, o.price_ticks, o.amount_lots) for o in rb.decision.orders
        ]
        assert ra.decision.metrics == rb.decision.metrics


# ----------------------------------------------------------------------------- the command
def _gridhedge(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gridhedge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def sim_url() -> Iterator[str]:
    """``gridhedge sim`` in its own process on 127.0.0.1, replaying 1 bar a second."""
    proc = _gridhedge("sim", "--port", "0", "--warmup", "600", "--bars-per-second", "2")
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    url = ""
    while time.monotonic() < deadline and not url:
        line = proc.stderr.readline()
        if "listening on" in line:
            url = line.split("listening on ")[1].split()[0]
    assert url, "the emulator did not start"
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_gridhedge_run_dry_run_stops_on_sigterm_with_a_summary(
    sim_url: str, tmp_path: pathlib.Path
) -> None:
    proc = _gridhedge(
        "run",
        "--base-url",
        sim_url,
        "--interval",
        "0.5",
        "--state",
        str(tmp_path / "dry.sqlite"),
        env={"GRIDHEDGE_API_KEY": "", "GRIDHEDGE_API_SECRET": ""},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and sum("| BTCUSDT" in x for x in lines) < 3:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    assert sum("| BTCUSDT" in x for x in lines) >= 3, lines
    assert "DRY RUN" in lines[0]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "summary" in out and "rebalances" in out and "hedge ratio" in out
    assert "keep on exit" in out
    assert "Traceback" not in err
    # the dry run's state is a real SQLite file with its orders
    state = SQLiteStateManager(tmp_path / "dry.sqlite", "btcusdt-grid")
    assert state.orders()
    state.close()


def test_gridhedge_run_live_without_keys_names_the_variables(
    sim_url: str, tmp_path: pathlib.Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDHEDGE_")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "gridhedge", "run", "--live", "--base-url", sim_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "GRIDHEDGE_API_KEY" in proc.stderr and "GRIDHEDGE_API_SECRET" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gridhedge_run_live_with_refused_keys_exits_with_one_line(
    sim_url: str, tmp_path: pathlib.Path
) -> None:
    """Keys the exchange refuses (-2015/-1022) end the run (a human must act): exit 1, one
    line naming the setting, never the key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDHEDGE_")}
    env.update(
        XDG_DATA_HOME=str(tmp_path),
        GRIDHEDGE_API_KEY="not-the-sim-key-4242",
        GRIDHEDGE_API_SECRET="not-the-sim-secret-4242",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gridhedge", "run", "--live", "--base-url", sim_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "api_key" in proc.stderr and "refused" in proc.stderr
    assert "not-the-sim-secret-4242" not in proc.stderr + proc.stdout
    assert "not-the-sim-key-4242" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_status_lists_the_bot_ids_a_state_file_holds(tmp_path: pathlib.Path) -> None:
    """... and reads a bot's state while that bot runs (holds its lock)."""
    path = tmp_path / "shared.sqlite"
    SQLiteStateManager(path, "ethusdt-grid").close()
    running = SQLiteStateManager(path, "btcusdt-grid")  # a bot running on the file
    run = subprocess.run(
        [sys.executable, "-m", "gridhedge", "status", "--db", str(path), "--bot-id", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "btcusdt-grid" in run.stderr and "ethusdt-grid" in run.stderr
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "gridhedge",
            "status",
            "--db",
            str(path),
            "--bot-id",
            "BTCUSDT-grid",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    running.close()
    assert ok.returncode == 0, ok.stderr
    assert '"bot_id": "btcusdt-grid"' in ok.stdout and '"realized_pnl"' in ok.stdout


async def test_a_stop_during_an_outage_does_not_wait_out_the_retry_budget(
    tmp_path: pathlib.Path, captured: list[str]
) -> None:
    """SIGTERM while the exchange is down and a call is deep in its retries: the step gets its
    grace, then is cut short (as a crash would end it), and the run ends with its summary."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60)
    async with SimServer(ex) as sim:
        broker = create_broker(
            "REAL",
            api_key=DEFAULT_API_KEY,
            api_secret=DEFAULT_API_SECRET,
            base_url=sim.url,
            timeout_ms=2000,
            retry=RetryPolicy(attempts=50, backoff_s=5.0, max_backoff_s=5.0, lookups=1),
        )
        assert isinstance(broker, CcxtBroker)
        bot = bot_on(broker, tmp_path / "bot.sqlite")
        runner = LiveRunner(bot, interval_s=0.0)
        runner.stop_grace_s = 0.2
        await sim.stop()  # down before the first request: the start retries for minutes
        task = asyncio.ensure_future(runner.run())
        await asyncio.sleep(0.5)
        runner.stop()
        summary = await asyncio.wait_for(task, 60)  # a hang guard, not a measurement
        await broker.close()
        assert summary.rebalances == 0
        assert any("cut short" in line for line in captured)
        await sim.start()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_two_live_orders_for_one_key_after_a_crash_leave_the_newest(
    tmp_path: pathlib.Path, dialect: str
) -> None:
    """A crash between placing a moved stop and cancelling the old one leaves two stops of
    one key on the exchange; the restart keeps the newest (highest sequence) and cancels the
    other, so two stops can never both fire."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60, wallet_usdt="50000")
    bot_symbol = BOT_SYMBOL[dialect]
    async with SimServer(ex, dialect=dialect) as sim:
        broker = real_broker(sim)
        bot = bot_on(broker, tmp_path / "bot.sqlite")
        price = ex.last_price(SYMBOL)
        for seq, k in ((1, "0.90"), (2, "0.91")):
            ex.place_algo_order(
                {
                    "symbol": SYMBOL,
                    "side": "SELL",
                    "algoType": "CONDITIONAL",
                    "type": "STOP_MARKET",
                    "quantity": "0.010",
                    "triggerPrice": str((price * Decimal(k)).quantize(Decimal("0.1"))),
                    "clientAlgoId": client_order_id(bot.bot_id, bot_symbol, "xs0", seq),
                }
            )
        try:
            await bot.start()
        finally:
            await broker.close()
        live = [o.client_order_id for o in ex.open_orders(SYMBOL, algo=None)]
        assert live == [client_order_id(bot.bot_id, bot_symbol, "xs0", 2)]
        bot.state.close()  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- example configs
EXAMPLES = pathlib.Path(__file__).parents[1] / "python/gridhedge/config/examples"


@pytest.mark.parametrize(
    ("name", "exchange", "spot"),
    [("binance", "binanceusdm", "binance"), ("bybit", "bybit", "bybit"), ("okx", "okx", "okx")],
)
def test_each_exchange_has_a_documented_example_config(name: str, exchange: str, spot: str) -> None:
    """One example per exchange: its ``live:`` section names the futures account, ccxt's
    symbol and the same exchange's spot account; the bot settings load."""
    from gridhedge.execution.venues import venue_for
    from gridhedge.grid.config import GridHedgeConfig
    from gridhedge.live.cli import _split_config

    path = EXAMPLES / f"run_{name}.yaml"
    raw, live = _split_config(str(path))
    assert (live.exchange, live.symbol, live.spot_exchange) == (exchange, "BTC/USDT:USDT", spot)
    assert venue_for(live.exchange).name == venue_for(spot).name == name
    GridHedgeConfig.load(raw)
    text = path.read_text()
    assert "GRIDHEDGE_API_KEY" in text and "one-way" in text


@pytest.mark.parametrize("mode", ["real", "recommendation", "paper"])
async def test_the_bybit_example_runs_on_the_bybit_emulator(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """``gridhedge run -c run_bybit.yaml --mode <mode> --base-url <gridhedge sim --dialect
    bybit>``, in process: REAL orders reach the emulator's book under ccxt's symbol; the
    recommendation and the dry run read Bybit and send no order."""
    from gridhedge.live.cli import RunMode, _split_config, build

    monkeypatch.setenv("GRIDHEDGE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("GRIDHEDGE_API_SECRET", DEFAULT_API_SECRET)
    ex = make_exchange(seeded_bars(n=1200), start_bar=900, wallet_usdt="100000")
    async with SimServer(ex, dialect="bybit") as sim:
        raw, live = _split_config(str(EXAMPLES / "run_bybit.yaml"))
        live = live.model_copy(update={"base_url": sim.url})
        runner = await build(
            raw, live, RunMode(mode), state_path=tmp_path / "bybit.sqlite", interval_s=0.0
        )
        try:
            summary = await runner.run(2)
        finally:
            await runner.close()
        assert summary.rebalances == 2
        ours = [o for o in ex.book(SYMBOL).orders.values() if o.client_order_id.startswith("gh")]
        if mode == "real":
            assert ours and all(o.symbol == SYMBOL for o in ours)
        else:
            assert not ours
        assert sim.unhandled == []


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_hedge_mode_account_is_refused_before_any_order(
    tmp_path: pathlib.Path, dialect: str
) -> None:
    """An account in hedge mode (Binance ``dualSidePosition``, Bybit ``positionIdx`` 1/2)
    refuses every order without a position side and splits the net position over two legs:
    the bot stops at start with a ConfigError (exit 2) naming the setting, before it places
    or cancels anything; switched back to one-way mode, the same bot starts and trades."""
    ex = make_exchange(seeded_bars(n=400), start_bar=60, wallet_usdt="20000")
    ex.dual_side = True
    async with SimServer(ex, dialect=dialect) as sim:
        broker = real_broker(sim)
        bot = bot_on(broker, tmp_path / "bot.sqlite")
        runner = LiveRunner(bot, interval_s=0.0, sleep=_no_sleep)
        try:
            with pytest.raises(ConfigError, match="hedge mode") as raised:
                await runner.run(max_rebalances=3)
            assert "one-way" in str(raised.value) and raised.value.field == "position mode"
            assert ex.open_orders(None, algo=None) == []
            assert all(not b.orders for b in ex.books.values())
            ex.dual_side = False
            bot2 = bot_on(broker, tmp_path / "bot2.sqlite")
            summary = await LiveRunner(bot2, interval_s=0.0, sleep=_no_sleep).run(max_rebalances=2)
            assert summary.rebalances == 2
            assert ex.open_orders(None, algo=None), "one-way again: the grid is placed"
        finally:
            await broker.close()
