"""Replayed market data with its own clock: the PAPER broker and the bot share one cursor.

The cursor is the index of the latest *complete* bar. ``advance(n)`` moves it forward bar by
bar, telling every subscriber (the PAPER broker fills its book on each bar) before the bot
sees the new price. Funding rates come from the candles' funding series (the latest at or
before the current bar's close), 0 when there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

from gridhedge.common.interfaces import DataProvider
from gridhedge.data.candles import Candles
from gridhedge.errors import InvalidInputError

BarListener = Callable[[int, "Candles"], None]
"""Called with (bar index, all candles) for every bar the clock moves onto."""

_TIMEFRAME_MS = {"1m": 60_000, "1h": 3_600_000}


class ReplayDataProvider(DataProvider):
    """A candle series replayed at accelerated time for one symbol."""

    def __init__(self, candles: Candles, symbol: str, start: int = 0) -> None:
        n = len(candles.close)
        if not 0 <= start < n:
            raise InvalidInputError(
                f"start: must be a bar index in [0, {n}) (got {start})",
                field="start",
                value=str(start),
                rule=f"must be a bar index in [0, {n})",
            )
        self.candles = candles
        self.symbol = symbol
        self.cursor = start
        self._listeners: list[BarListener] = []
        step = np.diff(candles.timestamp[: min(n, 3)])
        self.bar_ms = int(step[0]) if len(step) else 3_600_000

    def subscribe(self, listener: BarListener) -> None:
        """Call ``listener(index, candles)`` on every bar the clock moves onto."""
        self._listeners.append(listener)

    @property
    def remaining(self) -> int:
        """Bars left after the cursor."""
        return len(self.candles.close) - 1 - self.cursor

    def advance(self, bars: int = 1) -> int:
        """Move the clock forward up to ``bars`` bars; returns how many it moved (0 at the end)."""
        moved = 0
        while moved < bars and self.remaining > 0:
            self.cursor += 1
            moved += 1
            for listener in self._listeners:
                listener(self.cursor, self.candles)
        return moved

    def timestamp_ms(self) -> int:
        """Close time of the current bar (ms, UTC): the replay's own clock."""
        return int(self.candles.timestamp[self.cursor]) + self.bar_ms

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            raise InvalidInputError(
                f"symbol: this replay serves {self.symbol!r} (got {symbol!r})",
                field="symbol",
                value=repr(symbol),
                rule=f"must be {self.symbol!r}",
            )

    async def get_current_price(self, symbol: str) -> Decimal:
        self._check_symbol(symbol)
        return Decimal(repr(float(self.candles.close[self.cursor])))

    async def get_ohlcv(self, symbol: str, timeframe: str = "1h", limit: int = 500) -> Candles:
        self._check_symbol(symbol)
        return self.window(limit)

    def window(self, limit: int) -> Candles:
        """The latest ``limit`` complete candles (up to and including the cursor)."""
        start = max(0, self.cursor + 1 - limit)
        return self.candles.slice(start, self.cursor + 1)

    async def get_funding_rate(self, symbol: str) -> float:
        self._check_symbol(symbol)
        return self.funding_rate_at(self.timestamp_ms())

    def funding_rate_at(self, timestamp_ms: int) -> float:
        """The latest funding rate published at or before ``timestamp_ms`` (0 if none)."""
        times, rates = self.candles.funding_time, self.candles.funding_rate
        if times is None or rates is None or len(times) == 0:
            return 0.0
        k = int(times.searchsorted(timestamp_ms, side="right")) - 1
        return float(rates[k]) if k >= 0 else 0.0

    def funding_events(self, index: int) -> list[tuple[int, float]]:
        """Funding (timestamp, rate) pairs falling inside bar ``index`` (open < t <= close)."""
        times, rates = self.candles.funding_time, self.candles.funding_rate
        if times is None or rates is None:
            return []
        opened = int(self.candles.timestamp[index])
        lo = int(np.searchsorted(times, opened, side="right"))
        hi = int(np.searchsorted(times, opened + self.bar_ms, side="right"))
        return [(int(times[k]), float(rates[k])) for k in range(lo, hi)]
