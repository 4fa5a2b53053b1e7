"""GridHedgeBot with the seed's API: its two usage examples, PAPER and RECOMMENDATION runs."""

from __future__ import annotations

import asyncio
import json
import pathlib
from decimal import Decimal
from typing import Any

import pytest
from loguru import logger

from gridhedge import ConfigError, GridHedgeError
from gridhedge.common.interfaces import GridCalculator
from gridhedge.common.types import GridLevel, MarketState, Position, Side
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.grid.calculator import StaticGridCalculator

SEED_CONFIG = {
    "grid_spacing_pct": "0.01",  # 1% grid spacing
    "num_levels": 5,  # 5 levels each side
    "max_position_size": "1.0",  # 1 BTC max position
    "max_drawdown": "0.1",  # 10% max drawdown
    "stop_loss_pct": "0.04",  # 4% stop loss
    "var_limit": "10000",  # $10k VaR limit
}


@pytest.fixture
def log_lines() -> Any:
    lines: list[str] = []
    handler = logger.add(lines.append, format="{level} | {message}", level="DEBUG")
    yield lines
    logger.remove(handler)


def test_seed_basic_example_runs_verbatim(log_lines: list[str]) -> None:
    async def seed_example() -> GridHedgeBot:
        # --- the seed's 'Basic Example', with the package path changed ---
        from gridhedge.execution.broker_factory import create_broker
        from gridhedge.grid.bot import GridHedgeBot

        # Configuration
        config = {
            "grid_spacing_pct": "0.01",  # 1% grid spacing
            "num_levels": 5,  # 5 levels each side
            "max_position_size": "1.0",  # 1 BTC max position
            "max_drawdown": "0.1",  # 10% max drawdown
            "stop_loss_pct": "0.04",  # 4% stop loss
            "var_limit": "10000",  # $10k VaR limit
        }

        # Create and start bot
        broker = create_broker(trading_mode="PAPER")
        bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=config)

        # Execute strategy
        current_price = await bot.data_provider.get_current_price("BTCUSDT")
        await bot.execute(current_price)
        # --- end of the seed's example ---
        return bot

    bot = asyncio.run(seed_example())
    text = "\n".join(log_lines)
    assert "Initialized GridHedgeBot for BTCUSDT with 5 levels" in text
    assert "Grid Status - Price: " in text
    status = bot.get_status()
    assert status["trading_mode"] == "PAPER"
    report = bot.last_report
    assert report is not None
    # the first decision establishes the hedge (spot 1 BTC, max position 1.0) and lays a grid
    assert report.sync.placed
    kinds = {o.kind for o in report.sync.placed}
    assert "limit" in kinds


def test_seed_custom_components_example_runs_verbatim() -> None:
    async def seed_example() -> GridHedgeBot:
        broker = create_broker(trading_mode="PAPER")
        data_provider = broker.data_provider
        config = SEED_CONFIG

        # --- the seed's 'Custom Components' example, with the package path changed ---
        from gridhedge.common.interfaces import GridCalculator
        from gridhedge.grid.bot import GridHedgeBot

        class CustomGridCalculator(GridCalculator):
            """Custom grid calculation logic."""

            def calculate_grid_levels(self, market, position):  # type: ignore[no-untyped-def]
                # Custom implementation
                pass

        # Use custom calculator
        bot = GridHedgeBot(
            broker=broker,
            data_provider=data_provider,
            symbol="BTCUSDT",
            grid_calculator=CustomGridCalculator(),
            config=config,
        )
        # --- end of the seed's example ---
        await bot.start()
        await bot.execute(await data_provider.get_current_price("BTCUSDT"))
        return bot

    bot = asyncio.run(seed_example())
    report = bot.last_report
    assert report is not None
    # a calculator returning nothing means no grid orders; the risk orders still come
    assert all(o.key[0] != "g" for o in report.sync.placed)


def test_injected_calculator_levels_are_snapped_capped_and_sent() -> None:
    class Ladder(GridCalculator):
        def calculate_grid_levels(self, market: MarketState, position: Position) -> list[GridLevel]:
            p = market.price
            return [
                GridLevel(Side.SELL, 1, p * Decimal("1.0123456"), Decimal("0.30049")),
                GridLevel(Side.SELL, 2, p * Decimal("1.03"), Decimal("0.3")),
                GridLevel(Side.BUY, 1, p * Decimal("0.9876543"), Decimal("0.2")),
                GridLevel(Side.BUY, 2, p * Decimal("1.01"), Decimal("0.2")),  # wrong side: dropped
            ]

    async def go() -> GridHedgeBot:
        broker = create_broker("PAPER", spot_amount="1")
        bot = GridHedgeBot(
            broker=broker,
            data_provider=broker.data_provider,
            symbol="BTCUSDT",
            grid_calculator=Ladder(),
            config={**SEED_CONFIG, "max_position_size": "1.5"},
        )
        await bot.start()
        await bot.execute(await broker.data_provider.get_current_price("BTCUSDT"))
        return bot

    bot = asyncio.run(go())
    report = bot.last_report
    assert report is not None
    grid = {o.key: o for o in report.sync.placed if o.key.startswith("g")}
    assert set(grid) == {"gs1", "gs2", "gb1"}
    for o in grid.values():
        assert o.price == bot.market.round_price(o.price, o.side.value)  # on tick
        assert o.amount == bot.market.round_amount(o.amount)  # on lot
    assert grid["gs1"].amount == Decimal("0.300")  # 0.30049 snapped down to the lot
    # the sells may only add what the cap of 1.5 leaves beside the (pending) rebalance
    rebalance = [o for o in report.sync.placed if o.key.startswith("r")]
    assert len(rebalance) == 1
    room = Decimal("1.5") - rebalance[0].amount
    assert grid["gs1"].amount + grid["gs2"].amount <= room
    # one worst-case cap over every sell (rebalance, stop, custom grid): all of the room
    sells = sum(o.amount for o in report.sync.placed if o.side.value == "sell")
    assert sells == Decimal("1.5")


def test_paper_run_fills_keeps_limits_and_band() -> None:
    async def go() -> tuple[GridHedgeBot, PaperBroker]:
        broker = create_broker("PAPER", bars=1200, seed=3)
        assert isinstance(broker, PaperBroker)
        cfg = {**SEED_CONFIG, "max_position_size": "1.5", "max_active_orders": 8}
        bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=cfg)
        await bot.run(max_iterations=600)
        return bot, broker

    bot, broker = asyncio.run(go())
    assert len(bot.stats.equity) == 600
    assert broker.fills, "a 600-bar replay with a 1% grid must fill something"
    # never more open orders than allowed, every price on tick
    assert len(broker.book.open_orders()) <= 8
    for fill in broker.fills:
        assert fill.price == bot.market.round_price(fill.price, fill.side.value)
    # after the first rebalance the hedge ratio stays inside its band [0.8, 1.2] ...
    assert all(0.8 - 1e-9 <= h <= 1.2 + 1e-9 for h in bot.stats.hedge_ratio[2:])
    # ... and the short never exceeds max_position_size
    assert broker.account.position >= Decimal("-1.5")


def test_recommendation_places_nothing_and_writes_the_plan(tmp_path: pathlib.Path) -> None:
    plan = tmp_path / "plan.json"

    async def go() -> GridHedgeBot:
        broker = create_broker("RECOMMENDATION", plan_path=plan)
        bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=SEED_CONFIG)
        await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
        return bot

    bot = asyncio.run(go())
    assert isinstance(bot.broker, PaperBroker)
    assert bot.broker.book.open_orders() == []
    payload = json.loads(plan.read_text())
    assert payload["orders"], "the plan lists the orders it would place"
    assert {"price", "amount", "side", "client_order_id"} <= set(payload["orders"][0])
    assert payload["reasons"]


def test_real_mode_without_keys_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="ccxt"):
        create_broker(trading_mode="REAL")
    monkeypatch.setenv("TRADING_MODE", "real")
    with pytest.raises(ConfigError, match="REAL"):
        create_broker()
    monkeypatch.setenv("TRADING_MODE", "sideways")
    with pytest.raises(ConfigError, match="trading_mode"):
        create_broker()


def test_drawdown_halt_de_risks_sticks_across_a_restart_and_resume_lifts_it() -> None:
    from gridhedge.state.manager import MemoryStateManager

    store = MemoryStateManager()

    async def go() -> None:
        broker = create_broker("PAPER")
        assert isinstance(broker, PaperBroker)
        bot = await GridHedgeBot.create(
            broker=broker, symbol="BTCUSDT", config=SEED_CONFIG, state_manager=store
        )
        await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
        assert any(o.key.startswith("g") for o in store.orders(live_only=True))
        broker.cash -= Decimal(30_000)  # equity drops far below the high-water mark
        report = await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))
        assert report.decision.halted
        # the grid is cancelled; only de-risking orders (rebalance, stop) may rest
        assert all(o.role != "grid" for o in report.decision.orders)
        assert not any(o.key.startswith("g") for o in store.orders(live_only=True))
        assert bot.get_status()["halted"]
        # a restart keeps the halt
        again = await GridHedgeBot.create(
            broker=broker, symbol="BTCUSDT", config=SEED_CONFIG, state_manager=store
        )
        r2 = await again.execute(await again.data_provider.get_current_price("BTCUSDT"))
        assert r2.decision.halted
        assert all(o.role != "grid" for o in r2.decision.orders)
        with pytest.raises(GridHedgeError, match="reason"):
            again.resume("  ")
        again.resume("drawdown reviewed, restarting the grid")
        r3 = await again.execute(await again.data_provider.get_current_price("BTCUSDT"))
        assert not r3.decision.halted
        assert any(o.role == "grid" for o in r3.decision.orders)

    asyncio.run(go())


def test_static_calculator_uses_exact_core_levels() -> None:
    from gridhedge import Market

    calc = StaticGridCalculator(Market("0.10", "0.001", "0.001", "100"))
    state = MarketState("BTCUSDT", Decimal("95236.15"), 0)
    levels = calc.calculate_grid_levels(state, Position("BTCUSDT"))
    assert [str(lv.price) for lv in levels if lv.side is Side.SELL][:1] == ["96188.6"]


def test_unstarted_bot_says_so() -> None:
    broker = create_broker("PAPER")
    bot = GridHedgeBot(broker, broker.data_provider, "BTCUSDT", config=SEED_CONFIG)
    with pytest.raises(GridHedgeError, match="not started"):
        asyncio.run(bot.execute(Decimal(95000)))
