"""``gridhedge resume``: lift a bot's drawdown halt from its saved state, with a reason.

A halted bot keeps its hedge at the safe hedge with a protective stop and no grid until the
trader resumes it: from a running program ``GridHedgeBot.resume(reason)``, or with this
command against the bot's SQLite state while the bot is stopped (the state file is locked
while a bot runs). The reason is logged and recorded as a risk event; the drawdown restarts
from the equity at the next rebalance (the high-water mark is reset).
"""

from __future__ import annotations

import pathlib
import time
from typing import Annotated

import typer
from loguru import logger
from rich.console import Console

from gridhedge.errors import GridHedgeError


def resume(
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why trading may resume (logged and recorded).")
    ],
    config: Annotated[
        pathlib.Path | None,
        typer.Option("--config", "-c", help="The bot's YAML config (state_path, bot_id)."),
    ] = None,
    state_path: Annotated[
        pathlib.Path | None, typer.Option("--state", help="The bot's SQLite state file.")
    ] = None,
    bot_id: Annotated[
        str | None, typer.Option("--bot-id", help="The bot's id (default from the config).")
    ] = None,
    symbol: Annotated[
        str, typer.Option(help="Symbol, for the default bot id <symbol>-grid.")
    ] = "BTCUSDT",
) -> None:
    """Lift a drawdown halt: the grid trades again from the bot's next rebalance."""
    from gridhedge.grid.config import GridHedgeConfig
    from gridhedge.state.sqlite import SQLiteStateManager

    console = Console()
    try:
        if not reason.strip():
            raise GridHedgeError(
                "resume needs a reason (it is logged and recorded)",
                field="reason",
                value=repr(reason),
                rule="must be a non-empty sentence",
            )
        cfg = GridHedgeConfig.load(config) if config is not None else None
        path = state_path or (cfg.state.state_path if cfg is not None else None)
        if path is None:
            raise GridHedgeError(
                "no state file: give --state or a config with state_path",
                field="state_path",
                value="None",
                rule="must name the bot's SQLite state file",
            )
        if not pathlib.Path(path).exists():
            raise GridHedgeError(
                f"state file {path} does not exist",
                field="state_path",
                value=str(path),
                rule="must be an existing bot state file",
            )
        bid = bot_id or (cfg.state.bot_id if cfg is not None else None)
        bid = bid or f"{symbol.lower()}-grid"
        store = SQLiteStateManager(path, bid)
        try:
            saved = store.load()
            was = bool(saved.get("halted", False))
            policy = dict(saved.get("policy", {}))
            policy["halt_age"] = 0
            store.save({"halted": False, "high_water_mark": "0", "policy": policy})
            store.record_risk_event(int(time.time() * 1000), "resume", reason)
        finally:
            store.close()
    except GridHedgeError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(code=2) from e
    logger.warning("Resumed bot {} (was halted: {}): {}", bid, was, reason)
    console.print(
        f"bot {bid}: {'halt lifted' if was else 'was not halted'}; "
        "the drawdown restarts at the next rebalance"
    )
