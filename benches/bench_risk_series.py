"""Risk series: gridhedge (Rust) vs pandas on the same inputs, in one run. Prints each time and
the ratio, after checking the two agree.

Work: N bars of correlated spot/futures returns (futures N(0, 1%), spot = 0.9 x futures +
noise) and an equity curve. Rolling OLS beta over 500 bars vs pandas rolling cov / var; EWMA
beta (lam 0.94) vs pandas ewm(adjust=False) cov / var; drawdown vs equity / cummax - 1.

    python benches/bench_risk_series.py            # full: 1e6 bars
    python benches/bench_risk_series.py --quick    # CI: 1e5 bars
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from gridhedge.risk import drawdown, hedge


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
    window, lam = 500, 0.94
    rng = np.random.default_rng(11)
    f = rng.normal(0.0, 0.01, n)
    s = 0.9 * f + rng.normal(0.0, 0.004, n)
    equity = 1e6 * np.cumprod(1.0 + s)
    ps, pf, pe = pd.Series(s), pd.Series(f), pd.Series(equity)

    def pd_rolling() -> np.ndarray:
        return (ps.rolling(window).cov(pf) / pf.rolling(window).var()).to_numpy()[window - 1 :]

    def pd_ewma() -> np.ndarray:
        ew = pf.ewm(alpha=1 - lam, adjust=False)
        cov = ps.ewm(alpha=1 - lam, adjust=False).cov(pf)
        return (cov / ew.var()).to_numpy()[1:]

    def pd_drawdown() -> np.ndarray:
        return (pe / pe.cummax() - 1.0).to_numpy()

    cases: list[tuple[str, Callable[[], np.ndarray], Callable[[], np.ndarray]]] = [
        (f"rolling beta (window {window})", lambda: hedge.rolling_beta(s, f, window), pd_rolling),
        (f"EWMA beta (lam {lam})", lambda: hedge.ewma_beta(s, f, lam=lam), pd_ewma),
        ("drawdown", lambda: drawdown.drawdown(equity), pd_drawdown),
    ]
    print(f"risk series: {n:,} bars, best of 3")
    for name, ours, theirs in cases:
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-7, atol=1e-10)
        t_ours, t_theirs = best_of(3, ours), best_of(3, theirs)
        print(
            f"  {name:28s} gridhedge {t_ours * 1e3:8.2f} ms   pandas {t_theirs * 1e3:8.2f} ms"
            f"   ratio {t_theirs / t_ours:6.1f}x"
        )


if __name__ == "__main__":
    main()
