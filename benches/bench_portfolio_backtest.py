"""The portfolio backtester (Rust ``portfolio_backtest``) vs its two baselines, same bars.

Work: BTC + ETH (``gridhedge.data.correlated``: hourly correlation 0.8, ETH 1.3x as volatile),
each leg the bot's policy at a 2-bar cadence, the portfolio layer (EWMA covariance over 500
bars, VaR, budgets, shrink, drawdown) at every rebalance, with a ``var_limit`` that binds.

Baselines:
- the legs alone: one single-symbol ``run_backtest`` per leg (no portfolio layer), so the
  ratio is the portfolio layer's overhead;
- the PAPER ``PortfolioRunner`` (the Python driver the backtester agrees with event for event,
  see ``tests/test_portfolio_backtest.py``) over the first ``runner_bars`` bars only, compared
  per rebalance.

    python benches/bench_portfolio_backtest.py            # full: 1 year of hourly bars
    python benches/bench_portfolio_backtest.py --quick    # CI: 3 months
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gridhedge.backtest import run_backtest
from gridhedge.grid.config import GridHedgeConfig, LoggingSettings
from gridhedge.logs import configure_logging
from gridhedge.portfolio import PortfolioRunner
from gridhedge.portfolio.backtest import run_portfolio_backtest
from gridhedge.portfolio.runner import leg_config, synthetic_legs

LEG = {"rebalance_interval": "7200", "logging": {"level": "ERROR"}}


def config(bars: int, var_limit: float) -> dict[str, Any]:
    return {
        "portfolio": {"var_limit": var_limit, "max_drawdown": 0.5},
        "data": {"seed": 7, "bars": bars, "history_bars": 500},
        "legs": [
            {
                "symbol": "BTCUSDT",
                "spot_amount": "1",
                "start_price": 95236.15,
                "price_decimals": 1,
                "config": {**LEG, "max_position_size": "1.5"},
            },
            {
                "symbol": "ETHUSDT",
                "spot_amount": "30",
                "start_price": 3412.55,
                "correlation": 0.8,
                "vol_ratio": 1.3,
                "config": {**LEG, "max_position_size": "40"},
            },
        ],
    }


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    args = parser.parse_args()
    bars = 500 + (24 * 91 if args.quick else 8760)
    runner_bars = 500 + (40 if args.quick else 200)
    cfg = config(bars, 1400.0)
    candles = synthetic_legs(cfg)
    result = run_portfolio_backtest(cfg, candles=candles)
    m = result.metrics
    print(
        f"2 legs x {bars - 500} hourly bars: {m['rebalances']} rebalances, "
        f"{m['rebalances_shrunk']} shrunk, max VaR {m['max_var']:.0f} -> "
        f"{m['max_var_after_shrink']:.0f} after shrink (limit 1400)"
    )

    def legs_alone() -> None:
        for leg in cfg["legs"]:
            run_backtest(
                GridHedgeConfig.load(leg_config(leg, 500)),
                candles[leg["symbol"]],
                symbol=leg["symbol"],
                spot_amount=leg["spot_amount"],
                start=500,
                record_events=False,
                record_series=False,
            )

    def portfolio() -> None:
        run_portfolio_backtest(cfg, candles=candles, record_events=False, record_series=False)

    repeats = 3
    t_port = best_of(repeats, portfolio)
    t_alone = best_of(repeats, legs_alone)
    per_rebalance = t_port / m["rebalances"]
    small = config(runner_bars, 1400.0)
    small_candles = {k: v.slice(0, runner_bars) for k, v in candles.items()}
    runner = PortfolioRunner(small, candles=small_candles)
    configure_logging(LoggingSettings(level="ERROR"), stderr=False)  # the policy's warnings
    start = time.perf_counter()
    asyncio.run(runner.run(10_000))
    t_runner = time.perf_counter() - start
    steps = len(runner.history.var)
    runner.close()
    print(f"portfolio backtest   {t_port * 1e3:9.2f} ms  {per_rebalance * 1e6:9.1f} us/rebalance")
    print(f"legs alone           {t_alone * 1e3:9.2f} ms  portfolio layer x{t_port / t_alone:.2f}")
    print(
        f"PAPER PortfolioRunner {t_runner / steps * 1e6:8.1f} us/rebalance ({steps} rebalances)  "
        f"ratio {t_runner / steps / per_rebalance:7.1f}x"
    )


if __name__ == "__main__":
    main()
