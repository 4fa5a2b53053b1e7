"""loguru sinks from the ``logging`` settings: stderr, and a rotated file when configured."""

from __future__ import annotations

import contextlib
import sys

from loguru import logger

from gridhedge.grid.config import LoggingSettings

FORMAT = "{time:YYYY-MM-DD HH:mm:ss} | {level: <8} | {message}"
_handlers: list[int] = []
_default_removed = False


def configure_logging(settings: LoggingSettings, *, stderr: bool = True) -> None:
    """Replace gridhedge's sinks: stderr at ``settings.level`` and, if ``settings.file`` is
    set, a file rotated by ``settings.rotation`` and kept for ``settings.retention``."""
    global _default_removed
    if not _default_removed:
        # loguru's own stderr sink (id 0) would print every line twice
        with contextlib.suppress(ValueError):
            logger.remove(0)
        _default_removed = True
    for handler in _handlers:
        logger.remove(handler)
    _handlers.clear()
    if stderr:
        _handlers.append(logger.add(sys.stderr, level=settings.level, format=FORMAT))
    if settings.file is not None:
        _handlers.append(
            logger.add(
                settings.file,
                level=settings.level,
                format=FORMAT,
                rotation=settings.rotation,
                retention=settings.retention,
                enqueue=False,
            )
        )
