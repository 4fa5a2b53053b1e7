"""State: fills keyed by (exchange, symbol, trade id) with the schema-1 migration, orders that
follow their fills, realised PnL against an independent computation."""

from __future__ import annotations

import pathlib
import sqlite3
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gridhedge.common.types import Fill, Order, OrderStatus, Side
from gridhedge.state.manager import MemoryStateManager
from gridhedge.state.sqlite import MIGRATIONS, SQLiteStateManager, realised_pnl


def fill(tid: str, cid: str, symbol: str = "BTCUSDT", amount: str = "0.010", **kw: object) -> Fill:
    base: dict[str, object] = {
        "trade_id": tid,
        "client_order_id": cid,
        "symbol": symbol,
        "side": Side.SELL,
        "price": Decimal("60000.0"),
        "amount": Decimal(amount),
        "fee": Decimal("0.12"),
        "timestamp_ms": 1_700_000_000_000,
        "exchange": "binanceusdm",
    }
    base.update(kw)
    return Fill(**base)  # type: ignore[arg-type]


def test_same_trade_id_on_two_symbols_is_two_fills(tmp_path: pathlib.Path) -> None:
    """Binance numbers trades per symbol: a shared portfolio file keeps both legs' trade 1."""
    path = tmp_path / "p.sqlite"
    btc = SQLiteStateManager(path, "btcusdt-grid")
    eth = SQLiteStateManager(path, "ethusdt-grid")
    assert btc.record_fill(fill("1", "ghA", "BTCUSDT"))
    assert eth.record_fill(fill("1", "ghB", "ETHUSDT"))
    assert not btc.record_fill(fill("1", "ghA", "BTCUSDT"))  # the same trade again
    assert [f.symbol for f in btc.fills()] == ["BTCUSDT"]
    assert [f.symbol for f in eth.fills()] == ["ETHUSDT"]
    btc.close()
    eth.close()
    mem = MemoryStateManager()
    assert mem.record_fill(fill("1", "ghA", "BTCUSDT"))
    assert mem.record_fill(fill("1", "ghB", "ETHUSDT"))
    assert not mem.record_fill(fill("1", "ghA", "BTCUSDT"))


def test_schema_1_file_migrates_and_keeps_its_fills(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO bots VALUES ('b', '', 0)")
    db.execute(
        "INSERT INTO orders VALUES ('ghX', 'b', 'BTCUSDT', 'gs1', 'limit', 'sell', '60000', "
        "'0.010', '0', 'open', 1, '77', 0, 0)"
    )
    db.execute(
        "INSERT INTO fills VALUES ('9', 'b', 'ghX', 'BTCUSDT', 'sell', '60000', '0.010', "
        "'0.12', 1, 5)"
    )
    db.commit()
    db.close()
    s = SQLiteStateManager(path, "b")
    assert s.summary()["schema_version"] == len(MIGRATIONS) == 3
    (old,) = s.fills()
    assert (old.trade_id, old.exchange) == ("9", "")
    # the same trade fetched again after the upgrade (now with its exchange) is not doubled
    assert not s.record_fill(fill("9", "ghX", timestamp_ms=5))
    (o,) = s.orders()
    assert o.error == "" and o.status is OrderStatus.OPEN
    s.close()


def test_an_order_follows_its_fills(tmp_path: pathlib.Path) -> None:
    s = SQLiteStateManager(tmp_path / "b.sqlite", "b")
    o = Order("ghY", "BTCUSDT", Side.SELL, Decimal("60000"), Decimal("0.030"), key="gs1")
    o.status = OrderStatus.OPEN
    s.record_order(o)
    s.record_fill(fill("1", "ghY", amount="0.010"))
    (back,) = s.orders()
    assert (back.status, back.filled) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.010"))
    # a stale report (the broker's object from before the fill) does not move it back
    o.status, o.filled = OrderStatus.OPEN, Decimal(0)
    s.record_order(o)
    assert s.orders()[0].filled == Decimal("0.010")
    s.record_fill(fill("2", "ghY", amount="0.020", timestamp_ms=1_700_000_000_001))
    (back,) = s.orders()
    assert (back.status, back.filled) == (OrderStatus.FILLED, Decimal("0.030"))
    # a cancel that crossed the last fill does not make a filled order cancelled
    o.status = OrderStatus.CANCELLED
    s.record_order(o)
    assert s.orders()[0].status is OrderStatus.FILLED
    summary = s.summary()
    assert summary["orders"] == {"filled": 1} and summary["fills"] == 2
    assert Decimal(summary["fees"]) == Decimal("0.24")
    s.close()


def test_lost_is_only_for_what_left_no_trace(tmp_path: pathlib.Path) -> None:
    s = SQLiteStateManager(tmp_path / "b.sqlite", "b")
    o = Order("ghZ", "BTCUSDT", Side.BUY, Decimal("59000"), Decimal("0.020"), key="gb1")
    s.record_order(o)
    s.record_fill(fill("3", "ghZ", amount="0.005", side=Side.BUY))
    o.status = OrderStatus.LOST  # the exchange answered 'unknown order' but it traded
    s.record_order(o)
    assert s.orders()[0].status is OrderStatus.CANCELLED
    s.close()


@given(
    st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(min_value=1, max_value=50),
            st.integers(min_value=500_000, max_value=700_000),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_realised_pnl_is_cash_flow_plus_the_open_position_at_entry(
    trades: list[tuple[Side, int, int]],
) -> None:
    """Average-cost realised PnL equals total cash flow minus the open position's cost at its
    average entry (an identity that holds for any fill sequence), computed exactly."""
    fills = [
        Fill(str(i), "c", "BTCUSDT", side, Decimal(p) / 10, Decimal(q) / 1000, Decimal(0), i)
        for i, (side, q, p) in enumerate(trades)
    ]
    position = sum((f.amount if f.side is Side.BUY else -f.amount for f in fills), Decimal(0))
    cash = sum(
        (-f.amount * f.price if f.side is Side.BUY else f.amount * f.price for f in fills),
        Decimal(0),
    )
    # the open position's cost at average entry, from the same walk done plainly
    pos, cost = Decimal(0), Decimal(0)
    for f in fills:
        signed = f.amount if f.side is Side.BUY else -f.amount
        if pos == 0 or (pos > 0) == (signed > 0):
            pos, cost = pos + signed, cost + signed * f.price
        else:
            avg = cost / pos
            closed = min(abs(pos), f.amount)
            rest = f.amount - closed
            pos_after = pos + signed
            cost = cost - (closed if pos > 0 else -closed) * avg
            if rest > 0:  # flipped through zero
                cost = pos_after * f.price
            pos = pos_after
    assert pos == position
    expected = cash + cost  # cash received + value of the open position at its entry
    assert abs(realised_pnl(fills) - expected) < Decimal("1e-12")


def test_an_orders_fills_are_read_through_an_index(tmp_path: pathlib.Path) -> None:
    """Migration 3: summing an order's fills (on every order update) reads the fills_order
    index, not every fill the bot ever made."""
    s = SQLiteStateManager(tmp_path / "i.sqlite", "b")
    plan = s._db.execute(
        "EXPLAIN QUERY PLAN SELECT amount FROM fills WHERE client_order_id = ? AND symbol = ?",
        ("ghX", "BTCUSDT"),
    ).fetchall()
    assert any("USING INDEX fills_order" in row[-1] for row in plan), plan
    s.close()


def test_memory_state_sums_an_orders_fills_by_order_and_symbol() -> None:
    """The in-memory state keeps each order's filled amount as fills arrive: an order merges
    exactly its own fills (same client id on another symbol is another order)."""
    mem = MemoryStateManager()
    o = Order(
        client_order_id="ghA",
        symbol="BTCUSDT",
        side=Side.SELL,
        price=Decimal("60000"),
        amount=Decimal("0.030"),
        key="gs1",
    )
    mem.record_order(o)
    assert mem.record_fill(fill("1", "ghA", "BTCUSDT", amount="0.010"))
    assert mem.record_fill(fill("2", "ghA", "ETHUSDT", amount="0.020"))
    assert mem.record_fill(fill("3", "ghA", "BTCUSDT", amount="0.005"))
    assert not mem.record_fill(fill("3", "ghA", "BTCUSDT", amount="0.005"))
    (kept,) = mem.orders()
    assert kept.filled == Decimal("0.015")


def test_paper_funding_since_a_checkpoint_is_every_payment_at_or_after_it() -> None:
    """PAPER answers the bot's funding checkpoint with the payments at or after it (a suffix
    found by bisection, against a plain filter of every payment)."""
    import asyncio

    from gridhedge.execution.broker_factory import create_broker
    from gridhedge.execution.paper import PaperBroker

    broker = create_broker("PAPER", bars=600, seed=3)
    assert isinstance(broker, PaperBroker)
    broker.data_provider.advance(500)  # 1h bars after the history: a funding time each 8
    every = asyncio.run(broker.fetch_funding_payments("BTCUSDT"))
    assert len(every) >= 10
    times = [t for t, _ in every]
    for since in [
        None,
        0,
        times[0],
        times[7] - 1,
        times[7],
        times[7] + 1,
        times[-1],
        times[-1] + 1,
    ]:
        got = asyncio.run(broker.fetch_funding_payments("BTCUSDT", since))
        assert got == [(t, a) for t, a in every if since is None or t >= since], since
