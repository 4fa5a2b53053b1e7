"""Walk-forward experiments on real candles: is the grid worth more than a static short out of
sample, and which knob helps? (Not a speed bench: run by hand, prints fold-by-fold tables.)

    python benches/walk_forward_experiments.py --data ../shared/data/btcusd_1h_2018_2022.csv

Each experiment is a walk-forward (train 1 year, test the next 6 months, roll 6 months) that
picks, on the training window, the overrides maximising the excess over the static hedge,
then reports the out-of-sample excess per fold with its moving-block-bootstrap 95% interval,
and the pooled out-of-sample excess. ``default`` is the shipped configuration (nothing
tuned). With ``--funding`` a constant base-rate funding series (0.01% per 8 h, longs pay
shorts) is attached to the candles, which carry none.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from gridhedge.backtest.data import load_any, with_funding
from gridhedge.backtest.optimize import load_space, pooled_excess, walk_forward
from gridhedge.data.candles import Candles

EXPERIMENTS: dict[str, dict[str, Any]] = {
    "spacing": {
        "grid_spacing_pct": {"low": 0.002, "high": 0.05, "log": True},
        "num_levels": {"low": 2, "high": 10, "type": "int"},
    },
    "fee_vol_spacing": {
        "volatility_multiplier": {"low": 0.5, "high": 6.0, "log": True},
        "spacing_horizon_bars": {"low": 1, "high": 48, "type": "int", "log": True},
        "grid_spacing_pct": {"low": 0.002, "high": 0.03, "log": True},
    },
    "band": {
        "hedge_ratio_min": {"low": 0.5, "high": 1.0},
        "hedge_ratio_max": {"low": 1.0, "high": 1.5},
    },
    "funding_band": {
        "funding_tilt": {"choices": [True, False]},
        "funding_sensitivity": {"low": 50, "high": 5000, "log": True},
    },
}


def base_funding(candles: Candles, rate: float = 0.0001) -> Candles:
    """``candles`` with a funding time every 8 h (00/08/16 UTC) at ``rate``."""
    eight = 8 * 3_600_000
    first = (int(candles.timestamp[0]) // eight + 1) * eight
    ft = np.arange(first, int(candles.timestamp[-1]) + 3_600_000, eight, dtype=np.int64)
    return with_funding(
        candles, ft, np.full(len(ft), rate), f"synthetic constant {rate:.4%} per 8 h"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--train-bars", type=int, default=8760)
    ap.add_argument("--test-bars", type=int, default=4380)
    ap.add_argument("--funding", action="store_true")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    candles = load_any(args.data)
    if args.funding:
        candles = base_funding(candles)
    print(f"data: {len(candles)} bars; funding: {candles.funding_origin}")
    base = {"logging": {"level": "ERROR"}}
    names = args.only or list(EXPERIMENTS)
    for name in names:
        t0 = time.perf_counter()
        space = load_space(
            {"metric": "excess_pnl", "trials": args.trials, "folds": 1, "params": EXPERIMENTS[name]}
        )
        folds, table = walk_forward(
            base,
            space,
            candles,
            train_bars=args.train_bars,
            test_bars=args.test_bars,
            trials=args.trials,
            seed=1,
        )
        pooled = pooled_excess(folds)
        print(f"\n== {name} ({time.perf_counter() - t0:.0f} s)")
        cols = [c for c in table.columns if c.startswith("best.")]
        for _, r in table.iterrows():
            best = ", ".join(
                f"{c[5:]}={r[c]:.4g}" if isinstance(r[c], float) else f"{c[5:]}={r[c]}"
                for c in cols
            )
            print(
                f"fold {r['fold']} test {r['test']}: excess {r['excess']:+10,.2f} "
                f"(CI {r['excess_ci_low']:+,.0f} .. {r['excess_ci_high']:+,.0f}, "
                f"t {r['excess_t']:+.2f}); default {r['base_excess']:+10,.2f}; {best}"
            )
        dflt = [f.base_excess for f in folds]
        bp = pooled_excess(folds, base=True)
        print(
            f"pooled OOS excess {pooled['total']:+,.2f} (CI {pooled['ci_low']:+,.2f} .. "
            f"{pooled['ci_high']:+,.2f}, t {pooled['t_stat']:+.2f}); default config "
            f"{bp['total']:+,.2f} (CI {bp['ci_low']:+,.2f} .. {bp['ci_high']:+,.2f}, "
            f"t {bp['t_stat']:+.2f}; {sum(d > 0 for d in dflt)}/{len(dflt)} folds > 0)"
        )


if __name__ == "__main__":
    main()
