"""loguru sinks from the ``logging`` settings: stderr, and a rotated file when configured."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from loguru import logger

from gridhedge.grid.config import LoggingSettings

FORMAT = "{time:YYYY-MM-DD HH:mm:ss} | {level: <8} | {message}"
_handlers: list[int] = []
_secrets: set[str] = set()
REDACTED = "***"


def register_secret(value: str) -> None:
    """Never let ``value`` (an API key or secret) appear in any log line from now on."""
    if len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _patch(record: Any) -> None:
    if _secrets:
        record["message"] = redact(record["message"])


logger.configure(patcher=_patch)
_default_removed = False
_level_override: str | None = None


def set_level_override(level: str | None) -> None:
    """Log at ``level`` on stderr whatever the config says (the CLI's ``--quiet`` is WARNING,
    ``--verbose`` DEBUG); None goes back to the config's level. Applies now and to every later
    `configure_logging`."""
    global _level_override, _default_removed
    _level_override = level
    if level is not None and not _handlers:
        with contextlib.suppress(ValueError):
            logger.remove(0)
        _default_removed = True
        _handlers.append(logger.add(sys.stderr, level=level, format=FORMAT))


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
        level = _level_override or settings.level
        _handlers.append(logger.add(sys.stderr, level=level, format=FORMAT))
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
