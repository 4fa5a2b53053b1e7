"""The portfolio backtester: several legs over aligned candles under one risk budget.

The Rust core (``gridhedge._core.portfolio_backtest``) runs each leg's single-symbol backtest
(the bot's own policy, fill model, fees and funding) and, at every rebalance, the portfolio
layer between them exactly as :class:`~gridhedge.portfolio.runner.PortfolioRunner` applies it
to its bots: the covariance, portfolio VaR, budgets and shrink of
:class:`~gridhedge.portfolio.risk.PortfolioRiskManager` (the same core functions), each leg's
shrink multiplier as a narrower hedge band and its budget as its own ``var_limit``
(``leg_var_limits``), and the portfolio drawdown halt cancelling every leg.

It takes the runner's configuration (a mapping or a YAML file: ``portfolio``, ``data``,
``legs``) and the same candles (default: the correlated synthetic market of
:mod:`gridhedge.data.correlated`); the legs rebalance together at the first leg's cadence from
the replay's first cursor (``min(history_bars, n - 1)``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from gridhedge import _core
from gridhedge.backtest.engine import BacktestResult, arrays, cadence_bars, result_of, spec_for
from gridhedge.data.candles import Candles
from gridhedge.errors import ConfigError
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import GridHedgeConfig
from gridhedge.portfolio.risk import PortfolioRiskManager
from gridhedge.portfolio.runner import (
    _load,
    history_bars,
    leg_config,
    portfolio_settings,
    synthetic_legs,
)

__all__ = ["PortfolioBacktestResult", "run_portfolio_backtest"]

_PER_LEG = ("exposure", "component", "share", "multiplier", "band_scale", "var_limit")


@dataclass(frozen=True)
class PortfolioBacktestResult:
    """A portfolio run: each leg's single-symbol result and the portfolio's series."""

    legs: dict[str, BacktestResult]
    rebalances: pd.DataFrame
    """One row per rebalance (indexed by bar open time): ``bar``, ``var``, ``cvar``,
    ``historical_var``, ``var_after`` (VaR once the shrink applies), ``drawdown``, ``equity``,
    ``halted`` and per leg ``multiplier[SYM]``, ``band_scale[SYM]``, ``var_limit[SYM]`` (the
    limit its policy ran with), ``exposure[SYM]``, ``component[SYM]``, ``share[SYM]``."""
    reasons: pd.DataFrame
    """Why the layer acted: ``bar``, ``reason`` (shrinks, budgets, the halt)."""
    equity: pd.DataFrame
    """Per bar from the first rebalance: the legs' summed ``equity`` and its ``drawdown``."""
    metrics: dict[str, Any]


def run_portfolio_backtest(
    config: Mapping[str, Any] | str | pathlib.Path,
    *,
    candles: Mapping[str, Candles] | None = None,
    record_events: bool = True,
    record_series: bool = True,
) -> PortfolioBacktestResult:
    """Backtest a portfolio configuration (the GIL is released while it runs)."""
    cfg = _load(config)
    port = portfolio_settings(cfg)
    manager = PortfolioRiskManager(
        float(port.pop("var_limit")), float(port.pop("max_drawdown", 0.1)), **port
    )
    history = history_bars(cfg)
    if candles is None:
        candles = synthetic_legs(cfg)
    legs_cfg = list(cfg["legs"])
    symbols = [str(leg["symbol"]) for leg in legs_cfg]
    for symbol in symbols:
        if symbol not in candles:
            raise ConfigError(f"legs: no candles for {symbol!r}")
    first = candles[symbols[0]]
    bot_cfgs = [GridHedgeConfig.load(leg_config(leg, history)) for leg in legs_cfg]
    start = min(history, len(first.close) - 1)
    cadence = cadence_bars(bot_cfgs[0], first)
    specs = [
        spec_for(
            bc,
            candles[symbol],
            symbol=symbol,
            spot_amount=Decimal(str(leg.get("spot_amount", "1"))),
            cash="0",
            start=start,
            bot_id=f"{symbol.lower()}-grid",
        )
        for bc, symbol, leg in zip(bot_cfgs, symbols, legs_cfg, strict=True)
    ]
    markets = [default_market(symbol) for symbol in symbols]
    raw = _core.portfolio_backtest(
        specs,
        markets,
        [arrays(candles[symbol]) for symbol in symbols],
        var_limit=manager.var_limit,
        max_drawdown=manager.max_drawdown,
        confidence=manager.confidence,
        horizon=manager.horizon_bars,
        method=manager.method,
        lam=manager.lam,
        window=manager.window,
        lookback_bars=manager.lookback_bars,
        weights=manager.weights,
        start=start,
        cadence=cadence,
        record_events=record_events,
        record_series=record_series,
    )
    legs = {
        symbol: result_of(raw_leg, candles[symbol], spec, mk, record_series=record_series)
        for symbol, raw_leg, spec, mk in zip(symbols, raw["legs"], specs, markets, strict=True)
    }
    ts = np.asarray(first.timestamp)
    rb = raw["rebalances"]
    bars = np.asarray(rb["bar"], dtype=np.int64)
    columns: dict[str, Any] = {
        "bar": bars,
        **{k: rb[k] for k in ("var", "cvar", "historical_var", "var_after", "drawdown")},
        "equity": rb["equity"],
        "halted": rb["halted"],
    }
    for key in _PER_LEG:
        table = np.asarray(rb[key]).reshape(len(bars), len(symbols))
        for i, symbol in enumerate(symbols):
            columns[f"{key}[{symbol}]"] = table[:, i]
    rebalances = pd.DataFrame(columns, index=pd.to_datetime(ts[bars], unit="ms"))
    rebalances.index.name = "time"
    reasons = pd.DataFrame({"bar": raw["reasons"]["bar"], "reason": raw["reasons"]["reason"]})
    equity_arr = np.asarray(raw["equity"], dtype=np.float64)
    equity = pd.DataFrame()
    if len(equity_arr):
        peak = np.maximum.accumulate(equity_arr)
        equity = pd.DataFrame(
            {
                "bar": np.arange(start, start + len(equity_arr)),
                "equity": equity_arr,
                "drawdown": np.where(peak > 0, 1 - equity_arr / peak, 0.0),
            },
            index=pd.to_datetime(ts[start : start + len(equity_arr)], unit="ms"),
        )
        equity.index.name = "time"
    return PortfolioBacktestResult(
        legs=legs,
        rebalances=rebalances,
        reasons=reasons,
        equity=equity,
        metrics=dict(raw["metrics"]),
    )
