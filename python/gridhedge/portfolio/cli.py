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
from rich.markup import escape
from rich.table import Table

from gridhedge._fmt import count, flag, money, pct, ratio
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
    ("exposure", "exposure", money),
    ("hedge_ratio", "hedge ratio", ratio),
    ("var_contribution", "VaR contribution", money),
    ("standalone_var", "VaR alone", money),
    ("multiplier", "band scale", ratio),
    ("funding_carry", "funding carry", money),
)
"""Status key, column title, how it reads (money to the cent; ratios to 3 decimals)."""

LEG_METRICS = (
    ("final_equity", "final equity", money),
    ("total_return", "return", pct),
    ("max_drawdown", "max drawdown", pct),
    ("fills", "fills", count),
    ("fees", "fees", money),
    ("halted", "halted", flag),
)


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
    table = Table(title=escape(f"portfolio ({p.get('mode')}) after {steps} rebalance(s)"))
    table.add_column("leg")
    for _, title, _f in COLUMNS:
        table.add_column(title, justify="right")
    for symbol, row in status["legs"].items():
        table.add_row(escape(symbol), *(f(row.get(key)) for key, _, f in COLUMNS))
    table.add_row(
        "portfolio",
        money(p.get("exposure")),
        "-",
        money(p.get("var")),
        "-",
        "-",
        money(p.get("funding_carry")),
        style="bold",
    )
    Console().print(table)
    typer.echo(
        f"VaR {money(p.get('var'))} / limit {money(p.get('var_limit'))} (after shrink "
        f"{money(p.get('var_after_shrink'))}), CVaR {money(p.get('cvar'))}, historical VaR "
        f"{money(p.get('historical_var'))}, drawdown {pct(p.get('drawdown'))}, "
        f"halted {flag(p.get('halted'))}"
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
        symbol: {k: r.metrics[k] for k, _, _f in LEG_METRICS} for symbol, r in result.legs.items()
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
    for _, title, _f in LEG_METRICS:
        table.add_column(title, justify="right")
    for symbol, row in legs.items():
        table.add_row(escape(symbol), *(f(row[k]) for k, _, f in LEG_METRICS))
    Console().print(table)
    m = result.metrics
    typer.echo(
        f"rebalances {count(m['rebalances'])} (shrunk {count(m['rebalances_shrunk'])}, "
        f"budgeted {count(m['rebalances_budgeted'])}), max VaR {money(m['max_var'])} -> after "
        f"shrink {money(m['max_var_after_shrink'])}, worst drawdown {pct(m['worst_drawdown'])}, "
        f"total return {pct(m['total_return'])}, halted {flag(m['halted'])}"
    )
