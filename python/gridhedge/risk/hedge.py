"""Hedge ratio and funding (computed in the Rust core).

``spot`` and ``futures`` are aligned per-bar simple returns; the minimum-variance hedge ratio
is ``Cov(spot, futures) / Var(futures)``. Funding: a positive rate means longs pay shorts.
"""

from gridhedge._core import (
    ewma_beta,
    funding_carry,
    hedge_effectiveness,
    ols_beta,
    rolling_beta,
)

__all__ = ["ewma_beta", "funding_carry", "hedge_effectiveness", "ols_beta", "rolling_beta"]
