"""One ``execute()`` of the bot with the in-process PAPER broker (decision + risk + sizing +
order diff, no network) against the Rust policy call alone (``PolicyEngine.decide``, the call
the bot makes), on the same replay: p50 and p99 of
each and the ratio of the p50s (the floor: execute's p50 at most 5x the policy's).

    python benches/bench_execute.py [--quick] [--data path/to/candles.csv]

With ``--data`` it also runs a PAPER replay over that file and prints the hedged book's
per-bar return variance beside the unhedged inventory's.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

from gridhedge._core import PolicyEngine
from gridhedge.demo import run_demo
from gridhedge.execution.broker_factory import create_broker
from gridhedge.execution.paper import PaperBroker
from gridhedge.grid.bot import GridHedgeBot

CONFIG = {
    "grid_spacing_pct": "0.01",
    "num_levels": 5,
    "max_position_size": "1.5",
    "var_limit": "10000",
    "logging": {"level": "ERROR"},
}


async def measure(steps: int) -> tuple[np.ndarray, np.ndarray]:
    broker = create_broker("PAPER", bars=steps + 600, seed=11)
    assert isinstance(broker, PaperBroker)
    bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=CONFIG)
    replay = broker.data_provider
    engine = PolicyEngine(bot._policy, bot.market, bot.config.data.history_bars)
    t_exec, t_policy = [], []
    for _ in range(steps):
        price = await replay.get_current_price("BTCUSDT")
        start = time.perf_counter()
        await bot.execute(price)
        t_exec.append(time.perf_counter() - start)
        # the policy call alone, on the same inputs the bot just used: a second PolicyEngine
        # fed the same candle window (the bot decides through one), timed on its own
        c = replay.window(bot.config.data.history_bars)
        position = await broker.fetch_position("BTCUSDT")
        lots = bot.market.amount_to_lots(abs(position.futures_amount))
        start = time.perf_counter()
        engine.decide(
            price,
            c.timestamp,
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
            0.0,
            position.spot_amount,
            -lots if position.futures_amount < 0 else lots,
            100_000,
            100_000,
            center_ticks=bot._policy_state["center_ticks"],
            ref_short_lots=bot._policy_state["ref_short_lots"],
        )
        t_policy.append(time.perf_counter() - start)
        replay.advance(1)
    return np.array(t_exec), np.array(t_policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", help="candle file for a real-data PAPER run")
    args = parser.parse_args()
    steps = 300 if args.quick else 3000
    t_exec, t_policy = asyncio.run(measure(steps))
    p = lambda a, q: float(np.percentile(a, q)) * 1e6  # noqa: E731
    print(f"execute() with the PAPER broker vs the Rust policy call alone ({steps} steps)")
    print(f"  execute():  p50 {p(t_exec, 50):8.1f} us   p99 {p(t_exec, 99):8.1f} us")
    print(f"  engine:     p50 {p(t_policy, 50):8.1f} us   p99 {p(t_policy, 99):8.1f} us")
    print(f"  ratio of p50s: {p(t_exec, 50) / p(t_policy, 50):.2f}x  (floor: at most 5x)")
    if args.data:
        summary = asyncio.run(
            run_demo(bars=None, data_path=args.data, show_progress=False, status_every=10**9)
        )
        print(f"real-data PAPER run over {args.data}: {summary.bars:,} bars")
        print(f"  hedged book per-bar return variance:    {summary.hedged_return_std**2:.3e}")
        print(f"  unhedged inventory per-bar return var.: {summary.unhedged_return_std**2:.3e}")
        lower = summary.hedged_return_std < summary.unhedged_return_std
        verdict = "below" if lower else "NOT below"
        print(f"  the hedged variance is {verdict} the unhedged one")


if __name__ == "__main__":
    main()
