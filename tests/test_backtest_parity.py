"""Parity: the Rust backtester and a PAPER run of ``GridHedgeBot.run()`` (its real order
manager, SQLite state and replayed bars, each through its own driver) log the same events:
the same sequence of (bar, event, client order id, side, exact price, exact amount)."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal
from typing import Any

import pytest

from gridhedge.backtest import EventRow, run_backtest
from gridhedge.data.candles import Candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.state.sqlite import SQLiteStateManager

SYMBOL = "BTCUSDT"


def paper_events(
    config: GridHedgeConfig, candles: Candles, start: int, db: pathlib.Path
) -> tuple[list[EventRow], GridHedgeBot]:
    provider = ReplayDataProvider(candles, SYMBOL, start=start)
    e = config.execution
    broker = PaperBroker(
        provider,
        spot_amount="1",
        cash="0",
        maker_fee=e.maker_fee,
        taker_fee=e.taker_fee,
        participation=e.participation,
    )
    bot_id = f"{SYMBOL.lower()}-grid"
    state = SQLiteStateManager(db, bot_id)
    bot = GridHedgeBot(
        broker=broker,
        data_provider=provider,
        symbol=SYMBOL,
        config=config,
        state_manager=state,
        bot_id=bot_id,
    )
    asyncio.run(bot.run())
    log = [(b.bar, b.event, b.client_order_id, b.side, b.price, b.amount) for b in broker.events]
    return log, bot


def config(**overrides: Any) -> GridHedgeConfig:
    base: dict[str, Any] = {
        "grid": {"grid_spacing_pct": "0.004", "num_levels": 4},
        "risk": {"max_position_size": "1.5", "max_volume_share": "0.5"},
        "data": {"timeframe": "1h", "history_bars": 60},
        "execution": {"rebalance_interval": "7200"},
        "logging": {"level": "ERROR"},
    }
    for section, values in overrides.items():
        base[section] = {**base.get(section, {}), **values}
    return GridHedgeConfig.load(base)


CASES = {
    # defaults of the policy layers (dynamic spacing, EWMA, S/R, funding tilt), cadence 2
    "default_layers": config(),
    # every bar, close-to-close volatility, a tight drawdown limit that halts mid-run
    "halt_every_bar": config(
        grid={"volatility_estimator": "close_to_close", "num_levels": 3},
        risk={"max_drawdown": "0.004"},
        execution={"rebalance_interval": "3600"},
    ),
    # a slow cadence (5 bars), Parkinson, no S/R, a stop close to the center
    "slow_cadence": config(
        grid={"volatility_estimator": "parkinson", "support_resistance": False},
        risk={"stop_loss_pct": "0.01"},
        execution={"rebalance_interval": "18000"},
    ),
    # the trend guard on (a 24-bar mean, 0.5%): rungs pause in trends, both drivers alike
    "trend_guard": config(grid={"trend_guard_bars": 24, "trend_guard_pct": "0.005"}),
    # the requote gate (a decision every bar keeps the last one while its inputs stay within
    # 0.3): the bot's engine keeps exactly the decisions the backtester's does
    "requote_gate": config(execution={"rebalance_interval": "3600", "requote_tolerance": "0.3"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backtest_logs_the_paper_bots_events(case: str, tmp_path: pathlib.Path) -> None:
    cfg = CASES[case]
    candles = synthetic_candles(seed=11, bars=420, timeframe="1h", start_price=50_000.0)
    start = 60
    paper, bot = paper_events(cfg, candles, start, tmp_path / "state.db")
    result = run_backtest(cfg, candles, symbol=SYMBOL, start=start)
    backtest = result.event_log()
    kinds = {e[1] for e in backtest}
    assert {"place", "cancel", "fill"} <= kinds, kinds
    assert len(backtest) > 50
    first_diff = next(
        (i for i, (a, b) in enumerate(zip(paper, backtest, strict=False)) if a != b), None
    )
    assert first_diff is None, (
        f"first divergence at event {first_diff}: paper {paper[first_diff]} "
        f"vs backtest {backtest[first_diff]}"
    )
    assert len(paper) == len(backtest)
    assert result.metrics["decisions"] == len(bot.stats.timestamps)
    if case == "halt_every_bar":
        assert result.metrics["halted"] and bot.get_status()["halted"]
    if case == "requote_gate":
        # the gate acted on these bars: deciding every bar in full logs more orders
        every = run_backtest(
            config(execution={"rebalance_interval": "3600"}), candles, symbol=SYMBOL, start=start
        )
        assert len(every.event_log()) > len(backtest)
        assert 0 < result.metrics["decisions_kept"] < result.metrics["decisions"]
        assert every.metrics["decisions_kept"] == 0
    if case == "trend_guard":
        # the guard acted on these bars: without it the log differs
        unguarded = run_backtest(config(), candles, symbol=SYMBOL, start=start)
        assert unguarded.event_log() != backtest
    assert result.metrics["bars"] == len(candles.close) - start
    # the bot's equity at each decision is the backtest's marked-to-market equity there
    eq = result.series["equity"].to_numpy()
    bars = [int(b) - start for b in result.events["bar"].unique()[:3]]
    assert all(eq[b] > 0 for b in bars)
    assert Decimal(str(bot.stats.equity[-1])) > 0
