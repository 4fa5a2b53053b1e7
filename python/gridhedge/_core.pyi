"""Type stubs of `gridhedge._core`, the compiled Rust core (PyO3 + rust-numpy).

Conventions: prices are quote units, amounts base units; a price in ticks ``t`` means
``t * tick_size`` and an amount in lots ``n`` means ``n * lot_size``, both exact. Numbers
accept ``float``, ``int``, ``Decimal`` or a decimal string. Every error is a
``gridhedge.GridHedgeError`` naming the field, the value and the rule.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal, final

import numpy as np
import numpy.typing as npt

Number = float | int | Decimal | str
Side = Literal["buy", "sell"]
SideArg = str
"""``"buy"`` or ``"sell"`` (any ``str``, e.g. ``Side.BUY.value``)."""
GridModeName = Literal["geometric", "arithmetic"]

__version__: str

@final
class Market:
    """A market's trading rules, held exactly.

    ``tick_size`` > 0 (quote), ``lot_size`` > 0 (base), ``min_qty`` >= 0 (base) and
    ``min_notional`` >= 0 (quote, price x amount); given as decimal strings, ``Decimal``, int
    or float (a float is read as its shortest repr, ``0.1`` -> ``"0.1"``).
    """

    def __new__(
        cls,
        tick_size: Number,
        lot_size: Number,
        min_qty: Number | None = None,
        min_notional: Number | None = None,
    ) -> Market: ...
    @property
    def tick_size(self) -> Decimal: ...
    @property
    def lot_size(self) -> Decimal: ...
    @property
    def min_qty(self) -> Decimal: ...
    @property
    def min_notional(self) -> Decimal: ...
    def price_to_ticks(self, price: Number, side: SideArg) -> int:
        """Price (quote, > 0) to ticks: a buy rounds down, a sell rounds up.

        A float within 64 ulps of a tick is taken to be on it; ``Decimal``/str are exact.
        """
    def amount_to_lots(self, amount: Number) -> int:
        """Amount (base, >= 0) to lots, never rounding up."""
    def ticks_to_price(self, ticks: int) -> Decimal:
        """Ticks to the exact decimal price."""
    def lots_to_amount(self, lots: int) -> Decimal:
        """Lots to the exact decimal amount."""
    def round_price(self, price: Number, side: SideArg) -> Decimal:
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
    mode: GridModeName | None = None,  # None: "geometric"
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
    mode: GridModeName | None = None,  # None: "geometric"
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
    window: int | None = None,  # None: 14
    nan_policy: NanPolicyName | None = None,
) -> float:
    """Wilder's average true range after the last candle (price units): ``atr_series(...)[-1]``."""

def atr_series(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    window: int | None = None,  # None: 14
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
    dist: GarchDistName | None = None,  # None: "normal"
    scale: Number | None = None,  # None: 1.0
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
    burn: int | None = None,  # None: 500
    seed: int | None = None,  # None: 0
) -> npt.NDArray[np.float64]:
    """Simulate ``nobs`` values of a GARCH(1,1) after ``burn`` discarded ones.

    Starts from the unconditional variance; innovations standard normal, or standardised
    Student-t when ``nu`` is given; a seeded ChaCha8 generator (same seed, same path).
    Parameters must satisfy the model's constraints.
    """

# (end of garch)

# ---------------------------------------------------------------------------------------------
# var: Value at Risk and expected shortfall (positive losses), single asset and portfolio.
#
# Conventions: ``returns`` are simple returns per bar in a 1-D C-contiguous float64 array
# (zero-copy; no cast); the loss of a bar is ``-r``. VaR and CVaR are POSITIVE losses as a
# fraction of the position value (negative: even the quantile is a gain); multiply by the
# position value (``position_var``) for quote currency. ``confidence`` in (0, 1), default 0.95
# = the 95% quantile of losses. CVaR (expected shortfall) is the mean loss at or beyond VaR,
# so CVaR >= VaR. ``horizon`` is a whole number of bars (1..=100000, default 1): parametric
# methods scale the mean by h and the std by sqrt(h); historical and filtered historical
# results are the one-bar figures times sqrt(h) (square-root-of-time rule, exact only for
# i.i.d. zero-mean normal returns); Monte Carlo compounds h simulated bars. NaN/inf raise
# ``InvalidInputError`` naming the position (``returns[i]``) unless ``nan_policy='omit'``
# drops them. The GIL is released while computing.

VarQuantileMethod = Literal["linear", "lower"]
VarNanPolicy = Literal["raise", "omit"]
VarDistribution = Literal["normal", "t"]

def historical_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    method: VarQuantileMethod | None = None,  # None: "linear"
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Historical ``(var, cvar)``: the ``confidence`` quantile of ``-returns`` and the tail mean.

    The quantile is exactly ``np.quantile(-returns, confidence, method=method)``: ``linear``
    interpolates between the order statistics around ``(n-1)*confidence``, ``lower`` takes
    the one below. CVaR is the mean of every loss ``>= var`` (ties included). Both times
    ``sqrt(horizon)``. Needs >= 1 finite return.
    """

def normal_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Normal ``(var, cvar)`` from the sample mean ``mu`` and std ``s`` (ddof=1).

    ``var = -mu*h + s*sqrt(h)*norm.ppf(c)``, ``cvar = -mu*h + s*sqrt(h)*norm.pdf(z)/(1-c)``.
    Needs >= 2 finite returns.
    """

def student_t_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    df: float | None = None,
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float, float]:
    """Student-t ``(var, cvar, df_used)``, the t scaled to the sample std (unit variance).

    ``var = -mu*h + s*sqrt(h)*sqrt((df-2)/df)*t.ppf(c, df)``;
    ``cvar = -mu*h + s*sqrt(h)*sqrt((df-2)/df)*t.pdf(q, df)*(df+q**2)/((df-1)*(1-c))`` with
    ``q = t.ppf(c, df)``. ``df`` given must be in (2, 1000]; ``None`` fits it by the method of
    moments, ``df = 4 + 6/K`` with ``K`` the excess kurtosis (scipy ``bias=False``), capped at
    1000 (also when ``K <= 0``). ``confidence`` must lie in [1e-10, 1 - 1e-10] (the t quantile's
    accurate range). Needs >= 2 finite returns (>= 4 to fit ``df``).
    """

def cornish_fisher_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Cornish-Fisher (modified) ``(var, cvar)`` from mean, std, skewness and excess kurtosis.

    With ``z = norm.ppf(c)``, ``S`` the skewness of the LOSSES (``-skew(returns)``) and ``K``
    the excess kurtosis (both scipy ``bias=False``):
    ``q = z + (z**2-1)*S/6 + (z**3-3z)*K/24 - (2z**3-5z)*S**2/36``, ``var = -mu*h +
    s*sqrt(h)*q``; ``cvar`` uses the mean of that quantile function over ``(c, 1)``:
    ``norm.pdf(z)/(1-c)*(1 + S*z/6 + K*(z**2-1)/24 - S**2*(2z**2-1)/36)``, floored at ``var``.
    A zero-variance sample has S = K = 0. Needs >= 4 finite returns.
    """

def return_moments(
    returns: npt.NDArray[np.float64], nan_policy: VarNanPolicy | None = None
) -> tuple[float, float, float, float]:
    """``(mean, std, skew, excess_kurtosis)``: std with ddof=1, skew and excess kurtosis as
    ``scipy.stats.skew/kurtosis(bias=False)`` (0 for fewer than 3/4 values or zero variance)."""

def filtered_historical_var(
    returns: npt.NDArray[np.float64],
    sigma: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    sigma_now: float | None = None,
    method: VarQuantileMethod | None = None,  # None: "linear"
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Filtered historical simulation ``(var, cvar)`` with the caller's volatility series.

    ``sigma[t]`` (> 0, per bar, same length) is the volatility forecast for bar ``t`` (e.g. a
    GARCH conditional sigma or an EWMA); the historical VaR/CVaR of ``-returns/sigma`` (as in
    ``historical_var``) is multiplied by ``sigma_now`` (default ``sigma[-1]``) and
    ``sqrt(horizon)``. Returns are not demeaned. ``nan_policy='omit'`` drops bars where the
    return or sigma is not finite.
    """

def ewma_filtered_historical_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    lam: float | None = None,  # None: 0.94
    method: VarQuantileMethod | None = None,  # None: "linear"
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Filtered historical simulation with the built-in RiskMetrics EWMA volatility.

    Zero mean; ``s2[0] = mean(returns**2)`` (seed), ``s2[t] = lam*s2[t-1] +
    (1-lam)*r[t-1]**2`` is the forecast for bar ``t``, and ``sigma_now**2 = lam*s2[n-1] +
    (1-lam)*r[n-1]**2`` the forecast for the next bar. ``lam`` in (0, 1). All-zero returns
    give ``(0.0, 0.0)``.
    """

def monte_carlo_var(
    returns: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    n_paths: int | None = None,  # None: 100_000
    distribution: VarDistribution | None = None,  # None: "normal"
    df: float | None = None,
    seed: int | None = None,  # None: 0
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[float, float]:
    """Monte Carlo ``(var, cvar)``: ``n_paths`` (100..=1e8) seeded paths of ``horizon`` bars.

    Each bar is ``mu + s*eps`` (sample mean, std ddof=1; ``eps`` standard normal or a
    Student-t with ``df`` in (2, 1000], fitted as in ``student_t_var`` when None, scaled to unit
    variance); a path's loss is ``1 - prod(1 + r)``. VaR is the ``linear`` quantile of the path
    losses, CVaR the mean loss at or beyond it. ChaCha8 seeded with ``seed`` (0..2**64), one
    stream per block of 4096 paths: the same seed gives the same result on any machine and
    thread count.
    """

def fhs_horizon_var(
    returns: npt.NDArray[np.float64], horizon: int, window: int, confidence: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64]]:
    """The policy's horizon VaR after each return: ``(var, sums)``. Each return is standardised
    by the EWMA (lambda 0.94) forecast made before it; ``var[i]`` is numpy's 'linear' quantile
    at ``confidence`` of the losses of the last ``window`` overlapping ``horizon``-sums of the
    standardised returns, times the forecast for the next bar (fraction of exposure, positive
    loss, floored at 0; 0 while ``sums[i]`` is 0)."""

def rolling_historical_var(
    returns: npt.NDArray[np.float64],
    window: int,
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    method: VarQuantileMethod | None = None,  # None: "linear"
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rolling historical ``(var, cvar)`` arrays of length ``n - window + 1`` (no NaN warm-up).

    Element ``k`` is ``historical_var(returns[k:k+window], ...)`` (VaR exactly, CVaR up to
    summation order): known at the close of bar ``k+window-1``, a forecast for bar
    ``k+window``. ``window`` in 1..=n. A sorted window updated in place per step, both cores.
    Under ``nan_policy='omit'`` non-finite values are dropped first.
    """

def rolling_parametric_var(
    returns: npt.NDArray[np.float64],
    window: int,
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
    distribution: VarDistribution | None = None,  # None: "normal"
    df: float | None = None,
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rolling normal or Student-t ``(var, cvar)`` (as ``normal_var``/``student_t_var`` on each
    window of ``window`` in 2..=n bars), length ``n - window + 1``; ``df`` is required for
    ``'t'`` (not fitted per window)."""

def position_var(size: Number, price: Number, var_pct: Number) -> float:
    """VaR (or CVaR) in quote currency: ``abs(size) * price * var_pct``.

    ``size`` in base units (sign ignored: for a short, compute ``var_pct`` on ``-returns``),
    ``price`` > 0 in quote per base, ``var_pct`` a fraction from the functions above.
    """

@final
class PortfolioVar:
    """Delta-normal portfolio VaR with its Euler decomposition, quote currency."""

    @property
    def var(self) -> float:
        """``norm.ppf(c) * sigma``."""
    @property
    def cvar(self) -> float:
        """``norm.pdf(z) / (1 - c) * sigma``."""
    @property
    def sigma(self) -> float:
        """P&L std over the horizon: ``sqrt(w @ S @ w) * sqrt(horizon)``."""
    @property
    def marginal(self) -> npt.NDArray[np.float64]:
        """``dVaR/dw_i = z*sqrt(h)*(S @ w)_i / sqrt(w @ S @ w)`` (0 for a zero-variance
        portfolio, a subgradient)."""
    @property
    def component(self) -> npt.NDArray[np.float64]:
        """``w_i * marginal_i``; sums to ``var``."""

def portfolio_var(
    exposures: npt.NDArray[np.float64],
    covariance: npt.NDArray[np.float64],
    confidence: float | None = None,  # None: 0.95
    horizon: int | None = None,  # None: 1
) -> PortfolioVar:
    """Portfolio VaR of ``exposures`` (quote currency, signed, 1..=2000 assets) with the per-bar
    return ``covariance`` (2-D C-contiguous float64, n x n), zero mean returns.

    The covariance must be symmetric and positive semi-definite (relative tolerance 1e-10);
    singular matrices (perfectly correlated legs) are accepted, an indefinite one raises
    ``InvalidInputError`` with ``field='covariance'``.
    """

def covariance_from_correlation(
    vols: npt.NDArray[np.float64], correlation: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``S[i, j] = correlation[i, j] * vols[i] * vols[j]``; ``vols`` >= 0 per bar, the
    correlation symmetric with a unit diagonal and entries in [-1, 1]."""

# (end of var)

# ---------------------------------------------------------------------------------------------
# var_backtest: VaR backtests: exception series, Kupiec POF, Christoffersen independence and conditional coverage.
#
# An exception is a bar whose loss exceeds its VaR forecast: ``-returns[t] > var[t]``
# (strict). Expected rate ``p = 1 - confidence``. Statistics are likelihood ratios with
# ``0 * log(0) = 0``, floored at 0, never NaN; p-values are ``scipy.stats.chi2.sf``.

def var_exceptions(
    returns: npt.NDArray[np.float64],
    var: npt.NDArray[np.float64] | float,
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> npt.NDArray[np.bool_]:
    """Bool array ``-returns > var`` (``var`` an array of the same length or one number)."""

def kupiec_pof(
    n_obs: int, n_exceptions: int, confidence: float | None = None
) -> tuple[float, float]:
    """Kupiec (1995) proportion of failures ``(lr, p_value)``, chi2 with 1 df.

    ``lr = -2*ln[(1-p)**(T-x) * p**x] + 2*ln[(1-x/T)**(T-x) * (x/T)**x]``; ``x = 0`` gives
    ``-2*T*ln(1-p)``, ``x = T`` gives ``-2*T*ln(p)``. ``n_obs`` >= 1, ``n_exceptions`` <= n_obs.
    """

def christoffersen_independence(exceptions: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Christoffersen (1998) independence ``(lr, p_value)``, chi2 with 1 df.

    From the transition counts ``n_ij`` of consecutive bars: ``pi01 = n01/(n00+n01)``,
    ``pi11 = n11/(n10+n11)``, ``pi = (n01+n11)/(T-1)``; a probability with no transitions
    from its state only multiplies zero counts (its terms are 0). Fewer than two bars:
    ``(0.0, 1.0)``.
    """

def conditional_coverage(
    exceptions: npt.NDArray[np.bool_], confidence: float | None = None
) -> tuple[float, float]:
    """Conditional coverage ``(lr_pof + lr_ind, p_value)``, chi2 with 2 df (>= 1 bar)."""

@final
class VarBacktest:
    """A VaR backtest's counts, statistics and p-values."""

    @property
    def n_obs(self) -> int: ...
    @property
    def n_exceptions(self) -> int: ...
    @property
    def exception_rate(self) -> float:
        """``n_exceptions / n_obs``."""
    @property
    def expected_exceptions(self) -> float:
        """``(1 - confidence) * n_obs``."""
    @property
    def lr_pof(self) -> float: ...
    @property
    def p_pof(self) -> float: ...
    @property
    def lr_ind(self) -> float: ...
    @property
    def p_ind(self) -> float: ...
    @property
    def lr_cc(self) -> float: ...
    @property
    def p_cc(self) -> float: ...
    @property
    def n00(self) -> int: ...
    @property
    def n01(self) -> int: ...
    @property
    def n10(self) -> int: ...
    @property
    def n11(self) -> int: ...
    @property
    def exceptions(self) -> npt.NDArray[np.bool_]: ...

def var_backtest(
    returns: npt.NDArray[np.float64],
    var: npt.NDArray[np.float64] | float,
    confidence: float | None = None,  # None: 0.95
    nan_policy: VarNanPolicy | None = None,  # None: "raise"
) -> VarBacktest:
    """Backtest ``var`` forecasts (same length as ``returns``, aligned: ``var[t]`` is the
    forecast for bar ``t``, or one number) at ``confidence``: exceptions, Kupiec, Christoffersen
    independence and conditional coverage. ``nan_policy='omit'`` drops bars where the return or
    the VaR is not finite."""

# (end of var_backtest)

# ---------------------------------------------------------------------------------------------
# sizing: Position sizing: volatility targeting, VaR budget, fractional Kelly, per-level grid sizing.
#
# Conventions: amounts base units, prices / notionals / VaR / equity quote units, ``sigma``
# and ``mu`` per bar on simple returns. Every size is capped by ``max_position_size`` (base,
# >= 0; exact when given as int, Decimal or str, snapped down to the lot), snapped down to
# the lot (an amount within ~1e-14 relative of a lot counts as on it), and is 0 with
# ``bound_by`` 'min_qty' / 'min_notional' when under the market minimums (notional checked
# exactly at the price rounded down to the tick), never rounded up.

SizeBoundName = Literal[
    "vol_target",
    "var_budget",
    "kelly",
    "kelly_cap",
    "hedge_band",
    "max_position_size",
    "min_qty",
    "min_notional",
]

@final
class PositionSize:
    """A size in exact lots and the bound that decided it."""

    @property
    def lots(self) -> int:
        """Size in lots of the market (0 when below a minimum)."""
    @property
    def amount(self) -> Decimal:
        """``lots * lot_size``, exact (base units)."""
    @property
    def bound_by(self) -> SizeBoundName:
        """What decided the size: the model, the cap or a market minimum."""
    @property
    def raw_amount(self) -> float:
        """The model's amount before the cap and the lot (inf: the model sets no bound)."""

@final
class LevelSizes:
    """Per-level sizes of both grid sides."""

    @property
    def sell(self) -> PositionSize:
        """Each sell level (adds short): ``(h_max - h) * E / price / levels``."""
    @property
    def buy(self) -> PositionSize:
        """Each buy level (buys back): ``(h - h_min) * E / price / levels``."""
    @property
    def levels(self) -> int: ...

def vol_target_size(
    price: Number, sigma: Number, target_vol: Number, max_position_size: Number, market: Market
) -> PositionSize:
    """Size whose P&L standard deviation ``size * price * sigma`` equals ``target_vol``.

    ``target_vol`` quote units (>= 0) on the same horizon as ``sigma`` (> 0): per bar with a
    per-bar sigma, or both annualised. ``bound_by`` 'vol_target' unless capped or too small.
    """

def var_budget_size(
    price: Number,
    sigma: Number,
    var_limit: Number,
    max_position_size: Number,
    market: Market,
    confidence: Number | None = None,  # None: 0.95
    horizon: Number | None = None,  # None: 1
    share: Number | None = None,  # None: 1.0
    mean: Number | None = None,  # None: 0.0
) -> PositionSize:
    """Largest size whose normal VaR stays within ``share * var_limit`` (quote, a loss >= 0).

    VaR per unit ``(z_c * sigma * sqrt(horizon) - mean * horizon) * price`` with ``z_c`` the
    standard normal ``confidence`` quantile (0.95 = 95% loss quantile), ``horizon`` in bars,
    ``share`` in (0, 1], ``mean`` the per-bar expected return of the position's direction.
    When that VaR is <= 0 the budget sets no bound (``raw_amount`` inf) and the cap decides.
    """

def kelly_size(
    price: Number,
    mu: Number,
    sigma: Number,
    equity: Number,
    max_position_size: Number,
    market: Market,
    fraction: Number | None = None,  # None: 0.5
    max_fraction: Number | None = None,  # None: 1.0
) -> PositionSize:
    """Fractional Kelly: ``clip(fraction * mu / sigma**2, 0, max_fraction) * equity / price``.

    Continuous-return Kelly with per-bar ``mu`` and ``sigma`` (> 0), ``fraction`` in (0, 1],
    ``max_fraction`` >= 0 a leverage cap ('kelly_cap' when it binds); ``mu`` <= 0 sizes 0.
    """

def grid_level_sizes(
    exposure: Number,
    price: Number,
    hedge_ratio: Number,
    hedge_ratio_min: Number,
    hedge_ratio_max: Number,
    num_levels: int,
    max_position_size: Number,
    market: Market,
) -> LevelSizes:
    """Per-level grid sizes from the hedge-ratio band (DESIGN 'Band').

    Sell levels ``(h_max - h) * E / price / levels``, buy levels ``(h - h_min) * E / price /
    levels`` with exposure E (quote, >= 0), ``h_min <= h <= h_max`` and 1..=1000 levels; each
    level capped by ``max_position_size`` and snapped down to the lot. Minimums are checked
    at ``price``; ``grid_levels`` re-checks each level at its own price.
    """

def normal_quantile(confidence: Number) -> float:
    """Standard normal quantile of ``confidence`` in (0, 1), as used by ``var_budget_size``."""

# (end of sizing)

# ---------------------------------------------------------------------------------------------
# stops: Dynamic stops: volatility-scaled, ATR multiple, trailing; snapped to tick on the safe side.
#
# Safe side: a snapped stop triggers no later than its unsnapped level. A long's sell stop
# (below the market) rounds up, a short's buy stop (above the market) rounds down, both toward
# the market (a level within ~1e-14 relative of a tick counts as on it). Prices quote units,
# percentages fractions (0.04 = 4%).

PositionSideName = Literal["long", "short"]

@final
class Stop:
    """A stop price, exact, with the position it protects and its unsnapped level."""

    @property
    def side(self) -> PositionSideName:
        """The position protected."""
    @property
    def order_side(self) -> Side:
        """The stop order's side: 'sell' for a long, 'buy' for a short."""
    @property
    def level(self) -> float:
        """Unsnapped stop level (quote)."""
    @property
    def price_ticks(self) -> int: ...
    @property
    def price(self) -> Decimal:
        """Stop price on the tick grid, on the safe side of ``level``."""
    @property
    def distance_pct(self) -> float:
        """Distance of ``level`` from the reference price, as a fraction of it."""

@final
class TrailingStop:
    """A trailing stop path, one value per bar, ratcheting only in the safe direction."""

    @property
    def side(self) -> PositionSideName: ...
    @property
    def levels(self) -> npt.NDArray[np.float64]:
        """Unsnapped stop levels (quote)."""
    @property
    def ticks(self) -> npt.NDArray[np.int64]:
        """Stop prices in ticks, safe side, monotone."""
    @property
    def prices(self) -> npt.NDArray[np.float64]:
        """Nearest float64 of each exact stop price."""
    def __len__(self) -> int: ...

def stop_scale(
    sigma: Number,
    sigma_long_run: Number,
    min_scale: Number | None = None,  # None: 0.5
    max_scale: Number | None = None,  # None: 2.0
) -> float:
    """``sigma / sigma_long_run`` (both > 0, same horizon) clipped to [min_scale, max_scale]."""

def stop_at(price: Number, distance_pct: Number, side: PositionSideName, market: Market) -> Stop:
    """Stop at ``price * (1 - pct)`` for a long (pct < 1) or ``price * (1 + pct)`` for a short."""

def vol_scaled_stop(
    price: Number,
    stop_loss_pct: Number,
    sigma: Number,
    sigma_long_run: Number,
    side: PositionSideName,
    market: Market,
    min_scale: Number | None = None,  # None: 0.5
    max_scale: Number | None = None,  # None: 2.0
) -> Stop:
    """``stop_loss_pct`` (in (0, 1)) times ``stop_scale(...)``, placed from ``price``."""

def atr_stop(
    price: Number, atr: Number, multiple: Number, side: PositionSideName, market: Market
) -> Stop:
    """Stop ``multiple`` (> 0) ATRs (quote, >= 0) below (long) or above (short) ``price``."""

def trailing_stop(
    prices: npt.NDArray[np.float64],
    side: PositionSideName,
    market: Market,
    trail_pct: Number | None = None,
    atr: npt.NDArray[np.float64] | None = None,
    multiple: Number | None = None,
) -> TrailingStop:
    """Trailing stop over per-bar ``prices`` (> 0): ``trail_pct`` in (0, 1), or ``atr``
    (aligned, >= 0) with ``multiple``. Each bar's candidate is the price minus (long) or plus
    (short) the trail; a long's stop never falls and a short's never rises."""

# (end of stops)

# ---------------------------------------------------------------------------------------------
# hedge: Hedge ratio: minimum-variance (OLS, EWMA beta), hedge effectiveness, funding carry.
#
# Conventions: ``spot`` and ``futures`` are per-bar simple returns, aligned bar by bar, as 1-D
# C-contiguous float64 arrays of the same length. The minimum-variance hedge ratio is
# ``beta = Cov(spot, futures) / Var(futures)``: short ``beta`` units of futures notional per
# unit of spot notional. Constant futures returns have no beta: ``NumericalError``. Funding:
# a positive rate means longs pay shorts.

def ols_beta(
    spot: npt.NDArray[np.float64],
    futures: npt.NDArray[np.float64],
    nan_policy: Literal["raise", "omit"] | None = None,
) -> float:
    """Minimum-variance hedge ratio: OLS slope of ``spot`` on ``futures`` (>= 2 bars).

    ``nan_policy='omit'`` drops every bar where either series is NaN or inf.
    """

def ewma_beta(
    spot: npt.NDArray[np.float64],
    futures: npt.NDArray[np.float64],
    lam: float | None = None,  # None: 0.94
    min_periods: int | None = None,  # None: 2
    nan_policy: Literal["raise", "omit"] | None = None,
) -> npt.NDArray[np.float64]:
    """EWMA hedge ratio series ``cov_t / var_t``, decay ``lam`` in (0, 1) (alpha = 1 - lam).

    Moments are recursive from the first bar, as pandas ``ewm(alpha=1-lam, adjust=False)``.
    Element ``k`` is the beta at bar ``min_periods - 1 + k`` (``min_periods`` >= 2), so the
    result has ``n - min_periods + 1`` values and no NaN; the last is the current ratio.
    """

def rolling_beta(
    spot: npt.NDArray[np.float64],
    futures: npt.NDArray[np.float64],
    window: int,
) -> npt.NDArray[np.float64]:
    """Rolling OLS hedge ratio: element ``k`` is the beta of bars ``k .. k+window-1``.

    ``window`` in 2..=n; ``n - window + 1`` values; O(n) (running co-moments, recomputed
    exactly every ``window`` bars). A window of constant futures returns: ``NumericalError``.
    """

def hedge_effectiveness(
    spot: npt.NDArray[np.float64],
    futures: npt.NDArray[np.float64],
    hedge_ratio: float | None = None,
    nan_policy: Literal["raise", "omit"] | None = None,
) -> float:
    """``1 - Var(spot - h * futures) / Var(spot)``, at most 1 (negative: the hedge hurts).

    ``hedge_ratio`` None uses ``ols_beta``, for which this equals the regression's R squared.
    """

def funding_carry(
    position: Number,
    price: Number,
    rates: npt.NDArray[np.float64] | Number,
    periods: int | None = None,
) -> float:
    """Funding carry over a horizon, quote currency: ``-position * price * sum(rates)``.

    ``position`` signed base units (negative = short), ``price`` the mark price (> 0, held
    constant). ``rates``: one funding rate per interval (fractions in (-1, 1)) as a float64
    array, or a single rate applied over ``periods`` intervals (default 1). Positive rates:
    longs pay shorts, so a short position has a positive carry.
    """

# (end of hedge)

# ---------------------------------------------------------------------------------------------
# drawdown: Drawdown series, maximum drawdown and high-water mark.
#
# Conventions: ``equity`` is a 1-D C-contiguous float64 array in quote currency, every value
# >= 0 and the first > 0. Drawdown is a fraction <= 0, ``equity / high_water_mark - 1`` in
# [-1, 0]: a ``max_drawdown`` limit of 0.1 is breached below -0.1. Under
# ``nan_policy='omit'`` NaN/inf bars are removed first and indices refer to what remains.

@final
class MaxDrawdown:
    """The worst drawdown of an equity curve and where it happened."""

    @property
    def drawdown(self) -> float:
        """The most negative drawdown, a fraction in [-1, 0]; 0 if equity never falls."""
    @property
    def peak(self) -> int:
        """Index of the high-water mark in force at the trough (its last bar at that mark)."""
    @property
    def trough(self) -> int:
        """First index where the worst drawdown is reached."""
    @property
    def recovery(self) -> int | None:
        """First index after the trough back at or above the peak's equity, else None."""
    @property
    def duration(self) -> int:
        """Bars from peak to recovery, or to the last bar if not recovered (0: no drawdown)."""

def high_water_mark(
    equity: npt.NDArray[np.float64], nan_policy: Literal["raise", "omit"] | None = None
) -> npt.NDArray[np.float64]:
    """Running maximum of ``equity`` (quote currency), one value per bar."""

def drawdown(
    equity: npt.NDArray[np.float64], nan_policy: Literal["raise", "omit"] | None = None
) -> npt.NDArray[np.float64]:
    """Drawdown ``equity / high_water_mark - 1`` per bar: fractions in [-1, 0], 0 at a high."""

def drawdown_duration(
    equity: npt.NDArray[np.float64], nan_policy: Literal["raise", "omit"] | None = None
) -> npt.NDArray[np.int64]:
    """Bars since the last bar at the high-water mark, per bar (0 at the mark)."""

def max_drawdown(
    equity: npt.NDArray[np.float64], nan_policy: Literal["raise", "omit"] | None = None
) -> MaxDrawdown:
    """The worst drawdown with its peak, trough, recovery and duration (bars)."""

# (end of drawdown)

# ---------------------------------------------------------------------------------------------
# synthetic: Seeded synthetic market: GARCH-type returns with fat tails and jumps, OHLCV bars, funding rates.

def synthetic_market(
    seed: int,
    bars: int,
    timeframe: str,
    start: int,
    start_price: Number,
    *,
    vol_annual: Number = ...,
    drift_annual: Number = ...,
    garch_alpha: Number = ...,
    garch_beta: Number = ...,
    tail_dof: Number = ...,
    stress_share: Number = ...,
    stress_var_ratio: Number = ...,
    stress_hours: Number = ...,
    stress_drift: Number = ...,
    jumps_per_year: Number = ...,
    jump_size: Number = ...,
    jump_down_prob: Number = ...,
    jump_stress_prob: Number = ...,
    volume_median: Number = ...,
    funding: bool = ...,
) -> dict[str, npt.NDArray[np.int64] | npt.NDArray[np.float64]]:
    """Seeded synthetic OHLCV bars and funding rates (use ``gridhedge.data.synthetic_candles``).

    ``seed`` in [0, 2**64); ``bars`` 1..=20,000,000; ``timeframe`` one of 1m, 5m, 15m, 30m, 1h,
    2h, 4h, 8h, 12h, 1d; ``start`` ms UTC, a multiple of the timeframe; ``start_price`` > 0
    (quote). Returns int64 ``timestamp`` (bar open) and ``funding_time`` (ms UTC) and float64
    ``open``, ``high``, ``low``, ``close`` (quote), ``volume`` (base) and ``funding_rate``
    (fraction per 8 hours, positive: longs pay shorts). Same arguments, same bytes.
    """

# (end of synthetic)

# ---------------------------------------------------------------------------------------------
# fills: The fill model shared by the backtester, the PAPER broker and the exchange emulator.
@final
class SimFill:
    """One simulated fill: exact price, amount and fee (quote; negative for a maker rebate)."""

    @property
    def order_id(self) -> int: ...
    @property
    def side(self) -> Side: ...
    @property
    def price_ticks(self) -> int: ...
    @property
    def amount_lots(self) -> int: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def maker(self) -> bool:
        """True for a resting limit fill (maker fee), False for a triggered stop (taker fee)."""
    @property
    def done(self) -> bool:
        """Whether the order is now completely filled (and left the book)."""

@final
class FillBook:
    """Simulated resting orders of one market, filled bar by bar (DESIGN.md, 'Fills').

    Path O->H->L->C on a down bar (close < open), else O->L->H->C; a limit fills at its price
    only when the path trades through it by a tick; an order placed after bar ``k`` closed
    fills from bar ``k+1``; limit fills share ``participation * volume`` per bar in path order
    (the rest carries over); stop-market orders trigger on touch and fill at the stop (or the
    open when gapped), taker, uncapped. Fees are fractions of notional.
    """

    def __new__(
        cls,
        market: Market,
        participation: Number | None = None,
        maker_fee: Number | None = None,
        taker_fee: Number | None = None,
    ) -> FillBook:
        """Defaults: participation 0.1, maker fee 0.0002, taker fee 0.0005."""
    def place(
        self,
        order_id: int,
        side: SideArg,
        price_ticks: int,
        amount_lots: int,
        bar_index: int,
        kind: str = "limit",
    ) -> None:
        """Rest an order placed after bar ``bar_index`` closed; ids must be unique in the book.

        ``kind``: ``"limit"``, ``"stop_market"`` or ``"market"`` (fills at the next open)."""
    def cancel(self, order_id: int) -> bool:
        """Remove a resting order; False if it is not in the book."""
    def open_orders(self) -> list[tuple[int, int]]:
        """(order_id, remaining lots) of every resting order, in placement order."""
    def on_bar(
        self, bar_index: int, open: float, high: float, low: float, close: float, volume: float
    ) -> list[SimFill]:
        """Fill the book against one bar (prices quote, volume base); fills in path order."""

def funding_payment(amount: Number, mark: Number, rate: Number) -> float:
    """Funding received by a signed position (base; negative = short) at ``mark`` for ``rate``
    per interval (positive: longs pay shorts): ``-amount * mark * rate`` in quote currency."""

# (end of fills)

# ---------------------------------------------------------------------------------------------
# policy: the decision, one pure function for the live bot and the backtester.

@final
class PolicyConfig:
    """The policy's settings (units as in ``GridHedgeConfig``); every keyword is required but
    ``halt_hedge_ratio`` (1.0), ``halt_cooldown`` and ``stop_cooldown`` (decisions; 0, 24),
    ``var_method`` ("fhs"), ``var_window_bars`` (2000), ``sizing_vol_target_pct`` and
    ``sizing_var_share`` (0: sizing from risk off; the bot's config turns it on),
    ``stop_refresh_tolerance`` (0: the stop follows every tick; the bot's config sets it),
    ``grid_refresh_tolerance`` (0: the spacing follows every change),
    ``trend_guard_bars`` (0: the trend guard is off), ``trend_guard_pct`` (0.02),
    ``requote_tolerance`` (0: the requote gate is off) and ``requote_max_skips`` (60).

    Build it with ``gridhedge.grid.policy.policy_config(config)``.
    """

    def __new__(cls, **kwargs: object) -> PolicyConfig: ...
    @property
    def max_active_orders(self) -> int: ...

@final
class DesiredOrder:
    """An order the decision wants: ``key`` names it (``gs3`` sell rung 3, ``gb0`` center buy,
    ``rs0`` rebalance sell, ``xb0`` stop buy); ``price`` is None for a market order."""

    @property
    def role(self) -> Literal["grid", "rebalance", "stop"]: ...
    @property
    def side(self) -> Side: ...
    @property
    def level(self) -> int: ...
    @property
    def kind(self) -> Literal["limit", "stop_market", "market"]: ...
    @property
    def price_ticks(self) -> int: ...
    @property
    def amount_lots(self) -> int: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def key(self) -> str: ...
    @property
    def row(self) -> tuple[str, str, int, int]:
        """``(key, kind, price_ticks, amount_lots)``: the order as the diff reads it."""

@final
class Decision:
    """Desired orders, the new policy state, figures and reasons. A halt keeps its de-risking
    orders (rebalance to the safe hedge, protective stop); the diff cancels the grid."""

    @property
    def orders(self) -> list[DesiredOrder]: ...
    @property
    def center_ticks(self) -> int: ...
    @property
    def ref_short_lots(self) -> int: ...
    @property
    def halted(self) -> bool: ...
    @property
    def cancel_all(self) -> bool: ...
    @property
    def resumed(self) -> bool:
        """A halt lifted by ``halt_cooldown`` at this decision: restart the high-water mark."""
    @property
    def state(self) -> dict[str, int | bool]:
        """The whole policy state for the next decision's ``state=``: center_ticks,
        ref_short_lots, halted, halt_age, stop_ref_ticks (> 0 trailing high while net long,
        < 0 minus the trailing low while net short), sell_stop_ticks, buy_stop_ticks,
        sell_stop_lots, buy_stop_lots (the stops the decision placed: price ticks, amount
        lots; 0 none; a stop stays still only at its recorded amount), grid_spacing_bits (the
        spacing the decision used, as the bits of its float64; 0 none), pause_buys, pause_sells (decisions), decided_bar_ms (open time of the latest bar a
        ``PolicyEngine`` decision saw: a restarted engine checks the recorded stops against
        the bars after it; 0 unknown)."""
    @property
    def metrics(self) -> dict[str, float]:
        """volatility, long_run_volatility (per bar), spacing, hedge_ratio, target_hedge_ratio,
        var and var_worst (quote, positive losses), var_horizon_fraction (the horizon VaR per
        unit of exposure behind them), drawdown, stop_distance (fractions)."""
    @property
    def reasons(self) -> list[tuple[str, str]]:
        """(code, sentence) pairs: why each layer acted (halt, rebalance, var_warning, ...)."""

def decide(
    config: PolicyConfig,
    market: Market,
    price: Number,
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    volume: npt.NDArray[np.float64],
    funding_rate: Number,
    spot_amount: Number,
    futures_lots: int,
    equity: Number,
    high_water_mark: Number,
    center_ticks: int | None = None,  # None: 0
    ref_short_lots: int | None = None,  # None: 0
    halted: bool | None = None,  # None: False
    state: Mapping[str, int | bool] | None = None,
) -> Decision:
    """Which orders should exist now. Candles oldest first (the last is the latest complete
    bar); ``futures_lots`` signed (negative = short); state from the previous decision."""

@final
class PolicyEngine:
    """The policy with incrementally updated market statistics (volatility, VaR quantile,
    support/resistance). ``decide`` ingests only the window's bars newer than the last one
    seen (a gap or a restart refeeds the whole window). The bot and the backtester both
    decide through one, so their decisions agree exactly."""

    def __new__(cls, config: PolicyConfig, market: Market, history_bars: int) -> PolicyEngine: ...
    def __len__(self) -> int: ...
    def set_config(self, config: PolicyConfig) -> None:
        """Replace the settings; statistics carry over unless the estimator, the
        support/resistance switch or the horizon VaR's method, horizon or window changed."""
    def decide(
        self,
        price: Number,
        timestamp: npt.NDArray[np.int64],
        open: npt.NDArray[np.float64],
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
        volume: npt.NDArray[np.float64],
        funding_rate: Number,
        spot_amount: Number,
        futures_lots: int,
        equity: Number,
        high_water_mark: Number,
        center_ticks: int | None = None,  # None: 0
        ref_short_lots: int | None = None,  # None: 0
        halted: bool | None = None,  # None: False
        state: Mapping[str, int | bool] | None = None,
    ) -> Decision:
        """Ingest the candle window (open times in ms, oldest first) and decide."""

# (end of policy)

# ---------------------------------------------------------------------------------------------
# orders: deterministic client order ids and the order diff.

def client_order_id(bot_id: str, symbol: str, key: str, sequence: int) -> str:
    """``gh`` + 8 chars of a stable hash of (bot_id, symbol) + key + ``-`` + sequence; <= 36
    chars of ``[A-Za-z0-9_-]``; the same intent always gives the same id."""

def diff_orders(
    open: list[tuple[str, str, int, int]], desired: list[tuple[str, str, int, int]]
) -> tuple[list[int], list[int]]:
    """Minimal change from open ``(key, kind, price_ticks, remaining_lots)`` to desired
    ``(key, kind, price_ticks, amount_lots)``: (open indexes to cancel, desired to place)."""

def parse_client_order_id(bot_id: str, symbol: str, client_order_id: str) -> tuple[str, int] | None:
    """(key code, sequence) of one of this bot's client order ids; None for any other id."""

# (end of orders)

# ---------------------------------------------------------------------------------------------
# account: a simulated linear-perpetual account, exact.

@final
class SimAccount:
    """Position (signed lots, negative = short), average entry, realised PnL, fees paid and
    funding received, all exact quote-currency ``Decimal``s."""

    def __new__(cls, market: Market) -> SimAccount: ...
    def apply_fill(self, side: SideArg, price_ticks: int, amount_lots: int, fee: Number) -> None:
        """Book a fill; ``fee`` is paid in quote currency (negative for a rebate)."""
    def apply_funding(self, mark: Number, rate: Number) -> Decimal:
        """Book funding ``-position * mark * rate`` (positive rate: longs pay); returns it."""
    def unrealized_pnl(self, mark: Number) -> Decimal: ...
    def net_pnl(self, mark: Number) -> Decimal:
        """Realised + unrealised PnL + funding - fees at ``mark``."""
    @property
    def position_lots(self) -> int: ...
    @property
    def position(self) -> Decimal: ...
    @property
    def entry_price(self) -> Decimal: ...
    @property
    def realized_pnl(self) -> Decimal: ...
    @property
    def fees(self) -> Decimal: ...
    @property
    def funding(self) -> Decimal: ...
    @property
    def traded_notional(self) -> Decimal: ...

# (end of account)

# ---------------------------------------------------------------------------------------------
# backtest: the event-driven backtester on the bot's own policy, and sweeps.

@final
class BacktestSpec:
    """One backtest's settings (build it with ``gridhedge.backtest.spec_for``)."""

    def __new__(
        cls,
        policy: PolicyConfig,
        *,
        history_bars: int,
        cadence: int,
        start: int,
        spot_amount: Number,
        cash: Number,
        maker_fee: Number,
        taker_fee: Number,
        participation: Number,
        max_active_orders: int,
        bot_id: str,
        symbol: str,
        plain_grid: bool | None = None,  # None: False
        baseline_rebalance_bars: int | None = None,  # None: 0
    ) -> BacktestSpec: ...
    @property
    def cadence(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def spot_amount(self) -> str:
        """The spot inventory (base units), an exact decimal string."""
    @property
    def bot_id(self) -> str:
        """The bot id its client order ids are scoped to."""
    @property
    def symbol(self) -> str: ...
    @property
    def plain_grid(self) -> bool:
        """Run the plain static geometric grid (no policy layers) instead of the policy."""
    def plain_levels(self, market: Market, close: float) -> tuple[list[int], int]:
        """The plain grid's level prices (ticks) and order size (lots) around ``close``."""

def backtest(
    spec: BacktestSpec,
    market: Market,
    timestamp: npt.NDArray[np.int64],
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    volume: npt.NDArray[np.float64],
    funding_time: npt.NDArray[np.int64],
    funding_rate: npt.NDArray[np.float64],
    *,
    record_events: bool | None = None,  # None: True
    record_series: bool | None = None,  # None: True
) -> dict[str, Any]:
    """One run (GIL released): ``metrics``, ``kinds`` (order kind names by code), ``orders``
    and ``fills`` (numpy columns: codes, ticks, lots and bars; no Python object per row; the
    event log derives from them), ``series`` (float64 arrays from ``first_bar``)."""

def sweep(
    specs: list[BacktestSpec],
    market: Market,
    timestamp: npt.NDArray[np.int64],
    open: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    volume: npt.NDArray[np.float64],
    funding_time: npt.NDArray[np.int64],
    funding_rate: npt.NDArray[np.float64],
    *,
    threads: int | None = None,  # None: 0
    progress: Callable[[int, int], object] | None = None,
    bootstrap_resamples: int | None = None,  # None: no excess interval
    seed: int | None = None,  # None: 0
    share_statistics: bool | None = None,  # None: True
) -> dict[str, Any]:
    """Metrics of every spec over the same data on rayon threads (GIL released): columns of
    metrics in spec order and ``error`` (None or a message per spec); with
    ``bootstrap_resamples`` (>= 100) also ``excess_ci_low``, ``excess_ci_high`` and
    ``excess_t`` (the excess over the static hedge's moving-block-bootstrap interval).
    ``share_statistics`` (default True): the market statistics computed once per decision for
    the specs sharing their statistics settings; False: every spec on its own (the benches'
    baseline, the same results)."""

def excess_bootstrap(
    grid: npt.NDArray[np.float64],
    baseline: npt.NDArray[np.float64],
    *,
    block: int | None = None,  # None: 0
    resamples: int | None = None,  # None: 2000
    seed: int | None = None,  # None: 0
) -> dict[str, Any]:
    """The excess of the ``grid`` equity curve over ``baseline`` (same bars, >= 3) with a
    moving-block bootstrap of its total: ``total``, ``ci_low``/``ci_high`` (2.5%/97.5%),
    ``t_stat`` (NaN when undefined), ``block`` (bars; 0 asks for round(m^(1/3))),
    ``resamples``."""

# (end of backtest)

# ---------------------------------------------------------------------------------------------
# portfolio: several legs under one budget. Returns are aligned simple returns, a 2-D
# C-contiguous float64 ``T x n`` array (one row a bar, one column a leg); exposures are signed
# quote amounts; VaR/CVaR are positive losses in quote.

@final
class PortfolioRisk:
    """A portfolio's risk figures (quote) with the covariance they came from."""

    @property
    def covariance(self) -> npt.NDArray[np.float64]:
        """``n x n`` per-bar covariance after shrinkage toward the diagonal."""
    @property
    def shrinkage(self) -> float:
        """Intensity in [0, 1]: ``sum Var(s_ij) / sum s_ij^2`` over the off-diagonals."""
    @property
    def effective_bars(self) -> float:
        """``1 / sum w_t^2`` of the estimator's weights."""
    @property
    def var(self) -> float: ...
    @property
    def cvar(self) -> float: ...
    @property
    def sigma(self) -> float: ...
    @property
    def marginal(self) -> npt.NDArray[np.float64]: ...
    @property
    def component(self) -> npt.NDArray[np.float64]:
        """Euler components, sum to ``var``."""
    @property
    def historical_var(self) -> float:
        """Loss quantile of the P&L series ``returns @ exposures`` (numpy 'linear'),
        times ``sqrt(horizon)``."""
    @property
    def historical_cvar(self) -> float: ...
    @property
    def standalone(self) -> npt.NDArray[np.float64]:
        """Each leg's parametric VaR alone."""

def portfolio_risk(
    returns: npt.NDArray[np.float64],
    exposures: npt.NDArray[np.float64],
    method: Literal["ewma", "rolling"] | None = None,
    lam: float | None = None,
    window: int | None = None,
    confidence: float | None = None,
    horizon: int | None = None,
) -> PortfolioRisk:
    """Covariance (EWMA ``lam`` default 0.94, or rolling ``window`` default 500) with
    shrinkage, parametric VaR/CVaR with the Euler split, historical VaR/CVaR."""

def portfolio_covariance(
    returns: npt.NDArray[np.float64],
    method: Literal["ewma", "rolling"] | None = None,
    lam: float | None = None,
    window: int | None = None,
) -> tuple[npt.NDArray[np.float64], float, float]:
    """``(covariance, shrinkage, effective_bars)``."""

def var_budgets(
    exposures: npt.NDArray[np.float64],
    covariance: npt.NDArray[np.float64],
    var_limit: float,
    weights: npt.NDArray[np.float64] | None = None,
    confidence: float | None = None,
    horizon: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(shares, allowed_exposure)``: each leg's share of ``var_limit`` (by ``weights``,
    default equal) and ``share / marginal VaR`` (inf for a leg whose marginal is <= 0)."""

def shrink_to_limit(
    exposures: npt.NDArray[np.float64],
    covariance: npt.NDArray[np.float64],
    var_limit: float,
    confidence: float | None = None,
    horizon: int | None = None,
) -> npt.NDArray[np.float64]:
    """Per-leg multipliers in (0, 1] bringing the parametric VaR within ``var_limit``, the
    largest component VaR shrunk first; all ones when already within."""

def portfolio_drawdown(
    equity: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], float, MaxDrawdown]:
    """``(summed equity, current drawdown <= 0, max drawdown)`` of ``T x n`` leg equities."""

def ewma_var_path(
    returns: npt.NDArray[np.float64],
    exposures: npt.NDArray[np.float64],
    lam: float | None = None,
    confidence: float | None = None,
    horizon: int | None = None,
) -> npt.NDArray[np.float64]:
    """Parametric VaR every bar on the EWMA covariance (zero mean, normalised weights, no
    shrinkage); ``exposures`` ``n`` values (fixed) or ``T x n``."""

# (end of portfolio)

def leg_var_limits(
    exposures: npt.NDArray[np.float64],
    covariance: npt.NDArray[np.float64],
    var_limit: float,
    configured: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None = None,
    confidence: float | None = None,
    horizon: int | None = None,
) -> npt.NDArray[np.float64]:
    """Each leg's own VaR limit under the portfolio budget (quote): the VaR it would have alone
    at the exposure its budget allows (``share / correlation with the portfolio``), never above
    its ``configured`` limit (kept when its marginal VaR is <= 0)."""

def portfolio_backtest(
    specs: list[BacktestSpec],
    markets: list[Market],
    data: list[tuple[npt.NDArray[Any], ...]],
    *,
    var_limit: float,
    max_drawdown: float,
    confidence: float,
    horizon: int,
    method: str,
    lam: float,
    window: int,
    lookback_bars: int,
    weights: npt.NDArray[np.float64] | None,
    start: int,
    cadence: int,
    record_events: bool | None = None,  # None: True
    record_series: bool | None = None,  # None: True
) -> dict[str, Any]:
    """The portfolio backtester over aligned series (GIL released), one spec, market and
    ``(timestamp, open, high, low, close, volume, funding_time, funding_rate)`` per leg:
    ``legs`` (``backtest`` result dicts), ``rebalances`` (columns; per-leg ``R x n`` arrays:
    exposure, component, share, multiplier, band_scale, var_limit), ``reasons`` (bar, reason),
    ``equity`` (summed per bar from ``start``) and ``metrics``."""
