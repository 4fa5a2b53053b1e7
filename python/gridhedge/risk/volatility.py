"""Volatility estimators (per bar), computed in the Rust core.

Return-based: ``close_to_close_vol`` (sample std, ddof=1) and ``ewma_vol`` (RiskMetrics, zero
mean, seeded with the first squared return, equal to pandas ``ewm(alpha=1-lam, adjust=False)``
on squared returns). They take returns (simple or log, your choice), not prices.

Range-based, from OHLC prices: ``parkinson_vol`` (Parkinson 1980), ``garman_klass_vol``
(Garman and Klass 1980), ``rogers_satchell_vol`` (Rogers and Satchell 1991), ``yang_zhang_vol``
(Yang and Zhang 2000), and Wilder's ``atr`` (price units).

Each has a series form (``*_rolling`` over a window, ``ewma_vol_series``, ``atr_series``),
computed in O(n), with no NaN padding: see ``gridhedge._core`` for the exact alignment.
"""

from __future__ import annotations

from gridhedge._core import (
    atr,
    atr_series,
    close_to_close_vol,
    close_to_close_vol_rolling,
    ewma_vol,
    ewma_vol_series,
    garman_klass_vol,
    garman_klass_vol_rolling,
    parkinson_vol,
    parkinson_vol_rolling,
    rogers_satchell_vol,
    rogers_satchell_vol_rolling,
    yang_zhang_vol,
    yang_zhang_vol_rolling,
)

__all__ = [
    "atr",
    "atr_series",
    "close_to_close_vol",
    "close_to_close_vol_rolling",
    "ewma_vol",
    "ewma_vol_series",
    "garman_klass_vol",
    "garman_klass_vol_rolling",
    "parkinson_vol",
    "parkinson_vol_rolling",
    "rogers_satchell_vol",
    "rogers_satchell_vol_rolling",
    "yang_zhang_vol",
    "yang_zhang_vol_rolling",
]
