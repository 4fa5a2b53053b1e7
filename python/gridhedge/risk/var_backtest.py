"""VaR backtests, computed in the Rust core: exceptions (loss > VaR), Kupiec's proportion of
failures, Christoffersen's independence and conditional coverage tests. See
``gridhedge._core`` for the definitions and edge-case conventions.
"""

from gridhedge._core import (
    VarBacktest,
    christoffersen_independence,
    conditional_coverage,
    kupiec_pof,
    var_backtest,
    var_exceptions,
)

__all__ = [
    "VarBacktest",
    "christoffersen_independence",
    "conditional_coverage",
    "kupiec_pof",
    "var_backtest",
    "var_exceptions",
]
