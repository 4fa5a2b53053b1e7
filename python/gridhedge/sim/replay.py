"""Replayed market data for the emulator: bars with their open times and a funding series.

``Bars.from_candles`` adapts ``gridhedge.data.Candles``; ``Bars.from_csv`` reads the
``timestamp,open,high,low,close,volume`` layout. Times are ms since the epoch (UTC, bar open);
prices quote; volume base; funding rates are fractions per funding interval (8 h), positive
meaning longs pay shorts, each paid at its funding time on the position held then.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gridhedge.data.candles import Candles
from gridhedge.errors import InvalidInputError

__all__ = ["FUNDING_INTERVAL_MS", "Bars"]

FUNDING_INTERVAL_MS = 8 * 60 * 60 * 1000
DEFAULT_FUNDING_RATE = 0.0001
"""Binance's base rate per 8 h, used when a series carries no funding rates."""

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _f64(name: str, values: object, n: int | None) -> F64:
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or (n is not None and len(arr) != n):
        raise InvalidInputError(
            f"{name}: must be 1-D with {n} values (got shape {arr.shape})",
            field=name,
            value=str(arr.shape),
            rule=f"must be 1-D with {n} values",
        )
    return arr


@dataclass(frozen=True, slots=True)
class Bars:
    """An OHLCV series at a fixed timeframe, oldest first, with a per-bar funding rate."""

    open_time_ms: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    timeframe_ms: int
    funding_time_ms: I64
    """Funding timestamps (ms), increasing; each pays ``funding_rate`` at the same index."""
    funding_rate: F64

    def __post_init__(self) -> None:
        n = len(self.open_time_ms)
        if n < 2:
            raise InvalidInputError(
                f"bars: need at least 2 bars (got {n})",
                field="bars",
                value=str(n),
                rule="at least 2 bars",
            )
        if self.timeframe_ms <= 0 or np.any(np.diff(self.open_time_ms) != self.timeframe_ms):
            raise InvalidInputError(
                "bars.open_time_ms: must step by exactly one timeframe "
                f"({self.timeframe_ms} ms), oldest first, without gaps",
                field="bars.open_time_ms",
                value=str(self.timeframe_ms),
                rule="equally spaced by timeframe_ms",
            )
        if len(self.funding_time_ms) != len(self.funding_rate):
            raise InvalidInputError(
                "bars.funding_rate: must have one rate per funding time",
                field="bars.funding_rate",
                value=str(len(self.funding_rate)),
                rule=f"{len(self.funding_time_ms)} values",
            )
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise InvalidInputError(
                    f"bars.{name}: must have {n} values",
                    field=f"bars.{name}",
                    value=str(len(getattr(self, name))),
                    rule=f"{n} values",
                )

    def __len__(self) -> int:
        return len(self.open_time_ms)

    @classmethod
    def build(
        cls,
        open_time_ms: Sequence[int] | I64,
        open: Sequence[float] | F64,
        high: Sequence[float] | F64,
        low: Sequence[float] | F64,
        close: Sequence[float] | F64,
        volume: Sequence[float] | F64,
        *,
        timeframe_ms: int | None = None,
        funding_time_ms: Sequence[int] | I64 | None = None,
        funding_rate: Sequence[float] | F64 | float | None = None,
    ) -> Bars:
        """Bars from arrays; ``timeframe_ms`` defaults to the step of ``open_time_ms``.

        Funding: ``funding_time_ms`` with one ``funding_rate`` each; without times, a constant
        rate (default 0.0001) at every multiple of 8 h UTC the bars span."""
        t = np.ascontiguousarray(np.asarray(open_time_ms, dtype=np.int64))
        n = len(t)
        tf = int(timeframe_ms) if timeframe_ms is not None else int(t[1] - t[0]) if n > 1 else 0
        if funding_time_ms is None:
            if not (funding_rate is None or isinstance(funding_rate, (int, float))):
                raise InvalidInputError(
                    "funding_rate: a series needs funding_time_ms (one time per rate)",
                    field="funding_rate",
                    value=type(funding_rate).__name__,
                    rule="a constant, or a series with funding_time_ms",
                )
            rate = DEFAULT_FUNDING_RATE if funding_rate is None else float(funding_rate)
            first = (int(t[0]) // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
            ft = np.arange(first, int(t[-1]) + tf + 1, FUNDING_INTERVAL_MS, dtype=np.int64)
            fr = np.full(len(ft), rate, dtype=np.float64)
        else:
            ft = np.ascontiguousarray(np.asarray(funding_time_ms, dtype=np.int64))
            fr = _f64("funding_rate", funding_rate, len(ft))
        return cls(
            open_time_ms=t,
            open=_f64("open", open, n),
            high=_f64("high", high, n),
            low=_f64("low", low, n),
            close=_f64("close", close, n),
            volume=_f64("volume", volume, n),
            timeframe_ms=tf,
            funding_time_ms=ft,
            funding_rate=fr,
        )

    @classmethod
    def from_candles(cls, candles: Candles) -> Bars:
        """Adapt ``gridhedge.data.Candles`` (its funding series, or the 0.0001 base rate)."""
        return cls.build(
            candles.timestamp,
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            candles.volume,
            funding_time_ms=candles.funding_time,
            funding_rate=candles.funding_rate,
        )

    @classmethod
    def from_csv(cls, path: str | Path, *, funding_rate: float | None = None) -> Bars:
        """Read ``timestamp,open,high,low,close,volume`` (timestamp in ms, bar open); funding
        is ``funding_rate`` (default 0.0001) at every multiple of 8 h."""
        rows: dict[str, list[float]] = {}
        with Path(path).open(newline="") as fh:
            for row in csv.DictReader(fh):
                for key, value in row.items():
                    rows.setdefault(key.strip().lower(), []).append(float(value))
        return cls.build(
            np.asarray(rows["timestamp"], dtype=np.int64),
            rows["open"],
            rows["high"],
            rows["low"],
            rows["close"],
            rows["volume"],
            funding_rate=funding_rate,
        )

    def funding_events(self, index: int) -> list[tuple[int, float]]:
        """Funding (time ms, rate) pairs inside bar ``index``'s span (open < t <= close), as the
        PAPER replay pays them."""
        opened = int(self.open_time_ms[index])
        lo = int(np.searchsorted(self.funding_time_ms, opened, side="right"))
        hi = int(np.searchsorted(self.funding_time_ms, opened + self.timeframe_ms, side="right"))
        return [(int(self.funding_time_ms[k]), float(self.funding_rate[k])) for k in range(lo, hi)]

    def funding_rate_at(self, time_ms: int) -> float:
        """The latest funding rate published at or before ``time_ms`` (0 if none)."""
        k = int(np.searchsorted(self.funding_time_ms, time_ms, side="right")) - 1
        return float(self.funding_rate[k]) if k >= 0 else 0.0
