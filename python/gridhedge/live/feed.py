"""Live market data for a dry run: PAPER on the exchange's public data.

``LiveFeed`` is a replay whose candles grow as the exchange closes bars: each ``refresh``
reads the closed klines through ccxt's public endpoints (no keys), appends the bars it has not
seen, and moves the clock onto each of them, so the PAPER broker fills its book on every
closed bar with the one fill model, exactly as in a replay. The bar still forming is never
seen (``CcxtDataProvider.get_ohlcv`` drops it), and a bar once seen is never replaced.
Funding: the rate the exchange publishes now (premiumIndex); a settlement whose time falls
inside a closed bar is paid at the rate last seen before it.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from loguru import logger

from gridhedge.data.candles import Candles
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import InvalidInputError
from gridhedge.execution.ccxt_broker import CcxtDataProvider

__all__ = ["LiveFeed"]


class LiveFeed(ReplayDataProvider):
    """Closed bars of one symbol from the exchange, replayed as they close (see the module)."""

    def __init__(
        self,
        candles: Candles,
        symbol: str,
        *,
        source: CcxtDataProvider,
        timeframe: str,
        bar_ms: int,
    ) -> None:
        super().__init__(candles, symbol, start=len(candles.close) - 1)
        self.source = source
        self.timeframe = timeframe
        self.bar_ms = bar_ms
        self.gaps = 0
        """Bars the exchange skipped between two refreshes (none on a healthy market)."""
        self._funding: list[tuple[int, float]] = []
        """Observed (settlement time, rate) pairs, in time order."""

    @classmethod
    async def open(
        cls, source: CcxtDataProvider, symbol: str, timeframe: str, history_bars: int
    ) -> LiveFeed:
        """A feed holding the latest ``history_bars`` closed bars, its clock on the last."""
        candles = await source.get_ohlcv(symbol, timeframe, history_bars)
        if len(candles.close) < 2:
            raise InvalidInputError(
                f"{symbol}: the exchange returned {len(candles.close)} closed {timeframe} "
                "bar(s); a dry run needs at least 2",
                field="symbol",
                value=symbol,
                rule="must have closed bars on the exchange",
            )
        bar_ms = int(source.exchange.parse_timeframe(timeframe)) * 1000
        return cls(candles, symbol, source=source, timeframe=timeframe, bar_ms=bar_ms)

    async def refresh(self) -> int:
        """Read the exchange's closed bars and move the clock onto each new one (the PAPER
        book fills on each); returns how many bars were added."""
        latest = await self.source.get_ohlcv(self.symbol, self.timeframe, 100)
        last = int(self.candles.timestamp[-1])
        new = np.flatnonzero(latest.timestamp > last)
        if new.size == 0:
            return 0
        first = int(latest.timestamp[new[0]])
        if first != last + self.bar_ms:
            missing = (first - last) // self.bar_ms - 1
            self.gaps += int(missing)
            logger.warning(
                "{}: {} bar(s) missing between {} and {} (the feed continues)",
                self.symbol,
                missing,
                last,
                first,
            )
        c = self.candles
        self.candles = Candles(
            np.concatenate([c.timestamp, latest.timestamp[new]]),
            np.concatenate([c.open, latest.open[new]]),
            np.concatenate([c.high, latest.high[new]]),
            np.concatenate([c.low, latest.low[new]]),
            np.concatenate([c.close, latest.close[new]]),
            np.concatenate([c.volume, latest.volume[new]]),
        )
        return self.advance(int(new.size))

    def timestamp_ms(self) -> int:
        """The exchange's clock as last read (else the last closed bar's close)."""
        return self.source.timestamp_ms() if self.source._time_ms else super().timestamp_ms()

    async def get_current_price(self, symbol: str) -> Decimal:
        self._check_symbol(symbol)
        return await self.source.get_current_price(symbol)

    async def get_funding_rate(self, symbol: str) -> float:
        self._check_symbol(symbol)
        rate, next_time = await self.source.funding_now(symbol)
        if next_time and (not self._funding or self._funding[-1][0] != next_time):
            self._funding.append((next_time, rate))
        elif next_time:
            self._funding[-1] = (next_time, rate)
        return rate

    def funding_rate_at(self, timestamp_ms: int) -> float:
        older = [r for t, r in self._funding if t <= timestamp_ms]
        return older[-1] if older else 0.0

    def funding_events(self, index: int) -> list[tuple[int, float]]:
        opened = int(self.candles.timestamp[index])
        return [(t, r) for t, r in self._funding if opened < t <= opened + self.bar_ms]
