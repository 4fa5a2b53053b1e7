"""Chaos (issues 7 and 13): the bot runs supervised (as ``gridhedge run``) against the emulator in
a subprocess and is SIGKILLed at every named crash point (the process kills itself there,
``GRIDHEDGE_CRASH_AT``), at random times, and in the middle of exchange outages; other outages it
rides out and finishes. After each kill the bot restarts and reconciles, and the emulator's books
must agree with the state: no order sent twice, no two live orders for one client id or key,
every emulator trade in the state's fills, the position the fills add up to equal to the
emulator's, and every order's status and filled amount in state equal to the emulator's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import random
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from gridhedge.chaos import POINTS
from gridhedge.common.types import OrderStatus, Side
from gridhedge.execution.broker_factory import replay_for
from gridhedge.execution.ccxt_broker import _key_of
from gridhedge.execution.paper import default_market
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.sim import Bars, SimExchange, SimServer, SymbolSpec
from gridhedge.sim.limits import Limits
from gridhedge.sim.store import SimStore
from gridhedge.state.sqlite import SQLiteStateManager
from tests.chaos_bot import BOT_SYMBOL, HISTORY, bot_config, broker_for

RUNNER = pathlib.Path(__file__).with_name("chaos_bot.py")
ROOT = RUNNER.parent.parent
KILLS_PER_POINT = 10
RANDOM_KILLS = 20
OUTAGE_KILLS = 8
"""Kills while the emulator is down (the bot is waiting the outage out)."""
OUTAGES_RIDDEN = 4
"""Outages the bot waits out, then finishes its rebalances and exits on its own."""
EMULATOR_RESTARTS = 4
"""Times the emulator itself is restarted from its state file (``--state``) after a kill."""
ITERATIONS = 8
"""Rebalances per bot process (one emulator bar each) unless it is killed first."""
SYMBOL = "BTCUSDT"
"""The emulator's market id (the bot's symbol per dialect: ``BOT_SYMBOL``)."""


@dataclass
class Tally:
    kills: Counter[str] = field(default_factory=Counter)
    restarts: int = 0
    clean_exits: int = 0
    duplicates: int = 0
    lost_fills: int = 0
    checks: int = 0
    ridden: int = 0
    emulator_restarts: int = 0
    problems: list[str] = field(default_factory=list)


def check_books(exchange: SimExchange, state: SQLiteStateManager, position: Decimal) -> list[str]:
    """Everything that disagrees between the emulator's books and the reconciled state."""
    book = exchange.books[SYMBOL]
    problems = []
    sent = Counter(o.client_order_id for o in book.orders.values())
    problems += [f"duplicate: client id {c} sent {n} times" for c, n in sent.items() if n > 1]
    live = [o for o in book.orders.values() if o.live]
    live_ids = Counter(o.client_order_id for o in live)
    live_keys = Counter(_key_of(o.client_order_id) for o in live)
    problems += [
        f"duplicate: {n} live orders with client id {c}" for c, n in live_ids.items() if n > 1
    ]
    problems += [f"duplicate: {n} live orders with key {k}" for k, n in live_keys.items() if n > 1]
    known = {o.client_order_id for o in state.orders(live_only=True)}
    problems += [f"live order {c} unknown to the state" for c in live_ids if c not in known]
    fills = state.fills()
    trades = {str(t.trade_id) for t in book.trades}
    recorded = Counter(f.trade_id for f in fills)
    problems += [
        f"lost: trade {t} not in the state's fills" for t in sorted(trades - set(recorded))
    ]
    problems += [f"fill {t} not an emulator trade" for t in sorted(set(recorded) - trades)]
    problems += [f"fill {t} recorded {n} times" for t, n in recorded.items() if n > 1]
    from_fills = sum((f.amount if f.side is Side.BUY else -f.amount for f in fills), Decimal(0))
    if from_fills != book.account.position:
        problems.append(f"state fills add up to {from_fills}, emulator {book.account.position}")
    if position != book.account.position:
        problems.append(f"bot's position {position}, emulator {book.account.position}")
    # every order's lifecycle in state is the exchange's (issue 13: none 'lost' with fills)
    status = {
        "NEW": OrderStatus.OPEN,
        "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
        "FILLED": OrderStatus.FILLED,
        "CANCELED": OrderStatus.CANCELLED,
        "EXPIRED": OrderStatus.CANCELLED,
    }
    theirs = {o.client_order_id: o for o in book.orders.values() if not o.algo}
    for o in state.orders():
        t = theirs.get(o.client_order_id)
        if t is None or o.kind == "stop_market":
            continue
        if o.status is not status[t.status] or o.filled != t.executed_qty:
            problems.append(
                f"status: {o.client_order_id} {o.status.value} {o.filled} in state, "
                f"{t.status} {t.executed_qty} on the exchange"
            )
    mine = Counter(o.status.value for o in state.orders() if o.client_order_id in theirs)
    exchange_side = Counter(status[t.status].value for t in theirs.values())
    if mine != exchange_side:
        problems.append(f"status: counts {dict(mine)} in state, {dict(exchange_side)} on exchange")
    return problems


async def restart_and_check(sim: SimServer, exchange: SimExchange, db: str) -> list[str]:
    """Restart the bot on the state the killed process left (it reconciles) and compare."""
    broker = broker_for(sim.url, sim.dialect)
    symbol = BOT_SYMBOL[sim.dialect]
    bot = GridHedgeBot(broker, broker.data_provider, symbol, config=bot_config(db))
    try:
        await bot.start()
        position = (await bot.position_fetcher.get_position(symbol)).futures_amount
        state = bot.state
        assert isinstance(state, SQLiteStateManager)
        return check_books(exchange, state, position)
    finally:
        await broker.close()
        bot.state.close()  # type: ignore[attr-defined]


async def run_bot(
    sim: SimServer,
    db: str,
    crash_at: str | None,
    kill_after: float | None,
    outage: tuple[float, float] | None = None,
) -> int:
    """Run the bot process; ``outage`` = (start, length) in seconds takes the emulator down
    (connections refused) while it runs, and back with its books."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRIDHEDGE_CRASH_AT", None)
    if crash_at is not None:
        env["GRIDHEDGE_CRASH_AT"] = crash_at
    log = open(pathlib.Path(db).with_suffix(".log"), "ab")  # noqa: SIM115
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUNNER),
            "--port",
            str(sim.port),
            "--db",
            db,
            "--iterations",
            # a random kill must land before the process ends on its own
            str(ITERATIONS if kill_after is None else 10 * ITERATIONS),
            "--dialect",
            sim.dialect,
            env=env,
            stdout=log,
            stderr=log,
        )
        down: asyncio.Task[None] | None = None
        if outage is not None:
            down = asyncio.create_task(_outage(sim, *outage))
        try:
            return await asyncio.wait_for(proc.wait(), timeout=kill_after or 120)
        except TimeoutError:
            if kill_after is None:
                raise
            proc.kill()
            return await proc.wait()
        finally:
            if down is not None:
                if not down.done():
                    down.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await down
                if sim._runner is None:  # killed while the exchange was down: bring it back
                    await sim.start()
    finally:
        log.close()


async def _outage(sim: SimServer, start: float, length: float) -> None:
    await asyncio.sleep(start)
    await sim.stop()
    try:
        await asyncio.sleep(length)
    finally:
        if sim._runner is None:
            await sim.start()


Step = tuple[str, int | None, float | None, tuple[float, float] | None]


def plan(rng: random.Random) -> list[Step]:
    """(crash point, hit, None, None) for every point KILLS_PER_POINT times, ("random", None,
    delay, None) RANDOM_KILLS times, ("outage", None, delay, (start, length)) OUTAGE_KILLS times
    (killed while the emulator is down) and ("outage_ridden", None, None, (start, length))
    OUTAGES_RIDDEN times (the bot waits it out and exits on its own), shuffled."""
    steps: list[Step] = []
    for point in POINTS:
        top = 2 if point == "fill_recorded" else 3
        steps += [(point, rng.randint(1, top), None, None) for _ in range(KILLS_PER_POINT)]
    steps += [("random", None, rng.uniform(0.2, 2.5), None) for _ in range(RANDOM_KILLS)]
    for _ in range(OUTAGE_KILLS):
        start = rng.uniform(0.3, 1.5)
        steps.append(("outage", None, start + rng.uniform(0.3, 1.0), (start, 3.0)))
    steps += [("outage_ridden", None, None, (rng.uniform(0.3, 1.0), 1.5))] * OUTAGES_RIDDEN
    rng.shuffle(steps)
    return steps


@pytest.mark.parametrize("dialect", ["binance", "bybit"])
async def test_chaos_sigkill_at_every_crash_point(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], dialect: str
) -> None:
    provider = replay_for(SYMBOL, bars=HISTORY + 1500, history_bars=HISTORY)
    spec = SymbolSpec(SYMBOL, "BTC", default_market(SYMBOL), Bars.from_candles(provider.candles))
    store_path = tmp_path / "emulator.sqlite"

    def emulator() -> SimExchange:
        # a fresh process of the emulator on its state file: the books come back from it
        return SimExchange(
            [spec],
            start_bar=provider.cursor,
            wallet_usdt="100000",
            spot_balances={"BTC": "1"},
            store=SimStore(store_path),
        )

    exchange = emulator()
    db = str(tmp_path / "chaos.sqlite")
    rng = random.Random(7)
    tally = Tally()
    steps = plan(rng)
    restart_after = set(rng.sample(range(len(steps)), EMULATOR_RESTARTS))
    # hours of rebalances compressed into minutes: Binance's per-minute weight would only
    # slow the test (the limits themselves are tested in test_sim_conformance)
    sim = await SimServer(exchange, limits=Limits.lifted(), dialect=dialect).start()
    try:
        for n, (point, hit, delay, outage) in enumerate(steps):
            for attempt in range(6):
                # a crash point not reached in one process (e.g. no fill yet): retry on hit 1
                crash_at = None if hit is None else f"{point}:{hit if attempt == 0 else 1}"
                rc = await run_bot(sim, db, crash_at, delay, outage)
                tally.restarts += 1
                if rc == -signal.SIGKILL:
                    tally.kills[point] += 1
                else:
                    assert rc == 0, f"bot exited with {rc} (see {db[:-7]}.log)"
                    tally.clean_exits += 1
                    tally.ridden += point == "outage_ridden"
                if n in restart_after and attempt == 0:
                    port = sim.port
                    await sim.stop()
                    assert exchange.store is not None
                    exchange.store.close()
                    before = (len(exchange.books[SYMBOL].trades), exchange.bar)
                    exchange = emulator()
                    assert (len(exchange.books[SYMBOL].trades), exchange.bar) == before
                    sim = await SimServer(
                        exchange, port=port, limits=Limits.lifted(), dialect=dialect
                    ).start()
                    tally.emulator_restarts += 1
                problems = await restart_and_check(sim, exchange, db)
                tally.checks += 1
                tally.duplicates += sum(p.startswith("duplicate") for p in problems)
                tally.lost_fills += sum(p.startswith("lost") for p in problems)
                tally.problems += [
                    f"after {point} kill #{tally.kills[point]}: {p}" for p in problems
                ]
                if rc == -signal.SIGKILL or point == "outage_ridden":
                    break
        book = exchange.books[SYMBOL]
        trades, orders = len(book.trades), len(book.orders)
    finally:
        await sim.stop()
    with capsys.disabled():
        print("\nchaos kills per crash point:")
        for name in (*POINTS, "random", "outage"):
            print(f"  {name:<20} {tally.kills[name]:>3} {'#' * tally.kills[name]}")
        print(
            f"chaos ({dialect}): kills={sum(tally.kills.values())} restarts={tally.restarts} "
            f"clean_exits={tally.clean_exits} outages_ridden={tally.ridden} "
            f"emulator_restarts={tally.emulator_restarts} "
            f"checks={tally.checks} "
            f"duplicates={tally.duplicates} lost_fills={tally.lost_fills} "
            f"emulator_trades={trades} emulator_orders={orders}"
        )
    assert not tally.problems, "\n".join(tally.problems[:20])
    for name in POINTS:
        assert tally.kills[name] >= KILLS_PER_POINT, (name, tally.kills)
    assert tally.kills["random"] == RANDOM_KILLS
    assert tally.kills["outage"] == OUTAGE_KILLS
    assert tally.ridden == OUTAGES_RIDDEN
    assert tally.emulator_restarts == EMULATOR_RESTARTS
    assert trades >= 20, "the grid must trade for the test to mean anything"


def test_crash_point_fires_on_the_nth_hit_only() -> None:
    code = (
        "from gridhedge.chaos import crash_point\n"
        "for i in range(5):\n"
        "    crash_point('other'); crash_point('here'); print(i, flush=True)\n"
    )

    def run(crash_at: str | None) -> tuple[int, str]:
        env = {k: v for k, v in os.environ.items() if k != "GRIDHEDGE_CRASH_AT"}
        if crash_at is not None:
            env["GRIDHEDGE_CRASH_AT"] = crash_at
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )
        return done.returncode, done.stdout.split()[-1] if done.stdout.split() else ""

    assert run(None) == (0, "4")
    assert run("here:3") == (-signal.SIGKILL, "1")  # killed on the third hit, before printing 2
    assert run("here:9") == (0, "4")


def test_non_setting_gridhedge_variables_are_not_config_typos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gridhedge.errors import ConfigError
    from gridhedge.grid.config import GridHedgeConfig

    for name in ("GRIDHEDGE_CRASH_AT", "GRIDHEDGE_API_KEY", "GRIDHEDGE_KEY_FILE"):
        monkeypatch.setenv(name, "x")
    GridHedgeConfig.load({})
    monkeypatch.setenv("GRIDHEDGE_RISK__VAR_LIMT", "1")
    with pytest.raises(ConfigError):
        GridHedgeConfig.load({})
