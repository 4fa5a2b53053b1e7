"""The emulator on loopback: orders per second through ccxt's unmodified ``binanceusdm``
(create + cancel, signed, one client), against the baseline of a bare signed ``GET /time``-like
round trip (openOrders); and the latency of one REAL-mode rebalance of the bot (p50/p99).

    python benches/bench_sim.py            # full: 2000 orders, 300 rebalances
    python benches/bench_sim.py --quick    # CI: < 30 s
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from loguru import logger

from gridhedge.execution.broker_factory import create_broker, replay_for
from gridhedge.execution.paper import default_market
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    Bars,
    SimExchange,
    SimServer,
    SymbolSpec,
)
from gridhedge.sim.client import binanceusdm

CONFIG = {
    "grid_spacing_pct": "0.004",
    "num_levels": 5,
    "max_position_size": "1.5",
    "max_drawdown": "0.5",
    "stop_loss_pct": "0.04",
    "var_limit": "100000",
    "max_active_orders": 10,
    "rebalance_interval": 3600,
}


def exchange_on(provider_bars: int, history: int) -> tuple[SimExchange, object]:
    provider = replay_for("BTCUSDT", bars=provider_bars, history_bars=history)
    spec = SymbolSpec(
        "BTCUSDT", "BTC", default_market("BTCUSDT"), Bars.from_candles(provider.candles)
    )
    ex = SimExchange(
        [spec], start_bar=provider.cursor, wallet_usdt="1000000", spot_balances={"BTC": "1"}
    )
    return ex, provider


async def orders_per_second(n: int) -> tuple[float, float]:
    exchange, _ = exchange_on(700, 500)
    async with SimServer(exchange) as sim:
        ex = binanceusdm(sim.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
        try:
            await ex.load_markets()
            last = float(exchange.last_price("BTCUSDT"))
            t0 = time.perf_counter()
            for i in range(n):
                o = await ex.create_order(
                    "BTC/USDT:USDT",
                    "limit",
                    "buy",
                    0.01,
                    round(last * 0.9, 1),
                    {"clientOrderId": f"b-{i}"},
                )
                await ex.cancel_order(o["id"], "BTC/USDT:USDT")
            orders = n / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(n):
                await ex.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
            baseline = n / (time.perf_counter() - t0)
        finally:
            await ex.close()
    return orders, baseline


async def rebalance_latency(steps: int) -> list[float]:
    exchange, _ = exchange_on(500 + steps + 10, 500)
    async with SimServer(exchange) as sim:
        broker = create_broker(
            "REAL",
            api_key=DEFAULT_API_KEY,
            api_secret=DEFAULT_API_SECRET,
            base_url=sim.url,
            spot_exchange="binance",
        )
        try:
            bot = await GridHedgeBot.create(broker=broker, symbol="BTCUSDT", config=CONFIG)
            times = []
            for _ in range(steps):
                price = await bot.data_provider.get_current_price("BTCUSDT")
                t0 = time.perf_counter()
                await bot.execute(price)
                times.append(time.perf_counter() - t0)
                sim.advance(1)
            trades = len(exchange.books["BTCUSDT"].trades)
        finally:
            await broker.close()
    print(f"  ({steps} rebalances, {trades} fills, {len(exchange.books['BTCUSDT'].orders)} orders)")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (< 30 s)")
    args = parser.parse_args()
    logger.disable("gridhedge")
    n, steps = (300, 60) if args.quick else (2000, 300)
    orders, baseline = asyncio.run(orders_per_second(n))
    print(f"orders through ccxt on loopback: {orders:,.0f} create+cancel pairs/s ({n} pairs)")
    print(
        f"  baseline signed GET openOrders: {baseline:,.0f} req/s; "
        f"ratio pair/request = {baseline / orders:.2f}"
    )
    times = asyncio.run(rebalance_latency(steps))
    q = statistics.quantiles(times, n=100)
    print(
        f"REAL rebalance (bot.execute) p50 {q[49] * 1e3:.1f} ms, p99 {q[98] * 1e3:.1f} ms, "
        f"mean {statistics.fmean(times) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
