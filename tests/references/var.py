"""Independent numpy/scipy references of the VaR, CVaR and VaR-backtest definitions.

Written from the documented definitions (DESIGN.md conventions: VaR/CVaR are positive losses,
confidence 0.95 is the 95% loss quantile), not from the Rust code: quantiles by
``np.quantile``, distributions by ``scipy.stats``, the Cornish-Fisher tail mean by numerical
integration (``scipy.integrate.quad``), the marginal VaR by finite differences, likelihood
ratios with ``scipy.special.xlogy`` and ``scipy.stats.chi2``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import integrate, special, stats

Arr = npt.NDArray[np.float64]
Method = Literal["linear", "lower"]


def historical(r: Arr, c: float, method: Method = "linear", h: int = 1) -> tuple[float, float]:
    losses = -r
    var = float(np.quantile(losses, c, method=method))
    tail = losses[losses >= var]
    return var * math.sqrt(h), max(float(tail.mean()), var) * math.sqrt(h)


def normal(r: Arr, c: float, h: int = 1) -> tuple[float, float]:
    mu, s = float(np.mean(r)), float(np.std(r, ddof=1))
    z = stats.norm.ppf(c)
    es = stats.norm.pdf(z) / (1 - c)
    return -mu * h + s * math.sqrt(h) * z, -mu * h + s * math.sqrt(h) * es


def student_t(r: Arr, c: float, df: float, h: int = 1) -> tuple[float, float]:
    mu, s = float(np.mean(r)), float(np.std(r, ddof=1))
    scale = s * math.sqrt((df - 2) / df) * math.sqrt(h)
    # ES of the standard t by integrating its quantile function over the tail
    es = integrate.quad(lambda u: stats.t.ppf(u, df), c, 1, limit=200)[0] / (1 - c)
    return -mu * h + scale * stats.t.ppf(c, df), -mu * h + scale * es


def t_df_moments(r: Arr) -> float:
    k = float(stats.kurtosis(r, fisher=True, bias=False))
    return min(4 + 6 / k, 1000.0) if k > 6 / 996 else 1000.0


def cornish_fisher(r: Arr, c: float, h: int = 1) -> tuple[float, float]:
    mu, s = float(np.mean(r)), float(np.std(r, ddof=1))
    skew = -float(stats.skew(r, bias=False))  # of the losses
    kurt = float(stats.kurtosis(r, fisher=True, bias=False))

    def q(u: float) -> float:
        z = stats.norm.ppf(u)
        return float(
            z
            + (z**2 - 1) * skew / 6
            + (z**3 - 3 * z) * kurt / 24
            - (2 * z**3 - 5 * z) * skew**2 / 36
        )

    e = integrate.quad(q, c, 1, limit=200)[0] / (1 - c)
    var = -mu * h + s * math.sqrt(h) * q(c)
    return var, max(-mu * h + s * math.sqrt(h) * e, var)


def ewma_sigma(r: Arr, lam: float) -> tuple[Arr, float]:
    s2 = float(np.mean(r**2))
    out = np.empty(len(r))
    for t, x in enumerate(r):
        out[t] = math.sqrt(s2)
        s2 = lam * s2 + (1 - lam) * x * x
    return out, math.sqrt(s2)


def filtered(
    r: Arr, sigma: Arr, sigma_now: float, c: float, method: Method = "linear", h: int = 1
) -> tuple[float, float]:
    v, e = historical(r / sigma, c, method)
    return v * sigma_now * math.sqrt(h), e * sigma_now * math.sqrt(h)


def rolling_historical(r: Arr, w: int, c: float, method: Method) -> tuple[Arr, Arr]:
    windows = np.lib.stride_tricks.sliding_window_view(-r, w)
    var = np.quantile(windows, c, axis=1, method=method)
    cvar = np.array([max(win[win >= v].mean(), v) for win, v in zip(windows, var, strict=True)])
    return var, cvar


def portfolio(w: Arr, cov: Arr, c: float, h: int = 1) -> tuple[float, Arr]:
    """VaR and the marginal VaR by central finite differences of the VaR function."""

    def var(x: Arr) -> float:
        return float(stats.norm.ppf(c) * math.sqrt(max(x @ cov @ x, 0.0) * h))

    step = 1e-7 * max(float(np.abs(w).max()), 1e-300)
    marginal = np.array(
        [(var(w + step * e) - var(w - step * e)) / (2 * step) for e in np.eye(len(w))]
    )
    return var(w), marginal


def kupiec(t: int, x: int, c: float) -> tuple[float, float]:
    p, phat = 1 - c, x / t
    null = special.xlogy(t - x, 1 - p) + special.xlogy(x, p)
    alt = special.xlogy(t - x, 1 - phat) + special.xlogy(x, phat)
    lr = max(-2 * (null - alt), 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(exc: npt.NDArray[np.bool_]) -> tuple[float, float]:
    a, b = exc[:-1], exc[1:]
    n00 = int(np.sum(~a & ~b))
    n01 = int(np.sum(~a & b))
    n10 = int(np.sum(a & ~b))
    n11 = int(np.sum(a & b))
    total = n00 + n01 + n10 + n11
    if total == 0:
        return 0.0, 1.0
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / total
    null = special.xlogy(n00 + n10, 1 - pi) + special.xlogy(n01 + n11, pi)
    alt = (
        special.xlogy(n00, 1 - pi01)
        + special.xlogy(n01, pi01)
        + special.xlogy(n10, 1 - pi11)
        + special.xlogy(n11, pi11)
    )
    lr = max(-2 * (null - alt), 0.0)
    return lr, float(stats.chi2.sf(lr, 1))
