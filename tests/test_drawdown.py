"""Drawdown, high-water mark and max drawdown against an independent pandas reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.risk import drawdown as ddm
from tests.references.drawdown import ref_drawdown, ref_duration, ref_max_drawdown

equity_curves = st.lists(
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False), min_size=1, max_size=200
).map(lambda v: np.array([max(v[0], 1e-6), *v[1:]], dtype=np.float64))


def test_golden_curve() -> None:
    """By hand: 100, 120, 90, 110, 130, 117. HWM 100, 120, 120, 120, 130, 130; the worst
    drawdown is 90/120 - 1 = -0.25 at bar 2 from the peak at bar 1, recovered at bar 4
    (130 >= 120) after 3 bars; the last bar is at 117/130 - 1 = -0.1."""
    e = np.array([100.0, 120.0, 90.0, 110.0, 130.0, 117.0])
    assert ddm.high_water_mark(e).tolist() == [100, 120, 120, 120, 130, 130]
    dd = ddm.drawdown(e)
    assert dd[2] == -0.25 and math.isclose(dd[5], -0.1)
    assert ddm.drawdown_duration(e).tolist() == [0, 0, 1, 2, 0, 1]
    m = ddm.max_drawdown(e)
    assert (m.drawdown, m.peak, m.trough, m.recovery, m.duration) == (-0.25, 1, 2, 4, 3)
    assert "recovery=4" in repr(m)


@given(equity_curves)
def test_series_match_pandas_cummax(e: np.ndarray) -> None:
    np.testing.assert_array_equal(ddm.high_water_mark(e), np.maximum.accumulate(e))
    dd = ddm.drawdown(e)
    np.testing.assert_allclose(dd, ref_drawdown(e), rtol=0, atol=1e-15)
    assert ((dd >= -1.0) & (dd <= 0.0)).all()
    np.testing.assert_array_equal(ddm.drawdown_duration(e), ref_duration(e))


@given(equity_curves)
def test_max_drawdown_matches_reference(e: np.ndarray) -> None:
    m = ddm.max_drawdown(e)
    ref = ref_max_drawdown(e)
    assert math.isclose(m.drawdown, ref.drawdown, abs_tol=1e-15)
    assert (m.peak, m.trough, m.recovery, m.duration) == (
        ref.peak,
        ref.trough,
        ref.recovery,
        ref.duration,
    )
    assert (m.drawdown <= ddm.drawdown(e)).all()


def test_omit_drops_nan_and_raise_names_the_bar() -> None:
    e = np.array([100.0, np.nan, 50.0, np.inf, 75.0])
    assert ddm.drawdown(e, nan_policy="omit").tolist() == [0.0, -0.5, -0.25]
    with pytest.raises(gh.InvalidInputError) as info:
        ddm.drawdown(e)
    assert info.value.field == "equity[1]" and info.value.value == "NaN"


@pytest.mark.parametrize(
    ("equity", "field", "value", "rule"),
    [
        (np.array([], dtype=np.float64), "equity", "0 value(s)", "at least 1"),
        (np.array([1.0, -2.0]), "equity[1]", "-2", "must be >= 0"),
        (np.array([0.0, 1.0]), "equity[0]", "0", "must be > 0"),
        (np.array([1.0, np.inf]), "equity[1]", "inf", "must be finite"),
        (
            np.array([1, 2], dtype=np.int64),
            "equity",
            "array of dtype int64 with 1 dimension(s)",
            "float64",
        ),
    ],
)
def test_bad_equity_names_field_value_and_rule(
    equity: np.ndarray, field: str, value: str, rule: str
) -> None:
    for fn in (ddm.drawdown, ddm.high_water_mark, ddm.max_drawdown, ddm.drawdown_duration):
        with pytest.raises(gh.InvalidInputError) as info:
            fn(equity)
        e = info.value
        assert (e.field, e.value) == (field, value)
        assert rule in (e.rule or "")


def test_bad_nan_policy_is_named() -> None:
    bad: Any = "drop"
    with pytest.raises(gh.InvalidInputError) as info:
        ddm.drawdown(np.ones(3), nan_policy=bad)
    assert info.value.field == "nan_policy"
