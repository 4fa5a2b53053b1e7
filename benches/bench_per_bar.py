"""The full policy's per-bar cost (issue 18 item 3): the engine's metrics-only ns/bar deciding
every bar and every 60 bars, with the horizon VaR by FHS (FULL) and by the square-root rule,
next to the numba twin of the same policy (benches/policy_twin.py) in the same run.

Each figure is CPU time, best of `--repeat` runs of `_core.backtest` on the same synthetic
one-minute bars. With `--against DIR` (DIR holding another build's `gridhedge` package, e.g. a
copy of main's) the two builds are measured alternately in child processes, so both see the
same machine load, and the ratio against DIR is printed per configuration.

    python benches/bench_per_bar.py                         # 50,000 bars
    python benches/bench_per_bar.py --against /tmp/main-build/python --rounds 3

where /tmp/main-build/python is another commit's `python/` tree with its compiled module, e.g.
`git archive main python | tar -x -C /tmp/main-build` and that build's `_core.abi3.so` copied
into `/tmp/main-build/python/gridhedge/`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from policy_twin import FULL

CADENCES: dict[str, dict[str, dict[str, Any]]] = {
    "fhs, every bar": {},
    "fhs, every 60": {"execution": {"rebalance_interval": "3600"}},
    "sqrt, every bar": {"risk": {"var_method": "sqrt"}},
    "sqrt, every 60": {"risk": {"var_method": "sqrt"}, "execution": {"rebalance_interval": "3600"}},
}


def config(name: str) -> dict[str, Any]:
    """FULL with CADENCES[name]'s overrides, section by section."""
    cfg = dict(FULL)
    for section, values in CADENCES[name].items():
        cfg[section] = {**cfg.get(section, {}), **values}
    return cfg


def engine_ns_per_bar(bars: int, repeat: int) -> dict[str, float]:
    """CPU ns/bar of `_core.backtest` (metrics only) per configuration, best of `repeat`."""
    from gridhedge import _core
    from gridhedge.backtest.engine import arrays, spec_for
    from gridhedge.data.synthetic import synthetic_candles
    from gridhedge.execution.paper import default_market

    c = synthetic_candles(seed=1, bars=bars, timeframe="1m", start_price=40_000.0)
    data = arrays(c)
    market = default_market("BTCUSDT")
    out = {}
    for name in CADENCES:
        spec = spec_for(config(name), c)
        best = math.inf
        for _ in range(repeat):
            t = time.process_time()
            _core.backtest(spec, market, *data, record_events=False, record_series=False)
            best = min(best, time.process_time() - t)
        out[name] = best / (bars - spec.start) * 1e9
    return out


def twin_ns_per_bar(bars: int, repeat: int) -> float:
    """CPU ns/bar of the numba twin (FULL, every bar, metrics only, compiled), best of `repeat`."""
    from policy_twin import numba_twin, twin_settings

    from gridhedge.backtest.engine import arrays, spec_for
    from gridhedge.data.synthetic import synthetic_candles
    from gridhedge.execution.paper import default_market

    c = synthetic_candles(seed=1, bars=bars, timeframe="1m", start_price=40_000.0)
    data = arrays(c)
    spec = spec_for(FULL, c)
    cf, ci = twin_settings(FULL, spec, default_market("BTCUSDT"))
    nb = numba_twin()
    nb(data, cf, ci, False)  # compile and warm
    best = math.inf
    for _ in range(repeat):
        t = time.process_time()
        nb(data, cf, ci, False)
        best = min(best, time.process_time() - t)
    return best / (bars - spec.start) * 1e9


def child(pythonpath: str | None, bars: int, repeat: int) -> dict[str, float]:
    """engine_ns_per_bar in a fresh process importing `gridhedge` from `pythonpath` first."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.abspath(__file__), "--engine-json", "--bars", str(bars)]
    cmd += ["--repeat", str(repeat)]
    got: dict[str, float] = json.loads(subprocess.check_output(cmd, env=env))
    return got


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration per round")
    ap.add_argument("--rounds", type=int, default=2, help="alternations with --against")
    ap.add_argument("--against", help="directory holding another build's gridhedge package")
    ap.add_argument("--engine-json", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="CI size: 2 runs each")
    args = ap.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 2)
    if args.engine_json:
        print(json.dumps(engine_ns_per_bar(args.bars, args.repeat)))
        return
    load = os.getloadavg()[0]
    this: dict[str, float] = dict.fromkeys(CADENCES, math.inf)
    base: dict[str, float] = dict.fromkeys(CADENCES, math.inf)
    twin = math.inf
    for _ in range(args.rounds if args.against else 1):
        if args.against:
            b = child(args.against, args.bars, args.repeat)
            base = {k: min(base[k], b[k]) for k in CADENCES}
        t = child(None, args.bars, args.repeat)
        this = {k: min(this[k], t[k]) for k in CADENCES}
        twin = min(twin, twin_ns_per_bar(args.bars, args.repeat))
    print(f"full policy, {args.bars} one-minute bars, metrics only, CPU ns/bar (best of runs):")
    for k in CADENCES:
        line = f"  {k:16s} engine {this[k]:7.0f}"
        if args.against:
            line += f"   against {base[k]:7.0f}  (this / against = {this[k] / base[k]:.2f})"
        print(line)
    print(f"  numba twin (FULL, every bar): {twin:.0f} ns/bar; engine every bar / twin = ", end="")
    print(f"{this['fhs, every bar'] / twin:.2f}")
    print(f"  (load average {load:.1f} on {os.cpu_count()} CPUs before the timings)")


if __name__ == "__main__":
    main()
