"""Run the Rust backtester from a ``GridHedgeConfig`` and ``Candles``; results as pandas.

The backtester runs the live bot's own policy (``PolicyEngine``) at the bot's cadence with
the bot's order-manager semantics and the PAPER broker's fill model, so a backtest and a
PAPER run of ``GridHedgeBot.run()`` over the same bars log the same events (see
``tests/test_backtest_parity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
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


def _decimal_strings(units: npt.NDArray[np.int64], step: Decimal) -> list[str]:
    """``n x step`` as exact decimal strings (the core's ``ticks_to_price`` /
    ``lots_to_amount``), each distinct value formatted once."""
    memo: dict[int, str] = {}
    out = []
    for n in units.tolist():
        text = memo.get(n)
        if text is None:
            text = memo[n] = str(Decimal(n) * step)
        out.append(text)
    return out


def _codes(column: npt.NDArray[np.uint8], names: dict[int, str]) -> npt.NDArray[Any]:
    """uint8 codes as their names (an object array)."""
    table = np.empty(256, dtype=object)
    for code, name in names.items():
        table[code] = name
    return table[np.asarray(column, dtype=np.intp)]


SIDES = {ord("s"): "sell", ord("b"): "buy"}


@dataclass(frozen=True)
class BacktestResult:
    """A run: metrics, the event log, orders, fills and per-bar series.

    The core hands over numpy columns (``raw``: codes, ticks, lots, bars; no Python object per
    order, fill or bar); ``events``, ``orders``, ``fills`` and ``series`` are pandas frames
    built from them on first access (then cached), so a run that only needs its metrics or
    arrays never pays for them."""

    metrics: dict[str, Any]
    spec: BacktestSpec
    market: Market
    raw: dict[str, Any] = field(repr=False)
    """The core's result dict (``_core.backtest``: ``orders``, ``fills``, ``series`` columns)."""
    timestamp: npt.NDArray[np.int64] = field(repr=False)
    """Open times (ms UTC) of every bar of the run's candles."""
    close: npt.NDArray[np.float64] = field(repr=False)
    """Closes of every bar of the run's candles (quote)."""
    record_series: bool = True
    funding_source: str = "none: zero funding assumed"
    """Where the run's funding came from (``Candles.funding_origin``)."""
    settings: dict[str, float] = field(default_factory=dict)
    """The configuration the report draws: ``hedge_ratio``, ``hedge_ratio_min``,
    ``hedge_ratio_max``, ``max_drawdown`` (fractions)."""

    def _times(self, bars: npt.NDArray[np.int64]) -> Any:
        return pd.to_datetime(self.timestamp[bars], unit="ms", utc=True)

    @cached_property
    def _client_ids(self) -> list[str]:
        """Client order id of each order row (the order manager's: key and sequence)."""
        o = self.raw["orders"]
        bot, symbol = self.spec.bot_id, self.spec.symbol
        return [
            _core.client_order_id(bot, symbol, key, seq)
            for key, seq in zip(self._keys.tolist(), o["sequence"].tolist(), strict=True)
        ]

    @cached_property
    def _keys(self) -> npt.NDArray[Any]:
        """Key code of each order row (``gs3``, ``gb2``, ``xb0``, ...): role, side, rung."""
        o = self.raw["orders"]
        return np.array(
            [
                f"{chr(r)}{chr(s)}{abs(lv)}"
                for r, s, lv in zip(
                    o["role"].tolist(), o["side"].tolist(), o["level"].tolist(), strict=True
                )
            ],
            dtype=object,
        )

    @cached_property
    def orders(self) -> pd.DataFrame:
        """One row per order sent: ``client_order_id``, ``key``, ``kind``, ``side``, ``price``,
        ``amount``, ``filled`` (exact decimal strings), ``placed_bar``, ``cancelled_bar``
        (-1: never cancelled)."""
        o = self.raw["orders"]
        kinds = dict(enumerate(self.raw["kinds"]))
        return pd.DataFrame(
            {
                "client_order_id": self._client_ids,
                "key": self._keys,
                "kind": _codes(o["kind"], kinds),
                "side": _codes(o["side"], SIDES),
                "price": _decimal_strings(o["price_ticks"], self.market.tick_size),
                "amount": _decimal_strings(o["amount_lots"], self.market.lot_size),
                "filled": _decimal_strings(o["filled_lots"], self.market.lot_size),
                "placed_bar": np.asarray(o["placed_bar"], dtype=np.int64),
                "cancelled_bar": np.asarray(o["cancelled_bar"], dtype=np.int64),
            }
        )

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log: ``bar``, ``time``, ``event`` (place / cancel / fill),
        ``client_order_id``, ``side``, ``price``, ``amount`` (exact decimal strings). On each
        bar the fills in the order they happened, then the cancels, then the placements, each
        in placement order (the core's ``BacktestResult::events``); a cancel's amount is what
        was left unfilled. Empty for the plain grid (no order table)."""
        o, f = self.raw["orders"], self.raw["fills"]
        if not len(o["role"]):
            cols = ("bar", "time", "event", "client_order_id", "side", "price", "amount")
            return pd.DataFrame({c: [] for c in cols})
        rows = np.arange(len(o["role"]), dtype=np.int64)
        cancelled = rows[o["cancelled_bar"] >= 0]
        order = np.concatenate([f["order"], cancelled, rows])
        bar = np.concatenate([f["bar"], o["cancelled_bar"][cancelled], o["placed_bar"]])
        rank = np.concatenate(
            [
                np.zeros(len(f["bar"]), np.int8),
                np.ones(len(cancelled), np.int8),
                np.full(len(rows), 2, np.int8),
            ]
        )
        lots = np.concatenate(
            [
                f["lots"],
                o["amount_lots"][cancelled] - o["filled_lots"][cancelled],
                o["amount_lots"],
            ]
        )
        ticks = np.concatenate([f["price_ticks"], o["price_ticks"][cancelled], o["price_ticks"]])
        at = np.lexsort((np.arange(len(bar)), rank, bar))
        order, bar, lots, ticks = order[at], bar[at], lots[at], ticks[at]
        ids = np.asarray(self._client_ids, dtype=object)
        return pd.DataFrame(
            {
                "bar": bar,
                "time": self._times(bar),
                "event": np.array(["fill", "cancel", "place"], dtype=object)[rank[at]],
                "client_order_id": ids[order],
                "side": _codes(o["side"][order], SIDES),
                "price": _decimal_strings(ticks, self.market.tick_size),
                "amount": _decimal_strings(lots, self.market.lot_size),
            }
        )

    @cached_property
    def fills(self) -> pd.DataFrame:
        """One row per fill: ``bar``, ``time``, ``client_order_id`` ("" for the plain grid),
        ``order`` (the order's row, or the plain grid's level index), ``side``, ``price``,
        ``amount`` (float64), ``fee`` (quote; negative: a rebate), ``maker``."""
        f = self.raw["fills"]
        ids = (
            np.asarray(self._client_ids, dtype=object)[f["order"]]
            if len(self.raw["orders"]["role"])
            else np.full(len(f["bar"]), "", dtype=object)
        )
        return pd.DataFrame(
            {
                "bar": f["bar"],
                "time": self._times(f["bar"]),
                "client_order_id": ids,
                "order": f["order"],
                "side": _codes(f["side"], SIDES),
                "price": f["price"],
                "amount": f["amount"],
                "fee": f["fee"],
                "maker": f["maker"],
            }
        )

    @cached_property
    def series(self) -> pd.DataFrame:
        """Per bar from the first decision: close, equity, pnl, static_equity,
        unhedged_equity (the baselines), drawdown, hedge_ratio, position, var_forecast, var95,
        var99, var_exception, center, funding (cumulative, quote); indexed by bar open time
        (UTC). Empty without ``record_series``."""
        return series_frame(self.raw, self.timestamp, self.close, self.spec, self.record_series)

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
    metrics: dict[str, Any], series: dict[str, Any], resamples: int, seed: int
) -> dict[str, Any]:
    """The excess bootstrap (when the per-bar ``equity`` and ``static_equity`` arrays are
    there), NaN figures made None with the reason in ``undefined``."""
    m = dict(metrics)
    equity = np.asarray(series.get("equity", ()), dtype=np.float64)
    static = np.asarray(series.get("static_equity", ()), dtype=np.float64)
    if len(equity) >= 3 and len(static) == len(equity):
        ex = _core.excess_bootstrap(
            np.ascontiguousarray(equity),
            np.ascontiguousarray(static),
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
    of ``_core.portfolio_backtest``'s); its frames are built when first asked for."""
    s = raw["series"] if record_series else {}
    return BacktestResult(
        metrics=finish_metrics(raw["metrics"], s, bootstrap_resamples, seed),
        spec=spec,
        market=mk,
        raw=raw,
        timestamp=np.asarray(candles.timestamp, dtype=np.int64),
        close=np.asarray(candles.close, dtype=np.float64),
        record_series=record_series,
        funding_source=candles.funding_origin,
    )


def series_frame(
    raw: dict[str, Any],
    timestamp: npt.NDArray[np.int64],
    close: npt.NDArray[np.float64],
    spec: BacktestSpec,
    record_series: bool = True,
) -> pd.DataFrame:
    """The per-bar frame of :attr:`BacktestResult.series` from the core's arrays."""
    first = int(raw["first_bar"])
    s = raw["series"]
    series = pd.DataFrame()
    if record_series and len(s["equity"]):
        equity = np.asarray(s["equity"])
        peak = np.maximum.accumulate(equity)
        change = np.diff(equity, prepend=equity[0])
        var = np.asarray(s["var_forecast"])
        series = pd.DataFrame(
            {
                "bar": np.arange(first, len(close)),
                "close": close[first:],
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
                "var_exception": -change - var_noise(close[first:], equity, spec) > var,
                "center": np.where(np.asarray(s["center"]) > 0, s["center"], np.nan),
                "funding": s["funding"],
            },
            index=pd.to_datetime(timestamp[first:], unit="ms", utc=True),
        )
        series.index.name = "time"
    return series
