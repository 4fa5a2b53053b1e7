"""The main job, offline: the bot in PAPER mode over a replayed synthetic year, at accelerated
time, with a progress bar, seed-style status lines and a final summary."""

from __future__ import annotations

import asyncio
import math
import pathlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gridhedge.common.types import TradingMode
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.grid.config import GridHedgeConfig

DEMO_CONFIG: dict[str, Any] = {
    # the seed's example
    "grid_spacing_pct": "0.01",
    "num_levels": 5,
    "max_position_size": "1.5",
    "max_drawdown": "0.1",
    "stop_loss_pct": "0.04",
    "var_limit": "10000",
    "logging": {"level": "WARNING"},
}


@dataclass(frozen=True)
class DemoSummary:
    """Figures of a finished run (quote currency unless stated)."""

    bars: int
    executions: int
    start_price: float
    end_price: float
    start_equity: float
    end_equity: float
    futures_pnl: Decimal
    fees: Decimal
    funding: Decimal
    fills: int
    hedge_ratio_mean: float
    hedge_ratio_min: float
    hedge_ratio_max: float
    max_drawdown: float
    var_breaches: int
    hedged_return_std: float
    """Per-bar std of the hedged book's equity returns."""
    unhedged_return_std: float
    """Per-bar std of the spot inventory's returns alone."""
    halted: bool
    data_source: str = ""
    """Where the market and its funding came from (synthetic, a file)."""

    def table(self) -> Table:
        t = Table(title="gridhedge demo: PAPER run summary", show_header=False)
        rows = [
            ("market data", self.data_source or "n/a"),
            ("bars replayed / executions", f"{self.bars:,} / {self.executions:,}"),
            ("price start -> end", f"{self.start_price:,.2f} -> {self.end_price:,.2f}"),
            ("equity start -> end", f"{self.start_equity:,.2f} -> {self.end_equity:,.2f}"),
            ("futures PnL (net of fees, funding)", f"{self.futures_pnl:,.2f}"),
            ("fees paid", f"{self.fees:,.2f}"),
            ("funding received", f"{self.funding:,.2f}"),
            ("fills", f"{self.fills:,}"),
            (
                "hedge ratio mean [min, max]",
                f"{self.hedge_ratio_mean:.3f} [{self.hedge_ratio_min:.3f}, "
                f"{self.hedge_ratio_max:.3f}]",
            ),
            ("max drawdown of equity", f"{self.max_drawdown:.2%}"),
            ("VaR breaches (executions over var_limit)", f"{self.var_breaches:,}"),
            (
                "per-bar return std: hedged vs unhedged",
                f"{self.hedged_return_std:.5f} vs {self.unhedged_return_std:.5f}",
            ),
            ("halted by the drawdown limit", "yes" if self.halted else "no"),
        ]
        for k, v in rows:
            t.add_row(k, v)
        return t


def _max_drawdown(equity: np.ndarray) -> float:
    if len(equity) == 0:
        return 0.0
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak))


async def run_demo(
    *,
    bars: int = 8760,
    seed: int = 7,
    config: dict[str, Any] | None = None,
    data_path: str | pathlib.Path | None = None,
    console: Console | None = None,
    status_every: int = 730,
    show_progress: bool = True,
) -> DemoSummary:
    """Run the bot in PAPER mode over ``bars`` replayed bars (synthetic, or ``data_path``)."""
    console = console or Console()
    cfg = GridHedgeConfig.load({**DEMO_CONFIG, **(config or {})})
    history = cfg.data.history_bars
    broker = create_broker(
        TradingMode.PAPER,
        symbol="BTCUSDT",
        seed=seed,
        bars=bars + history,
        data_path=data_path,
        history_bars=history,
    )
    assert isinstance(broker, PaperBroker)
    bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=cfg)
    replay = broker.data_provider
    total = replay.remaining + 1
    start_equity = float(await broker.fetch_equity("BTCUSDT"))
    start_price = float(replay.candles.close[replay.cursor])
    progress = Progress(
        TextColumn("[bold]PAPER"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} bars"),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("replay", total=total)
        step = bot.cadence_bars()
        executions = 0
        while True:
            price = await replay.get_current_price("BTCUSDT")
            report = await bot.execute(price)
            executions += 1
            if executions % status_every == 0:
                console.print(
                    f"Grid Status - Price: {report.price}, "
                    f"Position: {report.position.futures_amount:.8f}, "
                    f"Equity: {report.equity:.2f}, "
                    f"Hedge: {report.decision.metrics['hedge_ratio']:.3f}"
                )
                for code, message in report.decision.reasons:
                    if code in ("var_warning", "halt"):
                        console.print(f"[yellow]{message}")
            progress.update(task, advance=step)
            if replay.advance(step) == 0:
                break
    closes = replay.candles.close[history : replay.cursor + 1].astype(float)
    equity = np.asarray(bot.stats.equity, dtype=float)
    hedged = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(1)
    spot_value = float(broker.spot_amount) * np.asarray(bot.stats.prices)
    unhedged = np.diff(spot_value) / spot_value[:-1] if len(spot_value) > 1 else np.zeros(1)
    hr = np.asarray(bot.stats.hedge_ratio, dtype=float)
    end_price = float(closes[-1]) if len(closes) else start_price
    acct = broker.account
    return DemoSummary(
        bars=total,
        executions=executions,
        start_price=start_price,
        end_price=end_price,
        start_equity=start_equity,
        end_equity=float(broker.equity_at(end_price)),
        futures_pnl=acct.net_pnl(end_price),
        fees=acct.fees,
        funding=acct.funding,
        fills=len(broker.fills),
        hedge_ratio_mean=float(hr.mean()) if len(hr) else math.nan,
        hedge_ratio_min=float(hr.min()) if len(hr) else math.nan,
        hedge_ratio_max=float(hr.max()) if len(hr) else math.nan,
        max_drawdown=_max_drawdown(equity),
        var_breaches=bot.stats.var_breaches,
        hedged_return_std=float(np.std(hedged, ddof=1)) if len(hedged) > 1 else 0.0,
        unhedged_return_std=float(np.std(unhedged, ddof=1)) if len(unhedged) > 1 else 0.0,
        halted=bool(bot.get_status()["halted"]),
        data_source=(
            f"{'synthetic market (seeded)' if data_path is None else data_path}; "
            f"funding: {replay.candles.funding_origin}"
        ),
    )


def main(bars: int = 8760, seed: int = 7, data_path: str | None = None) -> DemoSummary:
    """Run the demo and print its summary."""
    console = Console()
    summary = asyncio.run(run_demo(bars=bars, seed=seed, data_path=data_path, console=console))
    console.print(summary.table())
    return summary
