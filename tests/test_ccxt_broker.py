"""The REAL broker through ccxt against the emulator: every method, idempotent sends under
each fault knob, keys that never leak, and the full bot (REAL == emulator books == PAPER), on
both dialects the emulator speaks: Binance USD-M (ccxt ``binanceusdm``) and Bybit v5 (ccxt
``bybit``), over the same engine and fill model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridhedge.common.types import Order, OrderStatus, Side
from gridhedge.data.replay import ReplayDataProvider
from gridhedge.errors import ConfigError, DuplicateOrderError
from gridhedge.execution.broker_factory import create_broker, replay_for
from gridhedge.execution.ccxt_broker import CcxtBroker, RetryPolicy
from gridhedge.execution.paper import PaperBroker, default_market
from gridhedge.execution.secrets import load_api_keys
from gridhedge.grid.bot import GridHedgeBot
from gridhedge.sim import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    Bars,
    Limits,
    SimExchange,
    SimServer,
    SymbolSpec,
)
from tests.sim_support import make_exchange

FAST = RetryPolicy(attempts=6, backoff_s=0.01, max_backoff_s=0.05, lookups=2)
DIALECTS = ["binance", "bybit"]
ACCOUNTS = {"binance": ("binanceusdm", "binance"), "bybit": ("bybit", "bybit")}
"""Dialect -> (futures exchange id, spot exchange id) the bot is configured with."""
SYMBOL = "BTC/USDT:USDT"
"""The bot's symbol: ccxt's, on every exchange (the emulator lists it as BTCUSDT)."""
ORDER_PATH = {"binance": "/fapi/v1/order", "bybit": "/v5/order/create"}


def real_broker(sim: SimServer, **kw: Any) -> CcxtBroker:
    futures, spot = ACCOUNTS[sim.dialect]
    broker = create_broker(
        "REAL",
        api_key=DEFAULT_API_KEY,
        api_secret=DEFAULT_API_SECRET,
        base_url=sim.url,
        exchange=futures,
        spot_exchange=spot,
        timeout_ms=kw.pop("timeout_ms", 2000),
        retry=FAST,
        **kw,
    )
    assert isinstance(broker, CcxtBroker)
    return broker


def order(cid: str, side: str, price: str, amount: str = "0.010", symbol: str = SYMBOL) -> Order:
    return Order(
        cid, symbol, Side(side), Decimal(price), Decimal(amount), key=cid[10:].rsplit("-", 1)[0]
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_every_broker_method_through_ccxt(dialect: str) -> None:
    exchange = make_exchange()
    async with SimServer(exchange, dialect=dialect) as sim:
        broker = real_broker(sim)
        try:
            market = await broker.load_market(SYMBOL)
            assert (market.tick_size, market.lot_size, market.min_notional) == (
                Decimal("0.1"),
                Decimal("0.001"),
                Decimal("100"),
            )
            last = exchange.last_price("BTCUSDT")
            buy = order("ghabcdefghgb1-1", "buy", str(last * Decimal("0.99")))
            placed = await broker.place_order(buy)
            assert placed.status is OrderStatus.OPEN and placed.exchange_order_id
            # the price went out snapped down to the tick, exactly
            (resting,) = exchange.open_orders()
            assert resting.price == market.round_price(buy.price, "buy")
            sell = order("ghabcdefghgs1-1", "sell", str(last * Decimal("1.01")))
            await broker.place_order(sell)
            stop = order("ghabcdefghxb0-1", "buy", str(last * Decimal("1.2")))
            await broker.place_order(stop, "stop_market")
            open_orders = await broker.fetch_open_orders(SYMBOL)
            assert {(o.key, o.kind) for o in open_orders} == {
                ("gb1", "limit"),
                ("gs1", "limit"),
                ("xb0", "stop_market"),
            }
            with pytest.raises(DuplicateOrderError):
                await broker.place_order(
                    order("ghabcdefghgb1-1", "buy", str(last * Decimal("0.99")))
                )
            await broker.cancel_order(stop)
            await broker.cancel_order(stop)  # already gone: a no-op
            await broker.place_order(order("ghabcdefghrs0-1", "sell", "0"), "market")
            sim.advance(2)
            fills = await broker.fetch_fills(SYMBOL)
            assert [f.client_order_id for f in fills][:1] == ["ghabcdefghrs0-1"]
            assert fills[0].fee == exchange.books["BTCUSDT"].trades[0].commission
            position = await broker.fetch_position(SYMBOL)
            acct = exchange.books["BTCUSDT"].account
            assert position.futures_amount == acct.position
            assert position.spot_amount == Decimal("1.5")  # from the spot account
            sim.advance(10)  # over a funding time (every 8 h) with the short open
            await broker.data_provider.get_current_price(SYMBOL)  # the bot's clock moves on
            since = exchange.now_ms - 12 * 3600 * 1000
            funding = [
                (i.time_ms, i.income)
                for i in exchange.income
                if i.income_type == "FUNDING_FEE" and i.time_ms >= since
            ]
            assert funding and await broker.fetch_funding_payments(SYMBOL, since) == funding
            equity = await broker.fetch_equity(SYMBOL)
            price = await broker.data_provider.get_current_price(SYMBOL)
            assert equity == exchange.margin_balance() + Decimal("1.5") * price
            assert "sim-secret" not in repr(broker)
        finally:
            await broker.close()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("latency", {"latency_ms": 30}),
        ("rate_limit", {"count": 2, "retry_after_s": 0}),
        ("ban", {"count": 1, "retry_after_s": 0}),
        ("server_error", {"count": 2}),
        ("timeout", {"count": 1, "hang_s": 0.4}),
        ("drop_after_accept", {"count": 1}),
        ("drop_after_accept", {"count": 1, "hang_s": 0.4}),
        ("reject", {"count": 2}),
    ],
)
async def test_each_fault_knob_never_duplicates_an_order(
    kind: str, settings: Any, dialect: str
) -> None:
    exchange = make_exchange()
    async with SimServer(exchange, dialect=dialect) as sim:
        broker = real_broker(sim, timeout_ms=300)
        try:
            await broker.load_market(SYMBOL)
            sim.faults.add(kind, method="POST", **settings)  # type: ignore[arg-type]
            last = exchange.last_price("BTCUSDT")
            for i in range(3):
                o = order(f"ghabcdefghgb{i}-1", "buy", str(last * Decimal("0.98")))
                placed = await broker.place_order(o)
                assert placed.status is OrderStatus.OPEN
            ids = [o.client_order_id for o in exchange.open_orders()]
            assert sorted(ids) == [f"ghabcdefghgb{i}-1" for i in range(3)]  # once each
        finally:
            await broker.close()


def test_real_without_keys_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GRIDHEDGE_API_KEY", "GRIDHEDGE_API_SECRET", "GRIDHEDGE_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="ccxt") as err:
        create_broker(trading_mode="REAL")
    assert err.value.field == "api_key"


def test_keys_from_env_or_file_never_show(tmp_path: Path) -> None:
    keys = load_api_keys(env={"GRIDHEDGE_API_KEY": "k-123", "GRIDHEDGE_API_SECRET": "s-456"})
    assert "s-456" not in repr(keys) and "s-456" not in str(keys)
    assert keys.secret.get_secret_value() == "s-456"
    outside = tmp_path / "keys.json"
    outside.write_text('{"api_key": "fk", "secret": "fs"}')
    assert load_api_keys(key_file=outside, env={}).api_key.get_secret_value() == "fk"
    inside = Path(__file__).resolve().parent / "never-a-key-file.txt"
    with pytest.raises(ConfigError, match="outside any git repository") as err:
        load_api_keys(key_file=inside, env={})
    assert "fs" not in str(err.value)


CONFIG = {
    "grid_spacing_pct": "0.004",
    "num_levels": 4,
    "max_position_size": "1.5",
    "max_drawdown": "0.5",
    "stop_loss_pct": "0.04",
    "var_limit": "100000",
    "max_active_orders": 8,
    "rebalance_interval": 3600,
}
BARS, HISTORY, STEPS = 800, 500, 72


def paper_broker() -> PaperBroker:
    """PAPER on the replay, with the bot's ccxt symbol and BTCUSDT's rules."""
    return PaperBroker(
        replay_for(SYMBOL, bars=BARS, history_bars=HISTORY),
        market=default_market("BTCUSDT"),
        cash="100000",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_full_bot_real_against_emulator_equals_its_books_and_paper(dialect: str) -> None:
    # PAPER on the replay
    paper = paper_broker()
    paper_bot = await GridHedgeBot.create(broker=paper, symbol=SYMBOL, config=CONFIG)
    await paper_bot.run(max_iterations=STEPS)
    # REAL through ccxt against the emulator on the same bars
    provider: ReplayDataProvider = replay_for("BTCUSDT", bars=BARS, history_bars=HISTORY)
    spec = SymbolSpec(
        "BTCUSDT", "BTC", default_market("BTCUSDT"), Bars.from_candles(provider.candles)
    )
    exchange = SimExchange(
        [spec], start_bar=provider.cursor, wallet_usdt="100000", spot_balances={"BTC": "1"}
    )
    # hourly rebalances run back to back (3600x real time): USD-M's weight per minute is
    # lifted; at one rebalance an hour the bot spends ~28 of it (benches/bench_sim.py)
    async with SimServer(exchange, limits=Limits.lifted(), dialect=dialect) as sim:
        broker = real_broker(sim)
        try:
            bot = await GridHedgeBot.create(broker=broker, symbol=SYMBOL, config=CONFIG)
            for _ in range(STEPS):
                await bot.execute(await bot.data_provider.get_current_price(SYMBOL))
                sim.advance(1)
            fills = await broker.fetch_fills(SYMBOL)
            position = await broker.fetch_position(SYMBOL)
        finally:
            await broker.close()
    book = exchange.books["BTCUSDT"]
    assert len(fills) >= 3, "a day and more of a 0.4% grid must fill"
    # the bot's view == the emulator's books, exactly
    assert position.futures_amount == book.account.position
    assert sum((f.fee for f in fills), Decimal(0)) == book.account.fees
    assert [(f.price, f.amount) for f in fills] == [(t.price, t.qty) for t in book.trades]
    # ... and == PAPER on the same bars, but for market orders: USD-M fills those at once
    # against the book as taker, PAPER's fill model at the next bar's open
    market = _market_order_ids(exchange)
    key = lambda f: (*_parity_key(f, market), f.maker)  # noqa: E731
    assert [key(f) for f in fills] == [key(f) for f in paper.fills]
    _assert_market_fills_took_the_book(exchange, market)
    assert book.account.position == paper.account.position
    if not market:  # market fills are priced apart (above), and so is what they realise
        assert book.account.realized_pnl == paper.account.realized_pnl


def _market_order_ids(exchange: SimExchange) -> set[str]:
    return {
        o.client_order_id for o in exchange.books["BTCUSDT"].orders.values() if o.type == "MARKET"
    }


def _parity_key(f: Any, market: set[str]) -> tuple[Any, ...]:
    """A fill as PAPER must reproduce it: everything for limit and stop fills; for market
    orders the order, side and amount (the price and fee are the book's at placement on USD-M,
    the next open in PAPER's fill model)."""
    if f.client_order_id in market:
        return (f.client_order_id, f.side, f.amount)
    return (f.client_order_id, f.side, f.price, f.amount, f.fee)


def _assert_market_fills_took_the_book(exchange: SimExchange, market: set[str]) -> None:
    """Every market order filled in full at once, as taker, in the bar it was placed."""
    book = exchange.books["BTCUSDT"]
    for o in book.orders.values():
        if o.client_order_id in market:
            trades = [t for t in book.trades if t.order_id == o.order_id]
            assert o.status == "FILLED" and sum(t.qty for t in trades) == o.orig_qty
            assert all(not t.maker and t.bar == o.placed_bar for t in trades)


def test_retry_waits_at_least_the_exchange_retry_after() -> None:
    """Binance: a Retry-After "will give the number of seconds required to wait ... to prevent
    a ban"; the backoff cap must not cut it short."""
    policy = RetryPolicy(attempts=6, backoff_s=0.2, max_backoff_s=10.0)
    assert policy.delay(0, 40.0) == 40.0
    assert policy.delay(10) == 10.0 and policy.delay(1) == 0.4
    assert policy.delay(1, 0.1) == 0.4


async def _paper_fills(steps: int) -> list[Any]:
    paper = paper_broker()
    bot = await GridHedgeBot.create(broker=paper, symbol=SYMBOL, config=CONFIG)
    await bot.run(max_iterations=steps)
    return paper.fills


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("latency", {"latency_ms": 5, "probability": 0.5}),
        ("rate_limit", {"probability": 0.1, "retry_after_s": 0}),
        ("ban", {"count": 2, "retry_after_s": 0}),
        ("server_error", {"probability": 0.1}),
        ("timeout", {"count": 3, "hang_s": 0.35, "method": "POST"}),
        ("drop_after_accept", {"count": 4, "method": "POST", "path": "order"}),
        ("reject", {"probability": 0.2, "method": "POST"}),
    ],
)
async def test_fault_matrix_bot_keeps_running_no_duplicate_no_lost_fill(
    kind: str, settings: Any, dialect: str
) -> None:
    if settings.get("path") == "order":
        settings = {**settings, "path": ORDER_PATH[dialect]}
    steps = 30
    provider = replay_for("BTCUSDT", bars=BARS, history_bars=HISTORY)
    spec = SymbolSpec(
        "BTCUSDT", "BTC", default_market("BTCUSDT"), Bars.from_candles(provider.candles)
    )
    exchange = SimExchange(
        [spec], start_bar=provider.cursor, wallet_usdt="100000", spot_balances={"BTC": "1"}
    )
    # hourly rebalances run back to back (3600x real time): USD-M's weight per minute is
    # lifted; at one rebalance an hour the bot spends ~28 of it (benches/bench_sim.py)
    async with SimServer(exchange, limits=Limits.lifted(), dialect=dialect) as sim:
        broker = real_broker(sim, timeout_ms=300)
        try:
            bot = await GridHedgeBot.create(broker=broker, symbol=SYMBOL, config=CONFIG)
            sim.faults.add(kind, **settings)  # type: ignore[arg-type]
            for _ in range(steps):
                await bot.execute(await bot.data_provider.get_current_price(SYMBOL))
                sim.advance(1)
            fired = sum(r.fired for r in sim.faults.rules)
            sim.faults.clear()
            fills = await broker.fetch_fills(SYMBOL)
        finally:
            await broker.close()
    assert fired > 0
    orders = list(exchange.books["BTCUSDT"].orders.values())
    client_ids = [o.client_order_id for o in orders]
    assert len(client_ids) == len(set(client_ids)), "an order was sent twice"
    trades = exchange.books["BTCUSDT"].trades
    assert [f.trade_id for f in fills] == [str(t.trade_id) for t in trades]  # none lost
    market = _market_order_ids(exchange)
    key = lambda f: _parity_key(f, market)  # noqa: E731
    assert [key(f) for f in fills] == [key(f) for f in await _paper_fills(steps)]
    _assert_market_fills_took_the_book(exchange, market)


class _NoCursor:
    """A venue without a trade-history cursor (as OKX's time paging): the broker must split
    its windows instead."""

    @staticmethod
    def wrap(venue: Any) -> Any:
        import dataclasses

        class Plain(type(venue)):  # type: ignore[misc]
            def next_trades_params(self, page: list[dict[str, Any]]) -> dict[str, Any] | None:
                return None

        fields = {f.name: getattr(venue, f.name) for f in dataclasses.fields(venue)}
        return Plain(**fields)


@pytest.mark.parametrize(
    ("dialect", "paging"),
    [("binance", "cursor"), ("bybit", "cursor"), ("bybit", "split")],
)
async def test_fills_beyond_one_page_are_all_read(dialect: str, paging: str) -> None:
    """More trades in a window than one answer holds: Binance pages by ``fromId``, Bybit by
    ``nextPageCursor`` (newest first), and a venue without a cursor by splitting the window;
    every emulator trade is read once (reference: the emulator's trade list)."""
    import dataclasses

    exchange = make_exchange(wallet_usdt="1000000")
    async with SimServer(exchange, dialect=dialect, limits=Limits.lifted()) as sim:
        broker = real_broker(sim)
        broker.venue = dataclasses.replace(broker.venue, fills_page=7)
        if paging == "split":
            broker.venue = _NoCursor.wrap(broker.venue)
        try:
            for i in range(30):
                side = "sell" if i % 2 == 0 else "buy"
                await broker.place_order(order(f"ghabcdefghrs0-{i + 1}", side, "0"), "market")
                if i % 2:
                    sim.advance(1)  # two trades a bar (one millisecond each)
            await broker.data_provider.get_current_price(SYMBOL)
            since = exchange.now_ms - 24 * 3600 * 1000
            fills = await broker.fetch_fills(SYMBOL, since)
        finally:
            await broker.close()
    trades = exchange.books["BTCUSDT"].trades
    assert len(trades) == 30
    assert [f.trade_id for f in fills] == [str(t.trade_id) for t in trades]
    assert [f.client_order_id for f in fills] == [f"ghabcdefghrs0-{i + 1}" for i in range(30)]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_symbols_are_ccxt_s_and_binance_ids_still_work(dialect: str) -> None:
    """Users write ccxt's symbol on every exchange; Binance's own id ``BTCUSDT`` still
    resolves to its perpetual there, and is a clear error elsewhere (Bybit lists spot and
    perpetual under one id)."""
    async with SimServer(make_exchange(), dialect=dialect) as sim:
        broker = real_broker(sim)
        try:
            ccxt_market = await broker.load_market(SYMBOL)
            if dialect == "binance":
                assert await broker.load_market("BTCUSDT") == ccxt_market
                position = await broker.fetch_position("BTCUSDT")
                assert position.symbol == "BTCUSDT" and position.spot_amount == Decimal("1.5")
            else:
                with pytest.raises(ConfigError, match="lists no market 'BTCUSDT'") as err:
                    await broker.load_market("BTCUSDT")
                assert err.value.field == "symbol" and "BTC/USDT:USDT" in str(err.value.rule)
        finally:
            await broker.close()
