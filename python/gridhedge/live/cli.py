"""``gridhedge run -c CONFIG.yaml``: leave the bot running on one symbol until SIGINT/SIGTERM.

Without ``--live`` it is a dry run: PAPER on the exchange's live data (ticker, closed klines,
funding through ccxt's public endpoints, no keys), fills from the one fill model on each
closed bar, state in SQLite. ``--live`` trades for real (keys from ``GRIDHEDGE_API_KEY`` /
``GRIDHEDGE_API_SECRET`` or a key file); ``--mode recommendation`` reads the real account and
places nothing. The YAML is the bot's config (``python/gridhedge/config/examples/
grid_hedge.yaml``) plus an optional ``live:`` section (``LiveSettings``); options override it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import signal
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridhedge.errors import ConfigError, GridHedgeError
from gridhedge.live.runner import LiveRunner

__all__ = ["LiveSettings", "build", "run"]


class LiveSettings(BaseModel):
    """The ``live:`` section of a ``gridhedge run`` config."""

    model_config = ConfigDict(extra="forbid")

    exchange: str = "binanceusdm"
    """The futures account: ``binanceusdm`` (Binance USD-M), ``bybit`` (USDT linear) or
    ``okx`` (USDT swaps)."""
    symbol: str = "BTCUSDT"
    """ccxt's symbol of the perpetual (``BTC/USDT:USDT``) on every exchange; Binance also
    accepts its own id (``BTCUSDT``, the default, kept so that an existing bot keeps its
    default id, state file and client order ids)."""
    base_url: str | None = None
    """Point ccxt at this URL instead of the exchange (``gridhedge sim``)."""
    testnet: bool = False
    """The exchange's demo/testnet environment."""
    spot_exchange: str | None = None
    """The same exchange's spot account holding the inventory (``binance``, ``bybit``,
    ``okx``); None: use ``spot_amount``."""
    spot_amount: Decimal = Decimal("1")
    """Inventory to hedge (base currency) when no spot account is read."""
    cash: Decimal = Decimal("0")
    """A dry run's starting quote cash (its equity is cash + inventory + futures PnL)."""
    key_file: pathlib.Path | None = None
    """A key file outside the repository (else the environment's keys)."""
    on_exit: Literal["keep", "cancel"] = "keep"
    """On SIGINT/SIGTERM: keep this bot's orders on the exchange, or cancel them."""


class RunMode(StrEnum):
    paper = "paper"
    recommendation = "recommendation"
    real = "real"


def _split_config(path: str | None) -> tuple[dict[str, Any], LiveSettings]:
    from gridhedge.grid.config import _read_yaml

    raw: dict[str, Any] = {} if path is None else dict(_read_yaml(pathlib.Path(path)))
    live = raw.pop("live", None) or {}
    if not isinstance(live, dict):
        raise ConfigError(
            "live: must be a mapping of settings",
            field="live",
            value=type(live).__name__,
            rule="a YAML mapping",
        )
    try:
        return raw, LiveSettings(**live)
    except ValidationError as e:
        err = e.errors()[0]
        name = "live." + ".".join(str(x) for x in err["loc"])
        raise ConfigError(
            f"{name}: {err['msg']} (got {err.get('input')!r})",
            field=name,
            value=repr(err.get("input")),
            rule=err["msg"],
        ) from None


def _default_state_path(bot_id: str, dry: bool) -> pathlib.Path:
    base = os.environ.get("XDG_DATA_HOME") or str(pathlib.Path.home() / ".local/share")
    return pathlib.Path(base) / "gridhedge" / f"{bot_id}{'-dry-run' if dry else ''}.sqlite"


async def build(
    config: dict[str, Any],
    live: LiveSettings,
    mode: RunMode,
    *,
    state_path: str | pathlib.Path | None = None,
    interval_s: float | None = None,
    status: Any = None,
) -> LiveRunner:
    """The ``LiveRunner`` for ``mode`` (its bot not started yet; the runner starts it;
    ``await runner.close()`` releases the exchange connections and the state file)."""
    from gridhedge.execution.ccxt_broker import (
        CcxtBroker,
        CcxtDataProvider,
        LiveRecommendationBroker,
        make_exchange,
    )
    from gridhedge.execution.secrets import ApiKeys, load_api_keys
    from gridhedge.grid.bot import GridHedgeBot, default_bot_id
    from gridhedge.grid.config import GridHedgeConfig
    from gridhedge.live.feed import LiveFeed

    cfg = GridHedgeConfig.load(config)
    bot_id = cfg.state.bot_id or default_bot_id(live.symbol)
    dry = mode is RunMode.paper
    path = pathlib.Path(state_path) if state_path else cfg.state.state_path
    if path is None:
        path = _default_state_path(bot_id, dry)
    cfg = cfg.model_copy(update={"state": cfg.state.model_copy(update={"state_path": path})})
    # a dry run reads public endpoints only: no keys are loaded, none are needed
    no_keys = ApiKeys(api_key=SecretStr(""), secret=SecretStr(""))
    keys = no_keys if dry else load_api_keys(key_file=live.key_file)
    exchange = make_exchange(
        keys, exchange_id=live.exchange, base_url=live.base_url, testnet=live.testnet
    )
    spot = (
        make_exchange(
            keys,
            exchange_id=live.spot_exchange,
            base_url=live.base_url,
            testnet=live.testnet,
            spot=True,
        )
        if live.spot_exchange and not dry
        else None
    )
    source = CcxtDataProvider(exchange)
    broker: Any
    feed: LiveFeed | None = None
    try:
        if dry:
            from gridhedge.execution.paper import PaperBroker

            rules = CcxtBroker(exchange, data_provider=source)
            market = await rules.load_market(live.symbol)
            feed = await LiveFeed.open(
                source, live.symbol, cfg.data.timeframe, cfg.data.history_bars
            )
            broker = PaperBroker(
                feed,
                market=market,
                spot_amount=live.spot_amount,
                cash=live.cash,
                maker_fee=cfg.execution.maker_fee,
                taker_fee=cfg.execution.taker_fee,
                participation=cfg.execution.participation,
            )
            provider: Any = feed
        else:
            cls = LiveRecommendationBroker if mode is RunMode.recommendation else CcxtBroker
            broker = cls(exchange, spot=spot, spot_amount=live.spot_amount, data_provider=source)
            provider = source
    except BaseException:
        await exchange.close()
        if spot is not None:
            await spot.close()
        raise
    bot = GridHedgeBot(broker, provider, live.symbol, config=cfg, bot_id=bot_id)
    runner = LiveRunner(bot, interval_s=interval_s, on_exit=live.on_exit, feed=feed, status=status)

    async def close() -> None:
        await exchange.close()
        if spot is not None:
            await spot.close()
        closer = getattr(bot.state, "close", None)
        if closer is not None:
            closer()

    runner.on_close = close
    return runner


def run(
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="YAML: the bot's settings plus a 'live:' section."),
    ] = None,
    live_trading: Annotated[
        bool, typer.Option("--live", help="Trade for real (needs API keys). Default: dry run.")
    ] = False,
    mode: Annotated[
        RunMode | None,
        typer.Option(help="paper (dry run, the default), recommendation, or real (= --live)."),
    ] = None,
    exchange: Annotated[str | None, typer.Option(help="ccxt exchange id.")] = None,
    symbol: Annotated[str | None, typer.Option(help="The exchange's market id.")] = None,
    state: Annotated[str | None, typer.Option(help="SQLite state file.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Exchange URL override (e.g. a 'gridhedge sim').")
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds between rebalances (default: execution.rebalance_interval).", min=0
        ),
    ] = None,
    on_exit: Annotated[
        str | None, typer.Option(help="keep (default) or cancel this bot's orders on exit.")
    ] = None,
    max_rebalances: Annotated[
        int | None, typer.Option(help="Stop after this many rebalances (default: never).", min=1)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No status line per rebalance.")] = False,
) -> None:
    """Run the bot on one symbol until SIGINT/SIGTERM: a dry run on live prices by default,
    --live for real money."""
    console = Console(stderr=False)
    try:
        raw, live = _split_config(config)
        updates = {
            k: v
            for k, v in {
                "exchange": exchange,
                "symbol": symbol,
                "base_url": base_url,
                "on_exit": on_exit,
            }.items()
            if v is not None
        }
        live = LiveSettings(**{**live.model_dump(), **updates})
    except ValidationError as e:
        err = e.errors()[0]
        typer.secho(f"error: --{err['loc'][0]}: {err['msg']}", fg="red", err=True)
        raise typer.Exit(2) from None
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    if live_trading and mode not in (None, RunMode.real):
        typer.secho("error: --live and --mode are exclusive", fg="red", err=True)
        raise typer.Exit(2)
    chosen = RunMode.real if live_trading else (mode or RunMode.paper)

    def status_line(line: str) -> None:
        if not quiet:
            console.print(escape(line), highlight=False, soft_wrap=True)

    async def go() -> Any:
        runner = await build(
            raw, live, chosen, state_path=state, interval_s=interval, status=status_line
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, runner.stop)
        what = {
            RunMode.paper: "DRY RUN (PAPER on live prices; nothing is sent)",
            RunMode.recommendation: "RECOMMENDATION (reads the account; places nothing)",
            RunMode.real: "LIVE: REAL ORDERS WITH REAL MONEY",
        }[chosen]
        console.print(
            escape(
                f"gridhedge run: {live.symbol} on {live.exchange}"
                f"{' at ' + live.base_url if live.base_url else ''}: {what}; "
                f"on exit: {live.on_exit} this bot's orders; Ctrl-C or SIGTERM to stop"
            ),
            highlight=False,
        )
        try:
            return await runner.run(max_rebalances)
        finally:
            await runner.close()

    try:
        summary = asyncio.run(go())
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2 if isinstance(e, ConfigError) else 1) from None
    table = Table(title="gridhedge run: summary", show_header=False)
    for label, value in summary.lines():
        table.add_row(label, escape(value))
    console.print(table)
