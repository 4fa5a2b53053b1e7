"""SQLite state: durable, versioned, locked per bot, refuses corrupt files."""

from __future__ import annotations

import multiprocessing
import pathlib
import sqlite3
from decimal import Decimal

import pytest

from gridhedge.common.types import Fill, Order, OrderStatus, Side
from gridhedge.state.sqlite import (
    MIGRATIONS,
    SQLiteStateManager,
    StateCorruptError,
    StateLockedError,
)


def order(cid: str = "ghabc-gs1-1") -> Order:
    return Order(cid, "BTCUSDT", Side.SELL, Decimal("96188.6"), Decimal("0.010"), key="gs1")


def test_round_trip_survives_reopen(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bot.sqlite"
    s = SQLiteStateManager(path, "bot-1", "cfg-hash")
    s.save({"policy": {"center_ticks": 952361}, "sequences": {"gs1": 3}})
    o = order()
    s.record_order(o)
    o.status, o.filled = OrderStatus.PARTIALLY_FILLED, Decimal("0.004")
    s.record_order(o)
    fill = Fill(
        "t1",
        o.client_order_id,
        "BTCUSDT",
        Side.SELL,
        o.price,
        Decimal("0.004"),
        Decimal("0.0769"),
        1_700_000_000_000,
    )
    s.record_fill(fill)
    s.record_fill(fill)  # idempotent by trade id
    s.record_equity(1, Decimal("100000.5"), Decimal("100010"))
    s.close()
    again = SQLiteStateManager(path, "bot-1")
    assert again.load() == {"policy": {"center_ticks": 952361}, "sequences": {"gs1": 3}}
    (back,) = again.orders()
    assert (back.status, back.filled, back.price) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.004"),
        Decimal("96188.6"),
    )
    assert again.fills() == [fill]
    summary = again.summary()
    assert summary["schema_version"] == len(MIGRATIONS)
    assert summary["config_hash"] == "cfg-hash"
    assert summary["high_water_mark"] == "100010"
    again.close()


def _hold_lock(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:  # type: ignore[name-defined]
    s = SQLiteStateManager(path, "bot-1")
    ready.set()
    done.wait(10)
    s.close()


def test_a_second_bot_with_the_same_id_refuses_to_start(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bot.sqlite"
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(path), ready, done))
    proc.start()
    try:
        assert ready.wait(20)
        with pytest.raises(StateLockedError, match="already running"):
            SQLiteStateManager(path, "bot-1")
        other = SQLiteStateManager(path, "bot-2")  # another id on the same file is fine
        other.close()
    finally:
        done.set()
        proc.join(10)
    SQLiteStateManager(path, "bot-1").close()  # released when the holder exits


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database at all" * 100),
        lambda p: p.write_bytes(p.read_bytes()[:1000]),
    ],
    ids=["garbage", "truncated"],
)
def test_corrupt_or_truncated_file_is_refused(tmp_path: pathlib.Path, damage: object) -> None:
    path = tmp_path / "bot.sqlite"
    s = SQLiteStateManager(path, "bot-1")
    for i in range(200):
        s.record_order(order(f"gh-{i}"))
    s.close()
    for extra in tmp_path.glob("bot.sqlite-*"):
        extra.unlink()
    damage(path)  # type: ignore[operator]
    with pytest.raises(StateCorruptError, match=r"refusing to trade|gridhedge"):
        SQLiteStateManager(path, "bot-1")


def test_foreign_database_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE x (y)")
    db.commit()
    db.close()
    with pytest.raises(StateCorruptError, match="no gridhedge schema"):
        SQLiteStateManager(path, "bot-1")
