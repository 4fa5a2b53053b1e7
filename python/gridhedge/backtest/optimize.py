"""``gridhedge optimize``: Optuna (TPE sampler, median pruning) over a YAML search space.

The space file::

    metric: sharpe            # any backtest metric
    direction: maximize       # or minimize
    trials: 50
    folds: 4                  # pruning checkpoints: the run is scored on growing prefixes
    params:
      grid_spacing_pct: {low: 0.002, high: 0.03, log: true}
      num_levels: {low: 2, high: 10, type: int}
      volatility_estimator: {choices: [ewma, parkinson]}

Walk-forward (:func:`walk_forward`, ``gridhedge optimize --walk-forward``): the search runs on
a training window, the best configuration is then backtested on the next ``test_bars`` bars it
never saw (out of sample), and the windows roll forward by ``test_bars``; each fold reports
its out-of-sample PnL, the static hedge's on the same bars and the excess with its bootstrap
95% interval, and the base configuration's excess beside it.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import yaml

from gridhedge import _core
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.backtest.sweep import with_overrides
from gridhedge.data.candles import Candles
from gridhedge.errors import ConfigError
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import FLAT_KEYS, ConfigSource, GridHedgeConfig

Derive = Callable[[dict[str, Any], Candles], dict[str, Any]]
"""Turns a trial's parameters and the candles it is trained on into configuration overrides
(a rule computed before the run, e.g. a spacing from the training window's volatility and the
fees). The walk-forward applies it to the test window with the TRAINING candles: no look-ahead."""


@dataclass(frozen=True)
class Param:
    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class SearchSpace:
    metric: str
    direction: str
    trials: int
    folds: int
    params: tuple[Param, ...]


def _bad(field: str, value: object, rule: str) -> ConfigError:
    return ConfigError(
        f"{field}: {rule} (got {value!r})", field=field, value=repr(value), rule=rule
    )


def load_space(source: str | os.PathLike[str] | dict[str, Any]) -> SearchSpace:
    """A search space from a YAML file or a dict (see the module doc). A missing or broken
    file, an unknown parameter or a bad range is a `ConfigError` naming it."""
    if isinstance(source, dict):
        raw: Any = source
    else:
        path = Path(source)
        if not path.is_file():
            raise _bad(str(path), "no such file", "must be an existing search-space YAML file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise _bad(str(path), str(e).splitlines()[0], "must be valid YAML") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("params"), dict) or not raw["params"]:
        raise _bad("params", raw, "must be a non-empty mapping of parameter -> range")
    direction = str(raw.get("direction", "maximize"))
    if direction not in ("maximize", "minimize"):
        raise _bad("direction", direction, "must be 'maximize' or 'minimize'")
    params = []
    for name, spec in raw["params"].items():
        if name not in FLAT_KEYS:
            near = difflib.get_close_matches(str(name), list(FLAT_KEYS), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise _bad(f"params.{name}", name, f"must be a configuration key{hint}")
        if not isinstance(spec, dict):
            raise _bad(f"params.{name}", spec, "must be {low, high[, log, type]} or {choices}")
        if "choices" in spec:
            params.append(Param(str(name), choices=tuple(spec["choices"])))
            continue
        if "low" not in spec or "high" not in spec or float(spec["low"]) >= float(spec["high"]):
            raise _bad(f"params.{name}", spec, "needs low < high")
        params.append(
            Param(
                str(name),
                low=float(spec["low"]),
                high=float(spec["high"]),
                log=bool(spec.get("log", False)),
                integer=spec.get("type") == "int",
            )
        )
    trials, folds = int(raw.get("trials", 50)), int(raw.get("folds", 4))
    if trials < 1:
        raise _bad("trials", trials, "must be >= 1")
    if folds < 1:
        raise _bad("folds", folds, "must be >= 1")
    return SearchSpace(str(raw.get("metric", "sharpe")), direction, trials, folds, tuple(params))


def optimize(
    base: ConfigSource,
    space: SearchSpace,
    candles: Candles,
    *,
    symbol: str = "BTCUSDT",
    seed: int = 0,
    trials: int | None = None,
    on_trial: Callable[[], object] | None = None,
    derive: Derive | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Best overrides and the trials table. Each trial is scored on ``folds`` growing
    prefixes of the data; a trial below the median of earlier ones at a checkpoint is
    pruned (Optuna's MedianPruner). With ``derive`` the space's parameters are a rule's
    (not configuration keys): ``derive(params, candles)`` gives the overrides, and the best
    parameters are returned (not the overrides)."""
    import optuna

    n_trials = check_trials(space.trials if trials is None else trials)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    market = default_market(symbol)
    n = len(candles.close)
    check_metric(space.metric, base, candles, symbol)

    def objective(trial: optuna.Trial) -> float:
        overrides: dict[str, Any] = {}
        for p in space.params:
            if p.choices is not None:
                overrides[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.integer:
                assert p.low is not None and p.high is not None
                overrides[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                assert p.low is not None and p.high is not None
                overrides[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        cfg = with_overrides(base, derive(overrides, candles) if derive else overrides)
        value = math.nan
        for k in range(1, space.folds + 1):
            end = max(3, n * k // space.folds)
            part = candles.slice(0, end)
            spec = spec_for(cfg, part, symbol=symbol)
            raw = _core.backtest(
                spec, market, *arrays(part), record_events=False, record_series=False
            )
            got = raw["metrics"][space.metric]
            value = float(got) if got is not None else math.nan
            if not math.isfinite(value):
                value = -1e9 if space.direction == "maximize" else 1e9
            trial.report(value, k)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study = optuna.create_study(
        direction="maximize" if space.direction == "maximize" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    study.optimize(
        objective,
        n_trials=n_trials,
        callbacks=[_callback(on_trial)] if on_trial is not None else None,
    )
    table = study.trials_dataframe()
    return dict(study.best_params), table


def _callback(on_trial: Callable[[], object]) -> Callable[[Any, Any], None]:
    def call(_study: Any, _trial: Any) -> None:
        on_trial()

    return call


def check_trials(trials: int) -> int:
    """``trials`` when >= 1, else a `ConfigError`."""
    if trials < 1:
        raise _bad("trials", trials, "must be >= 1")
    return trials


def metric_names(base: ConfigSource, candles: Candles, symbol: str = "BTCUSDT") -> list[str]:
    """The metrics a backtest reports (from a run on the first bars)."""
    part = candles.slice(0, min(len(candles), 300))
    cfg = GridHedgeConfig.load(base)
    spec = spec_for(cfg, part, symbol=symbol)
    raw = _core.backtest(
        spec, default_market(symbol), *arrays(part), record_events=False, record_series=False
    )
    return sorted(k for k, v in raw["metrics"].items() if isinstance(v, int | float))


def check_metric(metric: str, base: ConfigSource, candles: Candles, symbol: str) -> None:
    """A `ConfigError` naming close matches when ``metric`` is not a backtest metric."""
    names = metric_names(base, candles, symbol)
    if metric not in names:
        near = difflib.get_close_matches(metric, names, n=3)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise _bad("metric", metric, f"must be a backtest metric ({hint}one of {', '.join(names)})")


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: bar ranges (train ``[train_start, test_start)``, test
    ``[test_start, test_end)``), the chosen overrides and the out-of-sample figures (quote
    currency; the excess is over the static hedge on the test bars)."""

    train_start: int
    test_start: int
    test_end: int
    best: dict[str, Any]
    overrides: dict[str, Any]
    """The configuration keys the test run set (``best`` itself without a ``derive`` rule)."""
    train_value: float
    test_value: float | None
    pnl: float
    static_pnl: float
    excess: float
    excess_ci_low: float | None
    excess_ci_high: float | None
    excess_t: float | None
    base_excess: float
    differences: Any
    """Per-bar differences of the chosen config's equity changes minus the static hedge's."""
    base_differences: Any
    """The same for the base configuration."""


def _test_run(
    cfg: ConfigSource, candles: Candles, start: int, end: int, warmup: int, symbol: str, seed: int
) -> Any:
    from gridhedge.backtest.engine import run_backtest

    lo = max(0, start - warmup)
    return run_backtest(
        cfg,
        candles.slice(lo, end),
        symbol=symbol,
        start=start - lo,
        record_events=False,
        allow_gaps=True,
        seed=seed,
    )


def walk_forward(
    base: ConfigSource,
    space: SearchSpace,
    candles: Candles,
    *,
    train_bars: int,
    test_bars: int,
    symbol: str = "BTCUSDT",
    seed: int = 0,
    trials: int | None = None,
    progress: Callable[[int, int], object] | None = None,
    derive: Derive | None = None,
) -> tuple[list[Fold], pd.DataFrame]:
    """Walk-forward optimisation (see the module doc): folds start at 0 and roll by
    ``test_bars`` while a full test window fits. Returns the folds and their table (one row
    per fold, with UTC times). ``progress(done, total)`` counts trials and test runs.
    ``derive``: see :func:`optimize`; the test run uses the overrides derived from the
    training window (a fold's ``best`` holds the rule's parameters, ``overrides`` what they
    set; the table shows the overrides as ``set.<key>`` columns)."""
    n_trials = check_trials(space.trials if trials is None else trials)
    cfg0 = GridHedgeConfig.load(base)
    warmup = cfg0.data.history_bars
    if train_bars <= warmup + 1:
        raise _bad("train_bars", train_bars, f"must exceed history_bars ({warmup}) + 1")
    if test_bars < 3:
        raise _bad("test_bars", test_bars, "must be >= 3")
    n = len(candles)
    starts = list(range(0, n - train_bars - test_bars + 1, test_bars))
    if not starts:
        raise _bad(
            "train_bars + test_bars",
            train_bars + test_bars,
            f"must fit in the {n} bars of the data",
        )
    check_metric(space.metric, base, candles, symbol)
    if derive is None:
        for p in space.params:
            if p.name not in FLAT_KEYS:
                raise _bad(f"params.{p.name}", p.name, "must be a configuration key")
    total = len(starts) * (n_trials + 1)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    folds: list[Fold] = []
    for s in starts:
        train = candles.slice(s, s + train_bars)
        best, table = optimize(
            base,
            space,
            train,
            symbol=symbol,
            seed=seed,
            trials=n_trials,
            on_trial=tick,
            derive=derive,
        )
        overrides = derive(best, train) if derive is not None else best
        done_rows = table[table["state"] == "COMPLETE"]["value"]
        train_value = (
            float(done_rows.max() if space.direction == "maximize" else done_rows.min())
            if len(done_rows)
            else math.nan
        )
        test_start, test_end = s + train_bars, s + train_bars + test_bars
        from gridhedge.backtest.sweep import with_overrides

        chosen = with_overrides(base, overrides)
        r = _test_run(chosen, candles, test_start, test_end, warmup, symbol, seed)
        b = _test_run(cfg0, candles, test_start, test_end, warmup, symbol, seed)
        m = r.metrics
        d = np.diff(r.series["equity"].to_numpy()) - np.diff(r.series["static_equity"].to_numpy())
        bd = np.diff(b.series["equity"].to_numpy()) - np.diff(b.series["static_equity"].to_numpy())
        tv = m.get(space.metric)
        folds.append(
            Fold(
                train_start=s,
                test_start=test_start,
                test_end=test_end,
                best=best,
                overrides=overrides,
                train_value=train_value,
                test_value=float(tv) if isinstance(tv, int | float) else None,
                pnl=float(m["pnl"]),
                static_pnl=float(m["static_pnl"]),
                excess=float(m["excess_pnl"]),
                excess_ci_low=m.get("excess_ci_low"),
                excess_ci_high=m.get("excess_ci_high"),
                excess_t=m.get("excess_t"),
                base_excess=float(b.metrics["excess_pnl"]),
                differences=d,
                base_differences=bd,
            )
        )
        tick()
    ts = candles.timestamp

    def utc(i: int) -> str:
        return str(pd.Timestamp(int(ts[min(i, n - 1)]), unit="ms", tz="UTC").strftime("%Y-%m-%d"))

    table = pd.DataFrame(
        [
            {
                "fold": k + 1,
                "train": f"{utc(f.train_start)} .. {utc(f.test_start - 1)}",
                "test": f"{utc(f.test_start)} .. {utc(f.test_end - 1)}",
                **{f"best.{p}": v for p, v in f.best.items()},
                **({f"set.{k}": v for k, v in f.overrides.items()} if derive else {}),
                f"train_{space.metric}": f.train_value,
                f"test_{space.metric}": f.test_value,
                "test_pnl": f.pnl,
                "static_pnl": f.static_pnl,
                "excess": f.excess,
                "excess_ci_low": f.excess_ci_low,
                "excess_ci_high": f.excess_ci_high,
                "excess_t": f.excess_t,
                "base_excess": f.base_excess,
            }
            for k, f in enumerate(folds)
        ]
    )
    return folds, table


def pooled_excess(folds: list[Fold], seed: int = 0, *, base: bool = False) -> dict[str, Any]:
    """The out-of-sample excess over all folds' test bars (chained) with its moving-block
    bootstrap 95% interval: of the chosen configurations, or of the base one (``base``)."""
    d = np.concatenate([f.base_differences if base else f.differences for f in folds])
    curve = np.concatenate([[0.0], np.cumsum(d)])
    return dict(_core.excess_bootstrap(curve, np.zeros_like(curve), seed=seed))
