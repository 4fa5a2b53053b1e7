"""Backtest reports: a tearsheet a trader reads, as one self-contained HTML file (no network,
no JavaScript library: charts are matplotlib PNGs embedded inline) plus the same charts as PNG
files, ``metrics.json`` and the event log.

The tearsheet opens with the summary table (PnL in quote currency beside the unhedged and
static-hedge baselines, the excess over the static hedge with its 95% bootstrap interval,
return, drawdown, Sharpe, fees, funding, fills, turnover, halt time and reason, where the
funding came from), then the PnL attribution and the VaR backtest, then the charts: PnL of the
grid and both baselines; price with the grid center (hidden while halted), fills and the halt;
hedge ratio with its band and target; drawdown; the one-bar VaR at 95% and 99% against the
losses, exceptions marked; cumulative funding and fees. Every axis names its unit; times are
UTC. Series are thinned to at most :data:`MAX_POINTS` points per chart and fills to
:data:`MAX_FILLS` markers, so a year of 1-minute bars stays far below 2 MB.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from gridhedge.backtest.engine import BacktestResult

MAX_POINTS = 2_000
"""Per-bar series are thinned to about this many points per chart (min/max kept per bucket
for the price and PnL, so spikes stay visible)."""
MAX_FILLS = 1_500
"""At most this many fill markers per side (evenly chosen)."""


def _thin(df: pd.DataFrame, points: int = MAX_POINTS) -> pd.DataFrame:
    step = max(1, math.ceil(len(df) / points))
    if step == 1:
        return df
    return df.iloc[::step]


def _money(x: float | None, unit: str = "") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else "+" if x > 0 else ""
    text = f"{sign}{abs(x):,.2f}"
    return f"{text} {unit}".rstrip()


def _pct(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x * 100:+.{digits}f}%"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.{digits}f}"


def _p(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}"


def _time(t: Any) -> str:
    return str(pd.Timestamp(t).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC"))


def _halt(result: BacktestResult) -> tuple[str | None, str]:
    """(UTC time of the halt or None, its reason)."""
    m = result.metrics
    bar = m.get("halt_bar")
    if bar is None:
        return None, "not halted"
    s = result.series
    t = s.index[s["bar"] == bar]
    when = _time(t[0]) if len(t) else f"bar {bar}"
    limit = result.settings.get("max_drawdown")
    reason = "drawdown from the equity high-water mark reached max_drawdown"
    if limit is not None:
        reason += f" ({limit:.1%})"
    return when, reason + "; the grid was cancelled (the hedge held after it: hedge-ratio chart)"


def summary_rows(result: BacktestResult, quote: str = "USD") -> list[tuple[str, str]]:
    """The summary table: (label, value as a trader writes it)."""
    m = result.metrics
    s = result.series
    period = (
        f"{_time(s.index[0])} .. {_time(s.index[-1])}" if len(s) else f"{m.get('bars', 0)} bars"
    )
    bar_s = m.get("bar_seconds") or 0.0
    bar_text = f"{bar_s / 3600:g} h" if bar_s >= 3600 else f"{bar_s / 60:g} min"
    gap_text = (
        f"{m.get('gaps', 0)} gap(s), {m.get('missing_bars', 0)} missing bar(s)"
        if m.get("gaps")
        else "none"
    )
    lo, hi = m.get("excess_ci_low"), m.get("excess_ci_high")
    ci = (
        f" (95% CI {_money(lo)} .. {_money(hi)}, t {_num(m.get('excess_t'))})"
        if lo is not None
        else ""
    )
    when, reason = _halt(result)
    halt = f"{when}: {reason}" if when else "never"
    und = m.get("undefined", {})

    def ret(key: str, fmt: Any) -> str:
        return fmt(m.get(key)) if m.get(key) is not None else f"undefined ({und.get(key, 'n/a')})"

    return [
        ("Period", f"{period}, {m.get('bars', 0):,} bars of {bar_text}"),
        ("Gaps", gap_text),
        ("Funding from", result.funding_source),
        (f"PnL ({quote})", _money(m.get("pnl"), quote)),
        ("Return on initial capital", _pct(m.get("total_return"))),
        (f"Unhedged inventory PnL ({quote})", _money(m.get("unhedged_pnl"), quote)),
        (f"Static hedge PnL ({quote})", _money(m.get("static_pnl"), quote)),
        (f"Excess over static hedge ({quote})", _money(m.get("excess_pnl"), quote) + ci),
        ("Annual return", ret("annual_return", _pct)),
        ("Max drawdown", ret("max_drawdown", lambda x: f"{x * 100:.2f}%")),
        ("Sharpe (annualised)", ret("sharpe", _num)),
        ("Sortino (annualised)", ret("sortino", _num)),
        (f"Fees paid ({quote})", _money(m.get("fees"), quote).lstrip("+")),
        (f"Funding received ({quote})", _money(m.get("funding_pnl"), quote)),
        ("Fills", f"{m.get('fills', 0):,}"),
        (f"Turnover ({quote})", _money(m.get("traded_notional"), quote).lstrip("+")),
        ("Mean hedge ratio", _num(m.get("mean_hedge_ratio"), 3)),
        ("Halt", halt),
    ]


def attribution_rows(result: BacktestResult, quote: str = "USD") -> list[tuple[str, str]]:
    """The PnL attribution (sums to the PnL)."""
    m = result.metrics
    return [
        ("Spot inventory", _money(m.get("pnl_spot"), quote)),
        ("Futures: grid trading (fills vs close)", _money(m.get("pnl_grid"), quote)),
        ("Futures: inventory drift (position x price move)", _money(m.get("pnl_drift"), quote)),
        ("Fees", _money(m.get("pnl_fees"), quote)),
        ("Funding", _money(m.get("pnl_funding"), quote)),
        ("Total", _money(m.get("pnl"), quote)),
    ]


def var_rows(result: BacktestResult) -> list[tuple[str, str, str, str, str]]:
    """(level, exceptions / bars (expected), Kupiec p, Christoffersen p, conditional p)."""
    m = result.metrics
    n = max(0, int(m.get("bars", 0)) - 1)
    rows = []
    for level, key in (("95%", "95"), ("99%", "99")):
        x = int(m.get(f"var{key}_exceptions", 0))
        expected = n * (1 - int(key) / 100)
        rows.append(
            (
                level,
                f"{x:,} / {n:,} (expected {expected:,.0f})",
                _p(m.get(f"kupiec_p_{key}")),
                _p(m.get(f"christoffersen_p_{key}")),
                _p(m.get(f"conditional_coverage_p_{key}")),
            )
        )
    return rows


def _figures(result: BacktestResult, quote: str) -> list[tuple[str, Any]]:
    """The charts as (name, matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    full = result.series
    s = _thin(full)
    x = s.index.tz_convert("UTC").tz_localize(None)
    figs: list[tuple[str, Any]] = []

    def axes(title: str, ylabel: str, height: float = 3.2) -> tuple[Any, Any]:
        fig, ax = plt.subplots(figsize=(11, height))
        ax.set_title(title, loc="left", fontsize=11)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("time (UTC)")
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(mdates.AutoDateLocator())  # type: ignore[no-untyped-call]
        )
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        return fig, ax

    when, _ = _halt(result)
    halt_x = None
    if when is not None:
        hb = result.metrics.get("halt_bar")
        hit = full.index[full["bar"] == hb]
        if len(hit):
            halt_x = hit[0].tz_convert("UTC").tz_localize(None)

    def mark_halt(ax: Any) -> None:
        if halt_x is not None:
            ax.axvline(halt_x, color="black", ls="--", lw=1)
            ax.annotate(
                " halt",
                (halt_x, 0.97),
                xycoords=("data", "axes fraction"),
                va="top",
                ha="left",
                fontsize=9,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )

    # 1. PnL vs baselines
    fig, ax = axes(f"PnL: grid hedge vs static hedge, unhedged inventory right ({quote})", quote)
    ax.plot(x, s["pnl"], lw=1.2, label="grid hedge", color="tab:blue")
    if "static_equity" in s:
        static = s["static_equity"] - full["static_equity"].iloc[0]
        ax.plot(x, static, lw=1.2, label="static hedge", color="tab:orange")
    ax.axhline(0, color="black", lw=0.5)
    if "unhedged_equity" in s:
        right = ax.twinx()
        right.plot(
            x,
            s["unhedged_equity"] - full["unhedged_equity"].iloc[0],
            lw=0.8,
            color="tab:gray",
            alpha=0.5,
            label="unhedged inventory (right axis)",
        )
        right.set_ylabel(f"unhedged PnL ({quote})", color="tab:gray")
        right.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.set_zorder(right.get_zorder() + 1)
        ax.patch.set_visible(False)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = right.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    else:
        ax.legend(loc="upper left", fontsize=8)
    mark_halt(ax)
    figs.append(("pnl_vs_baselines", fig))

    # 2. price, center, fills
    fig, ax = axes(f"Price, grid center and fills ({quote})", f"price ({quote})")
    ax.plot(x, s["close"], lw=0.8, color="black", label="close", zorder=3)
    center = s["center"].copy()
    if halt_x is not None:
        center[x >= halt_x] = np.nan
    ax.plot(x, center, lw=0.8, ls=":", color="tab:purple", label="grid center (while live)")
    f = result.fills
    if len(f):
        for side, color, marker in (("buy", "tab:green", "^"), ("sell", "tab:red", "v")):
            part = f[f["side"] == side]
            if len(part) > MAX_FILLS:
                part = part.iloc[np.linspace(0, len(part) - 1, MAX_FILLS).astype(int)]
            ax.scatter(
                part["time"].dt.tz_convert("UTC").dt.tz_localize(None),
                part["price"].astype(float),
                s=10,
                c=color,
                marker=marker,
                alpha=0.6,
                label=f"{side} fills",
                zorder=2,
                linewidths=0,
            )
    o = result.orders
    if len(f) and len(o) and "key" in o and "order" in f:
        # the dynamic stop's fills (order key 'x...'): where the stop fired
        role = o["key"].str[0].to_numpy()[f["order"].to_numpy()]
        stops = f[role == "x"]
        if len(stops):
            ax.scatter(
                stops["time"].dt.tz_convert("UTC").dt.tz_localize(None),
                stops["price"].astype(float),
                s=16,
                c="black",
                marker="x",
                linewidths=0.8,
                label=f"stop fills ({len(stops)})",
                zorder=4,
            )
    mark_halt(ax)
    ax.legend(loc="upper left", fontsize=8)
    figs.append(("price_fills", fig))

    # 3. hedge ratio with band and target
    band = result.settings
    fig, ax = axes("Hedge ratio (short / spot) with band and target", "hedge ratio")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:.2f}"))
    hr = s["hedge_ratio"].copy()
    if len(hr) > 1:
        hr.iloc[0] = np.nan  # nothing is hedged before the first fills: not a data point
    ax.plot(x, hr, lw=0.9, label="hedge ratio")
    if "hedge_ratio" in band:
        lo, hi, tgt = band["hedge_ratio_min"], band["hedge_ratio_max"], band["hedge_ratio"]
        ax.axhspan(lo, hi, color="tab:green", alpha=0.1, label=f"band [{lo:g}, {hi:g}]")
        ax.axhline(tgt, color="tab:green", lw=1, ls="--", label=f"target {tgt:g}")
    mark_halt(ax)
    ax.legend(loc="lower left", fontsize=8)
    figs.append(("hedge_ratio", fig))

    # 4. drawdown
    fig, ax = axes("Drawdown from the equity high-water mark (%)", "drawdown (%)", 2.6)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:.1f}"))
    ax.fill_between(x, -100 * s["drawdown"], 0, color="tab:red", alpha=0.5)
    mark_halt(ax)
    figs.append(("drawdown", fig))

    # 5. VaR
    change = full["equity"].diff().fillna(0.0)
    fig, ax = axes(f"One-bar loss vs VaR forecast ({quote})", quote)
    loss = (-change).loc[s.index]
    ax.plot(x, loss.clip(lower=0), lw=0.5, color="tab:gray", alpha=0.6, label="loss")
    if "var95" in s:
        ax.plot(x, s["var95"], lw=0.8, color="tab:orange", label="VaR 95%")
        ax.plot(x, s["var99"], lw=0.8, color="tab:red", label="VaR 99%")
        exc = full[(-change) > full["var99"]]
        if len(exc) > MAX_FILLS:
            exc = exc.iloc[np.linspace(0, len(exc) - 1, MAX_FILLS).astype(int)]
        ax.scatter(
            exc.index.tz_convert("UTC").tz_localize(None),
            (-change).loc[exc.index],
            s=6,
            c="red",
            label="99% exceptions",
            zorder=3,
        )
    ax.legend(loc="upper left", fontsize=8)
    figs.append(("var_exceptions", fig))

    # 6. funding and fees
    fig, ax = axes(f"Cumulative funding received ({quote})", quote, 2.6)
    ax.plot(x, s["funding"], lw=0.9, color="tab:cyan", label="funding")
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(loc="upper left", fontsize=8)
    figs.append(("funding", fig))
    for _, fg in figs:
        fg.tight_layout()
    return figs


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] | None = None) -> str:
    head = (
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table>{head}{body}</table>"


_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;
max-width:1150px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 6px}
.sub{color:#666;font-size:12px;margin-bottom:12px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 12px 3px 0;text-align:left;
border-bottom:1px solid #eee}td:nth-child(n+2){text-align:right;font-variant-numeric:tabular-nums}
.neg{color:#b00}.pos{color:#070}.grid{display:flex;gap:40px;flex-wrap:wrap}
img{width:100%;max-width:1100px;display:block;margin:6px 0 14px}
"""

_JS = """
document.querySelectorAll('td').forEach(function (td) {
  var t = td.textContent.trim();
  if (/^-[0-9]/.test(t)) td.classList.add('neg');
  else if (/^\\+[0-9]/.test(t)) td.classList.add('pos');
});
document.getElementById('generated').textContent = 'charts: ' +
  document.querySelectorAll('img').length;
"""


def write_html(
    result: BacktestResult, path: str | os.PathLike[str], title: str, quote: str = "USD"
) -> Path:
    """The self-contained tearsheet (see the module doc)."""
    import matplotlib.pyplot as plt

    imgs = []
    for name, fig in _figures(result, quote):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        imgs.append(f'<img alt="{name}" src="data:image/png;base64,{data}">')
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script>window.addEventListener("error", function (e) {{
  document.documentElement.setAttribute("data-js-error", String(e.message));
}});</script>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="sub">Money in {quote} (the market's quote currency); times UTC.
<span id="generated"></span></div>
<h2>Summary</h2>
{_table(summary_rows(result, quote))}
<div class="grid"><div><h2>PnL attribution ({quote})</h2>
{_table(attribution_rows(result, quote))}</div>
<div><h2>VaR backtest (one bar, every bar counted)</h2>
{
        _table(
            var_rows(result),
            ("VaR", "exceptions / bars", "Kupiec p", "Christoffersen p", "cond. coverage p"),
        )
    }
<div class="sub">p &lt; 0.05 rejects the VaR model at that level.</div></div></div>
<h2>Charts</h2>
{"".join(imgs)}
<script>{_JS}</script>
</body></html>
"""
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p


def write_pngs(result: BacktestResult, out: str | os.PathLike[str]) -> list[Path]:
    """The tearsheet's charts as PNG files (matplotlib, no display needed)."""
    import matplotlib.pyplot as plt

    d = Path(out)
    paths: list[Path] = []
    for name, fig in _figures(result, "USD"):
        fig.savefig(d / f"{name}.png", dpi=100)
        plt.close(fig)
        paths.append(d / f"{name}.png")
    return paths


def write_report(
    result: BacktestResult, out: str | os.PathLike[str], title: str = "gridhedge backtest"
) -> dict[str, Any]:
    """HTML tearsheet + PNGs + metrics.json + the event log (CSV) into directory ``out``."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    html_path = write_html(result, d / "report.html", title)
    pngs = write_pngs(result, d)
    metrics = dict(result.metrics, funding_source=result.funding_source)
    (d / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
    result.events.to_csv(d / "events.csv", index=False)
    return {"html": html_path, "pngs": pngs, "metrics": d / "metrics.json"}
