"""A bot killed mid-run comes back from its SQLite state and carries on: nothing lost, nothing
duplicated. The PAPER broker plays the exchange that outlives the bot process."""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections import Counter
from decimal import Decimal

from loguru import logger
from typer.testing import CliRunner

from gridhedge.cli import app
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.state.sqlite import SQLiteStateManager

CONFIG = {"grid_spacing_pct": "0.005", "num_levels": 4, "max_position_size": "1.5"}


def test_restart_reconciles_and_never_duplicates(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "bot.sqlite"
    cfg = {**CONFIG, "state_path": str(db), "bot_id": "restart-test"}
    lines: list[str] = []
    handler = logger.add(lines.append, format="{message}", level="INFO")

    async def go() -> tuple[PaperBroker, GridHedgeBot]:
        broker = create_broker("PAPER", bars=900, seed=5)
        assert isinstance(broker, PaperBroker)
        first = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=cfg)
        await first.run(max_iterations=150)
        # the process dies here: no stop(), the state file stays as it was left
        first.state.close()  # type: ignore[attr-defined]  # (the OS would release it)
        # while the bot is down the market moves and resting orders fill
        broker.data_provider.advance(40)
        second = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=cfg)
        await second.run(max_iterations=150)
        return broker, second

    try:
        broker, second = asyncio.run(go())
    finally:
        logger.remove(handler)
    state = second.state
    assert isinstance(state, SQLiteStateManager)
    # no client order id was ever placed twice
    placed = Counter(e.client_order_id for e in broker.events if e.event == "place")
    assert placed and max(placed.values()) == 1
    # never two live orders for one key
    live_keys = Counter(o.key for o in broker._live.values())
    assert not live_keys or max(live_keys.values()) == 1
    # every exchange fill is in the state, including those made while the bot was down
    assert {f.trade_id for f in state.fills()} == {f.trade_id for f in broker.fills}
    # the state's live orders are exactly the exchange's resting ones
    assert {o.client_order_id for o in state.orders(live_only=True)} >= {
        o.client_order_id for o in broker._live.values()
    }
    summary = [line for line in lines if line.startswith("Reconciled BTCUSDT")]
    assert len(summary) == 2
    assert "fill(s) recorded while down" in summary[1]
    assert broker.account.position >= Decimal("-1.5")


def test_status_command_prints_the_state(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "s.sqlite"
    s = SQLiteStateManager(db, "bot-x", "hash123")
    s.save({"policy": {"center_ticks": 1}})
    s.close()
    result = CliRunner().invoke(app, ["status", "--db", str(db), "--bot-id", "bot-x", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["config_hash"] == "hash123"
    assert data["state"]["policy"]["center_ticks"] == 1
    table = CliRunner().invoke(app, ["status", "--db", str(db), "--bot-id", "bot-x"])
    assert table.exit_code == 0
    assert "bot-x" in table.output
    missing = CliRunner().invoke(app, ["status", "--db", str(tmp_path / "nope.sqlite")])
    assert missing.exit_code == 2
    assert "no state file" in missing.output
