"""Volatility estimators: golden values worked by hand from the papers, properties against
independent pandas/numpy references, and bad inputs naming field, value and rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gridhedge as gh
from gridhedge.risk import volatility as vol
from tests.references import volatility as ref

LN2 = math.log(2.0)

returns_arrays = hnp.arrays(
    np.float64,
    st.integers(2, 300),
    elements=st.floats(-0.3, 0.3, allow_nan=False, allow_infinity=False),
)


def candles(seed: int, n: int) -> tuple[Any, Any, Any, Any]:
    return ref.random_candles(np.random.default_rng(seed), n)


# ------------------------------------------------------------------ golden values by hand


def test_golden_one_candle_range_estimators() -> None:
    # One candle, O = 100, H = 100 e^0.02, L = 100 e^-0.01, C = 100 e^0.01, so ln(H/L) = 0.03,
    # ln(C/O) = 0.01, ln(H/C) = 0.01, ln(H/O) = 0.02, ln(L/C) = -0.02, ln(L/O) = -0.01.
    # Parkinson (1980, J. Business 53(1), eq. for sigma^2 = (ln H/L)^2 / (4 ln 2)):
    #   0.0009 / 2.7725887 = 3.2460638e-4 -> vol 0.0180168
    # Garman-Klass (1980, J. Business 53(1), "best analytic scale-invariant" practical form):
    #   0.5 * 0.0009 - (2 ln 2 - 1) * 0.0001 = 0.00045 - 0.0000386294 = 4.1137056e-4
    # Rogers-Satchell (1991, Ann. Appl. Probab. 1(4)): 0.01 * 0.02 + (-0.02)(-0.01) = 0.0004
    o = np.array([100.0])
    h = np.array([100.0 * math.exp(0.02)])
    lo = np.array([100.0 * math.exp(-0.01)])
    c = np.array([100.0 * math.exp(0.01)])
    assert vol.parkinson_vol(h, lo) ** 2 == pytest.approx(3.2460638e-4, rel=1e-7)
    assert vol.garman_klass_vol(o, h, lo, c) ** 2 == pytest.approx(4.1137056e-4, rel=1e-7)
    assert vol.rogers_satchell_vol(o, h, lo, c) ** 2 == pytest.approx(4e-4, rel=1e-10)


def test_golden_yang_zhang_three_candles() -> None:
    # Yang & Zhang (2000, J. Business 73(3)), 3 candles = 2 periods, all on e^x:
    # candle 0: C = 1; candle 1: O, H, L, C = e^.01, e^.03, e^0, e^.02;
    # candle 2: O, H, L, C = e^.02, e^.02, e^-.02, e^-.01.
    # opening jumps 0.01, 0.00 -> V_o = 5e-5; open-close 0.01, -0.03 -> V_c = 8e-4;
    # RS terms 2e-4 + 2e-4 and 0 + 4e-4 -> V_rs = 4e-4; k = 0.34 / (1.34 + 3/1) = 0.0783410.
    # sigma^2 = 5e-5 + 0.0783410 * 8e-4 + 0.9216590 * 4e-4 = 4.8133641e-4
    e = np.exp
    o = e(np.array([0.0, 0.01, 0.02]))
    h = e(np.array([0.0, 0.03, 0.02]))
    lo = e(np.array([0.0, 0.0, -0.02]))
    c = e(np.array([0.0, 0.02, -0.01]))
    assert vol.yang_zhang_vol(o, h, lo, c) ** 2 == pytest.approx(4.8133641e-4, rel=1e-7)


def test_golden_atr_wilder() -> None:
    # Wilder (1978), window 2: (H, L, C) = (10, 8, 9), (11, 9, 10), (12, 10, 11), (10, 7, 8)
    # TR = 2, 2, 4 (the last: max(3, |10 - 11|, |7 - 11|) = 4); ATR = (2 + 2)/2 = 2, then
    # 2 + (4 - 2)/2 = 3.
    h = np.array([10.0, 11.0, 12.0, 10.0])
    lo = np.array([8.0, 9.0, 10.0, 7.0])
    c = np.array([9.0, 10.0, 11.0, 8.0])
    assert vol.atr_series(h, lo, c, 2).tolist() == [2.0, 3.0]
    assert vol.atr(h, lo, c, window=2) == 3.0


def test_golden_ewma_and_close_to_close() -> None:
    # lam = 0.5, r = 2, 0, 4: s2 = 4, 2, 9 -> vol 2, sqrt 2, 3. Std of 1, 2, 3, 4 = sqrt(5/3).
    r = np.array([2.0, 0.0, 4.0])
    np.testing.assert_allclose(vol.ewma_vol_series(r, 0.5), [2.0, math.sqrt(2.0), 3.0])
    assert vol.ewma_vol(r, lam=0.5) == pytest.approx(3.0, rel=1e-15)
    assert vol.close_to_close_vol(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(
        math.sqrt(5 / 3), rel=1e-15
    )


# ------------------------------------------------------------------ against references


@given(returns_arrays, st.floats(0.01, 0.999))
@example(r=np.r_[0.25, np.zeros(142)], lam=0.02306011391929436)
def test_ewma_equals_pandas_ewm_adjust_false(r: Any, lam: float) -> None:
    got = vol.ewma_vol_series(r, lam)
    # as variances: below ~1e-300 (subnormal) doubles lose relative precision. pandas' own
    # recursion drifts by ~n ulps on long pure decays: on r = [0.25, 0 x 142], lam = 0.0231
    # (found by a 5,000-example run) it is 1.0e-12 off the exact rational 0.0625 lam^142,
    # gridhedge 2.5e-15 (measured with fractions.Fraction)
    expected = ref.ewma_vol_series(r, lam)
    np.testing.assert_allclose(got**2, expected**2, rtol=1e-10, atol=1e-300)
    assert vol.ewma_vol(r, lam) == got[-1]


def test_ewma_default_lambda_is_riskmetrics() -> None:
    r = np.random.default_rng(3).normal(0.0, 0.01, 500)
    np.testing.assert_allclose(vol.ewma_vol_series(r), ref.ewma_vol_series(r, 0.94), rtol=1e-12)


@given(returns_arrays, st.integers(2, 60))
def test_close_to_close_equals_numpy_and_pandas_rolling(r: Any, window: int) -> None:
    assert vol.close_to_close_vol(r) == pytest.approx(float(np.std(r, ddof=1)), rel=1e-9, abs=1e-15)
    if window > len(r):
        return
    got = vol.close_to_close_vol_rolling(r, window)
    assert got.shape == (len(r) - window + 1,)
    # compared as variances: both running algorithms carry rounding of order eps * max(r^2)
    scale = max(float(np.max(r**2)), 1e-290)  # subnormal variances lose digits
    expected = ref.close_to_close_rolling(r, window)
    np.testing.assert_allclose(got**2, expected**2, rtol=1e-9, atol=1e-13 * scale)
    if np.all(r == r[0]):
        assert (got == 0.0).all()


@given(st.integers(0, 2**32 - 1), st.integers(3, 200), st.integers(1, 40))
def test_range_estimators_equal_pandas(seed: int, n: int, window: int) -> None:
    o, h, lo, c = candles(seed, n)
    window = min(window, n - 1)
    single = {
        "parkinson": vol.parkinson_vol(h, lo),
        "garman_klass": vol.garman_klass_vol(o, h, lo, c),
        "rogers_satchell": vol.rogers_satchell_vol(o, h, lo, c),
    }
    rolling = {
        "parkinson": vol.parkinson_vol_rolling(h, lo, window),
        "garman_klass": vol.garman_klass_vol_rolling(o, h, lo, c, window),
        "rogers_satchell": vol.rogers_satchell_vol_rolling(o, h, lo, c, window),
    }
    for name in single:
        assert single[name] == pytest.approx(ref.range_vol(name, o, h, lo, c), rel=1e-10)
        expected = ref.range_vol_rolling(name, o, h, lo, c, window)
        assert rolling[name].shape == expected.shape == (n - window + 1,)
        np.testing.assert_allclose(rolling[name], expected, rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**32 - 1), st.integers(3, 200), st.integers(2, 40))
def test_yang_zhang_equals_pandas(seed: int, n: int, window: int) -> None:
    o, h, lo, c = candles(seed, n)
    window = min(window, n - 1)
    got = vol.yang_zhang_vol_rolling(o, h, lo, c, window)
    expected = ref.yang_zhang_rolling(o, h, lo, c, window)
    assert got.shape == expected.shape == (n - window,)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    # the single value is the one window over all N - 1 periods
    full = ref.yang_zhang_rolling(o, h, lo, c, n - 1)
    assert vol.yang_zhang_vol(o, h, lo, c) == pytest.approx(full[0], rel=1e-10)


@given(st.integers(0, 2**32 - 1), st.integers(2, 200), st.integers(1, 30))
def test_atr_equals_pandas_wilder(seed: int, n: int, window: int) -> None:
    _, h, lo, c = candles(seed, n)
    window = min(window, n - 1)
    got = vol.atr_series(h, lo, c, window)
    expected = ref.atr_wilder(h, lo, c, window)
    assert got.shape == expected.shape == (n - window,)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert vol.atr(h, lo, c, window) == got[-1]


@given(returns_arrays, st.floats(-100, 100).filter(lambda k: abs(k) > 1e-3))
# found by CI and a 5,000-example run: squares of returns below 1e-154 underflowed
@example(r=np.full(5, 3.47609226e-155), k=0.03125)
@example(r=np.array([9.97332159e-159, 0.0]), k=2.0)
@example(r=np.array([5e-324, 0.0]), k=2.0)
def test_scale_equivariance(r: Any, k: float) -> None:
    # rounding of the mean; and a result in the subnormal range has an absolute precision of
    # 5e-324 only (r = [5e-324, 0], k = 2: sqrt(2) x 5e-324 is not a double)
    tiny = 1e-14 * abs(k) * float(np.max(np.abs(r))) + 1e-322
    assert vol.close_to_close_vol(k * r) == pytest.approx(
        abs(k) * vol.close_to_close_vol(r), rel=1e-9, abs=tiny
    )
    assert vol.ewma_vol(k * r) == pytest.approx(abs(k) * vol.ewma_vol(r), rel=1e-12, abs=1e-300)


def test_omit_policy_equals_computing_on_the_clean_series() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0.0, 0.01, 200)
    dirty = r.copy()
    dirty[[3, 50, 120]] = [np.nan, np.inf, -np.inf]
    clean = dirty[np.isfinite(dirty)]
    assert vol.close_to_close_vol(dirty, "omit") == vol.close_to_close_vol(clean)
    np.testing.assert_array_equal(
        vol.close_to_close_vol_rolling(dirty, 20, nan_policy="omit"),
        vol.close_to_close_vol_rolling(clean, 20),
    )
    np.testing.assert_array_equal(
        vol.ewma_vol_series(dirty, nan_policy="omit"), vol.ewma_vol_series(clean)
    )
    o, h, lo, c = candles(9, 100)
    h2 = h.copy()
    h2[10] = np.nan  # the whole candle 10 is dropped
    keep = np.arange(100) != 10
    assert vol.yang_zhang_vol(o, h2, lo, c, nan_policy="omit") == vol.yang_zhang_vol(
        o[keep], h[keep], lo[keep], c[keep]
    )
    np.testing.assert_array_equal(
        vol.atr_series(h2, lo, c, 5, nan_policy="omit"),
        vol.atr_series(h[keep], lo[keep], c[keep], 5),
    )


def test_rolling_is_linear_time() -> None:
    """A 100x larger window costs about the same: running sums, not O(n * window)."""
    import time

    r = np.random.default_rng(1).normal(0.0, 0.01, 400_000)

    def best(window: int) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            vol.close_to_close_vol_rolling(r, window)
            times.append(time.perf_counter() - t0)
        return min(times)

    assert best(10_000) < 4 * best(100) + 0.002


# ------------------------------------------------------------------ bad inputs


def ohlc(n: int = 10) -> dict[str, Any]:
    o, h, lo, c = candles(0, n)
    return {"open": o, "high": h, "low": lo, "close": c}


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda: vol.close_to_close_vol(np.array([0.1])), "returns", "1 value(s)", "at least 2"),
        (lambda: vol.close_to_close_vol(np.array([])), "returns", "0 value(s)", "at least 2"),
        (
            lambda: vol.close_to_close_vol(np.array([0.1, np.nan, 0.2])),
            "returns[1]",
            "NaN",
            "must be finite",
        ),
        (
            lambda: vol.ewma_vol_series(np.array([0.1, -np.inf])),
            "returns[1]",
            "-inf",
            "must be finite",
        ),
        (
            lambda: vol.close_to_close_vol_rolling(np.ones(5), 6),
            "window",
            "6",
            "must be <= the series length (5)",
        ),
        (
            lambda: vol.close_to_close_vol_rolling(np.ones(5), 1),
            "window",
            "1",
            "must be >= 2",
        ),
        (lambda: vol.ewma_vol(np.ones(5), 1.0), "lam", "1", "must be > 0 and < 1"),
        (lambda: vol.ewma_vol(np.ones(5), -0.5), "lam", "-0.5", "must be > 0 and < 1"),
        (
            lambda: vol.parkinson_vol(np.ones(3) * 2, np.ones(2)),
            "low",
            "length 2",
            "same length as high (3)",
        ),
        (
            lambda: vol.garman_klass_vol(**{**ohlc(), "close": ohlc()["close"][:9]}),
            "close",
            "length 9",
            "same length as high (10)",
        ),
        (
            lambda: vol.parkinson_vol(np.array([2.0, 3.0]), np.array([1.0, 4.0])),
            "low[1]",
            "4",
            "must be <= high[1] (3)",
        ),
        (
            lambda: vol.rogers_satchell_vol(
                np.array([5.0]), np.array([3.0]), np.array([1.0]), np.array([2.0])
            ),
            "open[0]",
            "5",
            "must lie between low[0] (1) and high[0] (3)",
        ),
        (
            lambda: vol.parkinson_vol(np.array([2.0, 0.0]), np.array([1.0, 0.0])),
            "high[1]",
            "0",
            "must be > 0 (prices, not returns)",
        ),
        (
            lambda: vol.yang_zhang_vol(*(np.ones(2),) * 4),
            "high",
            "2 candle(s)",
            "at least 3",
        ),
        (
            lambda: vol.yang_zhang_vol_rolling(**ohlc(), window=10),
            "window",
            "10",
            "must be <= the number of periods (candles - 1) (9)",
        ),
        (
            lambda: vol.atr_series(ohlc()["high"], ohlc()["low"], ohlc()["close"], 0),
            "window",
            "0",
            "must be >= 1",
        ),
        (
            lambda: vol.atr(np.array([2.0, np.nan]), np.ones(2), np.ones(2) * 1.5),
            "high[1]",
            "NaN",
            "nan_policy='omit'",
        ),
        (
            lambda: vol.close_to_close_vol(np.ones(3), nan_policy="drop"),  # type: ignore[arg-type]
            "nan_policy",
            '"drop"',
            "must be 'raise' or 'omit'",
        ),
        (
            lambda: vol.close_to_close_vol_rolling(np.ones(5), 2.5),  # type: ignore[arg-type]
            "window",
            "2.5",
            "must be an integer",
        ),
    ],
)
def test_bad_inputs_name_field_value_and_rule(call: Any, field: str, value: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call()
    e = info.value
    assert e.field == field
    assert e.value == value
    assert e.rule is not None and rule in e.rule
    assert field in str(e) and rule in str(e)


@pytest.mark.parametrize(
    ("array", "described"),
    [
        (np.array([1, 2, 3], dtype=np.int64), "int64"),
        (np.array([1.0, 2.0], dtype=np.float32), "float32"),
        (np.ones((3, 2)), "2 dimension"),
        (np.arange(10, dtype=np.float64)[::2], "non-contiguous"),
        ([0.1, 0.2], "list"),
    ],
)
def test_arrays_are_taken_zero_copy_or_refused(array: Any, described: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        vol.ewma_vol_series(array)
    assert info.value.field == "returns"
    assert described in str(info.value)


@given(
    hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(allow_nan=True)),
    st.integers(-3, 50),
    st.sampled_from(["raise", "omit"]),
)
def test_fuzzed_inputs_raise_only_the_family_and_never_return_nan(
    x: Any, window: int, policy: Any
) -> None:
    calls = [
        lambda: vol.close_to_close_vol(x, policy),
        lambda: vol.close_to_close_vol_rolling(x, window, policy),
        lambda: vol.ewma_vol_series(x, 0.9, policy),
        lambda: vol.parkinson_vol_rolling(np.abs(x) + 2, np.abs(x) + 1, window, policy),
        lambda: vol.yang_zhang_vol_rolling(x, x, x, x, window, policy),
        lambda: vol.atr_series(np.abs(x) + 2, np.abs(x), np.abs(x) + 1, window, policy),
    ]
    for call in calls:
        try:
            out = np.atleast_1d(call())
        except gh.GridHedgeError as e:
            assert not isinstance(e, gh.InternalError)
            assert e.field and e.rule
            continue
        assert np.isfinite(out).all() and (out >= 0).all()


def test_outputs_are_fresh_float64_arrays() -> None:
    r = np.random.default_rng(0).normal(0.0, 0.01, 100)
    out = vol.close_to_close_vol_rolling(r, 10)
    assert out.dtype == np.float64 and out.flags.c_contiguous and out.flags.writeable
    assert out.flags.owndata or out.base is not None
    assert isinstance(pd.Series(out).sum(), float)
