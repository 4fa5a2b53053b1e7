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
# (end of fills)
