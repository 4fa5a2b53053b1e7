"""GARCH(1,1) maximum-likelihood fit (normal and Student-t innovations), computed in the Rust
core: ``garch_fit`` returns a ``GarchResult`` (parameters, robust and classical standard
errors, log-likelihood, conditional variances, ``forecast(horizon)``); ``garch_simulate``
draws seeded paths.

Units: the model is fitted to ``scale * returns``. ``arch`` works in percent returns by
default, so ``garch_fit(r, scale=100)`` compares with ``arch_model(100 * r)``.
"""

from __future__ import annotations

from gridhedge._core import GarchResult, garch_fit, garch_simulate

__all__ = ["GarchResult", "garch_fit", "garch_simulate"]
