"""Portfolio VaR of many legs updated every bar: gridhedge (Rust ``ewma_var_path``) vs numpy and
pandas doing the same, in one run. Prints each time and the ratios.

Work: ``legs`` synthetic assets (a seeded common factor from the synthetic market plus an
independent synthetic series each, ``gridhedge.data.correlated``: correlations 0.3-0.9,
volatility 0.6-1.8 times the factor's) over ``bars`` hourly bars; exposures change every bar
(a slow random walk per leg, quote); every bar the EWMA covariance (lambda 0.97, zero mean,
normalised weights) is updated with that bar's returns and the 95% one-day (24 bars)
parametric VaR of that bar's exposures is computed.

Baselines:
- numpy: the same recursion, ``S = lam S + outer(r, r)`` and ``sqrt(w S w / den)`` per bar in
  a Python loop (the natural way to write it);
- pandas: ``DataFrame.ewm(alpha=1-lam).cov()`` (all bars at once, pairwise in Cython; note
  pandas removes an EWMA mean and uses bias correction, so its figures differ slightly and are
  compared loosely), then ``einsum`` of each bar's exposures through its matrix.

    python benches/bench_portfolio.py            # full: 50 legs, 2 years of hourly bars
    python benches/bench_portfolio.py --quick    # CI: 50 legs, 3 months
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gridhedge._core import ewma_var_path
from gridhedge.data.correlated import AssetSpec, correlated_candles

F64 = npt.NDArray[np.float64]
LAM, CONF, H = 0.97, 0.95, 24


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def market(legs: int, bars: int) -> tuple[F64, F64]:
    rng = np.random.default_rng(0)
    specs = [AssetSpec("L0", 100.0)] + [
        AssetSpec(
            f"L{i}",
            100.0,
            correlation=float(rng.uniform(0.3, 0.9)),
            vol_ratio=float(rng.uniform(0.6, 1.8)),
        )
        for i in range(1, legs)
    ]
    candles = correlated_candles(specs, seed=3, bars=bars + 1)
    closes = np.column_stack([candles[s.symbol].close for s in specs])
    returns = np.ascontiguousarray(closes[1:] / closes[:-1] - 1.0)
    steps = rng.normal(scale=0.01, size=(bars, legs))
    exposures = np.ascontiguousarray(1e4 * np.exp(np.cumsum(steps, axis=0)))
    return returns, exposures


def numpy_path(r: F64, w: F64) -> F64:
    n = r.shape[1]
    s = np.zeros((n, n))
    den = 0.0
    out = np.empty(r.shape[0])
    k = norm.ppf(CONF) * np.sqrt(H)
    for t in range(r.shape[0]):
        s *= LAM
        s += np.outer(r[t], r[t])
        den = LAM * den + 1.0
        out[t] = k * np.sqrt(max(w[t] @ s @ w[t] / den, 0.0))
    return out


def pandas_path(r: F64, w: F64) -> F64:
    t, n = r.shape
    cov = pd.DataFrame(r).ewm(alpha=1 - LAM).cov().to_numpy().reshape(t, n, n)
    v = np.einsum("ti,tij,tj->t", w, np.nan_to_num(cov), w)
    out: F64 = norm.ppf(CONF) * np.sqrt(H) * np.sqrt(np.maximum(v, 0.0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    args = parser.parse_args()
    legs = 50
    bars = 24 * 91 if args.quick else 2 * 8760
    start = time.perf_counter()
    r, w = market(legs, bars)
    print(f"{legs} legs x {bars} hourly bars (synthetic, {time.perf_counter() - start:.2f} s)")
    ours = ewma_var_path(r, w, lam=LAM, confidence=CONF, horizon=H)
    ref = numpy_path(r, w)
    np.testing.assert_allclose(ours, ref, rtol=1e-9)
    pan = pandas_path(r, w)
    tail = slice(bars // 2, None)  # pandas' demeaned estimator agrees loosely once warmed up
    gap = float(np.median(np.abs(pan[tail] / ours[tail] - 1)))
    print(f"check: numpy identical (rtol 1e-9); pandas median relative gap {gap:.2%}")
    repeats = 3 if args.quick else 2
    t_ours = best_of(repeats * 3, lambda: ewma_var_path(r, w, lam=LAM, confidence=CONF, horizon=H))
    t_np = best_of(repeats, lambda: numpy_path(r, w))
    t_pd = best_of(1, lambda: pandas_path(r, w))
    print(f"gridhedge (Rust)  {t_ours * 1e3:9.2f} ms  {t_ours / bars * 1e9:9.0f} ns/bar")
    print(f"numpy loop        {t_np * 1e3:9.2f} ms  ratio {t_np / t_ours:7.1f}x")
    print(f"pandas ewm().cov  {t_pd * 1e3:9.2f} ms  ratio {t_pd / t_ours:7.1f}x")


if __name__ == "__main__":
    main()
