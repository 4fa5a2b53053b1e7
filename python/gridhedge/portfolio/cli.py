"""``gridhedge portfolio CONFIG``: run a portfolio (PAPER or RECOMMENDATION offline, or REAL
through one connection per exchange) and print per-leg and portfolio figures side by side."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gridhedge.errors import GridHedgeError

COLUMNS = (
    ("exposure", "exposure"),
    ("hedge_ratio", "hedge ratio"),
    ("var_contribution", "VaR contribution"),
    ("standalone_var", "VaR alone"),
    ("multiplier", "band scale"),
    ("funding_carry", "funding carry"),
)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    try:
        return f"{float(v):,.3f}"
    except (TypeError, ValueError):
        return str(v)


def portfolio(
    config: Annotated[str, typer.Argument(help="Portfolio YAML (portfolio, data, legs).")],
    steps: Annotated[int, typer.Option(help="Rebalances to run.", min=1)] = 24,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Run several bots under one VaR budget (the config's mode: PAPER, RECOMMENDATION or REAL)
    and print the figures."""
    from gridhedge.portfolio.runner import PortfolioRunner

    async def go() -> dict[str, Any]:
        # built inside the loop: REAL opens its exchange clients on it
        async with PortfolioRunner(config) as runner:
            await runner.run(steps)
            return runner.status()

    try:
        status = asyncio.run(go())
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(status, indent=2, default=str))
        return
    p = status["portfolio"]
    table = Table(title=f"portfolio ({p.get('mode')}) after {steps} rebalance(s)")
    table.add_column("leg")
    for _, title in COLUMNS:
        table.add_column(title, justify="right")
    for symbol, row in status["legs"].items():
        table.add_row(symbol, *(_fmt(row.get(key)) for key, _ in COLUMNS))
    table.add_row(
        "portfolio",
        _fmt(p.get("exposure")),
        "-",
        _fmt(p.get("var")),
        "-",
        "-",
        _fmt(p.get("funding_carry")),
        style="bold",
    )
    Console().print(table)
    typer.echo(
        f"VaR {_fmt(p.get('var'))} / limit {_fmt(p.get('var_limit'))} (after shrink "
        f"{_fmt(p.get('var_after_shrink'))}), CVaR {_fmt(p.get('cvar'))}, historical VaR "
        f"{_fmt(p.get('historical_var'))}, drawdown {_fmt(p.get('drawdown'))}, "
        f"halted {p.get('halted')}"
    )
