"""Portfolio REAL mode against the local emulator (127.0.0.1, port 0; nothing leaves the
machine): BTC+ETH from the correlated synthetic generator, one ccxt connection per exchange,
risk figures from the exchange's klines, a restart that duplicates nothing, keys that never
leak, and bad configs that name key, value and rule."""

from __future__ import annotations

import pathlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from loguru import logger

from gridhedge import ConfigError, GridHedgeError
from gridhedge._core import parse_client_order_id
from gridhedge.execution.ccxt_broker import (
    CcxtBroker,
    CcxtDataProvider,
    LiveRecommendationBroker,
    RetryPolicy,
)
from gridhedge.portfolio import PortfolioRunner
from gridhedge.portfolio.connections import ExchangeSettings
from gridhedge.portfolio.risk import LegInput, PortfolioRiskManager
from gridhedge.sim import SimExchange, SimServer
from gridhedge.sim.cli import correlated_exchange
from gridhedge.state.sqlite import SQLiteStateManager

KEY = "gh-port-key-3c5e7a9b1d2f4e6a08"
SECRET = "gh-port-secret-9f8e7d6c5b4a39281706"
KEY_ENV, SECRET_ENV = "GH_PORTFOLIO_TEST_KEY", "GH_PORTFOLIO_TEST_SECRET"
BARS, START, HISTORY = 760, 520, 300
EXAMPLES = pathlib.Path(__file__).parents[1] / "python/gridhedge/config/examples"
SYMBOLS = ("BTCUSDT", "ETHUSDT")
FAST = RetryPolicy(attempts=4, backoff_s=0.01, max_backoff_s=0.05, lookups=2)
LEG = {
    "grid_spacing_pct": "0.003",
    "num_levels": 3,
    "max_drawdown": "0.5",
    "stop_loss_pct": "0.05",
    "var_limit": "1000000",
    "max_active_orders": 8,
    "rebalance_interval": 3600,
}


def sim_exchange() -> SimExchange:
    """What ``gridhedge sim --correlated`` serves: BTCUSDT and ETHUSDT, correlated."""
    exchange = correlated_exchange(seed=11, bars=BARS, warmup=START, wallet="250000")
    assert set(exchange.books) == set(SYMBOLS) and exchange.bar == START
    assert exchange.spot == {"BTC": Decimal(1), "ETH": Decimal(30), "USDT": Decimal(0)}
    return exchange


def real_config(url: str, db: pathlib.Path, var_limit: float = 1e9) -> dict[str, Any]:
    return {
        "mode": "REAL",
        "portfolio": {"var_limit": var_limit, "max_drawdown": 0.5, "lookback_bars": HISTORY},
        "data": {"history_bars": HISTORY},
        "state": {"state_path": str(db)},
        "exchanges": {
            "binanceusdm": {
                "base_url": url,
                "spot_exchange": "binance",
                "api_key_env": KEY_ENV,
                "api_secret_env": SECRET_ENV,
                "timeout_ms": 3000,
            }
        },
        "legs": [
            {"symbol": "BTCUSDT", "config": {**LEG, "max_position_size": "1.5"}},
            {
                "symbol": "ETHUSDT",
                "exchange": "binanceusdm",
                "config": {**LEG, "max_position_size": "40"},
            },
        ],
    }


@pytest.fixture
def log_lines() -> Any:
    lines: list[str] = []
    handler = logger.add(lines.append, format="{level} | {message}", level="INFO")
    yield lines
    logger.remove(handler)


@pytest.fixture
def keys_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(sim_exchange(), secrets={KEY: SECRET}) as server:
        yield server


def emulator_clock(sim: SimServer) -> Any:
    """The runner's wait between rebalances: advance the emulator by the interval in bars
    (its accelerated clock) instead of sleeping."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        sim.advance(max(1, round(seconds * 1000 / sim.exchange.timeframe_ms)))

    sleep.waits = waits  # type: ignore[attr-defined]
    return sleep


def runner_for(sim: SimServer, db: pathlib.Path, **kw: Any) -> PortfolioRunner:
    return PortfolioRunner(real_config(sim.url, db, **kw), sleep=emulator_clock(sim), retry=FAST)


def live_ids(sim: SimServer, symbol: str) -> list[str]:
    return [o.client_order_id for o in sim.exchange.open_orders(symbol)]


def leg_state(leg: Any) -> SQLiteStateManager:
    state = leg.bot.state
    assert isinstance(state, SQLiteStateManager)
    return state


def assert_state_tracks_the_emulator(sim: SimServer, leg: Any) -> None:
    """Mid-run: every order live on the emulator is live in the state; an order live in the
    state but not on the emulator has filled there (a bot learns of fills at its next
    rebalance); every fill in the state is an emulator trade, exactly."""
    book = sim.exchange.books[leg.symbol]
    state = leg_state(leg)
    saved = {o.client_order_id for o in state.orders(live_only=True)}
    live = set(live_ids(sim, leg.symbol))
    assert live <= saved
    for cid in saved - live:
        assert book.orders[book.by_client_id[cid]].status == "FILLED", cid
    trades = {str(t.trade_id): t for t in book.trades}
    for f in state.fills():
        t = trades[f.trade_id]
        assert (f.price, f.amount, f.fee) == (t.price, t.qty, t.commission)


def assert_state_equals_the_emulator(sim: SimServer, leg: Any) -> None:
    """After a (re)start's reconciliation: live orders and fills equal the emulator's."""
    book = sim.exchange.books[leg.symbol]
    state = leg_state(leg)
    assert {o.client_order_id for o in state.orders(live_only=True)} == set(
        live_ids(sim, leg.symbol)
    )
    fills = state.fills()
    assert sorted(f.trade_id for f in fills) == sorted(str(t.trade_id) for t in book.trades)
    assert_state_tracks_the_emulator(sim, leg)


# ------------------------------------------------------------------------------- trading
@pytest.mark.usefixtures("keys_env")
async def test_real_portfolio_trades_both_legs_through_one_connection(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    db = tmp_path / "portfolio.sqlite"
    steps = 8
    async with runner_for(sim, db) as runner:
        report = await runner.run(steps)
        assert report is not None
        brokers = [leg.bot.broker for leg in runner.legs]
        assert all(isinstance(b, CcxtBroker) for b in brokers)
        # ONE connection per exchange: both legs' brokers and data providers share the client
        (conn,) = runner.connections.values()
        assert all(b.exchange is conn.client for b in brokers)  # type: ignore[attr-defined]
        assert all(b.spot is conn.spot for b in brokers)  # type: ignore[attr-defined]
        providers = [leg.provider for leg in runner.legs]
        assert all(isinstance(p, CcxtDataProvider) for p in providers)
        assert all(p.exchange is conn.client for p in providers)  # type: ignore[attr-defined]
        # ... and the emulator served the futures markets (exchangeInfo) once
        assert sim.served["GET", "/fapi/v1/exchangeInfo"] == 1
        assert sim.served["GET", "/api/v3/exchangeInfo"] == 1  # the spot companion, once
        assert sim.served["GET", "/fapi/v1/klines"] > 2 * steps  # (they were used a lot)
        assert not sim.unhandled
        # paced by the first leg's rebalance_interval (the emulator's clock moved per wait)
        assert runner._sleep.waits == [3600.0] * (steps - 1)  # type: ignore[attr-defined]
        assert sim.exchange.bar == START + steps - 1
        # the risk figures come from the exchange's klines, aligned across the legs
        assert report.bars == HISTORY
        inputs = await runner._inputs()
        for leg, got in zip(runner.legs, inputs, strict=True):
            bars = sim.exchange.books[leg.symbol].spec.bars
            last = sim.exchange.bar
            # the last HISTORY + 1 closed bars of the emulator, timestamps and closes exactly
            np.testing.assert_array_equal(
                got.timestamps, bars.open_time_ms[last - HISTORY : last + 1]
            )
            np.testing.assert_array_equal(got.closes, bars.close[last - HISTORY : last + 1])
        status = runner.status()
        assert status["portfolio"]["mode"] == "REAL"
        assert {row["exchange"] for row in status["legs"].values()} == {"binanceusdm"}
        for leg in runner.legs:
            ids = live_ids(sim, leg.symbol)
            assert ids, f"{leg.symbol} placed no order"
            # every order on the emulator is this leg's, by its deterministic client id
            for cid in ids:
                assert parse_client_order_id(leg.bot.bot_id, leg.symbol, cid) is not None
                other = next(x for x in runner.legs if x is not leg)
                assert parse_client_order_id(other.bot.bot_id, other.symbol, cid) is None
            # the emulator's open orders are the bot's live orders in the shared state
            assert_state_tracks_the_emulator(sim, leg)
            assert len(ids) == len(set(ids))
        assert {leg.bot.bot_id for leg in runner.legs} == {"btcusdt-grid", "ethusdt-grid"}
        position = await brokers[1].fetch_position("ETHUSDT")
        assert position.spot_amount == Decimal("30")  # inventory from the spot account
    assert all(c.closed for c in runner.connections.values())


@pytest.mark.usefixtures("keys_env")
async def test_aclose_closes_each_shared_client_exactly_once(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    runner = runner_for(sim, tmp_path / "p.sqlite")
    await runner.run(1)
    (conn,) = runner.connections.values()
    calls: Counter[str] = Counter()
    for name, client in (("futures", conn.client), ("spot", conn.spot)):
        original = client.close

        async def counted(name: str = name, original: Any = original) -> None:
            calls[name] += 1
            await original()

        client.close = counted
    await runner.aclose()
    await runner.aclose()
    assert calls == {"futures": 1, "spot": 1}
    # the state file is released: a new runner opens it
    other = runner_for(sim, tmp_path / "p.sqlite")
    await other.aclose()


@pytest.mark.usefixtures("keys_env")
async def test_restart_duplicates_nothing_and_state_fills_match_the_emulator(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    db = tmp_path / "portfolio.sqlite"
    first = runner_for(sim, db)
    await first.run(6)
    before = {s: sorted(live_ids(sim, s)) for s in SYMBOLS}
    await first.aclose()  # the process ends; its orders stay live on the exchange
    # while it is down the market moves: resting orders fill
    sim.advance(6)
    sent_before = len(sim.exchange.books["BTCUSDT"].orders) + len(
        sim.exchange.books["ETHUSDT"].orders
    )
    second = runner_for(sim, db)
    await second.start()
    # reconciliation adopted every order still live and recorded the fills made while down;
    # nothing was sent on start
    for leg in second.legs:
        assert_state_equals_the_emulator(sim, leg)
    assert (
        len(sim.exchange.books["BTCUSDT"].orders) + len(sim.exchange.books["ETHUSDT"].orders)
        == sent_before
    )
    await second.run(6)
    for leg in second.legs:
        book = sim.exchange.books[leg.symbol]
        every = [o.client_order_id for o in book.orders.values()]
        assert len(every) == len(set(every)), f"{leg.symbol}: a client id was sent twice"
        assert_state_tracks_the_emulator(sim, leg)
    await second.aclose()
    # one more restart: the state, reconciled, equals the emulator's books exactly
    third = runner_for(sim, db)
    await third.start()
    for leg in third.legs:
        assert_state_equals_the_emulator(sim, leg)
        book = sim.exchange.books[leg.symbol]
        every = [o.client_order_id for o in book.orders.values()]
        assert len(every) == len(set(every))
    await third.aclose()
    assert sum(len(sim.exchange.books[s].trades) for s in SYMBOLS) > 0, "nothing filled"
    assert all(before.values())
    con = sqlite3.connect(db)
    bots = {row[0] for row in con.execute("SELECT bot_id FROM bots")}
    con.close()
    assert bots == {"portfolio", "btcusdt-grid", "ethusdt-grid"}


@pytest.mark.usefixtures("keys_env")
async def test_portfolio_halt_cancels_every_leg_on_the_exchange(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    async with runner_for(sim, tmp_path / "p.sqlite") as runner:
        await runner.run(3)
        assert all(live_ids(sim, s) for s in SYMBOLS)
        # a high-water mark far above today's equity: the portfolio is 50%+ under it
        runner.manager._equity.insert(0, [1e9, 1e9])
        report = await runner.step()
        assert report.halted
        assert [live_ids(sim, s) for s in SYMBOLS] == [[], []]
        # it stays halted: the next rebalance trades nothing
        again = await runner.run(2)
        assert again is not None and again.halted
        assert [live_ids(sim, s) for s in SYMBOLS] == [[], []]


@pytest.mark.usefixtures("keys_env")
async def test_recommendation_on_live_data_reads_the_account_and_places_nothing(
    sim: SimServer, tmp_path: pathlib.Path, log_lines: list[str]
) -> None:
    cfg = real_config(sim.url, tmp_path / "rec.sqlite")
    cfg["mode"] = "RECOMMENDATION"
    cfg["data"]["source"] = "exchange"
    async with PortfolioRunner(cfg, sleep=emulator_clock(sim), retry=FAST) as runner:
        report = await runner.run(3)
        assert report is not None and report.bars == HISTORY
        (conn,) = runner.connections.values()
        for leg in runner.legs:
            broker = leg.bot.broker
            assert isinstance(broker, LiveRecommendationBroker)
            assert broker.exchange is conn.client
            assert leg.last is not None
            # planned for the real account: its spot inventory, its (flat) futures position
            assert leg.last.position.futures_amount == 0
            assert leg.last.position.spot_amount == sim.exchange.spot[leg.symbol[:3]]
            assert leg.last.decision.orders, f"{leg.symbol}: no plan"
    # nothing was sent: no order, no cancel; the markets loaded once
    assert sim.exchange.open_orders() == []
    assert all(not b.orders for b in sim.exchange.books.values())
    assert not [r for r in sim.served if r[0] in ("POST", "DELETE") and "order" in r[1].lower()]
    assert sim.served["GET", "/fapi/v1/exchangeInfo"] == 1
    assert sim.exchange.bar == START + 2
    assert sum("Recommend " in line for line in log_lines) >= 2


# ------------------------------------------------------------------------------- secrets
async def test_keys_never_reach_logs_state_errors_or_reprs(
    sim: SimServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    lines: list[str] = []
    handler = logger.add(lines.append, level="TRACE", format="{level} {message} {extra}")
    texts: list[str] = []
    errors: list[str] = []
    db = tmp_path / "portfolio.sqlite"
    try:
        async with runner_for(sim, db) as runner:
            sim.faults.add("reject", probability=0.2, method="POST")
            await runner.run(5)
            sim.faults.clear()
            texts += [repr(runner), str(runner.status()), repr(runner.connections)]
            texts += [repr(leg.bot.broker) for leg in runner.legs]
            texts += [repr(leg.bot.get_status()) for leg in runner.legs]
        # a wrong secret: the exchange refuses; the error must carry neither value
        monkeypatch.setenv(SECRET_ENV, SECRET + "x")
        bad = runner_for(sim, tmp_path / "bad.sqlite")
        try:
            await bad.run(1)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e!r} {e}")
            if isinstance(e, GridHedgeError):
                errors.append(f"{e.field} {e.value} {e.rule}")
        finally:
            await bad.aclose()
        # a key pasted into the config is refused without echoing it
        cfg = real_config(sim.url, tmp_path / "x.sqlite")
        cfg["exchanges"]["binanceusdm"]["api_key"] = KEY
        with pytest.raises(ConfigError) as err:
            PortfolioRunner(cfg)
        errors.append(f"{err.value!r} {err.value} {err.value.field} {err.value.value}")
        assert err.value.field == "exchanges.binanceusdm.api_key"
    finally:
        logger.remove(handler)
    assert errors and len(errors) >= 2, "the wrong secret must fail"
    con = sqlite3.connect(db)
    dump = "\n".join(con.iterdump())
    con.close()
    assert len(lines) > 50 and "orders" in dump
    for name, text in [
        ("logs", "\n".join(lines)),
        ("state", dump),
        ("errors", "\n".join(errors)),
        ("reprs", "\n".join(texts)),
    ]:
        assert KEY not in text, f"the API key leaked into {name}"
        assert SECRET not in text, f"the API secret leaked into {name}"


# ------------------------------------------------------------------------------- config
def _bad(cfg: dict[str, Any], **kw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        PortfolioRunner(cfg, **kw)
    return err.value


@pytest.mark.usefixtures("keys_env")
def test_bad_real_configs_name_key_value_and_rule(tmp_path: pathlib.Path) -> None:
    url, db = "http://127.0.0.1:9", tmp_path / "p.sqlite"
    # unknown exchange, on a leg and as a connection
    cfg = real_config(url, db)
    cfg["legs"][1]["exchange"] = "krakenfutures"
    e = _bad(cfg)
    assert e.field == "legs[1].exchange" and e.value == "'krakenfutures'"
    assert e.rule is not None and "binanceusdm" in e.rule
    cfg = real_config(url, db)
    cfg["exchanges"]["nosuchex"] = {}
    e = _bad(cfg)
    assert (e.field, e.value) == ("exchanges.nosuchex", "'nosuchex'")
    # REAL without keys: names the setting whose variable is not set, never a value, and
    # the variable's name only when it is gridhedge's default (a name the user wrote may be
    # the secret itself, pasted into the wrong setting)
    e = _bad(real_config(url, db), environ={KEY_ENV: KEY})
    assert e.field == "exchanges.binanceusdm.api_secret_env"
    assert e.value is None and SECRET_ENV not in str(e) and "api_secret_env" in str(e)
    assert e.rule is not None and "environment variable" in e.rule
    e = _bad(real_config(url, db), environ={})
    assert e.field == "exchanges.binanceusdm.api_key_env" and KEY_ENV not in str(e)
    pasted = "Xq7PzL0kV3mN9tR2wY5uB8cD1fG4hJ6k"  # a secret written where a variable name goes
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["api_secret_env"] = pasted
    e = _bad(cfg, environ={KEY_ENV: KEY})
    assert pasted not in str(e) and pasted not in repr(e.value) and pasted not in str(e.rule)
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["api_secret_env"] = "q7Pz/L0kV+3mN9tR2w=="  # not a name
    e = _bad(cfg, environ={KEY_ENV: KEY})
    assert e.field == "exchanges.binanceusdm.api_secret_env" and "q7Pz" not in str(e)
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["api_secret_env"] = "GRIDHEDGE_API_SECRET"
    e = _bad(cfg, environ={KEY_ENV: KEY})
    assert "GRIDHEDGE_API_SECRET" in str(e)  # the default's name helps and is no secret
    # mixed timeframes: the closes could not be aligned bar by bar
    cfg = real_config(url, db)
    cfg["legs"][1]["config"]["timeframe"] = "1m"
    e = _bad(cfg)
    assert (e.field, e.value) == ("legs[1].config.timeframe", "'1m'")
    assert e.rule is not None and "'1h'" in e.rule
    # connection settings are validated
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["timeout_ms"] = -5
    e = _bad(cfg)
    assert (e.field, e.value) == ("exchanges.binanceusdm.timeout_ms", "-5")
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["base_url"] = "ftp://example"
    e = _bad(cfg)
    assert e.field == "exchanges.binanceusdm.base_url" and "ftp://example" in str(e.value)
    # REAL needs the shared state file (restart safety); modes are named
    cfg = real_config(url, db)
    del cfg["state"]
    e = _bad(cfg)
    assert (e.field, e.value) == ("state.state_path", None)
    cfg = real_config(url, db)
    cfg["portfolio"]["lookback_bars"] = 1500
    e = _bad(cfg)
    assert (e.field, e.value) == ("portfolio.lookback_bars", "1500")
    e = _bad({**real_config(url, db), "data": {"source": "synthetic"}})
    assert (e.field, e.value) == ("data.source", "'synthetic'")
    e = _bad({**real_config(url, db), "mode": "PAPER", "data": {"source": "exchange"}})
    assert (e.field, e.value) == ("data.source", "'exchange'")
    e = _bad({**real_config(url, db), "mode": "LIVE"})
    assert (e.field, e.value) == ("mode", "'LIVE'")


async def test_keys_from_a_key_file_as_for_one_bot(tmp_path: pathlib.Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(f'{{"api_key": "{KEY}", "secret": "{SECRET}"}}')
    url, db = "http://127.0.0.1:9", tmp_path / "p.sqlite"
    # named by GRIDHEDGE_KEY_FILE (the single bot's variable) when the key variables are unset
    runner = PortfolioRunner(real_config(url, db), environ={"GRIDHEDGE_KEY_FILE": str(keys)})
    client = runner.connections["binanceusdm"].client
    assert (client.apiKey, client.secret) == (KEY, SECRET)
    await runner.aclose()
    # or the connection's own key_file, which wins over the environment
    cfg = real_config(url, db)
    cfg["exchanges"]["binanceusdm"]["key_file"] = str(keys)
    runner = PortfolioRunner(cfg, environ={KEY_ENV: "other", SECRET_ENV: "other"})
    client = runner.connections["binanceusdm"].client
    assert (client.apiKey, client.secret) == (KEY, SECRET)
    assert KEY not in repr(runner) and SECRET not in repr(runner)
    await runner.aclose()
    # a key file inside a git work tree is refused
    cfg["exchanges"]["binanceusdm"]["key_file"] = str(pathlib.Path(__file__).parent / "k.json")
    e = _bad(cfg)
    assert e.field == "key_file" and e.rule is not None and "git" in e.rule


def test_unalignable_closes_are_a_clear_error() -> None:
    manager = PortfolioRiskManager(1e9)
    a = np.arange(0, 50, dtype=np.int64) * 3_600_000
    b = a + 1_800_000  # half an hour off: no shared bar
    closes = np.linspace(100, 110, 50)
    with pytest.raises(GridHedgeError) as err:
        manager.evaluate(
            [LegInput("BTCUSDT", a, closes, 1.0, 1.0), LegInput("ETHUSDT", b, closes, 1.0, 1.0)]
        )
    assert err.value.field == "legs"
    assert "BTCUSDT" in str(err.value) and "ETHUSDT" in str(err.value)
    assert err.value.rule is not None and "timestamps" in err.value.rule


# ------------------------------------------------------------------------------- CLI
@pytest.mark.usefixtures("keys_env")
def test_cli_runs_the_documented_real_example_against_the_emulator(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import json
    import threading

    import yaml
    from typer.testing import CliRunner

    from gridhedge.cli import app

    example = EXAMPLES / "portfolio_real.yaml"
    cfg = yaml.safe_load(example.read_text())
    assert cfg["mode"] == "REAL"
    # only connection settings: no key or secret in the file
    assert set(cfg["exchanges"]["binanceusdm"]) <= set(ExchangeSettings.model_fields)
    # the emulator runs on its own loop (the CLI runs its own asyncio.run)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = SimServer(sim_exchange(), secrets={KEY: SECRET})
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    try:
        # the example as documented, pointed at the emulator; keys from its named variables
        monkeypatch.setenv(cfg["exchanges"]["binanceusdm"]["api_key_env"], KEY)
        monkeypatch.setenv(cfg["exchanges"]["binanceusdm"]["api_secret_env"], SECRET)
        cfg["exchanges"]["binanceusdm"]["base_url"] = server.url
        cfg["state"]["state_path"] = str(tmp_path / "portfolio.sqlite")
        cfg["portfolio"]["lookback_bars"] = HISTORY
        cfg["data"]["history_bars"] = HISTORY
        path = tmp_path / "portfolio_real.yaml"
        path.write_text(yaml.safe_dump(cfg))
        result = CliRunner().invoke(app, ["portfolio", str(path), "--steps", "1", "--json"])
        assert result.exit_code == 0, result.output
        status = json.loads(result.output[result.output.index("{\n") :])
        assert status["portfolio"]["mode"] == "REAL"
        assert status["portfolio"]["bars"] == HISTORY
        assert set(status["legs"]) == set(SYMBOLS)
        assert all(live_ids(server, s) for s in SYMBOLS)
        assert server.served["GET", "/fapi/v1/exchangeInfo"] == 1
        assert KEY not in result.output and SECRET not in result.output
        # without keys: a clear error and exit code 2
        monkeypatch.delenv(cfg["exchanges"]["binanceusdm"]["api_secret_env"])
        result = CliRunner().invoke(app, ["portfolio", str(path), "--steps", "1"])
        assert result.exit_code == 2
        assert "api_secret_env" in result.output or "GRIDHEDGE_API_SECRET" in result.output
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.mark.usefixtures("keys_env")
async def test_real_portfolio_on_bybit_trades_both_legs_with_ccxt_symbols(
    tmp_path: pathlib.Path,
) -> None:
    """The same portfolio on Bybit (``gridhedge sim --dialect bybit``): legs named by ccxt's
    symbols, one connection, inventory from the same unified account's coins, every order
    on the emulator the leg's own and tracked in the shared state."""
    books = {"BTC/USDT:USDT": "BTCUSDT", "ETH/USDT:USDT": "ETHUSDT"}
    async with SimServer(sim_exchange(), secrets={KEY: SECRET}, dialect="bybit") as bybit:
        cfg = real_config(bybit.url, tmp_path / "bybit.sqlite")
        cfg["exchanges"] = {"bybit": {**cfg["exchanges"]["binanceusdm"], "spot_exchange": "bybit"}}
        for leg, symbol in zip(cfg["legs"], books, strict=True):
            leg["symbol"] = symbol
            leg["exchange"] = "bybit"
        runner = PortfolioRunner(cfg, sleep=emulator_clock(bybit), retry=FAST)
        async with runner:
            report = await runner.run(6)
            assert report is not None and report.bars == HISTORY
            (conn,) = runner.connections.values()
            assert all(leg.bot.broker.exchange is conn.client for leg in runner.legs)  # type: ignore[attr-defined]
            for leg in runner.legs:
                book = bybit.exchange.books[books[leg.symbol]]
                live = {o.client_order_id for o in book.orders.values() if o.live}
                assert live, f"{leg.symbol} placed no order"
                assert all(parse_client_order_id(leg.bot.bot_id, leg.symbol, c) for c in live)
                assert live <= {o.client_order_id for o in leg_state(leg).orders(live_only=True)}
                trades = {str(t.trade_id) for t in book.trades}
                assert {f.trade_id for f in leg_state(leg).fills()} <= trades
            eth = await runner.legs[1].bot.broker.fetch_position("ETH/USDT:USDT")
            assert eth.spot_amount == Decimal("30")
        assert not bybit.unhandled
    assert all(c.closed for c in runner.connections.values())


def test_spot_inventory_must_be_the_same_exchanges() -> None:
    """A leg's inventory is read from its own exchange's spot account: Bybit futures with
    Binance spot is refused, naming the setting, the value and the rule."""
    cfg = real_config("http://127.0.0.1:1", pathlib.Path("/nonexistent/x.sqlite"))
    cfg["exchanges"] = {"bybit": {**cfg["exchanges"]["binanceusdm"], "spot_exchange": "binance"}}
    with pytest.raises(ConfigError) as err:
        PortfolioRunner(cfg)
    e = err.value
    assert (e.field, e.value) == ("exchanges.bybit.spot_exchange", "'binance'")
    assert e.rule is not None and "same exchange" in e.rule
