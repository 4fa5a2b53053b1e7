"""Named crash points for the chaos test: ``GRIDHEDGE_CRASH_AT="<name>:<n>"`` makes the process
SIGKILL itself on the n-th hit of ``crash_point(name)``; unset, every call is a no-op."""

from __future__ import annotations

import os
import signal

POINTS = ("intent_committed", "request_sent", "ack_received", "fill_recorded", "checkpoint_written")
"""The crash points the code calls (see the chaos test)."""


def _parse(raw: str | None) -> tuple[str, int] | None:
    if not raw:
        return None
    name, _, count = raw.rpartition(":")
    if not name or not count.isdigit() or int(count) < 1:
        raise ValueError(f"GRIDHEDGE_CRASH_AT: must be '<name>:<n>' with n >= 1 (got {raw!r})")
    return name, int(count)


_TARGET = _parse(os.environ.get("GRIDHEDGE_CRASH_AT"))
_hits = 0


def crash_point(name: str) -> None:
    """SIGKILL this process on the configured hit of ``name`` (a no-op unless configured)."""
    global _hits
    if _TARGET is None or name != _TARGET[0]:
        return
    _hits += 1
    if _hits >= _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
