"""`Candles`: OHLCV bars (and optionally funding rates) as validated, read-only numpy arrays.

Conventions: ``timestamp`` is the bar open in ms since the epoch (UTC), strictly increasing;
prices are quote units, ``volume`` base units; ``funding_time`` (ms UTC) and ``funding_rate``
(a fraction per 8 hours; positive: longs pay shorts) are optional and travel together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gridhedge.errors import InvalidInputError

__all__ = ["PRICE_FIELDS", "CandleRuleError", "Candles", "check_candles"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

PRICE_FIELDS = ("open", "high", "low", "close")


class CandleRuleError(Exception):
    """A broken rule at one position of one field (turned into `InvalidInputError`)."""

    def __init__(self, field: str, index: int | None, value: object, rule: str) -> None:
        super().__init__(f"{field}[{index}]: {rule} (got {value})")
        self.field = field
        self.index = index
        self.value = value
        self.rule = rule

    def to_error(self, where: str | None = None) -> InvalidInputError:
        """The `InvalidInputError`; ``where`` (e.g. ``"file.csv, line 7"``) replaces the index."""
        if where is not None:
            name = f"{where}: {self.field}"
        elif self.index is None:
            name = self.field
        else:
            name = f"{self.field}[{self.index}]"
        value = str(self.value)
        return InvalidInputError(
            f"{name}: {self.rule} (got {value})", field=name, value=value, rule=self.rule
        )


def _ints(name: str, values: object) -> I64:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise CandleRuleError(name, None, f"{arr.ndim} dimension(s)", "must be one-dimensional")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
            if bad.size:
                i = int(bad[0])
                raise CandleRuleError(name, i, arr[i], "must be a whole number of ms")
        else:
            raise CandleRuleError(name, None, f"dtype {arr.dtype}", "must be integers (ms UTC)")
    out = np.array(arr, dtype=np.int64)
    out.setflags(write=False)
    return out


def _floats(name: str, values: object) -> F64:
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise CandleRuleError(name, None, type(values).__name__, "must be numbers") from e
    if arr.ndim != 1:
        raise CandleRuleError(name, None, f"{arr.ndim} dimension(s)", "must be one-dimensional")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise CandleRuleError(name, i, arr[i], "must be finite")
    arr.setflags(write=False)
    return arr


def _first(mask: npt.NDArray[np.bool_]) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def check_candles(
    timestamp: I64,
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    volume: F64,
    funding_time: I64 | None,
    funding_rate: F64 | None,
) -> None:
    """Raise `CandleRuleError` on the first broken rule (arrays already typed and finite)."""
    n = len(timestamp)
    for name, arr in (("open", open_), ("high", high), ("low", low), ("close", close)):
        if len(arr) != n:
            raise CandleRuleError(
                name, None, f"length {len(arr)}", f"must have the length of timestamp ({n})"
            )
        i = _first(arr <= 0)
        if i is not None:
            raise CandleRuleError(name, i, arr[i], "must be > 0")
    if len(volume) != n:
        raise CandleRuleError(
            "volume", None, f"length {len(volume)}", f"must have the length of timestamp ({n})"
        )
    i = _first(volume < 0)
    if i is not None:
        raise CandleRuleError("volume", i, volume[i], "must be >= 0")
    i = _first(np.diff(timestamp) <= 0)
    if i is not None:
        raise CandleRuleError(
            "timestamp",
            i + 1,
            timestamp[i + 1],
            f"must be strictly increasing (previous {timestamp[i]})",
        )
    top = np.maximum(open_, close)
    i = _first(high < top)
    if i is not None:
        raise CandleRuleError("high", i, high[i], f"must be >= max(open, close) = {top[i]}")
    bottom = np.minimum(open_, close)
    i = _first(low > bottom)
    if i is not None:
        raise CandleRuleError("low", i, low[i], f"must be <= min(open, close) = {bottom[i]}")
    if (funding_time is None) != (funding_rate is None):
        given = "funding_time" if funding_rate is None else "funding_rate"
        raise CandleRuleError(
            given, None, "one of the pair", "funding_time and funding_rate go together"
        )
    if funding_time is not None and funding_rate is not None:
        if len(funding_rate) != len(funding_time):
            raise CandleRuleError(
                "funding_rate",
                None,
                f"length {len(funding_rate)}",
                f"must have the length of funding_time ({len(funding_time)})",
            )
        i = _first(np.diff(funding_time) <= 0)
        if i is not None:
            raise CandleRuleError(
                "funding_time",
                i + 1,
                funding_time[i + 1],
                f"must be strictly increasing (previous {funding_time[i]})",
            )


@dataclass(frozen=True, eq=False)
class Candles:
    """OHLCV bars, oldest first, validated on construction (read-only float64/int64 arrays).

    Raises `gridhedge.InvalidInputError` naming the field and position, the value and the rule:
    equal lengths, strictly increasing ``timestamp``, finite values, prices > 0, volume >= 0,
    ``high >= max(open, close)`` and ``low <= min(open, close)``.
    """

    timestamp: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    funding_time: I64 | None = field(default=None)
    funding_rate: F64 | None = field(default=None)
    funding_source: str | None = field(default=None)
    """Where the funding rates came from (a file, an exchange, ``synthetic``); None when
    unknown. See :attr:`funding_origin`."""

    def __post_init__(self) -> None:
        try:
            arrays: dict[str, Any] = {"timestamp": _ints("timestamp", self.timestamp)}
            for name in (*PRICE_FIELDS, "volume"):
                arrays[name] = _floats(name, getattr(self, name))
            arrays["funding_time"] = (
                None if self.funding_time is None else _ints("funding_time", self.funding_time)
            )
            arrays["funding_rate"] = (
                None if self.funding_rate is None else _floats("funding_rate", self.funding_rate)
            )
            check_candles(**{("open_" if k == "open" else k): v for k, v in arrays.items()})
        except CandleRuleError as p:
            raise p.to_error() from None
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.timestamp)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Candles):
            return NotImplemented
        return all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in (
                (getattr(self, n), getattr(other, n))
                for n in ("timestamp", *PRICE_FIELDS, "volume", "funding_time", "funding_rate")
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not len(self):
            return "Candles(0 bars)"
        funding = "" if self.funding_time is None else f", {len(self.funding_time)} funding rates"
        return (
            f"Candles({len(self)} bars, {np.datetime64(int(self.timestamp[0]), 'ms')}Z .. "
            f"{np.datetime64(int(self.timestamp[-1]), 'ms')}Z{funding})"
        )

    @property
    def has_funding(self) -> bool:
        """Whether funding rates are attached."""
        return self.funding_time is not None

    @property
    def funding_origin(self) -> str:
        """Where the funding of a run on these bars comes from, for every screen and report:
        ``funding_source`` when known, ``"attached (source unknown)"`` for rates without one,
        ``"none: zero funding assumed"`` without rates."""
        if self.funding_time is None:
            return "none: zero funding assumed"
        n = len(self.funding_time)
        return f"{self.funding_source or 'attached (source unknown)'}, {n} rates"

    def slice(self, start: int | None = None, stop: int | None = None) -> Candles:
        """Bars ``[start:stop]`` (Python slice rules), with the funding rates paid from the first
        kept bar's open up to the next bar's open (to the end when the slice runs to the end)."""
        s = slice(start, stop)
        lo, hi, _ = s.indices(len(self))
        ft, fr = self.funding_time, self.funding_rate
        if ft is not None and fr is not None:
            # funding times are strictly increasing: two binary searches, no masks
            t0 = self.timestamp[lo] if lo < len(self) else np.iinfo(np.int64).max
            a = int(ft.searchsorted(t0, side="left"))
            b = int(ft.searchsorted(self.timestamp[hi], side="left")) if hi < len(self) else len(ft)
            ft, fr = ft[a : max(a, b)], fr[a : max(a, b)]
        # a slice of validated bars is valid: no second validation (a hot path of the bot)
        # (the fields written straight into the frozen instance's __dict__, in one call)
        view = object.__new__(Candles)
        view.__dict__.update(
            timestamp=self.timestamp[s],
            open=self.open[s],
            high=self.high[s],
            low=self.low[s],
            close=self.close[s],
            volume=self.volume[s],
            funding_time=ft,
            funding_rate=fr,
            funding_source=self.funding_source,
        )
        return view

    def log_returns(self) -> F64:
        """Close-to-close log returns (length ``len(self) - 1``)."""
        return np.diff(np.log(self.close))

    def to_pandas(self) -> Any:
        """The bars as a ``pandas.DataFrame`` indexed by UTC bar-open time (needs pandas)."""
        import pandas as pd  # type: ignore[import-untyped]

        index = pd.to_datetime(self.timestamp, unit="ms", utc=True)
        return pd.DataFrame(
            {name: getattr(self, name) for name in (*PRICE_FIELDS, "volume")},
            index=pd.Index(index, name="timestamp"),
        )
