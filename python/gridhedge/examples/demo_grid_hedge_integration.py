"""The seed's integration demo: ``TRADING_MODE=paper python -m
gridhedge.examples.demo_grid_hedge_integration`` runs the bot over a replayed synthetic year
(offline, no keys) and prints its summary. RECOMMENDATION prints the plan instead."""

from __future__ import annotations

import asyncio
import os

from gridhedge.common.types import TradingMode


def main() -> None:
    mode = TradingMode.parse(os.environ.get("TRADING_MODE"))
    if mode is TradingMode.PAPER:
        from gridhedge.demo import main as demo

        demo()
        return
    from gridhedge.execution.broker_factory import create_broker
    from gridhedge.grid.bot import GridHedgeBot

    async def recommend() -> None:
        broker = create_broker(trading_mode=mode, plan_path="out/recommendation.json")
        bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config={})
        price = await bot.data_provider.get_current_price("BTCUSDT")
        report = await bot.execute(price)
        print(report.recommendation.commentary)
        print("plan written to out/recommendation.json")

    asyncio.run(recommend())


if __name__ == "__main__":
    main()
