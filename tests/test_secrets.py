"""Secrets never leak: a full REAL run against the emulator (with faults and an auth error)
is grepped for the API key and secret in every log line, every state row, every exception
text and every repr."""

from __future__ import annotations

import pathlib
import sqlite3
from typing import Any

from loguru import logger

from gridhedge import GridHedgeError
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.execution.broker_factory import create_broker, replay_for
from gridhedge.execution.ccxt_broker import CcxtBroker
from gridhedge.execution.paper import default_market
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.sim import Bars, SimExchange, SimServer, SymbolSpec

KEY = "gh-test-key-7f3a9c1e5b2d4f60"
SECRET = "gh-test-secret-b8e2d4c6a1f3e5d7c9b0"


async def test_no_key_or_secret_in_logs_state_errors_or_reprs(tmp_path: pathlib.Path) -> None:
    lines: list[str] = []
    handler = logger.add(lines.append, level="TRACE", format="{level} {message}")
    errors: list[str] = []
    provider: ReplayDataProvider = replay_for("BTCUSDT", bars=700, history_bars=500)
    spec = SymbolSpec(
        "BTCUSDT", "BTC", default_market("BTCUSDT"), Bars.from_candles(provider.candles)
    )
    exchange = SimExchange(
        [spec], start_bar=provider.cursor, wallet_usdt="100000", spot_balances={"BTC": "1"}
    )
    db = tmp_path / "bot.sqlite"
    config: dict[str, Any] = {
        "grid_spacing_pct": "0.004",
        "max_position_size": "1.5",
        "state_path": str(db),
        "bot_id": "secret-test",
        "logging": {"level": "TRACE"},
    }
    try:
        async with SimServer(exchange, secrets={KEY: SECRET}) as sim:
            broker = create_broker(
                "REAL", api_key=KEY, api_secret=SECRET, base_url=sim.url, spot_exchange="binance"
            )
            assert isinstance(broker, CcxtBroker)
            texts = [repr(broker), str(broker)]
            try:
                bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=config)
                sim.faults.add("reject", probability=0.3, method="POST")
                for _ in range(15):
                    await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
                    sim.advance(1)
                texts += [repr(bot), repr(bot.get_status()), repr(bot.config)]
                bot.state.close()  # type: ignore[attr-defined]
            finally:
                await broker.close()
            # a wrong secret: the exchange refuses, and the error must not carry either value
            bad = create_broker(
                "REAL",
                api_key=KEY,
                api_secret=SECRET + "x",
                base_url=sim.url,
                spot_exchange="binance",
            )
            try:
                await bad.fetch_position("BTCUSDT")
            except Exception as e:  # whatever the error is, its text must be clean
                errors.append(f"{type(e).__name__}: {e!r} {e}")
                if isinstance(e, GridHedgeError):
                    errors.append(f"{e.field} {e.value} {e.rule}")
            finally:
                await bad.close()
    finally:
        logger.remove(handler)
    con = sqlite3.connect(db)
    dump = "\n".join(con.iterdump())
    con.close()
    assert len(lines) > 50
    assert "orders" in dump
    assert dump.count('INSERT INTO "fills"') + dump.count("INSERT INTO fills") >= 0
    for name, text in [
        ("logs", "\n".join(lines)),
        ("state", dump),
        ("errors", "\n".join(errors)),
        ("reprs", "\n".join(texts)),
    ]:
        assert KEY not in text, f"the API key leaked into {name}"
        assert SECRET not in text, f"the API secret leaked into {name}"


def test_loaded_keys_are_redacted_from_every_log_line() -> None:
    """Loading the keys registers them: a line that formats one anyway shows ``***``."""
    from gridhedge.execution.secrets import load_api_keys

    lines: list[str] = []
    handler = logger.add(lines.append, level="TRACE", format="{message}")
    try:
        load_api_keys(KEY, SECRET, env={})
        logger.warning("a careless line with {} and {}", KEY, SECRET)
    finally:
        logger.remove(handler)
    assert lines and all(KEY not in line and SECRET not in line for line in lines)
    assert "***" in lines[-1]
