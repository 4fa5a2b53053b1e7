"""Sweeps that share the market statistics (issue 18, item 4): `_core.sweep` steps the specs
that share their statistics settings on one engine's statistics; every spec's metrics must be
exactly those of `_core.backtest` of that spec alone, and of the per-spec sweep
(`share_statistics=False`), errors included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhedge import _core
from gridhedge.backtest.engine import arrays, spec_for
from gridhedge.backtest.sweep import with_overrides
from gridhedge.data.synthetic import synthetic_candles
from gridhedge.errors import InvalidInputError
from gridhedge.execution.paper import default_market

CANDLES = synthetic_candles(seed=11, bars=700, timeframe="1h", start_price=30_000.0)
DATA = arrays(CANDLES)
MARKET = default_market("BTCUSDT")
BASE: dict[str, Any] = {"logging": {"level": "ERROR"}}

# settings the statistics read (a few values each, so specs often share a group)
statistics = st.fixed_dictionaries(
    {
        "volatility_estimator": st.sampled_from(["ewma", "close_to_close", "parkinson"]),
        "var_method": st.sampled_from(["fhs", "sqrt"]),
        "support_resistance": st.booleans(),
        "history_bars": st.sampled_from([60, 120]),
        "rebalance_interval": st.sampled_from(["3600", "10800"]),
    }
)
# settings only the decision reads
decision = st.fixed_dictionaries(
    {
        "grid_spacing_pct": st.sampled_from(["0.002", "0.005", "0.01", "0.03"]),
        "num_levels": st.integers(1, 8),
        "stop_loss_pct": st.sampled_from(["0.01", "0.04", "0.2"]),
        "max_drawdown": st.sampled_from(["0.01", "0.1", "0.5"]),
        "dynamic_spacing": st.booleans(),
        "requote_tolerance": st.sampled_from(["0", "0.1", "0.5"]),
    }
)


def metric_columns(out: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in out.items() if k != "error"}


@settings(max_examples=40)
@given(
    groups=st.lists(statistics, min_size=1, max_size=3),
    picks=st.lists(st.tuples(st.integers(0, 2), decision), min_size=2, max_size=8),
    threads=st.sampled_from([1, 2]),
    bootstrap=st.sampled_from([None, 200]),
)
def test_a_shared_sweep_is_each_spec_run_alone(
    groups: list[dict[str, Any]],
    picks: list[tuple[int, dict[str, Any]]],
    threads: int,
    bootstrap: int | None,
) -> None:
    specs = [
        spec_for(with_overrides(BASE, {**groups[g % len(groups)], **d}), CANDLES) for g, d in picks
    ]
    boot = {"bootstrap_resamples": bootstrap, "seed": 3}
    shared = _core.sweep(specs, MARKET, *DATA, threads=threads, **boot)
    alone = _core.sweep(specs, MARKET, *DATA, threads=threads, share_statistics=False, **boot)
    assert shared["error"] == alone["error"]
    cols, ref = metric_columns(shared), metric_columns(alone)
    assert len(cols) > 40
    assert bootstrap is None or "excess_ci_low" in cols
    assert cols.keys() == ref.keys()
    for k in cols:
        assert np.array_equal(cols[k], ref[k], equal_nan=cols[k].dtype.kind == "f"), k
    for i, spec in enumerate(specs):
        one = _core.backtest(spec, MARKET, *DATA, record_events=False, record_series=False)
        for k, v in one["metrics"].items():
            if k in cols:
                got = cols[k][i]
                assert got == v or (v != v and got != got), (i, k, got, v)


def test_share_statistics_must_be_a_bool() -> None:
    spec = spec_for(BASE, CANDLES)
    with pytest.raises(InvalidInputError, match="share_statistics: must be True or False"):
        _core.sweep([spec], MARKET, *DATA, share_statistics="yes")  # type: ignore[arg-type]
