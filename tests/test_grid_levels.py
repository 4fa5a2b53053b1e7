"""Grid levels: golden values worked by hand, properties against the Decimal reference."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import gridhedge as gh
from tests.references.grid import reference_grid

TICKS = ["0.00001", "0.001", "0.01", "0.1", "0.10", "0.5", "1", "5"]
LOTS = ["0.0001", "0.001", "0.1", "1"]


def btc() -> gh.Market:
    return gh.Market("0.10", "0.001", "0.001", "100")


def test_golden_default_grid_worked_by_hand() -> None:
    # c = 95236.15, 1% geometric, tick 0.10:
    # sell 1 = 95236.15 * 1.01 = 95236.15 + 952.3615 = 96188.5115 -> up to the tick: 96188.6
    # sell 2 = 96188.5115 * 1.01 = 96188.5115 + 961.885115 = 97150.396615 -> 97150.4
    # buy 1 = 95236.15 / 1.01; 1.01 * 94293.2 = 95236.132 <= 95236.15 < 95236.233 = 1.01 * 94293.3
    #       -> down to the tick: 94293.2
    # notional of buy 1 = 94293.2 * 0.010 = 942.932 >= 100
    g = gh.grid_levels("95236.15", "0.01", 5, btc(), "0.01")
    assert [str(lv.price) for lv in g.sells] == [
        "96188.6",
        "97150.4",
        "98122.0",
        "99103.2",
        "100094.2",
    ]
    assert [str(lv.price) for lv in g.buys] == [
        "94293.2",
        "93359.6",
        "92435.2",
        "91520.0",
        "90613.9",
    ]
    assert g.buys[0].notional == Decimal("942.932")
    assert all(lv.amount == Decimal("0.010") and lv.amount_lots == 10 for lv in g.buys + g.sells)
    assert [lv.index for lv in g.sells] == [1, 2, 3, 4, 5]
    assert (g.merged, g.dropped_nonpositive, g.dropped_below_minimum) == (0, 0, 0)


def test_golden_arithmetic_worked_by_hand() -> None:
    # c = 2000, 2.5% arithmetic, tick 0.5: step 50 -> sells 2050, 2100; buys 1950, 1900
    g = gh.grid_levels(2000, 0.025, 2, gh.Market("0.5", "1"), 1, mode="arithmetic")
    assert [lv.price for lv in g.sells] == [Decimal("2050.0"), Decimal("2100.0")]
    assert [lv.price for lv in g.buys] == [Decimal("1950.0"), Decimal("1900.0")]


def test_no_float_artifacts_reach_prices() -> None:
    g = gh.grid_levels(95236.15, 0.003, 50, btc(), 0.01)
    for lv in g.buys + g.sells:
        assert len(str(lv.price).split(".")[1]) == 1, lv.price
        assert lv.price == lv.price_ticks * Decimal("0.1")


centers = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
spacings = st.floats(min_value=1e-4, max_value=0.5)


@example(  # a tie across the center that float noise used to break the other way
    center=0.03125,
    spacing=0.015625,
    num_levels=1,
    tick="0.00001",
    lot="0.0001",
    min_notional="0",
    amount=1.0,
    min_distance=1.0,
    mode="geometric",
)
@given(
    center=centers,
    spacing=spacings,
    num_levels=st.integers(1, 30),
    tick=st.sampled_from(TICKS),
    lot=st.sampled_from(LOTS),
    min_notional=st.sampled_from(["0", "5", "100"]),
    amount=st.floats(min_value=1e-3, max_value=10.0),
    min_distance=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=500.0)),
    mode=st.sampled_from(["geometric", "arithmetic"]),
)
def test_grid_equals_decimal_reference_and_keeps_invariants(
    center: float,
    spacing: float,
    num_levels: int,
    tick: str,
    lot: str,
    min_notional: str,
    amount: float,
    min_distance: float,
    mode: str,
) -> None:
    market = gh.Market(tick, lot, "0", min_notional)
    try:
        g = gh.grid_levels(center, spacing, num_levels, market, amount, min_distance, mode)
    except gh.InvalidInputError as e:
        # only two refusals are legitimate here: less than one lot, or a grid past 1e12 ticks
        assert e.field in {"amount_per_level", "center"}, e
        if e.field == "amount_per_level":
            assert Decimal(amount) < Decimal(lot)
        else:
            assert "tick limit" in str(e)
        return
    ref = reference_grid(
        center, spacing, num_levels, tick, lot, "0", min_notional, amount, min_distance, mode
    )
    assert [(lv.index, lv.price_ticks, lv.amount_lots) for lv in g.buys] == [
        (r.index, r.ticks, r.lots) for r in ref.buys
    ]
    assert [(lv.index, lv.price_ticks, lv.amount_lots) for lv in g.sells] == [
        (r.index, r.ticks, r.lots) for r in ref.sells
    ]
    assert (g.merged, g.dropped_nonpositive, g.dropped_below_minimum) == (
        ref.merged,
        ref.dropped_nonpositive,
        ref.dropped_below_minimum,
    )
    # invariants, checked on the exact decimals
    t = Decimal(tick)
    c = Decimal(center)
    levels = g.buys + g.sells
    assert len(g.buys) <= num_levels and len(g.sells) <= num_levels
    for lv in levels:
        assert lv.price % t == 0
        assert market.round_price(lv.price, lv.side) == lv.price  # snapping is idempotent
        assert market.round_price(float(lv.price), lv.side) == lv.price
    assert all(lv.price < c for lv in g.buys)
    assert all(lv.price > c for lv in g.sells)
    ladder = sorted(lv.price for lv in levels)
    gaps = [b - a for a, b in itertools.pairwise(ladder)]
    # a float min distance counts within float noise (0.01 is 0.01000000000000000020816...)
    floor = Decimal(min_distance) * (1 - Decimal("1e-12"))
    assert all(gap >= floor and gap >= t for gap in gaps)
    if g.buys and g.sells and g.dropped_nonpositive + g.dropped_below_minimum == 0:
        # merging moves amounts, never loses them
        per_level = market.amount_to_lots(amount)
        assert sum(lv.amount_lots for lv in levels) == 2 * num_levels * per_level


@given(
    data=st.lists(centers, min_size=1, max_size=40),
    spacing=spacings,
    num_levels=st.integers(1, 12),
    tick=st.sampled_from(TICKS),
    min_distance=st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=50.0)),
    mode=st.sampled_from(["geometric", "arithmetic"]),
)
def test_batch_rows_equal_single_grids(
    data: list[float], spacing: float, num_levels: int, tick: str, min_distance: float, mode: str
) -> None:
    market = gh.Market(tick, "0.001", "0", "1")
    arr = np.array(data, dtype=np.float64)
    try:
        b = gh.grid_levels_batch(arr, spacing, num_levels, market, 0.5, min_distance, mode)
    except gh.InvalidInputError as e:
        assert "tick limit" in str(e)
        return
    assert len(b) == len(data)
    assert b.buy_ticks.shape == (len(data), num_levels) and b.buy_ticks.dtype == np.int64
    buy_prices, sell_prices = b.buy_prices(), b.sell_prices()
    for r, c in enumerate(data):
        g = gh.grid_levels(c, spacing, num_levels, market, 0.5, min_distance, mode)
        nb, ns = len(g.buys), len(g.sells)
        assert (b.buy_count[r], b.sell_count[r]) == (nb, ns)
        assert list(b.buy_ticks[r, :nb]) == [lv.price_ticks for lv in g.buys]
        assert list(b.sell_ticks[r, :ns]) == [lv.price_ticks for lv in g.sells]
        assert list(b.sell_lots[r, :ns]) == [lv.amount_lots for lv in g.sells]
        assert not b.buy_ticks[r, nb:].any() and np.isnan(buy_prices[r, nb:]).all()
        # the float view is the nearest double of each exact price
        assert list(sell_prices[r, :ns]) == [float(lv.price) for lv in g.sells]
        assert b.merged[r] == g.merged
        assert b.dropped[r] == g.dropped_nonpositive + g.dropped_below_minimum


def test_merging_reports_counts_and_keeps_amounts() -> None:
    # tick 1, c = 100, 0.1%: sells 100.1, 100.2, 100.3 all snap up to 101 -> one level of 3x
    g = gh.grid_levels(100, 0.001, 3, gh.Market("1", "1"), 2)
    assert [(lv.price, lv.amount) for lv in g.sells] == [(Decimal("101"), Decimal("6"))]
    assert [(lv.price, lv.amount) for lv in g.buys] == [(Decimal("99"), Decimal("6"))]
    assert g.merged == 4


def test_levels_below_min_notional_are_dropped_and_reported() -> None:
    # 0.01 BTC needs a price >= 10000 for 100 USD: around 10100 only buy 1 (= 10000.0) stays
    g = gh.grid_levels(10100, 0.01, 5, btc(), 0.01)
    assert [str(lv.price) for lv in g.buys] == ["10000.0"]
    assert g.dropped_below_minimum == 4
