"""Hedge ratio, hedge effectiveness and funding carry against numpy and pandas references:
OLS beta vs np.polyfit and np.cov, EWMA beta vs pandas ewm(adjust=False) cov/var, rolling beta
vs pandas rolling cov/var, effectiveness vs its variance definition."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.risk import hedge


def returns(seed: int, n: int, beta: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Correlated per-bar returns: futures ~ N(0, 1%), spot = beta * futures + noise."""
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 0.01, n)
    s = beta * f + rng.normal(0.0, noise, n)
    return s, f


series = st.builds(
    returns,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 300),
    beta=st.floats(-2.0, 2.0),
    noise=st.floats(0.0, 0.02),
)


def test_golden_ols_beta() -> None:
    """By hand: futures 1, 2, 3, 4 and spot = 2 x futures + 1: beta 2, a perfect hedge."""
    f = np.array([1.0, 2.0, 3.0, 4.0])
    s = 2.0 * f + 1.0
    assert hedge.ols_beta(s, f) == 2.0
    assert hedge.hedge_effectiveness(s, f) == 1.0
    assert hedge.hedge_effectiveness(s, f, hedge_ratio=0.0) == 0.0


@given(series)
def test_ols_beta_matches_polyfit_and_cov(sf: tuple[np.ndarray, np.ndarray]) -> None:
    s, f = sf
    beta = hedge.ols_beta(s, f)
    slope = np.polyfit(f, s, 1)[0]
    cov = np.cov(s, f)
    assert math.isclose(beta, slope, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(beta, cov[0, 1] / cov[1, 1], rel_tol=1e-9, abs_tol=1e-9)


@given(series, st.floats(0.5, 0.99), st.integers(2, 5))
def test_ewma_beta_matches_pandas_ewm(
    sf: tuple[np.ndarray, np.ndarray], lam: float, min_periods: int
) -> None:
    s, f = sf
    if len(s) < min_periods:
        return
    b = hedge.ewma_beta(s, f, lam=lam, min_periods=min_periods)
    ew_s = pd.Series(s).ewm(alpha=1 - lam, adjust=False)
    ew_f = pd.Series(f).ewm(alpha=1 - lam, adjust=False)
    ref = (ew_s.cov(pd.Series(f)) / ew_f.var()).to_numpy()[min_periods - 1 :]
    assert len(b) == len(s) - min_periods + 1
    np.testing.assert_allclose(b, ref, rtol=1e-7, atol=1e-9)


@given(series, st.integers(2, 50))
# found by a 5,000-example run: a noiseless 2-bar window, where sliding cancelled 6 digits
@example(sf=returns(seed=125172, n=37, beta=0.09375, noise=0.0), window=2)
def test_rolling_beta_matches_pandas_rolling(
    sf: tuple[np.ndarray, np.ndarray], window: int
) -> None:
    s, f = sf
    window = min(window, len(s))
    b = hedge.rolling_beta(s, f, window)
    ps, pf = pd.Series(s), pd.Series(f)
    ref = (ps.rolling(window).cov(pf) / pf.rolling(window).var()).to_numpy()[window - 1 :]
    np.testing.assert_allclose(b, ref, rtol=1e-7, atol=1e-9)


noisy_series = st.builds(
    returns,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 300),
    beta=st.floats(-2.0, 2.0),
    noise=st.floats(1e-4, 0.02),
)


@given(noisy_series, st.floats(-3.0, 3.0))
def test_effectiveness_matches_variance_definition(
    sf: tuple[np.ndarray, np.ndarray], h: float
) -> None:
    s, f = sf
    he = hedge.hedge_effectiveness(s, f, hedge_ratio=h)
    ref = 1.0 - np.var(s - h * f) / np.var(s)
    assert math.isclose(he, ref, rel_tol=1e-9, abs_tol=1e-9)
    r2 = np.corrcoef(s, f)[0, 1] ** 2
    assert math.isclose(hedge.hedge_effectiveness(s, f), r2, rel_tol=1e-9, abs_tol=1e-9)


def test_funding_carry_signs() -> None:
    """By hand: short 2 BTC at 50,000 over three 8h intervals of +0.01%: the short receives
    2 x 50,000 x 0.0003 = 30 USD; a long pays 30; a constant rate over periods is the same."""
    rates = np.full(3, 0.0001)
    assert math.isclose(hedge.funding_carry(-2, 50_000, rates), 30.0)
    assert math.isclose(hedge.funding_carry(2, 50_000, rates), -30.0)
    assert math.isclose(hedge.funding_carry(-2, 50_000, 0.0001, periods=3), 30.0)
    assert math.isclose(hedge.funding_carry("-2", "50000", "0.0001"), 10.0)


def test_omit_drops_bars_where_either_series_is_missing() -> None:
    s = np.array([3.0, np.nan, 5.0, 7.0, 1.0])
    f = np.array([1.0, 9.0, 2.0, 3.0, np.inf])
    assert hedge.ols_beta(s, f, nan_policy="omit") == 2.0
    with pytest.raises(gh.InvalidInputError) as info:
        hedge.ols_beta(s, f)
    assert info.value.field == "spot[1]"


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda: hedge.ols_beta(np.ones(3), np.ones(2)), "futures", "length 2", "same length"),
        (lambda: hedge.ols_beta(np.ones(1), np.ones(1)), "spot", "1 value(s)", "at least 2"),
        (lambda: hedge.rolling_beta(np.ones(3), np.ones(3), 4), "window", "4", "<= the series"),
        (lambda: hedge.rolling_beta(np.ones(3), np.ones(3), 1), "window", "1", ">= 2"),
        (lambda: hedge.ewma_beta(np.ones(3), np.ones(3), lam=1.0), "lam", "1", "> 0 and < 1"),
        (
            lambda: hedge.ewma_beta(np.ones(3), np.ones(3), min_periods=1),
            "min_periods",
            "1",
            ">= 2",
        ),
        (
            lambda: hedge.hedge_effectiveness(np.ones(3), np.ones(3), math.nan),
            "hedge_ratio",
            "NaN",
            "finite",
        ),
        (lambda: hedge.funding_carry(1, 0, np.ones(1) * 1e-4), "price", "0", "> 0"),
        (lambda: hedge.funding_carry(1, 1, np.array([2.0])), "rates[0]", "2", "< 1"),
        (lambda: hedge.funding_carry(1, 1, 1e-4, periods=0), "periods", "0", ">= 1"),
        (lambda: hedge.funding_carry(1, 1, np.ones(0)), "rates", "0 value(s)", "at least 1"),
    ],
)
def test_bad_inputs_name_field_value_and_rule(
    call: object, field: str, value: str, rule: str
) -> None:
    assert callable(call)
    with pytest.raises(gh.InvalidInputError) as info:
        call()
    e = info.value
    assert (e.field, e.value) == (field, value)
    assert rule in (e.rule or "")


@pytest.mark.parametrize(
    "call",
    [
        lambda: hedge.ols_beta(np.array([1.0, 2.0, 3.0]), np.full(3, 0.01)),
        lambda: hedge.rolling_beta(np.arange(6.0), np.array([1, 2, 3, 3, 3, 4.0]), 3),
        lambda: hedge.ewma_beta(np.arange(3.0), np.array([1.0, 1.0, 2.0])),
        lambda: hedge.hedge_effectiveness(np.ones(3), np.arange(3.0)),
    ],
)
def test_zero_variance_is_a_numerical_error(call: object) -> None:
    assert callable(call)
    with pytest.raises(gh.NumericalError) as info:
        call()
    assert "zero variance" in str(info.value)
