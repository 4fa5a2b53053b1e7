"""Position sizing against independent references: exact Decimal per-level and vol-target
amounts, scipy.stats.norm.ppf for the VaR quantile, the Kelly formula in numpy; every size
capped, in whole lots, and zero with its reason under the market minimums."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.risk import sizing
from tests.references.sizing import (
    LOT,
    ref_finish,
    ref_level_lots,
    ref_vol_target_lots,
)


def market() -> gh.Market:
    return gh.Market("0.10", "0.001", "0.001", "100")


prices = st.floats(1.0, 200_000.0)
caps = st.decimals(Decimal(0), Decimal(50), places=3)
# quote amounts: zero or at least 1e-9 (a model amount that underflows to 0.0 in floats is
# reported as the model's zero, while the exact reference would call it under min_qty)
amounts = st.one_of(st.just(0.0), st.floats(1e-9, 1e7))
ratios = st.one_of(st.just(0.0), st.floats(1e-9, 1.0))


def near_integer(q: float) -> bool:
    return abs(q - round(q)) <= 1e-9 * max(1.0, abs(q))


def test_golden_level_sizes() -> None:
    """DESIGN 'Band' by hand: E = 100,000 USD at 50,000, h = 1.0 in [0.8, 1.2], 5 levels:
    (1.2 - 1.0) x 100,000 / 50,000 / 5 = 0.08 BTC a sell level (0.07999999999999999 in floats,
    on the lot within the snap tolerance) -> 80 lots = Decimal('0.080'); buys the same;
    notional 0.08 x 50,000 = 4,000 >= 100. A cap of 0.05 BTC binds: 50 lots."""
    s = sizing.grid_level_sizes(100_000, 50_000, 1.0, 0.8, 1.2, 5, "1.0", market())
    assert (s.sell.lots, s.sell.amount, s.sell.bound_by) == (80, Decimal("0.080"), "hedge_band")
    assert (s.buy.lots, s.buy.bound_by, s.levels) == (80, "hedge_band", 5)
    s = sizing.grid_level_sizes(100_000, 50_000, 1.0, 0.8, 1.2, 5, "0.05", market())
    assert (s.sell.lots, s.sell.bound_by) == (50, "max_position_size")
    # E = 2,000: 0.0016 BTC -> 1 lot, 0.001 x 50,000 = 50 USD < 100: reported, not rounded up
    s = sizing.grid_level_sizes(2_000, 50_000, 1.0, 0.8, 1.2, 5, "1.0", market())
    assert (s.sell.lots, s.sell.amount, s.sell.bound_by) == (0, Decimal("0.000"), "min_notional")
    # E = 1,000: 0.0008 BTC is under one lot
    s = sizing.grid_level_sizes(1_000, 50_000, 1.0, 0.8, 1.2, 5, "1.0", market())
    assert (s.sell.lots, s.sell.bound_by) == (0, "min_qty")
    assert "hedge_band" in repr(gh._core.grid_level_sizes(1e5, 5e4, 1, 0.8, 1.2, 5, 1, market()))


def test_golden_models() -> None:
    """Vol target: 500 USD a bar at 50,000 and 1% a bar: 500 / (50,000 x 0.01) = 1 BTC.
    VaR budget: z(0.99) = 2.326347874040841; 0.5 x 10,000 / (2.3263 x 0.02 x 50,000) =
    2.14929 BTC -> 2.149. Kelly: 0.5 x 0.001 / 0.01**2 = 5 x equity, capped at 2: 4 BTC."""
    m = market()
    s = sizing.vol_target_size(50_000, 0.01, 500, 10, m)
    assert (s.amount, s.bound_by) == (Decimal("1.000"), "vol_target")
    s = sizing.var_budget_size(50_000, 0.02, 10_000, 10, m, confidence=0.99, share=0.5)
    assert (s.amount, s.bound_by) == (Decimal("2.149"), "var_budget")
    s = sizing.kelly_size(50_000, 0.001, 0.01, 100_000, 10, m, fraction=0.5, max_fraction=2)
    assert (s.amount, s.bound_by) == (Decimal("4.000"), "kelly_cap")
    s = sizing.kelly_size(50_000, -0.001, 0.01, 100_000, 10, m)
    assert (s.lots, s.bound_by, s.raw_amount) == (0, "kelly", 0.0)
    s = sizing.var_budget_size(50_000, 0.02, 10_000, 3, m, mean=1.0)
    assert (s.amount, s.bound_by, s.raw_amount) == (Decimal("3.000"), "max_position_size", math.inf)


@given(st.floats(0.001, 0.999))
def test_normal_quantile_matches_scipy(c: float) -> None:
    assert math.isclose(
        sizing.normal_quantile(c), scipy.stats.norm.ppf(c), rel_tol=1e-12, abs_tol=1e-13
    )


@given(
    exposure=amounts,
    price=prices,
    h_min=st.floats(0.0, 1.0),
    widths=st.tuples(ratios, ratios),
    levels=st.integers(1, 50),
    cap=caps,
)
def test_level_sizes_match_exact_decimal_reference(
    exposure: float,
    price: float,
    h_min: float,
    widths: tuple[float, float],
    levels: int,
    cap: Decimal,
) -> None:
    h = h_min + widths[0]
    h_max = h + widths[1]
    s = sizing.grid_level_sizes(exposure, price, h, h_min, h_max, levels, cap, market())
    cap_lots = int(cap / LOT)
    q_sell, q_buy = ref_level_lots(exposure, price, h, h_min, h_max, levels)
    for got, q in ((s.sell, q_sell), (s.buy, q_buy)):
        assert (got.lots, got.bound_by) == ref_finish(q, "hedge_band", cap_lots, price)
        assert got.lots <= cap_lots and got.amount == got.lots * LOT


@given(price=prices, sigma=st.floats(1e-4, 0.5), target=amounts, cap=caps)
def test_vol_target_matches_exact_decimal_reference(
    price: float, sigma: float, target: float, cap: Decimal
) -> None:
    s = sizing.vol_target_size(price, sigma, target, cap, market())
    q = ref_vol_target_lots(price, sigma, target)
    assert (s.lots, s.bound_by) == ref_finish(q, "vol_target", int(cap / LOT), price)


@given(
    price=prices,
    sigma=st.floats(1e-4, 0.2),
    limit=st.floats(0.0, 1e6),
    conf=st.floats(0.5, 0.999),
    horizon=st.integers(1, 30),
    share=st.floats(0.01, 1.0),
    mean=st.floats(-0.01, 0.01),
    cap=caps,
)
def test_var_budget_matches_scipy_reference(
    price: float,
    sigma: float,
    limit: float,
    conf: float,
    horizon: int,
    share: float,
    mean: float,
    cap: Decimal,
) -> None:
    m = market()
    s = sizing.var_budget_size(price, sigma, limit, cap, m, conf, horizon, share, mean)
    z = scipy.stats.norm.ppf(conf)
    unit_var = (z * sigma * math.sqrt(horizon) - mean * horizon) * price
    with np.errstate(over="ignore"):
        q: float | None = share * limit / unit_var / float(LOT) if unit_var > 0 else None
    if q is not None and not math.isfinite(q):
        q = None  # a per-unit VaR so small the budget overflows: no bound, as documented
    cap_lots = int(cap / LOT)
    if q is not None and (near_integer(q) or near_integer(q - cap_lots - 1)):
        return  # float rounding may land either side of a lot boundary
    assert (s.lots, s.bound_by) == ref_finish(
        None if q is None else Decimal(q), "var_budget", cap_lots, price
    )
    # the VaR of the returned size is within the budget
    if s.lots > 0 and unit_var > 0:
        assert float(s.amount) * unit_var <= share * limit * (1 + 1e-9)


@given(
    price=prices,
    mu=st.floats(-0.01, 0.01),
    sigma=st.floats(1e-3, 0.2),
    equity=amounts,
    fraction=st.floats(0.01, 1.0),
    max_fraction=st.floats(0.0, 5.0),
    cap=caps,
)
def test_kelly_matches_formula(
    price: float,
    mu: float,
    sigma: float,
    equity: float,
    fraction: float,
    max_fraction: float,
    cap: Decimal,
) -> None:
    s = sizing.kelly_size(price, mu, sigma, equity, cap, market(), fraction, max_fraction)
    f = max(fraction * mu / sigma**2, 0.0)
    model = "kelly"
    if f > max_fraction:
        f, model = max_fraction, "kelly_cap"
    q = f * equity / price / float(LOT)
    cap_lots = int(cap / LOT)
    if near_integer(q) or near_integer(q - cap_lots - 1):
        return
    assert (s.lots, s.bound_by) == ref_finish(Decimal(q), model, cap_lots, price)


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda m: sizing.vol_target_size(0, 0.01, 1, 1, m), "price", "0", "> 0"),
        (lambda m: sizing.vol_target_size(1, -0.1, 1, 1, m), "sigma", "-0.1", "> 0"),
        (lambda m: sizing.vol_target_size(1, 0.1, math.nan, 1, m), "target_vol", "NaN", "finite"),
        (lambda m: sizing.vol_target_size(1, 0.1, 1, -1, m), "max_position_size", "-1", ">= 0"),
        (lambda m: sizing.vol_target_size(1, 0.1, 1, -0.5, m), "max_position_size", "-0.5", ">= 0"),
        (lambda m: sizing.var_budget_size(1, 0.1, 1, 1, m, confidence=1), "confidence", "1", "< 1"),
        (lambda m: sizing.var_budget_size(1, 0.1, -1, 1, m), "var_limit", "-1", ">= 0"),
        (lambda m: sizing.var_budget_size(1, 0.1, 1, 1, m, share=2), "share", "2", "<= 1"),
        (lambda m: sizing.var_budget_size(1, 0.1, 1, 1, m, horizon=0), "horizon", "0", "> 0"),
        (lambda m: sizing.kelly_size(1, 0.1, 0.1, 1, 1, m, fraction=0), "fraction", "0", "> 0"),
        (lambda m: sizing.kelly_size(1, 0.1, 0.1, -1, 1, m), "equity", "-1", ">= 0"),
        (
            lambda m: sizing.grid_level_sizes(1, 1, 1.3, 0.8, 1.2, 5, 1, m),
            "hedge_ratio",
            "1.3",
            "band [0.8, 1.2]",
        ),
        (
            lambda m: sizing.grid_level_sizes(1, 1, 1, 1.2, 0.8, 5, 1, m),
            "hedge_ratio_max",
            "0.8",
            ">= hedge_ratio_min",
        ),
        (
            lambda m: sizing.grid_level_sizes(1, 1, 1, 0.8, 1.2, 0, 1, m),
            "num_levels",
            "0",
            "between 1 and 1000",
        ),
        (lambda m: sizing.vol_target_size(1, 0.1, 1, 1, "BTC"), "market", "<str>", "Market"),
    ],
)
def test_bad_inputs_name_field_value_and_rule(call: Any, field: str, value: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call(market())
    e = info.value
    assert (e.field, e.value) == (field, value)
    assert rule in (e.rule or "")
