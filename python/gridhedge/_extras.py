"""Optional dependencies: which ``gridhedge[extra]`` installs what, checked before the work."""

from __future__ import annotations

import importlib.util

from gridhedge.errors import GridHedgeError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(GridHedgeError):
    """A command needs an optional package that is not installed."""


def require(extra: str, what: str, *modules: str) -> None:
    """Raise `MissingExtraError` naming ``what`` needs and the ``pip install`` that fixes it
    unless every one of ``modules`` is importable (checked without importing them)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f"{what} needs {', '.join(missing)} (not installed): pip install 'gridhedge[{extra}]'",
            field=what,
            value=", ".join(missing),
            rule=f"needs the gridhedge[{extra}] extra",
        )
