"""CLI commands of the backtester: ``gridhedge backtest``, ``gridhedge optimize``,
``gridhedge data fetch`` (registered in ``gridhedge.cli``)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gridhedge.data.candles import Candles
from gridhedge.errors import GridHedgeError
from gridhedge.grid.config import GridHedgeConfig


def _candles(data: str | None, config: GridHedgeConfig, bars: int, seed: int) -> Candles:
    from gridhedge.backtest.data import load_any

    if data is not None:
        return load_any(data)
    if config.data.source == "file" and config.data.path is not None:
        return load_any(config.data.path)
    from gridhedge.data.synthetic import synthetic_candles

    return synthetic_candles(seed=seed, bars=bars, timeframe=config.data.timeframe)


def _fail(e: Exception) -> typer.Exit:
    typer.secho(f"error: {e}", fg="red", err=True)
    return typer.Exit(2)


def backtest(
    config: Annotated[str | None, typer.Option(help="Bot config (YAML).")] = None,
    data: Annotated[
        str | None, typer.Option(help="Candles: .csv, .json (ccxt rows) or .parquet.")
    ] = None,
    report: Annotated[
        str | None, typer.Option(help="Directory for report.html, PNGs, metrics, events.")
    ] = None,
    symbol: Annotated[
        str, typer.Option(help="Market symbol (its tick and lot rules).")
    ] = "BTCUSDT",
    bars: Annotated[int, typer.Option(help="Synthetic bars when no data is given.", min=20)] = 8760,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market.", min=0)] = 7,
    spot: Annotated[str, typer.Option(help="Spot inventory hedged (base units).")] = "1",
    allow_gaps: Annotated[
        bool, typer.Option("--allow-gaps", help="Run across missing bars instead of failing.")
    ] = False,
    baseline_rebalance: Annotated[
        int,
        typer.Option(
            help="Bars between rebalances of the static-hedge baseline (0: opened once).", min=0
        ),
    ] = 0,
) -> None:
    """Backtest the bot's own policy over candles (synthetic by default) and print metrics:
    PnL beside the unhedged and static-hedge baselines, the excess over the static hedge with
    its 95% bootstrap interval, the PnL attribution and the VaR backtest."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gridhedge.backtest.engine import run_backtest

    try:
        cfg = GridHedgeConfig.load(config)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()
        ) as progress:
            task = progress.add_task("loading candles", total=3)
            candles = _candles(data, cfg, bars, seed)
            progress.update(task, advance=1, description=f"backtesting {len(candles)} bars")
            t0 = time.perf_counter()
            result = run_backtest(
                cfg,
                candles,
                symbol=symbol,
                spot_amount=spot,
                allow_gaps=allow_gaps,
                baseline_rebalance_bars=baseline_rebalance,
            )
            elapsed = time.perf_counter() - t0
            progress.update(task, advance=1, description="writing the report")
            if report is not None:
                from gridhedge.backtest.report import write_report

                write_report(result, report, title=f"gridhedge backtest {symbol}")
            progress.update(task, advance=1, description="done")
    except GridHedgeError as e:
        raise _fail(e) from None
    m = result.metrics
    typer.echo(
        f"{m['bars']} bars in {elapsed:.3f} s ({elapsed / max(1, m['bars']) * 1e9:.0f} ns/bar)"
    )
    from gridhedge.backtest.report import summary_rows

    for label, value in summary_rows(result):
        typer.echo(f"  {label:<34} {value}")
    if report is not None:
        typer.echo(f"report: {Path(report) / 'report.html'}")


def optimize(
    space: Annotated[str, typer.Option(help="Search space (YAML): metric, params, trials.")],
    config: Annotated[str | None, typer.Option(help="Base bot config (YAML).")] = None,
    data: Annotated[str | None, typer.Option(help="Candles file (.csv/.json/.parquet).")] = None,
    trials: Annotated[int | None, typer.Option(help="Override the space's trial count.")] = None,
    symbol: Annotated[str, typer.Option(help="Market symbol.")] = "BTCUSDT",
    bars: Annotated[int, typer.Option(help="Synthetic bars when no data is given.", min=20)] = 8760,
    seed: Annotated[int, typer.Option(help="Seed of the data and of the sampler.", min=0)] = 7,
    backend: Annotated[
        str, typer.Option(help="'optuna' (TPE + pruning) or 'ray' (grid sweep on Ray).")
    ] = "optuna",
    out: Annotated[str | None, typer.Option(help="Write the trials table here (CSV).")] = None,
) -> None:
    """Search the config space for the best backtest metric."""
    from gridhedge.backtest.optimize import load_space
    from gridhedge.backtest.optimize import optimize as run_optuna

    try:
        cfg = GridHedgeConfig.load(config)
        sp = load_space(space)
        candles = _candles(data, cfg, bars, seed)
        if backend == "optuna":
            best, table = run_optuna(cfg, sp, candles, symbol=symbol, seed=seed, trials=trials)
        elif backend == "ray":
            best, table = _ray_grid(cfg, sp, candles, symbol)
        else:
            raise typer.BadParameter("must be 'optuna' or 'ray'", param_hint="--backend")
    except GridHedgeError as e:
        raise _fail(e) from None
    typer.echo(json.dumps({"metric": sp.metric, "best": best}, default=str))
    if out is not None:
        table.to_csv(out, index=False)


def _ray_grid(cfg: GridHedgeConfig, sp: Any, candles: Candles, symbol: str) -> tuple[Any, Any]:
    """A grid over the space (5 points per numeric range) swept on Ray."""
    import numpy as np

    from gridhedge.backtest.sweep import grid_of, sweep

    values: dict[str, list[Any]] = {}
    for p in sp.params:
        if p.choices is not None:
            values[p.name] = list(p.choices)
        else:
            pts = np.geomspace(p.low, p.high, 5) if p.log else np.linspace(p.low, p.high, 5)
            values[p.name] = sorted({round(float(x)) for x in pts} if p.integer else list(pts))
    table = sweep(cfg, grid_of(values), candles, symbol=symbol, backend="ray")
    col = table[sp.metric]
    best_row = table.loc[col.idxmax() if sp.direction == "maximize" else col.idxmin()]
    return {p.name: best_row[p.name] for p in sp.params}, table


data_app = typer.Typer(help="Market data: fetch candles through ccxt.", no_args_is_help=True)


def _parse_since(since: str | None) -> int | None:
    if since is None:
        return None
    if since.isdigit():
        return int(since)
    try:
        dt = datetime.fromisoformat(since)
    except ValueError:
        raise typer.BadParameter(
            f"{since!r} is neither ms since the epoch nor an ISO date", param_hint="--since"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


@data_app.command("fetch")
def fetch(
    symbol: Annotated[str, typer.Option(help="ccxt symbol, e.g. BTC/USDT:USDT.")],
    out: Annotated[str, typer.Option(help="Output file: .csv, .json or .parquet.")],
    exchange: Annotated[str, typer.Option(help="ccxt exchange id.")] = "binance",
    timeframe: Annotated[str, typer.Option(help="Bar length: 1m or 1h.")] = "1h",
    since: Annotated[
        str | None, typer.Option(help="Start: ms since the epoch or an ISO date (UTC).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Bars to fetch.", min=1, max=5_000_000)] = 1000,
    funding: Annotated[
        bool,
        typer.Option(
            help="Also fetch the funding-rate history over the bars (perpetuals), written "
            "beside the candles as <stem>.funding.csv."
        ),
    ] = True,
    url: Annotated[
        str | None,
        typer.Option(help="API base URL of a Binance-compatible server (a local gridhedge sim)."),
    ] = None,
) -> None:
    """Fetch OHLCV candles (and the funding-rate history) through ccxt into a candle file."""
    if timeframe not in ("1m", "1h"):
        raise typer.BadParameter("must be 1m or 1h", param_hint="--timeframe")
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".json", ".parquet"):
        raise typer.BadParameter("must end in .csv, .json or .parquet", param_hint="--out")
    start = _parse_since(since)
    from gridhedge.backtest.data import ccxt_exchange, fetch_funding, fetch_ohlcv, save_parquet
    from gridhedge.data.files import funding_sidecar, save_candles, save_funding

    try:
        candles = fetch_ohlcv(exchange, symbol, timeframe, start, limit, base_url=url)
        rates = None
        if funding and len(candles):
            ex = ccxt_exchange(exchange, url)
            bar = 60_000 if timeframe == "1m" else 3_600_000
            rates = fetch_funding(
                ex, symbol, int(candles.timestamp[0]), int(candles.timestamp[-1]) + bar
            )
    except GridHedgeError as e:
        raise _fail(e) from None
    if suffix == ".parquet":
        save_parquet(candles, out)
    else:
        save_candles(candles, out)
    typer.echo(f"{len(candles)} bars -> {out}")
    if rates is not None:
        side = save_funding(funding_sidecar(out), *rates)
        typer.echo(f"{len(rates[0])} funding rates ({exchange} {symbol}) -> {side}")
