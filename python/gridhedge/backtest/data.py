"""Candles in and out for backtests: CSV/JSON (``gridhedge.data.files``), Parquet (ccxt's OHLCV
layout: timestamp ms, open, high, low, close, volume), synthetic, or fetched through ccxt."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gridhedge.data.candles import Candles
from gridhedge.data.files import COLUMNS, funding_sidecar, load_candles, load_funding
from gridhedge.errors import InvalidInputError


def load_parquet(path: str | os.PathLike[str]) -> Candles:
    """Candles from a Parquet file with ccxt's OHLCV columns (optional funding columns)."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(
            f"{p}: no such file",
            field=str(p),
            value="no such file",
            rule="must be an existing candle file",
        )
    table = pq.read_table(p)
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise InvalidInputError(
            f"{p}: missing column(s) {missing}",
            field=str(p),
            value=str(table.column_names),
            rule=f"must have the columns {list(COLUMNS)}",
        )
    col = {name: table.column(name).to_numpy() for name in table.column_names}
    kwargs: dict[str, Any] = {}
    if "funding_time" in col and "funding_rate" in col:
        ok = ~np.isnan(col["funding_rate"].astype(np.float64))
        kwargs = {
            "funding_time": col["funding_time"][ok].astype(np.int64),
            "funding_rate": col["funding_rate"][ok].astype(np.float64),
        }
    return Candles(
        timestamp=col["timestamp"].astype(np.int64),
        open=col["open"].astype(np.float64),
        high=col["high"].astype(np.float64),
        low=col["low"].astype(np.float64),
        close=col["close"].astype(np.float64),
        volume=col["volume"].astype(np.float64),
        **kwargs,
    )


def save_parquet(candles: Candles, path: str | os.PathLike[str]) -> Path:
    """Write candles as Parquet in ccxt's OHLCV layout (the funding series is not written)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    table = pa.table({name: getattr(candles, name) for name in COLUMNS})
    pq.write_table(table, p)
    return p


def load_any(path: str | os.PathLike[str]) -> Candles:
    """Candles from a ``.parquet``, ``.csv`` or ``.json`` file, with the funding rates of its
    ``funding_rate`` column or its sidecar ``<stem>.funding.csv`` when there are any."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        candles = load_parquet(path)
        side = funding_sidecar(path)
        if candles.has_funding:
            return with_funding(
                candles, candles.funding_time, candles.funding_rate, f"file {path} (columns)"
            )
        if side.is_file():
            ft, fr = load_funding(side)
            return with_funding(candles, ft, fr, f"file {side}")
        return candles
    return load_candles(path)


def with_funding(candles: Candles, funding_time: Any, funding_rate: Any, source: str) -> Candles:
    """``candles`` with a funding series attached and its source named (validated)."""
    return dataclasses.replace(
        candles,
        funding_time=np.asarray(funding_time, dtype=np.int64),
        funding_rate=np.asarray(funding_rate, dtype=np.float64),
        funding_source=source,
    )


def ccxt_exchange(exchange: str, base_url: str | None = None) -> Any:
    """A synchronous ccxt exchange by id; ``base_url`` points every API URL of a Binance
    class at another server (a local ``gridhedge sim``), with the emulator's offline
    options."""
    import ccxt  # type: ignore[import-untyped]

    cls = getattr(ccxt, exchange, None)
    if cls is None:
        raise InvalidInputError(
            f"exchange: ccxt has no exchange {exchange!r}",
            field="exchange",
            value=repr(exchange),
            rule="must be a ccxt exchange id (binance, binanceusdm, bybit, okx, ...)",
        )
    if base_url is None:
        return cls({"enableRateLimit": True})
    from gridhedge.sim.client import LOCAL_OPTIONS, point_at

    ex = cls({"enableRateLimit": False, "timeout": 10_000, "options": dict(LOCAL_OPTIONS)})
    point_at(ex, base_url)
    return ex


def fetch_funding(
    ex: Any, symbol: str, since_ms: int, until_ms: int, page: int = 1000
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Funding-rate history through ccxt's ``fetch_funding_rate_history``, paged forward from
    ``since_ms`` to ``until_ms`` (inclusive): (times ms UTC, rates per interval)."""
    if not ex.has.get("fetchFundingRateHistory"):
        raise InvalidInputError(
            f"exchange: {ex.id} has no funding-rate history in ccxt",
            field="exchange",
            value=ex.id,
            rule="must support fetchFundingRateHistory (a perpetual-futures exchange)",
        )
    rows: dict[int, float] = {}
    cursor = since_ms
    while cursor <= until_ms:
        batch = ex.fetch_funding_rate_history(symbol, since=cursor, limit=page)
        fresh = [r for r in batch if int(r["timestamp"]) >= cursor]
        if not fresh:
            break
        for r in fresh:
            t = int(r["timestamp"])
            if t <= until_ms:
                rows[t] = float(r["fundingRate"])
        cursor = max(int(r["timestamp"]) for r in fresh) + 1
    times = sorted(rows)
    return np.array(times, dtype=np.int64), np.array([rows[t] for t in times], dtype=np.float64)


def fetch_ohlcv(
    exchange: str,
    symbol: str,
    timeframe: str,
    since_ms: int | None,
    limit: int,
    base_url: str | None = None,
) -> Candles:
    """Fetch OHLCV bars through ccxt (needs the internet and ``pip install ccxt``, or
    ``base_url`` of a local emulator), paging forward from ``since_ms`` until ``limit``
    bars."""
    ex = ccxt_exchange(exchange, base_url)
    rows: list[list[float]] = []
    cursor = since_ms
    while len(rows) < limit:
        batch = ex.fetch_ohlcv(symbol, timeframe, since=cursor, limit=min(1000, limit - len(rows)))
        if not batch:
            break
        rows.extend(r for r in batch if not rows or r[0] > rows[-1][0])
        cursor = int(batch[-1][0]) + 1
        if len(batch) < 2:
            break
    arr = np.array(rows[:limit], dtype=np.float64).reshape(-1, 6)
    return Candles(
        timestamp=arr[:, 0].astype(np.int64),
        open=arr[:, 1],
        high=arr[:, 2],
        low=arr[:, 3],
        close=arr[:, 4],
        volume=arr[:, 5],
    )
