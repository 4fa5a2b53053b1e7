"""Risk controls that reduce risk in every state (issue 15), end to end: the halt de-risks and
sticks until ``gridhedge resume``; injected risk managers and custom calculators pass the same
gates; on the real hourly BTC candles (../shared/data) the default config never holds a
position above its cap, de-risks on its halt and its stop fires in the 2018 decline."""

from __future__ import annotations

import asyncio
import pathlib
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from gridhedge._core import Decision
from gridhedge.common.interfaces import GridCalculator, RiskAnalyzer, RiskManager, RiskReport
from gridhedge.common.types import (
    Adjustment,
    GridLevel,
    HedgeRecommendation,
    MarketState,
    Position,
    Priority,
    Side,
)
from gridhedge.execution.broker_factory import create_broker
from gridhedge.grid.bot import GridHedgeBot

REAL = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_FILE = REAL / "btcusd_1h_2018_2022.csv"
QUIET = {"logging": {"level": "ERROR"}}


class HaltingManager(RiskManager):
    """An injected risk manager whose verdict is always: halt."""

    def evaluate(self, decision: Decision, position: Position, market: MarketState) -> RiskReport:
        return RiskReport(halted=True, var=0.0, var_limit=1.0, drawdown=0.0, max_drawdown=0.1)


class Greedy(GridCalculator):
    """A custom calculator asking for far more than the caps allow."""

    def calculate_grid_levels(self, market: MarketState, position: Position) -> list[GridLevel]:
        p = market.price
        return [
            GridLevel(Side.BUY, 1, p * Decimal("0.99"), Decimal("5")),
            GridLevel(Side.SELL, 1, p * Decimal("1.01"), Decimal("5")),
        ]


def test_an_injected_risk_managers_halt_acts() -> None:
    async def go() -> Any:
        broker = create_broker("PAPER", spot_amount="1")
        bot = await GridHedgeBot.create(
            broker=broker, symbol="BTCUSDT", config=QUIET, risk_manager=HaltingManager()
        )
        return await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))

    report = asyncio.run(go())
    assert report.decision.halted
    assert all(o.role != "grid" for o in report.decision.orders)
    assert report.sync.placed, "the de-risking order to the safe hedge is sent"
    assert all(not o.key.startswith("g") for o in report.sync.placed)


def test_custom_calculator_orders_pass_the_joint_cap_and_the_halt() -> None:
    cfg = {**QUIET, "max_position_size": "2"}

    async def go(risk: RiskManager | None) -> Any:
        broker = create_broker("PAPER", spot_amount="1")
        kw: dict[str, Any] = {"risk_manager": risk} if risk else {}
        bot = GridHedgeBot(
            broker, broker.data_provider, "BTCUSDT", grid_calculator=Greedy(), config=cfg, **kw
        )
        await bot.start()
        return await bot.execute(await bot.data_provider.get_current_price("BTCUSDT"))

    report = asyncio.run(go(None))
    placed = report.sync.placed
    short = -report.position.futures_amount
    for side, sign in (("sell", 1), ("buy", -1)):
        total = sum(o.amount for o in placed if o.side.value == side)
        # every order of the side filling in one bar keeps |position| <= 2
        assert abs(-short - sign * total) <= Decimal(2) or total == 0
        assert sign * short + total <= Decimal(2)
    assert all(o.amount < Decimal(5) for o in placed if o.key.startswith("g"))
    halted = asyncio.run(go(HaltingManager()))
    assert not any(o.key.startswith("g") for o in halted.sync.placed), "no grid while halted"


def test_resume_cli_lifts_a_saved_halt(tmp_path: pathlib.Path) -> None:
    from gridhedge.cli import app
    from gridhedge.state.sqlite import SQLiteStateManager

    db = tmp_path / "bot.sqlite"
    store = SQLiteStateManager(db, "btcusdt-grid")
    store.save({"halted": True, "high_water_mark": "123", "policy": {"center_ticks": 5}})
    store.close()
    runner = CliRunner()
    bad = runner.invoke(app, ["resume", "--state", str(db), "--reason", " "])
    assert bad.exit_code == 2 and "reason" in bad.output
    ok = runner.invoke(app, ["resume", "--state", str(db), "--reason", "reviewed the drawdown"])
    assert ok.exit_code == 0, ok.output
    assert "halt lifted" in ok.output
    store = SQLiteStateManager(db, "btcusdt-grid")
    saved = store.load()
    store.close()
    assert saved["halted"] is False and saved["high_water_mark"] == "0"
    assert saved["policy"] == {"center_ticks": 5, "halt_age": 0}
    missing = runner.invoke(app, ["resume", "--state", str(tmp_path / "no.sqlite"), "-r", "x"])
    assert missing.exit_code == 2 and "does not" in " ".join(missing.output.split())


@pytest.mark.skipif(
    not REAL_FILE.exists(),
    reason=f"the real candle file {REAL_FILE} is not in this checkout (CI has it)",
)
def test_default_config_on_real_hourly_btc() -> None:
    from gridhedge.backtest.engine import run_backtest
    from gridhedge.data.files import load_candles
    from gridhedge.grid.config import GridHedgeConfig

    candles = load_candles(REAL_FILE)
    config = {**QUIET, "data": {"timeframe": "1h"}}
    cap = float(GridHedgeConfig.load(config).risk.max_position_size)
    r = run_backtest(config, candles)
    s = r.series
    assert float(np.abs(s["position"]).max()) <= cap + 1e-12, "no bar above the cap"
    keys = r.orders["key"].to_numpy().astype(str)
    fill_keys = keys[r.fills["order"].to_numpy()]
    stop_fills = r.fills[np.char.startswith(fill_keys, "x")]
    in_2018 = stop_fills[stop_fills["time"].dt.year == 2018]
    print(f"stop fills: {len(stop_fills)} in all, {len(in_2018)} in 2018")
    assert len(in_2018) > 0, "the stop fires in the 2018 decline"
    net = 1.0 + s["position"]  # spot 1 plus the (negative) futures position
    if r.metrics["halted"]:
        at = int((s["drawdown"] >= float(GridHedgeConfig.load(config).risk.max_drawdown)).argmax())
        after = net.iloc[at + 1 :]
        peak = float(s["equity"].iloc[: at + 1].max())
        worst = float(1 - s["equity"].iloc[at:].min() / peak)
        print(
            f"halt at {s.index[at]}: net exposure {net.iloc[at]:.3f} BTC at the halt, "
            f"max |net| after {float(after.abs().max()):.3f} BTC, drawdown after {worst:.4f}"
        )
        # the safe hedge is a full hedge: net exposure within one lot (0.001) of 0 once the
        # de-risking market order filled (the bar after the halt decision)
        assert float(after.abs().max()) <= 0.001 + 1e-9
        assert worst < 0.15, "the halt stops the drawdown near max_drawdown (it reached 54%)"


class Reviewer(RiskAnalyzer):
    """An analyzer whose review asks for a full hedge (as the LLM's), optionally CRITICAL."""

    def __init__(self, critical: bool = False) -> None:
        self.critical = critical

    async def analyze(
        self, position: Position, market: MarketState, decision: Decision
    ) -> HedgeRecommendation:
        adj = (Adjustment("halt", Priority.CRITICAL, "counterparty risk"),) if self.critical else ()
        return HedgeRecommendation(
            symbol=position.symbol,
            current_hedge_ratio=Decimal(0),
            target_hedge_ratio=Decimal(1),
            net_exposure=Decimal(0),
            margin_usage=0.0,
            funding_carry=Decimal(0),
            adjustments=adj,
            source="llm",
        )


def test_a_full_hedge_review_survives_the_funding_tilt_and_critical_adjustments_act() -> None:
    async def go(critical: bool) -> list[Any]:
        broker = create_broker("PAPER", spot_amount="1")
        bot = await GridHedgeBot.create(
            broker=broker, symbol="BTCUSDT", config=QUIET, risk_analyzer=Reviewer(critical)
        )

        async def funding(symbol: str) -> float:
            return 0.0002  # +0.02% per 8 h: the tilt alone takes the target to 1.1

        bot.data_provider.get_funding_rate = funding  # type: ignore[method-assign]
        price = await bot.data_provider.get_current_price("BTCUSDT")
        return [await bot.execute(price), await bot.execute(price)]

    first, second = asyncio.run(go(False))
    assert first.decision.metrics["target_hedge_ratio"] == pytest.approx(1.1)
    assert second.decision.metrics["target_hedge_ratio"] == 1.0, "the review is applied last"
    assert "review" in dict(second.decision.reasons)
    _, after_critical = asyncio.run(go(True))
    assert after_critical.decision.halted, "a CRITICAL adjustment halts (de-risks)"


def test_a_cap_that_empties_a_side_names_the_cap_and_the_value_restoring_it() -> None:
    from gridhedge._core import decide
    from gridhedge.execution.paper import default_market
    from gridhedge.grid.config import GridHedgeConfig
    from gridhedge.grid.policy import policy_config

    rng = np.random.default_rng(3)
    close = 50_000.0 * np.exp(np.cumsum(rng.normal(0, 0.003, 300)))
    ohlcv = (close, close * 1.001, close * 0.999, close, np.full(300, 100.0))
    seed = {**QUIET, "max_position_size": "1.0"}  # the seed's cap with 1 BTC of spot
    cfg = policy_config(GridHedgeConfig.load(seed))
    d = decide(cfg, default_market("BTCUSDT"), close[-1], *ohlcv, 0.0, 1.0, -1000, 1e5, 1e5)
    message = dict(d.reasons)["band_too_narrow"]
    assert "max_position_size 1 caps the band top" in message
    assert "max_position_size >= 1.2" in message, message
    assert all(o.side == "buy" for o in d.orders if o.role == "grid")
    # the default (1.5) gives the grid both sides
    both = decide(
        policy_config(GridHedgeConfig.load(QUIET)),
        default_market("BTCUSDT"),
        close[-1],
        *ohlcv,
        0.0,
        1.0,
        -1000,
        1e5,
        1e5,
    )
    assert {o.side for o in both.orders if o.role == "grid"} == {"buy", "sell"}
