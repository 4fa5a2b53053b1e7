"""A portable exclusive lock on a file, held until the handle is closed or the process dies.

POSIX: ``fcntl.flock(LOCK_EX | LOCK_NB)``; Windows: ``msvcrt.locking(LK_NBLCK)`` on the file's
first byte. Both are released by the operating system when the process exits, so a crashed
bot never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import sys
from typing import IO

__all__ = ["LockHeldError", "lock_exclusive"]


class LockHeldError(OSError):
    """Another process (or handle) already holds the lock."""


def lock_exclusive(path: str | os.PathLike[str]) -> IO[str]:
    """Open ``path`` (created if missing) and lock it exclusively without waiting; returns the
    open handle (closing it releases the lock). Raises `LockHeldError` if it is held."""
    handle = open(path, "a+")  # noqa: SIM115 - held for the lock's lifetime
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            handle.seek(0)
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            except OSError as e:
                raise LockHeldError(str(e)) from None
        else:
            import fcntl

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                raise LockHeldError(str(e)) from None
    except BaseException:
        handle.close()
        raise
    return handle
