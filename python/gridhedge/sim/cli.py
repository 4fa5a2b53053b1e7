"""``gridhedge sim``: run the exchange emulator on 127.0.0.1 for your own scripts.

Point ccxt at it with ``gridhedge.sim.client.binanceusdm(url, key, secret)`` (``--dialect
bybit``: ``gridhedge.sim.client.bybit(...)``), or ``gridhedge run`` with ``base_url``;
advance the replay clock with ``POST /_sim/advance`` or ``--bars-per-second``.
``--correlated`` serves BTCUSDT and ETHUSDT from the correlated synthetic generator
(``gridhedge.data.correlated``), for ``gridhedge portfolio`` in mode REAL.

The API secret is read from an environment variable (``--api-secret-env``, default
``GRIDHEDGE_SIM_API_SECRET``) or a file (``--api-secret-file``), never from the command line
(which ``ps`` shows); without either, the built-in test secret ``sim-secret``. ``--state FILE``
keeps the accounts, orders, trades and clock across restarts (SQLite).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, cast, get_args

import typer

from gridhedge._core import Market
from gridhedge.data.synthetic import Timeframe, synthetic_candles
from gridhedge.errors import ConfigError, GridHedgeError, InvalidInputError
from gridhedge.sim.engine import DAY_MS, SimExchange, SymbolSpec
from gridhedge.sim.faults import Faults
from gridhedge.sim.limits import Limits
from gridhedge.sim.replay import Bars
from gridhedge.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimServer
from gridhedge.sim.store import SimStore

__all__ = ["SECRET_ENV", "app", "correlated_exchange", "load_bars", "read_secret"]

SECRET_ENV = "GRIDHEDGE_SIM_API_SECRET"


def read_secret(env: str, path: Path | None) -> str:
    """The emulator's API secret: the file's content (stripped) if a file is named, else the
    environment variable ``env`` if set, else the built-in test secret."""
    if path is not None:
        try:
            secret = path.read_text().strip()
        except OSError as e:
            raise ConfigError(
                f"api_secret_file: cannot read {str(path)!r} ({e.strerror})",
                field="api_secret_file",
                value=str(path),
                rule="must be a readable file holding the secret",
            ) from None
        if not secret:
            raise ConfigError(
                f"api_secret_file: {str(path)!r} is empty",
                field="api_secret_file",
                value=str(path),
                rule="must hold the secret",
            )
        return secret
    return os.environ.get(env) or DEFAULT_API_SECRET


app = typer.Typer(help="Run the local Binance USD-M emulator.", add_completion=False)


def load_bars(
    data: Path | None, *, seed: int, bars: int, timeframe: str, start_price: float
) -> Bars:
    """Bars from a CSV file (``timestamp,open,high,low,close,volume``) or, without one, from
    ``gridhedge.data.synthetic`` under ``seed`` (with its funding series)."""
    if data is not None:
        try:
            return Bars.from_csv(data)
        except (ValueError, KeyError, IndexError) as e:
            if isinstance(e, InvalidInputError):
                raise
            rule = "must be a CSV of timestamp,open,high,low,close,volume"
            raise InvalidInputError(
                f"--data {str(data)!r}: {rule} ({type(e).__name__}: {e})",
                field="--data",
                value=str(data),
                rule=rule,
            ) from None
    if timeframe not in get_args(Timeframe):
        raise InvalidInputError(
            f"timeframe: must be one of {', '.join(get_args(Timeframe))} (got {timeframe!r})",
            field="timeframe",
            value=repr(timeframe),
            rule=f"one of {', '.join(get_args(Timeframe))}",
        )
    candles = synthetic_candles(
        seed=seed, bars=bars, timeframe=cast(Timeframe, timeframe), start_price=start_price
    )
    return Bars.from_candles(candles)


def correlated_exchange(
    *,
    seed: int = 7,
    bars: int = 2000,
    warmup: int = 600,
    wallet: str = "250000",
    spot: dict[str, str] | None = None,
    **kw: Any,
) -> SimExchange:
    """An emulator exchange of BTCUSDT and ETHUSDT on the correlated synthetic market (hourly
    return correlation near 0.8, ETH 1.3 times as volatile) with the built-in Binance USD-M
    rules, ``warmup`` bars already closed, and spot inventory (default 1 BTC, 30 ETH)."""
    from gridhedge.data.correlated import BTC_ETH, correlated_candles
    from gridhedge.execution.paper import default_market

    candles = correlated_candles(BTC_ETH, seed=seed, bars=bars)
    specs = [
        SymbolSpec(s, s.removesuffix("USDT"), default_market(s), Bars.from_candles(c))
        for s, c in candles.items()
    ]
    return SimExchange(
        specs,
        start_bar=min(warmup, bars - 1),
        wallet_usdt=wallet,
        spot_balances=spot if spot is not None else {"BTC": "1", "ETH": "30", "USDT": "0"},
        **kw,
    )


@app.callback(invoke_without_command=True)
def sim(
    port: Annotated[
        int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port).", min=0, max=65535)
    ] = 8765,
    data: Annotated[
        Path | None, typer.Option(help="Candle CSV to replay (default: synthetic bars).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic bars and fault draws.")] = 0,
    bars: Annotated[int, typer.Option(help="Synthetic bars to generate.")] = 2000,
    timeframe: Annotated[str, typer.Option(help="Synthetic timeframe.")] = "1h",
    start_price: Annotated[float, typer.Option(help="Synthetic start price.")] = 60_000.0,
    symbol: Annotated[str, typer.Option(help="Perpetual symbol.")] = "BTCUSDT",
    base: Annotated[str, typer.Option(help="Base asset.")] = "BTC",
    tick: Annotated[str, typer.Option(help="Tick size.")] = "0.10",
    lot: Annotated[str, typer.Option(help="Lot size.")] = "0.001",
    min_notional: Annotated[str, typer.Option(help="Minimum notional (quote).")] = "100",
    warmup: Annotated[int, typer.Option(help="Bars already closed at start.")] = 200,
    wallet: Annotated[str, typer.Option(help="Futures USDT wallet balance.")] = "10000",
    spot_base: Annotated[str, typer.Option(help="Spot inventory of the base asset.")] = "1",
    bars_per_second: Annotated[
        float, typer.Option(help="Advance the replay clock on its own (0: only on request).")
    ] = 0.0,
    api_key: Annotated[str, typer.Option(help="Accepted API key.")] = DEFAULT_API_KEY,
    api_secret_env: Annotated[
        str, typer.Option(help="Environment variable holding its secret (unset: sim-secret).")
    ] = SECRET_ENV,
    api_secret_file: Annotated[
        Path | None, typer.Option(help="File holding its secret (wins over the variable).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="SQLite file keeping accounts, orders, trades and clock on restart."),
    ] = None,
    weight_limit: Annotated[
        int, typer.Option(help="Request weight per minute (Binance: 2400; 0: off).")
    ] = 2400,
    order_rate: Annotated[
        int, typer.Option(help="New orders per 10 s (Binance: 300; per minute 4x; 0: off).")
    ] = 300,
    max_open_orders: Annotated[
        int, typer.Option(help="Open orders per symbol (MAX_NUM_ORDERS; Binance: 200).")
    ] = 200,
    trades_window_days: Annotated[
        int, typer.Option(help="Longest userTrades span in days (Binance: 7).")
    ] = 7,
    dialect: Annotated[
        str,
        typer.Option(
            help="REST API spoken: binance (USD-M futures + spot) or bybit (v5: linear "
            "perpetuals, unified wallet); the same engine and fill model under both."
        ),
    ] = "binance",
    correlated: Annotated[
        bool,
        typer.Option(
            help="Serve BTCUSDT and ETHUSDT from the correlated synthetic generator (seed, "
            "bars, warmup and wallet apply; 1 BTC and 30 ETH spot) for a REAL portfolio."
        ),
    ] = False,
) -> None:
    """Serve Binance USD-M futures (and spot balances), or Bybit v5 (``--dialect bybit``),
    on 127.0.0.1 over replayed bars."""
    if dialect not in ("binance", "bybit"):
        typer.secho(
            f"error: dialect: must be binance or bybit (got {dialect!r})", fg="red", err=True
        )
        raise typer.Exit(2)
    try:
        secret = read_secret(api_secret_env, api_secret_file)
        store = SimStore(state) if state is not None else None
        extra: dict[str, Any] = {"store": store, "trades_window_ms": trades_window_days * DAY_MS}
        if correlated:
            exchange = correlated_exchange(
                seed=seed, bars=bars, warmup=warmup, wallet=wallet, **extra
            )
        else:
            series = load_bars(
                data, seed=seed, bars=bars, timeframe=timeframe, start_price=start_price
            )
            spec = SymbolSpec(
                symbol.upper(),
                base.upper(),
                Market(tick, lot, lot, min_notional),
                series,
                max_num_orders=max_open_orders,
            )
            exchange = SimExchange(
                [spec],
                start_bar=min(warmup, len(series) - 1),
                wallet_usdt=wallet,
                spot_balances={base.upper(): spot_base, "USDT": "0"},
                **extra,
            )
    except GridHedgeError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    server = SimServer(
        exchange,
        faults=Faults(seed=seed),
        secrets={api_key: secret},
        port=port,
        bars_per_second=bars_per_second,
        limits=Limits(weight_limit, order_rate, 4 * order_rate),
        dialect=dialect,
    )
    asyncio.run(_serve(server))


async def _serve(server: SimServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    typer.echo(f"gridhedge sim: {server.url}  (admin: {server.url}/_sim/state)")
    sys.stdout.flush()  # a parent reading the URL from a pipe gets it now
    try:
        await stop.wait()
    finally:
        await server.stop()
