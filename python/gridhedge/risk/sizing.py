"""Position sizing (computed in the Rust core): volatility target, VaR budget, fractional Kelly
and per-level grid sizing, capped by ``max_position_size`` and snapped down to the lot, each
with the bound that decided it (``PositionSize.bound_by``)."""

from gridhedge._core import (
    LevelSizes,
    PositionSize,
    grid_level_sizes,
    kelly_size,
    normal_quantile,
    var_budget_size,
    vol_target_size,
)

__all__ = [
    "LevelSizes",
    "PositionSize",
    "grid_level_sizes",
    "kelly_size",
    "normal_quantile",
    "var_budget_size",
    "vol_target_size",
]
