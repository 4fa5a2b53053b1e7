"""VaR backtests against independent references (scipy.special.xlogy, scipy.stats.chi2),
golden values with their arithmetic and published source, edge cases and bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import gridhedge as gh
from gridhedge.risk import var as gv
from gridhedge.risk import var_backtest as bt
from tests.references import var as ref

CHI2_95 = float(stats.chi2.ppf(0.95, 1))  # 3.841


def close(a: float, b: float, rel: float = 1e-10, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@given(t=st.integers(1, 5000), frac=st.floats(0, 1), c=st.floats(0.5, 0.999))
def test_kupiec_matches_reference(t: int, frac: float, c: float) -> None:
    x = round(t * frac)
    lr, p = bt.kupiec_pof(t, x, c)
    rl, rp = ref.kupiec(t, x, c)
    assert close(lr, rl, 1e-9, 1e-9) and close(p, rp, 1e-7, 1e-12)
    assert lr >= 0 and 0 <= p <= 1


@given(exc=hnp.arrays(np.bool_, st.integers(0, 400)))
def test_christoffersen_matches_reference(exc: np.ndarray) -> None:
    lr, p = bt.christoffersen_independence(exc)
    rl, rp = ref.christoffersen(exc)
    assert close(lr, rl, 1e-9, 1e-9) and close(p, rp, 1e-7, 1e-12)


@given(exc=hnp.arrays(np.bool_, st.integers(1, 400)), c=st.floats(0.5, 0.999))
def test_conditional_coverage_is_pof_plus_ind_with_2_df(exc: np.ndarray, c: float) -> None:
    lr, p = bt.conditional_coverage(exc, c)
    pof, _ = ref.kupiec(len(exc), int(exc.sum()), c)
    ind, _ = ref.christoffersen(exc)
    assert close(lr, pof + ind, 1e-9, 1e-9)
    assert close(p, float(stats.chi2.sf(pof + ind, 2)), 1e-7, 1e-12)


@given(
    r=hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-0.2, 0.2)),
    v=st.floats(-0.05, 0.2),
    c=st.floats(0.5, 0.999),
)
def test_backtest_matches_numpy_exceptions(r: np.ndarray, v: float, c: float) -> None:
    var = np.full(len(r), v)
    exc = bt.var_exceptions(r, var)
    np.testing.assert_array_equal(exc, -r > var)
    np.testing.assert_array_equal(bt.var_exceptions(r, v), exc)
    b = bt.var_backtest(r, var, c)
    assert b.n_obs == len(r) and b.n_exceptions == int(exc.sum())
    assert close(b.expected_exceptions, (1 - c) * len(r))
    assert (b.n00 + b.n01 + b.n10 + b.n11) == max(len(r) - 1, 0)
    assert close(b.lr_pof, ref.kupiec(len(r), int(exc.sum()), c)[0], 1e-9, 1e-9)
    assert close(b.lr_ind, ref.christoffersen(exc)[0], 1e-9, 1e-9)
    assert close(b.lr_cc, b.lr_pof + b.lr_ind, 1e-12, 1e-12)


def test_kupiec_non_rejection_regions_of_jorion() -> None:
    # Jorion, "Value at Risk" (3rd ed.), Table 6-3, after Kupiec (1995): at a 5% test size the
    # number of exceptions N is not rejected for p = 0.01 when T = 255: N < 7; T = 510:
    # 1 < N < 11; T = 1000: 4 < N < 17; and for p = 0.05, T = 255: 6 < N < 21.
    # One difference: the table gives no lower bound at p = 0.01, T = 255, but the LR itself
    # rejects N = 0 there: -2 x 255 x ln 0.99 = 5.126 > 3.841 (N = 1: LR = 1.24, accepted).
    def accepted(t: int, c: float) -> list[int]:
        return [x for x in range(t + 1) if bt.kupiec_pof(t, x, c)[0] < CHI2_95]

    assert accepted(255, 0.99) == list(range(1, 7))
    assert accepted(510, 0.99) == list(range(2, 11))
    assert accepted(1000, 0.99) == list(range(5, 17))
    assert accepted(255, 0.95) == list(range(7, 21))


def test_kupiec_by_hand() -> None:
    # T = 250, x = 5, p = 0.01, phat = 5/250 = 0.02:
    # null = 245 ln 0.99 + 5 ln 0.01 = -2.462332 - 23.025851 = -25.488183
    # alt  = 245 ln 0.98 + 5 ln 0.02 = -4.949663 - 19.560115 = -24.509778
    # LR = -2 x (-25.488183 + 24.509778) = 1.956810; chi2(1).sf(1.956810) = 0.16188
    lr, p = bt.kupiec_pof(250, 5, 0.99)
    assert abs(lr - 1.956810) < 1e-6 and abs(p - 0.16188) < 1e-4
    # no exception: LR = -2 x 250 x ln 0.99 = 5.025168 (0 ln 0 = 0)
    assert abs(bt.kupiec_pof(250, 0, 0.99)[0] - 5.025168) < 1e-6
    # every bar an exception: LR = -2 x 250 x ln 0.01 = 2302.585093, p-value 0, not NaN
    lr, p = bt.kupiec_pof(250, 250, 0.99)
    assert abs(lr - 2302.585093) < 1e-6 and p == 0.0


def test_christoffersen_by_hand() -> None:
    # 0 0 1 1 0 0 0 1 0 0: transitions 00 x4, 01 x2, 11 x1, 10 x2
    # pi01 = 2/6 = pi11 = 1/3 = pi = 3/9: the alternative equals the null, LR = 0, p = 1
    exc = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    b = bt.var_backtest(np.where(exc, -0.1, 0.0), 0.05, 0.9)
    assert (b.n00, b.n01, b.n10, b.n11) == (4, 2, 2, 1)
    assert abs(b.lr_ind) < 1e-12 and abs(b.p_ind - 1) < 1e-12
    # 0 1 0 1 0 1: n01 = 3, n10 = 2, n00 = n11 = 0; pi01 = 1, pi11 = 0, pi = 3/5
    # null = 2 ln 0.4 + 3 ln 0.6 = -1.832581 - 1.532477 = -3.365058
    # alt = 0 ln 0 + 3 ln 1 + 2 ln 1 + 0 ln 0 = 0 -> LR = 6.730117
    lr, p = bt.christoffersen_independence(np.array([0, 1, 0, 1, 0, 1], dtype=bool))
    assert abs(lr - 6.730117) < 1e-6 and abs(p - float(stats.chi2.sf(6.730117, 1))) < 1e-6


@pytest.mark.parametrize(
    "exc",
    [
        np.array([], dtype=bool),
        np.array([True]),
        np.zeros(50, dtype=bool),
        np.ones(50, dtype=bool),
    ],
)
def test_no_transitions_or_no_changes_give_zero_not_nan(exc: np.ndarray) -> None:
    assert bt.christoffersen_independence(exc) == (0.0, 1.0)
    if len(exc):
        lr, p = bt.conditional_coverage(exc, 0.99)
        assert math.isfinite(lr) and 0 <= p <= 1


def test_rolling_var_backtest_on_iid_data_is_not_rejected() -> None:
    # 99% rolling historical VaR on i.i.d. normal returns: exceptions near 1%
    r = np.random.default_rng(3).normal(0, 0.01, 6000)
    var, _ = gv.rolling_historical_var(r, 1000, 0.99)
    b = bt.var_backtest(r[1000:], var[:-1], 0.99)
    assert b.n_obs == 5000 and 25 < b.n_exceptions < 80
    assert b.p_cc > 0.001


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda: bt.kupiec_pof(0, 0, 0.99), "n_obs", "0", "must be >= 1"),
        (lambda: bt.kupiec_pof(10, 11, 0.99), "n_exceptions", "11", "<= n_obs (10)"),
        (lambda: bt.kupiec_pof(10, 1, 1.5), "confidence", "1.5", "must be > 0 and < 1"),
        (lambda: bt.kupiec_pof(-1, 0), "n_obs", "-1", ">= 0"),
        (lambda: bt.var_backtest(np.zeros(3), np.zeros(4)), "var", "length 4", "same length"),
        (lambda: bt.var_backtest(np.array([]), np.array([])), "returns", "0 value(s)", "at least"),
        (
            lambda: bt.var_backtest(np.array([0.1, math.nan]), 0.05),
            "returns[1]",
            "NaN",
            "must be finite",
        ),
        (
            lambda: bt.var_exceptions(np.zeros(2), np.array([0.1, math.inf])),
            "var[1]",
            "inf",
            "must be finite",
        ),
        (
            lambda: bt.christoffersen_independence(np.zeros(3)),
            "exceptions",
            "array of dtype float64 with 1 dimension(s)",
            "numpy bool array",
        ),
        (lambda: bt.conditional_coverage(np.array([], dtype=bool)), "n_obs", "0", ">= 1"),
    ],
)
def test_bad_input_names_field_value_and_rule(call: Any, field: str, value: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call()
    e = info.value
    assert e.field == field, str(e)
    assert e.value == value, str(e)
    assert rule in (e.rule or ""), str(e)


def test_nan_policy_omit_drops_pairs() -> None:
    r = np.array([-0.1, math.nan, -0.01, 0.02])
    v = np.array([0.05, 0.05, math.nan, 0.05])
    b = bt.var_backtest(r, v, 0.95, "omit")
    assert b.n_obs == 2 and b.n_exceptions == 1
    np.testing.assert_array_equal(b.exceptions, [True, False])
