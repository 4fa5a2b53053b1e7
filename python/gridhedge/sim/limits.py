"""Binance USD-M rate limits for the emulator: request weight per IP and minute, new orders
per account and 10 s / minute, the 429 -> 418 escalation and the headers Binance sends.

Defaults are Binance USD-M's published limits (``exchangeInfo.rateLimits``): 2400 request
weight a minute, 300 orders in 10 s, 1200 orders a minute. Windows are fixed wall-clock
windows (a minute from :00), as Binance counts them; rate limits run on wall time, never on
the replay clock.

- every answer carries ``X-MBX-USED-WEIGHT-1M`` (the weight used in the current minute);
- past the weight limit: HTTP 429, code -1003, ``Retry-After`` = seconds to the next minute;
- a request sent before that ``Retry-After`` has passed: HTTP 418 (IP banned), code -1003,
  ``Retry-After`` = the ban's length, 2 minutes for the first ban, doubling for each repeat up
  to 3 days ("IP bans ... scale in duration for repeat offenders, from 2 minutes to 3 days");
- past an order limit: HTTP 429, code -1015, no ``Retry-After``; each accepted order answer
  carries ``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1M``.

A limit of 0 switches that limit off (``Limits.lifted()``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Limits", "RateLimiter", "Refusal"]

FIRST_BAN_S = 120
MAX_BAN_S = 3 * 86_400


@dataclass(frozen=True, slots=True)
class Limits:
    """Request weight per minute (IP), orders per 10 s and per minute (account); 0 = off."""

    weight_per_minute: int = 2400
    orders_per_10s: int = 300
    orders_per_minute: int = 1200

    @classmethod
    def lifted(cls) -> Limits:
        """No limit at all (benches, tests that compress days of trading into seconds)."""
        return cls(0, 0, 0)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused by a limit: HTTP status, Binance code, message and headers."""

    status: int
    code: int
    msg: str
    headers: dict[str, str]


@dataclass(slots=True)
class RateLimiter:
    """The counters of one emulator (one IP, one account: tests run on 127.0.0.1)."""

    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.time
    weight_minute: int = -1
    weight_used: int = 0
    backoff_until: float = 0.0
    banned_until: float = 0.0
    bans: int = 0
    order_10s: tuple[int, int] = (-1, 0)
    order_1m: tuple[int, int] = (-1, 0)
    total_weight: int = 0
    """Weight counted since the start (all windows)."""
    refused: int = 0
    """Requests answered 429 or 418 since the start."""

    def weight_headers(self) -> dict[str, str]:
        return {"X-MBX-USED-WEIGHT-1M": str(self.weight_used)}

    def admit(self, weight: int) -> Refusal | None:
        """Count ``weight`` against the minute; a ``Refusal`` if the IP is over or banned."""
        now = self.clock()
        minute = int(now // 60)
        if minute != self.weight_minute:
            self.weight_minute, self.weight_used = minute, 0
        if self.banned_until > now:
            self.refused += 1
            return self._banned(now)
        if now < self.backoff_until:
            # "failing to back off after receiving 429s will result in an automated IP ban"
            seconds = min(MAX_BAN_S, FIRST_BAN_S * 2**self.bans)
            self.bans += 1
            self.banned_until = now + seconds
            self.backoff_until = 0.0
            self.refused += 1
            return self._banned(now)
        limit = self.limits.weight_per_minute
        self.weight_used += weight
        self.total_weight += weight
        if limit and self.weight_used > limit:
            self.refused += 1
            self.backoff_until = (minute + 1) * 60
            retry = max(1, math.ceil(self.backoff_until - now))
            return Refusal(
                429,
                -1003,
                f"Too many requests; current limit of IP is {limit} requests per minute. Please "
                "use the websocket for live updates to avoid polling the API.",
                {**self.weight_headers(), "Retry-After": str(retry)},
            )
        return None

    def _banned(self, now: float) -> Refusal:
        retry = max(1, math.ceil(self.banned_until - now))
        until = int(self.banned_until * 1000)
        return Refusal(
            418,
            -1003,
            f"Way too many requests; IP banned until {until}. Please use the websocket for live "
            "updates to avoid bans.",
            {**self.weight_headers(), "Retry-After": str(retry)},
        )

    def order(self) -> Refusal | None:
        """Count one new order against the 10 s and minute windows of the account."""
        now = self.clock()
        w10, w60 = int(now // 10), int(now // 60)
        n10 = self.order_10s[1] if self.order_10s[0] == w10 else 0
        n60 = self.order_1m[1] if self.order_1m[0] == w60 else 0
        for n, limit, span in (
            (n10, self.limits.orders_per_10s, "10 SECOND"),
            (n60, self.limits.orders_per_minute, "1 MINUTE"),
        ):
            if limit and n + 1 > limit:
                self.refused += 1
                self.order_10s, self.order_1m = (w10, n10), (w60, n60)
                return Refusal(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {span}.",
                    self.weight_headers(),
                )
        self.order_10s, self.order_1m = (w10, n10 + 1), (w60, n60 + 1)
        return None

    def order_headers(self) -> dict[str, str]:
        return {
            "X-MBX-ORDER-COUNT-10S": str(self.order_10s[1]),
            "X-MBX-ORDER-COUNT-1M": str(self.order_1m[1]),
        }
