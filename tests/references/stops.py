"""Independent reference of stop placement (from the definitions, not the Rust code): the
level in exact Decimal from the float inputs, snapped on the safe side with the documented
tolerance (a long's sell stop up, a short's buy stop down); trailing stops as numpy running
max/min of the per-bar candidates."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from tests.references.grid import snap


def ref_stop_ticks(level: Decimal, side: str, tick: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        return snap(level / tick, up=side == "long")


def ref_pct_level(price: float, pct: float, side: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        sign = -1 if side == "long" else 1
        return Decimal(price) * (1 + sign * Decimal(pct))


def ref_trailing(
    prices: np.ndarray, distance: np.ndarray, side: str, tick: Decimal
) -> tuple[np.ndarray, np.ndarray]:
    """Levels and ticks of a trailing stop: running max (long) / min (short) of candidates."""
    if side == "long":
        candidates = prices - distance
        levels = np.maximum.accumulate(candidates)
        ticks = np.maximum.accumulate(
            [ref_stop_ticks(Decimal(float(c)), side, tick) for c in candidates]
        )
    else:
        candidates = prices + distance
        levels = np.minimum.accumulate(candidates)
        ticks = np.minimum.accumulate(
            [ref_stop_ticks(Decimal(float(c)), side, tick) for c in candidates]
        )
    return levels, np.asarray(ticks, dtype=np.int64)
