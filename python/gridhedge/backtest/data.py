"""Candles in and out for backtests: CSV/JSON (``gridhedge.data.files``), Parquet (ccxt's OHLCV
layout: timestamp ms, open, high, low, close, volume), synthetic, or fetched through ccxt."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gridhedge.data.candles import Candles
from gridhedge.data.files import COLUMNS, load_candles
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
    """Candles from a ``.parquet``, ``.csv`` or ``.json`` file."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        return load_parquet(path)
    return load_candles(path)


def fetch_ohlcv(
    exchange: str, symbol: str, timeframe: str, since_ms: int | None, limit: int
) -> Candles:
    """Fetch OHLCV bars through ccxt (needs the internet and ``pip install ccxt``), paging
    forward from ``since_ms`` until ``limit`` bars."""
    import ccxt  # type: ignore[import-untyped]

    try:
        ex = getattr(ccxt, exchange)({"enableRateLimit": True})
    except AttributeError:
        raise InvalidInputError(
            f"exchange: ccxt has no exchange {exchange!r}",
            field="exchange",
            value=repr(exchange),
            rule="must be a ccxt exchange id (binance, bybit, okx, ...)",
        ) from None
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
