"""Fault injection for the emulator, each a knob: latency, 429 with Retry-After, 418 ban, 5xx,
timeouts, a response dropped after the order was accepted, random rejects and clock skew.

A ``FaultRule`` fires on requests matching its method and path prefix, with a probability
drawn from the seeded generator and at most ``count`` times. Admin paths (``/_sim``) are never
faulted. Everything is settable from Python (``Faults.add``) and over HTTP (``/_sim/faults``).
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from gridhedge.errors import InvalidInputError

__all__ = ["FaultKind", "FaultRule", "Faults"]

FaultKind = Literal[
    "latency", "rate_limit", "ban", "server_error", "timeout", "drop_after_accept", "reject"
]
KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(slots=True)
class FaultRule:
    """One knob. ``latency``: sleep ``latency_ms``; ``rate_limit``: 429 + Retry-After;
    ``ban``: 418 for ``retry_after_s``; ``server_error``: HTTP ``status`` (5xx) without
    executing; ``timeout``: hang ``hang_s`` then drop the connection without executing;
    ``drop_after_accept``: execute, then hang ``hang_s`` and drop the connection;
    ``reject``: -1008 (server overloaded) without executing."""

    kind: FaultKind
    probability: float = 1.0
    count: int | None = None
    """Fire at most this many times (None: forever)."""
    method: str | None = None
    """Only requests with this HTTP method (e.g. ``POST``)."""
    path: str | None = None
    """Only paths starting with this prefix (e.g. ``/fapi/v1/order``)."""
    retry_after_s: int = 1
    latency_ms: float = 0.0
    hang_s: float = 0.0
    status: int = 503
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(
                f"kind: must be one of {', '.join(KINDS)} (got {self.kind!r})",
                field="kind",
                value=repr(self.kind),
                rule=f"one of {', '.join(KINDS)}",
            )
        if not 0.0 <= self.probability <= 1.0:
            raise InvalidInputError(
                f"probability: must be in [0, 1] (got {self.probability})",
                field="probability",
                value=str(self.probability),
                rule="0 <= probability <= 1",
            )
        if self.kind == "server_error" and not 500 <= self.status <= 599:
            raise InvalidInputError(
                f"status: must be a 5xx code (got {self.status})",
                field="status",
                value=str(self.status),
                rule="500 <= status <= 599",
            )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path is None or path.startswith(self.path)
        )


@dataclass(slots=True)
class Faults:
    """The fault knobs of one emulator; deterministic draws under ``seed``."""

    seed: int = 0
    clock_skew_ms: int = 0
    """Added to the server's wall clock (signature window, serverTime)."""
    rules: list[FaultRule] = field(default_factory=list)
    banned_until: float = 0.0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, kind: FaultKind, **settings: Any) -> FaultRule:
        """Turn a knob on: ``faults.add("rate_limit", count=2, retry_after_s=1)``."""
        rule = FaultRule(kind=kind, **settings)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Every knob off (rules, ban, skew)."""
        self.rules.clear()
        self.banned_until = 0.0
        self.clock_skew_ms = 0

    def server_time_ms(self) -> int:
        """The server's wall clock in ms, skewed by ``clock_skew_ms``."""
        return int(time.time() * 1000) + self.clock_skew_ms

    def draw(self, method: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (consuming their counts), in order."""
        fired: list[FaultRule] = []
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.count is not None and rule.fired >= rule.count:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            rule.fired += 1
            fired.append(rule)
        return fired

    def snapshot(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "clock_skew_ms": self.clock_skew_ms,
            "banned_for_s": max(0.0, self.banned_until - time.monotonic()),
            "rules": [asdict(r) for r in self.rules],
        }
