"""Backtest reports: one self-contained HTML (plotly, the library inlined) and PNGs
(matplotlib): price with grid center and fills, hedge ratio, equity and drawdown, rolling VaR
with its exceptions, and cumulative funding PnL."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from gridhedge.backtest.engine import BacktestResult

MAX_POINTS = 20_000
"""Per-bar series are thinned to about this many points in the plots (fills are all kept)."""


def _thin(df: pd.DataFrame) -> pd.DataFrame:
    step = max(1, len(df) // MAX_POINTS)
    return df.iloc[::step]


def _funding(result: BacktestResult) -> pd.Series:
    """Cumulative funding received per bar (quote)."""
    return result.series["funding"]


def write_html(result: BacktestResult, path: str | os.PathLike[str], title: str) -> Path:
    """One self-contained HTML file (plotly inlined; opens offline)."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]
    from plotly.subplots import make_subplots  # type: ignore[import-untyped]

    s = _thin(result.series)
    f = result.fills
    fig = make_subplots(
        rows=5,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=(
            "Price, grid center and fills",
            "Hedge ratio",
            "Equity and drawdown",
            "One-bar VaR forecast and exceptions",
            "Funding PnL (cumulative)",
        ),
        specs=[[{}], [{}], [{"secondary_y": True}], [{}], [{}]],
    )
    fig.add_trace(go.Scatter(x=s.index, y=s["close"], name="close", line={"width": 1}), 1, 1)
    fig.add_trace(
        go.Scatter(x=s.index, y=s["center"], name="grid center", line={"dash": "dot"}), 1, 1
    )
    if len(f):
        for side, color in (("buy", "green"), ("sell", "red")):
            part = f[f["side"] == side]
            fig.add_trace(
                go.Scatter(
                    x=part["time"],
                    y=part["price"],
                    mode="markers",
                    name=f"{side} fills",
                    marker={"color": color, "size": 5},
                ),
                1,
                1,
            )
    fig.add_trace(go.Scatter(x=s.index, y=s["hedge_ratio"], name="hedge ratio"), 2, 1)
    fig.add_trace(go.Scatter(x=s.index, y=s["equity"], name="equity"), 3, 1)
    fig.add_trace(
        go.Scatter(x=s.index, y=-s["drawdown"], name="drawdown", fill="tozeroy"),
        3,
        1,
        secondary_y=True,
    )
    change = result.series["equity"].diff().fillna(0.0)
    fig.add_trace(go.Scatter(x=s.index, y=s["var_forecast"], name="VaR (loss)"), 4, 1)
    fig.add_trace(go.Scatter(x=s.index, y=-change.loc[s.index], name="loss", opacity=0.4), 4, 1)
    exc = result.series[result.series["var_exception"]]
    fig.add_trace(
        go.Scatter(
            x=exc.index,
            y=-change.loc[exc.index],
            mode="markers",
            name="exceptions",
            marker={"color": "red", "size": 5},
        ),
        4,
        1,
    )
    funding = _funding(result)
    fig.add_trace(go.Scatter(x=funding.index, y=funding.to_numpy(), name="funding"), 5, 1)
    m = result.metrics
    subtitle = ", ".join(
        f"{k} {m[k]:.4g}"
        for k in ("total_return", "sharpe", "max_drawdown", "hedge_effectiveness", "fees")
        if k in m
    )
    fig.update_layout(
        title=f"{title}<br><sup>{subtitle}</sup>", height=1500, template="plotly_white"
    )
    p = Path(path)
    fig.write_html(p, include_plotlyjs=True, full_html=True)
    return p


def write_pngs(result: BacktestResult, out: str | os.PathLike[str]) -> list[Path]:
    """One PNG per panel (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = Path(out)
    s = _thin(result.series)
    f = result.fills
    paths: list[Path] = []

    def save(fig: Any, name: str) -> None:
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(d / name, dpi=100)
        plt.close(fig)
        paths.append(d / name)

    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(s.index, s["close"], lw=0.8, label="close")
    ax.plot(s.index, s["center"], lw=0.8, ls=":", label="grid center")
    if len(f):
        for side, color in (("buy", "green"), ("sell", "red")):
            part = f[f["side"] == side]
            ax.scatter(part["time"], part["price"], s=6, c=color, label=f"{side} fills")
    ax.set_title("Price, grid center and fills")
    ax.legend(loc="best")
    save(fig, "price_fills.png")

    fig, ax = plt.subplots(figsize=(11, 3))
    ax.plot(s.index, s["hedge_ratio"], lw=0.8)
    ax.set_title("Hedge ratio")
    save(fig, "hedge_ratio.png")

    fig, (a1, a2) = plt.subplots(2, 1, figsize=(11, 5), sharex=True)
    a1.plot(s.index, s["equity"], lw=0.8)
    a1.set_title("Equity")
    a2.fill_between(s.index, -s["drawdown"], 0, color="tab:red", alpha=0.5)
    a2.set_title("Drawdown")
    save(fig, "equity_drawdown.png")

    change = result.series["equity"].diff().fillna(0.0)
    exc = result.series[result.series["var_exception"]]
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.plot(s.index, -change.loc[s.index], lw=0.5, alpha=0.5, label="loss")
    ax.plot(s.index, s["var_forecast"], lw=0.8, label="VaR forecast")
    ax.scatter(exc.index, -change.loc[exc.index], s=6, c="red", label="exceptions")
    ax.set_title("One-bar VaR and exceptions")
    ax.legend(loc="best")
    save(fig, "var_exceptions.png")

    funding = _funding(result)
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.plot(funding.index, funding.to_numpy(), lw=0.8)
    ax.set_title("Funding PnL (cumulative)")
    save(fig, "funding.png")
    return paths


def write_report(
    result: BacktestResult, out: str | os.PathLike[str], title: str = "gridhedge backtest"
) -> dict[str, Any]:
    """HTML + PNGs + metrics.json + the event log (CSV) into directory ``out``."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    html = write_html(result, d / "report.html", title)
    pngs = write_pngs(result, d)
    (d / "metrics.json").write_text(json.dumps(result.metrics, indent=2, default=str))
    result.events.to_csv(d / "events.csv", index=False)
    return {"html": html, "pngs": pngs, "metrics": d / "metrics.json"}
