"""Run the Rust backtester from a ``GridHedgeConfig`` and ``Candles``; results as pandas.

The backtester runs the live bot's own policy (``PolicyEngine``) at the bot's cadence with
the bot's order-manager semantics and the PAPER broker's fill model, so a backtest and a
PAPER run of ``GridHedgeBot.run()`` over the same bars log the same events (see
``tests/test_backtest_parity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from gridhedge import _core
from gridhedge._core import BacktestSpec, Market
from gridhedge.data.candles import Candles
from gridhedge.errors import InvalidInputError
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import ConfigSource, GridHedgeConfig
from gridhedge.grid.policy import policy_config

EventRow = tuple[int, str, str, str, Decimal, Decimal]
"""(bar, event, client order id, side, exact price, exact amount): one line of the parity log."""


def bar_ms(candles: Candles) -> int:
    """Bar length in ms as the replay clock takes it (the first step; 1 h for one bar)."""
    ts = candles.timestamp
    return int(ts[1] - ts[0]) if len(ts) >= 2 else 3_600_000


def cadence_bars(config: GridHedgeConfig, candles: Candles) -> int:
    """``rebalance_interval`` in bars, at least 1 (as ``GridHedgeBot.cadence_bars``)."""
    bar_s = bar_ms(candles) / 1000
    return max(1, round(float(config.execution.rebalance_interval) / bar_s))


def default_start(config: GridHedgeConfig, candles: Candles) -> int:
    """The replay's default first cursor: ``min(history_bars, n - 1)`` (as ``replay_for``)."""
    return min(config.data.history_bars, len(candles.close) - 1)


def spec_for(
    config: ConfigSource,
    candles: Candles,
    *,
    symbol: str = "BTCUSDT",
    spot_amount: Decimal | str = "1",
    cash: Decimal | str = "0",
    start: int | None = None,
    bot_id: str | None = None,
    plain_grid: bool = False,
) -> BacktestSpec:
    """The backtest settings of a bot configuration (the PAPER broker's book and fees).

    ``plain_grid`` runs a static geometric grid of ``num_levels`` levels a side spaced
    ``grid_spacing_pct`` instead of the policy (the speed baseline; see the core's
    ``backtest::plain``)."""
    cfg = GridHedgeConfig.load(config)
    e = cfg.execution
    return BacktestSpec(
        policy_config(cfg),
        history_bars=cfg.data.history_bars,
        cadence=cadence_bars(cfg, candles),
        start=default_start(cfg, candles) if start is None else start,
        spot_amount=Decimal(spot_amount),
        cash=Decimal(cash),
        maker_fee=e.maker_fee,
        taker_fee=e.taker_fee,
        participation=e.participation,
        max_active_orders=e.max_active_orders,
        bot_id=bot_id or f"{symbol.lower()}-grid",
        symbol=symbol,
        plain_grid=plain_grid,
    )


def arrays(candles: Candles) -> tuple[Any, ...]:
    """The candle and funding arrays in the order the core takes them."""
    ft: npt.NDArray[np.int64] = (
        candles.funding_time if candles.funding_time is not None else np.zeros(0, np.int64)
    )
    fr: npt.NDArray[np.float64] = (
        candles.funding_rate if candles.funding_rate is not None else np.zeros(0, np.float64)
    )
    return (
        np.ascontiguousarray(candles.timestamp, dtype=np.int64),
        np.ascontiguousarray(candles.open, dtype=np.float64),
        np.ascontiguousarray(candles.high, dtype=np.float64),
        np.ascontiguousarray(candles.low, dtype=np.float64),
        np.ascontiguousarray(candles.close, dtype=np.float64),
        np.ascontiguousarray(candles.volume, dtype=np.float64),
        np.ascontiguousarray(ft, dtype=np.int64),
        np.ascontiguousarray(fr, dtype=np.float64),
    )


@dataclass(frozen=True)
class BacktestResult:
    """A run: metrics, the event log, orders, fills and per-bar series (pandas)."""

    metrics: dict[str, Any]
    events: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    series: pd.DataFrame
    """Per bar from the first decision: close, equity, drawdown, hedge_ratio, position,
    var_forecast, var_exception, center, funding (cumulative, quote); indexed by bar open time
    (UTC)."""
    spec: BacktestSpec
    market: Market

    def event_log(self) -> list[EventRow]:
        """The parity log: (bar, event, client id, side, exact price, exact amount)."""
        e = self.events
        return [
            (int(b), str(k), str(c), str(s), Decimal(p), Decimal(a))
            for b, k, c, s, p, a in zip(
                e["bar"],
                e["event"],
                e["client_order_id"],
                e["side"],
                e["price"],
                e["amount"],
                strict=True,
            )
        ]


def run_backtest(
    config: ConfigSource,
    candles: Candles,
    *,
    symbol: str = "BTCUSDT",
    market: Market | None = None,
    spot_amount: Decimal | str = "1",
    cash: Decimal | str = "0",
    start: int | None = None,
    bot_id: str | None = None,
    record_events: bool = True,
    record_series: bool = True,
) -> BacktestResult:
    """Backtest a bot configuration over ``candles`` (the GIL is released while it runs)."""
    if len(candles.close) < 1:
        raise InvalidInputError(
            "candles: needs at least one bar",
            field="candles",
            value="0 bars",
            rule="must hold at least one bar",
        )
    mk = market if market is not None else default_market(symbol)
    spec = spec_for(
        config,
        candles,
        symbol=symbol,
        spot_amount=spot_amount,
        cash=cash,
        start=start,
        bot_id=bot_id,
    )
    raw = _core.backtest(
        spec, mk, *arrays(candles), record_events=record_events, record_series=record_series
    )
    return result_of(raw, candles, spec, mk, record_series=record_series)


def result_of(
    raw: dict[str, Any],
    candles: Candles,
    spec: BacktestSpec,
    mk: Market,
    *,
    record_series: bool = True,
) -> BacktestResult:
    """A :class:`BacktestResult` from the core's result dict (``_core.backtest``'s, or one leg
    of ``_core.portfolio_backtest``'s)."""
    first = int(raw["first_bar"])
    events = pd.DataFrame(raw["events"], columns=list(raw["events"].keys()))
    if len(events):
        events.insert(1, "time", pd.to_datetime(candles.timestamp[events["bar"]], unit="ms"))
    orders = pd.DataFrame(raw["orders"])
    fills = pd.DataFrame(raw["fills"])
    if len(fills):
        fills.insert(1, "time", pd.to_datetime(candles.timestamp[fills["bar"]], unit="ms"))
    s = raw["series"]
    series = pd.DataFrame()
    if record_series and len(s["equity"]):
        equity = np.asarray(s["equity"])
        peak = np.maximum.accumulate(equity)
        change = np.diff(equity, prepend=equity[0])
        var = np.asarray(s["var_forecast"])
        series = pd.DataFrame(
            {
                "bar": np.arange(first, len(candles.close)),
                "close": candles.close[first:],
                "equity": equity,
                "drawdown": np.where(peak > 0, 1 - equity / peak, 0.0),
                "hedge_ratio": s["hedge_ratio"],
                "position": s["position"],
                "var_forecast": var,
                "var_exception": (var > 0) & (-change > var),
                "center": np.where(np.asarray(s["center"]) > 0, s["center"], np.nan),
                "funding": s["funding"],
            },
            index=pd.to_datetime(candles.timestamp[first:], unit="ms"),
        )
        series.index.name = "time"
    return BacktestResult(
        metrics=dict(raw["metrics"]),
        events=events,
        orders=orders,
        fills=fills,
        series=series,
        spec=spec,
        market=mk,
    )
