"""Drawdown of an equity curve (computed in the Rust core).

Equity is in quote currency (>= 0, first value > 0). Drawdown is a fraction <= 0,
``equity / high_water_mark - 1`` in [-1, 0]; a ``max_drawdown`` limit of 0.1 is breached
when the drawdown falls below -0.1.
"""

from gridhedge._core import (
    MaxDrawdown,
    drawdown,
    drawdown_duration,
    high_water_mark,
    max_drawdown,
)

__all__ = ["MaxDrawdown", "drawdown", "drawdown_duration", "high_water_mark", "max_drawdown"]
