"""Dynamic stops (computed in the Rust core): volatility-scaled ``stop_loss_pct``, ATR multiple
and trailing stops, snapped to the tick on the safe side (a long's sell stop rounds up, a
short's buy stop rounds down: never triggering later than the unsnapped level)."""

from gridhedge._core import (
    Stop,
    TrailingStop,
    atr_stop,
    stop_at,
    stop_scale,
    trailing_stop,
    vol_scaled_stop,
)

__all__ = [
    "Stop",
    "TrailingStop",
    "atr_stop",
    "stop_at",
    "stop_scale",
    "trailing_stop",
    "vol_scaled_stop",
]
