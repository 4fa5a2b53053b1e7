"""Synthetic market: generation speed of the Rust core vs a numpy implementation of the same
recursion, and the calibration statistics of synthetic years beside real BTC hourly candles.

The numpy baseline runs the same hourly model (regime chain, GARCH multiplier, jumps, volume
AR(1)) as a Python loop over hours (the recursion is sequential) and the same intrabar
Brownian bridge (240 steps an hour) vectorised; it draws its numbers from numpy's PCG64, so it
matches the core in law, not in bytes.

    python benches/bench_synthetic.py                 # 10 synthetic years timed, 20 seeds of stats
    python benches/bench_synthetic.py --quick         # CI: 1 year timed, 5 seeds of stats
    python benches/bench_synthetic.py --data /work/shared/data/btcusd_1h_2018_2022.csv
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gridhedge.data import Candles, load_candles, synthetic_candles

YEAR = 8760
STEPS = 240


def numpy_synthetic(seed: int, hours: int, start_price: float = 40_000.0) -> np.ndarray:
    """The hourly model and intrabar bridge in numpy (defaults of the core); (hours, 5) OHLCV."""
    rng = np.random.default_rng(seed)
    sigma_bar = 0.0082
    f, ratio, stay_hours, c = 0.16, 34.0, 5.0, 0.03
    a, b = 0.05, 0.85
    lam, js, down, jstress = 18 / YEAR, 3.0, 0.75, 0.5
    mean_m = 1 - f + f * ratio
    jump_mean = lam * js * (1 - 2 * down)
    jump_var = lam * js * js * (1 + 1 / 9) - jump_mean**2
    scale = sigma_bar * math.sqrt((1 - jump_var) / (1 + c * c * ratio * f * (1 - f) / mean_m))
    enter = 1 - (1 - f / (1 - f) / stay_hours) / (1 - lam * jstress)
    drift_unit = -c * scale * math.sqrt(ratio / mean_m)
    mean_log_vol = 0.5 * (f * math.log(ratio / mean_m) + (1 - f) * math.log(1 / mean_m))
    z = rng.standard_normal(hours)
    u = rng.random((hours, 4))
    g = rng.gamma(9.0, 1 / 9.0, hours)
    xi = rng.standard_normal(hours)
    diffusive = np.empty(hours)
    sigma = np.empty(hours)
    jump = np.zeros(hours)
    volume = np.empty(hours)
    stress = u[0, 3] < f
    h = 1.0
    eta = 0.0
    for t in range(hours):
        m = ratio if stress else 1.0
        sig = scale * math.sqrt(h * m / mean_m)
        zt = z[t]
        diffusive[t] = -jump_mean * sigma_bar + drift_unit * (float(stress) - f) + sig * zt
        sigma[t] = sig
        jumped = u[t, 0] < lam
        if jumped:
            jump[t] = (-1.0 if u[t, 1] < down else 1.0) * g[t] * js * sigma_bar
        eta = 0.7 * eta + 0.6 * math.sqrt(1 - 0.49) * xi[t]
        volume[t] = math.exp(
            math.log(175.0)
            + 0.6 * (math.log(sig / scale) - mean_log_vol)
            + 0.5 * (abs(zt) - math.sqrt(2 / math.pi))
            + eta
        )
        h = (1 - a - b) + b * h + a * h * zt * zt
        if stress:
            stress = u[t, 2] >= 1 / stay_hours
        else:
            stress = u[t, 2] < enter or (jumped and u[t, 3] < jstress)
    # intrabar bridge, vectorised over hours
    steps = rng.standard_normal((hours, STEPS)) * (sigma / math.sqrt(STEPS))[:, None]
    w = np.cumsum(steps, axis=1)
    k = np.arange(1, STEPS + 1)
    x = w + ((diffusive - w[:, -1]) / STEPS)[:, None] * k
    jump_step = 1 + (rng.random(hours) * STEPS).astype(np.int64)
    x += np.where(k[None, :] >= jump_step[:, None], jump[:, None], 0.0)
    x[:, -1] = diffusive + jump
    opens = start_price * np.exp(np.concatenate(([0.0], np.cumsum(diffusive + jump)[:-1])))
    hi = np.maximum(x.max(axis=1), 0.0)
    lo = np.minimum(x.min(axis=1), 0.0)
    return np.column_stack(
        [opens, opens * np.exp(hi), opens * np.exp(lo), opens * np.exp(x[:, -1]), volume]
    )


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def year_stats(log_close: np.ndarray) -> dict[str, float]:
    r = np.diff(log_close)
    sq = r * r
    return {
        "std": float(np.std(r, ddof=1)),
        "kurt": float(stats.kurtosis(r)),
        "skew": float(stats.skew(r)),
        "acf_sq": float(np.corrcoef(sq[:-1], sq[1:])[0, 1]),
    }


def volume_stats(c: Candles) -> dict[str, float]:
    r = np.abs(np.diff(np.log(c.close)))
    v = c.volume[1:]
    positive = v > 0
    return {
        "vol_median": float(np.median(c.volume)),
        "spearman": float(stats.spearmanr(r, v).statistic),
        "logvol_sd": float(np.std(np.log(v[positive]))),
    }


def summary(rows: list[dict[str, float]]) -> dict[str, tuple[float, float, float]]:
    return {
        k: (
            float(np.min([r[k] for r in rows])),
            float(np.median([r[k] for r in rows])),
            float(np.max([r[k] for r in rows])),
        )
        for k in rows[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    parser.add_argument("--data", type=pathlib.Path, help="real hourly candles (CSV or JSON)")
    args = parser.parse_args()
    years = 1 if args.quick else 10
    seeds = 5 if args.quick else 20
    hours = years * YEAR

    synthetic_candles(seed=0, bars=24)  # warm the thread pool
    t_rust = best_of(3, lambda: synthetic_candles(seed=1, bars=hours))
    t_minute = best_of(
        1 if args.quick else 3,
        lambda: synthetic_candles(
            seed=1, bars=hours * 60 if not args.quick else YEAR * 60, timeframe="1m"
        ),
    )
    t_numpy = best_of(1, lambda: numpy_synthetic(1, hours))
    print(f"synthetic market: {years} year(s) of hourly bars ({hours:,} bars, 240 path steps each)")
    print(f"  gridhedge (rust, rayon)        {t_rust * 1e3:9.1f} ms")
    print(f"  numpy, same recursion          {t_numpy * 1e3:9.1f} ms")
    print(f"  ratio vs numpy: {t_numpy / t_rust:8.1f}x")
    minutes = hours * 60 if not args.quick else YEAR * 60
    print(f"  1-minute bars ({minutes:,} bars)  {t_minute * 1e3:9.1f} ms")

    rows = []
    vols = []
    for seed in range(seeds):
        c = synthetic_candles(seed=seed, bars=YEAR + 1, funding=False)
        rows.append(year_stats(np.log(c.close)))
        vols.append(volume_stats(c))
    np_rows = [year_stats(np.log(numpy_synthetic(100 + s, YEAR + 1)[:, 3])) for s in range(seeds)]
    print(f"\nhourly log-return statistics per year, min / median / max over {seeds} seeds")
    fmt = "  {:<22s}" + "  {:>26s}" * 3
    print(fmt.format("", "std", "excess kurtosis", "skew") + "  acf(r^2) lag 1")

    def line(name: str, s: dict[str, tuple[float, float, float]]) -> None:
        cells = [
            "/".join(f"{v:.{p}f}" for v in s[k])
            for k, p in (("std", 4), ("kurt", 1), ("skew", 2), ("acf_sq", 3))
        ]
        print(f"  {name:<22s}" + "".join(f"  {c:>26s}" for c in cells[:3]) + f"  {cells[3]}")

    line("gridhedge synthetic", summary(rows))
    line("numpy baseline", summary(np_rows))
    vs = summary(vols)
    print(
        "  synthetic volume: median {:.0f}/{:.0f}/{:.0f} base, spearman(|r|, volume) "
        "{:.2f}/{:.2f}/{:.2f}, sd(log volume) {:.2f}".format(
            *vs["vol_median"], *vs["spearman"], vs["logvol_sd"][1]
        )
    )
    funding = synthetic_candles(seed=0, bars=20 * YEAR).funding_rate
    assert funding is not None
    print(
        f"  synthetic funding (20 years): mean {funding.mean():.3g}, std {funding.std():.3g}, "
        f"at base {np.mean(funding == 1e-4):.0%}, negative {np.mean(funding < 0):.0%}, "
        f"> 0.0005 {np.mean(funding > 5e-4):.1%}, lag-1 ac "
        f"{np.corrcoef(funding[:-1], funding[1:])[0, 1]:.2f}"
    )

    if args.data is None:
        print(
            "\nreal data: skipped (pass --data PATH to real hourly candles, e.g. "
            "/work/shared/data/btcusd_1h_2018_2022.csv)"
        )
        return
    real = load_candles(args.data)
    logc = np.log(real.close)
    windows = [logc[i : i + YEAR + 1] for i in range(0, len(logc) - YEAR, YEAR)]
    real_rows = [year_stats(w) for w in windows]
    print(f"\nreal data: {args.data} ({len(real):,} bars)")
    line(f"real, {len(windows)} yearly windows", summary(real_rows))
    whole = year_stats(logc)
    print(
        f"  real, whole sample       std {whole['std']:.4f}, excess kurtosis {whole['kurt']:.1f}, "
        f"skew {whole['skew']:.2f}, acf(r^2) {whole['acf_sq']:.3f}"
    )
    rv = volume_stats(real)
    print(
        f"  real volume: median {rv['vol_median']:.0f} base, spearman(|r|, volume) "
        f"{rv['spearman']:.2f}, sd(log volume) {rv['logvol_sd']:.2f}"
    )


if __name__ == "__main__":
    main()
