"""GARCH(1,1): agreement with `arch` (the acceptance criteria of the risk-maths issue),
recovery of known parameters from numpy-simulated paths, forecasts, bad inputs."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from arch import arch_model
from hypothesis import given, settings
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.risk import garch


def simulate_numpy(
    n: int, mu: float, omega: float, alpha: float, beta: float, nu: float | None, seed: int
) -> Any:
    """An independent GARCH(1,1) simulator (numpy's PCG64), from the unconditional variance,
    with standardised Student-t innovations when nu is given; 500 burn-in values dropped."""
    rng = np.random.default_rng(seed)
    burn = 500
    if nu is None:
        z = rng.standard_normal(n + burn)
    else:
        z = rng.standard_t(nu, n + burn) * np.sqrt((nu - 2.0) / nu)
    y = np.empty(n + burn)
    s2 = omega / (1.0 - alpha - beta)
    for t in range(n + burn):
        e = np.sqrt(s2) * z[t]
        y[t] = mu + e
        s2 = omega + alpha * e * e + beta * s2
    return y[burn:]


def arch_fit(y: Any, dist: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return arch_model(y, vol="GARCH", p=1, q=1, dist=dist).fit(disp="off")


# fractional "hourly crypto" returns, fitted in percent as arch does by default
CASES = [
    ("normal", (0.0002, 2e-6, 0.08, 0.90, None), 11),
    ("normal", (-0.0001, 5e-6, 0.15, 0.80, None), 12),
    ("t", (0.0003, 1e-6, 0.06, 0.92, 5.0), 13),
    ("t", (0.0, 4e-6, 0.12, 0.85, 8.0), 14),
]


@pytest.mark.parametrize(("dist", "truth", "seed"), CASES)
def test_agrees_with_arch_default_fit(dist: Any, truth: Any, seed: int) -> None:
    r = simulate_numpy(3_000, *truth, seed=seed)
    ours = garch.garch_fit(r, dist=dist, scale=100)
    ref = arch_fit(100 * r, dist)
    p = ref.params.to_numpy()
    names = ["mu", "omega", "alpha", "beta", "nu"][: len(p)]
    # acceptance: log-likelihood within 1e-4, alpha/beta within 1e-3, omega within 1% relative
    assert abs(ours.loglik - ref.loglikelihood) < 1e-4
    assert ours.loglik > ref.loglikelihood - 1e-6  # never a worse maximum than arch
    assert abs(ours.alpha - p[2]) < 1e-3 and abs(ours.beta - p[3]) < 1e-3
    assert abs(ours.omega / p[1] - 1.0) < 0.01
    assert abs(ours.mu - p[0]) < 1e-3 * max(1.0, abs(p[0]))
    if dist == "t":
        assert ours.nu is not None and abs(ours.nu / p[4] - 1.0) < 0.01
    # robust standard errors agree with arch's (numerical derivatives there) to ~2%
    se_ref = ref.std_err.to_numpy()
    se = np.array([ours.std_errors[n] for n in names])
    np.testing.assert_allclose(se, se_ref, rtol=0.02)
    assert ours.param_names == names and ours.cov.shape == (len(p), len(p))


@pytest.mark.parametrize(("dist", "truth", "seed"), CASES[::2])
def test_likelihood_variance_and_forecast_equal_arch_at_the_same_parameters(
    dist: Any, truth: Any, seed: int
) -> None:
    r = simulate_numpy(2_000, *truth, seed=seed)
    ours = garch.garch_fit(r, dist=dist, scale=100)
    am = arch_model(100 * r, vol="GARCH", p=1, q=1, dist=dist)
    params = np.array(list(ours.params.values()))
    fixed = am.fix(params)
    assert ours.loglik == pytest.approx(fixed.loglikelihood, rel=1e-10)
    np.testing.assert_allclose(
        ours.conditional_variance, fixed.conditional_volatility**2, rtol=1e-10
    )
    np.testing.assert_allclose(
        ours.conditional_volatility, fixed.conditional_volatility, rtol=1e-10
    )
    expected = fixed.forecast(horizon=10, reindex=False).variance.to_numpy()[-1]
    np.testing.assert_allclose(ours.forecast(10), expected, rtol=1e-10)
    assert ours.backcast == pytest.approx(fixed.model._backcast, rel=1e-12)


@pytest.mark.parametrize(
    ("dist", "truth"),
    [("normal", (0.05, 0.05, 0.10, 0.85, None)), ("t", (-0.02, 0.02, 0.07, 0.90, 6.0))],
)
def test_recovers_known_parameters(dist: Any, truth: Any) -> None:
    r = simulate_numpy(20_000, *truth, seed=2024)
    fit = garch.garch_fit(r, dist=dist)
    for name, value in zip(fit.param_names, truth, strict=False):
        est, se = fit.params[name], fit.std_errors[name]
        assert abs(est - value) < 4 * se, (name, est, value, se)
        assert se < 0.25 * max(abs(value), 0.05), (name, se)


def test_scale_is_a_unit_change() -> None:
    r = simulate_numpy(2_000, 0.0002, 2e-6, 0.08, 0.90, None, seed=5)
    a = garch.garch_fit(r, scale=100)
    b = garch.garch_fit(100 * r)
    c = garch.garch_fit(r)
    assert a.scale == 100 and b.scale == 1
    assert a.loglik == pytest.approx(b.loglik, rel=1e-9)
    assert a.alpha == pytest.approx(c.alpha, abs=1e-6) and a.beta == pytest.approx(c.beta, abs=1e-6)
    assert a.omega == pytest.approx(1e4 * c.omega, rel=1e-5)
    assert a.loglik == pytest.approx(c.loglik - len(r) * np.log(100), rel=1e-9)


def test_simulate_is_seeded_and_follows_the_model() -> None:
    a = garch.garch_simulate(50_000, 0.1, 0.05, 0.1, 0.85, seed=7)
    assert np.array_equal(a, garch.garch_simulate(50_000, 0.1, 0.05, 0.1, 0.85, seed=7))
    assert not np.array_equal(a, garch.garch_simulate(50_000, 0.1, 0.05, 0.1, 0.85, seed=8))
    # unconditional mean mu and variance omega / (1 - alpha - beta) = 1
    assert abs(a.mean() - 0.1) < 0.05 and abs(a.var() - 1.0) < 0.15
    t = garch.garch_simulate(1_000, 0.0, 0.05, 0.1, 0.85, nu=5.0, burn=0, seed=1)
    assert t.shape == (1_000,)


def test_forecast_reverts_to_the_unconditional_variance() -> None:
    r = simulate_numpy(2_000, 0.0, 0.1, 0.1, 0.85, None, seed=3)
    fit = garch.garch_fit(r)
    fc = fit.forecast(500)
    assert fc.shape == (500,)
    assert fc[-1] == pytest.approx(fit.unconditional_variance, rel=1e-8)
    assert fit.persistence == pytest.approx(fit.alpha + fit.beta)
    assert "GarchResult(dist='normal'" in repr(fit)


@settings(deadline=None, max_examples=25)
@given(
    st.integers(0, 2**31),
    st.floats(0.02, 0.2),
    st.floats(0.5, 0.77),
    st.sampled_from(["normal", "t"]),
)
def test_the_maximum_beats_the_true_parameters_under_arch(
    seed: int, alpha: float, beta: float, dist: Any
) -> None:
    nu = 6.0 if dist == "t" else None
    truth = (0.01, 0.05, alpha, beta, nu)
    y = simulate_numpy(800, *truth, seed=seed)
    fit = garch.garch_fit(y, dist=dist)
    true_params = np.array([v for v in truth if v is not None])
    at_truth = arch_model(y, vol="GARCH", p=1, q=1, dist=dist).fix(true_params).loglikelihood
    assert fit.loglik >= at_truth - 1e-6
    assert fit.omega > 0 and fit.alpha >= 0 and fit.beta >= 0 and fit.persistence < 1
    assert fit.gradient_max < 1e-6
    assert np.isfinite(list(fit.std_errors.values())).all()


@pytest.mark.parametrize(
    ("call", "field", "value", "rule"),
    [
        (lambda: garch.garch_fit(np.ones(10) * 0.01), "returns", "10 value(s)", "at least 20"),
        (
            lambda: garch.garch_fit(np.full(50, 0.01)),
            "returns",
            None,
            "must not be constant",
        ),
        (
            lambda: garch.garch_fit(np.r_[np.nan, np.random.default_rng(0).normal(size=50)]),
            "returns[0]",
            "NaN",
            "must be finite",
        ),
        (
            lambda: garch.garch_fit(np.random.default_rng(0).normal(size=50), scale=0),
            "scale",
            "0",
            "must be > 0",
        ),
        (
            lambda: garch.garch_fit(np.random.default_rng(0).normal(size=50), dist="cauchy"),  # type: ignore[arg-type]
            "dist",
            '"cauchy"',
            "must be 'normal' or 't'",
        ),
        (
            lambda: garch.garch_simulate(10, 0.0, 0.1, 0.5, 0.5),
            "beta",
            "0.5",
            "alpha + beta must be < 1",
        ),
        (lambda: garch.garch_simulate(10, 0.0, -0.1, 0.1, 0.5), "omega", "-0.1", "must be > 0"),
        (lambda: garch.garch_simulate(10, 0.0, 0.1, 0.1, 0.5, nu=2), "nu", "2", "must be > 2"),
        (
            lambda: garch.garch_fit(np.random.default_rng(0).normal(size=50)).forecast(0),
            "horizon",
            "0",
            "must be between 1 and 1000000",
        ),
    ],
)
def test_bad_inputs_name_field_value_and_rule(
    call: Any, field: str, value: str | None, rule: str
) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        call()
    e = info.value
    assert e.field == field
    if value is not None:
        assert e.value == value
    assert e.rule is not None and rule in e.rule


def test_nan_policy_omit_fits_the_clean_series() -> None:
    r = simulate_numpy(1_000, 0.0, 0.05, 0.1, 0.85, None, seed=9)
    dirty = np.insert(r, [10, 500], [np.nan, np.inf])
    a = garch.garch_fit(dirty, nan_policy="omit")
    b = garch.garch_fit(r)
    assert a.loglik == b.loglik and a.params == b.params
