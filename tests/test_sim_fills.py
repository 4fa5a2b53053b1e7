"""The emulator's fills are the core fill model's, and its books agree with a ledger rebuilt
from the trades alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gridhedge._core import FillBook
from tests.sim_support import MARKET, PERP, make_exchange, running

D = Decimal


async def _trade_a_while(seed: int) -> tuple[Any, list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Place grids through ccxt every few bars for 120 bars; returns the exchange, the raw
    userTrades and the placements (order id, side, price ticks, lots, bar, kind)."""
    exchange = make_exchange(participation=0.02)
    placements: list[tuple[Any, ...]] = []
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        for step in range(30):
            last = float(exchange.last_price("BTCUSDT"))
            for i in (1, 2, 3):
                for side, factor in (("buy", 1 - 0.004 * i), ("sell", 1 + 0.004 * i)):
                    price = round(last * factor, 1)
                    amount = round(0.003 * i + 0.001 * (seed % 3), 3)
                    o = await ex.create_order(
                        PERP, "limit", side, amount, price, {"clientOrderId": f"s{step}{side}{i}"}
                    )
                    placements.append(
                        (
                            int(o["id"]),
                            side,
                            round(price * 10),
                            round(amount * 1000),
                            exchange.bar,
                            "limit",
                        )
                    )
            if step % 7 == 3:  # taker at once at the ask (the book one tick over the last)
                _, ask = exchange.bid_ask("BTCUSDT")
                o = await ex.create_order(PERP, "market", "buy", 0.003, None)
                placements.append((int(o["id"]), "buy", int(ask * 10), 3, exchange.bar, "market"))
            sim.advance(4)
            if step % 5 == 4:
                for o in await ex.fetch_open_orders(PERP):
                    await ex.cancel_order(o["id"], PERP)
                    placements.append((int(o["id"]), "cancel", 0, 0, exchange.bar, ""))
        trades = await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT", "limit": 1000})
        income = await ex.fapiPrivateGetIncome({"symbol": "BTCUSDT", "limit": 1000})
        risk = await ex.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})
        account = await ex.fapiPrivateV3GetAccount()
    return exchange, trades, [*placements, ("income", income), ("risk", risk), ("acct", account)]


async def test_fills_are_the_core_fill_model_on_the_same_bars() -> None:
    """Resting limits fill as the core FillBook fills them on the same bars; market orders
    fill at once as taker at the ask."""
    exchange, trades, log = await _trade_a_while(seed=1)
    assert len(trades) > 20
    bars = exchange.books["BTCUSDT"].spec.bars
    book = FillBook(MARKET, 0.02, "0.0002", "0.0005")
    expected: list[tuple[int, str, D, D, D, bool]] = []
    events = [e for e in log if isinstance(e[0], int)]
    bar = events[0][4]
    k = 0
    while bar < exchange.bar:
        while k < len(events) and events[k][4] == bar:
            oid, side, ticks, lots, _, kind = events[k]
            if side == "cancel":
                book.cancel(oid)
            elif kind == "market":
                price, amount = D(ticks) / 10, D(lots) / 1000
                expected.append((oid, "BUY", price, amount, price * amount * D("0.0005"), False))
            else:
                book.place(oid, side, ticks or 1, lots, bar, kind)
            k += 1
        bar += 1
        for f in book.on_bar(
            bar, bars.open[bar], bars.high[bar], bars.low[bar], bars.close[bar], bars.volume[bar]
        ):
            expected.append((f.order_id, f.side.upper(), f.price, f.amount, f.fee, f.maker))
    got = [
        (t["orderId"], t["side"], D(t["price"]), D(t["qty"]), D(t["commission"]), t["maker"])
        for t in trades
    ]
    assert got == expected
    assert [t["id"] for t in trades] == list(range(1, len(trades) + 1))
    assert any(not t["maker"] for t in trades) and any(t["maker"] for t in trades)


async def test_books_match_a_ledger_rebuilt_from_user_trades() -> None:
    exchange, trades, log = await _trade_a_while(seed=2)
    extra = {e[0]: e[1] for e in log if isinstance(e[0], str)}
    position, entry, realized, fees = D(0), D(0), D(0), D(0)
    for t in trades:
        qty = D(t["qty"]) if t["side"] == "BUY" else -D(t["qty"])
        price = D(t["price"])
        fees += D(t["commission"])
        if position == 0 or (position > 0) == (qty > 0):
            entry = (entry * abs(position) + price * abs(qty)) / (abs(position) + abs(qty))
        else:
            closed = min(abs(qty), abs(position))
            gain = (price - entry) * closed if position > 0 else (entry - price) * closed
            realized += gain
            assert abs(D(t["realizedPnl"]) - gain) < D("1e-12")
            if abs(qty) > abs(position):
                entry = price
            elif abs(qty) == abs(position):
                entry = D(0)
        position += qty
    (risk,) = extra["risk"] or [{"positionAmt": "0", "entryPrice": "0"}]
    assert D(risk["positionAmt"]) == position
    assert abs(D(risk["entryPrice"]) - entry) < D("1e-12")
    income = extra["income"]
    by_type: dict[str, D] = {}
    for i in income:
        by_type[i["incomeType"]] = by_type.get(i["incomeType"], D(0)) + D(i["income"])
    assert abs(by_type.get("REALIZED_PNL", D(0)) - realized) < D("1e-12")
    assert by_type["COMMISSION"] == -fees
    funding = by_type.get("FUNDING_FEE", D(0))
    acct = exchange.books["BTCUSDT"].account
    assert (acct.position, acct.fees) == (position, fees)
    assert abs(acct.funding - funding) < D("1e-12")
    assert funding != 0
    wallet = D(extra["acct"]["totalWalletBalance"])
    assert abs(wallet - (D(10000) + realized - fees + funding)) < D("1e-12")


async def test_same_seed_same_ids_and_fills() -> None:
    _, first, _ = await _trade_a_while(seed=3)
    _, second, _ = await _trade_a_while(seed=3)
    assert first == second


async def test_partial_fills_carry_over_with_statuses() -> None:
    exchange = make_exchange(participation=0.0001)  # a tiny share of each bar's volume
    async with running(exchange) as (sim, ex):
        await ex.load_markets()
        bars = exchange.books["BTCUSDT"].spec.bars
        nxt = exchange.bar + 1
        price = round(float(bars.high[nxt]) - 0.5, 1)  # traded through on the next bar
        assert price > float(bars.open[nxt]) + 0.1
        o = await ex.create_order(PERP, "limit", "sell", 0.05, price)
        sim.advance(1)
        got = await ex.fetch_order(o["id"], PERP)
        assert got["info"]["status"] == "PARTIALLY_FILLED" and 0 < got["filled"] < 0.05
        cancelled = await ex.cancel_order(o["id"], PERP)
        assert cancelled["status"] == "canceled" and cancelled["filled"] == got["filled"]
