"""EWMA volatility: gridhedge (Rust) vs pandas ewm vs a numba loop, on the same returns, in one
run; plus the rolling close-to-close and Yang-Zhang estimators vs pandas rolling. Prints each
time and the ratios. All results are checked to agree before timing is reported.

    python benches/bench_volatility.py                 # full: 1e6 returns
    python benches/bench_volatility.py --quick         # CI: 1e5 returns
    python benches/bench_volatility.py --data PATH     # also: real BTC hourly candles (CSV)
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gridhedge.risk import volatility as vol
from tests.references import volatility as ref

LAM = 0.94


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def pandas_ewma(r: Any) -> Any:
    return np.sqrt(pd.Series(r * r).ewm(alpha=1.0 - LAM, adjust=False).mean().to_numpy())


@numba.njit(cache=False)
def numba_ewma(r: Any, lam: float) -> Any:  # pragma: no cover - compiled
    out = np.empty_like(r)
    s2 = r[0] * r[0]
    out[0] = s2
    for t in range(1, r.shape[0]):
        s2 = lam * s2 + (1.0 - lam) * r[t] * r[t]
        out[t] = s2
    return np.sqrt(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    parser.add_argument("--data", type=pathlib.Path, help="BTC hourly OHLC CSV (optional)")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    repeats = 5 if args.quick else 7
    rng = np.random.default_rng(7)
    r = rng.standard_t(4, n) * 0.006

    ours = vol.ewma_vol_series(r, LAM)
    np.testing.assert_allclose(ours, pandas_ewma(r), rtol=1e-12)
    np.testing.assert_allclose(ours, numba_ewma(r, LAM), rtol=1e-12)  # also compiles numba
    t_rust = best_of(repeats, lambda: vol.ewma_vol_series(r, LAM))
    t_pandas = best_of(repeats, lambda: pandas_ewma(r))
    t_numba = best_of(repeats, lambda: numba_ewma(r, LAM))

    print(f"EWMA volatility series (lambda {LAM}): {n:,} returns")
    print(f"  gridhedge (rust)              {t_rust * 1e3:9.2f} ms")
    print(f"  pandas ewm(adjust=False)      {t_pandas * 1e3:9.2f} ms")
    print(f"  numba njit loop               {t_numba * 1e3:9.2f} ms")
    print(f"  ratio vs pandas: {t_pandas / t_rust:8.1f}x  (floor 4x)")
    print(f"  ratio vs numba:  {t_numba / t_rust:8.1f}x  (reported)")

    window = 720
    got = vol.close_to_close_vol_rolling(r, window)
    np.testing.assert_allclose(got, ref.close_to_close_rolling(r, window), rtol=1e-8)
    t_rust = best_of(repeats, lambda: vol.close_to_close_vol_rolling(r, window))
    t_pandas = best_of(repeats, lambda: ref.close_to_close_rolling(r, window))
    print(f"rolling close-to-close std, window {window}: {n:,} returns")
    print(f"  gridhedge (rust)              {t_rust * 1e3:9.2f} ms")
    print(f"  pandas rolling().std()        {t_pandas * 1e3:9.2f} ms")
    print(f"  ratio vs pandas: {t_pandas / t_rust:8.1f}x  (reported)")

    m = n // 4
    o, h, lo, c = ref.random_candles(rng, m)
    w = 24
    got = vol.yang_zhang_vol_rolling(o, h, lo, c, w)
    np.testing.assert_allclose(got, ref.yang_zhang_rolling(o, h, lo, c, w), rtol=1e-8)
    t_rust = best_of(repeats, lambda: vol.yang_zhang_vol_rolling(o, h, lo, c, w))
    t_pandas = best_of(repeats, lambda: ref.yang_zhang_rolling(o, h, lo, c, w))
    print(f"rolling Yang-Zhang, window {w}: {m:,} candles")
    print(f"  gridhedge (rust)              {t_rust * 1e3:9.2f} ms")
    print(f"  pandas reference              {t_pandas * 1e3:9.2f} ms")
    print(f"  ratio vs pandas: {t_pandas / t_rust:8.1f}x  (reported)")

    if args.data is not None:
        df = pd.read_csv(args.data)
        o, h, lo, c = (df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
        lr = np.diff(np.log(c))
        print(f"real data {args.data.name}: {len(c):,} hourly candles, per-bar volatility")
        print(f"  close-to-close (log returns)  {vol.close_to_close_vol(lr):.6f}")
        print(f"  EWMA (0.94), last bar         {vol.ewma_vol(lr):.6f}")
        print(f"  Parkinson                     {vol.parkinson_vol(h, lo):.6f}")
        print(f"  Garman-Klass                  {vol.garman_klass_vol(o, h, lo, c):.6f}")
        print(f"  Rogers-Satchell               {vol.rogers_satchell_vol(o, h, lo, c):.6f}")
        print(f"  Yang-Zhang                    {vol.yang_zhang_vol(o, h, lo, c):.6f}")
        print(f"  ATR(14), last bar (USD)       {vol.atr(h, lo, c):.2f}")


if __name__ == "__main__":
    main()
