"""VaR and CVaR against independent references (numpy quantiles, scipy.stats, pandas rolling,
finite differences), golden values with their arithmetic, and bad-input errors."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import gridhedge as gh
from gridhedge.risk import var as gv
from tests.references import var as ref

returns_arrays = hnp.arrays(
    np.float64,
    st.integers(5, 300),
    elements=st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
)
confidences = st.floats(0.5, 0.999)
methods = st.sampled_from(["linear", "lower"])


def fat_tailed(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_t(5, n) * 0.01


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-15) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# -- historical -------------------------------------------------------------------------------


@given(r=returns_arrays, c=confidences, method=methods, h=st.integers(1, 50))
def test_historical_matches_numpy_quantile_exactly(
    r: np.ndarray, c: float, method: Any, h: int
) -> None:
    var, cvar = gv.historical_var(r, c, h, method)
    if h == 1:
        assert var == float(np.quantile(-r, c, method=method))  # bit for bit
    rv, rc = ref.historical(r, c, method, h)
    assert close(var, rv) and close(cvar, rc)
    assert cvar >= var


@given(r=returns_arrays, c1=confidences, c2=confidences, method=methods)
def test_historical_var_is_monotone_in_confidence(
    r: np.ndarray, c1: float, c2: float, method: Any
) -> None:
    lo, hi = sorted((c1, c2))
    assert gv.historical_var(r, lo, method=method)[0] <= gv.historical_var(r, hi, method=method)[0]


def test_historical_by_hand() -> None:
    # losses 1..5; (5-1) x 0.9 = 3.6: linear 4 + 0.6 x (5 - 4) = 4.6; tail >= 4.6 is {5}
    r = -np.array([3.0, 1.0, 5.0, 2.0, 4.0])
    var, cvar = gv.historical_var(r, 0.9)
    assert close(var, 4.6) and cvar == 5.0
    # lower: L[floor 3.6] = L[3] = 4; tail >= 4 is {4, 5}, mean 4.5; horizon 4 doubles both
    assert gv.historical_var(r, 0.9, 4, "lower") == (8.0, 9.0)


# -- parametric -------------------------------------------------------------------------------


@given(r=returns_arrays, c=confidences, h=st.integers(1, 30))
def test_normal_matches_scipy(r: np.ndarray, c: float, h: int) -> None:
    var, cvar = gv.normal_var(r, c, h)
    rv, rc = ref.normal(r, c, h)
    assert close(var, rv, 1e-9, 1e-12) and close(cvar, rc, 1e-9, 1e-12)


@given(r=returns_arrays)
def test_moments_match_scipy_bias_false(r: np.ndarray) -> None:
    mean, std, skew, kurt = gv.return_moments(r)
    assert close(mean, float(np.mean(r)), 1e-12, 1e-15)
    assert close(std, float(np.std(r, ddof=1)), 1e-12, 1e-13)
    if np.ptp(r) > 1e-6:  # scipy gives NaN for (near-)constant samples, we give 0
        assert close(skew, float(stats.skew(r, bias=False)), 1e-8, 1e-8)
        assert close(kurt, float(stats.kurtosis(r, fisher=True, bias=False)), 1e-8, 1e-8)


@settings(max_examples=40)
@given(r=returns_arrays, c=st.floats(0.8, 0.995), df=st.floats(2.5, 60))
def test_student_t_matches_scipy(r: np.ndarray, c: float, df: float) -> None:
    var, cvar, used = gv.student_t_var(r, c, 1, df)
    rv, rc = ref.student_t(r, c, df)
    assert used == df
    assert close(var, rv, 1e-8, 1e-12) and close(cvar, rc, 1e-6, 1e-12)


def test_student_t_fits_df_by_moments() -> None:
    r = fat_tailed(5000, 3)
    var, cvar, df = gv.student_t_var(r, 0.99)
    assert close(df, ref.t_df_moments(r), 1e-9)
    rv, rc = ref.student_t(r, 0.99, df)
    assert close(var, rv, 1e-8) and close(cvar, rc, 1e-6)


@settings(max_examples=40)
@given(
    r=hnp.arrays(
        np.float64, st.integers(30, 300), elements=st.floats(-0.1, 0.1, allow_subnormal=False)
    ),
    c=st.floats(0.8, 0.995),
)
def test_cornish_fisher_matches_scipy_moments_and_integrated_tail(r: np.ndarray, c: float) -> None:
    if np.ptp(r) < 1e-4:
        return
    var, cvar = gv.cornish_fisher_var(r, c)
    rv, rc = ref.cornish_fisher(r, c)
    assert close(var, rv, 1e-8, 1e-12) and close(cvar, rc, 1e-6, 1e-10)


def test_riskmetrics_multiplier_and_position_var() -> None:
    # RiskMetrics Technical Document (4th ed., 1996), sec. 6.2: 95% one-day VaR = 1.65 sigma
    # (z rounded). Returns +-1% alternating: mean 0, std (ddof 1) 0.01 x sqrt(1000/999).
    # A 10 BTC position at 100,000 USDT: 10 x 100,000 x 1.6448536 x 0.0100050 = 16,456.77
    # (RiskMetrics' rounded 1.65 gives 16,508.3).
    r = np.tile([0.01, -0.01], 500)
    var, _ = gv.normal_var(r, 0.95)
    assert close(var, 1.6448536269514722 * 0.01 * math.sqrt(1000 / 999), 1e-12)
    assert close(gv.position_var(-10, 100_000, var), 16_456.77, 1e-6)
    assert abs(gv.position_var(10, "100000", var) / 16_508.3 - 1) < 0.004


# -- filtered historical and Monte Carlo ------------------------------------------------------


@given(r=returns_arrays, c=confidences, method=methods, h=st.integers(1, 10))
def test_filtered_historical_matches_reference(
    r: np.ndarray, c: float, method: Any, h: int
) -> None:
    sigma = 0.01 + np.abs(r) * 0.5
    var, cvar = gv.filtered_historical_var(r, sigma, c, h, None, method)
    rv, rc = ref.filtered(r, sigma, float(sigma[-1]), c, method, h)
    assert close(var, rv) and close(cvar, rc)
    var2, _ = gv.filtered_historical_var(r, sigma, c, h, 0.05, method)
    assert close(var2, ref.filtered(r, sigma, 0.05, c, method, h)[0])


@given(r=returns_arrays, c=confidences, lam=st.floats(0.5, 0.995))
def test_ewma_filtered_historical_matches_reference(r: np.ndarray, c: float, lam: float) -> None:
    if np.mean(r**2) == 0:  # all zero (or squares underflow): documented (0, 0)
        assert gv.ewma_filtered_historical_var(r, c, 1, lam) == (0.0, 0.0)
        return
    var, cvar = gv.ewma_filtered_historical_var(r, c, 1, lam)
    sigma, now = ref.ewma_sigma(r, lam)
    with np.errstate(all="ignore"):
        rv, rc = ref.filtered(r, sigma, now, c)
    if not (np.isfinite(rv) and np.isfinite(rc)):
        # the reference's EWMA underflowed (squares near 1e-315): the core gives (0, 0)
        assert (var, cvar) == (0.0, 0.0)
        return
    assert close(var, rv, 1e-10, 1e-14) and close(cvar, rc, 1e-10, 1e-14)


def test_monte_carlo_is_seeded_and_converges() -> None:
    r = fat_tailed(2000, 1)
    a = gv.monte_carlo_var(r, 0.99, n_paths=200_000, seed=7)
    assert a == gv.monte_carlo_var(r, 0.99, n_paths=200_000, seed=7)
    assert a != gv.monte_carlo_var(r, 0.99, n_paths=200_000, seed=8)
    # 200k paths: the 99% quantile's standard error is about 0.3% of it; allow 2%
    rv, rc = ref.normal(r, 0.99)
    assert abs(a[0] / rv - 1) < 0.02 and abs(a[1] / rc - 1) < 0.02
    t = gv.monte_carlo_var(r, 0.99, n_paths=200_000, distribution="t", df=5, seed=7)
    tv, tc = ref.student_t(r, 0.99, 5)
    assert abs(t[0] / tv - 1) < 0.02 and abs(t[1] / tc - 1) < 0.03
    # 10 compounded bars against numpy's own generator doing the same simulation
    h10 = gv.monte_carlo_var(r, 0.99, 10, n_paths=200_000, seed=1)
    mu, sd = float(np.mean(r)), float(np.std(r, ddof=1))
    paths = np.random.default_rng(11).normal(mu, sd, (200_000, 10))
    nv, nc = ref.historical(np.prod(1 + paths, axis=1) - 1, 0.99)
    assert abs(h10[0] / nv - 1) < 0.02 and abs(h10[1] / nc - 1) < 0.02


# -- rolling ----------------------------------------------------------------------------------


@settings(max_examples=50)
@given(r=returns_arrays, frac=st.floats(0.05, 1.0), c=confidences, method=methods)
def test_rolling_historical_matches_numpy_windows(
    r: np.ndarray, frac: float, c: float, method: Any
) -> None:
    w = max(1, int(len(r) * frac))
    var, cvar = gv.rolling_historical_var(r, w, c, method=method)
    rv, rc = ref.rolling_historical(r, w, c, method)
    assert len(var) == len(r) - w + 1
    np.testing.assert_array_equal(var, rv)
    np.testing.assert_allclose(cvar, rc, rtol=1e-12, atol=1e-15)


def test_rolling_historical_matches_pandas_on_a_long_series() -> None:
    r = fat_tailed(200_000, 2)
    w, c = 500, 0.95
    var, cvar = gv.rolling_historical_var(r, w, c)
    pv = pd.Series(-r).rolling(w).quantile(c, interpolation="linear").to_numpy()[w - 1 :]
    np.testing.assert_allclose(var, pv, rtol=1e-12, atol=1e-15)
    # spot-check the CVaR of 200 windows spread over the series (crosses block boundaries)
    for k in np.linspace(0, len(var) - 1, 200).astype(int):
        assert close(cvar[k], ref.historical(r[k : k + w], c)[1])


@settings(max_examples=40)
@example(  # the window of zeros after a 0.5 where pandas' running std leaves 2.4e-9
    r=np.array([0.5, 0, 0, 0, 0, 0, 0, 0.015625, 0, 0, 0, 0, 0, 0, 0, 0.0]), frac=0.5, c=0.5, h=1
)
@given(r=returns_arrays, frac=st.floats(0.05, 1.0), c=confidences, h=st.integers(1, 10))
def test_rolling_normal_matches_each_window(r: np.ndarray, frac: float, c: float, h: int) -> None:
    # reference: numpy's two-pass mean/std of every window (pandas' running sums leave
    # cancellation noise, e.g. a std of 2.4e-9 for a window of zeros after a 0.5)
    w = max(2, int(len(r) * frac))
    var, cvar = gv.rolling_parametric_var(r, w, c, h)
    windows = np.lib.stride_tricks.sliding_window_view(r, w)
    mu, sd = windows.mean(axis=1), windows.std(axis=1, ddof=1)
    z = stats.norm.ppf(c)
    np.testing.assert_allclose(var, -mu * h + sd * math.sqrt(h) * z, rtol=1e-8, atol=1e-10)
    es = stats.norm.pdf(z) / (1 - c)
    np.testing.assert_allclose(cvar, -mu * h + sd * math.sqrt(h) * es, rtol=1e-8, atol=1e-10)


def test_rolling_student_t_matches_each_window() -> None:
    r = fat_tailed(3000, 4)
    var, cvar = gv.rolling_parametric_var(r, 250, 0.99, distribution="t", df=5)
    for k in (0, 1234, len(var) - 1):
        v, c, _ = gv.student_t_var(r[k : k + 250], 0.99, df=5)
        assert close(var[k], v, 1e-9) and close(cvar[k], c, 1e-9)


def test_rolling_releases_the_gil() -> None:
    r = fat_tailed(2_000_000, 5)
    ticks: list[float] = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.01)
    start = time.perf_counter()
    gv.rolling_historical_var(r, 500, 0.99)
    end = time.perf_counter()
    stop.set()
    worker.join()
    assert [t for t in ticks if start < t < end], "no Python ran while rolling VaR computed"


# -- portfolio --------------------------------------------------------------------------------


def test_two_asset_portfolio_by_hand() -> None:
    # exposures 100 and 200 USDT, vols 1% and 2%, correlation 0.5:
    # w'Sw = 100^2 x 1e-4 + 200^2 x 4e-4 + 2 x 0.5 x 100 x 200 x 0.01 x 0.02 = 1 + 16 + 4 = 21
    # sigma = sqrt(21) = 4.5826; VaR95 = 1.6448536 x 4.5826 = 7.53767
    # S w = (0.01 + 0.02, 0.01 + 0.08) = (0.03, 0.09); components z (3, 18) / sqrt(21)
    cov = gv.covariance_from_correlation(np.array([0.01, 0.02]), np.array([[1, 0.5], [0.5, 1.0]]))
    p = gv.portfolio_var(np.array([100.0, 200.0]), cov, 0.95)
    z = 1.6448536269514722
    assert close(p.sigma, math.sqrt(21)) and close(p.var, z * math.sqrt(21))
    np.testing.assert_allclose(p.component, z * np.array([3.0, 18.0]) / math.sqrt(21))
    assert close(p.component.sum(), p.var)


@given(
    w=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-1e6, 1e6)),
    seed=st.integers(0, 2**32 - 1),
    c=st.floats(0.8, 0.999),
    h=st.integers(1, 20),
)
def test_portfolio_matches_finite_differences(w: np.ndarray, seed: int, c: float, h: int) -> None:
    n = len(w)
    b = np.random.default_rng(seed).normal(0, 0.01, (n, n + 1))
    cov = np.ascontiguousarray(b @ b.T)
    p = gv.portfolio_var(w, cov, c, h)
    rv, marginal = ref.portfolio(w, cov, c, h)
    assert close(p.var, rv, 1e-10, 1e-12)
    if rv > 1e-6:
        np.testing.assert_allclose(p.marginal, marginal, rtol=1e-5, atol=1e-9)
        assert close(float(p.component.sum()), p.var, 1e-9)


@given(
    legs=st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 0.1)), min_size=1, max_size=6),
    c=st.floats(0.8, 0.999),
)
def test_correlation_one_adds_and_zero_is_root_sum_square(
    legs: list[tuple[float, float]], c: float
) -> None:
    w = np.array([x for x, _ in legs])
    vols = np.array([v for _, v in legs])
    z = stats.norm.ppf(c)
    leg = z * w * vols
    n = len(legs)
    full = gv.portfolio_var(w, gv.covariance_from_correlation(vols, np.ones((n, n))), c)
    none = gv.portfolio_var(w, gv.covariance_from_correlation(vols, np.eye(n)), c)
    assert close(full.var, float(leg.sum()), 1e-9, 1e-9)
    assert close(none.var, float(np.sqrt((leg**2).sum())), 1e-9, 1e-9)


# -- bad input --------------------------------------------------------------------------------

R = fat_tailed(100)


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda: gv.historical_var(np.array([])), "returns", "0 value(s)", "at least 1"),
        (lambda: gv.normal_var(R[:1]), "returns", "1 value(s)", "at least 2"),
        (lambda: gv.cornish_fisher_var(R[:3]), "returns", "3 value(s)", "at least 4"),
        (lambda: gv.historical_var(R, 1.0), "confidence", "1", "must be > 0 and < 1"),
        (lambda: gv.historical_var(R, 0.0), "confidence", "0", "must be > 0 and < 1"),
        (lambda: gv.historical_var(R, math.nan), "confidence", "NaN", "must be > 0 and < 1"),
        (lambda: gv.historical_var(R, 0.95, 0), "horizon", "0", "between 1 and 100000"),
        (lambda: gv.historical_var(R, method="higher"), "method", '"higher"', "'linear' or"),
        (lambda: gv.historical_var(R, nan_policy="drop"), "nan_policy", '"drop"', "'raise' or"),
        (lambda: gv.rolling_historical_var(R, 101), "window", "101", "<= the series length"),
        (lambda: gv.rolling_historical_var(R, 0), "window", "0", "must be >= 1"),
        (lambda: gv.rolling_parametric_var(R, 1), "window", "1", "must be >= 2"),
        (lambda: gv.student_t_var(R, df=2.0), "df", "2", "must be > 2"),
        (lambda: gv.rolling_parametric_var(R, 10, distribution="t"), "df", "None", "given"),
        (lambda: gv.monte_carlo_var(R, distribution="cauchy"), "distribution", '"cauchy"', "t'"),
        (lambda: gv.monte_carlo_var(R, n_paths=10), "n_paths", "10", "between 100"),
        (lambda: gv.ewma_filtered_historical_var(R, lam=1.0), "lam", "1", "must be > 0 and < 1"),
        (lambda: gv.filtered_historical_var(R, R[:5]), "sigma", "length 5", "same length"),
        (
            lambda: gv.filtered_historical_var(R, np.full(100, -0.01)),
            "sigma[0]",
            "-0.01",
            "must be > 0",
        ),
        (lambda: gv.position_var(1, 0, 0.05), "price", "0", "must be > 0"),
        (lambda: gv.position_var(1, 100, math.inf), "var_pct", "inf", "finite"),
    ],
)
def test_bad_input_names_field_value_and_rule(call: Any, field: str, value: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call()
    e = info.value
    assert e.field == field, str(e)
    assert e.value == value, str(e)
    assert rule in (e.rule or ""), str(e)


def test_nan_raises_at_its_position_unless_omitted() -> None:
    r = R.copy()
    r[17] = math.nan
    for fn in (gv.historical_var, gv.normal_var, gv.cornish_fisher_var):
        with pytest.raises(gh.InvalidInputError) as info:
            fn(r)
        assert info.value.field == "returns[17]" and info.value.value == "NaN"
    clean = np.delete(r, 17)
    assert gv.historical_var(r, nan_policy="omit") == gv.historical_var(clean)
    r[3] = math.inf
    with pytest.raises(gh.InvalidInputError, match=r"returns\[3\]"):
        gv.rolling_historical_var(r, 10)
    a = gv.rolling_historical_var(r, 10, nan_policy="omit")[0]
    np.testing.assert_array_equal(a, gv.rolling_historical_var(np.delete(r, [3, 17]), 10)[0])


@pytest.mark.parametrize(
    ("cov", "field", "rule"),
    [
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "covariance", "positive semi-definite"),
        (np.array([[1.0, 0.5], [0.4, 1.0]]), "covariance[1, 0]", "symmetric"),
        (np.array([[-1.0, 0.0], [0.0, 1.0]]), "covariance[0, 0]", ">= 0"),
        (np.array([[1.0, math.nan], [math.nan, 1.0]]), "covariance[0, 1]", "finite"),
        (np.eye(3), "covariance", "2 x 2"),
        (np.ones((2, 1)), "covariance", "2 x 2"),
        (np.ones(4), "covariance", "two-dimensional"),
    ],
)
def test_bad_covariance_is_named(cov: np.ndarray, field: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        gv.portfolio_var(np.array([1.0, 1.0]), cov)
    assert info.value.field == field and rule in (info.value.rule or ""), str(info.value)


def test_indefinite_correlation_is_refused_and_singular_is_accepted() -> None:
    rho = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1.0]])
    assert np.linalg.eigvalsh(rho).min() < 0
    cov = gv.covariance_from_correlation(np.full(3, 0.02), rho)
    with pytest.raises(gh.InvalidInputError, match="positive semi-definite"):
        gv.portfolio_var(np.ones(3), cov)
    with pytest.raises(gh.InvalidInputError) as info:
        gv.covariance_from_correlation(np.full(2, 0.02), np.array([[1, 1.2], [1.2, 1.0]]))
    assert info.value.field == "correlation[0, 1]"
    # spot long and perp short of one coin: correlation 1, a perfect hedge
    one = gv.covariance_from_correlation(np.full(2, 0.02), np.ones((2, 2)))
    p = gv.portfolio_var(np.array([1e5, -1e5]), one, 0.99)
    assert abs(p.var) < 1e-9 and not np.isnan(p.marginal).any()


@given(
    r=hnp.arrays(
        np.float64,
        st.integers(0, 30),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
    ),
    c=st.floats(allow_nan=True, allow_infinity=True),
    w=st.integers(-3, 40),
)
def test_fuzzed_inputs_raise_only_the_error_family_and_never_nan(
    r: np.ndarray, c: float, w: int
) -> None:
    calls = [
        lambda: gv.historical_var(r, c),
        lambda: gv.normal_var(r, c),
        lambda: gv.cornish_fisher_var(r, c),
        lambda: gv.student_t_var(r, c),
        lambda: gv.ewma_filtered_historical_var(r, c),
        lambda: gv.rolling_historical_var(r, w, c),
        lambda: gv.rolling_parametric_var(r, w, c),
        lambda: gv.monte_carlo_var(r, c, n_paths=100),
        lambda: gv.filtered_historical_var(r, np.abs(r) + 1e-3, c),
    ]
    for call in calls:
        try:
            out = call()
        except gh.NumericalError as e:
            # float64 overflow, said as such
            assert e.field and e.rule and ("not finite" in str(e) or "overflow" in str(e))
            continue
        except gh.GridHedgeError as e:
            assert not isinstance(e, gh.InternalError)
            assert e.field and e.rule
            continue
        for x in out:
            assert not np.isnan(np.asarray(x)).any()
