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
# (end of volatility)

# ---------------------------------------------------------------------------------------------
# garch: GARCH(1,1) maximum-likelihood fit (normal and Student-t) and variance forecasts.
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
    confidence: float = 0.95,
    horizon: int = 1,
    method: VarQuantileMethod = "linear",
    nan_policy: VarNanPolicy = "raise",
) -> tuple[float, float]:
    """Historical ``(var, cvar)``: the ``confidence`` quantile of ``-returns`` and the tail mean.

    The quantile is exactly ``np.quantile(-returns, confidence, method=method)``: ``linear``
    interpolates between the order statistics around ``(n-1)*confidence``, ``lower`` takes
    the one below. CVaR is the mean of every loss ``>= var`` (ties included). Both times
    ``sqrt(horizon)``. Needs >= 1 finite return.
    """

def normal_var(
    returns: npt.NDArray[np.float64],
    confidence: float = 0.95,
    horizon: int = 1,
    nan_policy: VarNanPolicy = "raise",
) -> tuple[float, float]:
    """Normal ``(var, cvar)`` from the sample mean ``mu`` and std ``s`` (ddof=1).

    ``var = -mu*h + s*sqrt(h)*norm.ppf(c)``, ``cvar = -mu*h + s*sqrt(h)*norm.pdf(z)/(1-c)``.
    Needs >= 2 finite returns.
    """

def student_t_var(
    returns: npt.NDArray[np.float64],
    confidence: float = 0.95,
    horizon: int = 1,
    df: float | None = None,
    nan_policy: VarNanPolicy = "raise",
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
    confidence: float = 0.95,
    horizon: int = 1,
    nan_policy: VarNanPolicy = "raise",
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
    returns: npt.NDArray[np.float64], nan_policy: VarNanPolicy = "raise"
) -> tuple[float, float, float, float]:
    """``(mean, std, skew, excess_kurtosis)``: std with ddof=1, skew and excess kurtosis as
    ``scipy.stats.skew/kurtosis(bias=False)`` (0 for fewer than 3/4 values or zero variance)."""

def filtered_historical_var(
    returns: npt.NDArray[np.float64],
    sigma: npt.NDArray[np.float64],
    confidence: float = 0.95,
    horizon: int = 1,
    sigma_now: float | None = None,
    method: VarQuantileMethod = "linear",
    nan_policy: VarNanPolicy = "raise",
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
    confidence: float = 0.95,
    horizon: int = 1,
    lam: float = 0.94,
    method: VarQuantileMethod = "linear",
    nan_policy: VarNanPolicy = "raise",
) -> tuple[float, float]:
    """Filtered historical simulation with the built-in RiskMetrics EWMA volatility.

    Zero mean; ``s2[0] = mean(returns**2)`` (seed), ``s2[t] = lam*s2[t-1] +
    (1-lam)*r[t-1]**2`` is the forecast for bar ``t``, and ``sigma_now**2 = lam*s2[n-1] +
    (1-lam)*r[n-1]**2`` the forecast for the next bar. ``lam`` in (0, 1). All-zero returns
    give ``(0.0, 0.0)``.
    """

def monte_carlo_var(
    returns: npt.NDArray[np.float64],
    confidence: float = 0.95,
    horizon: int = 1,
    n_paths: int = 100_000,
    distribution: VarDistribution = "normal",
    df: float | None = None,
    seed: int = 0,
    nan_policy: VarNanPolicy = "raise",
) -> tuple[float, float]:
    """Monte Carlo ``(var, cvar)``: ``n_paths`` (100..=1e8) seeded paths of ``horizon`` bars.

    Each bar is ``mu + s*eps`` (sample mean, std ddof=1; ``eps`` standard normal or a
    Student-t with ``df`` in (2, 1000], fitted as in ``student_t_var`` when None, scaled to unit
    variance); a path's loss is ``1 - prod(1 + r)``. VaR is the ``linear`` quantile of the path
    losses, CVaR the mean loss at or beyond it. ChaCha8 seeded with ``seed`` (0..2**64), one
    stream per block of 4096 paths: the same seed gives the same result on any machine and
    thread count.
    """

def rolling_historical_var(
    returns: npt.NDArray[np.float64],
    window: int,
    confidence: float = 0.95,
    horizon: int = 1,
    method: VarQuantileMethod = "linear",
    nan_policy: VarNanPolicy = "raise",
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
    confidence: float = 0.95,
    horizon: int = 1,
    distribution: VarDistribution = "normal",
    df: float | None = None,
    nan_policy: VarNanPolicy = "raise",
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
    confidence: float = 0.95,
    horizon: int = 1,
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
    nan_policy: VarNanPolicy = "raise",
) -> npt.NDArray[np.bool_]:
    """Bool array ``-returns > var`` (``var`` an array of the same length or one number)."""

def kupiec_pof(n_obs: int, n_exceptions: int, confidence: float = 0.95) -> tuple[float, float]:
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
    exceptions: npt.NDArray[np.bool_], confidence: float = 0.95
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
    confidence: float = 0.95,
    nan_policy: VarNanPolicy = "raise",
) -> VarBacktest:
    """Backtest ``var`` forecasts (same length as ``returns``, aligned: ``var[t]`` is the
    forecast for bar ``t``, or one number) at ``confidence``: exceptions, Kupiec, Christoffersen
    independence and conditional coverage. ``nan_policy='omit'`` drops bars where the return or
    the VaR is not finite."""

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
