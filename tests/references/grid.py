"""Independent pure-Python `Decimal` reference of the grid-level definition (DESIGN.md).

Written from the definition, not from the Rust code: levels are computed exactly in Decimal
(60 digits) from the exact values of the float inputs, snapped with the documented tolerance
(a value within 64 * 2**-52 * max(|q|, 1) of an integer is on it), merged and filtered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext

import numpy as np

EPS = Decimal(2) ** -52
SNAP_ULPS = 64


def snap(q: Decimal, up: bool) -> int:
    """Snap a value in grid units to an integer, up or down, with the float-noise tolerance."""
    nearest = q.to_integral_value(ROUND_HALF_EVEN)
    tolerance = SNAP_ULPS * EPS * max(abs(q), Decimal(1))
    if abs(q - nearest) <= tolerance:
        return int(nearest)
    return int(q.to_integral_value(ROUND_CEILING if up else ROUND_FLOOR))


@dataclass
class RefLevel:
    index: int
    ticks: int
    lots: int


@dataclass
class RefGrid:
    buys: list[RefLevel] = field(default_factory=list)
    sells: list[RefLevel] = field(default_factory=list)
    merged: int = 0
    dropped_nonpositive: int = 0
    dropped_below_minimum: int = 0


def reference_grid(
    center: float,
    spacing: float,
    num_levels: int,
    tick: str,
    lot: str,
    min_qty: str,
    min_notional: str,
    amount: float,
    min_distance: float = 0.0,
    mode: str = "geometric",
) -> RefGrid:
    """The grid per DESIGN.md, computed in exact decimal arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 60
        c, s = Decimal(center), Decimal(spacing)
        t, lt = Decimal(tick), Decimal(lot)
        lots = snap(Decimal(amount) / lt, up=False)
        gap = max(1, snap(Decimal(min_distance) / t, up=True))
        q_center = c / t
        g = RefGrid()
        for i in range(1, num_levels + 1):
            if mode == "geometric":
                sell_q, buy_q = q_center * (1 + s) ** i, q_center / (1 + s) ** i
            else:
                sell_q, buy_q = q_center * (1 + i * s), q_center * (1 - i * s)
            sell = snap(sell_q, up=True)
            if g.sells and sell - g.sells[-1].ticks < gap:
                g.sells[-1].lots += lots
                g.merged += 1
            else:
                g.sells.append(RefLevel(i, sell, lots))
            buy = snap(buy_q, up=False) if buy_q > 0 else 0
            if buy <= 0:
                g.dropped_nonpositive += 1
            elif g.buys and g.buys[-1].ticks - buy < gap:
                g.buys[-1].lots += lots
                g.merged += 1
            else:
                g.buys.append(RefLevel(i, buy, lots))
        while g.buys and g.sells and g.sells[0].ticks - g.buys[0].ticks < gap:
            # the sell yields when it is no farther from the center than the buy (ties within
            # the float tolerance count as ties)
            total, twice = g.sells[0].ticks + g.buys[0].ticks, 2 * q_center
            side = g.sells if total <= twice + SNAP_ULPS * EPS * max(twice, Decimal(1)) else g.buys
            inner = side.pop(0)
            if side:
                side[0].lots += inner.lots
            g.merged += 1
        unit_min_qty, unit_min_notional = Decimal(min_qty), Decimal(min_notional)

        def meets(level: RefLevel) -> bool:
            amount_d = level.lots * lt
            return amount_d >= unit_min_qty and level.ticks * t * amount_d >= unit_min_notional

        for name in ("buys", "sells"):
            levels: list[RefLevel] = getattr(g, name)
            kept = [lv for lv in levels if meets(lv)]
            g.dropped_below_minimum += len(levels) - len(kept)
            setattr(g, name, kept)
        return g


def float_grid_levels_numpy(
    centers: np.ndarray, spacing: float, num_levels: int, tick: float, mode: str = "geometric"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A numpy float version of the same steps, for benches: levels, side-aware snapping with
    the tolerance, and the merge of duplicates (min distance 0) as a keep-mask, no compaction."""
    eps_tol = SNAP_ULPS * np.finfo(np.float64).eps
    i = np.arange(1, num_levels + 1, dtype=np.float64)
    q = centers[:, None] / tick
    if mode == "geometric":
        f = (1.0 + spacing) ** i
        sell_q, buy_q = q * f, q / f
    else:
        sell_q, buy_q = q * (1.0 + i * spacing), q * (1.0 - i * spacing)

    def snap_np(x: np.ndarray, up: bool) -> np.ndarray:
        nearest = np.rint(x)
        on = np.abs(x - nearest) <= eps_tol * np.maximum(np.abs(x), 1.0)
        return np.where(on, nearest, np.ceil(x) if up else np.floor(x)).astype(np.int64)

    sell, buy = snap_np(sell_q, True), snap_np(buy_q, False)
    keep_sell = np.ones_like(sell, dtype=bool)
    keep_buy = buy > 0
    keep_sell[:, 1:] = np.diff(sell, axis=1) >= 1
    keep_buy[:, 1:] &= -np.diff(buy, axis=1) >= 1
    return buy, sell, keep_buy, keep_sell
