"""The chaos test's bot process: the grid bot in REAL mode against an already-running emulator,
SQLite state at ``--db``, one emulator bar per rebalance (the test SIGKILLs it, or it kills itself
at a crash point named by ``GRIDHEDGE_CRASH_AT``).

    python tests/chaos_bot.py --port P --db PATH --iterations N [--dialect bybit]
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from typing import Any

import aiohttp

from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.ccxt_broker import RetryPolicy
from gridhedge.grid.bot import ExecutionReport, GridHedgeBot
from gridhedge.live.runner import Backoff, LiveRunner
from gridhedge.sim import DEFAULT_API_KEY, DEFAULT_API_SECRET

BOT_ID = "chaos"
HISTORY = 60
CONFIG: dict[str, Any] = {
    "grid_spacing_pct": "0.003",
    "num_levels": 4,
    "max_position_size": "1.5",
    "max_drawdown": "0.5",
    "stop_loss_pct": "0.04",
    "var_limit": "100000",
    "max_active_orders": 8,
    "history_bars": HISTORY,
    "rebalance_interval": "0.001",  # the emulator's clock moves per execute, not in real time
    # cooldowns are seconds turned into decisions by rebalance_interval: here they would last
    # millions of executes; the stop's grid-side pause is off so the grid keeps trading
    "stop_cooldown": "0",
    "bot_id": BOT_ID,
}


ACCOUNTS = {"binance": ("binanceusdm", "binance"), "bybit": ("bybit", "bybit")}
"""Emulator dialect -> the bot's futures and spot exchange ids."""
BOT_SYMBOL = {"binance": "BTCUSDT", "bybit": "BTC/USDT:USDT"}
"""The bot's symbol on each dialect (the emulator lists BTCUSDT)."""


def bot_config(db: str) -> dict[str, Any]:
    return {**CONFIG, "state_path": db}


def broker_for(url: str, dialect: str = "binance") -> Any:
    futures, spot = ACCOUNTS[dialect]
    return create_broker(
        "REAL",
        api_key=DEFAULT_API_KEY,
        api_secret=DEFAULT_API_SECRET,
        base_url=url,
        exchange=futures,
        spot_exchange=spot,
        timeout_ms=5000,
        retry=RetryPolicy(attempts=6, backoff_s=0.01, max_backoff_s=0.05, lookups=2),
    )


class SteppedBot(GridHedgeBot):
    """Advances the emulator one bar after each rebalance (its replay clock is its own)."""

    url = ""

    async def execute(self, current_price: Decimal | float | str) -> ExecutionReport:
        report = await super().execute(current_price)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/_sim/advance", json={"bars": 1}) as resp,
        ):
            resp.raise_for_status()  # (the emulator down: the runner's outage handling)
        return report


async def main(port: int, db: str, iterations: int, dialect: str) -> None:
    url = f"http://127.0.0.1:{port}"
    SteppedBot.url = url
    broker = broker_for(url, dialect)
    try:
        symbol = BOT_SYMBOL[dialect]
        bot = SteppedBot(broker, broker.data_provider, symbol, config=bot_config(db))
        # supervised as `gridhedge run` is: an outage is waited out, never an exit
        runner = LiveRunner(bot, interval_s=0.0, backoff=Backoff(base_s=0.05, cap_s=0.2))
        await runner.run(max_rebalances=iterations)
    finally:
        await broker.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--dialect", choices=sorted(ACCOUNTS), default="binance")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.db, args.iterations, args.dialect))
