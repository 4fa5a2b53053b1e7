"""GARCH(1,1) fit: gridhedge (Rust, analytic gradients, BFGS) vs arch's default fit (SLSQP,
numerical derivatives) on the same 5,000 percent returns, in one run. Checks the agreement
(log-likelihood, parameters) before printing times and ratios.

    python benches/bench_garch.py                  # full: 5 paths x 5,000 returns
    python benches/bench_garch.py --quick          # CI: 1 path, fewer repeats
    python benches/bench_garch.py --data PATH      # also: the last 5,000 real BTC hourly returns
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from arch import arch_model

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gridhedge.risk import garch


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def arch_fit(y: Any, dist: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return arch_model(y, vol="GARCH", p=1, q=1, dist=dist).fit(disp="off")


def compare(label: str, r: Any, dist: str, repeats: int) -> float:
    """Fit fractional returns `r` in percent both ways; print agreement and times."""
    ours = garch.garch_fit(r, dist=dist, scale=100)
    ref = arch_fit(100 * r, dist)
    p = ref.params.to_numpy()
    d_ll = ours.loglik - ref.loglikelihood
    d_alpha, d_beta = ours.alpha - p[2], ours.beta - p[3]
    rel_omega = ours.omega / p[1] - 1.0
    ok = abs(d_ll) < 1e-4 and abs(d_alpha) < 1e-3 and abs(d_beta) < 1e-3 and abs(rel_omega) < 0.01
    t_rust = best_of(repeats, lambda: garch.garch_fit(r, dist=dist, scale=100))
    t_arch = best_of(max(2, repeats // 2), lambda: arch_fit(100 * r, dist))
    nu = f", nu diff {ours.nu - p[4]:+.2e}" if dist == "t" and ours.nu is not None else ""
    print(f"  {label} [{dist}]: {len(r):,} returns, {ours.iterations} BFGS iterations")
    print(
        f"    loglik diff {d_ll:+.2e}, alpha diff {d_alpha:+.2e}, beta diff {d_beta:+.2e}, "
        f"omega rel diff {rel_omega:+.2e}{nu}  -> {'agree' if ok else 'DISAGREE'}"
    )
    print(
        f"    gridhedge {t_rust * 1e3:8.2f} ms   arch {t_arch * 1e3:8.2f} ms   "
        f"ratio {t_arch / t_rust:6.1f}x"
    )
    if not ok:
        raise SystemExit("gridhedge and arch disagree beyond the acceptance tolerances")
    return t_arch / t_rust


def simulate(n: int, seed: int, nu: float | None) -> Any:
    # fractional hourly-crypto-like returns: 0.8% unconditional volatility
    r = garch.garch_simulate(n, 0.0, 0.64e-5, 0.08, 0.82, nu=nu, seed=seed)
    return np.asarray(r)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer paths and repeats for CI")
    parser.add_argument("--data", type=pathlib.Path, help="BTC hourly OHLC CSV (optional)")
    args = parser.parse_args()
    n = 5_000
    paths = 1 if args.quick else 5
    repeats = 5 if args.quick else 15
    print(f"GARCH(1,1) fit, constant mean, percent returns (arch default): {n:,} returns")
    ratios = [
        compare(f"simulated path {s}", simulate(n, s, None), "normal", repeats)
        for s in range(paths)
    ]
    print(f"  median ratio vs arch [normal]: {np.median(ratios):6.1f}x  (floor 5x)")
    t_ratios = [
        compare(f"simulated path {s}", simulate(n, s, 5.0), "t", repeats) for s in range(paths)
    ]
    print(f"  median ratio vs arch [t]:      {np.median(t_ratios):6.1f}x  (reported)")
    if args.data is not None:
        close = pd.read_csv(args.data)["close"].to_numpy(dtype=np.float64)
        r = np.diff(close)[-n:] / close[-n - 1 : -1]
        compare(f"real {args.data.name}, last {n:,} simple returns", r, "normal", repeats)
        compare(f"real {args.data.name}, last {n:,} simple returns", r, "t", repeats)


if __name__ == "__main__":
    main()
