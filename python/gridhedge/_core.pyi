"""Type stubs of `gridhedge._core`, the compiled Rust core (PyO3 + rust-numpy).

Conventions: prices are quote units, amounts base units; a price in ticks ``t`` means
``t * tick_size`` and an amount in lots ``n`` means ``n * lot_size``, both exact. Numbers
accept ``float``, ``int``, ``Decimal`` or a decimal string. Every error is a
``gridhedge.GridHedgeError`` naming the field, the value and the rule.
"""

from decimal import Decimal
from typing import Literal, final

import numpy as np
import numpy.typing as npt

Number = float | int | Decimal | str
Side = Literal["buy", "sell"]
GridModeName = Literal["geometric", "arithmetic"]

__version__: str

@final
class Market:
    """A market's trading rules, held exactly.

    ``tick_size`` > 0 (quote), ``lot_size`` > 0 (base), ``min_qty`` >= 0 (base) and
    ``min_notional`` >= 0 (quote, price x amount); given as decimal strings, ``Decimal``, int
    or float (a float is read as its shortest repr, ``0.1`` -> ``"0.1"``).
    """

    def __init__(
        self,
        tick_size: Number,
        lot_size: Number,
        min_qty: Number | None = None,
        min_notional: Number | None = None,
    ) -> None: ...
    @property
    def tick_size(self) -> Decimal: ...
    @property
    def lot_size(self) -> Decimal: ...
    @property
    def min_qty(self) -> Decimal: ...
    @property
    def min_notional(self) -> Decimal: ...
    def price_to_ticks(self, price: Number, side: Side) -> int:
        """Price (quote, > 0) to ticks: a buy rounds down, a sell rounds up.

        A float within 64 ulps of a tick is taken to be on it; ``Decimal``/str are exact.
        """
    def amount_to_lots(self, amount: Number) -> int:
        """Amount (base, >= 0) to lots, never rounding up."""
    def ticks_to_price(self, ticks: int) -> Decimal:
        """Ticks to the exact decimal price."""
    def lots_to_amount(self, lots: int) -> Decimal:
        """Lots to the exact decimal amount."""
    def round_price(self, price: Number, side: Side) -> Decimal:
        """Price snapped side-aware onto the tick grid, as an exact ``Decimal``."""
    def round_amount(self, amount: Number) -> Decimal:
        """Amount snapped down onto the lot grid, as an exact ``Decimal``."""
    def meets_minimums(self, price_ticks: int, amount_lots: int) -> bool:
        """Whether ``amount_lots`` at ``price_ticks`` meets min_qty and min_notional, exactly."""
    def ticks_to_prices(self, ticks: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Nearest float64 of each exact tick price (same shape); 0 ticks (no level) gives NaN."""

@final
class GridLevel:
    """One grid level: ``index`` 1 is nearest the center; price and amount exact."""

    @property
    def side(self) -> Side: ...
    @property
    def index(self) -> int: ...
    @property
    def price_ticks(self) -> int: ...
    @property
    def amount_lots(self) -> int: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def notional(self) -> Decimal:
        """price x amount, exact (quote units)."""

@final
class Grid:
    """A grid around one center: ``buys`` descending and ``sells`` ascending, nearest first."""

    @property
    def center(self) -> float: ...
    @property
    def market(self) -> Market: ...
    @property
    def buys(self) -> list[GridLevel]: ...
    @property
    def sells(self) -> list[GridLevel]: ...
    @property
    def merged(self) -> int:
        """Levels merged into a neighbour (duplicates after snapping, or too close)."""
    @property
    def dropped_nonpositive(self) -> int:
        """Buy levels at or below zero."""
    @property
    def dropped_below_minimum(self) -> int:
        """Levels below the market's min_qty or min_notional."""

@final
class GridBatch:
    """Grids for many centers: ``(rows, num_levels)`` int64 arrays, nearest level first.

    Cells past a row's ``buy_count``/``sell_count`` hold 0. ``dropped`` counts both
    nonpositive and below-minimum levels.
    """

    @property
    def market(self) -> Market: ...
    @property
    def buy_ticks(self) -> npt.NDArray[np.int64]: ...
    @property
    def buy_lots(self) -> npt.NDArray[np.int64]: ...
    @property
    def sell_ticks(self) -> npt.NDArray[np.int64]: ...
    @property
    def sell_lots(self) -> npt.NDArray[np.int64]: ...
    @property
    def buy_count(self) -> npt.NDArray[np.int64]: ...
    @property
    def sell_count(self) -> npt.NDArray[np.int64]: ...
    @property
    def merged(self) -> npt.NDArray[np.int64]: ...
    @property
    def dropped(self) -> npt.NDArray[np.int64]: ...
    def buy_prices(self) -> npt.NDArray[np.float64]:
        """Buy prices as the nearest float64 of each exact price; NaN where there is no level."""
    def sell_prices(self) -> npt.NDArray[np.float64]:
        """Sell prices as the nearest float64 of each exact price; NaN where there is no level."""
    def __len__(self) -> int: ...

def grid_levels(
    center: Number,
    spacing: Number,
    num_levels: int,
    market: Market,
    amount_per_level: Number,
    min_price_distance: Number | None = None,
    mode: GridModeName = "geometric",
) -> Grid:
    """The grid around ``center`` (quote, > 0).

    ``spacing`` is a fraction in (0, 1); ``num_levels`` 1..=1000 a side; geometric levels are
    ``c*(1+s)**i`` / ``c/(1+s)**i``, arithmetic ``c +- i*s*c``. Levels snap side-aware to the
    tick; levels closer than ``min_price_distance`` (quote, >= 0; at least one tick) merge
    into the inner one, adding their amount; levels below the market minimums are dropped.
    ``amount_per_level`` (base) snaps down to the lot and must be at least one lot.
    """

def grid_levels_batch(
    centers: npt.NDArray[np.float64],
    spacing: Number,
    num_levels: int,
    market: Market,
    amount_per_level: Number,
    min_price_distance: Number | None = None,
    mode: GridModeName = "geometric",
) -> GridBatch:
    """``grid_levels`` for every center of a 1-D C-contiguous float64 array.

    Zero-copy in, GIL released, parallel over both cores; rows equal ``grid_levels`` exactly.
    """

def _panic_for_test() -> None:
    """Panic inside the core boundary: raises ``gridhedge.InternalError`` (for tests)."""

# ---------------------------------------------------------------------------------------------
# volatility: Volatility estimators (per bar): close-to-close, EWMA, range-based, ATR.
#
# Conventions: volatility is per bar (not annualised), a standard deviation. Return-based
# estimators take *returns* (simple or log, as you choose; log returns are the textbook input).
# Range-based estimators take OHLC *prices* (> 0, low <= open, close <= high) and use log price
# ratios; ATR is in price units. Arrays must be 1-D C-contiguous float64 (read zero-copy).
# ``*_rolling`` functions return ``n - window + 1`` values (no NaN padding): entry ``j`` covers
# inputs ``j .. j + window - 1`` and is aligned with input ``j + window - 1``. NaN or inf raise
# ``InvalidInputError`` naming the position, unless ``nan_policy="omit"`` drops them first
# (whole candles for OHLC; windows then count the remaining values). Results are never NaN.

NanPolicyName = Literal["raise", "omit"]

def close_to_close_vol(
    returns: npt.NDArray[np.float64], nan_policy: NanPolicyName | None = None
) -> float:
    """Sample standard deviation (ddof=1, mean subtracted) of ``returns``; needs >= 2 values."""

def close_to_close_vol_rolling(
    returns: npt.NDArray[np.float64], window: int, nan_policy: NanPolicyName | None = None
) -> npt.NDArray[np.float64]:
    """Rolling sample std (ddof=1) over ``window`` returns (2 <= window <= n), O(n).

    Equals ``pandas.Series(returns).rolling(window).std().to_numpy()[window - 1:]``.
    """

def ewma_vol(
    returns: npt.NDArray[np.float64],
    lam: Number | None = None,
    nan_policy: NanPolicyName | None = None,
) -> float:
    """EWMA (RiskMetrics) volatility after the last return: ``ewma_vol_series(...)[-1]``."""

def ewma_vol_series(
    returns: npt.NDArray[np.float64],
    lam: Number | None = None,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """EWMA (RiskMetrics, zero mean) volatility, one value per return.

    ``s2[0] = r[0]**2`` (seeded with the first squared return), then
    ``s2[t] = lam * s2[t-1] + (1 - lam) * r[t]**2``; returns ``sqrt(s2)``. Entry ``t`` uses
    returns up to and including ``t`` (the forecast for bar ``t + 1``). ``lam`` in (0, 1),
    default 0.94 (RiskMetrics 1996). Equals
    ``np.sqrt(pandas.Series(r**2).ewm(alpha=1 - lam, adjust=False).mean())``.
    """

def parkinson_vol(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Parkinson (1980): ``sqrt(mean(ln(high/low)**2) / (4 ln 2))`` per bar."""

def parkinson_vol_rolling(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    window: int,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """Parkinson volatility over every ``window`` candles (1 <= window <= n), O(n)."""

def garman_klass_vol(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Garman-Klass (1980): ``sqrt(mean(0.5 ln(H/L)**2 - (2 ln 2 - 1) ln(C/O)**2))`` per bar."""

def garman_klass_vol_rolling(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """Garman-Klass volatility over every ``window`` candles (1 <= window <= n), O(n)."""

def rogers_satchell_vol(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Rogers-Satchell (1991): ``sqrt(mean(ln(H/C) ln(H/O) + ln(L/C) ln(L/O)))`` per bar."""

def rogers_satchell_vol_rolling(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """Rogers-Satchell volatility over every ``window`` candles (1 <= window <= n), O(n)."""

def yang_zhang_vol(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Yang-Zhang (2000) over the ``n = N - 1`` periods of ``N >= 3`` candles.

    ``sigma**2 = V_o + k V_c + (1 - k) V_rs``: ``V_o`` the sample variance (ddof=1) of opening
    jumps ``ln(open[t] / close[t-1])``, ``V_c`` that of ``ln(close[t] / open[t])``, ``V_rs``
    the mean Rogers-Satchell term, ``k = 0.34 / (1.34 + (n + 1) / (n - 1))``. The first candle
    only supplies the first previous close.
    """

def yang_zhang_vol_rolling(
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """Yang-Zhang over every ``window`` periods (2 <= window <= N - 1): ``N - window`` values.

    Entry ``j`` uses candles ``j .. j + window`` (``window`` periods) and is aligned with
    candle ``j + window``; ``k`` uses ``n = window``. O(N).
    """

def atr(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int = 14,
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Wilder's average true range after the last candle (price units): ``atr_series(...)[-1]``."""

def atr_series(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int = 14,
    nan_policy: NanPolicyName | None = None,
) -> npt.NDArray[np.float64]:
    """Wilder's ATR (1978), price units, ``N - window`` values (1 <= window <= N - 1).

    ``TR[t] = max(H[t] - L[t], |H[t] - C[t-1]|, |L[t] - C[t-1]|)`` for candles ``t >= 1`` (the
    first candle only supplies a close). The first ATR, aligned with candle ``window``, is the
    simple mean of ``TR[1..window]``; then ``ATR[t] = ATR[t-1] + (TR[t] - ATR[t-1]) / window``
    (as TA-Lib). Entry ``j`` is aligned with candle ``j + window``.
    """

# (end of volatility)

# ---------------------------------------------------------------------------------------------
# garch: GARCH(1,1) maximum-likelihood fit (normal and Student-t) and variance forecasts.
#
# Model (Bollerslev 1986), constant mean: ``y[t] = mu + e[t]``, ``e[t] = sqrt(s2[t]) z[t]``,
# ``s2[t] = omega + alpha * e[t-1]**2 + beta * s2[t-1]``, ``z`` i.i.d. standard normal or
# standardised Student-t (unit variance, ``nu`` degrees of freedom). Constraints: omega > 0,
# alpha >= 0, beta >= 0, alpha + beta < 1, 2 < nu < 500.
# Units: ``y = scale * returns``; every output is in the units of ``y``. The ``arch`` package
# works in percent returns by default: ``garch_fit(r, scale=100)`` on fractional returns is
# comparable to ``arch_model(100 * r, vol="GARCH", p=1, q=1)``.

GarchDistName = Literal["normal", "t"]

@final
class GarchResult:
    """A fitted constant-mean GARCH(1,1), in the units of ``scale * returns``.

    Standard errors are robust (Bollerslev-Wooldridge sandwich, as ``arch``'s default
    ``cov_type="robust"``): ``A^-1 B A^-1 / n`` with ``A`` minus the Hessian of the mean
    log-likelihood (central differences of the analytic gradient) and ``B`` the sample
    covariance (ddof 1) of the per-observation scores. ``std_errors_nonrobust`` is ``A^-1 / n``.
    """

    @property
    def dist(self) -> GarchDistName: ...
    @property
    def scale(self) -> float:
        """The factor applied to the returns before fitting."""
    @property
    def nobs(self) -> int: ...
    @property
    def mu(self) -> float: ...
    @property
    def omega(self) -> float: ...
    @property
    def alpha(self) -> float: ...
    @property
    def beta(self) -> float: ...
    @property
    def nu(self) -> float | None:
        """Student-t degrees of freedom; None for normal innovations."""
    @property
    def param_names(self) -> list[str]:
        """``["mu", "omega", "alpha", "beta"]`` (+ ``"nu"`` for Student-t): order of ``cov``."""
    @property
    def params(self) -> dict[str, float]: ...
    @property
    def std_errors(self) -> dict[str, float]:
        """Robust (sandwich) standard errors."""
    @property
    def std_errors_nonrobust(self) -> dict[str, float]:
        """Classical inverse-Hessian standard errors."""
    @property
    def cov(self) -> npt.NDArray[np.float64]:
        """Robust parameter covariance, ``(k, k)`` in the order of ``param_names``."""
    @property
    def loglik(self) -> float:
        """Maximised log-likelihood (sum over observations, in the units of ``y``)."""
    @property
    def conditional_variance(self) -> npt.NDArray[np.float64]:
        """``s2[t]`` for every observation (the variance of ``y[t]`` given the past)."""
    @property
    def conditional_volatility(self) -> npt.NDArray[np.float64]:
        """``sqrt(s2[t])``, per bar, in the units of ``y``."""
    @property
    def backcast(self) -> float:
        """The pre-sample variance and squared residual: ``arch``'s backcast, the
        0.94-exponentially weighted mean of the first min(75, n) squared demeaned values."""
    @property
    def iterations(self) -> int:
        """BFGS iterations used."""
    @property
    def gradient_max(self) -> float:
        """Largest gradient component of the mean log-likelihood at the optimum (optimiser
        coordinates); below 1e-6 for every returned fit."""
    @property
    def converged(self) -> bool:
        """Always True: a fit that does not converge raises ``NumericalError``."""
    @property
    def persistence(self) -> float:
        """``alpha + beta``."""
    @property
    def unconditional_variance(self) -> float:
        """``omega / (1 - alpha - beta)``."""
    def forecast(self, horizon: int) -> npt.NDArray[np.float64]:
        """Variance forecasts for bars ``T+1 .. T+horizon`` after the sample (1 <= horizon <= 1e6).

        ``s2[T+1] = omega + alpha * e[T]**2 + beta * s2[T]``, then
        ``s2[T+h] = omega + (alpha + beta) * s2[T+h-1]`` (as ``arch``'s analytic forecast).
        """

def garch_fit(
    returns: npt.NDArray[np.float64],
    dist: GarchDistName = "normal",
    scale: Number = 1.0,
    nan_policy: NanPolicyName | None = None,
) -> GarchResult:
    """Maximum-likelihood GARCH(1,1) with a constant mean, fitted to ``scale * returns``.

    ``returns``: 1-D C-contiguous float64, at least 20 finite values, not constant (simple or
    log returns, your choice). ``dist``: ``"normal"`` or ``"t"``. ``scale`` > 0 (use 100 to
    work in percent, as ``arch``). BFGS with analytic gradients on an unconstrained
    reparameterisation, data rescaled to unit variance internally, ``arch``'s backcast held
    fixed. Agrees with ``arch_model(scale * r, vol="GARCH", p=1, q=1, dist=...)`` to about
    1e-6 in log-likelihood and 1e-5 in the parameters. Raises ``NumericalError`` if the
    optimiser does not converge or the Hessian is singular.
    """

def garch_simulate(
    nobs: int,
    mu: Number,
    omega: Number,
    alpha: Number,
    beta: Number,
    nu: Number | None = None,
    burn: int = 500,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """Simulate ``nobs`` values of a GARCH(1,1) after ``burn`` discarded ones.

    Starts from the unconditional variance; innovations standard normal, or standardised
    Student-t when ``nu`` is given; a seeded ChaCha8 generator (same seed, same path).
    Parameters must satisfy the model's constraints.
    """

# (end of garch)

# ---------------------------------------------------------------------------------------------
# var: Value at Risk and expected shortfall (positive losses), single asset and portfolio.
# (end of var)

# ---------------------------------------------------------------------------------------------
# var_backtest: VaR backtests: exception series, Kupiec POF, Christoffersen independence and conditional coverage.
# (end of var_backtest)

# ---------------------------------------------------------------------------------------------
# sizing: Position sizing: volatility targeting, VaR budget, fractional Kelly, per-level grid sizing.
# (end of sizing)

# ---------------------------------------------------------------------------------------------
# stops: Dynamic stops: volatility-scaled, ATR multiple, trailing; snapped to tick on the safe side.
# (end of stops)

# ---------------------------------------------------------------------------------------------
# hedge: Hedge ratio: minimum-variance (OLS, EWMA beta), hedge effectiveness, funding carry.
# (end of hedge)

# ---------------------------------------------------------------------------------------------
# drawdown: Drawdown series, maximum drawdown and high-water mark.
# (end of drawdown)
