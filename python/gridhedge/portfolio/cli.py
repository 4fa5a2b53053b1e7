"""``gridhedge portfolio [run] CONFIG``: run a portfolio (PAPER or RECOMMENDATION offline, or
REAL through one connection per exchange) and print per-leg and portfolio figures side by side;
``gridhedge portfolio backtest --config CONFIG [--data SYM=file.csv ...]``: the portfolio
backtester over aligned candles (synthetic correlated default)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gridhedge.errors import GridHedgeError


class _DefaultRun(typer.core.TyperGroup):
    """``gridhedge portfolio CONFIG`` is ``gridhedge portfolio run CONFIG``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_DefaultRun,
    no_args_is_help=True,
    help="Several symbols under one VaR budget: run (PAPER, RECOMMENDATION, REAL) or backtest.",
)

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


@app.command("run")
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


@app.command("backtest")
def backtest(
    config: Annotated[
        str, typer.Option("--config", help="Portfolio YAML (portfolio, data, legs).")
    ],
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help="SYMBOL=candles.csv|json for a leg (repeat; legs without one: synthetic).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Backtest the portfolio over aligned candles and print per-leg and portfolio metrics."""
    from gridhedge.data.files import load_candles
    from gridhedge.portfolio.backtest import run_portfolio_backtest
    from gridhedge.portfolio.runner import _load, synthetic_legs

    try:
        cfg = _load(config)
        candles = None
        if data:
            candles = dict(synthetic_legs(cfg))
            for item in data:
                symbol, sep, path = item.partition("=")
                if not sep or not symbol or not path:
                    typer.secho(f"error: --data {item!r}: must be SYMBOL=path", fg="red", err=True)
                    raise typer.Exit(2)
                candles[symbol] = load_candles(path)
        result = run_portfolio_backtest(cfg, candles=candles)
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    legs = {
        symbol: {
            k: r.metrics[k]
            for k in ("final_equity", "total_return", "max_drawdown", "fills", "fees", "halted")
        }
        for symbol, r in result.legs.items()
    }
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "portfolio": result.metrics,
                    "legs": legs,
                    "reasons": list(result.reasons["reason"])[:20],
                },
                indent=2,
                default=str,
            )
        )
        return
    table = Table(title="portfolio backtest")
    table.add_column("leg")
    for title in ("final equity", "return", "max drawdown", "fills", "fees", "halted"):
        table.add_column(title, justify="right")
    for symbol, row in legs.items():
        table.add_row(symbol, *(_fmt(v) for v in row.values()))
    Console().print(table)
    m = result.metrics
    typer.echo(
        f"rebalances {m['rebalances']} (shrunk {m['rebalances_shrunk']}, budgeted "
        f"{m['rebalances_budgeted']}), max VaR {_fmt(m['max_var'])} -> after shrink "
        f"{_fmt(m['max_var_after_shrink'])}, worst drawdown {_fmt(m['worst_drawdown'])}, "
        f"total return {_fmt(m['total_return'])}, halted {m['halted']}"
    )
