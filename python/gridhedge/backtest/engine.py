"""Run the Rust backtester from a ``GridHedgeConfig`` and ``Candles``; results as pandas.

The backtester runs the live bot's own policy (``PolicyEngine``) at the bot's cadence with
the bot's order-manager semantics and the PAPER broker's fill model, so a backtest and a
PAPER run of ``GridHedgeBot.run()`` over the same bars log the same events (see
``tests/test_backtest_parity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    """Bar length in ms: the (lower) median step of the open times, as the core takes it, so
    one missing bar cannot change it (1 h for one bar)."""
    ts = candles.timestamp
    if len(ts) < 2:
        return 3_600_000
    steps = np.sort(np.diff(ts))
    return int(steps[(len(steps) - 1) // 2])


def gaps(candles: Candles) -> tuple[int, int, int | None]:
    """(gaps, missing bars, open time of the bar after the first gap): steps of the open times
    longer than the bar length (:func:`bar_ms`)."""
    ts = candles.timestamp
    if len(ts) < 3:
        return 0, 0, None
    bar = bar_ms(candles)
    steps = np.diff(ts)
    big = np.flatnonzero(steps > bar)
    if not big.size:
        return 0, 0, None
    missing = np.maximum(np.rint(steps[big] / bar).astype(np.int64) - 1, 1)
    return int(big.size), int(missing.sum()), int(ts[big[0] + 1])


def var_noise(close: Any, equity: Any, spec: BacktestSpec) -> Any:
    """The core's ``var_noise``: 1e-9 of the larger of the spot value and the equity (at
    least 1e-9, quote); a bar's loss below it is no VaR exception (f64 rounding)."""
    spot = float(spec.spot_amount)
    return 1e-9 * np.maximum(np.maximum(np.abs(spot * close), np.abs(equity)), 1.0)


def check_gaps(candles: Candles, allow_gaps: bool) -> None:
    """Raise `InvalidInputError` when the bars have gaps, unless ``allow_gaps``."""
    n, missing, first = gaps(candles)
    if n and not allow_gaps:
        at = pd.Timestamp(first, unit="ms", tz="UTC").isoformat()
        raise InvalidInputError(
            f"candles: {n} gap(s), {missing} missing bar(s) of {bar_ms(candles) // 1000} s "
            f"(first before {at}); pass allow_gaps=True (--allow-gaps) to run across them",
            field="candles",
            value=f"{n} gaps",
            rule="bars must be evenly spaced unless gaps are allowed",
        )


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
    baseline_rebalance_bars: int = 0,
) -> BacktestSpec:
    """The backtest settings of a bot configuration (the PAPER broker's book and fees).

    ``plain_grid`` runs a static geometric grid of ``num_levels`` levels a side spaced
    ``grid_spacing_pct`` instead of the policy (the speed baseline; see the core's
    ``backtest::plain``). ``baseline_rebalance_bars``: bars between two rebalances of the
    static-hedge baseline (0: opened once)."""
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
        baseline_rebalance_bars=baseline_rebalance_bars,
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
    """Per bar from the first decision: close, equity, pnl, static_equity, unhedged_equity
    (the baselines), drawdown, hedge_ratio, position, var_forecast, var95, var99,
    var_exception, center, funding (cumulative, quote); indexed by bar open time (UTC)."""
    spec: BacktestSpec
    market: Market
    funding_source: str = "none: zero funding assumed"
    """Where the run's funding came from (``Candles.funding_origin``)."""
    settings: dict[str, float] = field(default_factory=dict)
    """The configuration the report draws: ``hedge_ratio``, ``hedge_ratio_min``,
    ``hedge_ratio_max``, ``max_drawdown`` (fractions)."""

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
    allow_gaps: bool = False,
    baseline_rebalance_bars: int = 0,
    bootstrap_resamples: int = 2000,
    seed: int = 0,
) -> BacktestResult:
    """Backtest a bot configuration over ``candles`` (the GIL is released while it runs).

    The metrics carry the baselines on the same bars (``unhedged_pnl``, ``static_pnl``: a
    static short at ``hedge_ratio``, same fees and funding, rebalanced every
    ``baseline_rebalance_bars``), the grid's ``excess_pnl`` over the static hedge with its
    moving-block-bootstrap 95% interval (``excess_ci_low``/``excess_ci_high``, ``excess_t``;
    with ``record_series``), the PnL attribution (``pnl_*``, summing to ``pnl``) and the VaR
    backtest at 95% and 99%. A figure that is undefined is None and ``undefined`` says why.
    Bars with gaps raise `InvalidInputError` unless ``allow_gaps``."""
    check_gaps(candles, allow_gaps)
    if len(candles.close) < 1:
        raise InvalidInputError(
            "candles: needs at least one bar",
            field="candles",
            value="0 bars",
            rule="must hold at least one bar",
        )
    mk = market if market is not None else default_market(symbol)
    cfg = GridHedgeConfig.load(config)
    spec = spec_for(
        cfg,
        candles,
        symbol=symbol,
        spot_amount=spot_amount,
        cash=cash,
        start=start,
        bot_id=bot_id,
        baseline_rebalance_bars=baseline_rebalance_bars,
    )
    raw = _core.backtest(
        spec, mk, *arrays(candles), record_events=record_events, record_series=record_series
    )
    result = result_of(
        raw,
        candles,
        spec,
        mk,
        record_series=record_series,
        bootstrap_resamples=bootstrap_resamples,
        seed=seed,
    )
    result.settings.update(
        hedge_ratio=float(cfg.hedge.hedge_ratio),
        hedge_ratio_min=float(cfg.hedge.hedge_ratio_min),
        hedge_ratio_max=float(cfg.hedge.hedge_ratio_max),
        max_drawdown=float(cfg.risk.max_drawdown),
    )
    return result


RETURN_FIGURES = ("annual_return", "sharpe", "sortino", "calmar", "max_drawdown")


def finish_metrics(
    metrics: dict[str, Any], series: pd.DataFrame, resamples: int, seed: int
) -> dict[str, Any]:
    """The excess bootstrap (when the series are there), NaN figures made None with the
    reason in ``undefined``."""
    m = dict(metrics)
    if len(series) >= 3 and "static_equity" in series:
        ex = _core.excess_bootstrap(
            np.ascontiguousarray(series["equity"], dtype=np.float64),
            np.ascontiguousarray(series["static_equity"], dtype=np.float64),
            resamples=resamples,
            seed=seed,
        )
        m["excess_ci_low"] = ex["ci_low"]
        m["excess_ci_high"] = ex["ci_high"]
        m["excess_t"] = ex["t_stat"]
        m["excess_block_bars"] = ex["block"]
    else:
        m.setdefault("excess_t", float("nan"))
    undefined: dict[str, str] = {}
    depleted = not (m.get("min_equity", 1.0) > 0 and m.get("initial_equity", 1.0) > 0)
    for k, v in list(m.items()):
        if isinstance(v, float) and not np.isfinite(v):
            m[k] = None
            if k in RETURN_FIGURES and depleted:
                undefined[k] = (
                    f"equity reached {m.get('min_equity', 0.0):,.2f} (<= 0): returns on a "
                    "capital that is gone mean nothing"
                )
            elif k.startswith("excess_"):
                undefined[k] = "needs the per-bar series (record_series) and >= 3 bars"
            elif k.startswith(("kupiec", "christoffersen", "conditional", "var")):
                undefined[k] = "the test is undefined on these bars (too few or no exceptions)"
            else:
                undefined[k] = "undefined on these bars"
    m["undefined"] = undefined
    return m


def result_of(
    raw: dict[str, Any],
    candles: Candles,
    spec: BacktestSpec,
    mk: Market,
    *,
    record_series: bool = True,
    bootstrap_resamples: int = 2000,
    seed: int = 0,
) -> BacktestResult:
    """A :class:`BacktestResult` from the core's result dict (``_core.backtest``'s, or one leg
    of ``_core.portfolio_backtest``'s)."""
    first = int(raw["first_bar"])
    events = pd.DataFrame(raw["events"], columns=list(raw["events"].keys()))
    if len(events):
        events.insert(
            1, "time", pd.to_datetime(candles.timestamp[events["bar"]], unit="ms", utc=True)
        )
    orders = pd.DataFrame(raw["orders"])
    fills = pd.DataFrame(raw["fills"])
    if len(fills):
        fills.insert(
            1, "time", pd.to_datetime(candles.timestamp[fills["bar"]], unit="ms", utc=True)
        )
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
                "pnl": equity - equity[0],
                **{
                    k: s[k]
                    for k in ("static_equity", "unhedged_equity")
                    if len(s.get(k, ())) == len(equity)
                },
                "drawdown": np.where(peak > 0, 1 - equity / peak, 0.0),
                "hedge_ratio": s["hedge_ratio"],
                "position": s["position"],
                "var_forecast": var,
                "var95": s["var95"],
                "var99": s["var99"],
                "var_exception": -change - var_noise(candles.close[first:], equity, spec) > var,
                "center": np.where(np.asarray(s["center"]) > 0, s["center"], np.nan),
                "funding": s["funding"],
            },
            index=pd.to_datetime(candles.timestamp[first:], unit="ms", utc=True),
        )
        series.index.name = "time"
    return BacktestResult(
        metrics=finish_metrics(raw["metrics"], series, bootstrap_resamples, seed),
        events=events,
        orders=orders,
        fills=fills,
        series=series,
        spec=spec,
        market=mk,
        funding_source=candles.funding_origin,
    )
