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
    walk_forward: Annotated[
        bool,
        typer.Option(
            "--walk-forward",
            help="Optimise on rolling training windows and test each choice on the next "
            "window (out of sample); prints one row per fold.",
        ),
    ] = False,
    train_bars: Annotated[
        int, typer.Option(help="Walk-forward: bars in each training window.", min=10)
    ] = 4380,
    test_bars: Annotated[
        int, typer.Option(help="Walk-forward: bars in each test window (and the roll).", min=3)
    ] = 2190,
) -> None:
    """Search the config space for the best backtest metric (in sample, or walk-forward with
    out-of-sample excess over the static hedge per fold)."""
    from gridhedge.backtest.optimize import load_space
    from gridhedge.backtest.optimize import optimize as run_optuna

    try:
        cfg = GridHedgeConfig.load(config)
        sp = load_space(space)
        candles = _candles(data, cfg, bars, seed)
        if walk_forward:
            _walk_forward(cfg, sp, candles, symbol, seed, trials, train_bars, test_bars, out)
            return
        if backend == "optuna":
            best, table = _with_progress(
                "trials",
                trials if trials is not None else sp.trials,
                lambda tick: run_optuna(
                    cfg, sp, candles, symbol=symbol, seed=seed, trials=trials, on_trial=tick
                ),
            )
        elif backend == "ray":
            best, table = _ray_grid(cfg, sp, candles, symbol)
        else:
            raise typer.BadParameter("must be 'optuna' or 'ray'", param_hint="--backend")
    except GridHedgeError as e:
        raise _fail(e) from None
    _print_trials(table, sp.metric, sp.direction)
    typer.echo(json.dumps({"metric": sp.metric, "best": best}, default=str))
    if out is not None:
        table.to_csv(out, index=False)


def _with_progress(what: str, total: int, work: Any) -> Any:
    """Run ``work(tick)`` under a progress bar of ``total`` steps (``tick()`` advances it)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bar:
        task = bar.add_task(what, total=max(1, total))
        return work(lambda *_: bar.advance(task))


def _print_trials(table: Any, metric: str, direction: str) -> None:
    """The best trials as a table."""
    from rich.console import Console
    from rich.table import Table

    if "value" not in table or not len(table):
        return
    done = table[table["state"] == "COMPLETE"] if "state" in table else table
    top = done.sort_values("value", ascending=direction == "minimize").head(10)
    params = [c for c in top.columns if c.startswith("params_")]
    t = Table(title=f"best trials by {metric} ({direction}), in sample")
    for c in ["trial", *[p.removeprefix("params_") for p in params], metric]:
        t.add_column(c, justify="right")
    for _, row in top.iterrows():
        t.add_row(
            str(row.get("number", "")),
            *[_fmt(row[p]) for p in params],
            _fmt(row["value"]),
        )
    Console(width=160).print(t)


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def _walk_forward(
    cfg: GridHedgeConfig,
    sp: Any,
    candles: Candles,
    symbol: str,
    seed: int,
    trials: int | None,
    train_bars: int,
    test_bars: int,
    out: str | None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from gridhedge.backtest.optimize import check_trials, pooled_excess, walk_forward

    n_trials = check_trials(trials if trials is not None else sp.trials)
    folds_n = max(0, (len(candles) - train_bars - test_bars) // test_bars + 1)
    folds, table = _with_progress(
        f"walk-forward ({folds_n} folds x {n_trials} trials)",
        folds_n * (n_trials + 1),
        lambda tick: walk_forward(
            cfg,
            sp,
            candles,
            train_bars=train_bars,
            test_bars=test_bars,
            symbol=symbol,
            seed=seed,
            trials=n_trials,
            progress=tick,
        ),
    )
    t = Table(title=f"walk-forward: trained on {sp.metric}, tested out of sample (USD)")
    params = [c for c in table.columns if c.startswith("best.")]
    cols = [
        "fold",
        "test",
        *params,
        "test_pnl",
        "static_pnl",
        "excess",
        "95% CI",
        "t",
        "base_excess",
    ]
    for c in cols:
        t.add_column(c.removeprefix("best."), justify="right")
    for _, r in table.iterrows():
        ci = (
            f"{r['excess_ci_low']:,.0f} .. {r['excess_ci_high']:,.0f}"
            if r["excess_ci_low"] is not None
            else "n/a"
        )
        t.add_row(
            str(r["fold"]),
            r["test"],
            *[_fmt(r[p]) for p in params],
            f"{r['test_pnl']:+,.2f}",
            f"{r['static_pnl']:+,.2f}",
            f"{r['excess']:+,.2f}",
            ci,
            _fmt(r["excess_t"]) if r["excess_t"] is not None else "n/a",
            f"{r['base_excess']:+,.2f}",
        )
    console = Console(width=200)
    console.print(t)
    pooled = pooled_excess(folds, seed=seed)
    basep = pooled_excess(folds, seed=seed, base=True)
    console.print(
        f"out of sample over {len(folds)} folds: excess over the static hedge "
        f"{pooled['total']:+,.2f} USD (95% CI {pooled['ci_low']:+,.2f} .. "
        f"{pooled['ci_high']:+,.2f}, t {pooled['t_stat']:.2f}); base config "
        f"{basep['total']:+,.2f} USD (95% CI {basep['ci_low']:+,.2f} .. "
        f"{basep['ci_high']:+,.2f}, t {basep['t_stat']:.2f})"
    )
    console.print(f"funding: {candles.funding_origin}")
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
