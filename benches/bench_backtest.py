"""Backtester benches (issue 8): full policy ns/bar, a plain 10-level grid through our engine
vs a numba kernel, sweep thread scaling, and peak RSS of a metrics-only sweep.

    python benches/bench_backtest.py            # full size (525,600 one-minute bars)
    python benches/bench_backtest.py --quick    # CI size
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

from gridhedge import _core
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.backtest.sweep import with_overrides
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.execution.paper import default_market

FULL: dict[str, Any] = {
    "data": {"timeframe": "1m", "history_bars": 500},
    "execution": {"rebalance_interval": "60"},
    "logging": {"level": "ERROR"},
}
# the plain grid: fixed 1% geometric spacing, 10 levels, no volatility/S-R/funding/VaR layers
PLAIN: dict[str, Any] = {
    **FULL,
    "grid": {
        "num_levels": 10,
        "grid_spacing_pct": "0.01",
        "dynamic_spacing": False,
        "support_resistance": False,
        "volatility_estimator": "close_to_close",
        "recenter_threshold_pct": "0.5",
    },
    "funding": {"funding_tilt": False},
    "risk": {"var_limit": "1e12", "max_drawdown": "0.99", "stop_loss_pct": "0.99"},
    "data": {"timeframe": "1m", "history_bars": 10},
}


def best_of(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def numba_plain_grid() -> Any:
    from numba import njit

    @njit(cache=True)
    def run(o, h, low, c, levels, spacing, size):  # type: ignore[no-untyped-def]
        # a plain geometric grid around the first close: a resting buy below and a sell above
        # each level; a filled buy re-places a sell one level up and vice versa; fills need a
        # trade-through (touch is not a fill); equity marked at each close
        center = c[0]
        n_lv = 2 * levels + 1
        prices = np.empty(n_lv)
        for i in range(n_lv):
            prices[i] = center * (1.0 + spacing) ** (i - levels)
        side = np.zeros(n_lv, np.int8)  # 1 sell resting, -1 buy resting, 0 none
        for i in range(n_lv):
            if i > levels:
                side[i] = 1
            elif i < levels:
                side[i] = -1
        pos = 0.0
        cash = 0.0
        equity = np.empty(len(c))
        for t in range(len(c)):
            for i in range(n_lv):
                if side[i] == 1 and h[t] > prices[i]:
                    pos -= size
                    cash += size * prices[i]
                    side[i] = 0
                    if i > 0:
                        side[i - 1] = -1
                elif side[i] == -1 and low[t] < prices[i]:
                    pos += size
                    cash -= size * prices[i]
                    side[i] = 0
                    if i + 1 < n_lv:
                        side[i + 1] = 1
            equity[t] = cash + pos * c[t]
        return equity

    return run


def rss_of_sweep(configs: int, bars: int) -> float:
    """Peak RSS (MB) of a metrics-only sweep beyond the input, in a fresh process."""
    code = f"""
import resource, sys
sys.path.insert(0, 'benches')
from bench_backtest import FULL, sweep_specs, arrays, candles_for
from gridhedge import _core
from gridhedge.execution.paper import default_market
c = candles_for({bars})
a = arrays(c)
specs = sweep_specs(FULL, c, {configs})
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1])
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to the current RSS
before = status('VmRSS:')
_core.sweep(specs, default_market('BTCUSDT'), *a, threads=2)
print((status('VmHWM:') - before) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def candles_for(bars: int) -> Any:
    return synthetic_candles(seed=1, bars=bars, timeframe="1m", start_price=40_000.0)


def sweep_specs(base: dict[str, Any], candles: Any, n: int) -> list[Any]:
    spacings = np.geomspace(0.002, 0.03, n)
    return [
        spec_for(with_overrides(base, {"grid_spacing_pct": f"{s:.6f}"}), candles) for s in spacings
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    bars = 50_000 if args.quick else 525_600
    sweep_bars = 20_000 if args.quick else 525_600
    n_sweep = 40 if args.quick else 1_000
    n_rss = 1_000 if args.quick else 10_000
    rss_bars = 5_000 if args.quick else 20_000
    market = default_market("BTCUSDT")
    c = candles_for(bars)
    a = arrays(c)

    full = spec_for(FULL, c)
    t_full = best_of(
        lambda: _core.backtest(full, market, *a, record_events=False, record_series=False), 2
    )
    print(f"full policy, {bars} bars, cadence 1: {t_full:.3f} s = {t_full / bars * 1e9:.0f} ns/bar")

    plain = spec_for(PLAIN, c)
    t_plain = best_of(
        lambda: _core.backtest(plain, market, *a, record_events=False, record_series=False), 2
    )
    kernel = numba_plain_grid()
    args_nb = (c.open, c.high, c.low, c.close, 10, 0.01, 0.01)
    kernel(*args_nb)  # compile
    t_nb = best_of(lambda: kernel(*args_nb), 3)
    print(
        f"plain 10-level grid: ours {t_plain * 1e3:.1f} ms, numba {t_nb * 1e3:.1f} ms, "
        f"ratio {t_plain / t_nb:.1f}x (floor: <= 1.5x)"
    )

    sc = c.slice(0, sweep_bars) if sweep_bars < bars else c
    sa = arrays(sc)
    specs = sweep_specs(FULL, sc, n_sweep)
    t1 = best_of(lambda: _core.sweep(specs, market, *sa, threads=1), 1)
    t2 = best_of(lambda: _core.sweep(specs, market, *sa, threads=2), 1)
    rate = n_sweep * sweep_bars / t2
    print(
        f"sweep {n_sweep} configs x {sweep_bars} bars: 1 thread {t1:.2f} s, 2 threads {t2:.2f} s, "
        f"speed-up {t1 / t2:.2f}x (floor 1.6x); {rate:.3g} config-bars/s"
    )
    mb = rss_of_sweep(n_rss, rss_bars)
    print(f"peak RSS of a {n_rss}-config metrics-only sweep beyond the input: {mb:.1f} MB (< 50)")
    _ = resource


if __name__ == "__main__":
    main()
