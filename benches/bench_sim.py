"""The emulator on loopback: orders per second through ccxt's unmodified ``binanceusdm``
(create + cancel, signed, one client) with the rate limits lifted and at Binance's values (300
orders / 10 s: past them -1015, and the client waits for the next window), against the baseline
of a bare signed round trip (openOrders); and the latency of one REAL-mode rebalance of the bot
(p50/p99, limits lifted: the rebalances run back to back) with the request weight it spends.

    python benches/bench_sim.py            # 2000 pairs lifted, 700 at Binance's; 300 steps
    python benches/bench_sim.py --quick    # CI: < 40 s
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
from loguru import logger

from gridhedge.execution.broker_factory import create_broker, replay_for
from gridhedge.execution.paper import default_market
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    Bars,
    Limits,
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


async def orders_per_second(n: int, limits: Limits) -> tuple[float, float, int]:
    """create+cancel pairs/s, baseline requests/s, and how many orders the limit refused."""
    exchange, _ = exchange_on(700, 500)
    async with SimServer(exchange, limits=limits) as sim:
        ex = binanceusdm(sim.url, DEFAULT_API_KEY, DEFAULT_API_SECRET)
        refused = 0
        try:
            await ex.load_markets()
            last = float(exchange.last_price("BTCUSDT"))
            t0 = time.perf_counter()
            for i in range(n):
                while True:
                    try:
                        o = await ex.create_order(
                            "BTC/USDT:USDT",
                            "limit",
                            "buy",
                            0.01,
                            round(last * 0.9, 1),
                            {"clientOrderId": f"b-{i}"},
                        )
                        break
                    except ccxt.DDoSProtection:  # -1015: wait for the next 10 s window
                        refused += 1
                        await asyncio.sleep(10 - time.time() % 10 + 0.01)
                await ex.cancel_order(o["id"], "BTC/USDT:USDT")
            orders = n / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(min(n, 1000)):
                await ex.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
            baseline = min(n, 1000) / (time.perf_counter() - t0)
        finally:
            await ex.close()
    return orders, baseline, refused


async def rebalance_latency(steps: int) -> list[float]:
    exchange, _ = exchange_on(500 + steps + 10, 500)
    # limits lifted: the rebalances run back to back (an hour of market time each), the
    # latency is the bot's, and the weight it spends is reported against USD-M's 2400/min
    async with SimServer(exchange, limits=Limits.lifted()) as sim:
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
    weight = sim.limiters["fapi"].total_weight
    print(
        f"  ({steps} rebalances, {trades} fills, {len(exchange.books['BTCUSDT'].orders)} orders,"
        f" {weight / steps:.1f} request weight per rebalance of USD-M's 2400/min,"
        " at one rebalance an hour)"
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (< 30 s)")
    args = parser.parse_args()
    logger.disable("gridhedge")
    n, n_binance, steps = (300, 400, 60) if args.quick else (2000, 700, 300)
    orders, baseline, _ = asyncio.run(orders_per_second(n, Limits.lifted()))
    print(
        f"orders through ccxt on loopback, limits lifted: {orders:,.0f} create+cancel pairs/s "
        f"({n} pairs)"
    )
    print(
        f"  baseline signed GET openOrders: {baseline:,.0f} req/s; "
        f"ratio pair/request = {baseline / orders:.2f}"
    )
    capped, _, refused = asyncio.run(orders_per_second(n_binance, Limits()))
    print(
        f"orders through ccxt at Binance's limits (300 orders/10 s): {capped:,.1f} create+cancel"
        f" pairs/s ({n_binance} pairs, {refused} orders refused -1015 and resent)"
    )
    times = asyncio.run(rebalance_latency(steps))
    q = statistics.quantiles(times, n=100)
    print(
        f"REAL rebalance (bot.execute) p50 {q[49] * 1e3:.1f} ms, p99 {q[98] * 1e3:.1f} ms, "
        f"mean {statistics.fmean(times) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
