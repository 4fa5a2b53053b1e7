"""SQLite state: one file per bot (or portfolio runner), WAL, every write committed before the
call returns, so a crash at any line loses nothing that was acknowledged.

Schema versioned with forward migrations (``MIGRATIONS``). A second bot with the same id on
the same database refuses to start (an exclusive lock on a sidecar lock file: `flock` on POSIX,
`msvcrt.locking` on Windows; released by the OS when the process dies). A corrupt or truncated
file is refused with a clear error, never replaced by a fresh start.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import sqlite3
import time
from decimal import Decimal
from typing import Any

from gridhedge.common.interfaces import StateManager
from gridhedge.common.types import Fill, Order, OrderStatus, Side
from gridhedge.errors import GridHedgeError
from gridhedge.state.filelock import LockHeldError, lock_exclusive

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE bots (
        bot_id TEXT PRIMARY KEY,
        config_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE kv (
        bot_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (bot_id, key)
    );
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        bot_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        amount TEXT NOT NULL,
        filled TEXT NOT NULL,
        status TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        exchange_order_id TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX orders_live ON orders (bot_id, status);
    CREATE TABLE fills (
        trade_id TEXT PRIMARY KEY,
        bot_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        amount TEXT NOT NULL,
        fee TEXT NOT NULL,
        maker INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL
    );
    CREATE TABLE equity (
        bot_id TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        equity TEXT NOT NULL,
        high_water_mark TEXT NOT NULL
    );
    CREATE TABLE risk_events (
        bot_id TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        code TEXT NOT NULL,
        message TEXT NOT NULL
    );
    """,
    # 2: fills keyed by (exchange, symbol, trade id): Binance numbers trades per symbol, so in
    # a shared portfolio file two legs' trades can share an id. Rows of version 1 keep their
    # symbol and get exchange '' (then matched by (symbol, trade id) alone). Orders keep why
    # the exchange rejected them; funding payments get a table of their own.
    """
    CREATE TABLE fills_v2 (
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        trade_id TEXT NOT NULL,
        bot_id TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        amount TEXT NOT NULL,
        fee TEXT NOT NULL,
        maker INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        PRIMARY KEY (exchange, symbol, trade_id)
    );
    INSERT INTO fills_v2 (exchange, symbol, trade_id, bot_id, client_order_id, side, price,
        amount, fee, maker, timestamp_ms)
        SELECT '', symbol, trade_id, bot_id, client_order_id, side, price, amount, fee, maker,
            timestamp_ms FROM fills;
    DROP TABLE fills;
    ALTER TABLE fills_v2 RENAME TO fills;
    CREATE INDEX fills_bot ON fills (bot_id, timestamp_ms);
    ALTER TABLE orders ADD COLUMN error TEXT NOT NULL DEFAULT '';
    CREATE TABLE funding (
        bot_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        amount TEXT NOT NULL,
        PRIMARY KEY (bot_id, symbol, timestamp_ms)
    );
    """,
    # 3: an order's filled amount is summed from its fills on every order update; without an
    # index that read scans every fill the bot ever made (a bot left running for weeks)
    """
    CREATE INDEX fills_order ON fills (client_order_id, symbol);
    """,
]
"""Forward migrations; schema version N means the first N have been applied."""


class StateError(GridHedgeError):
    """The state store cannot be used; the bot must not trade."""


class StateLockedError(StateError):
    """Another process already runs a bot with this id on this database."""


class StateCorruptError(StateError):
    """The database file is corrupt, truncated or not a gridhedge database."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def realised_pnl(fills: list[Fill]) -> Decimal:
    """Realised PnL (quote, before fees) of the futures fills, per symbol at average cost: a
    fill that reduces the position realises (price - entry) x amount on the side it closes."""
    book: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (signed position, entry price)
    total = Decimal(0)
    for f in sorted(fills, key=lambda x: x.timestamp_ms):
        pos, entry = book.get(f.symbol, (Decimal(0), Decimal(0)))
        signed = f.amount if f.side is Side.BUY else -f.amount
        if pos == 0 or (pos > 0) == (signed > 0):
            size = abs(pos) + f.amount
            entry = (entry * abs(pos) + f.price * f.amount) / size
            pos += signed
        else:
            closed = min(abs(pos), f.amount)
            direction = Decimal(1) if pos > 0 else Decimal(-1)
            total += (f.price - entry) * closed * direction
            pos += signed
            if pos == 0:
                entry = Decimal(0)
            elif (pos > 0) != (direction > 0):
                entry = f.price  # flipped: the rest opens at this price
        book[f.symbol] = (pos, entry)
    return total


def _order_of(r: Any) -> Order:
    """An ``Order`` from a row of (client_order_id, symbol, side, price, amount, key, kind,
    sequence, status, filled, exchange_order_id, created_ms, error)."""
    return Order(
        client_order_id=r[0],
        symbol=r[1],
        side=Side(r[2]),
        price=Decimal(r[3]),
        amount=Decimal(r[4]),
        key=r[5],
        kind=r[6],
        sequence=r[7],
        status=OrderStatus(r[8]),
        filled=Decimal(r[9]),
        exchange_order_id=r[10],
        created_ms=r[11],
        error=r[12],
    )


class SQLiteStateManager(StateManager):
    """Durable state of one bot in a SQLite file (WAL, synchronous=FULL)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        bot_id: str,
        config_hash: str = "",
        *,
        read_only: bool = False,
    ) -> None:
        """``read_only``: a reader beside a running bot (``gridhedge status``): no lock, no
        migration, no write; the file must exist at the current schema."""
        self.path = pathlib.Path(path)
        self.bot_id = bot_id
        self.read_only = read_only
        if read_only:
            self._lock_file = None
            try:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as e:
                self.close()
                raise StateCorruptError(
                    f"state: {str(self.path)!r} is not a readable SQLite database ({e})",
                    field="state file",
                    value=str(self.path),
                    rule="must be an intact gridhedge SQLite database",
                ) from None
            if version != len(MIGRATIONS):
                self.close()
                raise StateCorruptError(
                    f"state: {str(self.path)!r} has schema version {version}; this gridhedge "
                    f"reads version {len(MIGRATIONS)} (start the bot once to upgrade it)",
                    field="state file",
                    value=str(self.path),
                    rule=f"schema version must be {len(MIGRATIONS)}",
                )
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._acquire_lock()
        try:
            self._db = self._open()
            self._migrate()
            self._register(config_hash)
        except BaseException:
            self.close()
            raise

    # --- opening -------------------------------------------------------------------------
    def _acquire_lock(self) -> Any:
        lock_path = self.path.with_name(f"{self.path.name}.{self.bot_id}.lock")
        try:
            handle = lock_exclusive(lock_path)  # held for the bot's lifetime
        except LockHeldError:
            raise StateLockedError(
                f"state: bot {self.bot_id!r} is already running on {str(self.path)!r} "
                "(another process holds its lock); stop it first",
                field="bot_id",
                value=self.bot_id,
                rule="one running bot per id and database",
            ) from None
        return handle

    def _open(self) -> sqlite3.Connection:
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            if existed:
                check = db.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    raise sqlite3.DatabaseError(str(check))
        except sqlite3.DatabaseError as e:
            raise StateCorruptError(
                f"state: {str(self.path)!r} is not a readable SQLite database ({e}); "
                "refusing to trade (restore it from a backup or move it away to start fresh)",
                field="state file",
                value=str(self.path),
                rule="must be an intact gridhedge SQLite database",
            ) from None
        return db

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateCorruptError(
                f"state: {str(self.path)!r} has schema version {version}, newer than this "
                f"gridhedge knows ({len(MIGRATIONS)}); upgrade gridhedge",
                field="state file",
                value=str(self.path),
                rule=f"schema version must be <= {len(MIGRATIONS)}",
            )
        if version == 0 and self._has_tables():
            raise StateCorruptError(
                f"state: {str(self.path)!r} holds tables but no gridhedge schema version",
                field="state file",
                value=str(self.path),
                rule="must be a gridhedge state database",
            )
        for n in range(version, len(MIGRATIONS)):
            with self._tx():
                self._db.executescript(f"BEGIN;{MIGRATIONS[n]}")
                self._db.execute(f"PRAGMA user_version = {n + 1}")

    def _has_tables(self) -> bool:
        count: int = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return count > 0

    def _register(self, config_hash: str) -> None:
        with self._tx():
            self._db.execute(
                "INSERT INTO bots (bot_id, config_hash, created_ms) VALUES (?, ?, ?) "
                "ON CONFLICT (bot_id) DO UPDATE SET config_hash = excluded.config_hash "
                "WHERE excluded.config_hash != ''",
                (self.bot_id, config_hash, _now_ms()),
            )

    @contextlib.contextmanager
    def _tx(self) -> Any:
        in_tx = self._db.in_transaction
        if not in_tx:
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if not in_tx and self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        if not in_tx and self._db.in_transaction:
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database and release the bot's lock."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None  # type: ignore[assignment]
        lock = getattr(self, "_lock_file", None)
        if lock is not None:
            lock.close()
            self._lock_file = None

    # --- StateManager ----------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT key, value FROM kv WHERE bot_id = ?", (self.bot_id,)
        ).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def save(self, state: dict[str, Any]) -> None:
        with self._tx():
            self._db.executemany(
                "INSERT INTO kv (bot_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value",
                [(self.bot_id, k, json.dumps(v, default=str)) for k, v in state.items()],
            )

    def record_order(self, order: Order) -> None:
        """Insert or update ``order``; an update never moves backwards (``Order.merge``): the
        filled amount is the largest reported, or recorded fills', and a filled order stays
        filled. ``order`` itself is updated to what was stored."""
        now = _now_ms()
        with self._tx():
            row = self._db.execute(
                "SELECT filled, status FROM orders WHERE client_order_id = ?",
                (order.client_order_id,),
            ).fetchone()
            if row is not None:
                new_status = order.status
                order.filled = max(order.filled, Decimal(row[0]), self._filled_by_fills(order))
                order.status = OrderStatus(row[1])
                order.merge(order.filled, new_status)
            self._db.execute(
                "INSERT INTO orders (client_order_id, bot_id, symbol, key, kind, side, price, "
                "amount, filled, status, sequence, exchange_order_id, created_ms, updated_ms, "
                "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (client_order_id) DO UPDATE SET filled = excluded.filled, "
                "status = excluded.status, exchange_order_id = "
                "coalesce(excluded.exchange_order_id, exchange_order_id), "
                "updated_ms = excluded.updated_ms, error = excluded.error",
                (
                    order.client_order_id,
                    self.bot_id,
                    order.symbol,
                    order.key,
                    order.kind,
                    order.side.value,
                    str(order.price),
                    str(order.amount),
                    str(order.filled),
                    order.status.value,
                    order.sequence,
                    order.exchange_order_id,
                    order.created_ms or now,
                    now,
                    order.error,
                ),
            )

    def _filled_by_fills(self, order: Order) -> Decimal:
        rows = self._db.execute(
            "SELECT amount FROM fills WHERE client_order_id = ? AND symbol = ?",
            (order.client_order_id, order.symbol),
        ).fetchall()
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def record_fill(self, fill: Fill) -> bool:
        """Record ``fill`` once, keyed by (exchange, symbol, trade id) (a row migrated from
        schema 1, exchange '', matches by symbol and trade id); returns whether it was new."""
        with self._tx():
            known = self._db.execute(
                "SELECT 1 FROM fills WHERE symbol = ? AND trade_id = ? AND exchange IN (?, '')",
                (fill.symbol, fill.trade_id, fill.exchange),
            ).fetchone()
            if known is not None:
                return False
            self._db.execute(
                "INSERT INTO fills (exchange, symbol, trade_id, bot_id, client_order_id, side, "
                "price, amount, fee, maker, timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fill.exchange,
                    fill.symbol,
                    fill.trade_id,
                    self.bot_id,
                    fill.client_order_id,
                    fill.side.value,
                    str(fill.price),
                    str(fill.amount),
                    str(fill.fee),
                    int(fill.maker),
                    fill.timestamp_ms,
                ),
            )
            # the order follows its fills (filled amount and status), in the same transaction
            row = self._db.execute(
                "SELECT client_order_id, symbol, side, price, amount, key, kind, sequence, "
                "status, filled, exchange_order_id, created_ms, error FROM orders "
                "WHERE client_order_id = ?",
                (fill.client_order_id,),
            ).fetchone()
            if row is not None:
                order = _order_of(row)
                order.merge(self._filled_by_fills(order), order.status)
                self._db.execute(
                    "UPDATE orders SET filled = ?, status = ?, updated_ms = ? "
                    "WHERE client_order_id = ?",
                    (str(order.filled), order.status.value, _now_ms(), order.client_order_id),
                )
        return True

    def record_funding(self, symbol: str, timestamp_ms: int, amount: Decimal) -> bool:
        """A funding payment (quote; positive received, negative paid), once per time."""
        with self._tx():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO funding (bot_id, symbol, timestamp_ms, amount) "
                "VALUES (?, ?, ?, ?)",
                (self.bot_id, symbol, timestamp_ms, str(amount)),
            )
        return cur.rowcount > 0

    def record_equity(self, timestamp_ms: int, equity: Decimal, high_water_mark: Decimal) -> None:
        """An equity snapshot and the high-water mark the drawdown limit uses."""
        with self._tx():
            self._db.execute(
                "INSERT INTO equity (bot_id, timestamp_ms, equity, high_water_mark) "
                "VALUES (?, ?, ?, ?)",
                (self.bot_id, timestamp_ms, str(equity), str(high_water_mark)),
            )

    def record_risk_event(self, timestamp_ms: int, code: str, message: str) -> None:
        """A risk layer's action (halt, VaR warning, rebalance, ...)."""
        with self._tx():
            self._db.execute(
                "INSERT INTO risk_events (bot_id, timestamp_ms, code, message) VALUES (?, ?, ?, ?)",
                (self.bot_id, timestamp_ms, code, message),
            )

    # --- reading back ------------------------------------------------------------------------
    def orders(self, live_only: bool = False) -> list[Order]:
        """Orders recorded for this bot (the live ones only, if asked)."""
        sql = (
            "SELECT client_order_id, symbol, side, price, amount, key, kind, sequence, status, "
            "filled, exchange_order_id, created_ms, error FROM orders WHERE bot_id = ?"
        )
        rows = self._db.execute(sql + " ORDER BY created_ms, rowid", (self.bot_id,)).fetchall()
        out = [_order_of(r) for r in rows]
        return [o for o in out if o.status.is_live] if live_only else out

    def fills(self) -> list[Fill]:
        """Fills recorded for this bot, in time order."""
        rows = self._db.execute(
            "SELECT trade_id, client_order_id, symbol, side, price, amount, fee, timestamp_ms, "
            "maker, exchange FROM fills WHERE bot_id = ? ORDER BY timestamp_ms, rowid",
            (self.bot_id,),
        ).fetchall()
        return [
            Fill(
                trade_id=r[0],
                client_order_id=r[1],
                symbol=r[2],
                side=Side(r[3]),
                price=Decimal(r[4]),
                amount=Decimal(r[5]),
                fee=Decimal(r[6]),
                timestamp_ms=r[7],
                maker=bool(r[8]),
                exchange=r[9],
            )
            for r in rows
        ]

    def funding_total(self) -> Decimal:
        """Funding received on this bot's symbols (quote; negative: paid)."""
        rows = self._db.execute("SELECT amount FROM funding WHERE bot_id = ?", (self.bot_id,))
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def summary(self) -> dict[str, Any]:
        """Counts and latest figures for ``gridhedge status``: orders by status, fills,
        realised PnL of the futures (average cost), fees, funding, equity."""
        db, bid = self._db, self.bot_id
        fills = self.fills()
        realised = realised_pnl(fills)
        by_status = dict(
            db.execute(
                "SELECT status, count(*) FROM orders WHERE bot_id = ? GROUP BY status", (bid,)
            ).fetchall()
        )
        last_equity = db.execute(
            "SELECT timestamp_ms, equity, high_water_mark FROM equity WHERE bot_id = ? "
            "ORDER BY rowid DESC LIMIT 1",
            (bid,),
        ).fetchone()
        config_hash = db.execute("SELECT config_hash FROM bots WHERE bot_id = ?", (bid,)).fetchone()
        return {
            "bot_id": bid,
            "path": str(self.path),
            "schema_version": db.execute("PRAGMA user_version").fetchone()[0],
            "config_hash": config_hash[0] if config_hash else None,
            "orders": by_status,
            "fills": len(fills),
            "realized_pnl": str(realised),
            "fees": str(sum((f.fee for f in fills), Decimal(0))),
            "funding": str(self.funding_total()),
            "equity": None if last_equity is None else last_equity[1],
            "high_water_mark": None if last_equity is None else last_equity[2],
            "risk_events": db.execute(
                "SELECT count(*) FROM risk_events WHERE bot_id = ?", (bid,)
            ).fetchone()[0],
            "state": self.load(),
        }
