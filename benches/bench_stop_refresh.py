"""The protective stop's re-placements and the backtest's figures per `stop_refresh_tolerance`
(the measurement behind its default, issue 18 item 3).

For each tolerance (a fraction of the stop distance): how often the stop is cancelled and
re-placed on the same bar (an order of the stop's key cancelled on the bar its successor is
placed), the orders placed, fills, PnL, excess PnL over the static hedge, fees, the largest
|futures position| and the max drawdown, on

- the real hourly BTC candles (``--data``, default ``../shared/data/btcusd_1h_2018_2022.csv``;
  skipped with a message when absent) with the default configuration, and
- 50,000 synthetic one-minute bars with the twin's FULL configuration (every bar decided).

Tolerance 0 is the stop following every tick (the policy before the setting existed).

    python benches/bench_stop_refresh.py [--data PATH] [--tolerances 0 0.02 0.05 0.1 0.2] [--quick]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from policy_twin import FULL

from gridhedge.backtest.engine import run_backtest
from gridhedge.backtest.sweep import with_overrides
from gridhedge.data.files import load_candles
from gridhedge.data.synthetic import synthetic_candles

DEFAULT_DATA = (
    pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "btcusd_1h_2018_2022.csv"
)


def stop_replacements(orders: dict[str, Any]) -> int:
    """Stop orders cancelled on the bar their successor (same side) is placed."""
    n = 0
    for side in (ord("s"), ord("b")):
        rows = np.flatnonzero((orders["role"] == ord("x")) & (orders["side"] == side))
        prev, cur = rows[:-1], rows[1:]
        n += int((orders["cancelled_bar"][prev] == orders["placed_bar"][cur]).sum())
    return n


def report(name: str, config: Any, candles: Any, tolerances: list[str]) -> None:
    for t in tolerances:
        r = run_backtest(with_overrides(config, {"stop_refresh_tolerance": t}), candles)
        m = r.metrics
        position = np.abs(np.asarray(r.raw["series"]["position"]))
        print(
            f"{name}, tolerance {t}: stop re-placements {stop_replacements(r.raw['orders'])}, "
            f"orders placed {m['orders_placed']}, fills {m['fills']}, pnl {m['pnl']:.2f}, "
            f"excess {m['excess_pnl']:.2f}, fees {m['fees']:.2f}, "
            f"max |position| {position.max():.3f}, max drawdown {m['max_drawdown']:.4f}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA)
    ap.add_argument("--tolerances", nargs="+", default=["0", "0.02", "0.05", "0.1", "0.2"])
    ap.add_argument("--quick", action="store_true", help="CI size: tolerances 0 and 0.05")
    args = ap.parse_args()
    if args.quick:
        args.tolerances = ["0", "0.05"]
    if args.data.exists():
        report("real 1h, default config", {}, load_candles(args.data), args.tolerances)
    else:
        print(f"real candles not found at {args.data}: skipped")
    bars = 20_000 if args.quick else 50_000
    syn = synthetic_candles(seed=1, bars=bars, timeframe="1m", start_price=40_000.0)
    report(f"synthetic 1m ({bars:,} bars), FULL config", FULL, syn, args.tolerances)


if __name__ == "__main__":
    main()
