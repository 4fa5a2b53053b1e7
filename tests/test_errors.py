"""Every bad input raises a GridHedgeError naming the field, the value and the rule; no panic
crosses the FFI boundary."""

from __future__ import annotations

import math
import threading
import time
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge import _core


def market() -> gh.Market:
    return gh.Market("0.10", "0.001", "0.001", "100")


GOOD: dict[str, Any] = {
    "center": 95236.15,
    "spacing": 0.01,
    "num_levels": 5,
    "amount_per_level": 0.01,
    "min_price_distance": 0,
}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("center", 0, "must be > 0"),
        ("center", -5.0, "must be > 0"),
        ("center", math.nan, "finite"),
        ("center", math.inf, "finite"),
        ("center", "abc", "decimal number"),
        ("spacing", 0, "must be > 0 and < 1"),
        ("spacing", 1, "must be > 0 and < 1"),
        ("spacing", -0.01, "must be > 0 and < 1"),
        ("spacing", math.nan, "finite"),
        ("num_levels", 0, "between 1 and 1000"),
        ("num_levels", 1001, "between 1 and 1000"),
        ("num_levels", 2.5, "integer"),
        ("num_levels", True, "integer"),
        ("num_levels", -3, ">= 0"),
        ("min_price_distance", -1, "must be >= 0"),
        ("min_price_distance", math.inf, "finite"),
        ("amount_per_level", 0, "must be > 0"),
        ("amount_per_level", 0.0001, "at least one lot"),
    ],
)
def test_bad_grid_argument_names_field_value_and_rule(field: str, value: Any, rule: str) -> None:
    kwargs = {**GOOD, field: value}
    with pytest.raises(gh.InvalidInputError) as info:
        gh.grid_levels(market=market(), **kwargs)
    e = info.value
    assert e.field == field
    assert rule in str(e) and rule in (e.rule or "")
    assert field in str(e)
    assert e.value is not None and e.value in str(e)
    assert isinstance(e, gh.GridHedgeError) and isinstance(e, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tick_size": "0"}, "tick_size"),
        ({"tick_size": "-0.1"}, "tick_size"),
        ({"tick_size": "nan"}, "tick_size"),
        ({"tick_size": "x"}, "tick_size"),
        ({"lot_size": "0"}, "lot_size"),
        ({"min_qty": "-1"}, "min_qty"),
        ({"min_notional": "-5"}, "min_notional"),
        ({"tick_size": object()}, "tick_size"),
    ],
)
def test_bad_market_names_its_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"tick_size": "0.1", "lot_size": "0.001", **kwargs}
    with pytest.raises(gh.InvalidInputError) as info:
        gh.Market(**args)
    assert info.value.field == field
    assert field in str(info.value)


def test_wrong_mode_market_and_side_are_named() -> None:
    with pytest.raises(gh.InvalidInputError, match="mode") as info:
        gh.grid_levels(market=market(), mode="spiral", **GOOD)
    assert info.value.value == '"spiral"'
    with pytest.raises(gh.InvalidInputError, match="market"):
        gh.grid_levels(market="BTCUSDT", **GOOD)  # type: ignore[arg-type]
    with pytest.raises(gh.InvalidInputError, match="side"):
        market().price_to_ticks(100, "long")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("array", "described"),
    [
        (np.array([1, 2, 3], dtype=np.int64), "int64"),
        (np.array([1.0, 2.0], dtype=np.float32), "float32"),
        (np.ones((2, 2)), "2 dimension"),
        ((np.arange(10, dtype=np.float64) + 1.0)[::2], "non-contiguous"),
        ([1.0, 2.0], "list"),
    ],
)
def test_bad_center_arrays_are_refused_without_copying(array: Any, described: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        gh.grid_levels_batch(array, 0.01, 5, market(), 0.01)
    assert info.value.field == "centers"
    assert described in str(info.value)
    assert "C-contiguous numpy float64" in str(info.value)


def test_bad_center_inside_a_batch_names_its_position() -> None:
    centers = np.full(100, 95236.15)
    centers[42] = np.nan
    with pytest.raises(gh.InvalidInputError) as info:
        gh.grid_levels_batch(centers, 0.01, 5, market(), 0.01)
    assert info.value.field == "centers[42]"


def test_too_far_grid_is_refused_not_overflowed() -> None:
    with pytest.raises(gh.InvalidInputError, match="tick limit"):
        gh.grid_levels(95236.15, 0.5, 1000, market(), 0.01)


def test_a_panic_in_the_core_becomes_internal_error() -> None:
    with pytest.raises(gh.InternalError, match="deliberate test panic") as info:
        _core._panic_for_test()
    assert isinstance(info.value, RuntimeError)
    # the interpreter is intact afterwards
    assert gh.grid_levels(**GOOD, market=market()).sells


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.just(np.float64("nan")),
    st.just(np.int64(7)),
    st.lists(st.floats(), max_size=3),
)


@given(
    center=anything,
    spacing=anything,
    num_levels=anything,
    amount=anything,
    distance=anything,
    mode=st.one_of(anything, st.sampled_from(["geometric", "arithmetic"])),
)
def test_fuzzed_arguments_raise_only_the_error_family(
    center: Any, spacing: Any, num_levels: Any, amount: Any, distance: Any, mode: Any
) -> None:
    try:
        g = gh.grid_levels(center, spacing, num_levels, market(), amount, distance, mode)
    except gh.GridHedgeError as e:
        assert not isinstance(e, gh.InternalError)
        assert e.field and e.rule
        return
    for lv in g.buys + g.sells:
        assert lv.price > 0 and lv.amount > 0


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30))
def test_fuzzed_batches_raise_only_the_error_family(values: list[float]) -> None:
    arr = np.array(values, dtype=np.float64)
    try:
        b = gh.grid_levels_batch(arr, 0.01, 3, market(), 0.01)
    except gh.GridHedgeError as e:
        assert not isinstance(e, gh.InternalError)
        assert e.field is not None and e.field.startswith("centers")
        return
    assert (b.buy_ticks >= 0).all() and (b.sell_ticks >= 0).all()


def test_batch_releases_the_gil() -> None:
    """A Python thread keeps running while the batch computes (impossible if it held the GIL)."""
    centers = np.linspace(50_000.0, 150_000.0, 2_000_000)
    ticks: list[float] = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.01)
    start = time.perf_counter()
    gh.grid_levels_batch(centers, 0.01, 5, market(), 0.01)
    end = time.perf_counter()
    stop.set()
    worker.join()
    during = [t for t in ticks if start < t < end]
    assert during, "no Python bytecode ran while the batch was computing"


def test_decimal_inputs_are_exact() -> None:
    m = market()
    assert m.price_to_ticks(Decimal("95236.15"), "buy") == 952361
    assert m.price_to_ticks("95236.15", "sell") == 952362
    assert m.price_to_ticks(Decimal("95236.2"), "sell") == 952362
    assert m.round_price(95236.15, "buy") == Decimal("95236.1")
    assert m.round_amount("0.0199") == Decimal("0.019")
    assert m.ticks_to_price(952361) == Decimal("95236.1")
    assert str(m.lots_to_amount(10)) == "0.010"
