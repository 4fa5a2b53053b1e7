"""Parameter sweeps: many configurations over the same candles, in parallel on rayon threads
(the GIL released) or on a Ray cluster; results as a pandas DataFrame, one row per config."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import pandas as pd  # type: ignore[import-untyped]

from gridhedge import _core
from gridhedge._core import BacktestSpec, Market
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.data.candles import Candles
from gridhedge.errors import ConfigError
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import FLAT_KEYS, ConfigSource, GridHedgeConfig

Progress = Callable[[int, int], object]
Backend = Literal["rayon", "ray"]


def with_overrides(base: ConfigSource, overrides: Mapping[str, Any]) -> GridHedgeConfig:
    """``base`` with flat keys (``grid_spacing_pct``, ``num_levels``, ...) replaced."""
    cfg = GridHedgeConfig.load(base)
    data = cfg.model_dump(mode="json")
    for key, value in overrides.items():
        section = FLAT_KEYS.get(key)
        if section is None:
            raise ConfigError(
                f"{key}: not a configuration key",
                field=key,
                value=repr(value),
                rule="must be a key of a config section (grid, risk, execution, ...)",
            )
        data[section][key] = value
    return GridHedgeConfig.load(data)


def grid_of(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in ``space`` (a Cartesian grid)."""
    keys = list(space)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*space.values())]


def sweep(
    base: ConfigSource,
    overrides: Iterable[Mapping[str, Any]],
    candles: Candles,
    *,
    symbol: str = "BTCUSDT",
    market: Market | None = None,
    spot_amount: Decimal | str = "1",
    cash: Decimal | str = "0",
    start: int | None = None,
    threads: int = 0,
    progress: Progress | None = None,
    backend: Backend = "rayon",
    chunks: int | None = None,
    bootstrap_resamples: int | None = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Backtest ``base`` with each set of ``overrides``; metrics only (no per-bar series).

    ``backend='rayon'`` runs on ``threads`` threads of this machine (0: all cores);
    ``'ray'`` splits the configs into ``chunks`` tasks on the connected Ray cluster (each a
    rayon sweep on its node). Configs that differ only in what the decision reads (spacing,
    levels, band, stop, sizing, ...) share the market statistics' computation: overrides of
    the statistics' settings (estimator, VaR, support/resistance, history, cadence) split the
    sharing, never the results. Returns one row per config: the overrides then the metrics,
    among them ``excess_pnl`` over the static hedge with its moving-block-bootstrap 95%
    interval and t-statistic (``excess_ci_low``, ``excess_ci_high``, ``excess_t``: the
    figures `run_backtest` gives with the same ``seed`` and ``bootstrap_resamples``;
    ``bootstrap_resamples=None`` leaves them out, which saves recording the series).
    """
    rows = [dict(o) for o in overrides]
    mk = market if market is not None else default_market(symbol)
    book = {"symbol": symbol, "spot_amount": Decimal(spot_amount), "cash": Decimal(cash)}
    if backend == "ray":
        base_json = GridHedgeConfig.load(base).model_dump(mode="json")
        metrics = _sweep_ray(
            base_json, rows, mk, candles, book, start, chunks, progress, bootstrap_resamples, seed
        )
    elif backend == "rayon":
        specs = _specs(base, rows, candles, book, start)
        metrics = _core.sweep(
            specs,
            mk,
            *arrays(candles),
            threads=threads,
            progress=progress,
            bootstrap_resamples=bootstrap_resamples,
            seed=seed,
        )
    else:
        raise ConfigError(
            f"backend: {backend!r} is not a sweep backend",
            field="backend",
            value=repr(backend),
            rule="must be 'rayon' or 'ray'",
        )
    params = pd.DataFrame(rows, index=range(len(rows)))
    return pd.concat([params, pd.DataFrame(metrics)], axis=1)


def _specs(
    base: ConfigSource,
    rows: list[dict[str, Any]],
    candles: Candles,
    book: dict[str, Any],
    start: int | None,
) -> list[BacktestSpec]:
    return [spec_for(with_overrides(base, o), candles, start=start, **book) for o in rows]


def _run_chunk(
    base_json: dict[str, Any],
    rows: list[dict[str, Any]],
    market: Market,
    candles: Candles,
    book: dict[str, Any],
    start: int | None,
    bootstrap_resamples: int | None,
    seed: int,
) -> dict[str, Any]:
    """One Ray task: a rayon sweep of ``rows`` on the worker's cores."""
    specs = _specs(base_json, rows, candles, book, start)
    return _core.sweep(
        specs,
        market,
        *arrays(candles),
        threads=0,
        bootstrap_resamples=bootstrap_resamples,
        seed=seed,
    )


def _sweep_ray(
    base_json: dict[str, Any],
    rows: list[dict[str, Any]],
    market: Market,
    candles: Candles,
    book: dict[str, Any],
    start: int | None,
    chunks: int | None,
    progress: Progress | None,
    bootstrap_resamples: int | None,
    seed: int,
) -> dict[str, Any]:
    """Run chunks of the sweep as Ray tasks (the candles go to the object store once)."""
    import ray  # optional dependency: pip install 'gridhedge[backtest]'

    if not ray.is_initialized():
        ray.init()
    cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
    n_chunks = chunks or max(1, int(cpus))
    size = max(1, -(-len(rows) // n_chunks))
    parts = [rows[i : i + size] for i in range(0, len(rows), size)]
    candles_ref = ray.put(candles)
    task = ray.remote(_run_chunk)
    futures = [
        task.remote(base_json, p, market, candles_ref, book, start, bootstrap_resamples, seed)
        for p in parts
    ]
    sizes = dict(zip(futures, (len(p) for p in parts), strict=True))
    results: dict[Any, dict[str, Any]] = {}
    pending, done = list(futures), 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            results[ref] = ray.get(ref)
            done += sizes[ref]
            if progress is not None:
                progress(done, len(rows))
    merged: dict[str, list[Any]] = {}
    for ref in futures:
        for key, column in results[ref].items():
            merged.setdefault(key, []).extend(list(column))
    return merged
