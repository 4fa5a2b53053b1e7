"""Independent pandas/numpy references of the volatility estimators, written from the papers'
formulas (not from the Rust code). Rolling forms use pandas ``rolling`` and drop the leading
NaN rows, so they align with gridhedge's ``n - window + 1`` outputs.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

Arr = npt.NDArray[np.float64]


def ewma_vol_series(returns: Arr, lam: float) -> Arr:
    """RiskMetrics EWMA via pandas: ewm(alpha=1-lam, adjust=False) on squared returns."""
    s2 = pd.Series(returns**2).ewm(alpha=1.0 - lam, adjust=False).mean()
    return np.sqrt(s2.to_numpy())


def close_to_close_rolling(returns: Arr, window: int) -> Arr:
    return pd.Series(returns).rolling(window).std(ddof=1).to_numpy()[window - 1 :]


def _terms(o: Arr, h: Arr, lo: Arr, c: Arr) -> dict[str, pd.Series]:
    hl = np.log(h / lo)
    co = np.log(c / o)
    return {
        # Parkinson (1980), J. Business 53(1): ln(H/L)^2 / (4 ln 2)
        "parkinson": pd.Series(hl**2 / (4.0 * math.log(2.0))),
        # Garman & Klass (1980), J. Business 53(1): 0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2
        "garman_klass": pd.Series(0.5 * hl**2 - (2.0 * math.log(2.0) - 1.0) * co**2),
        # Rogers & Satchell (1991), Ann. Appl. Probab. 1(4)
        "rogers_satchell": pd.Series(
            np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o)
        ),
    }


def range_vol_rolling(name: str, o: Arr, h: Arr, lo: Arr, c: Arr, window: int) -> Arr:
    """Parkinson / Garman-Klass / Rogers-Satchell over every window of candles."""
    t = _terms(o, h, lo, c)[name]
    return np.sqrt(t.rolling(window).mean().to_numpy()[window - 1 :])


def range_vol(name: str, o: Arr, h: Arr, lo: Arr, c: Arr) -> float:
    return float(np.sqrt(_terms(o, h, lo, c)[name].mean()))


def yang_zhang_rolling(o: Arr, h: Arr, lo: Arr, c: Arr, window: int) -> Arr:
    """Yang & Zhang (2000), J. Business 73(3): V_o + k V_c + (1-k) V_rs over `window` periods,
    k = 0.34 / (1.34 + (n+1)/(n-1)); period t is candle t with the previous close."""
    df = pd.DataFrame({"o": o, "h": h, "l": lo, "c": c})
    overnight = np.log(df["o"] / df["c"].shift(1))
    open_close = np.log(df["c"] / df["o"])
    rs = np.log(df["h"] / df["c"]) * np.log(df["h"] / df["o"]) + np.log(df["l"] / df["c"]) * np.log(
        df["l"] / df["o"]
    )
    k = 0.34 / (1.34 + (window + 1) / (window - 1))
    var = (
        overnight.rolling(window).var(ddof=1)
        + k * open_close.rolling(window).var(ddof=1)
        + (1 - k) * rs.rolling(window).mean()
    )
    # the first valid window ends at candle `window` (candle 0 has no previous close)
    return np.sqrt(var.to_numpy()[window:])


def atr_wilder(h: Arr, lo: Arr, c: Arr, window: int) -> Arr:
    """Wilder's ATR: true ranges from candle 1, seeded with their simple mean over the first
    `window`, then an EWM with alpha = 1/window (pandas adjust=False)."""
    prev = pd.Series(c).shift(1)
    tr = pd.concat(
        [pd.Series(h - lo), (pd.Series(h) - prev).abs(), (pd.Series(lo) - prev).abs()], axis=1
    ).max(axis=1, skipna=False)
    tr = tr.iloc[1:].reset_index(drop=True)
    seeded = pd.concat([pd.Series([tr.iloc[:window].mean()]), tr.iloc[window:]])
    return seeded.ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()


def random_candles(rng: np.random.Generator, n: int) -> tuple[Arr, Arr, Arr, Arr]:
    """Consistent synthetic candles: a log random-walk close, opens gapping from the previous
    close, highs and lows beyond both."""
    gaps = rng.normal(0.0, 0.002, n)
    rets = rng.normal(0.0, 0.01, n)
    prev = 100.0 * np.exp(np.cumsum(gaps + rets))
    prev = np.concatenate([[100.0], prev[:-1]])
    o = prev * np.exp(gaps)
    c = o * np.exp(rets)
    h = np.maximum(o, c) * np.exp(np.abs(rng.normal(0.0, 0.005, n)))
    lo = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0.0, 0.005, n)))
    return o, h, lo, c
