"""Fuzz every bound core function with hypothesis: random shapes, dtypes, NaN, inf and huge
values for each argument. Each call returns finite results or raises a named
``GridHedgeError`` (never an ``InternalError``, a ``PanicException``, a bare ``TypeError`` or a
NaN). Prints how many cases ran."""

from __future__ import annotations

import inspect
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gridhedge as gh
from gridhedge import _core

SKIP = {"_panic_for_test"}
ARRAYS = {
    "returns", "high", "low", "close", "open", "volume", "equity", "spot", "futures", "prices",
    "centers", "exposures", "vols", "rates", "exceptions",
}  # fmt: skip
MAYBE_ARRAYS = {"sigma", "var", "atr"}
MATRICES = {"covariance", "correlation"}
INTS = {
    "window", "num_levels", "n_obs", "n_exceptions", "nobs", "burn", "seed", "bars", "horizon",
    "n_paths", "periods", "min_periods", "sequence", "futures_lots", "center_ticks",
    "ref_short_lots", "start",
}  # fmt: skip
TEXTS: dict[str, list[str]] = {
    "method": ["linear", "lower"],
    "nan_policy": ["raise", "omit"],
    "distribution": ["normal", "t"],
    "dist": ["normal", "t"],
    "mode": ["geometric", "arithmetic"],
    "timeframe": ["1m", "1h", "1d"],
    "side": ["buy", "sell", "long", "short"],
    "bot_id": ["bot-1"],
    "symbol": ["BTCUSDT"],
    "key": ["gs3", "gb0", "rs0"],
    "client_order_id": ["gh00000000gs1-1"],
}
MARKET = gh.Market("0.10", "0.001", "0.001", "100")
CALLS: Counter[str] = Counter()

finite_or_not = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -1.0, 1e-300, 1e300, math.nan, math.inf, 0.5, 0.95, 50_000.0]),
)
good_floats = st.floats(-0.2, 0.2, allow_nan=False)


def array_strategy() -> st.SearchStrategy[Any]:
    shapes = st.integers(0, 40)
    return st.one_of(
        hnp.arrays(np.float64, shapes, elements=good_floats).map(lambda a: np.abs(a) + 1.0),
        hnp.arrays(np.float64, shapes, elements=good_floats),
        hnp.arrays(np.float64, shapes, elements=finite_or_not),
        hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(-5, 5)),
        hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3))),
        st.just(np.arange(20, dtype=np.float64)[::2] + 1.0),
        st.just([1.0, 2.0]),
    )


def argument(name: str) -> st.SearchStrategy[Any]:
    if name in ARRAYS:
        return array_strategy()
    if name in MAYBE_ARRAYS:
        return st.one_of(array_strategy(), finite_or_not)
    if name in MATRICES:
        return st.one_of(
            hnp.arrays(
                np.float64, st.tuples(st.integers(0, 4), st.integers(0, 4)), elements=finite_or_not
            ),
            st.just(np.eye(3)),
            st.just(np.ones((2, 2))),
        )
    if name in INTS:
        return st.one_of(
            st.integers(-3, 60), st.sampled_from([2**40, 2**70, -(2**70)]), finite_or_not
        )
    if name in TEXTS:
        return st.one_of(st.sampled_from(TEXTS[name]), st.text(max_size=4), st.none())
    if name == "market":
        return st.one_of(st.just(MARKET), st.just("BTCUSDT"))
    if name == "halted":
        return st.booleans()
    return st.one_of(finite_or_not, st.integers(-5, 10**6), st.none(), st.text(max_size=3))


def assert_no_nan(value: Any, where: str) -> None:
    if isinstance(value, float):
        assert not math.isnan(value), f"{where}: NaN result"
    elif isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            assert not np.isnan(value).any(), f"{where}: NaN in array result"
    elif isinstance(value, (tuple, list)):
        for v in value:
            assert_no_nan(v, where)
    elif type(value).__module__ == "gridhedge":
        for attr in dir(value):
            if not attr.startswith("_"):
                v = getattr(value, attr)
                if not callable(v):
                    assert_no_nan(v, f"{where}.{attr}")


FUNCTIONS = {
    name: fn
    for name in sorted(dir(_core))
    if name not in SKIP and not name.startswith("__")
    for fn in [getattr(_core, name)]
    if callable(fn) and getattr(fn, "__text_signature__", None)
}


def parameters(fn: Any) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
@given(data=st.data())
def test_bound_function_raises_only_named_errors(name: str, data: st.DataObject) -> None:
    fn = FUNCTIONS[name]
    kwargs = {}
    for p in parameters(fn):
        if p.default is not p.empty and data.draw(st.booleans(), label=f"omit {p.name}"):
            continue
        kwargs[p.name] = data.draw(argument(p.name), label=p.name)
    CALLS[name] += 1
    try:
        result = fn(**kwargs)
    except gh.GridHedgeError as e:
        assert not isinstance(e, gh.InternalError), f"{name}: core panic: {e}"
        assert e.field, f"{name}: error without a field: {e}"
        return
    assert_no_nan(result, name)


def test_fuzz_case_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the fuzz tests (file order): prints how many cases ran."""
    total = sum(CALLS.values())
    with capsys.disabled():
        print(f"\nfuzzed {len(CALLS)} bound functions with {total} cases")
    assert len(CALLS) == len(FUNCTIONS)
    assert total >= 20 * len(FUNCTIONS)
