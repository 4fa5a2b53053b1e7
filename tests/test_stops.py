"""Dynamic stops against independent references: exact Decimal levels snapped on the safe side
(a long's sell stop rounds up, a short's buy stop rounds down), numpy clip for the volatility
scale, numpy running max/min for trailing stops."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.risk import stops
from tests.references.stops import ref_pct_level, ref_stop_ticks, ref_trailing

TICK = Decimal("0.10")
sides = st.sampled_from(["long", "short"])


def market() -> gh.Market:
    return gh.Market("0.10", "0.001", "0.001", "100")


def test_golden_stops() -> None:
    """By hand, tick 0.10. Long at 95,236.15 with 4%: 95,236.15 x 0.96 = 91,426.704 -> the sell
    stop rounds up to 91,426.8 (triggers no later). Short: x 1.04 = 99,045.596 -> the buy stop
    rounds down to 99,045.5. Vol-scaled: 4% x clip(0.03 / 0.02, 0.5, 2) = 6% from 100,000 ->
    94,000.0. ATR: 100,000 - 2.5 x 1,234.56 = 96,913.6."""
    m = market()
    s = stops.stop_at(95_236.15, 0.04, "long", m)
    assert (s.price, s.order_side, s.side) == (Decimal("91426.8"), "sell", "long")
    s = stops.stop_at(95_236.15, 0.04, "short", m)
    assert (s.price, s.order_side) == (Decimal("99045.5"), "buy")
    s = stops.vol_scaled_stop(100_000, 0.04, 0.03, 0.02, "long", m)
    assert s.price == Decimal("94000.0") and math.isclose(s.distance_pct, 0.06)
    s = stops.atr_stop(100_000, 1_234.56, 2.5, "long", m)
    assert s.price == Decimal("96913.6")
    assert "order_side='sell'" in repr(s)


def test_golden_trailing() -> None:
    """Trailing 10% on closes 100, 110, 105, 120, 90 (tick 0.5). Long candidates 90, 99, 94.5,
    108, 81 -> stop 90, 99, 99, 108, 108. Short candidates 110, 121, 115.5, 132, 99 -> 110,
    110, 110, 110, 99."""
    m = gh.Market("0.5", "1")
    p = np.array([100.0, 110.0, 105.0, 120.0, 90.0])
    t = stops.trailing_stop(p, "long", m, trail_pct=0.1)
    assert t.prices.tolist() == [90, 99, 99, 108, 108] and len(t) == 5
    t = stops.trailing_stop(p, "short", m, trail_pct=0.1)
    assert t.prices.tolist() == [110, 110, 110, 110, 99]


@given(
    sigma=st.floats(1e-4, 1.0),
    long_run=st.floats(1e-4, 1.0),
    lo=st.floats(0.1, 1.0),
    span=st.floats(0.0, 3.0),
)
def test_stop_scale_matches_numpy_clip(
    sigma: float, long_run: float, lo: float, span: float
) -> None:
    hi = lo + span
    assert stops.stop_scale(sigma, long_run, lo, hi) == np.clip(sigma / long_run, lo, hi)


@given(price=st.floats(1.0, 1e6), pct=st.floats(1e-4, 0.9), side=sides)
def test_fixed_stop_matches_exact_reference_on_the_safe_side(
    price: float, pct: float, side: str
) -> None:
    s = stops.stop_at(price, pct, side, market())  # type: ignore[arg-type]
    level = ref_pct_level(price, pct, side)
    assert s.price_ticks == ref_stop_ticks(level, side, TICK)
    # safe side of the exact level (up to the documented ~1e-14 on-tick tolerance)
    slack = level * Decimal("1e-13")
    if side == "long":
        assert s.price >= level - slack
    else:
        assert s.price <= level + slack


@given(
    steps=st.lists(st.floats(-0.05, 0.05), min_size=1, max_size=150),
    pct=st.floats(0.001, 0.5),
    mult=st.one_of(st.none(), st.floats(0.1, 3.0)),
    side=sides,
)
def test_trailing_matches_running_extremes(
    steps: list[float], pct: float, mult: float | None, side: str
) -> None:
    prices = 50_000.0 * np.cumprod(1.0 + np.array(steps))
    atr = prices * 0.01
    m = market()
    if mult is None:
        t = stops.trailing_stop(prices, side, m, trail_pct=pct)  # type: ignore[arg-type]
        distance = prices * pct
    else:
        t = stops.trailing_stop(prices, side, m, atr=atr, multiple=mult)  # type: ignore[arg-type]
        distance = mult * atr
    levels, ticks = ref_trailing(prices, distance, side, TICK)
    np.testing.assert_array_equal(t.levels, levels)
    np.testing.assert_array_equal(t.ticks, ticks)
    diffs = np.diff(t.ticks)
    assert (diffs >= 0).all() if side == "long" else (diffs <= 0).all()


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda m: stops.stop_at(100, 1.0, "long", m), "distance_pct", "1", "< 1 for a long"),
        (lambda m: stops.stop_at(100, 0.1, "up", m), "side", '"up"', "'long' or 'short'"),
        (lambda m: stops.stop_at(-1, 0.1, "long", m), "price", "-1", "> 0"),
        (lambda m: stops.stop_scale(0, 0.1), "sigma", "0", "> 0"),
        (lambda m: stops.stop_scale(0.1, 0.1, 1.0, 0.5), "max_scale", "0.5", ">= min_scale"),
        (
            lambda m: stops.vol_scaled_stop(100, 1.5, 0.1, 0.1, "long", m),
            "stop_loss_pct",
            "1.5",
            "< 1",
        ),
        (lambda m: stops.atr_stop(100, 60, 2, "long", m), "atr", "60", "above zero"),
        (lambda m: stops.atr_stop(100, 1, 0, "long", m), "multiple", "0", "> 0"),
        (
            lambda m: stops.trailing_stop(np.array([1.0, np.nan]), "long", m, trail_pct=0.1),
            "prices[1]",
            "NaN",
            "finite",
        ),
        (
            lambda m: stops.trailing_stop(np.array([1.0, -1.0]), "long", m, trail_pct=0.1),
            "prices[1]",
            "-1",
            "> 0",
        ),
        (
            lambda m: stops.trailing_stop(np.ones(0), "long", m, trail_pct=0.1),
            "prices",
            "0 value(s)",
            "at least 1",
        ),
        (
            lambda m: stops.trailing_stop(np.ones(3), "long", m, atr=np.ones(2), multiple=1),
            "atr",
            "length 2",
            "same length as prices",
        ),
        (
            lambda m: stops.trailing_stop(np.ones(3), "long", m),
            "trail_pct",
            "None",
            "either trail_pct, or atr and multiple",
        ),
        (
            lambda m: stops.trailing_stop(np.ones(3), "long", m, trail_pct=1.0),
            "trail_pct",
            "1",
            "< 1",
        ),
    ],
)
def test_bad_inputs_name_field_value_and_rule(call: Any, field: str, value: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call(market())
    e = info.value
    assert (e.field, e.value) == (field, value)
    assert rule in (e.rule or "")
