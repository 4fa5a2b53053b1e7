"""The emulator's state file (``gridhedge sim --state FILE``): SQLite (WAL) holding the replay
clock, the id counters, every order, trade and income record, and the ledger of fills and
funding that rebuilds each core ``SimAccount`` exactly on restart.

Binance keeps an account across its own restarts; so does the emulator with ``--state``: stop
it (or SIGKILL it) and start it again on the same file and the same bars, and every order, trade
id, balance and the clock are as they were. Resting orders are put back into the core
``FillBook`` with their remaining amount and the bar they were placed after.

A state file belongs to one set of bars: its fingerprint (symbols, first bar open time,
timeframe) must match, or loading fails naming the file. Amounts are exact decimal strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gridhedge.errors import ConfigError

__all__ = ["SimStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS books (
    symbol TEXT PRIMARY KEY, leverage INTEGER NOT NULL, next_trade_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, client_order_id TEXT NOT NULL,
    side TEXT NOT NULL, type TEXT NOT NULL, time_in_force TEXT NOT NULL, price TEXT NOT NULL,
    stop_price TEXT NOT NULL, orig_qty TEXT NOT NULL, reduce_only INTEGER NOT NULL,
    time_ms INTEGER NOT NULL, update_time_ms INTEGER NOT NULL, status TEXT NOT NULL,
    executed_qty TEXT NOT NULL, cum_quote TEXT NOT NULL, algo INTEGER NOT NULL,
    placed_bar INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trades (
    symbol TEXT NOT NULL, trade_id INTEGER NOT NULL, order_id INTEGER NOT NULL,
    side TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, commission TEXT NOT NULL,
    realized_pnl TEXT NOT NULL, maker INTEGER NOT NULL, time_ms INTEGER NOT NULL,
    bar INTEGER NOT NULL, PRIMARY KEY (symbol, trade_id)
);
CREATE TABLE IF NOT EXISTS income (
    tran_id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, income_type TEXT NOT NULL,
    income TEXT NOT NULL, time_ms INTEGER NOT NULL, trade_id TEXT NOT NULL, rate REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY, symbol TEXT NOT NULL, kind TEXT NOT NULL, side TEXT NOT NULL,
    price_ticks INTEGER NOT NULL, lots INTEGER NOT NULL, fee TEXT NOT NULL,
    mark REAL NOT NULL, rate REAL NOT NULL
);
"""

ORDER_COLUMNS = (
    "order_id, symbol, client_order_id, side, type, time_in_force, price, stop_price, orig_qty,"
    " reduce_only, time_ms, update_time_ms, status, executed_qty, cum_quote, algo, placed_bar"
)
TRADE_COLUMNS = (
    "symbol, trade_id, order_id, side, price, qty, commission, realized_pnl, maker, time_ms, bar"
)
INCOME_COLUMNS = "tran_id, symbol, income_type, income, time_ms, trade_id, rate"
LEDGER_COLUMNS = "seq, symbol, kind, side, price_ticks, lots, fee, mark, rate"


class SimStore:
    """One SQLite state file; writes are batched by the exchange into one transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as e:
            raise ConfigError(
                f"state: cannot open the emulator's state file {str(self.path)!r} ({e})",
                field="state",
                value=str(self.path),
                rule="must be a writable SQLite file",
            ) from None

    def close(self) -> None:
        self.db.close()

    # --------------------------------------------------------------------------- reading
    def meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def rows(self, table: str, columns: str, order_by: str) -> list[tuple[Any, ...]]:
        return list(self.db.execute(f"SELECT {columns} FROM {table} ORDER BY {order_by}"))

    def check_fingerprint(self, fingerprint: str) -> bool:
        """True if the file holds a state (of these bars); raises if it is of other bars."""
        saved = self.meta().get("fingerprint")
        if saved is None:
            return False
        if saved != fingerprint:
            raise ConfigError(
                f"state: {str(self.path)!r} was written for other bars ({saved}), "
                f"not these ({fingerprint})",
                field="state",
                value=str(self.path),
                rule="must be restarted on the same symbols and bars",
            )
        return True

    # --------------------------------------------------------------------------- writing
    def write(
        self,
        *,
        meta: dict[str, str],
        books: Iterable[tuple[str, int, int]],
        orders: Sequence[tuple[Any, ...]],
        trades: Sequence[tuple[Any, ...]],
        income: Sequence[tuple[Any, ...]],
        ledger: Sequence[tuple[Any, ...]],
    ) -> None:
        """One transaction: upsert the changed orders, append the new records."""
        db = self.db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta.items())
            db.executemany(
                "INSERT OR REPLACE INTO books (symbol, leverage, next_trade_id) VALUES (?, ?, ?)",
                books,
            )
            if orders:
                db.executemany(
                    f"INSERT OR REPLACE INTO orders ({ORDER_COLUMNS}) VALUES ({_q(17)})", orders
                )
            if trades:
                db.executemany(f"INSERT INTO trades ({TRADE_COLUMNS}) VALUES ({_q(11)})", trades)
            if income:
                db.executemany(f"INSERT INTO income ({INCOME_COLUMNS}) VALUES ({_q(7)})", income)
            if ledger:
                db.executemany(f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES ({_q(9)})", ledger)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _q(n: int) -> str:
    return ", ".join("?" * n)
