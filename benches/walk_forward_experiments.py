"""Walk-forward experiments on real candles: is the grid worth more than a static short out of
sample, and which idea helps? (Not a speed bench: run by hand, prints fold-by-fold tables.)

    python benches/walk_forward_experiments.py --data ../shared/data/btcusd_1h_2018_2022.csv
    python benches/walk_forward_experiments.py --data ... --both   # without, then with funding

Each experiment is a walk-forward (train 1 year, test the next 6 months, roll 6 months) that
picks, on the training window, the parameters maximising the excess over the static hedge,
then reports the out-of-sample excess per fold with its moving-block-bootstrap 95% interval,
and the pooled out-of-sample excess (all test bars chained). ``default`` in every row is the
shipped configuration run on the same test bars (nothing tuned). With ``--funding`` a
constant base-rate funding series (0.01% per 8 h, longs pay shorts) is attached to the
candles, which carry none. The summary ends with the experiments ranked by pooled excess and
whether each beats the default out of sample (the rule for shipping an idea as a default).

The ideas of issue 16 item 9, and how each is expressed:

- ``trend_guard`` (a): the policy's trend guard (``trend_guard_bars``, ``trend_guard_pct``:
  rungs beyond the center pause on the side a trend would fill), tuned alone and with the
  spacing (``trend_guard_spacing``), and two fixed rules chosen before the runs
  (``trend_guard_week``: 168 bars, 3%; ``trend_guard_day``: 24 bars, 1.5%).
- ``fee_range_spacing`` (b): spacing = ``max(fee_multiple x round trip, k x sigma x sqrt(h))``
  where the round trip is two maker fees: the policy's dynamic spacing with a floor derived
  from the fees (a rule computed before the run). ``train_range_spacing``: the same idea
  frozen from the training window, spacing = ``fee_multiple x round trip + k x sigma_train x
  sqrt(h)`` with dynamic spacing off.
- ``funding_band`` (c): the band ``[1 - below, 1 + above]`` shifted by ``s x`` the training
  window's mean funding rate (per 8 h), and the live funding tilt at the same ``s`` inside
  it; the target stays 1.0, the ratio of the static hedge all experiments are measured
  against (with zero funding it is a band-width experiment).

Earlier experiments kept for comparison: ``spacing``, ``fee_vol_spacing``, ``band``,
``funding_tilt``.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from gridhedge.backtest.data import load_any, with_funding
from gridhedge.backtest.optimize import (
    Derive,
    Param,
    SearchSpace,
    load_space,
    pooled_excess,
    walk_forward,
)
from gridhedge.data.candles import Candles
from gridhedge.grid.config import GridHedgeConfig

BASE: dict[str, Any] = {"logging": {"level": "ERROR"}}
MAKER_FEE = float(GridHedgeConfig.load(BASE).execution.maker_fee)
ROUND_TRIP = 2.0 * MAKER_FEE
"""A grid round trip pays the maker fee twice (fraction of notional)."""


def fee_range_spacing(p: dict[str, Any], _train: Candles) -> dict[str, Any]:
    """(b) in the policy: dynamic spacing with a floor of ``fee_multiple`` round trips."""
    return {
        "dynamic_spacing": True,
        "grid_spacing_pct": min(0.2, p["fee_multiple"] * ROUND_TRIP),
        "volatility_multiplier": p["k"],
        "spacing_horizon_bars": p["horizon_bars"],
    }


def train_range_spacing(p: dict[str, Any], train: Candles) -> dict[str, Any]:
    """(b) frozen before the run: the training window's expected range over ``horizon_bars``
    (``k x`` the per-bar sd of log returns ``x sqrt(h)``) plus ``fee_multiple`` round trips."""
    sigma = float(np.std(np.diff(np.log(train.close)), ddof=1))
    spacing = p["fee_multiple"] * ROUND_TRIP + p["k"] * sigma * math.sqrt(p["horizon_bars"])
    return {"dynamic_spacing": False, "grid_spacing_pct": min(0.2, spacing)}


def mean_funding(train: Candles) -> float:
    """Mean funding rate per 8 h paid in the training window (0 without funding)."""
    fr = train.funding_rate
    return float(np.mean(fr)) if fr is not None and len(fr) else 0.0


def funding_band(p: dict[str, Any], train: Candles) -> dict[str, Any]:
    """(c) a band that leans toward the carry: ``[1 - below, 1 + above]`` shifted by
    ``s x`` the training window's mean funding (per 8 h; positive funding: shorts earn, the
    band moves up), the live funding tilt at the same ``s`` inside it. The target stays 1.0,
    the static hedge every experiment is measured against (moving it would move the
    baseline too)."""
    q = Decimal("0.0001")
    shift = Decimal(str(max(-0.5, min(0.5, p["s"] * mean_funding(train))))).quantize(q)
    lo = Decimal(1) - Decimal(str(p["below"])).quantize(q) + shift
    hi = Decimal(1) + Decimal(str(p["above"])).quantize(q) + shift
    return {
        "hedge_ratio_min": min(Decimal(1), max(Decimal(0), lo)),
        "hedge_ratio_max": max(Decimal(1), hi),
        "funding_tilt": True,
        "funding_sensitivity": p["s"],
    }


@dataclass(frozen=True)
class Experiment:
    params: dict[str, Any]
    derive: Derive | None = None
    trials: int | None = None
    """1 for a fixed rule (every parameter a single choice: nothing is tuned)."""


TREND = {
    "trend_guard_bars": {"low": 12, "high": 480, "type": "int", "log": True},
    "trend_guard_pct": {"low": 0.003, "high": 0.08, "log": True},
}
SPACING = {
    "grid_spacing_pct": {"low": 0.002, "high": 0.05, "log": True},
    "num_levels": {"low": 2, "high": 10, "type": "int"},
}
RANGE = {
    "fee_multiple": {"low": 1.0, "high": 50.0, "log": True},
    "k": {"low": 0.25, "high": 6.0, "log": True},
    "horizon_bars": {"low": 1, "high": 72, "type": "int", "log": True},
}
EXPERIMENTS: dict[str, Experiment] = {
    "trend_guard": Experiment(TREND),
    "trend_guard_spacing": Experiment({**TREND, **SPACING}),
    # fixed rules chosen before looking at the data (nothing tuned): a week's mean and 3%,
    # a day's mean and 1.5%
    "trend_guard_week": Experiment(
        {"trend_guard_bars": {"choices": [168]}, "trend_guard_pct": {"choices": [0.03]}},
        trials=1,
    ),
    "trend_guard_day": Experiment(
        {"trend_guard_bars": {"choices": [24]}, "trend_guard_pct": {"choices": [0.015]}},
        trials=1,
    ),
    "fee_range_spacing": Experiment(RANGE, fee_range_spacing),
    "train_range_spacing": Experiment(RANGE, train_range_spacing),
    "funding_band": Experiment(
        {
            "s": {"low": 0.0, "high": 2000.0},
            "below": {"low": 0.0, "high": 0.5},
            "above": {"low": 0.0, "high": 0.5},
        },
        funding_band,
    ),
    "spacing": Experiment(SPACING),
    "fee_vol_spacing": Experiment(
        {
            "volatility_multiplier": {"low": 0.5, "high": 6.0, "log": True},
            "spacing_horizon_bars": {"low": 1, "high": 48, "type": "int", "log": True},
            "grid_spacing_pct": {"low": 0.002, "high": 0.03, "log": True},
        }
    ),
    "band": Experiment(
        {
            "hedge_ratio_min": {"low": 0.5, "high": 1.0},
            "hedge_ratio_max": {"low": 1.0, "high": 1.5},
        }
    ),
    "funding_tilt": Experiment(
        {
            "funding_tilt": {"choices": [True, False]},
            "funding_sensitivity": {"low": 50, "high": 5000, "log": True},
        }
    ),
}


def space_of(exp: Experiment, trials: int) -> SearchSpace:
    """The experiment's search space (rule parameters are not config keys: built directly)."""
    if exp.derive is None:
        return load_space(
            {"metric": "excess_pnl", "trials": trials, "folds": 1, "params": exp.params}
        )
    params = tuple(
        Param(
            name,
            low=float(s["low"]),
            high=float(s["high"]),
            log=bool(s.get("log", False)),
            integer=s.get("type") == "int",
        )
        for name, s in exp.params.items()
    )
    return SearchSpace("excess_pnl", "maximize", trials, 1, params)


def base_funding(candles: Candles, rate: float = 0.0001) -> Candles:
    """``candles`` with a funding time every 8 h (00/08/16 UTC) at ``rate``."""
    eight = 8 * 3_600_000
    first = (int(candles.timestamp[0]) // eight + 1) * eight
    ft = np.arange(first, int(candles.timestamp[-1]) + 3_600_000, eight, dtype=np.int64)
    return with_funding(
        candles, ft, np.full(len(ft), rate), f"synthetic constant {rate:.4%} per 8 h"
    )


def fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def run_all(candles: Candles, names: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    print(f"\ndata: {len(candles)} bars; funding: {candles.funding_origin}")
    rows: list[dict[str, Any]] = []
    default: dict[str, Any] | None = None
    for name in names:
        exp = EXPERIMENTS[name]
        t0 = time.perf_counter()
        trials = exp.trials or args.trials
        folds, table = walk_forward(
            BASE,
            space_of(exp, trials),
            candles,
            train_bars=args.train_bars,
            test_bars=args.test_bars,
            trials=trials,
            seed=args.seed,
            derive=exp.derive,
        )
        pooled = pooled_excess(folds)
        print(f"\n== {name} ({time.perf_counter() - t0:.0f} s)")
        for f, (_, r) in zip(folds, table.iterrows(), strict=True):
            best = ", ".join(f"{k}={fmt(v)}" for k, v in f.best.items())
            if exp.derive is not None:
                best += " -> " + ", ".join(f"{k}={fmt(v)}" for k, v in f.overrides.items())
            print(
                f"fold {r['fold']} test {r['test']}: excess {r['excess']:+10,.2f} "
                f"(CI {r['excess_ci_low']:+,.0f} .. {r['excess_ci_high']:+,.0f}, "
                f"t {r['excess_t']:+.2f}); default {r['base_excess']:+10,.2f}; {best}"
            )
        bp = pooled_excess(folds, base=True)
        wins = sum(f.excess > 0 for f in folds)
        beats = sum(f.excess > f.base_excess for f in folds)
        print(
            f"pooled OOS excess {pooled['total']:+,.2f} (CI {pooled['ci_low']:+,.2f} .. "
            f"{pooled['ci_high']:+,.2f}, t {pooled['t_stat']:+.2f}; {wins}/{len(folds)} folds > 0, "
            f"{beats}/{len(folds)} beat the default); default config {bp['total']:+,.2f} "
            f"(CI {bp['ci_low']:+,.2f} .. {bp['ci_high']:+,.2f}, t {bp['t_stat']:+.2f}; "
            f"{sum(f.base_excess > 0 for f in folds)}/{len(folds)} folds > 0)"
        )
        default = {"name": "default (shipped, untuned)", **bp, "wins": None}
        rows.append({"name": name, **pooled, "wins": wins, "beats": beats, "n": len(folds)})
    if default is not None:
        print("\nsummary (pooled out-of-sample excess over the static hedge, quote currency):")
        for r in sorted(rows, key=lambda r: -r["total"]):
            verdict = (
                "beats the default and the static hedge (CI > 0)"
                if r["total"] > default["total"] and r["ci_low"] > 0
                else "beats the default, CI spans 0"
                if r["total"] > default["total"]
                else "does not beat the default"
            )
            print(
                f"  {r['name']:<20} {r['total']:+12,.2f}  CI {r['ci_low']:+12,.2f} .. "
                f"{r['ci_high']:+12,.2f}  t {r['t_stat']:+.2f}  {r['wins']}/{r['n']} folds > 0: "
                f"{verdict}"
            )
        print(
            f"  {'default':<20} {default['total']:+12,.2f}  CI {default['ci_low']:+12,.2f} .. "
            f"{default['ci_high']:+12,.2f}  t {default['t_stat']:+.2f}"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1, help="Optuna's sampler seed")
    ap.add_argument("--train-bars", type=int, default=8760)
    ap.add_argument("--test-bars", type=int, default=4380)
    ap.add_argument("--funding", action="store_true", help="attach the base-rate funding series")
    ap.add_argument("--both", action="store_true", help="run without, then with funding")
    ap.add_argument("--only", nargs="*", default=None, choices=list(EXPERIMENTS))
    args = ap.parse_args()
    t0 = time.perf_counter()
    candles = load_any(args.data)
    names = args.only or list(EXPERIMENTS)
    for funded in [False, True] if args.both else [args.funding]:
        run_all(base_funding(candles) if funded else candles, names, args)
    print(f"\ntotal runtime {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
