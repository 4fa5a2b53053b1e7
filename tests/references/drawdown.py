"""Independent pandas reference of drawdown (written from the definition, not the Rust code).

Drawdown = equity / cummax(equity) - 1 (<= 0). The worst drawdown's trough is its first
argmin; the peak is the last bar at or before it where equity equals the running max; the
recovery is the first later bar with equity >= the peak's; duration counts bars from peak to
recovery (or to the last bar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class RefMaxDrawdown:
    drawdown: float
    peak: int
    trough: int
    recovery: int | None
    duration: int


def ref_drawdown(equity: np.ndarray) -> np.ndarray:
    e = pd.Series(equity)
    return (e / e.cummax() - 1.0).to_numpy()


def ref_duration(equity: np.ndarray) -> np.ndarray:
    e = pd.Series(equity)
    at_mark = e >= e.cummax()
    # a new group starts at every bar at the mark; the count within the group is the duration
    group = at_mark.cumsum()
    return e.groupby(group).cumcount().to_numpy()


def ref_max_drawdown(equity: np.ndarray) -> RefMaxDrawdown:
    dd = ref_drawdown(equity)
    trough = int(np.argmin(dd))
    worst = float(dd[trough])
    if worst == 0.0:
        return RefMaxDrawdown(0.0, 0, 0, None, 0)
    hwm = np.maximum.accumulate(equity)
    peak = int(np.flatnonzero(equity[: trough + 1] == hwm[: trough + 1])[-1])
    later = np.flatnonzero(equity[trough + 1 :] >= equity[peak])
    recovery = int(trough + 1 + later[0]) if later.size else None
    end = recovery if recovery is not None else len(equity) - 1
    return RefMaxDrawdown(worst, peak, trough, recovery, end - peak)
