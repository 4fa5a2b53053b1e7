"""`Candles` validation and candle files (CSV and ccxt/freqtrade JSON): round trips, optional
header, ISO dates, and errors naming the file, the line or row, the column and the rule."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridhedge as gh
from gridhedge.data import Candles, load_candles, save_candles, synthetic_candles

H = 3_600_000
T0 = 1_704_067_200_000


def bars(n: int = 3) -> dict[str, Any]:
    return {
        "timestamp": T0 + H * np.arange(n),
        "open": np.full(n, 100.0),
        "high": np.full(n, 101.0),
        "low": np.full(n, 99.0),
        "close": np.full(n, 100.5),
        "volume": np.full(n, 5.0),
    }


def with_(n: int = 3, **changes: Any) -> dict[str, Any]:
    b = bars(n)
    for key, (i, v) in changes.items():
        b[key] = b[key].astype(type(v)) if isinstance(v, float) else b[key]
        b[key][i] = v
    return b


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        (with_(high=(1, 100.2)), "high[1]", "must be >= max(open, close) = 100.5"),
        (with_(low=(2, 100.1)), "low[2]", "must be <= min(open, close) = 100.0"),
        (with_(open=(0, -1.0)), "open[0]", "must be > 0"),
        (with_(close=(1, 0.0)), "close[1]", "must be > 0"),
        (with_(close=(1, math.nan)), "close[1]", "must be finite"),
        (with_(volume=(2, math.inf)), "volume[2]", "must be finite"),
        (with_(volume=(2, -1.0)), "volume[2]", "must be >= 0"),
        (with_(timestamp=(2, T0 + H)), "timestamp[2]", "strictly increasing"),
        ({**bars(), "close": np.ones(2)}, "close", "length of timestamp (3)"),
        ({**bars(), "timestamp": np.array([0.0, 1.5, 2.0])}, "timestamp[1]", "whole number"),
        ({**bars(), "timestamp": np.array(["a", "b", "c"])}, "timestamp", "integers"),
        ({**bars(), "open": np.ones((3, 1))}, "open", "one-dimensional"),
        ({**bars(), "funding_time": np.array([T0])}, "funding_time", "go together"),
        (
            {**bars(), "funding_time": np.array([T0, T0]), "funding_rate": np.zeros(2)},
            "funding_time[1]",
            "strictly increasing",
        ),
        (
            {**bars(), "funding_time": np.array([T0]), "funding_rate": np.zeros(2)},
            "funding_rate",
            "length of funding_time",
        ),
    ],
)
def test_candles_name_field_value_and_rule(kwargs: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(gh.InvalidInputError) as info:
        Candles(**kwargs)
    e = info.value
    assert e.field == field
    assert rule in str(e) and e.rule is not None and rule in e.rule
    assert e.value is not None and e.value in str(e)


def test_candles_are_read_only_copies_with_helpers() -> None:
    src = bars(5)
    c = Candles(**src)
    src["close"][0] = 1e9  # the caller's array is not shared
    assert c.close[0] == 100.5
    with pytest.raises(ValueError, match="read-only"):
        c.close[0] = 1.0
    assert len(c) == 5
    s = c.slice(1, 3)
    assert len(s) == 2 and s.timestamp[0] == T0 + H
    np.testing.assert_allclose(c.log_returns(), np.log(c.close[1:] / c.close[:-1]))
    df = c.to_pandas()
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index[0]) == "2024-01-01 00:00:00+00:00"


def test_slice_keeps_the_funding_of_its_span() -> None:
    c = synthetic_candles(seed=1, bars=48)
    assert c.funding_time is not None
    s = c.slice(9, 17)  # 09:00 .. 16:00 open, next bar 17:00
    assert s.funding_time is not None
    assert list((s.funding_time - T0) // H) == [16]
    assert c.slice(40).funding_time is not None
    assert list((c.slice(40).funding_time - T0) // H) == [40]


@settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    n=st.integers(min_value=1, max_value=400),
    timeframe=st.sampled_from(["1m", "15m", "1h", "1d"]),
    fmt=st.sampled_from(["csv", "json"]),
)
def test_round_trip_is_exact(tmp_path: Path, seed: int, n: int, timeframe: Any, fmt: str) -> None:
    c = synthetic_candles(seed=seed, bars=n, timeframe=timeframe, funding=False)
    path = save_candles(c, tmp_path / f"c.{fmt}")
    assert load_candles(path) == c


def test_csv_without_header_with_iso_dates_and_reordered_columns(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(f"{T0},100,101,99,100.5,5\n{T0 + H},100.5,102,100,101,6\n")
    a = load_candles(p)
    q = tmp_path / "b.csv"
    q.write_text(
        "Date,Volume,Open,High,Low,Close,Symbol\n"
        "2024-01-01T00:00:00Z,5,100,101,99,100.5,BTC\n"
        "2024-01-01 01:00:00,6,100.5,102,100,101,BTC\n"
    )
    assert load_candles(q) == a
    assert list(a.timestamp) == [T0, T0 + H]


def test_json_rows_as_ccxt_returns_them(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(json.dumps([[T0, 100, 101, 99, 100.5, 5], [T0 + H, "100.5", 102, 100, 101, 6.0]]))
    c = load_candles(p)
    assert list(c.close) == [100.5, 101.0]


@pytest.mark.parametrize(
    ("name", "text", "where", "rule"),
    [
        ("a.csv", f"{T0},100,101,99,abc,5\n", "a.csv, line 1: close", "finite number"),
        ("a.csv", f"timestamp,open,high,low,close,volume\n{T0},1,2,1,1\n", "line 2", "6 columns"),
        (
            "a.csv",
            f"{T0},100,101,99,100.5,5\n{T0 + H},100,100.2,99,100.5,5\n",
            "a.csv, line 2: high",
            "must be >= max(open, close)",
        ),
        (
            "a.csv",
            f"\n{T0},100,101,99,100.5,5\n{T0},100,101,99,100.5,5\n",
            "a.csv, line 3: timestamp",
            "strictly increasing",
        ),
        ("a.csv", f"{T0},100,101,99,nan,5\n", "a.csv, line 1: close", "finite number"),
        ("a.csv", "x,100,101,99,100.5,5\n", "a.csv, line 1: timestamp", "ISO-8601"),
        ("a.csv", "when,open,high,low,close,volume\n", "line 1 (header)", "timestamp column"),
        ("a.csv", "time,open,high,low,close\n", "line 1 (header)", "'volume' column"),
        ("a.csv", "timestamp,open,high,low,close,volume\n", "a.csv", "at least one candle"),
        ("a.csv", "2024-13-45,100,101,99,100.5,5\n", "line 1: timestamp", "ISO-8601"),
        ("a.csv", f"{T0}.5,100,101,99,100.5,5\n", "line 1: timestamp", "whole number"),
        ("a.json", '{"a": 1}', "a.json", "JSON list"),
        ("a.json", "[[1, 2, 3]]", "a.json, row 0", "[ts, o, h, l, c, v]"),
        (
            "a.json",
            f"[[{T0}, 1, 2, 1, 1, 1], [{T0}, 1, 2, 1, 1, 1]]",
            "row 1: timestamp",
            "strictly",
        ),
        ("a.json", f"[[{T0}, 1, 2, 1, 1, -1]]", "a.json, row 0: volume", ">= 0"),
        ("a.json", f"[[{T0}, 1, 2, 1, 1, null]]", "row 0: volume", "finite number"),
        ("a.json", "[[1, 2", "a.json, line 1", "valid JSON"),
        ("a.txt", "x", "a.txt", "must end in .csv or .json"),
    ],
)
def test_file_errors_name_file_line_and_rule(
    tmp_path: Path, name: str, text: str, where: str, rule: str
) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(gh.InvalidInputError) as info:
        load_candles(p)
    e = info.value
    assert where in str(e) and e.field is not None and where in e.field, e
    assert rule in str(e), e


def test_missing_file_and_bad_format(tmp_path: Path) -> None:
    with pytest.raises(gh.InvalidInputError, match="existing candle file"):
        load_candles(tmp_path / "none.csv")
    with pytest.raises(gh.InvalidInputError, match="'csv' or 'json'"):
        load_candles(tmp_path / "x.csv", format="parquet")  # type: ignore[arg-type]


def test_explicit_format_overrides_the_suffix(tmp_path: Path) -> None:
    c = synthetic_candles(seed=3, bars=20, funding=False)
    p = save_candles(c, tmp_path / "candles.dat", format="json")
    assert load_candles(p, format="json") == c
