"""The horizon VaR checked against ``var_limit`` (issue 15, item 7), backtested on real hourly
candles over rolling out-of-sample windows: at every 24th bar a 24-bar VaR is forecast from
the bars before it only and compared with the loss of the next 24 bars (non-overlapping, so
exceptions are independent under a correct model). Kupiec's POF and Christoffersen's
independence p-values at 95% and 99% for:

- ``sqrt``: the policy's current method - one-bar historical VaR of the last 500 returns
  x sqrt(24);
- ``fhs_overlap_500``: filtered historical simulation - the 500 returns standardised by their
  EWMA (lambda 0.94) forecast, the quantile of their overlapping 24-bar sums, times the next
  bar's EWMA volatility;
- ``fhs_overlap_5000``: the same with 5000 standardised returns (the filtered residuals are
  close to stationary, so a long window is allowed and fills the 99% tail);
- ``policy_fhs_W``: the policy's own horizon VaR (``var_method: fhs``, the default, with
  ``var_window_bars`` W; ``gridhedge._core.fhs_horizon_var`` is the code the engine runs): the
  same filter, each return standardised by the forecast made before it, and while the window
  fills never below ``sqrt``. From bar 5000 and, as ``..._fresh``, from bar 501 (a bot
  started with the default 500 bars of history, its window filling as it runs).

The default ``var_window_bars`` is 2000: the one window passing Kupiec and Christoffersen at
95% and 99% both when full and from a fresh start (chosen on this same data: an in-sample
choice among 1000/2000/5000).

    python benches/bench_var_horizon.py --data ../shared/data/btcusd_1h_2018_2022.csv
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import numpy.typing as npt

from gridhedge import _core
from gridhedge.risk.var_backtest import christoffersen_independence, kupiec_pof

H = 24
WINDOW = 500
LAMBDA = 0.94


def ewma_forecasts(r: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
    """sigma[i]: the EWMA forecast for bar i (known before r[i]); after[i]: for bar i + 1."""
    s2 = np.empty(len(r))
    s2[0] = r[0] ** 2
    for i in range(1, len(r)):
        s2[i] = LAMBDA * s2[i - 1] + (1 - LAMBDA) * r[i - 1] ** 2
    return np.sqrt(s2), np.sqrt(LAMBDA * s2 + (1 - LAMBDA) * r**2)


def backtest(close: npt.NDArray[np.float64], method: str, conf: float) -> tuple[float, ...]:
    """(observations, breach rate, Kupiec p, Christoffersen p) of one method."""
    r = close[1:] / close[:-1] - 1
    sigma, after = ewma_forecasts(r)
    wz = {"sqrt": WINDOW, "fhs_overlap_500": WINDOW, "fhs_overlap_5000": 5000}[method]
    exc = []
    for t in range(max(WINDOW, wz), len(r) - H, H):
        realized = -(np.prod(1 + r[t : t + H]) - 1)  # loss over the next 24 bars
        if method == "sqrt":
            var = float(np.quantile(-r[t - WINDOW : t], conf)) * np.sqrt(H)
        else:
            z = r[t - wz : t] / sigma[t - wz : t]
            cs = np.concatenate([[0.0], np.cumsum(z)])
            var = float(np.quantile(-(cs[H:] - cs[:-H]), conf)) * after[t - 1]
        exc.append(realized > var)
    e = np.array(exc)
    _, p = kupiec_pof(len(e), int(e.sum()), conf)
    _, ip = christoffersen_independence(e)
    return float(len(e)), float(e.mean()), p, ip


def backtest_policy(
    close: npt.NDArray[np.float64], window: int, conf: float, start: int
) -> tuple[float, ...]:
    """(observations, breach rate, Kupiec p, Christoffersen p) of the policy's horizon VaR
    (``policy::horizon_var_fraction``: the FHS VaR of ``window`` sums once full; while it
    fills, never below the one-bar historical VaR of the last 500 returns x sqrt(24)),
    forecast at every H-th bar from ``start`` (>= 501) with the bars before it only."""
    r = close[1:] / close[:-1] - 1
    var, held = _core.fhs_horizon_var(r, H, window, conf)
    one_bar, _ = _core.rolling_historical_var(r, WINDOW, conf)  # [k]: over r[k : k + 500]
    exc = []
    for t in range(max(start, WINDOW + 1), len(r) - H, H):
        sqrt_rule = one_bar[t - WINDOW] * np.sqrt(H)
        if held[t - 1] >= window:
            v = var[t - 1]  # after return t - 1, before bar t
        elif held[t - 1] >= 100:
            v = max(var[t - 1], sqrt_rule)
        else:
            v = sqrt_rule
        exc.append(-(np.prod(1 + r[t : t + H]) - 1) > v)
    e = np.array(exc)
    _, p = kupiec_pof(len(e), int(e.sum()), conf)
    _, ip = christoffersen_independence(e)
    return float(len(e)), float(e.mean()), p, ip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    if args.data is None:
        print("horizon VaR backtest: needs --data (real hourly candles); nothing to run here")
        return
    from gridhedge.data.files import load_candles

    close = load_candles(args.data).close
    t0 = time.perf_counter()
    print(f"24-bar VaR on {len(close)} hourly bars, non-overlapping out-of-sample horizons:")
    for method in ("sqrt", "fhs_overlap_500", "fhs_overlap_5000"):
        for conf in (0.95, 0.99):
            n, rate, p, ip = backtest(close, method, conf)
            print(
                f"  {method:<17} {conf:.2f}: n={n:.0f} breaches {rate:.4f} "
                f"(expected {1 - conf:.2f}), Kupiec p {p:.4f}, Christoffersen p {ip:.4f}"
            )
    for window, start, name in (
        (2000, 5000, "policy_fhs_2000"),
        (2000, 0, "policy_fhs_2000_fresh"),
        (5000, 5000, "policy_fhs_5000"),
        (5000, 0, "policy_fhs_5000_fresh"),
        (1000, 5000, "policy_fhs_1000"),
    ):
        for conf in (0.95, 0.99):
            n, rate, p, ip = backtest_policy(close, window, conf, start)
            print(
                f"  {name:<21} {conf:.2f}: n={n:.0f} breaches {rate:.4f} "
                f"(expected {1 - conf:.2f}), Kupiec p {p:.4f}, Christoffersen p {ip:.4f}"
            )
    print(f"  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
