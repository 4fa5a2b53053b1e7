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
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import yaml

from gridhedge import _core
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.backtest.sweep import with_overrides
from gridhedge.data.candles import Candles
from gridhedge.errors import ConfigError
from gridhedge.execution.paper import default_market
from gridhedge.grid.config import ConfigSource


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
    """A search space from a YAML file or a dict (see the module doc)."""
    raw = source if isinstance(source, dict) else yaml.safe_load(Path(source).read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("params"), dict) or not raw["params"]:
        raise _bad("params", raw, "must be a non-empty mapping of parameter -> range")
    direction = str(raw.get("direction", "maximize"))
    if direction not in ("maximize", "minimize"):
        raise _bad("direction", direction, "must be 'maximize' or 'minimize'")
    params = []
    for name, spec in raw["params"].items():
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
    if trials < 1 or folds < 1:
        raise _bad("trials", (trials, folds), "trials and folds must be >= 1")
    return SearchSpace(str(raw.get("metric", "sharpe")), direction, trials, folds, tuple(params))


def optimize(
    base: ConfigSource,
    space: SearchSpace,
    candles: Candles,
    *,
    symbol: str = "BTCUSDT",
    seed: int = 0,
    trials: int | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Best overrides and the trials table. Each trial is scored on ``folds`` growing
    prefixes of the data; a trial below the median of earlier ones at a checkpoint is
    pruned (Optuna's MedianPruner)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    market = default_market(symbol)
    n = len(candles.close)

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
        cfg = with_overrides(base, overrides)
        value = math.nan
        for k in range(1, space.folds + 1):
            end = max(3, n * k // space.folds)
            part = candles.slice(0, end)
            spec = spec_for(cfg, part, symbol=symbol)
            raw = _core.backtest(
                spec, market, *arrays(part), record_events=False, record_series=False
            )
            value = float(raw["metrics"][space.metric])
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
    study.optimize(objective, n_trials=trials or space.trials)
    table = study.trials_dataframe()
    return dict(study.best_params), table
