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
