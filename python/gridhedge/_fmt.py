"""Readable numbers for the CLI: percentages as percentages, money to the cent with thousands
separators, counts as integers, ratios to three decimals; NaN and None as ``-``.

`METRIC_KINDS` says how each backtest metric reads (and is the list of metric names the CLI
accepts, e.g. for ``optimize``'s ``metric:``).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Kind = Literal["pct", "money", "count", "ratio", "flag", "pvalue"]

METRIC_KINDS: dict[str, Kind] = {
    "initial_equity": "money",
    "final_equity": "money",
    "total_return": "pct",
    "annual_return": "pct",
    "sharpe": "ratio",
    "sortino": "ratio",
    "max_drawdown": "pct",
    "calmar": "ratio",
    "hedge_effectiveness": "pct",
    "funding_pnl": "money",
    "fees": "money",
    "realized_pnl": "money",
    "traded_notional": "money",
    "mean_hedge_ratio": "ratio",
    "kupiec_lr": "ratio",
    "kupiec_p_value": "pvalue",
    "var_exception_rate": "pct",
    "bars": "count",
    "decisions": "count",
    "decisions_kept": "count",
    "orders_placed": "count",
    "orders_cancelled": "count",
    "fills": "count",
    "var_observations": "count",
    "var_exceptions": "count",
    "pnl": "money",
    "min_equity": "money",
    "bar_seconds": "ratio",
    "pnl_spot": "money",
    "pnl_grid": "money",
    "pnl_drift": "money",
    "pnl_fees": "money",
    "pnl_funding": "money",
    "unhedged_pnl": "money",
    "static_pnl": "money",
    "static_fees": "money",
    "static_funding": "money",
    "excess_pnl": "money",
    "kupiec_p_95": "pvalue",
    "christoffersen_p_95": "pvalue",
    "conditional_coverage_p_95": "pvalue",
    "kupiec_p_99": "pvalue",
    "christoffersen_p_99": "pvalue",
    "conditional_coverage_p_99": "pvalue",
    "gaps": "count",
    "missing_bars": "count",
    "var95_exceptions": "count",
    "var99_exceptions": "count",
    "halted": "flag",
    "halt_bar": "count",
}
"""Every metric of a single-symbol backtest (``run_backtest(...).metrics``) and how it reads."""


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def pct(value: Any, places: int = 2) -> str:
    """A fraction as a percentage: 0.1330 -> ``13.30%``."""
    x = _number(value)
    return "-" if x is None else f"{x:.{places}%}"


def money(value: Any) -> str:
    """An amount of quote currency to the cent with thousands separators (exact for Decimal):
    76628.7627 -> ``76,628.76``."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "-"
        return f"{value.quantize(Decimal('0.01')):,}"
    if isinstance(value, str):
        try:
            return money(Decimal(value))
        except InvalidOperation:
            return value
    x = _number(value)
    return "-" if x is None else f"{x:,.2f}"


def count(value: Any) -> str:
    """A count as an integer with thousands separators: 348.0 -> ``348``."""
    x = _number(value)
    return "-" if x is None else f"{round(x):,}"


def ratio(value: Any, places: int = 3) -> str:
    """A dimensionless ratio (Sharpe, hedge ratio) to ``places`` decimals."""
    x = _number(value)
    if x is None:
        return "-"
    return f"{x:,.{places}f}" if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def flag(value: Any) -> str:
    """A truth value as ``yes``/``no`` (``halted 0.000`` reads ``no``)."""
    if value is None:
        return "-"
    return "yes" if bool(value) else "no"


def metric(name: str, value: Any) -> str:
    """``value`` of the backtest metric ``name``, readable (unknown names as a ratio)."""
    kind = METRIC_KINDS.get(name, "ratio")
    if kind == "pct":
        return pct(value)
    if kind == "money":
        return money(value)
    if kind == "count":
        return count(value)
    if kind == "flag":
        return flag(value)
    if kind == "pvalue":
        return ratio(value, 4)
    return ratio(value)
