"""The backtester (Rust core) on the bot's own policy, sweeps, optimisation and reports."""

from gridhedge.backtest.engine import (
    BacktestResult,
    EventRow,
    cadence_bars,
    run_backtest,
    spec_for,
)

__all__ = ["BacktestResult", "EventRow", "cadence_bars", "run_backtest", "spec_for"]
