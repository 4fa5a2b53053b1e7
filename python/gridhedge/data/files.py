"""Candle files: CSV ``timestamp,open,high,low,close,volume`` and ccxt/freqtrade JSON.

CSV: one bar a line; ``timestamp`` in ms since the epoch (UTC, bar open) or an ISO-8601 date
(naive means UTC); the header line is optional (with a header, columns may come in any order,
extra columns are ignored and ``time``/``date``/``datetime`` name the timestamp). JSON: a list
of ``[timestamp_ms, open, high, low, close, volume]`` rows, as ccxt's ``fetch_ohlcv`` returns
and freqtrade stores.

Funding rates (a fraction per funding interval; positive: longs pay shorts) come from, in
this order: a ``funding_rate`` column of a CSV with a header (a non-empty cell is a funding
event at that bar's open time; empty cells are none), or a sidecar file beside the candles,
``<stem>.funding.csv`` with the columns ``timestamp,funding_rate`` (ms UTC or ISO dates;
what ``gridhedge data fetch`` writes). The loaded `Candles` name their ``funding_source``.

Every error is a `gridhedge.InvalidInputError` naming the file, the line (CSV) or row (JSON),
the column, the value and the rule.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from gridhedge.data.candles import CandleRuleError, Candles, check_candles
from gridhedge.errors import InvalidInputError

__all__ = [
    "COLUMNS",
    "CandleFormat",
    "funding_sidecar",
    "load_candles",
    "load_funding",
    "save_candles",
    "save_funding",
]

CandleFormat = Literal["csv", "json"]
COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_TIME_ALIASES = ("timestamp", "time", "date", "datetime", "open_time")


def _error(where: str, value: object, rule: str) -> InvalidInputError:
    text = str(value)
    return InvalidInputError(f"{where}: {rule} (got {text})", field=where, value=text, rule=rule)


def _format(path: Path, fmt: str | None) -> CandleFormat:
    name = fmt if fmt is not None else path.suffix.lower().lstrip(".")
    if name == "csv":
        return "csv"
    if name == "json":
        return "json"
    if fmt is not None:
        raise _error("format", repr(fmt), "must be 'csv' or 'json'")
    raise _error(
        str(path), path.suffix or "no suffix", "must end in .csv or .json (or pass format=)"
    )


def _millis(where: str, text: object) -> int:
    """A timestamp cell: integral ms (int, integral float or its text) or an ISO-8601 date."""
    if isinstance(text, bool):
        raise _error(where, text, "must be ms since the epoch or an ISO-8601 date")
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        if math.isfinite(text) and text == int(text):
            return int(text)
        raise _error(where, text, "must be a whole number of ms since the epoch")
    if not isinstance(text, str):
        raise _error(where, repr(text), "must be ms since the epoch or an ISO-8601 date")
    s = text.strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        x = float(s)
    except ValueError:
        pass
    else:
        if math.isfinite(x) and x == int(x):
            return int(x)
        raise _error(where, repr(text), "must be a whole number of ms since the epoch")
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        raise _error(where, repr(text), "must be ms since the epoch or an ISO-8601 date") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    delta = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _number(where: str, value: object) -> float:
    if isinstance(value, bool):
        raise _error(where, value, "must be a finite number")
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            raise _error(where, repr(value), "must be a finite number") from None
    else:
        raise _error(where, repr(value), "must be a finite number")
    if not math.isfinite(x):
        raise _error(where, value, "must be a finite number")
    return x


def _build(rows: list[tuple[int, list[float]]], label: str, where_of: list[str]) -> Candles:
    """Candles from parsed rows; a broken candle rule names the file position of its row."""
    if not rows:
        raise _error(label, "no rows", "must hold at least one candle")
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    values = np.array([r[1] for r in rows], dtype=np.float64)
    try:
        return _checked(ts, values)
    except CandleRuleError as p:
        where = where_of[p.index] if p.index is not None else label
        raise p.to_error(where) from None


def _checked(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> Candles:
    o, h, lo, c, v = (np.ascontiguousarray(values[:, i]) for i in range(5))
    check_candles(ts, o, h, lo, c, v, None, None)
    return Candles(ts, o, h, lo, c, v)


def _load_csv(path: Path) -> Candles:
    label = str(path)
    rows: list[tuple[int, list[float]]] = []
    where_of: list[str] = []
    order = list(range(6))
    names = list(COLUMNS)
    funding_col: int | None = None
    funding: list[tuple[int, float]] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        first = True
        headerless = True
        for line_no, cells in enumerate(reader, start=1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if first:
                first = False
                header = [c.strip().lower() for c in cells]
                if not _looks_numeric_row(header):
                    order = _header_order(label, header)
                    headerless = False
                    names = [header[i] for i in order]
                    if "funding_rate" in header:
                        funding_col = header.index("funding_rate")
                    continue
            where = f"{label}, line {line_no}"
            need = max(order) + 1
            if len(cells) < need:
                raise _error(where, f"{len(cells)} column(s)", f"must have at least {need} columns")
            if headerless and len(cells) != 6:
                raise _error(
                    where,
                    f"{len(cells)} column(s)",
                    "must have 6 columns: timestamp,open,high,low,close,volume",
                )
            t = _millis(f"{where}: {names[0]}", cells[order[0]])
            vals = [_number(f"{where}: {names[k]}", cells[order[k]]) for k in range(1, 6)]
            rows.append((t, vals))
            where_of.append(where)
            if funding_col is not None and funding_col < len(cells):
                cell = cells[funding_col].strip()
                if cell:
                    funding.append((t, _number(f"{where}: funding_rate", cell)))
    candles = _build(rows, label, where_of)
    if funding_col is not None:
        return _with_funding(candles, funding, f"file {label} (funding_rate column)", label)
    return candles


def _with_funding(
    candles: Candles, funding: list[tuple[int, float]], source: str, label: str
) -> Candles:
    """``candles`` with the funding events attached (validated: strictly increasing times)."""
    ft = np.array([t for t, _ in funding], dtype=np.int64)
    fr = np.array([r for _, r in funding], dtype=np.float64)
    try:
        check_candles(
            candles.timestamp,
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            candles.volume,
            ft,
            fr,
        )
    except CandleRuleError as p:
        raise p.to_error(label) from None
    return dataclasses.replace(candles, funding_time=ft, funding_rate=fr, funding_source=source)


def funding_sidecar(path: str | os.PathLike[str]) -> Path:
    """The funding file beside a candle file: ``<dir>/<stem>.funding.csv``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.funding.csv")


def load_funding(
    path: str | os.PathLike[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Funding events from a CSV ``timestamp,funding_rate`` (header required; ms UTC or ISO
    dates; strictly increasing times)."""
    p = Path(path)
    label = str(p)
    if not p.is_file():
        raise _error(label, "no such file", "must be an existing funding file")
    out: list[tuple[int, float]] = []
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        cols: tuple[int, int] | None = None
        for line_no, cells in enumerate(reader, start=1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if cols is None:
                header = [c.strip().lower() for c in cells]
                t_col = next((header.index(a) for a in _TIME_ALIASES if a in header), None)
                if t_col is None or "funding_rate" not in header:
                    raise _error(
                        f"{label}, line {line_no} (header)",
                        ",".join(header),
                        "must name the columns timestamp,funding_rate",
                    )
                cols = (t_col, header.index("funding_rate"))
                continue
            where = f"{label}, line {line_no}"
            if len(cells) <= max(cols):
                raise _error(where, f"{len(cells)} column(s)", "must have timestamp,funding_rate")
            t = _millis(f"{where}: timestamp", cells[cols[0]])
            if out and t <= out[-1][0]:
                raise _error(
                    f"{where}: timestamp", t, f"must be strictly increasing (previous {out[-1][0]})"
                )
            out.append((t, _number(f"{where}: funding_rate", cells[cols[1]])))
    return np.array([t for t, _ in out], dtype=np.int64), np.array(
        [r for _, r in out], dtype=np.float64
    )


def save_funding(
    path: str | os.PathLike[str], funding_time: npt.ArrayLike, funding_rate: npt.ArrayLike
) -> Path:
    """Write funding events as CSV ``timestamp,funding_rate`` (shortest round-trip floats)."""
    p = Path(path)
    with p.open("w", newline="", encoding="utf-8") as fh:
        fh.write("timestamp,funding_rate\n")
        fh.writelines(
            f"{int(t)},{float(r)!r}\n"
            for t, r in zip(np.asarray(funding_time), np.asarray(funding_rate), strict=True)
        )
    return p


def _looks_numeric_row(cells: list[str]) -> bool:
    try:
        float(cells[1] if len(cells) > 1 else cells[0])
    except ValueError:
        return False
    return True


def _header_order(label: str, header: list[str]) -> list[int]:
    where = f"{label}, line 1 (header)"
    time_col = next((header.index(a) for a in _TIME_ALIASES if a in header), None)
    if time_col is None:
        raise _error(where, ",".join(header), "must name a timestamp column (timestamp/time/date)")
    order = [time_col]
    for name in COLUMNS[1:]:
        if name not in header:
            raise _error(where, ",".join(header), f"must have a '{name}' column")
        order.append(header.index(name))
    return order


def _load_json(path: Path) -> Candles:
    label = str(path)
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as e:
        raise _error(f"{label}, line {e.lineno}", e.msg, "must be valid JSON") from None
    if not isinstance(data, list):
        raise _error(label, type(data).__name__, "must be a JSON list of [ts, o, h, l, c, v] rows")
    rows: list[tuple[int, list[float]]] = []
    where_of: list[str] = []
    for i, row in enumerate(data):
        where = f"{label}, row {i}"
        if not isinstance(row, list) or len(row) < 6:
            raise _error(where, json.dumps(row)[:60], "must be a list [ts, o, h, l, c, v]")
        t = _millis(f"{where}: timestamp", row[0])
        vals = [_number(f"{where}: {COLUMNS[k]}", row[k]) for k in range(1, 6)]
        rows.append((t, vals))
        where_of.append(where)
    return _build(rows, label, where_of)


def load_candles(path: str | os.PathLike[str], format: CandleFormat | None = None) -> Candles:
    """Read candles from a CSV or JSON file (format from the suffix unless ``format`` is given).

    Raises `gridhedge.InvalidInputError` naming the file, the line or row, the column, the value
    and the rule for a missing file, a malformed cell, or a broken candle rule (timestamps
    strictly increasing, prices > 0, ``low <= open, close <= high``, volume >= 0).
    """
    p = Path(path)
    fmt = _format(p, format)
    if not p.is_file():
        raise _error(str(p), "no such file", "must be an existing candle file")
    candles = _load_csv(p) if fmt == "csv" else _load_json(p)
    side = funding_sidecar(p)
    if not candles.has_funding and side.is_file():
        ft, fr = load_funding(side)
        candles = _with_funding(
            candles, list(zip(ft.tolist(), fr.tolist(), strict=True)), f"file {side}", str(side)
        )
    return candles


def save_candles(
    candles: Candles, path: str | os.PathLike[str], format: CandleFormat | None = None
) -> Path:
    """Write ``candles`` as CSV (with a header) or JSON rows; floats are written in their
    shortest round-trip form, so `load_candles` gives back equal arrays. Funding rates, when
    attached, go to the sidecar ``<stem>.funding.csv`` (see `funding_sidecar`). Returns the
    path."""
    p = Path(path)
    fmt = _format(p, format)
    if candles.funding_time is not None and candles.funding_rate is not None:
        save_funding(funding_sidecar(p), candles.funding_time, candles.funding_rate)
    columns = [candles.timestamp.tolist()] + [
        getattr(candles, name).tolist() for name in COLUMNS[1:]
    ]
    rows = list(zip(*columns, strict=True))
    if fmt == "csv":
        with p.open("w", newline="", encoding="utf-8") as fh:
            fh.write(",".join(COLUMNS) + "\n")
            fh.writelines(",".join(repr(v) for v in row) + "\n" for row in rows)
    else:
        with p.open("w", encoding="utf-8") as fh:
            json.dump([list(r) for r in rows], fh, separators=(",", ":"))
    return p
