"""The ``gridhedge`` command: ``gridhedge grid`` prints the grid a price would get."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gridhedge import GridHedgeError, Market, __version__, grid_levels
from gridhedge._core import Grid

app = typer.Typer(
    name="gridhedge",
    help="Grid-based hedging for crypto exchanges, with a Rust core.",
    no_args_is_help=True,
    add_completion=False,
)


class Mode(StrEnum):
    geometric = "geometric"
    arithmetic = "arithmetic"


def _grid_rows(grid: Grid) -> list[dict[str, str | int]]:
    rows: list[dict[str, str | int]] = []
    for level in [*reversed(grid.sells), *grid.buys]:
        rows.append(
            {
                "side": level.side,
                "level": level.index,
                "price": str(level.price),
                "amount": str(level.amount),
                "notional": str(level.notional),
            }
        )
    return rows


@app.command()
def grid(
    price: Annotated[Decimal, typer.Option(help="Center price (quote currency).")] = Decimal(
        "95236.15"
    ),
    symbol: Annotated[str, typer.Option(help="Symbol, for the header only.")] = "BTCUSDT",
    spacing: Annotated[
        Decimal, typer.Option(help="Grid spacing as a fraction: 0.01 is 1%.")
    ] = Decimal("0.01"),
    levels: Annotated[int, typer.Option(help="Levels on each side.")] = 5,
    amount: Annotated[Decimal, typer.Option(help="Amount per level (base currency).")] = Decimal(
        "0.01"
    ),
    mode: Annotated[Mode, typer.Option(help="Level spacing rule.")] = Mode.geometric,
    min_distance: Annotated[
        Decimal, typer.Option(help="Minimum gap between levels (quote currency).")
    ] = Decimal("0"),
    tick: Annotated[str, typer.Option(help="Market tick size.")] = "0.10",
    lot: Annotated[str, typer.Option(help="Market lot size.")] = "0.001",
    min_qty: Annotated[str, typer.Option(help="Market minimum amount.")] = "0.001",
    min_notional: Annotated[str, typer.Option(help="Market minimum notional.")] = "100",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the grid of exact, tick-snapped levels around a price (defaults: BTCUSDT)."""
    try:
        market = Market(tick, lot, min_qty, min_notional)
        g = grid_levels(price, spacing, levels, market, amount, min_distance, mode.value)
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    rows = _grid_rows(g)
    if as_json:
        summary = {
            "symbol": symbol,
            "center": str(price),
            "market": repr(market),
            "levels": rows,
            "merged": g.merged,
            "dropped_nonpositive": g.dropped_nonpositive,
            "dropped_below_minimum": g.dropped_below_minimum,
        }
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(
        title=f"{symbol} grid around {price} ({mode.value}, {spacing} spacing, {levels} a side)",
        caption=f"{market!r}; merged {g.merged}, dropped "
        f"{g.dropped_nonpositive + g.dropped_below_minimum}",
    )
    for col in ("side", "level", "price", "amount", "notional"):
        table.add_column(col, justify="left" if col == "side" else "right")
    for row in rows:
        style = "red" if row["side"] == "sell" else "green"
        table.add_row(*(str(v) for v in row.values()), style=style)
    Console().print(table)


@app.command()
def demo(
    bars: Annotated[int, typer.Option(help="Bars to replay (hourly).", min=10)] = 8760,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.", min=0)] = 7,
    data: Annotated[
        str | None, typer.Option(help="Candle file (CSV/ccxt JSON) instead of synthetic data.")
    ] = None,
) -> None:
    """Run the bot in PAPER mode over a replayed synthetic year (offline, no keys)."""
    from gridhedge.demo import main as run

    try:
        run(bars=bars, seed=seed, data_path=data)
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None


@app.command()
def status(
    db: Annotated[str, typer.Option(help="The bot's SQLite state file.")],
    bot_id: Annotated[
        str | None, typer.Option(help="Bot id (default: the only bot in db).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print a bot's saved state: orders by status, fills, equity, high-water mark."""
    import pathlib
    import sqlite3

    from gridhedge.state.sqlite import SQLiteStateManager

    path = pathlib.Path(db)
    if not path.exists():
        typer.secho(f"error: no state file at {db}", fg="red", err=True)
        raise typer.Exit(2)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT bot_id FROM bots ORDER BY bot_id")]
    if bot_id is None:
        if len(ids) != 1:
            typer.secho(f"error: pass --bot-id, the file holds {ids}", fg="red", err=True)
            raise typer.Exit(2)
        bot_id = ids[0]
    elif bot_id not in ids:
        folded = [i for i in ids if i.lower() == bot_id.lower()]
        if len(folded) != 1:
            typer.secho(
                f"error: --bot-id {bot_id!r} is not in {db}; it holds {ids}", fg="red", err=True
            )
            raise typer.Exit(2)
        bot_id = folded[0]
    try:
        store = SQLiteStateManager(path, bot_id, read_only=True)  # beside a running bot
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        summary = store.summary()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"gridhedge state of {bot_id}", show_header=False)
    for key, value in summary.items():
        table.add_row(
            key, json.dumps(value, default=str) if isinstance(value, dict) else str(value)
        )
    Console().print(table)


@app.command()
def version() -> None:
    """Print the gridhedge version."""
    typer.echo(__version__)


def _register_subcommands() -> None:
    from gridhedge.backtest.cli import backtest, data_app, optimize
    from gridhedge.live.cli import run
    from gridhedge.portfolio.cli import app as portfolio_app
    from gridhedge.sim.cli import app as sim_app

    app.add_typer(sim_app, name="sim", help="Run the local Binance USD-M exchange emulator.")
    app.command("run")(run)
    app.command("backtest")(backtest)
    app.command("optimize")(optimize)
    app.add_typer(portfolio_app, name="portfolio")
    app.add_typer(data_app, name="data")
    from gridhedge.risk.cli import resume

    app.command("resume")(resume)


_register_subcommands()


def main() -> None:
    """Entry point of the ``gridhedge`` console script."""
    app()
