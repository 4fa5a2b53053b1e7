"""Batch grid levels: gridhedge (Rust, both cores) vs numpy floats vs the pure-Python Decimal
reference, on the same centers, in one run. Prints each time and the ratios.

Work: N centers (BTC-like prices) x 5 levels a side, geometric 1%, tick 0.10, lot 0.001,
min distance 0 (so numpy's duplicate mask is the whole merge). The Decimal reference is timed
on a subsample and scaled per center (it takes ~100 us a center), as stated in the output.

    python benches/bench_grid.py            # full: 1e6 centers
    python benches/bench_grid.py --quick    # CI: 1e5 centers
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import gridhedge as gh
from tests.references.grid import float_grid_levels_numpy, reference_grid


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    n_decimal = 200 if args.quick else 2_000
    levels = 5
    rng = np.random.default_rng(7)
    centers = 95_236.15 * np.exp(np.cumsum(rng.normal(0.0, 0.004, n)))
    market = gh.Market("0.10", "0.001", "0.001", "100")

    t_rust = best_of(
        3, lambda: gh.grid_levels_batch(centers, 0.01, levels, market, 0.01, 0, "geometric")
    )
    t_numpy = best_of(3, lambda: float_grid_levels_numpy(centers, 0.01, levels, 0.1))
    sub = centers[:n_decimal].tolist()
    market_args = ("0.10", "0.001", "0.001", "100")
    t_dec_sub = best_of(
        1, lambda: [reference_grid(c, 0.01, levels, *market_args, 0.01) for c in sub]
    )
    t_decimal = t_dec_sub / n_decimal * n

    # the three agree on the prices (numpy has no min-notional drops at these prices)
    b = gh.grid_levels_batch(centers[:n_decimal], 0.01, levels, market, 0.01)
    nb, ns, _, _ = float_grid_levels_numpy(centers[:n_decimal], 0.01, levels, 0.1)
    assert (b.buy_ticks == nb).all() and (b.sell_ticks == ns).all(), "numpy disagrees"
    ref0 = reference_grid(sub[0], 0.01, levels, "0.10", "0.001", "0.001", "100", 0.01)
    assert list(b.sell_ticks[0]) == [lv.ticks for lv in ref0.sells], "Decimal reference disagrees"

    print(f"grid levels batch: {n:,} centers x {levels} levels a side")
    print(f"  gridhedge (rust, rayon)     {t_rust * 1e3:9.2f} ms")
    print(f"  numpy float, same steps     {t_numpy * 1e3:9.2f} ms")
    print(
        f"  pure-Python Decimal ref     {t_decimal * 1e3:9.2f} ms "
        f"(timed on {n_decimal:,} centers, scaled)"
    )
    print(f"  ratio vs numpy:   {t_numpy / t_rust:8.1f}x  (floor 2x)")
    print(f"  ratio vs Decimal: {t_decimal / t_rust:8.1f}x  (floor 50x)")


if __name__ == "__main__":
    main()
